import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { importDirectory } from "../../src/import/import-service.js";
import { ENGINES, freshDb, type TestDb } from "../helpers/db.js";
import { csvDir, dump, SAMPLE } from "../helpers/files.js";

const sample = (f: string) => readFileSync(join(SAMPLE, f), "utf8");
const problemsOf = (r: { problems: Array<{ file: string; line: number; column: string; problem: string }> }) =>
  r.problems.map((p) => `${p.file}:${p.line}: ${p.column}: ${p.problem}`);

describe.each(ENGINES)("import on %s", (engine) => {
  let t: TestDb;
  beforeEach(async () => {
    t = await freshDb(engine);
  });
  afterEach(async () => t.drop());
  const run = (dir: string, dryRun = false) => importDirectory(t.db, dir, { zone: "UTC", dryRun });

  it("imports the six files of the sample company", async () => {
    const r = await run(SAMPLE);
    expect(r.problems).toEqual([]);
    expect(Object.fromEntries(r.files.map((f) => [f.file, f.rows]))).toEqual({
      "programs.csv": 3,
      "people.csv": 21,
      "enrollments.csv": 17,
      "match_requests.csv": 7,
      "matches.csv": 5,
      "meetings.csv": 12,
    });
    expect(await t.db("people").count({ n: "*" }).first()).toEqual({ n: 21 });
    expect(await t.db("people").where("email", "rosa@acme.example").first()).toMatchObject({ name: "Parks, Rosa" });
  });

  it("a second import of the same files changes nothing", async () => {
    await run(SAMPLE);
    const before = await dump(t.db);
    expect((await run(SAMPLE)).ok).toBe(true);
    expect(await dump(t.db)).toEqual(before);
  });

  it("with --merge, upserts by key: a changed row replaces the stored one and missing rows stay", async () => {
    await run(SAMPLE);
    const dir = csvDir({}, { fromSample: false });
    const { writeFileSync } = await import("node:fs");
    writeFileSync(
      join(dir, "matches.csv"),
      "match_id,program_id,mentor_email,mentee_email,matched_at,closed_at\nm1,eng,ada@acme.example,mia@acme.example,2026-01-15,2026-02-01\n",
    );
    expect((await importDirectory(t.db, dir, { zone: "UTC", merge: true })).ok).toBe(true);
    expect(await t.db("matches").where("match_id", "m1").first()).toMatchObject({ closed_at: Date.UTC(2026, 1, 1) });
    expect(await t.db("matches").count({ n: "*" }).first()).toEqual({ n: 5 });
  });

  it("a person who is their own manager gets that one problem, not a manager chain loop of one", async () => {
    const dir = csvDir({
      "people.csv": `${sample("people.csv")}self@acme.example,Self Managed,Eng,self@acme.example,\n`,
    });
    expect(problemsOf(await run(dir))).toEqual(["people.csv:23: manager_email: is the person's own email"]);
  });

  it("lists every bad row as file:line: column: problem and writes nothing", async () => {
    await run(SAMPLE);
    const before = await dump(t.db);
    const dir = csvDir({
      "programs.csv": sample("programs.csv") + "x1,Bad Program,six,maybe,true,true,,not-an-email\n",
      "people.csv":
        sample("people.csv") +
        "loop1@acme.example,Loop One,Eng,loop2@acme.example,\nloop2@acme.example,Loop Two,Eng,loop1@acme.example,\nghost@acme.example,Ghost,Eng,nobody@acme.example,\nADA@acme.example,Ada Again,Eng,,\n",
      "enrollments.csv":
        sample("enrollments.csv") +
        "nope,ada@acme.example,mentor,2026-01-01,\neng,stranger@acme.example,mentor,2026-13-01,\n",
      "matches.csv":
        sample("matches.csv") +
        "m9,eng,ada@acme.example,mia@acme.example,2026-02-01,2026-01-01\nm10,eng,alan@acme.example,olivia@acme.example,2026-02-01,\n",
      "meetings.csv": sample("meetings.csv") + "mt99,m404,2026-02-01,\nmt1,m1,2026-02-01,\n",
    });
    const r = await run(dir);
    expect(r.ok).toBe(false);
    expect(problemsOf(r)).toEqual([
      "programs.csv:5: match_duration_months: is not a whole number of at least 1",
      "programs.csv:5: requires_mentor_approval: is not a boolean (true/false/yes/no/1/0)",
      "programs.csv:5: admin_emails: holds a value that is not an email address",
      "people.csv:23: manager_email: the manager chain loops (2 people)",
      "people.csv:24: manager_email: the manager chain loops (2 people)",
      "people.csv:25: manager_email: is not a person in people.csv",
      "people.csv:26: email: duplicate key, first seen on line 8",
      "enrollments.csv:19: program_id: is not a program in programs.csv",
      "enrollments.csv:20: email: is not a person in people.csv",
      "enrollments.csv:20: added_at: is not an ISO 8601 date or date-time",
      "matches.csv:7: closed_at: is before matched_at",
      "matches.csv:8: mentee_email: is not enrolled as a mentee in the row's program in enrollments.csv",
      "meetings.csv:14: match_id: is not a match in matches.csv",
      "meetings.csv:15: meeting_id: duplicate key, first seen on line 2",
    ]);
    expect(await dump(t.db)).toEqual(before);
  });

  it("names a missing column and imports nothing", async () => {
    const dir = csvDir({ "meetings.csv": "meeting_id,match_id,cancelled_at\nmt1,m1,\n" });
    const r = await run(dir);
    expect(problemsOf(r)).toEqual(["meetings.csv:1: scheduled_at: column is missing from the header"]);
    expect(await t.db("programs").count({ n: "*" }).first()).toEqual({ n: 0 });
  });

  it("reads a UTF-8 BOM, quoted commas and quotes, CRLF line ends, and emails in mixed case", async () => {
    const dir = csvDir(
      {
        "programs.csv":
          '\uFEFFprogram_id,name,match_duration_months,requires_mentor_approval,requires_mentee_approval,requires_admin_approval,admin_channel,admin_emails\r\np,"Mentoring, ""the good kind""",,YES,No,0,,Boss@X.io\r\n',
        "people.csv":
          'email,name,organization,manager_email\r\nBoss@X.io,Boss,"Acme, Inc.",\r\nAda@X.IO,Ada,"Acme, Inc.",BOSS@x.io\r\n',
        "enrollments.csv":
          "program_id,email,role,added_at,registered_at\r\np,ADA@x.io,Mentor,2026-01-01,2026-01-02T10:00:00+02:00\r\n",
      },
      { fromSample: false },
    );
    const r = await run(dir);
    expect(r.problems).toEqual([]);
    expect(await t.db("programs").first()).toMatchObject({
      name: 'Mentoring, "the good kind"',
      match_duration_months: 6,
      admin_emails: "boss@x.io",
    });
    expect(await t.db("people").where("email", "ada@x.io").first()).toMatchObject({
      organization: "Acme, Inc.",
      manager_email: "boss@x.io",
    });
    expect(await t.db("enrollments").first()).toMatchObject({
      email: "ada@x.io",
      role: "mentor",
      registered_at: Date.UTC(2026, 0, 2, 8),
    });
  });

  it("a file with only its header imports no rows and is no error", async () => {
    const dir = csvDir({ "meetings.csv": "meeting_id,match_id,scheduled_at,cancelled_at\n" });
    const r = await run(dir);
    expect(r.problems).toEqual([]);
    expect(r.files.find((f) => f.file === "meetings.csv")).toMatchObject({ file: "meetings.csv", rows: 0 });
  });

  it("a dry run checks everything and writes nothing", async () => {
    const r = await run(SAMPLE, true);
    expect(r.ok).toBe(true);
    expect(await t.db("people").count({ n: "*" }).first()).toEqual({ n: 0 });
  });

  it("never echoes a person's email in a problem, so a mentee's address cannot leak", async () => {
    const dir = csvDir({
      "matches.csv": sample("matches.csv") + "m9,eng,ada@acme.example,secret.mentee@acme.example,2026-02-01,\n",
    });
    const r = await run(dir);
    expect(r.ok).toBe(false);
    expect(JSON.stringify(r.problems)).not.toContain("secret.mentee");
  });

  it("refuses data read in another time zone than the stored data", async () => {
    await run(SAMPLE);
    await expect(importDirectory(t.db, SAMPLE, { zone: "Europe/Berlin" })).rejects.toThrow(
      /REPORT_TIMEZONE is "Europe\/Berlin".*imported with "UTC"/,
    );
  });
});
