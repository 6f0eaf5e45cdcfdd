import { beforeEach, describe, expect, it } from "vitest";
import type { Db } from "../../src/db/knex.js";
import { createDeliveryService } from "../../src/delivery/delivery-service.js";
import { startScheduler } from "../../src/delivery/scheduler.js";
import type { EmulatedUser, SlackEmulator } from "../../src/emulator/server.js";
import { createLogger } from "../../src/logger.js";
import { buildManagerBlocks } from "../../src/render/blocks.js";
import { createReportService } from "../../src/services/report-service.js";
import { createDirectory } from "../../src/slack/directory.js";
import { ENGINES } from "../helpers/db.js";
import { baseConfig, sampleWorkspace, slackFor } from "../helpers/slack.js";

const log = createLogger("silent");
const Z = (iso: string) => Date.parse(iso);
const config = { ...baseConfig, REPORT_LOCAL_TIME: "09:00" };

/** The sample's people as Slack users; `tz` gives some of them a Slack profile zone. */
async function workspaceUsers(db: Db, tz: Record<string, string> = {}): Promise<EmulatedUser[]> {
  const people: Array<{ email: string; name: string }> = await db("people").select("email", "name").orderBy("email");
  return people.map((p, i) => ({
    id: `U${String(i + 1).padStart(8, "0")}`,
    email: p.email,
    name: p.name,
    ...(tz[p.email] ? { tz: tz[p.email] } : {}),
  }));
}

function services(db: Db, emulator: SlackEmulator, instanceId?: string) {
  const slack = slackFor(emulator);
  const reports = createReportService({ db, config });
  const directory = createDirectory({ db, slack, log, retryBaseMs: 10 });
  const delivery = createDeliveryService({ db, slack, reports, log, config, directory, retryBaseMs: 10, instanceId });
  return { reports, directory, delivery };
}

/** Posts per recipient: DMs by user id, summaries by channel. */
const perRecipient = (e: SlackEmulator) => {
  const out: Record<string, number> = {};
  for (const m of e.messages) out[m.user ?? m.channel] = (out[m.user ?? m.channel] ?? 0) + 1;
  return out;
};

