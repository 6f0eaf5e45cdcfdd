import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildRunSummaryText } from "../../src/cli/run-summary.js";
import { parseInstant } from "../../src/domain/dates.js";
import type { SlackEmulator } from "../../src/emulator/server.js";
import { importDirectory } from "../../src/import/import-service.js";
import { createLogger } from "../../src/logger.js";
import { readWithRetry, SlackCallError } from "../../src/slack/retry.js";
import { freshDb, type TestDb } from "../helpers/db.js";
import { SAMPLE } from "../helpers/files.js";
import { deliveryFor, emulatorFor, slackFor } from "../helpers/slack.js";

const ASOF = parseInstant("2026-03-02T09:00", "UTC")!;

describe("429s, waited out and bounded (issue 15 row 23 and the Retry-After promise)", () => {
  let t: TestDb;
  let emulator: SlackEmulator | null = null;
  beforeEach(async () => {
    t = await freshDb("sqlite");
    expect((await importDirectory(t.db, SAMPLE, { zone: "UTC" })).ok).toBe(true);
  });
  afterEach(async () => {
    await emulator?.stop();
    emulator = null;
    await t.drop();
  });

  it("Retry-After: 3 is waited out: no post reaches Slack before 3 s have passed, measured", async () => {
    // 20 posts a minute with a burst of one: each 429 says Retry-After: 3, far longer than the pacing gap.
    emulator = await emulatorFor(t.db, { methodLimits: { "chat.postMessage": 20 }, perChannelLimit: false });
    // A post every 100 ms: none is still on its way when a 429 comes back.
    const s = await deliveryFor(t.db, emulator, { DELIVERY_RATE_PER_MINUTE: 600 }).deliverPeriod({ asOf: ASOF });
    expect(s.deliveredNow).toEqual({ dm: 3, channel: 2, notice: 0 });
    const posts = emulator.callsOf("chat.postMessage");
    const limited = posts.filter((c) => c.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    for (const l of limited) {
      const next = posts.find((c) => c.at > l.at);
      expect(next, "a post after the 429").toBeDefined();
      // Timers may fire a few ms early against Date.now(); a pacer that ignored Retry-After is 3 s short.
      expect(next!.at - l.at).toBeGreaterThanOrEqual(2980);
    }
  }, 60_000);

  it("a Retry-After past the run's bound stops the run at once; the summary says what is left", async () => {
    // 0.1 posts a minute: the second post is told to wait 600 s.
    emulator = await emulatorFor(t.db, { methodLimits: { "chat.postMessage": 0.1 }, perChannelLimit: false });
    const started = Date.now();
    const s = await deliveryFor(t.db, emulator).deliverPeriod({ asOf: ASOF });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(s.rateLimited).toBe(600_000);
    expect(s.left).toBe(4);
    expect(buildRunSummaryText(s, "UTC")).toContain(
      "Stopped: Slack asked to wait 600 s (rate limited), longer than a run waits. 4 left;",
    );
    expect(emulator.messages).toHaveLength(1);
    // The next run, once Slack lets us, finishes the other four.
    await emulator.stop();
    emulator = await emulatorFor(t.db, { perChannelLimit: false });
    const next = await deliveryFor(t.db, emulator).deliverPeriod({ asOf: ASOF });
    expect(next.left).toBe(0);
    expect(emulator.messages).toHaveLength(4);
  }, 30_000);

  it("a read told to wait longer than its bound gives up instead of waiting", async () => {
    emulator = await emulatorFor(t.db, { methodLimits: { "users.list": 0.1 } });
    const slack = slackFor(emulator);
    const read = () => readWithRetry("users.list", () => slack.users.list({}), createLogger("silent"));
    await read();
    const started = Date.now();
    const err = await read().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SlackCallError);
    expect((err as SlackCallError).outcome).toEqual({ kind: "ratelimited", retryAfterMs: 600_000 });
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
