import { spawn } from "node:child_process";
import { once } from "node:events";
import { describe, expect, it } from "vitest";
import { parseInstant } from "../../src/domain/dates.js";
import { deliveryFor, sampleWorkspace } from "../helpers/slack.js";

describe("SQLite locked by another process", () => {
  const w = sampleWorkspace("sqlite");

  it("waits for the lock (busy timeout) and delivers once it is free", async () => {
    // Another process holds the write lock for 1.5 s (in this process the driver's wait would block the holder too).
    const holder = spawn(
      process.execPath,
      [
        "-e",
        `
      const db = require("better-sqlite3")(process.argv[1]);
      db.exec("BEGIN IMMEDIATE");
      console.log("locked");
      setTimeout(() => { db.exec("COMMIT"); db.close(); }, 1500);
    `,
        w.t.url,
      ],
      { cwd: new URL("../../", import.meta.url).pathname },
    );
    const exited = once(holder, "exit");
    await once(holder.stdout!, "data");
    const started = Date.now();
    const s = await deliveryFor(w.t.db, w.emulator).deliverPeriod({ asOf: parseInstant("2026-03-02T09:00", "UTC")! });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    expect(s.deliveredNow).toEqual({ dm: 3, channel: 2, notice: 0 });
    await exited;
  });
});
