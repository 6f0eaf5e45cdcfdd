import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { formatProblem, type ImportResult, importDirectory } from "../../src/import/import-service.js";
import { ENGINES, freshDb, type TestDb } from "../helpers/db.js";
import { csvDir, dump, SAMPLE } from "../helpers/files.js";

const sample = (f: string) => readFileSync(join(SAMPLE, f), "utf8");
/** The sample file without the rows (after the header) that `drop` matches. */
const without = (f: string, drop: RegExp) =>
  sample(f)
    .split("\n")
    .filter((l, i) => i === 0 || !drop.test(l))
    .join("\n");
const removed = (r: ImportResult) => Object.fromEntries(r.files.map((f) => [f.file, f.removed]));

// Each case removes rows of one table from a full export, with whatever depends on them.
const CASES: Array<{ table: string; files: Record<string, string>; removed: Record<string, number> }> = [
  {
    table: "programs",
    files: {
      "programs.csv": without("programs.csv", /^buddy,/),
      "enrollments.csv": without("enrollments.csv", /^buddy,/),
      "match_requests.csv": without("match_requests.csv", /^r5,/),
    },
    removed: { "programs.csv": 1, "enrollments.csv": 3, "match_requests.csv": 1 },
  },
  {
    table: "people",
    files: {
      "people.csv": without("people.csv", /^ken@/),
      "enrollments.csv": without("enrollments.csv", /,ken@/),
    },
    removed: { "people.csv": 1, "enrollments.csv": 1 },
  },
  {
    table: "enrollments",
    files: { "enrollments.csv": without("enrollments.csv", /^eng,ken@/) },
    removed: { "enrollments.csv": 1 },
  },
  {
    table: "match_requests",
    files: { "match_requests.csv": without("match_requests.csv", /^r2,/) },
    removed: { "match_requests.csv": 1 },
  },
  { table: "matches", files: { "matches.csv": without("matches.csv", /^m5,/) }, removed: { "matches.csv": 1 } },
  { table: "meetings", files: { "meetings.csv": without("meetings.csv", /^mt12,/) }, removed: { "meetings.csv": 1 } },
];

