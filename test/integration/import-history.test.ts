import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runStatus } from "../../src/cli/status.js";
import { loadConfig } from "../../src/config.js";
import { lastImports, lastSuccessfulImportAt } from "../../src/db/import-repo.js";
import { importDirectory } from "../../src/import/import-service.js";
import { createLogger } from "../../src/logger.js";
import { ENGINES, freshDb, type TestDb } from "../helpers/db.js";
import { csvDir, SAMPLE } from "../helpers/files.js";

describe.each(ENGINES)("import history on %s", (engine) => {
  let t: TestDb;
  beforeEach(async () => {
    t = await freshDb(engine);
  });
  afterEach(async () => t.drop());

  it("records each import: when, from where, per-file counts, and the outcome", async () => {
    expect(await lastSuccessfulImportAt(t.db)).toBeNull();
    const t0 = Date.now();
    expect((await importDirectory(t.db, SAMPLE, { zone: "UTC" })).ok).toBe(true);
    const firstAt = await lastSuccessfulImportAt(t.db);
    expect(firstAt).toBeGreaterThanOrEqual(t0);

    // Refused: bad rows; nothing written, and the freshness stays that of the last good import.
    const bad = csvDir({ "meetings.csv": "meeting_id,match_id,scheduled_at,cancelled_at\nmt1,m404,soon,\n" });
    expect((await importDirectory(t.db, bad, { zone: "UTC", source: "slack:U123" })).ok).toBe(false);
    // Failed: could not run at all.
    const broken = csvDir();
    rmSync(join(broken, "meetings.csv"));
    mkdirSync(join(broken, "meetings.csv"));
    await expect(importDirectory(t.db, broken, { zone: "UTC", source: "folder" })).rejects.toThrow(/is a folder/);
    // A dry run is not an import.
    await importDirectory(t.db, SAMPLE, { zone: "UTC", dryRun: true });

    const [failed, refused, imported, ...older] = await lastImports(t.db, 5);
    expect(older).toEqual([]);
    expect(imported).toMatchObject({ source: "cli", outcome: "imported", problemCount: 0, problems: [] });
    expect(imported!.files).toContainEqual({
      file: "people.csv",
      rows: 21,
      added: 21,
      changed: 0,
      removed: 0,
      unchanged: 0,
    });
    expect(refused).toMatchObject({ source: "slack:U123", outcome: "refused", problemCount: 2 });
    expect(refused!.problems).toEqual([
      "meetings.csv:2: match_id: is not a match in matches.csv",
      "meetings.csv:2: scheduled_at: is not an ISO 8601 date or date-time",
    ]);
    expect(failed).toMatchObject({ source: "folder", outcome: "failed", problemCount: 1 });
    expect(failed!.problems[0]).toMatch(/meetings\.csv is a folder, not a CSV file/);
    expect(await lastSuccessfulImportAt(t.db)).toBe(firstAt);
  });

  it("status names the last import that went through when the newest ones were all refused", async () => {
    const status = async () => {
      let out = "";
      const io = { out: (s: string) => (out += s), err: (s: string) => (out += s), isTTY: false };
      const config = { ...loadConfig({}), REPORT_TIMEZONE: "UTC" };
      await runStatus({ config, db: t.db, log: createLogger("silent"), io }, { asOf: "2026-03-03" });
      return out;
    };
    const bad = csvDir({ "meetings.csv": "meeting_id,match_id,scheduled_at,cancelled_at\nmt1,m404,soon,\n" });
    await importDirectory(t.db, bad, { zone: "UTC", source: "slack:U123" });
    expect(await status()).toContain("No import has gone through yet: the reports have no data.");

    await importDirectory(t.db, SAMPLE, { zone: "UTC", now: () => Date.parse("2026-03-01T08:30:00Z") });
    // The good import is among the three listed: no extra line.
    expect(await status()).not.toContain("Last import that went through");
    for (let i = 0; i < 3; i++) await importDirectory(t.db, bad, { zone: "UTC", source: "slack:U123" });
    const out = await status();
    expect(out).not.toMatch(/imported {2}6 files/);
    expect(out).toContain("Last import that went through: 03-01-2026 08:30; the reports show its data.");
  });
});
