import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app.js";
import { buildRunSummaryText, buildStartLine } from "../../src/cli/run-summary.js";
import { loadConfig } from "../../src/config.js";
import { startScheduler } from "../../src/delivery/scheduler.js";
import { parseInstant } from "../../src/domain/dates.js";
import { createLogger } from "../../src/logger.js";
import { cli } from "../helpers/cli.js";
import { ENGINES } from "../helpers/db.js";
import { baseConfig, sampleWorkspace } from "../helpers/slack.js";

const log = createLogger("silent");
const at = (s: string) => parseInstant(s, "UTC")!;
const DANA = "dana@acme.example";
const PILOT = { REPORT_AUDIENCE: "pilot", REPORT_PILOT_EMAILS: "DANA@acme.example", REPORT_PILOT_PROGRAMS: "eng" };

// §17: a staged rollout, and a first period that is never a surprise.
describe.each(ENGINES)("a staged rollout (%s)", (engine) => {
  const w = sampleWorkspace(engine);
  const appWith = (env: Record<string, string>, clock: () => number) =>
    createApp(
      {
        config: {
          ...loadConfig(env),
          ...baseConfig,
          SLACK_BOT_TOKEN: w.emulator.token,
          SLACK_API_URL: w.emulator.url,
        },
        db: w.t.db,
        log,
      },
      { now: clock, retryBaseMs: 10 },
    );
  const dmsTo = () => w.emulator.messages.filter((m) => m.user).map((m) => m.user);
  const channels = () => w.emulator.messages.filter((m) => !m.user).map((m) => m.channel);

  it.each(["fixed", "local"] as const)(
    "pilot (REPORT_DELIVERY=%s): only the listed manager and program get anything; the rest are skipped not_in_pilot and counted",
    async (mode) => {
      const clock = at("2026-03-02T23:00");
      const app = appWith({ ...PILOT, REPORT_DELIVERY: mode }, () => clock);
      const run =
        mode === "fixed"
          ? await app.delivery.deliverPeriod({ asOf: clock })
          : (await app.delivery.deliverDue({ asOf: clock })).find((r) => r.period.id === "2026-03-02")!;
      expect(dmsTo()).toEqual([w.emulator.userIdOf(DANA)]);
      expect(channels()).toEqual(["C0000ENG1"]);
      expect(run.tally?.outsidePilot).toEqual({ dm: 2, channel: 1 });
      expect(run.left).toBe(0);
      const skipped: Array<{ kind: string; recipient: string }> = await w.t
        .db("deliveries")
        .where({ period_id: "2026-03-02", state: "skipped", error: "not_in_pilot" })
        .select("kind", "recipient")
        .orderBy(["kind", "recipient"]);
      expect(skipped).toEqual([
        { kind: "channel", recipient: "lead" },
        { kind: "dm", recipient: "marcus@acme.example" },
        { kind: "dm", recipient: "sam@acme.example" },
      ]);
      expect(buildRunSummaryText(run, "UTC")).toContain(
        "Skipped, not in the pilot (not_in_pilot): 2 DMs · 1 channel summary",
      );
      const status = cli(["status", "--as-of", "2026-03-02T23:00:00Z"], {
        DATABASE_URL: w.t.url,
        REPORT_DELIVERY: mode,
      });
      expect(status.stdout).toContain("Skipped, not in the pilot (not_in_pilot): 2 DMs · 1 channel summary");
      expect(status.stdout).toContain("complete");
      // The period is done: a rerun sends nobody else.
      if (mode === "fixed") await app.delivery.deliverPeriod({ asOf: clock });
      else await app.delivery.deliverDue({ asOf: clock });
      expect(w.emulator.messages).toHaveLength(2);
      // The slash command and the Home tab answer everyone, in the pilot or not.
      const marcus = w.emulator.userIdOf("marcus@acme.example")!;
      expect((await app.surfaces.command(marcus, "")).message.text).toContain("3 mentor connections on your team");
      expect(JSON.stringify((await app.surfaces.homeView(marcus)).blocks)).toContain("Victor Okafor");
    },
  );

  it("a dry run names who is outside the pilot and plans only the pilot", async () => {
    const app = appWith(PILOT, () => at("2026-03-02T23:00"));
    const plan = await app.planPeriod(at("2026-03-02T23:00"));
    expect(plan.planned).toMatchObject({ dm: 1, channel: 1 });
    const text = buildRunSummaryText(plan, "UTC");
    expect(text).toMatch(/marcus@acme\.example .*not in the pilot/);
    expect(w.emulator.messages).toHaveLength(0);
  });

  it("a pilot program named in another case is that program; entries that reach no one are named at start", async () => {
    const pilot = {
      REPORT_AUDIENCE: "pilot",
      REPORT_PILOT_EMAILS: "dana@acme.exmaple;marcus@acme.example",
      REPORT_PILOT_PROGRAMS: "ENG,nope",
    };
    const app = appWith(pilot, () => at("2026-03-02T23:00"));
    const plan = await app.planPeriod(at("2026-03-02T23:00"));
    expect(plan.planned).toMatchObject({ dm: 1, channel: 1 });
    const recipients = await app.delivery.countRecipients();
    expect(recipients).toEqual({ dm: 1, channel: 1, pilotMisses: { emailEntries: [1], programs: ["nope"] } });
    const line = buildStartLine({
      port: 3000,
      slackMode: "http",
      config: app.config,
      audience: app.delivery.audience,
      plan: { catchUp: false, leftToSend: null, next: null },
      recipients,
    });
    expect(line).toContain("REPORT_PILOT_EMAILS: entry 1 is no manager with mentors on their team in the data");
    expect(line).toContain("REPORT_PILOT_PROGRAMS: nope is not a program in the data");
    // An address typed in the list is never echoed: it may be anyone's.
    expect(line).not.toContain("exmaple");
  });

  it.each(["fixed", "local"] as const)(
    "a fresh database (REPORT_DELIVERY=%s): the first serve sends nothing for the begun period, `send` does, and the scheduler starts with the next",
    async (mode) => {
      let clock = at("2026-03-04T15:00");
      const app = appWith({ REPORT_DELIVERY: mode }, () => clock);
      const config = { ...app.config, REPORT_SCHEDULE: "0 9 * * 1" };
      const s = startScheduler({ config, delivery: app.delivery, log, now: () => clock });
      const plan = await s.plan;
      expect(await s.ready).toBeNull();
      expect(plan).toMatchObject({ catchUp: false, leftToSend: "2026-03-02" });
      // The next period's first delivery: fixed, its tick; local, 09:00 in the easternmost zone (UTC+14).
      expect(plan.next).toEqual({
        periodId: "2026-03-16",
        at: mode === "fixed" ? at("2026-03-16T09:00") : at("2026-03-15T19:00"),
      });
      // Later ticks of the begun period leave it alone too.
      clock = at("2026-03-09T09:00");
      await s.tick();
      expect(w.emulator.messages).toHaveLength(0);
      await s.stop();
      // `send` delivers the current period now, and from then on the scheduler catches up as before.
      expect((await app.delivery.deliverPeriod({ asOf: at("2026-03-04T15:00") })).deliveredNow).toMatchObject({
        dm: 3,
        channel: 2,
      });
      clock = at("2026-03-18T12:00");
      const again = startScheduler({ config, delivery: app.delivery, log, now: () => clock });
      expect((await again.plan).catchUp).toBe(true);
      const caught = await again.ready;
      await again.stop();
      expect(caught?.period.id).toBe("2026-03-16");
      expect(caught?.deliveredNow).toMatchObject({ dm: 3, channel: 2 });
    },
  );

  it.each(["fixed", "local"] as const)(
    "a `send` of a past period (REPORT_DELIVERY=%s) does not hand the scheduler the period under way",
    async (mode) => {
      const clock = at("2026-03-18T12:00");
      const app = appWith({ REPORT_DELIVERY: mode }, () => clock);
      const config = { ...app.config, REPORT_SCHEDULE: "0 9 * * 1" };
      // A replay of an old period (02-16): the period before the one under way (03-02) was never delivered.
      await app.delivery.deliverPeriod({ asOf: at("2026-02-18T15:00") });
      const sentBefore = w.emulator.messages.length;
      const s = startScheduler({ config, delivery: app.delivery, log, now: () => clock });
      const plan = await s.plan;
      await s.ready;
      await s.tick();
      await s.stop();
      expect(plan).toMatchObject({ catchUp: false, leftToSend: "2026-03-16" });
      expect(w.emulator.messages).toHaveLength(sentBefore);
    },
  );
});

