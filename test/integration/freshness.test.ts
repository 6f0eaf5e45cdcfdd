import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { formatDate } from "../../src/domain/dates.js";
import { createLogger } from "../../src/logger.js";
import { buildManagerBlocks, buildProgramBlocks } from "../../src/render/blocks.js";
import { buildManagerJson, buildProgramJson } from "../../src/render/json.js";
import { buildManagerText, buildProgramText } from "../../src/render/text.js";
import { ENGINES } from "../helpers/db.js";
import { baseConfig, sampleWorkspace } from "../helpers/slack.js";

const DAY = 24 * 3600 * 1000;
const DANA = "dana@acme.example";
const ADMINS = ["grace@acme.example", "olivia@acme.example"];

describe.each(ENGINES)("data freshness (%s)", (engine) => {
  const w = sampleWorkspace(engine);
  const appAt = (clock: () => number, over: Record<string, unknown> = {}) =>
    createApp(
      {
        config: {
          ...loadConfig({}),
          ...baseConfig,
          REPORT_DELIVERY: "fixed" as const,
          SLACK_BOT_TOKEN: w.emulator.token,
          SLACK_API_URL: w.emulator.url,
          ...over,
        },
        db: w.t.db,
        log: createLogger("silent"),
      },
      { now: clock, retryBaseMs: 10 },
    );
  const stamp = () => `data as of ${formatDate(Date.now(), "UTC")}`;

  it("every report shows the day of the last successful import", async () => {
    const now = Date.now();
    const app = appAt(() => now);
    const report = await app.reports.managerReport(DANA, now);
    const summary = await app.reports.programSummary("eng", now);
    const o = { zone: "UTC", period: null };
    // preview: text, json, blocks
    expect(buildManagerText(report, "UTC")).toContain(stamp());
    expect(buildProgramText(summary, "UTC")).toContain(stamp());
    expect(buildManagerJson(report, "UTC").dataAsOf).toBe(formatDate(now, "UTC"));
    expect(buildProgramJson(summary, "UTC").dataAsOf).toBe(formatDate(now, "UTC"));
    expect(JSON.stringify(buildManagerBlocks(report, o).blocks)).toContain(stamp());
    expect(JSON.stringify(buildProgramBlocks(summary, o).blocks)).toContain(stamp());
    // slash answer and Home tab
    const dana = w.emulator.userIdOf(DANA)!;
    expect(JSON.stringify((await app.surfaces.command(dana, "")).message.blocks)).toContain(stamp());
    const grace = w.emulator.userIdOf("grace@acme.example")!;
    expect(JSON.stringify((await app.surfaces.command(grace, "summary eng")).message.blocks)).toContain(stamp());
    expect(JSON.stringify((await app.surfaces.homeView(grace)).blocks)).toContain(stamp());
    // the DM and the channel summary
    await app.delivery.deliverPeriod({ asOf: now });
    const dm = w.emulator.messages.find((m) => m.user === dana)!;
    expect(JSON.stringify(dm.blocks)).toContain(stamp());
    const channel = w.emulator.messages.find((m) => m.channel === "C0000ENG1")!;
    expect(JSON.stringify(channel.blocks)).toContain(stamp());
  });

  it("says so when no import is on record", async () => {
    await w.t.db("imports").del();
    const app = appAt(Date.now);
    const report = await app.reports.managerReport(DANA, Date.now());
    expect(buildManagerText(report, "UTC")).toContain("data as of: no import on record");
    expect(buildManagerJson(report, "UTC").dataAsOf).toBeNull();
  });

  it("old data: the admins are told before the reports go out, once a period", async () => {
    let clock = Date.now() + 20 * DAY;
    const app = appAt(() => clock);
    const first = await app.delivery.deliverPeriod({ asOf: clock });
    expect(first.deliveredNow.stale).toBe(2);
    const admins = ADMINS.map((e) => w.emulator.userIdOf(e));
    const warnings = () => w.emulator.messages.filter((m) => m.text.includes("last imported on"));
    expect(
      warnings()
        .map((m) => m.user)
        .sort(),
    ).toEqual(admins.sort());
    expect(warnings()[0]!.text).toContain(`last imported on ${formatDate(Date.now(), "UTC")}, 20 days ago`);
    // Before the reports: the warnings are the first messages of the run.
    expect(w.emulator.messages.slice(0, 2).every((m) => m.text.includes("last imported on"))).toBe(true);

    // A rerun, and another instance, in the same period: no second warning.
    await app.delivery.deliverPeriod({ asOf: clock });
    await appAt(() => clock).delivery.deliverPeriod({ asOf: clock });
    expect(warnings()).toHaveLength(2);

    // The next period, the data still old: told again, once.
    clock += 14 * DAY;
    await app.delivery.deliverPeriod({ asOf: clock });
    await app.delivery.deliverPeriod({ asOf: clock });
    expect(warnings()).toHaveLength(4);
  });

  it("local-time waves: the admins are told before the first wave delivers, once a period", async () => {
    const probe = appAt(Date.now, { REPORT_DELIVERY: "local" });
    // Three days into a period a month ahead: every wave of its first day has come.
    const clock = probe.delivery.periodOf(Date.now() + 30 * DAY).start + 3 * DAY;
    const app = appAt(() => clock, { REPORT_DELIVERY: "local" });
    const warnings = () => w.emulator.messages.filter((m) => m.text.includes("last imported on"));
    await app.delivery.deliverDue({ asOf: clock });
    expect(warnings()).toHaveLength(2);
    expect(w.emulator.messages.length).toBeGreaterThan(2);
    expect(w.emulator.messages.slice(0, 2).every((m) => m.text.includes("last imported on"))).toBe(true);
    await app.delivery.deliverDue({ asOf: clock + 60_000 });
    expect(warnings()).toHaveLength(2);
  });

  it("fresh data, or a longer DATA_MAX_AGE_DAYS: no warning", async () => {
    const clock = Date.now() + 20 * DAY;
    await appAt(Date.now).delivery.deliverPeriod({ asOf: Date.now() });
    await appAt(() => clock, { DATA_MAX_AGE_DAYS: 30 }).delivery.deliverPeriod({ asOf: clock });
    expect(w.emulator.messages.filter((m) => m.text.includes("last imported on"))).toHaveLength(0);
  });
});
