import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { formatProblem, importDirectory } from "../../src/import/import-service.js";
import { createLogger } from "../../src/logger.js";
import { ENGINES } from "../helpers/db.js";
import { csvDir, dump, SAMPLE } from "../helpers/files.js";
import { baseConfig, sampleWorkspace } from "../helpers/slack.js";

const sample = (f: string) => readFileSync(join(SAMPLE, f), "utf8");
/** The sample file with only the lines (after the header) that `keep` accepts. */
const only = (f: string, keep: (line: string) => boolean) => {
  const [head, ...rows] = sample(f).trimEnd().split("\n");
  return `${[head, ...rows.filter(keep)].join("\n")}\n`;
};
/** A line of lead's: program_id is the first column of programs and enrollments, the second elsewhere. */
const lead = (l: string) => l.split(",")[1] === "lead";
const leadFirst = (l: string) => l.startsWith("lead,");

describe.each(ENGINES)("a program admin's import is a snapshot of their own programs (%s)", (engine) => {
  const w = sampleWorkspace(engine);
  /** Olivia administers "lead" only. */
  const asLeadAdmin = (files: Record<string, string>) =>
    importDirectory(w.t.db, csvDir(files, { fromSample: false }), { zone: "UTC", programs: ["lead"] });
  const ids = async (table: string, key: string) =>
    (await w.t.db(table).select(key).orderBy(key)).map((r) => r[key] as string);

  it("refuses rows of other programs, other programs' ids and a change of admins or channel; nothing written", async () => {
    const before = await dump(w.t.db);
    const programs = sample("programs.csv")
      .replace("#leadership-circle,olivia@acme.example;grace@acme.example", "#leadership-circle,olivia@acme.example")
      .replace("#mentorship-eng,grace@acme.example", "#mentorship-eng,grace@acme.example;olivia@acme.example");
    const r = await asLeadAdmin({
      "programs.csv": programs,
      "matches.csv": `${only("matches.csv", lead)}m1,lead,rosa@acme.example,noah@acme.example,2026-01-10,\n`,
      "meetings.csv": `${only("meetings.csv", (l) => l.includes(",m4,"))}mt1,m1,2026-02-01,\n`,
    });
    expect(r.problems.map(formatProblem)).toEqual([
      "programs.csv:2: program_id: is a program you do not administer",
      "programs.csv:3: admin_emails: can be changed only by a global admin (ADMIN_EMAILS)",
      "programs.csv:4: program_id: is a program you do not administer",
      "matches.csv:4: match_id: is the id of a match of a program you do not administer",
      "meetings.csv:4: meeting_id: is the id of a meeting of a program you do not administer",
      "meetings.csv:4: match_id: is a match of a program you do not administer",
    ]);
    expect(await dump(w.t.db)).toEqual(before);

    const channel = await asLeadAdmin({
      "programs.csv": only("programs.csv", leadFirst).replace("#leadership-circle", "#elsewhere"),
    });
    expect(channel.problems.map(formatProblem)).toEqual([
      "programs.csv:2: admin_channel: can be changed only by a global admin (ADMIN_EMAILS)",
    ]);
    expect(await dump(w.t.db)).toEqual(before);
  });

  it("removes only its own programs' rows that the files leave out", async () => {
    const r = await asLeadAdmin({
      "programs.csv": only("programs.csv", leadFirst).replace("Leadership Circle", "Leadership Circle II"),
      "enrollments.csv": only("enrollments.csv", (l) => leadFirst(l) && !l.includes("rosa@")),
      "match_requests.csv": only("match_requests.csv", () => false),
      "matches.csv": only("matches.csv", (l) => l.startsWith("m5,")),
      "meetings.csv": only("meetings.csv", () => false),
    });
    expect(r.problems.map(formatProblem)).toEqual([]);
    expect(r.files.map((f) => [f.file, f.added, f.changed, f.removed, f.unchanged])).toEqual([
      ["programs.csv", 0, 1, 0, 0],
      ["enrollments.csv", 0, 0, 1, 3],
      ["match_requests.csv", 0, 0, 1, 0],
      ["matches.csv", 0, 0, 1, 1],
      ["meetings.csv", 0, 0, 2, 0],
    ]);
    // Rosa's lead enrollment, r6, m4 and its meetings went; every other program's rows stayed.
    expect(await ids("programs", "program_id")).toEqual(["buddy", "eng", "lead"]);
    expect(await ids("match_requests", "request_id")).toEqual(["r1", "r2", "r3", "r4", "r5", "r7"]);
    expect(await ids("matches", "match_id")).toEqual(["m1", "m2", "m3", "m5"]);
    expect(await ids("meetings", "meeting_id")).toEqual(
      ["mt1", "mt12", "mt2", "mt3", "mt4", "mt5", "mt6", "mt7", "mt8", "mt9"].sort(),
    );
    expect(await w.t.db("enrollments").where({ email: "rosa@acme.example" }).select("program_id")).toEqual([
      { program_id: "buddy" },
    ]);
    expect(await w.t.db("programs").where({ program_id: "lead" }).first()).toMatchObject({
      name: "Leadership Circle II",
      admin_emails: "olivia@acme.example;grace@acme.example",
    });
  });
});

