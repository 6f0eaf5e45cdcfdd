import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { startScheduler } from "../../src/delivery/scheduler.js";
import { parseInstant } from "../../src/domain/dates.js";
import { createLogger } from "../../src/logger.js";
import { deliveryFor, sampleWorkspace } from "../helpers/slack.js";

const log = createLogger("silent");
// REPORT_DELIVERY=fixed: one moment for everyone, today's behaviour (local time has its own suite).
const config = loadConfig({ REPORT_SCHEDULE: "0 9 * * 1", REPORT_TIMEZONE: "UTC", REPORT_DELIVERY: "fixed" });

describe("the scheduler", () => {
  const w = sampleWorkspace("sqlite");

  it("catches up at start when the period's first tick passed while it was down", async () => {
    const now = () => parseInstant("2026-03-04T15:00", "UTC")!;
    // Catch-up is for a database that delivered before (§17): a fresh one's first period is `send`'s.
    await deliveryFor(w.t.db, w.emulator).deliverPeriod({ asOf: parseInstant("2026-02-16T09:00", "UTC")! });
    const s = startScheduler({ config, delivery: deliveryFor(w.t.db, w.emulator), log, now });
    const summary = await s.ready;
    await s.stop();
    expect(summary?.period.id).toBe("2026-03-02");
    expect(summary?.deliveredNow).toEqual({ dm: 3, channel: 2, notice: 0 });
  });

  it("does not catch up before the period's first tick", async () => {
    const now = () => parseInstant("2026-03-02T08:59", "UTC")!;
    const s = startScheduler({ config, delivery: deliveryFor(w.t.db, w.emulator), log, now });
    expect(await s.ready).toBeNull();
    await s.stop();
    expect(w.emulator.messages).toHaveLength(0);
  });

  it("a tick in a period already delivered does nothing, and the next period's tick delivers", async () => {
    let clock = parseInstant("2026-03-02T09:00", "UTC")!;
    const s = startScheduler({ config, delivery: deliveryFor(w.t.db, w.emulator), log, now: () => clock });
    await s.ready;
    expect(w.emulator.messages).toHaveLength(5);
    clock = parseInstant("2026-03-09T09:00", "UTC")!; // the period's second Monday
    expect((await s.tick())?.skipped).toBe("period-complete");
    expect(w.emulator.messages).toHaveLength(5);
    clock = parseInstant("2026-03-16T09:00", "UTC")!;
    expect((await s.tick())?.deliveredNow).toEqual({ dm: 3, channel: 2, notice: 0 });
    await s.stop();
  });

  it("never runs two deliveries at once in a process", async () => {
    const s = startScheduler({
      config: { ...config, REPORT_SCHEDULE: "off" },
      delivery: deliveryFor(w.t.db, w.emulator),
      log,
      now: () => parseInstant("2026-03-02T09:00", "UTC")!,
    });
    const [a, b] = [s.tick(), s.tick()];
    expect(a).toBe(b);
    await a;
    await s.stop();
    expect(w.emulator.messages).toHaveLength(5);
  });
});

describe("a shutdown in the middle of a run", () => {
  const w = sampleWorkspace("sqlite");

  it("lets go of the claimed rows at once, and the next start delivers the rest, each once", async () => {
    await deliveryFor(w.t.db, w.emulator).deliverPeriod({ asOf: parseInstant("2026-02-16T09:00", "UTC")! });
    w.emulator.setResponseDelay(150);
    const now = () => parseInstant("2026-03-04T15:00", "UTC")!;
    const s = startScheduler({
      config,
      delivery: deliveryFor(w.t.db, w.emulator, { DELIVERY_LEASE_SECONDS: 600 }),
      log,
      now,
    });
    await new Promise<void>((resolve) => w.emulator.once("message", () => resolve()));
    const started = Date.now();
    await s.stop();
    const summary = await s.ready;
    expect(Date.now() - started).toBeLessThan(2000);
    expect(summary?.interrupted).toBe(true);
    expect(summary?.left).toBeGreaterThan(0);
    // Nothing is held: with a 10-minute lease, a held row would block the next start.
    expect(await w.t.db("deliveries").whereNotNull("claim").count({ n: "*" }).first()).toEqual({ n: 0 });

    w.emulator.setResponseDelay(0);
    const again = startScheduler({
      config,
      delivery: deliveryFor(w.t.db, w.emulator, { DELIVERY_LEASE_SECONDS: 600 }),
      log,
      now,
    });
    const rest = await again.ready;
    await again.stop();
    expect(rest?.left).toBe(0);
    const per = new Map<string, number>();
    const thisPeriod = w.emulator.messages.filter((m) => m.metadata?.event_payload.period === "2026-03-02");
    for (const m of thisPeriod) per.set(m.user ?? m.channel, (per.get(m.user ?? m.channel) ?? 0) + 1);
    expect([...per.values()]).toEqual([1, 1, 1, 1, 1]);
  });
});
