import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildRunSummaryText } from "../../src/cli/run-summary.js";
import { startScheduler } from "../../src/delivery/scheduler.js";
import { parseInstant } from "../../src/domain/dates.js";
import type { SlackEmulator } from "../../src/emulator/server.js";
import { importDirectory } from "../../src/import/import-service.js";
import { createLogger } from "../../src/logger.js";
import { ENGINES, freshDb, type TestDb } from "../helpers/db.js";
import { SAMPLE } from "../helpers/files.js";
import { deliveryFor, emulatorFor } from "../helpers/slack.js";

const log = createLogger("silent");
const base = {
  REPORT_SCHEDULE: "0 9 * * 1",
  REPORT_TIMEZONE: "UTC",
  REPORT_INTERVAL_WEEKS: 1,
  REPORT_ANCHOR_DATE: "2026-01-05",
  REPORT_LOCAL_TIME: "09:00",
};
const FIRST = "2026-03-02";

describe.each(ENGINES)("REPORT_INTERVAL_WEEKS=1, a period Slack cut short (%s) (issue 9 row 4, spec §14)", (engine) => {
  let t: TestDb;
  let emulator: SlackEmulator;
  let port = 0;
  beforeEach(async () => {
    t = await freshDb(engine);
    await importDirectory(t.db, SAMPLE, { zone: "UTC" });
    emulator = await emulatorFor(t.db);
    port = emulator.port;
  });
  afterEach(async () => {
    await emulator.stop();
    await t.drop();
  });
  const delivery = (mode: "fixed" | "local") =>
    deliveryFor(t.db, emulator, { REPORT_INTERVAL_WEEKS: 1, REPORT_DELIVERY: mode });
  const open = async (period: string) =>
    Number(
      (
        await t
          .db("deliveries")
          .where({ period_id: period })
          .whereIn("state", ["pending", "sending"])
          .count({ n: "*" })
          .first()
      )?.n,
    );

  it("is finished by a later try within the period, without waiting for the next weekly tick", async () => {
    const d = delivery("fixed");
    await emulator.stop();
    const s = startScheduler({
      config: { ...base, REPORT_DELIVERY: "fixed" },
      delivery: d,
      log,
      now: () => parseInstant("2026-03-02T09:00", "UTC")!,
      retryMs: 300,
    });
    const first = await s.ready;
    expect(first?.left).toBeGreaterThan(0);
    await emulator.start(port);
    const deadline = Date.now() + 10_000;
    while ((await open(FIRST)) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await s.stop();
    expect(await open(FIRST)).toBe(0);
    expect(await t.db("delivery_periods").where({ period_id: FIRST }).first()).toBeTruthy();
    expect(emulator.messages).toHaveLength(5);
  });

  it.each(["fixed", "local"] as const)(
    "once the next period starts, its open rows are closed as expired and reported (REPORT_DELIVERY=%s)",
    async (mode) => {
      let clock = parseInstant("2026-03-02T09:00", "UTC")!;
      const d = delivery(mode);
      await emulator.stop();
      const s = startScheduler({
        config: { ...base, REPORT_DELIVERY: mode, REPORT_SCHEDULE: "off" },
        delivery: d,
        log,
        now: () => clock,
        retryMs: 3_600_000,
      });
      expect((await s.tick())?.left).toBeGreaterThan(0);
      await emulator.start(port);
      clock = parseInstant("2026-03-09T09:00", "UTC")!;
      const next = await s.tick();
      await s.stop();
      expect(next?.period.id).toBe("2026-03-09");
      // Local time: the new period's DMs go at each manager's 09:00; some are still waiting.
      if (mode === "fixed") expect(next?.deliveredNow).toEqual({ dm: 3, channel: 2, notice: 0 });
      expect(next?.expired?.map((e) => e.periodId)).toEqual(Array(5).fill(FIRST));
      expect(await open(FIRST)).toBe(0);
      const states = await t.db("deliveries").where({ period_id: FIRST }).distinct("state", "error");
      expect(states).toEqual([{ state: "failed", error: "expired" }]);
      const text = buildRunSummaryText(next!, "UTC");
      expect(text).toContain("Closed as expired (their period ended before they could be delivered): 5");
      expect(text).toContain(`period ${FIRST}: DM to dana@acme.example`);
      // Nothing of the old period goes out late.
      expect(emulator.messages.every((m) => m.metadata?.event_payload.period === "2026-03-09")).toBe(true);
    },
  );
});
