import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { BIN, cli, cliAsync, WORKDIR } from "../helpers/cli.js";
import { csvDir, SAMPLE } from "../helpers/files.js";
import { freePort } from "../helpers/serve.js";

describe("the command line", () => {
  let env: Record<string, string>;
  beforeAll(() => {
    env = { DATABASE_URL: join(mkdtempSync(join(tmpdir(), "mr-cli-")), "db.sqlite") };
    const r = cli(["import", SAMPLE], env);
    // The sample's buddy program has no admin and no channel: worth a warning, not a refusal.
    expect(r.stderr).toBe(
      "warning: programs.csv:4: admin_emails: is empty: no one gets the program's admin notices\n" +
        "warning: programs.csv:4: admin_channel: is empty: the program's summary is posted nowhere\n",
    );
    expect(r.stdout).toMatch(/^ {2}people\.csv +21 +21 +0 +0 +0$/m);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Imported in one transaction");
  });

  it("--help lists the commands", () => {
    const r = cli(["--help"]);
    expect(r.code).toBe(0);
    for (const c of ["migrate", "import", "preview", "send", "status", "serve", "emulator", "demo"])
      expect(r.stdout).toMatch(new RegExp(`^  ${c}\\b`, "m"));
  });

  it("preview --format json prints the contract's shape, groups in status order", () => {
    const r = cli(
      ["preview", "--manager", "Marcus@Acme.example", "--as-of", "2026-03-02T09:00", "--format", "json"],
      env,
    );
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.manager).toEqual({ email: "marcus@acme.example", name: "Marcus Lee" });
    expect(j.asOf).toBe("2026-03-02T09:00:00Z");
    expect(j.groups.map((g: { status: string }) => g.status)).toEqual([
      "Matched-Active",
      "Match Request-Waiting Mentor Approval",
      "Not Registered",
    ]);
    expect(j.groups[0].rows[0]).toEqual({
      program: "Leadership Circle",
      organization: "Sales",
      mentorName: "Parks, Rosa",
      mentorEmail: "rosa@acme.example",
      registered: "12-16-2025",
      mentee: "Mentee",
      matchDate: "01-10-2026",
      upcomingMeetings: 1,
      completedMeetings: 1,
    });
    expect(j.attention).toEqual([]);
  });

  it("preview lists what needs attention (§10): JSON `attention` and a text section naming mentor and reason", () => {
    const at = ["preview", "--manager", "dana@acme.example", "--as-of", "2026-03-02T09:00"];
    const j = JSON.parse(cli([...at, "--format", "json"], env).stdout);
    expect(j.attention).toEqual([
      {
        reason: "request_waiting",
        mentorName: "Margaret Hamilton",
        mentorEmail: "margaret@acme.example",
        program: "Engineering Mentorship",
        programId: "eng",
        status: "Match Request-Waiting Admin Approval",
        days: 20,
        nudge: { to: "admins" },
      },
      expect.objectContaining({ reason: "unmatched", mentorName: "Alan Turing", days: 51, nudge: { to: "admins" } }),
    ]);
    const text = cli(at, env).stdout;
    expect(text).toContain("Needs attention (2):");
    expect(text).toContain(
      "Margaret Hamilton <margaret@acme.example> (Engineering Mentorship): waiting 20 days for admin approval — nudge the admins",
    );
    // Who acts, as the DM says it (§18).
    expect(text).toMatch(/Alan Turing .*: .* — the program admins match mentors/);
    // Each status's own date column: when a request was made, when a finished match ended or closed.
    expect(text).toMatch(/Requested\s+Upcoming/);
    expect(text).toMatch(/Linus Pauling .* 01-20-2026/);
  });

  it("preview --program --format json carries counts for every relevant status", () => {
    const r = cli(["preview", "--program", "buddy", "--as-of", "2026-03-02T09:00", "--format", "json"], env);
    const j = JSON.parse(r.stdout);
    expect(j.program).toEqual({ id: "buddy", name: "New Hire Buddies" });
    expect(j.counts).toEqual({
      "Matched-Active": 0,
      Unmatched: 0,
      "Matched-Duration Completed": 0,
      Concluded: 0,
      "Match Request-Waiting Mentor Approval": 1,
      "Not Registered": 1,
    });
  });

  it("preview --format csv prints the seed columns with RFC 4180 quoting", () => {
    const r = cli(
      ["preview", "--manager", "marcus@acme.example", "--as-of", "2026-03-02T09:00", "--format", "csv"],
      env,
    );
    const lines = r.stdout.split("\r\n");
    expect(lines[0]).toBe(
      "Matching Status,Program,Current Company/Organization,Mentor Name,Mentor Email,Registered (MM-DD-YYYY),Mentee Name,Match Date,Upcoming Meetings,Completed Meetings",
    );
    expect(lines[1]).toBe(
      'Matched-Active,Leadership Circle,Sales,"Parks, Rosa",rosa@acme.example,12-16-2025,Mentee,01-10-2026,1,1',
    );
    expect(lines[3]).toBe("Not Registered,New Hire Buddies,Sales,Victor Okafor,victor@acme.example,,,,0,0");
  });

  it("preview --since lists what changed between two times", () => {
    const r = cli(
      [
        "preview",
        "--manager",
        "dana@acme.example",
        "--as-of",
        "2026-03-02T09:00",
        "--since",
        "2026-01-01",
        "--format",
        "json",
      ],
      env,
    );
    expect(r.code).toBe(0);
    const changes = JSON.parse(r.stdout).changes;
    expect(changes.since).toBe("2026-01-01T00:00:00Z");
    expect(
      changes.changed.map(
        (c: { before: { mentorName: string; status: string }; after: { status: string } }) =>
          `${c.before.mentorName}: ${c.before.status} -> ${c.after.status}`,
      ),
    ).toContain("Linus Pauling: Matched-Active -> Concluded");
    expect(changes.added.map((a: { mentorName: string; status: string }) => `${a.mentorName}: ${a.status}`)).toEqual([
      "Ada Lovelace: Match Request-Waiting Mentee Approval",
    ]);
    const text = cli(
      ["preview", "--manager", "dana@acme.example", "--as-of", "2026-03-02T09:00", "--since", "2026-01-01"],
      env,
    );
    expect(text.stdout).toContain("Changes since 01-01-2026 00:00 UTC: 1 new, 0 gone, 6 changed");
    expect(cli(["preview", "--program", "eng", "--since", "2026-01-01"], env).code).toBe(2);
  });

  it("preview text groups rows by status with counts", () => {
    const r = cli(["preview", "--manager", "dana@acme.example", "--as-of", "2026-03-02T09:00"], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("8 mentor connections:");
    expect(r.stdout).toMatch(/^Matched-Duration Completed \(1\)$/m);
    expect(r.stdout).not.toMatch(/Secret-Mentee|mia@/);
  });

  it("a person in the roster with no mentors gets an empty report and exit 0", () => {
    const r = cli(["preview", "--manager", "priya@acme.example", "--format", "json"], env);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).groups).toEqual([]);
  });

  it("an unknown manager or program is a clear error with a non-zero exit", () => {
    const m = cli(["preview", "--manager", "nobody@acme.example"], env);
    expect(m.code).toBe(1);
    expect(m.stderr).toContain("nobody@acme.example is not in the roster");
    const p = cli(["preview", "--program", "nope"], env);
    expect(p.code).toBe(1);
    expect(p.stderr).toContain('program "nope" does not exist');
  });

  it("bad flags and bad variables stop with a message that names them", () => {
    expect(cli(["preview", "--manager", "a@b.c", "--as-of", "yesterday"], env).stderr).toContain('--as-of "yesterday"');
    const tz = cli(["migrate"], { ...env, REPORT_TIMEZONE: "Mars/Olympus" });
    expect(tz.code).toBe(2);
    expect(tz.stderr).toContain('REPORT_TIMEZONE="Mars/Olympus": must be an IANA time zone');
    const weeks = cli(["migrate"], { ...env, REPORT_INTERVAL_WEEKS: "0" });
    expect(weeks.stderr).toContain("REPORT_INTERVAL_WEEKS");
    expect(cli(["migrate"], { ...env, SLACK_APP_TOKEN: "secret-value" }).stderr).not.toContain("secret-value");
  });

  it("a failed import lists every problem, exits 1 and changes nothing", () => {
    const dir = csvDir({
      "meetings.csv": "meeting_id,match_id,scheduled_at,cancelled_at\nmt1,m1,soon,\nmt2,m404,2026-01-01,\n",
    });
    const r = cli(["import", dir], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("meetings.csv:2: scheduled_at: is not an ISO 8601 date or date-time");
    expect(r.stderr).toContain("meetings.csv:3: match_id: is not a match in matches.csv");
    expect(r.stderr).toContain("nothing was written");
    const after = cli(
      ["preview", "--manager", "dana@acme.example", "--as-of", "2026-03-02T09:00", "--format", "json"],
      env,
    );
    expect(JSON.parse(after.stdout).groups[0].rows[0].completedMeetings).toBe(2);
  });

  it("send --dry-run says who would get what, with no token and nothing recorded; send without a token says what is missing", () => {
    const dry = cli(["send", "--dry-run", "--as-of", "2026-03-02T09:00"], env);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain("Dry run: would deliver 3 DMs and 2 channel summaries; nothing was sent or recorded.");
    const real = cli(["send"], env);
    expect(real.code).toBe(2);
    expect(real.stderr).toContain("SLACK_BOT_TOKEN is not set");
  });

  it("emulator serves a workspace made of the roster and prints what the app sends it", async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [BIN, "emulator", "--from-db", "--port", String(port)], {
      cwd: WORKDIR,
      env: { PATH: process.env.PATH ?? "", LOG_LEVEL: "warn", ...env },
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    try {
      while (!out.includes("Point the app at it")) await new Promise((r) => setTimeout(r, 50));
      expect(out).toContain(`SLACK_API_URL=http://127.0.0.1:${port}/api/`);
      // Before any delivery, status says why serve would leave the begun period alone, and what sends it.
      expect(cli(["status", "--as-of", "2026-03-03"], env).stdout).toContain(
        "No period was ever delivered on this database: serve does not catch up a period already under way when it starts; `npx mentorship-report send` delivers it now.",
      );
      const sent = await cliAsync(["send", "--as-of", "2026-03-02T09:00"], {
        ...env,
        SLACK_API_URL: `http://127.0.0.1:${port}/api/`,
        SLACK_BOT_TOKEN: out.match(/SLACK_BOT_TOKEN=(\S+)/)![1]!,
      });
      expect(sent.stdout).toContain("DMs:               3 planned · 3 delivered now");
      while (!out.includes("DM to Sam Ortiz")) await new Promise((r) => setTimeout(r, 50));
      expect(out).toContain("DM to Dana Brooks <dana@acme.example>");
      expect(out).not.toMatch(/Secret-Mentee|mia@/);
      // The operator's view of the same period, from the ledger.
      const status = cli(["status", "--as-of", "2026-03-03"], env);
      expect(status.stdout).toContain("Period 2026-03-02 (03-02-2026 – 03-15-2026): complete");
      expect(status.stdout).toMatch(/^ {2}delivered +3 +2 +0$/m);
      const later = cli(["status", "--as-of", "2026-06-01"], env).stdout;
      expect(later).toContain("Nothing planned yet");
      expect(later).not.toContain("No period was ever delivered");
      // preview --format blocks prints what the next DM would carry: the changes since the one delivered.
      const next = cli(
        ["preview", "--manager", "dana@acme.example", "--as-of", "2026-03-16T09:00", "--format", "blocks"],
        env,
      );
      const dm = JSON.parse(next.stdout);
      expect(Object.keys(dm)).toEqual(["text", "blocks"]);
      expect(JSON.stringify(dm.blocks)).toContain("*Since your last report* (03-02-2026)");
      expect(dm.blocks.some((b: { type: string }) => b.type === "table")).toBe(true);
    } finally {
      child.kill("SIGINT");
      await once(child, "exit");
    }
  });

  it("status shows the last imports", () => {
    const r = cli(["status", "--as-of", "2026-03-03"], env);
    expect(r.stdout).toContain("Last imports:");
    expect(r.stdout).toMatch(
      /^ {2}\d\d-\d\d-\d{4} \d\d:\d\d {2}cli +imported {2}6 files: \d+ added, \d+ changed, \d+ removed$/m,
    );
  });

  it("import with a folder named meetings.csv says so, with no stack trace", () => {
    const dir = csvDir();
    rmSync(join(dir, "meetings.csv"));
    mkdirSync(join(dir, "meetings.csv"));
    const r = cli(["import", dir], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`Error: ${join(dir, "meetings.csv")} is a folder, not a CSV file\n`);
  });

  it("a PostgreSQL server that refuses, or a database that does not exist, is one line naming DATABASE_URL without its password, exit 2", async () => {
    const closed = await freePort();
    for (const [url, shown, reason] of <Array<[string, string, string]>>[
      [`postgres://postgres:s3cret@127.0.0.1:${closed}/x`, `postgres://postgres@127.0.0.1:${closed}/x`, "ECONNREFUSED"],
      [
        "postgres://postgres@127.0.0.1:5432/doesnotexist_zz",
        "postgres://postgres@127.0.0.1:5432/doesnotexist_zz",
        "does not exist",
      ],
    ]) {
      const r = cli(["status"], { DATABASE_URL: url });
      expect(r.code).toBe(2);
      expect(r.stderr.split("\n").filter(Boolean)).toHaveLength(1);
      expect(r.stderr).toContain(`Cannot open the database at DATABASE_URL=${shown}: `);
      expect(r.stderr).toContain(reason);
      expect(r.stderr).not.toContain("s3cret");
    }
  });

  it("a SQLite path that cannot be created says why and names DATABASE_URL, exit 2, quickly", () => {
    const dir = mkdtempSync(join(tmpdir(), "mr-badpath-"));
    writeFileSync(join(dir, "afile"), "");
    for (const [path, reason] of [
      // Node's recursive mkdir spins forever here.
      ["/proc/nope/x.sqlite", "ENOENT: no such file or directory, mkdir '/proc/nope'"],
      [join(dir, "afile", "x.sqlite"), `${join(dir, "afile")} is a file, not a folder`],
      [join(dir, "afile", "sub", "x.sqlite"), `${join(dir, "afile")} is a file, not a folder`],
      [dir, `${dir} is a folder, not a file`],
    ]) {
      const r = spawnSync(process.execPath, [BIN, "migrate"], {
        cwd: WORKDIR,
        env: { PATH: process.env.PATH ?? "", DATABASE_URL: path },
        encoding: "utf8",
        timeout: 10_000,
      });
      expect(r.status).toBe(2);
      expect(r.stderr).toBe(`Cannot create the SQLite database at DATABASE_URL=${path}: ${reason}\n`);
    }
  });

  it("import of a folder without the files says which files it expects", () => {
    const r = cli(["import", mkdtempSync(join(tmpdir(), "mr-empty-"))], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/none of the expected files is there \(programs\.csv, people\.csv/);
  });
});
