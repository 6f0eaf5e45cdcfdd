import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, cli, WORKDIR } from "../helpers/cli.js";
import { SAMPLE } from "../helpers/files.js";
import { freePort, type Served, SIGNING_SECRET, startServe } from "../helpers/serve.js";

/** The `emulator` command as a person runs it: its output so far, and a way to wait for a line. */
function startEmulator(args: string[], env: Record<string, string>) {
  const child: ChildProcess = spawn(process.execPath, [BIN, "emulator", ...args], {
    cwd: WORKDIR,
    env: { PATH: process.env.PATH ?? "", LOG_LEVEL: "warn", SLACK_SIGNING_SECRET: SIGNING_SECRET, ...env },
  });
  const seen = { out: "", err: "" };
  child.stdout!.on("data", (d) => (seen.out += d));
  child.stderr!.on("data", (d) => (seen.err += d));
  const until = async (text: string | RegExp, times = 1) => {
    const count = () => (typeof text === "string" ? seen.out.split(text).length - 1 : text.test(seen.out) ? 1 : 0);
    const deadline = Date.now() + 15_000;
    while (count() < times && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(count(), seen.out).toBeGreaterThanOrEqual(times);
  };
  return {
    child,
    seen,
    until,
    type: (line: string) => child.stdin!.write(`${line}\n`),
    async stop() {
      child.kill("SIGINT");
      await once(child, "exit");
    },
  };
}

describe("the emulator's console: typed commands, clicks and files reach a running serve", () => {
  const dir = mkdtempSync(join(tmpdir(), "mr-console-"));
  const env: Record<string, string> = { DATABASE_URL: join(dir, "db.sqlite") };
  let emulator: ReturnType<typeof startEmulator>;
  let serve: Served;
  let appPort = 0;
  const out = () => emulator.seen.out;

  beforeAll(async () => {
    expect(cli(["import", SAMPLE], env).code).toBe(0);
    const emulatorPort = await freePort();
    appPort = await freePort();
    emulator = startEmulator(
      ["--from-db", "--port", String(emulatorPort), "--app-url", `http://127.0.0.1:${appPort}/slack/events`],
      env,
    );
    await emulator.until("Point the app at it");
    // The line it prints is the one to run: PORT, DATABASE_URL and this run's token included.
    const line = out().match(/^ {2}(PORT=.*) SLACK_APP_TOKEN=\S+ npx mentorship-report serve$/m)?.[1] ?? "";
    const printed = Object.fromEntries(line.split(" ").map((kv) => kv.split("=", 2) as [string, string]));
    expect(printed).toMatchObject({ PORT: String(appPort), DATABASE_URL: env.DATABASE_URL });
    serve = await startServe({
      ...printed,
      LOG_LEVEL: "warn",
      // A global admin who is not in the roster: they may send any file.
      ADMIN_EMAILS: "it-ops@acme.example",
    });
  });
  afterAll(async () => {
    await serve?.stop();
    await emulator?.stop();
  });

  it("uses a fresh token each run, warns that --from-db serves the roster, and serve warns it talks to an emulator", () => {
    const token = out().match(/SLACK_BOT_TOKEN=(\S+)/)?.[1];
    expect(token).toMatch(/^xoxb-emulator-[0-9a-f]{24}$/);
    expect(emulator.seen.err).toContain("--from-db: this workspace holds every person of the roster");
    expect(serve.output()).toContain("SLACK_API_URL points at the bundled Slack emulator");
  });

  it("prints the help, then the slash answer, the Home tab and what a click changes, never a mentee", async () => {
    expect(out()).toContain("/mentorship-report ...   the slash command");
    emulator.type("/mentorship-report");
    await emulator.until("First choose who you are");
    emulator.type("as dana@acme.example");
    emulator.type("/mentorship-report ENG");
    await emulator.until("Acting as Dana Brooks <dana@acme.example>");
    await emulator.until("answer (only you see it)");
    expect(out()).toContain("Ada Lovelace");
    emulator.type("home");
    await emulator.until("Home tab of Dana Brooks <dana@acme.example>");
    expect(out()).toContain("[Skip next report]");
    emulator.type("click pause");
    await emulator.until("Home tab of Dana Brooks <dana@acme.example>", 2);
    await emulator.until("[Resume reports]");
    emulator.type("click csv");
    await emulator.until("── file mentorship-report-");
    expect(out()).toMatch(/file mentorship-report-\d\d-\d\d-\d{4}\.csv in D\w+: 8 rows and a header/);
    // §18: the first attention line's Nudge (Margaret's request, waiting for admin approval) reaches Grace.
    emulator.type("click nudge 1");
    await emulator.until("── DM to Grace Hopper <grace@acme.example>");
    await emulator.until("Dana Brooks, Margaret Hamilton's manager, asked me to nudge the program's admins.");
    emulator.type("click nudge 1");
    await emulator.until("Already nudged this period: Dana Brooks nudged the admins of Engineering Mentorship");
    expect(out().split("── DM to Grace Hopper").length - 1).toBe(1);
    expect(out()).not.toMatch(/mia@|eve@|liam@|noah@|zoe@|-Mentee/);
  });

  it("an unknown command or a click on a button that is not there: an error line, the prompt, and the next command works", async () => {
    emulator.type("as dana@acme.example");
    emulator.type("frobnicate");
    await emulator.until('Not a command here: "frobnicate". Type help.\n> ');
    emulator.type("click foo");
    await emulator.until(/No button "foo" on your last DM or Home tab; there: [a-z, _]+\.\n> /);
    const homes = out().split("Home tab of Dana Brooks").length - 1;
    emulator.type("home");
    await emulator.until("Home tab of Dana Brooks", homes + 1);
    // The Home tab arrives after the prompt was printed: it comes with a prompt of its own.
    await emulator.until(/Home tab of Dana Brooks <dana@acme\.example> ─+\n(?:(?!Home tab of)[\s\S])*\n> $/);
  });

  it("help lists every command the console takes", async () => {
    const before = out().length;
    emulator.type("help");
    await emulator.until("  help                     this list", 2);
    const help = out().slice(before);
    for (const command of ["as EMAIL", "/mentorship-report", "home", "click", "share FILE... [as EMAIL]", "help"])
      expect(help).toContain(`  ${command}`);
  });

  it("someone outside the roster can act: `as` adds them to the workspace and the app answers them", async () => {
    const answers = out().split("answer (only you see it)").length - 1;
    emulator.type("as newcomer@acme.example");
    await emulator.until("Acting as newcomer@acme.example (not in the roster)");
    emulator.type("/mentorship-report");
    await emulator.until("answer (only you see it)", answers + 1);
  });

  it("send against it prints each DM and each channel post, a post under its channel's #name", async () => {
    const line = out().match(/^ {2}(PORT=.*) SLACK_APP_TOKEN=\S+ npx mentorship-report serve$/m)?.[1] ?? "";
    const printed = Object.fromEntries(line.split(" ").map((kv) => kv.split("=", 2) as [string, string]));
    expect(cli(["send", "--as-of", "2026-03-02T09:00"], printed).code).toBe(0);
    await emulator.until("── DM to Dana Brooks <dana@acme.example>");
    await emulator.until("── post in #mentorship-eng ");
    await emulator.until("── post in #leadership-circle ");
  });

  it("share sends CSV files as a Slack upload: an admin's file is imported, a non-admin's refused", async () => {
    const file = join(dir, "people.csv");
    // The roster as exported, with one new hire: a file is the full set of its table.
    const people = readFileSync(join(SAMPLE, "people.csv"), "utf8").trimEnd();
    writeFileSync(file, `${people}\nnew.hire@acme.example,Nia Newhire,Engineering,dana@acme.example,\n`);
    emulator.type(`share ${file} as dana@acme.example`);
    await emulator.until("Only program admins can send me data files");
    emulator.type(`share ${file} as it-ops@acme.example`);
    await emulator.until("it-ops@acme.example (not in the roster) shares people.csv in their DM with the app.");
    await emulator.until(/Imported 1 file in one transaction/);
    expect(cli(["preview", "--manager", "dana@acme.example"], env).stdout).toContain("data as of");
    // A refused file: the problem reads as one plain line (no code-block backticks left over), and the
    // problems file attached to the answer is counted in lines, not as a CSV's rows.
    const bad = join(dir, "bad", "people.csv");
    mkdirSync(join(dir, "bad"));
    writeFileSync(bad, `${people}\nself@acme.example,Self Managed,Engineering,self@acme.example,\n`);
    emulator.type(`share ${bad} as it-ops@acme.example`);
    await emulator.until(/\npeople\.csv:23: manager_email: is the person's own email\n/);
    await emulator.until(/file import-problems\.txt in D\w+: 1 line ─/);
    expect(out()).not.toContain("``");
    emulator.type(`share ${join(dir, "missing.csv")}`);
    await emulator.until(/error: ENOENT[^\n]*missing\.csv'\n> /);
  });
});

describe("the emulator with nothing to serve says what to do first", () => {
  it("an empty roster with --from-db, or no --from-db: import data first, with the command", async () => {
    const env = { DATABASE_URL: join(mkdtempSync(join(tmpdir(), "mr-empty-")), "db.sqlite") };
    for (const args of [["--from-db"], []]) {
      const e = startEmulator([...args, "--port", String(await freePort())], env);
      try {
        await e.until("Point the app at it");
        expect(e.seen.out).toContain("import data first");
        expect(e.seen.out).toContain("npx mentorship-report import examples/sample");
        expect(e.seen.out).toContain("with 0 users");
      } finally {
        await e.stop();
      }
    }
  });
});