describe.each(ENGINES)("local time: each manager at 09:00 in their own zone (%s)", (engine) => {
  const w = sampleWorkspace(engine);
  // The period before is done: these tests watch the waves of the period that begins on 2026-03-02.
  beforeEach(async () => {
    await w.t.db("delivery_periods").insert({ period_id: "2026-02-16", completed_at: 0 });
  });

  it("waves by zone: Slack's zone over the roster's, east of REPORT_TIMEZONE before the period begins, channels at 09:00 in REPORT_TIMEZONE, each DM as of its due moment", async () => {
    // Roster: Dana Europe/Berlin, Marcus and Sam America/Chicago. Sam's Slack profile says Auckland.
    const users = await workspaceUsers(w.t.db, { "sam@acme.example": "Pacific/Auckland" });
    w.emulator.setUsers(users);
    const id = (email: string) => users.find((u) => u.email === email)!.id;
    // Victor (Marcus's team) registers at 15:10 UTC, after Marcus's 09:00 in Chicago (15:00 UTC).
    await w.t
      .db("enrollments")
      .where({ program_id: "buddy", email: "victor@acme.example" })
      .update({ registered_at: Z("2026-03-02T15:10:00Z") });
    const { delivery, reports } = services(w.t.db, w.emulator);
    const period = (runs: Awaited<ReturnType<typeof delivery.deliverDue>>) =>
      runs.find((r) => r.period.id === "2026-03-02");

    // 09:00 in Auckland (UTC+13) is 20:00 UTC the day before the period begins in UTC.
    let runs = await delivery.deliverDue({ asOf: Z("2026-03-01T19:59:00Z") });
    expect(w.emulator.messages).toHaveLength(0);
    expect(period(runs)?.skipped).toBe("not-due");
    expect(period(runs)?.waiting?.next).toBe(Z("2026-03-01T20:00:00Z"));

    runs = await delivery.deliverDue({ asOf: Z("2026-03-01T20:00:00Z") });
    expect(w.emulator.messages.map((m) => m.user)).toEqual([id("sam@acme.example")]);
    expect(period(runs)?.deliveredNow).toEqual({ dm: 1, channel: 0, notice: 0 });
    expect(period(runs)?.waiting).toEqual({ count: 4, next: Z("2026-03-02T08:00:00Z") });

    await delivery.deliverDue({ asOf: Z("2026-03-02T08:00:00Z") });
    expect(w.emulator.messages.map((m) => m.user ?? m.channel)).toEqual([
      id("sam@acme.example"),
      id("dana@acme.example"),
    ]);
    await delivery.deliverDue({ asOf: Z("2026-03-02T09:00:00Z") });
    expect(
      w.emulator.messages
        .slice(2)
        .map((m) => m.channel)
        .sort(),
    ).toEqual(["C0000ENG1", "C0000LEAD"]);
    expect(await w.t.db("delivery_periods").where({ period_id: "2026-03-02" }).first()).toBeUndefined();

    // Marcus's wave is caught up late (15:30): his report is still as of 15:00 UTC, Victor not yet registered.
    runs = await delivery.deliverDue({ asOf: Z("2026-03-02T15:30:00Z") });
    expect(period(runs)?.deliveredNow.dm).toBe(1);
    const marcus = w.emulator.messages.at(-1)!;
    expect(marcus.user).toBe(id("marcus@acme.example"));
    const asOf = async (email: string, at: number) =>
      buildManagerBlocks(await reports.managerReport(email, at), {
        zone: "UTC",
        period: delivery.periodOf(Z("2026-03-02T12:00:00Z")),
      }).text;
    expect(marcus.text).toBe(await asOf("marcus@acme.example", Z("2026-03-02T15:00:00Z")));
    expect(marcus.text).not.toBe(await asOf("marcus@acme.example", Z("2026-03-02T15:30:00Z")));
    expect(w.emulator.messages[0]!.text).toBe(await asOf("sam@acme.example", Z("2026-03-01T20:00:00Z")));

    // Done: every recipient once, the period complete, and a later tick sends nothing.
    expect(await w.t.db("delivery_periods").where({ period_id: "2026-03-02" }).first()).toBeDefined();
    await delivery.deliverDue({ asOf: Z("2026-03-03T12:00:00Z") });
    expect(Object.values(perRecipient(w.emulator))).toEqual([1, 1, 1, 1, 1]);
  });

  it("two managers in one zone get one wave and one as-of; `send` without --due still delivers everyone at once", async () => {
    w.emulator.setUsers(await workspaceUsers(w.t.db));
    const { delivery } = services(w.t.db, w.emulator);
    await delivery.deliverDue({ asOf: Z("2026-03-02T14:59:00Z") });
    const due: Array<{ recipient: string; due_at: number | string | null }> = await w.t
      .db("deliveries")
      .where({ period_id: "2026-03-02", kind: "dm" })
      .select("recipient", "due_at")
      .orderBy("recipient");
    expect(due.map((r) => [r.recipient, new Date(Number(r.due_at)).toISOString()])).toEqual([
      ["dana@acme.example", "2026-03-02T08:00:00.000Z"],
      ["marcus@acme.example", "2026-03-02T15:00:00.000Z"],
      ["sam@acme.example", "2026-03-02T15:00:00.000Z"],
    ]);
    await delivery.deliverDue({ asOf: Z("2026-03-02T15:00:00Z") });
    const [marcus, sam] = w.emulator.messages.slice(-2);
    // The same moment for both: the header's date and the data behind it.
    expect(marcus!.text.split(":")[0]).toBe(sam!.text.split(":")[0]);

    // Next period: `send` (everything at once) does not wait for anyone's local time, and a later tick
    // finds the period done.
    const summary = await delivery.deliverPeriod({ asOf: Z("2026-03-16T00:30:00Z") });
    expect(summary.deliveredNow).toEqual({ dm: 3, channel: 2, notice: 0 });
    const later = await delivery.deliverDue({ asOf: Z("2026-03-16T16:00:00Z") });
    expect(later.find((r) => r.period.id === "2026-03-16")?.deliveredNow.dm ?? 0).toBe(0);
    expect(await w.t.db("delivery_periods").where({ period_id: "2026-03-16" }).first()).toBeDefined();
  });

  it("the scheduler refreshes the directory ahead of the first wave, so the wave posts without reading Slack's directory", async () => {
    w.emulator.setUsers(await workspaceUsers(w.t.db, { "sam@acme.example": "Asia/Tokyo" }));
    const { delivery, directory } = services(w.t.db, w.emulator);
    let clock = Z("2026-03-01T18:50:00Z"); // 10 minutes before 09:00 in UTC+14, the earliest zone
    const s = startScheduler({
      config: { ...config, REPORT_SCHEDULE: "0 9 * * 1", REPORT_DELIVERY: "local" },
      delivery,
      directory,
      log,
      now: () => clock,
    });
    await s.ready;
    const directoryCalls = () =>
      w.emulator.callsOf("users.lookupByEmail").length + w.emulator.callsOf("users.list").length;
    expect(directoryCalls()).toBeGreaterThan(0);
    expect(w.emulator.messages).toHaveLength(0);
    const before = directoryCalls();
    clock = Z("2026-03-02T00:00:00Z"); // 09:00 in Tokyo
    await s.tick();
    expect(w.emulator.messages).toHaveLength(1);
    // A restart catches up what came due while it was down, and nothing twice.
    await s.stop();
    clock = Z("2026-03-02T16:00:00Z");
    const again = startScheduler({
      config: { ...config, REPORT_SCHEDULE: "0 9 * * 1", REPORT_DELIVERY: "local" },
      delivery: services(w.t.db, w.emulator).delivery,
      directory,
      log,
      now: () => clock,
    });
    const summary = await again.ready;
    await again.stop();
    expect(summary?.deliveredNow).toEqual({ dm: 2, channel: 2, notice: 0 });
    expect(directoryCalls()).toBe(before);
    expect(Object.values(perRecipient(w.emulator))).toEqual([1, 1, 1, 1, 1]);
  });

  it("a wave that Slack slows down finishes before the next starts: the next waits its turn and nothing goes twice", async () => {
    w.emulator.setUsers(await workspaceUsers(w.t.db));
    const { delivery, directory } = services(w.t.db, w.emulator);
    let clock = Z("2026-03-02T08:00:00Z"); // Berlin's wave: Dana
    const s = startScheduler({
      config: { ...config, REPORT_SCHEDULE: "off", REPORT_DELIVERY: "local" },
      delivery,
      directory,
      log,
      now: () => clock,
    });
    w.emulator.setResponseDelay(300);
    const slow = s.tick();
    await new Promise<void>((resolve) => w.emulator.once("message", () => resolve()));
    // Chicago's 09:00 comes while Berlin's wave is still posting: the tick joins the running wave.
    clock = Z("2026-03-02T15:00:00Z");
    expect(s.tick()).toBe(slow);
    const first = await slow;
    expect(first?.deliveredNow.dm).toBe(1);
    expect(w.emulator.messages.filter((m) => m.user)).toHaveLength(1);
    w.emulator.setResponseDelay(0);
    const next = await s.tick();
    await s.stop();
    expect(next?.deliveredNow).toEqual({ dm: 2, channel: 2, notice: 0 });
    expect(Object.values(perRecipient(w.emulator))).toEqual([1, 1, 1, 1, 1]);
  });

  it("the ledger keeps each DM's as-of at its due moment; the next period's DM says what changed since then; a manager who stopped is skipped at their wave", async () => {
    const users = await workspaceUsers(w.t.db);
    w.emulator.setUsers(users);
    const { delivery } = services(w.t.db, w.emulator);
    await delivery.deliverDue({ asOf: Z("2026-03-03T00:00:00Z") });
    const asOf: Array<{ recipient: string; as_of: number | string | null }> = await w.t
      .db("deliveries")
      .where({ period_id: "2026-03-02", kind: "dm" })
      .select("recipient", "as_of")
      .orderBy("recipient");
    expect(asOf.map((r) => [r.recipient, new Date(Number(r.as_of)).toISOString()])).toEqual([
      ["dana@acme.example", "2026-03-02T08:00:00.000Z"],
      ["marcus@acme.example", "2026-03-02T15:00:00.000Z"],
      ["sam@acme.example", "2026-03-02T15:00:00.000Z"],
    ]);
    await w.t.db("report_controls").insert({ email: "dana@acme.example", state: "stopped", updated_at: 0 });
    const before = w.emulator.messages.length;
    const runs = await delivery.deliverDue({ asOf: Z("2026-03-16T16:00:00Z") });
    const next = runs.find((r) => r.period.id === "2026-03-16")!;
    expect(next.deliveredNow).toEqual({ dm: 2, channel: 2, notice: 0 });
    expect(next.tally?.skipped).toEqual([{ recipient: "dana@acme.example", reason: "stopped" }]);
    // Victor registered on 03-05: Marcus's DM says so, measured from his last report's 09:00.
    const marcusId = users.find((u) => u.email === "marcus@acme.example")!.id;
    const marcus = w.emulator.messages.slice(before).find((m) => m.user === marcusId);
    expect(JSON.stringify(marcus?.blocks)).toContain("Since your last report* (03-02-2026)");
  });
});