describe("the pilot's variables", () => {
  it("accept ; and , and compare emails without case", () => {
    const c = loadConfig({
      ...PILOT,
      REPORT_PILOT_EMAILS: " Dana@Acme.example; sam@acme.example ,",
      REPORT_PILOT_PROGRAMS: "eng,lead",
    });
    expect(c.REPORT_PILOT_EMAILS).toEqual(["dana@acme.example", "sam@acme.example"]);
    expect(c.REPORT_PILOT_PROGRAMS).toEqual(["eng", "lead"]);
  });

  it.each([
    [{ REPORT_AUDIENCE: "some" }, /REPORT_AUDIENCE="some": .*"all".*"pilot"/],
    [{ REPORT_AUDIENCE: "pilot" }, /REPORT_AUDIENCE="pilot": set REPORT_PILOT_EMAILS .* or REPORT_PILOT_PROGRAMS/],
    [
      { ...PILOT, REPORT_PILOT_EMAILS: "dana@acme.example; dana" },
      /REPORT_PILOT_EMAILS="dana@acme.example; dana": .*\(dana is not one\)/,
    ],
    [{ REPORT_PILOT_PROGRAMS: "eng" }, /REPORT_PILOT_PROGRAMS: only read with REPORT_AUDIENCE=pilot/],
  ])("refuse %j with a message naming the variable", (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });
});
