import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { startScheduler } from "../../src/delivery/scheduler.js";
import { parseInstant } from "../../src/domain/dates.js";
import { createLogger } from "../../src/logger.js";
import { ENGINES } from "../helpers/db.js";
import { baseConfig, sampleWorkspace } from "../helpers/slack.js";

const DAY = 24 * 3600 * 1000;
const log = createLogger("silent");
const at = (s: string) => parseInstant(s, "UTC")!;
const until = async (done: () => boolean, ms = 10_000) => {
  const deadline = Date.now() + ms;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
};

// Issue 15 row 5: a scheduled run that throws is retried like one that left rows, and the admins'
// warnings never hold back the managers' reports.
describe.each(ENGINES)("a scheduled run while Slack is briefly away (%s)", (engine) => {
  const w = sampleWorkspace(engine);
  const appAt = (clock: () => number) =>
    createApp(
      {
        config: {
          ...loadConfig({}),
          ...baseConfig,
          REPORT_DELIVERY: "fixed" as const,
          SLACK_BOT_TOKEN: w.emulator.token,
          SLACK_API_URL: w.emulator.url,
        },
        db: w.t.db,
        log,
      },
      { now: clock, retryBaseMs: 10 },
    );
  const config = { ...loadConfig({}), ...baseConfig, REPORT_SCHEDULE: "0 9 * * 1", REPORT_DELIVERY: "fixed" as const };
  const ofPeriod = (id: string) => w.emulator.messages.filter((m) => m.metadata?.event_payload.period === id);
  const warnings = () => w.emulator.messages.filter((m) => m.text.includes("last imported on"));

  it("old data and the admins' lookup failing: the DMs and summaries go at once, the warning once Slack is back", async () => {
    let clock = at("2026-03-04T14:00");
    const app = appAt(() => clock);
    // A period delivered before, so that the start catches up (§17); the managers are known from it.
    await app.delivery.deliverPeriod({ asOf: at("2026-02-16T09:00") });
    clock = at("2026-03-04T15:00");
    await w.t.db("imports").update({ finished_at: clock - 20 * DAY });
    // Slack's directory answers nothing but 429s and 503s: the admins, unknown so far, cannot be found.
    w.emulator.setFaults({ probability: 1, methods: ["users.lookupByEmail", "users.list"] });
    const s = startScheduler({ config, delivery: app.delivery, log, now: () => clock, retryMs: 300 });
    const first = await s.ready;
    expect(ofPeriod("2026-03-02").filter((m) => m.user)).toHaveLength(3);
    expect(ofPeriod("2026-03-02").filter((m) => !m.user)).toHaveLength(2);
    expect(warnings()).toHaveLength(0);
    expect(first?.left).toBe(2);

    w.emulator.setFaults(undefined);
    await until(() => warnings().length === 2);
    await until(() => false, 300);
    await s.stop();
    expect(warnings()).toHaveLength(2);
    expect(await w.t.db("delivery_periods").where({ period_id: "2026-03-02" }).first()).toBeTruthy();
    // 3 DMs, 2 summaries and 2 warnings, each once.
    expect(ofPeriod("2026-03-02")).toHaveLength(7);
  }, 30_000);

  it("a run that throws is tried again within the period, not left for the next tick", async () => {
    const clock = at("2026-03-04T15:00");
    const app = appAt(() => clock);
    await app.delivery.deliverPeriod({ asOf: at("2026-02-16T09:00") });
    // The database (or anything else) fails the first run outright.
    let failures = 1;
    const delivery = {
      ...app.delivery,
      deliverPeriod: (opts: Parameters<typeof app.delivery.deliverPeriod>[0]) =>
        failures-- > 0 ? Promise.reject(new Error("connection reset")) : app.delivery.deliverPeriod(opts),
    };
    const s = startScheduler({ config, delivery, log, now: () => clock, retryMs: 300 });
    expect(await s.ready).toBeNull();
    await until(() => ofPeriod("2026-03-02").length === 5);
    await s.stop();
    expect(ofPeriod("2026-03-02")).toHaveLength(5);
  }, 30_000);
});
