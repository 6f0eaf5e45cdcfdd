import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ImportWriteError } from "../../src/db/import-repo.js";
import { ImportError, importDirectory } from "../../src/import/import-service.js";
import { ENGINES, freshDb, type TestDb } from "../helpers/db.js";
import { csvDir, dump, SAMPLE } from "../helpers/files.js";

const sample = (f: string) => readFileSync(join(SAMPLE, f), "utf8");
const problemsOf = (r: { problems: Array<{ file: string; line: number; column: string; problem: string }> }) =>
  r.problems.map((p) => `${p.file}:${p.line}: ${p.column}: ${p.problem}`);

describe.each(ENGINES)("import of hostile files on %s", (engine) => {
  let t: TestDb;
  let before: Record<string, unknown[]>;
  beforeEach(async () => {
    t = await freshDb(engine);
    expect((await importDirectory(t.db, SAMPLE, { zone: "UTC" })).ok).toBe(true);
    before = await dump(t.db);
  });
  afterEach(async () => t.drop());
  const run = (dir: string) => importDirectory(t.db, dir, { zone: "UTC" });
  const refused = async (dir: string) => {
    const r = await run(dir);
    expect(r.ok).toBe(false);
    expect(await dump(t.db)).toEqual(before);
    return problemsOf(r);
  };

  it("refuses Latin-1 bytes naming file, line and column instead of storing U+FFFD", async () => {
    const dir = csvDir();
    writeFileSync(
      join(dir, "people.csv"),
      Buffer.concat([
        Buffer.from(sample("people.csv")),
        Buffer.from("jose@acme.example,Jos"),
        Buffer.from([0xe9]),
        Buffer.from(" Alvarez,Eng,olivia@acme.example,\n"),
      ]),
    );
    expect(await refused(dir)).toEqual(["people.csv:23: name: is not valid UTF-8 text (save the file as UTF-8)"]);
  });

  it("refuses a header that names a column twice", async () => {
    const dir = csvDir({
      "meetings.csv": "meeting_id,match_id,scheduled_at,match_id,cancelled_at\nmt1,m1,2026-02-01,m2,\n",
    });
    expect(await refused(dir)).toEqual(["meetings.csv:1: match_id: appears twice in the header"]);
  });

  it("refuses a row shorter or longer than the header", async () => {
    const dir = csvDir({
      "people.csv": `${sample("people.csv")}short@acme.example,Short,Eng\nlong@acme.example,Long,Eng,,UTC,extra\n`,
    });
    expect(await refused(dir)).toEqual([
      "people.csv:23: -: row has 3 fields, the header has 5",
      "people.csv:24: -: row has 6 fields, the header has 5",
    ]);
  });

  it("refuses an empty file: it has not even a header", async () => {
    expect(await refused(csvDir({ "meetings.csv": "" }))).toEqual([
      "meetings.csv:1: -: the file is empty: it needs at least the header row",
    ]);
  });

  it("names a dangling symbolic link instead of skipping the file", async () => {
    const dir = csvDir();
    const { rmSync } = await import("node:fs");
    rmSync(join(dir, "meetings.csv"));
    symlinkSync(join(dir, "gone.csv"), join(dir, "meetings.csv"));
    await expect(run(dir)).rejects.toThrow(ImportError);
    await expect(run(dir)).rejects.toThrow(/meetings\.csv is a symbolic link to a file that does not exist/);
    expect(await dump(t.db)).toEqual(before);
  });

  it("names a folder called meetings.csv instead of failing with EISDIR", async () => {
    const dir = csvDir();
    const { rmSync } = await import("node:fs");
    rmSync(join(dir, "meetings.csv"));
    mkdirSync(join(dir, "meetings.csv"));
    await expect(run(dir)).rejects.toThrow(/meetings\.csv is a folder, not a CSV file/);
    expect(await dump(t.db)).toEqual(before);
  });

  it("refuses NUL, ESC, BEL and bidirectional overrides in text fields like any bad row, and keeps a line break inside quotes", async () => {
    const dir = csvDir({
      "people.csv": `${sample("people.csv")}nul@acme.example,Nul\u0000Byte,Eng,olivia@acme.example,\nesc@acme.example,Esc,\u001b[31mEng,olivia@acme.example,\n"bel@acme.example",Bel\u0007,Eng,olivia@acme.example,\nrlo@acme.example,Ken\u202eThompson,Eng,olivia@acme.example,\n`,
    });
    expect(await refused(dir)).toEqual([
      "people.csv:23: name: holds a control character (U+0000)",
      "people.csv:24: organization: holds a control character (U+001B)",
      "people.csv:25: name: holds a control character (U+0007)",
      "people.csv:26: name: holds a bidirectional override (U+202E)",
    ]);
    const ok = csvDir({
      "people.csv": `${sample("people.csv")}two@acme.example,"Two\r\nLines",Eng,olivia@acme.example,\n`,
    });
    expect((await run(ok)).problems).toEqual([]);
    expect(await t.db("people").where("email", "two@acme.example").first()).toMatchObject({ name: "Two\r\nLines" });
  });

  it("never quotes a cell in a problem: says which column and what is wrong", async () => {
    const secret = "secret.mentee@acme.example";
    const name = "Secret Mentee";
    const dir = csvDir({
      "programs.csv": `${sample("programs.csv")}x,${name},${secret},${name},yes,no,${name},${secret}x\n`,
      "people.csv": `${sample("people.csv")}${secret},${name},Eng,${secret}\u0007,${name}\n${name},${name},Eng,,\n`,
      "enrollments.csv": `${sample("enrollments.csv")}${secret},${secret},${name},${name},${secret}\neng,${name},mentee,2026-01-01,\n`,
      "matches.csv": `${sample("matches.csv")}m9,${secret},ada@acme.example,${secret},${name},\nm10,eng,ada@acme.example,a${name}"b,2026-01-01,\n`,
      "meetings.csv": `${sample("meetings.csv")}mt99,${secret},${name},${secret}\n`,
    });
    const problems = await refused(dir);
    expect(problems.length).toBeGreaterThan(12);
    for (const p of problems) {
      expect(p.toLowerCase()).not.toContain("secret");
      expect(p).toMatch(/^[a-z_]+\.csv:\d+: [a-z_+-]+: /);
    }
  });

  it("refuses a text longer than its column holds on both engines, by line and column", async () => {
    const dir = csvDir({
      "people.csv": `${sample("people.csv")}long@acme.example,${"N".repeat(256)},${"O".repeat(255)},olivia@acme.example,\n`,
    });
    expect(await refused(dir)).toEqual(["people.csv:23: name: is longer than 255 characters"]);
  });

  it("refuses a people.csv time zone that is not an IANA zone, and keeps one that is", async () => {
    const dir = csvDir({
      "people.csv": `${sample("people.csv")}mars@acme.example,Mars,Eng,olivia@acme.example,Mars/Olympus\nist@acme.example,Ist,Eng,olivia@acme.example,+05:30\n`,
    });
    expect(await refused(dir)).toEqual([
      "people.csv:23: timezone: is not an IANA time zone (such as Europe/Berlin)",
      "people.csv:24: timezone: is not an IANA time zone (such as Europe/Berlin)",
    ]);
    const ok = csvDir({
      "people.csv": `${sample("people.csv")}ist@acme.example,Ist,Eng,olivia@acme.example,Asia/Kolkata\n`,
    });
    expect((await run(ok)).problems).toEqual([]);
    expect(await t.db("people").where("email", "ist@acme.example").first()).toMatchObject({ timezone: "Asia/Kolkata" });
  });
});