describe.each(ENGINES)("snapshot import on %s", (engine) => {
  let t: TestDb;
  let before: Record<string, unknown[]>;
  beforeEach(async () => {
    t = await freshDb(engine);
    expect((await importDirectory(t.db, SAMPLE, { zone: "UTC" })).ok).toBe(true);
    before = await dump(t.db);
  });
  afterEach(async () => t.drop());
  const run = (dir: string, merge = false) => importDirectory(t.db, dir, { zone: "UTC", merge });
  const count = async (table: string) => Number((await t.db(table).count({ n: "*" }).first())?.n);

  it.each(CASES)("rows no longer in $table's file are removed, and counted", async (c) => {
    const r = await run(csvDir(c.files));
    expect(r.problems).toEqual([]);
    const none = Object.fromEntries(r.files.map((f) => [f.file, 0]));
    expect(removed(r)).toEqual({ ...none, ...c.removed });
    for (const f of r.files) expect(f.added + f.changed).toBe(0);
    const table = `${c.table}`;
    const stored = before[table]!.length - (c.removed[`${table}.csv`] ?? 0);
    expect(await count(table)).toBe(stored);
  });

  it("counts added, changed, removed and unchanged per file", async () => {
    const dir = csvDir({
      "matches.csv": without("matches.csv", /^m5,/).replace(
        "m1,eng,ada@acme.example,mia@acme.example,2026-01-15,",
        "m1,eng,ada@acme.example,mia@acme.example,2026-01-15,2026-03-01",
      ),
      "meetings.csv": `${sample("meetings.csv")}mt13,m1,2026-03-20T15:00:00Z,\n`,
    });
    const r = await run(dir);
    expect(r.files.find((f) => f.file === "matches.csv")).toEqual({
      file: "matches.csv",
      rows: 4,
      added: 0,
      changed: 1,
      removed: 1,
      unchanged: 3,
    });
    expect(r.files.find((f) => f.file === "meetings.csv")).toMatchObject({ added: 1, removed: 0, unchanged: 12 });
    expect(r.files.find((f) => f.file === "people.csv")).toMatchObject({ rows: 21, unchanged: 21, changed: 0 });
    expect(await t.db("matches").where("match_id", "m1").first()).toMatchObject({ closed_at: Date.UTC(2026, 2, 1) });
  });

  it("two imports at once both succeed, one after the other", async () => {
    const fresh = await freshDb(engine);
    try {
      const [a, b] = await Promise.all([
        importDirectory(fresh.db, SAMPLE, { zone: "UTC" }),
        importDirectory(fresh.db, SAMPLE, { zone: "UTC" }),
      ]);
      expect([a.ok, b.ok]).toEqual([true, true]);
      const added = (r: ImportResult) => r.files.reduce((n, f) => n + f.added, 0);
      expect([added(a), added(b)].sort()).toEqual([0, 65]);
      expect(await dump(fresh.db)).toEqual(before);
    } finally {
      await fresh.drop();
    }
  });

  it("--merge only adds and updates: rows missing from a file stay", async () => {
    const dir = csvDir(
      {
        "people.csv": `${without("people.csv", /^ken@/)}new@acme.example,New Person,Eng,dana@acme.example,\n`,
      },
      { fromSample: false },
    );
    const r = await run(dir, true);
    expect(r.problems).toEqual([]);
    expect(r.files).toEqual([{ file: "people.csv", rows: 21, added: 1, changed: 0, removed: 0, unchanged: 20 }]);
    expect(await t.db("people").where("email", "ken@acme.example").first()).toBeDefined();
    expect(await count("people")).toBe(22);
  });

  describe("refuses a removal that would leave a dangling reference, and writes nothing", () => {
    const refused = async (dir: string) => {
      const r = await run(dir);
      expect(r.ok).toBe(false);
      expect(await dump(t.db)).toEqual(before);
      return r.problems.map(formatProblem);
    };

    it("a person still enrolled (enrollments stored, not in this import)", async () => {
      const dir = csvDir({ "people.csv": without("people.csv", /^ken@/) }, { fromSample: false });
      expect(await refused(dir)).toEqual([
        'people.csv: email: 1 person no longer in the file is still enrolled as mentor in program "eng" (enrollments in the database)',
      ]);
    });

    it("a person still managing someone, named by line", async () => {
      const problems = await refused(csvDir({ "people.csv": without("people.csv", /^sam@/) }));
      expect(problems).toEqual([
        "people.csv:16: manager_email: is not a person in people.csv",
        "people.csv:21: manager_email: is not a person in people.csv",
      ]);
    });

    it("a match with meetings, in the same import (named by line) or stored", async () => {
      expect(await refused(csvDir({ "matches.csv": without("matches.csv", /^m3,/) }))).toEqual([
        "meetings.csv:13: match_id: is not a match in matches.csv",
      ]);
      const alone = csvDir({ "matches.csv": without("matches.csv", /^m3,/) }, { fromSample: false });
      expect(await refused(alone)).toEqual([
        'matches.csv: match_id: match "m3" is no longer in the file but 1 meeting in the database belongs to it',
      ]);
    });

    it("a program with enrollments and requests", async () => {
      const dir = csvDir({ "programs.csv": without("programs.csv", /^buddy,/) }, { fromSample: false });
      expect(await refused(dir)).toEqual([
        'programs.csv: program_id: program "buddy" is no longer in the file but 3 enrollments in the database still name it',
        'programs.csv: program_id: program "buddy" is no longer in the file but 1 match request in the database still name it',
      ]);
    });

    it("an enrollment still in requests and matches", async () => {
      const dir = csvDir({ "enrollments.csv": without("enrollments.csv", /^eng,liam@/) }, { fromSample: false });
      expect(await refused(dir)).toEqual([
        'enrollments.csv: program_id+email+role: match request "r2" in the database names a mentee no longer enrolled in its program',
        'enrollments.csv: program_id+email+role: match request "r7" in the database names a mentee no longer enrolled in its program',
        'enrollments.csv: program_id+email+role: match "m3" in the database names a mentee no longer enrolled in its program',
      ]);
    });
  });

  it("warns, without refusing, about a program with no admin or no channel", async () => {
    const dir = csvDir({ "programs.csv": `${sample("programs.csv")}quiet,Quiet Program,6,no,no,no,,\n` });
    const r = await run(dir);
    expect(r.ok).toBe(true);
    expect(r.warnings.map(formatProblem)).toEqual([
      // The sample's buddy program has neither, too.
      "programs.csv:4: admin_emails: is empty: no one gets the program's admin notices",
      "programs.csv:4: admin_channel: is empty: the program's summary is posted nowhere",
      "programs.csv:5: admin_emails: is empty: no one gets the program's admin notices",
      "programs.csv:5: admin_channel: is empty: the program's summary is posted nowhere",
    ]);
    expect(await count("programs")).toBe(4);
  });
});