describe.each(ENGINES)("who may send what in Slack (%s)", (engine) => {
  const w = sampleWorkspace(engine);
  const app = (admins: string[] = []) =>
    createApp({
      config: {
        ...loadConfig({}),
        ...baseConfig,
        ADMIN_EMAILS: admins,
        SLACK_BOT_TOKEN: w.emulator.token,
        SLACK_API_URL: w.emulator.url,
      },
      db: w.t.db,
      log: createLogger("silent"),
    });
  async function send(a: ReturnType<typeof app>, email: string, files: Record<string, string>) {
    const user = w.emulator.userIdOf(email)!;
    const fileIds = Object.entries(files).map(([name, content]) => w.emulator.addFile({ name, content, user }));
    const event = w.emulator.fileShareEvent(user, fileIds);
    await a.uploads.receive({ user, channel: event.channel as string, ts: event.ts as string, fileIds });
    return w.emulator.messages.filter((m) => m.thread_ts === event.ts).map((m) => m.text);
  }

  it("a program admin cannot make themselves admin of every program, nor send people.csv", async () => {
    const before = await dump(w.t.db);
    const grab = sample("programs.csv")
      .split("\n")
      .map((l, i) => (i === 0 || !l ? l : l.replace(/,[^,]*$/, ",olivia@acme.example")))
      .join("\n");
    const programs = await send(app(), "olivia@acme.example", { "programs.csv": grab });
    expect(programs[0]).toMatch(/^Nothing was imported/);
    expect(programs[0]).toContain("programs.csv:2: program_id: is a program you do not administer");
    expect(programs[0]).toContain("programs.csv:3: admin_emails: can be changed only by a global admin");
    const people = await send(app(), "olivia@acme.example", { "people.csv": sample("people.csv") });
    expect(people[0]).toContain("people.csv: -: only a global admin (ADMIN_EMAILS) can send it");
    expect(await dump(w.t.db)).toEqual(before);
  });

  it("a global admin may send any file: every program's rows and people.csv", async () => {
    const grab = sample("programs.csv").replace("#mentorship-eng", "#elsewhere");
    const people = `${sample("people.csv").trimEnd()}\nzed@acme.example,Zed,Eng,dana@acme.example,\n`;
    const answer = await send(app(["dana@acme.example"]), "dana@acme.example", {
      "programs.csv": grab,
      "people.csv": people,
    });
    expect(answer[0]).toMatch(/^Imported 2 files/);
    expect(await w.t.db("programs").where({ program_id: "eng" }).first()).toMatchObject({
      admin_channel: "#elsewhere",
    });
    expect(await w.t.db("people").where({ email: "zed@acme.example" }).first()).toBeTruthy();
  });
});
