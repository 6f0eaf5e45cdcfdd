import { spawn } from "node:child_process";
import { once } from "node:events";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseInstant } from "../../src/domain/dates.js";
import type { SlackEmulator } from "../../src/emulator/server.js";
import { importDirectory } from "../../src/import/import-service.js";
import { freshDb, type TestDb } from "../helpers/db.js";
import { SAMPLE } from "../helpers/files.js";
import { deliveryFor, emulatorFor } from "../helpers/slack.js";

describe("SQLite locked by another process", () => {
  let t: TestDb;
  let emulator: SlackEmulator;
  beforeEach(async () => {
    t = await freshDb("sqlite");
    await importDirectory(t.db, SAMPLE, { zone: "UTC" });
    emulator = await emulatorFor(t.db);
  });
  afterEach(async () => {
    await emulator.stop();
    await t.drop();
  });

  it("waits for the lock (busy timeout) and delivers once it is free", async () => {
    // Another process holds the write lock for 1.5 s (in this process the driver's wait would block the holder too).
    const holder = spawn(process.execPath, ["-e", `
      const db = require("better-sqlite3")(process.argv[1]);
      db.exec("BEGIN IMMEDIATE");
      console.log("locked");
      setTimeout(() => { db.exec("COMMIT"); db.close(); }, 1500);
    `, t.url], { cwd: new URL("../../", import.meta.url).pathname });
    const exited = once(holder, "exit");
    await once(holder.stdout!, "data");
    const started = Date.now();
    const s = await deliveryFor(t.db, emulator).deliverPeriod({ asOf: parseInstant("2026-03-02T09:00", "UTC")! });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    expect(s.deliveredNow).toEqual({ dm: 3, channel: 2 });
    await exited;
  });
});