describe.each(ENGINES)("import when the database refuses the write on %s", (engine) => {
  let t: TestDb;
  beforeEach(async () => {
    t = await freshDb(engine);
    expect((await importDirectory(t.db, SAMPLE, { zone: "UTC" })).ok).toBe(true);
  });
  afterEach(async () => t.drop());

  it("reports the database's own reason, not a failed rollback, and writes nothing", async () => {
    const before = await dump(t.db);
    let reason: RegExp;
    if (engine === "sqlite") {
      // A full disk, for real: the file may not grow past the pages it has now.
      const [{ page_count }] = await t.db.raw("pragma page_count");
      await t.db.raw(`pragma max_page_count = ${page_count}`);
      reason = /SQLITE_FULL: database or disk is full/;
    } else {
      await t.db.raw(
        "create function refuse() returns trigger language plpgsql as $$ begin raise exception 'could not extend file: No space left on device'; end $$",
      );
      await t.db.raw("create trigger full_disk before insert on meetings for each row execute function refuse()");
      reason = /No space left on device/;
    }
    const extra = Array.from({ length: 3000 }, (_, i) => `mx${i},m1,2026-02-01T15:00:00Z,`).join("\n");
    const dir = csvDir({ "meetings.csv": `${sample("meetings.csv")}${extra}\n` });
    const err = await importDirectory(t.db, dir, { zone: "UTC" }).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(ImportWriteError);
    expect(err?.message).toMatch(reason);
    expect(err?.message).not.toMatch(/rollback|no transaction/i);
    expect(err?.message).toContain("nothing was written");
    expect(await dump(t.db)).toEqual(before);
  });
});

describe.each(ENGINES)("an import stopped halfway through a file on %s", (engine) => {
  let t: TestDb;
  beforeEach(async () => {
    t = await freshDb(engine);
    expect((await importDirectory(t.db, SAMPLE, { zone: "UTC" })).ok).toBe(true);
  });
  afterEach(async () => t.drop());

  it("rolls back at once, leaves the data and the connection as they were", async () => {
    const before = await dump(t.db);
    const extra = Array.from({ length: 12_000 }, (_, i) => `mx${i},m1,2026-02-01T15:00:00Z,`).join("\n");
    const dir = csvDir({ "meetings.csv": `${sample("meetings.csv")}${extra}\n` });
    // The progress callback (a terminal that went away) fails while meetings.csv is being staged.
    const onProgress = (p: { file: string; rows: number }) => {
      if (p.file === "meetings.csv" && p.rows > 0 && p.rows < 12_000) throw new Error("terminal closed");
    };
    await expect(importDirectory(t.db, dir, { zone: "UTC", onProgress })).rejects.toThrow("terminal closed");
    expect(await dump(t.db)).toEqual(before);
    expect((await importDirectory(t.db, SAMPLE, { zone: "UTC" })).ok).toBe(true);
  }, 20_000);
});
