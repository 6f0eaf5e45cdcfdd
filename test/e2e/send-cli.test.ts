import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, type Db } from "../../src/db/knex.js";
import type { SlackEmulator } from "../../src/emulator/server.js";
import { BIN, cli, cliAsync, WORKDIR } from "../helpers/cli.js";
import { SAMPLE } from "../helpers/files.js";
import { emulatorFor } from "../helpers/slack.js";

const MENTEES = /mia@|eve@|liam@|noah@|zoe@|Secret-Mentee|Hidden-Mentee|Private-Mentee|Quiet-Mentee|Unseen-Mentee/;

describe("send tells the operator the truth (issue 9 row 15)", () => {
  let env: Record<string, string>;
  let db: Db;
  let emulator: SlackEmulator;
  beforeAll(async () => {
    env = { DATABASE_URL: join(mkdtempSync(join(tmpdir(), "mr-send-")), "db.sqlite") };
    expect(cli(["import", SAMPLE], env).code).toBe(0);
    db = createDb(env.DATABASE_URL!);
    // Sam is not in the workspace: his DM fails for good.
    emulator = await emulatorFor(db, { absent: ["sam@acme.example"] });
    env = { ...env, SLACK_BOT_TOKEN: emulator.token, SLACK_API_URL: emulator.url };
  });
  afterAll(async () => {
    await emulator.stop();
    await db.destroy();
  });

  it("exits non-zero when a delivery failed, and 0 once all went out", async () => {
    const r = await cliAsync(["send", "--as-of", "2026-03-02T09:00"], env);
    expect(r.stdout).toContain("DM to sam@acme.example: no Slack user with this email (not_in_slack)");
    expect(r.code).toBe(3);
    // Sam joins the workspace; everyone else keeps their user id.
    const people: Array<{ email: string; name: string }> = await db("people").select("email", "name");
    emulator.setUsers(people.map((p) => ({ id: emulator.userIdOf(p.email) ?? "U0SAM", ...p })));
    const next = await cliAsync(["send", "--as-of", "2026-03-16T09:00"], env);
    expect(next.stdout, next.stdout).toContain("Period complete.");
    expect(next.code, next.stdout).toBe(0);
  });

  it("--dry-run lists each recipient with its kind, rows and problem, and records nothing", async () => {
    emulator.setUsers([]);
    // The directory remembers who was not found; the dry run says so without asking Slack.
    await db("slack_users").where({ email: "sam@acme.example" }).update({ user_id: null, problem: "not_in_slack" });
    const calls = emulator.calls.length;
    const periodsBefore = await db("delivery_periods").count({ n: "*" });
    const r = cli(["send", "--dry-run", "--as-of", "2026-03-30T09:00"], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ {4}dm +dana@acme\.example +\d+ rows?$/m);
    expect(r.stdout).toMatch(/^ {4}dm +sam@acme\.example +\d+ rows? +no Slack user with this email \(not_in_slack\)$/m);
    expect(r.stdout).toMatch(/^ {4}channel +eng → #mentorship-eng +\d+ rows?$/m);
    expect(r.stdout).toMatch(
      /^ {4}channel +buddy +\d+ rows? +no admin_channel: its summary goes nowhere \(no_admin_channel\)$/m,
    );
    expect(r.stdout).not.toMatch(MENTEES);
    expect(emulator.calls.length).toBe(calls);
    expect(await db("delivery_periods").count({ n: "*" })).toEqual(periodsBefore);
  });

  it("refuses an --as-of later than now inside the current period unless --dry-run, and records nothing (§15)", async () => {
    const before = await db("deliveries").count({ n: "*" });
    const periodsBefore = await db("delivery_periods").count({ n: "*" });
    // Ten minutes ahead: past the five minutes allowed for clocks that disagree.
    const ahead = new Date(Date.now() + 10 * 60_000).toISOString();
    const r = await cliAsync(["send", "--as-of", ahead], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--as-of \S+ is (later than now|in a future period)/);
    expect(await db("deliveries").count({ n: "*" })).toEqual(before);
    expect(await db("delivery_periods").count({ n: "*" })).toEqual(periodsBefore);
    const dry = await cliAsync(["send", "--dry-run", "--as-of", ahead], env);
    expect(dry.code, dry.stderr).toBe(0);
  });

  it("refuses an --as-of in a future period, and records nothing", async () => {
    const before = await db("deliveries").count({ n: "*" });
    const r = await cliAsync(["send", "--as-of", "2099-01-05"], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--as-of 2099-01-05 is in a future period");
    expect(await db("deliveries").count({ n: "*" })).toEqual(before);
  });
});

describe("the command line for an operator", () => {
  it("--version prints the package's version; send --help documents its exit codes", () => {
    const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
    const r = cli(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${version}\n`);
    const help = cli(["send", "--help"]);
    expect(help.stdout).toContain("Exit codes: 0 everything delivered; 1 work left");
    expect(help.stdout).toContain("3 some recipients failed for good");
  });
});

describe("send shows its progress (issue 18 item 4)", () => {
  let env: Record<string, string>;
  let db: Db;
  let emulator: SlackEmulator;
  beforeAll(async () => {
    env = { DATABASE_URL: join(mkdtempSync(join(tmpdir(), "mr-progress-")), "db.sqlite") };
    expect(cli(["import", SAMPLE], env).code).toBe(0);
    db = createDb(env.DATABASE_URL!);
    emulator = await emulatorFor(db);
    env = { ...env, SLACK_BOT_TOKEN: emulator.token, SLACK_API_URL: emulator.url };
  });
  afterAll(async () => {
    await emulator.stop();
    await db.destroy();
  });

  it("not on a terminal: a log line every 10 s with done / planned, the rate and the time left", async () => {
    // 5 recipients at 12 a minute: about 20 s, so at least one line.
    const r = await cliAsync(["send", "--as-of", "2026-03-02T09:00"], { ...env, DELIVERY_RATE_PER_MINUTE: "12" });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stderr.match(
      /^sending: \d+ of 5 done \(\d+ delivered, 0 failed, 0 skipped\) · \d+\/min · about .+ left$/gm,
    );
    expect(lines?.length, r.stderr).toBeGreaterThanOrEqual(1);
    expect(r.stderr).not.toMatch(/\[[█░]+\]/);
    // The summary on stdout stays as it was: scripts read it.
    expect(r.stdout).toContain("DMs:");
  });

  it("on a terminal: a bar with delivered / planned, the rate and the time left", async () => {
    // `script` gives the command a pseudo-terminal, as a person's shell would. (Not spawnSync: the
    // emulator answers from this process.)
    const cmd = [process.execPath, BIN, "send", "--as-of", "2026-03-16T09:00"].map((a) => `'${a}'`).join(" ");
    const child = spawn("script", ["-qefc", cmd, "/dev/null"], {
      cwd: WORKDIR,
      env: { PATH: process.env.PATH ?? "", LOG_LEVEL: "warn", TERM: "xterm", ...env, DELIVERY_RATE_PER_MINUTE: "60" },
    });
    let stdout = "";
    child.stdout.on("data", (d) => (stdout += d));
    const [status] = (await once(child, "exit")) as [number | null];
    const r = { status, stdout };
    expect(r.status, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/sending \[[█░]+\] \d+\/5 delivered · 0 failed · \d+\/min · .+ left/);
    expect(r.stdout).toMatch(/5\/5 delivered/);
    expect(r.stdout).not.toMatch(/^sending: /m);
  });
});
