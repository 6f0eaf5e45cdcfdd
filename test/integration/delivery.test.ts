import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseInstant } from "../../src/domain/dates.js";
import type { SlackEmulator } from "../../src/emulator/server.js";
import { importDirectory } from "../../src/import/import-service.js";
import { createLogger } from "../../src/logger.js";
import { createDirectory } from "../../src/slack/directory.js";
import { ENGINES, freshDb, type TestDb } from "../helpers/db.js";
import { SAMPLE } from "../helpers/files.js";
import { deliveryFor, emulatorFor, everythingSent, slackFor } from "../helpers/slack.js";

const ASOF = parseInstant("2026-03-02T09:00", "UTC")!;
const DANA = "dana@acme.example";

/** Who got what: DMs by user id and channel posts by channel id, with counts. */
function received(e: SlackEmulator): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of e.messages) {
    const key = m.user ? `dm:${m.user}` : `channel:${m.channel}`;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

describe.each(ENGINES)("delivery on %s", (engine) => {
  let t: TestDb;
  let emulator: SlackEmulator | null = null;
  beforeEach(async () => {
    t = await freshDb(engine);
    expect((await importDirectory(t.db, SAMPLE, { zone: "UTC" })).ok).toBe(true);
  });
  afterEach(async () => {
    await emulator?.stop();
    emulator = null;
    await t.drop();
  });
  const userId = async (email: string) => {
    const r = await t.db("slack_users").where({ email }).first();
    if (!r) throw new Error(`${email} is not in the directory`);
    return r.user_id as string;
  };

  it("delivers each manager's DM and each program's channel summary exactly once, with no mentee identity", async () => {
    emulator = await emulatorFor(t.db);
    const s = await deliveryFor(t.db, emulator).deliverPeriod({ asOf: ASOF });
    expect(s.deliveredNow).toEqual({ dm: 3, channel: 2, notice: 0 });
    expect(s.left).toBe(0);
    const got = received(emulator);
    expect(Object.values(got)).toEqual([1, 1, 1, 1, 1]);
    expect(got[`dm:${await userId(DANA)}`]).toBe(1);
    expect(got["channel:C0000ENG1"]).toBe(1);
    const dana = await userId(DANA);
    const danaDm = emulator.messages.find((m) => m.user === dana)!;
    expect(danaDm.text).toMatch(/^Mentorship report \(03-02-2026 – 03-15-2026\): 8 mentor connections/);
    expect(danaDm.metadata?.event_type).toBe("mentorship_report");
    const sent = everythingSent(emulator);
    for (const m of [
      "mia@",
      "eve@",
      "liam@",
      "noah@",
      "zoe@",
      "Mentee-",
      "Secret",
      "Hidden",
      "Private",
      "Quiet",
      "Unseen",
    ])
      expect(sent).not.toContain(m);
  });

  it("channel summaries carry a status chart, and a workspace that refuses it gets them without it", async () => {
    emulator = await emulatorFor(t.db, { newBlocks: false });
    const s = await deliveryFor(t.db, emulator).deliverPeriod({ asOf: ASOF });
    expect(s.deliveredNow).toEqual({ dm: 3, channel: 2, notice: 0 });
    // A refusal teaches the run (and later runs of the period) to send the simpler forms: two when the
    // probe is a DM, first refused as a data_table, then as a table (§18 order).
    const refused = emulator.callsOf("chat.postMessage").filter((c) => c.error === "invalid_blocks");
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(refused.length).toBeLessThanOrEqual(2);
    const posts = emulator.messages.filter((m) => !m.user);
    expect(posts).toHaveLength(2);
    for (const p of posts) {
      expect(JSON.stringify(p.blocks)).not.toContain("data_visualization");
      expect(JSON.stringify(p.blocks)).toContain("Program summary");
    }
    const withCharts = await emulatorFor(t.db);
    try {
      await deliveryFor(t.db, withCharts).deliverPeriod({ asOf: ASOF + 14 * 86_400_000 });
      expect(
        withCharts.messages
          .filter((m) => !m.user)
          .every((m) => JSON.stringify(m.blocks).includes('"type":"data_visualization"')),
      ).toBe(true);
    } finally {
      await withCharts.stop();
    }
  });

  it("a second run in the same period sends nothing; the next period sends again", async () => {
    emulator = await emulatorFor(t.db);
    const delivery = deliveryFor(t.db, emulator);
    await delivery.deliverPeriod({ asOf: ASOF });
    const posts = emulator.callsOf("chat.postMessage").length;
    const again = await delivery.deliverPeriod({ asOf: ASOF + 3 * 86_400_000 });
    expect(again.deliveredNow).toEqual({ dm: 0, channel: 0, notice: 0 });
    expect(again.alreadyDelivered).toEqual({ dm: 3, channel: 2, notice: 0 });
    expect(emulator.callsOf("chat.postMessage")).toHaveLength(posts);
    const next = await delivery.deliverPeriod({ asOf: ASOF + 14 * 86_400_000 });
    expect(next.period.id).toBe("2026-03-16");
    expect(next.deliveredNow).toEqual({ dm: 3, channel: 2, notice: 0 });
  });

  it("waits out 429s (Retry-After) and delivers every report once", async () => {
    emulator = await emulatorFor(t.db, { methodLimits: { "chat.postMessage": 120 } });
    const started = Date.now();
    const s = await deliveryFor(t.db, emulator).deliverPeriod({ asOf: ASOF });
    expect(emulator.callsOf("chat.postMessage").filter((c) => c.status === 429).length).toBeGreaterThan(0);
    expect(s.deliveredNow).toEqual({ dm: 3, channel: 2, notice: 0 });
    expect(Object.values(received(emulator)).every((n) => n === 1)).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it("records permanent failures per recipient and goes on with the others", async () => {
    emulator = await emulatorFor(t.db, {
      absent: [DANA],
      deactivated: ["marcus@acme.example"],
      channels: [
        { id: "C0000ENG1", name: "mentorship-eng", botCanPost: false },
        { id: "C0000LEAD", name: "leadership-circle" },
      ],
    });
    const s = await deliveryFor(t.db, emulator).deliverPeriod({ asOf: ASOF });
    expect(s.tally!.failed).toEqual([
      { kind: "channel", recipient: "eng", error: "not_in_channel" },
      { kind: "dm", recipient: DANA, error: "not_in_slack" },
      // users.lookupByEmail answers users_not_found for a deactivated user too.
      { kind: "dm", recipient: "marcus@acme.example", error: "not_in_slack" },
    ]);
    // Grace, eng's admin, is told that its channel post failed.
    expect(s.deliveredNow).toEqual({ dm: 1, channel: 1, notice: 1 });
    expect(s.left).toBe(0);
    // A failure is final for the period: the next run does not try again.
    const posts = emulator.callsOf("chat.postMessage").length;
    await deliveryFor(t.db, emulator).deliverPeriod({ asOf: ASOF });
    expect(emulator.callsOf("chat.postMessage")).toHaveLength(posts);
  });

  it("with 30% of calls answered 429 or 5xx (some after posting), still delivers each report exactly once", async () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const fresh = await freshDb(engine);
      await importDirectory(fresh.db, SAMPLE, { zone: "UTC" });
      const e = await emulatorFor(fresh.db, { faults: { probability: 0.3, seed } });
      try {
        let s = await deliveryFor(fresh.db, e).deliverPeriod({ asOf: ASOF });
        // Should a row have been retried out, the next run finishes it.
        for (let i = 0; s.left && i < 5; i++) s = await deliveryFor(fresh.db, e).deliverPeriod({ asOf: ASOF });
        expect(s.left).toBe(0);
        expect(Object.values(received(e)), `seed ${seed}`).toEqual([1, 1, 1, 1, 1]);
      } finally {
        await e.stop();
        await fresh.drop();
      }
    }
  });

  it("a refused token stops the run without marking anyone failed; a fixed token finishes it", async () => {
    emulator = await emulatorFor(t.db);
    const wrong = await deliveryFor(t.db, emulator, { token: "xoxb-revoked" }).deliverPeriod({ asOf: ASOF });
    expect(wrong.fatal).toBe("invalid_auth");
    expect(wrong.left).toBe(5);
    expect(emulator.messages).toHaveLength(0);
    expect(await t.db("deliveries").where("state", "failed").count({ n: "*" }).first()).toEqual({ n: 0 });
    const fixed = await deliveryFor(t.db, emulator).deliverPeriod({ asOf: ASOF });
    expect(fixed.deliveredNow).toEqual({ dm: 3, channel: 2, notice: 0 });
  });

  it("Slack out of reach: the run ends with a clear summary and a rerun finishes the job", async () => {
    emulator = await emulatorFor(t.db);
    const delivery = deliveryFor(t.db, emulator);
    // Fill the directory first, then take Slack away.
    await createDirectory({ db: t.db, slack: slackFor(emulator), log: createLogger("silent") }).resolve([
      DANA,
      "marcus@acme.example",
      "sam@acme.example",
    ]);
    const url = emulator.url;
    await emulator.stop();
    const down = await delivery.deliverPeriod({ asOf: ASOF });
    expect(down.unreachable).toBe(true);
    expect(down.left).toBe(5);
    expect(down.deliveredNow).toEqual({ dm: 0, channel: 0, notice: 0 });
    await emulator.start(Number(new URL(url).port));
    const up = await delivery.deliverPeriod({ asOf: ASOF });
    expect(up.left).toBe(0);
    expect(Object.values(received(emulator))).toEqual([1, 1, 1, 1, 1]);
  });
});

describe.each(ENGINES)("a channel the app cannot post to (%s)", (engine) => {
  it("is reported to the program's admins once, by DM, and not retried", async () => {
    const t = await freshDb(engine);
    await importDirectory(t.db, SAMPLE, { zone: "UTC" });
    const emulator = await emulatorFor(t.db, {
      channels: [
        { id: "C0000ENG1", name: "mentorship-eng", botCanPost: false },
        { id: "C0000LEAD", name: "leadership-circle" },
      ],
    });
    try {
      const s = await deliveryFor(t.db, emulator, { ADMIN_EMAILS: ["olivia@acme.example"] }).deliverPeriod({
        asOf: ASOF,
      });
      expect(s.tally!.failed).toEqual([{ kind: "channel", recipient: "eng", error: "not_in_channel" }]);
      expect(s.deliveredNow.notice).toBe(2);
      const grace = emulator.userIdOf("grace@acme.example")!;
      const olivia = emulator.userIdOf("olivia@acme.example")!;
      const notices = emulator.messages.filter((m) =>
        m.text.startsWith("I could not post the Engineering Mentorship summary"),
      );
      expect(notices.map((m) => m.user).sort()).toEqual([grace, olivia].sort());
      expect(notices[0]!.text).toContain("#mentorship-eng (not_in_channel)");
      await deliveryFor(t.db, emulator, { ADMIN_EMAILS: ["olivia@acme.example"] }).deliverPeriod({ asOf: ASOF });
      expect(emulator.messages.filter((m) => m.text.startsWith("I could not post"))).toHaveLength(2);
      expect(emulator.callsOf("chat.postMessage").filter((c) => c.params.channel === "#mentorship-eng")).toHaveLength(
        1,
      );
    } finally {
      await emulator.stop();
      await t.drop();
    }
  });
});
