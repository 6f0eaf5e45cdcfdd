import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createApp } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { type AttentionItem, attentionKey } from "../../src/domain/attention.js";
import { blockErrors } from "../../src/emulator/block-limits.js";
import type { SlackEmulator } from "../../src/emulator/server.js";
import { importDirectory } from "../../src/import/import-service.js";
import { createLogger } from "../../src/logger.js";
import { buildManagerBlocks, buildProgramBlocks, withoutNewBlocks } from "../../src/render/blocks.js";
import { handleNudgeButton } from "../../src/slack/listeners/actions.js";
import { ENGINES, freshDb, type TestDb } from "../helpers/db.js";
import { SAMPLE } from "../helpers/files.js";
import { baseConfig, emulatorFor, everythingSent } from "../helpers/slack.js";

// On this day the sample company holds one item of every row of §18's table.
const ASOF = Date.UTC(2026, 3, 6, 9);
const DAY = 86_400_000;
const MENTEES = [
  "Mia Secret-Mentee",
  "Eve Hidden-Mentee",
  "Liam Private-Mentee",
  "Noah Quiet-Mentee",
  "Zoe Unseen-Mentee",
  "mia@",
  "eve@",
  "liam@",
  "noah@",
  "zoe@",
];

describe.each(ENGINES)("nudges from the report (§18) on %s", (engine) => {
  let t: TestDb;
  let emulator: SlackEmulator;
  beforeEach(async () => {
    t = await freshDb(engine);
    await importDirectory(t.db, SAMPLE, { zone: "UTC" });
    emulator = await emulatorFor(t.db);
  });
  afterEach(async () => {
    await emulator.stop();
    await t.drop();
  });

  const appAt = (at: number, instanceId = "one", over: Partial<ReturnType<typeof loadConfig>> = {}) =>
    createApp(
      {
        config: {
          ...loadConfig({}),
          ...baseConfig,
          ...over,
          SLACK_BOT_TOKEN: emulator.token,
          SLACK_API_URL: emulator.url,
        },
        db: t.db,
        log: createLogger("silent"),
      },
      { now: () => at, instanceId, retryBaseMs: 10 },
    );
  const user = (email: string) => emulator.userIdOf(email)!;
  const itemOf = async (manager: string, find: (a: AttentionItem) => boolean, at = ASOF) => {
    const report = await appAt(at).reports.managerReport(manager, at);
    const item = report.attention.find(find);
    if (!item) throw new Error(`no such item in ${manager}'s report`);
    return item;
  };
  const dmsTo = (email: string, since = 0) => emulator.messages.slice(since).filter((m) => m.user === user(email));

  // §18's table: the item, who is nudged, and what they read.
  const TABLE = [
    {
      row: "Waiting Mentor Approval → the mentor",
      manager: "marcus@acme.example",
      managerName: "Marcus Lee",
      find: (a: AttentionItem) => a.status === "Match Request-Waiting Mentor Approval",
      to: ["rosa@acme.example"],
      reads: "A match request in New Hire Buddies has waited 39 days for your answer.",
    },
    {
      row: "Waiting 2 Approvals → the mentor",
      manager: "dana@acme.example",
      managerName: "Dana Brooks",
      find: (a: AttentionItem) => a.status === "Match Request-Waiting 2 Approvals",
      to: ["katherine@acme.example"],
      reads: "A match request in Engineering Mentorship has waited 40 days for your answer.",
    },
    {
      row: "Waiting Admin Approval → the program's admins",
      manager: "dana@acme.example",
      managerName: "Dana Brooks",
      find: (a: AttentionItem) => a.status === "Match Request-Waiting Admin Approval",
      to: ["grace@acme.example"],
      reads: "Margaret Hamilton's match request in Engineering Mentorship has waited 55 days for admin approval.",
    },
    {
      row: "Waiting Mentee Approval → the program's admins",
      manager: "dana@acme.example",
      managerName: "Dana Brooks",
      find: (a: AttentionItem) => a.status === "Match Request-Waiting Mentee Approval",
      to: ["grace@acme.example"],
      reads: "Ada Lovelace's match request in Engineering Mentorship has waited 45 days for the mentee.",
    },
    {
      row: "unmatched → the program's admins",
      manager: "dana@acme.example",
      managerName: "Dana Brooks",
      find: (a: AttentionItem) => a.reason === "unmatched",
      to: ["grace@acme.example"],
      reads: "Alan Turing has been unmatched in Engineering Mentorship for 86 days.",
    },
    {
      row: "no_meetings → the mentor",
      manager: "marcus@acme.example",
      managerName: "Marcus Lee",
      find: (a: AttentionItem) => a.reason === "no_meetings",
      to: ["rosa@acme.example"],
      reads: "No meeting in Leadership Circle for 31 days and none booked.",
    },
    {
      row: "match_ending → the mentor",
      manager: "marcus@acme.example",
      managerName: "Marcus Lee",
      find: (a: AttentionItem) => a.reason === "match_ending",
      to: ["rosa@acme.example"],
      reads: "Your match in Leadership Circle ends on 04-10-2026.",
    },
  ];

  it.each(TABLE)("$row: the DM names the program, the days and the manager who asked, never the mentee", async (c) => {
    const item = await itemOf(c.manager, c.find);
    const before = emulator.messages.length;
    const answer = await appAt(ASOF).nudges.nudge(user(c.manager), attentionKey(item));
    expect(answer.text).toMatch(/^Nudged /);
    const sent = emulator.messages.slice(before);
    expect(sent.map((m) => m.user).sort()).toEqual(c.to.map(user).sort());
    for (const m of sent) {
      expect(m.text).toContain(c.reads);
      expect(m.text).toContain(c.managerName);
      // Only a mentor's nudge offers to turn nudges off.
      expect(JSON.stringify(m.blocks).includes("mentor_nudges_off")).toBe(item.nudge.to === "mentor");
    }
    const all = everythingSent(emulator);
    for (const name of MENTEES) expect(all).not.toContain(name);
  });

  it("a program without admins (and no ADMIN_EMAILS) has no one to nudge: the manager is told, nothing is sent", async () => {
    const item = await itemOf("marcus@acme.example", (a) => a.reason === "unmatched");
    const before = emulator.messages.length;
    const answer = await appAt(ASOF).nudges.nudge(user("marcus@acme.example"), attentionKey(item));
    expect(answer.text).toContain("could not nudge the admins of New Hire Buddies");
    expect(emulator.messages.length).toBe(before);
    // ADMIN_EMAILS are every program's admins (§4).
    const withGlobal = appAt(ASOF, "one", { ADMIN_EMAILS: ["olivia@acme.example"] });
    await withGlobal.nudges.nudge(user("marcus@acme.example"), attentionKey(item));
    expect(dmsTo("olivia@acme.example", before)).toHaveLength(1);
  });

  it("once per (item, period): a second click, even on another instance at the same moment, is told when and by whom", async () => {
    const item = await itemOf("dana@acme.example", (a) => a.status === "Match Request-Waiting Admin Approval");
    const key = attentionKey(item);
    const dana = user("dana@acme.example");
    const [a, b] = await Promise.all([
      appAt(ASOF, "one").nudges.nudge(dana, key),
      appAt(ASOF, "two").nudges.nudge(dana, key),
    ]);
    expect(dmsTo("grace@acme.example")).toHaveLength(1);
    const texts = [a.text, b.text].sort();
    expect(texts[0]).toMatch(
      /^Already nudged this period: Dana Brooks nudged the admins of Engineering Mentorship about it on 04-06-2026 09:00 UTC/,
    );
    expect(texts[1]).toMatch(/^Nudged the admins of Engineering Mentorship \(Grace Hopper\)/);

    // A day later, same period: still once.
    const third = await appAt(ASOF + DAY, "two").nudges.nudge(dana, key);
    expect(third.text).toMatch(/^Already nudged/);
    expect(dmsTo("grace@acme.example")).toHaveLength(1);

    // The report (JSON and buttons) shows it: sent when, by whom.
    const report = await appAt(ASOF + DAY).reports.managerReport("dana@acme.example", ASOF + DAY);
    const shown = report.attention.find((x) => attentionKey(x) === key)!;
    expect(shown.nudge).toEqual({ to: "admins", sentAt: new Date(ASOF).toISOString(), sentBy: "Dana Brooks" });
    const blocks = JSON.stringify(buildManagerBlocks(report, { zone: "UTC", period: null, buttons: true }).blocks);
    expect(blocks).toContain("Nudged ✓");
    expect(blocks).toContain("nudged 04-06-2026 by Dana Brooks");

    // The next period is a new one: the nudge may go again.
    const next = await appAt(ASOF + 14 * DAY).nudges.nudge(dana, key);
    expect(next.text).toMatch(/^Nudged /);
    expect(dmsTo("grace@acme.example")).toHaveLength(2);
  });

  it("only a manager whose own report holds the item can nudge it: a button value copied from Dana's DM does nothing for Marcus", async () => {
    const item = await itemOf("dana@acme.example", (a) => a.status === "Match Request-Waiting Admin Approval");
    const before = emulator.messages.length;
    for (const who of ["marcus@acme.example", "grace@acme.example", "olivia@acme.example"]) {
      const answer = await appAt(ASOF).nudges.nudge(user(who), attentionKey(item));
      expect(answer.text).toContain("not in your report");
    }
    // A made-up value is no better.
    const forged = await appAt(ASOF).nudges.nudge(user("marcus@acme.example"), "unmatched|eng|alan@acme.example|");
    expect(forged.text).toContain("not in your report");
    expect(emulator.messages.length).toBe(before);
    // An item that has moved on since the DM (Margaret's request approved) is refused too.
    await t
      .db("match_requests")
      .where("request_id", "r3")
      .update({ admin_approved_at: ASOF - DAY });
    const moved = await appAt(ASOF).nudges.nudge(user("dana@acme.example"), attentionKey(item));
    expect(moved.text).toContain("not in your report");
    expect(emulator.messages.length).toBe(before);
  });

  it('"No more nudges" is respected: the mentor gets none after it, and the manager\'s button says so', async () => {
    const ending = await itemOf("marcus@acme.example", (a) => a.reason === "match_ending");
    const marcus = user("marcus@acme.example");
    const rosa = user("rosa@acme.example");
    await appAt(ASOF).nudges.nudge(marcus, attentionKey(ending));
    expect(dmsTo("rosa@acme.example")).toHaveLength(1);

    // Rosa presses "No more nudges" on it, through the listener as Slack would send the click.
    const answers: string[] = [];
    const app = appAt(ASOF);
    await handleNudgeButton({ nudges: app.nudges, surfaces: app.surfaces, log: createLogger("silent") })({
      ack: async () => {},
      body: { user: { id: rosa }, container: { type: "message" } } as never,
      action: { type: "button", action_id: "mentor_nudges_off", block_id: "nudge_settings", action_ts: "1" } as never,
      respond: (async (m: { text?: string }) => {
        answers.push(m.text ?? "");
      }) as never,
      client: app.slack as never,
    });
    expect(answers[0]).toContain("no more nudges");

    const idle = await itemOf("marcus@acme.example", (a) => a.reason === "no_meetings");
    expect(idle.nudge.off).toBe(true);
    const answer = await appAt(ASOF).nudges.nudge(marcus, attentionKey(idle));
    expect(answer.text).toContain("Parks, Rosa has turned nudges off");
    expect(dmsTo("rosa@acme.example")).toHaveLength(1);
    const report = await appAt(ASOF).reports.managerReport("marcus@acme.example", ASOF);
    expect(JSON.stringify(buildManagerBlocks(report, { zone: "UTC", period: null, buttons: true }).blocks)).toContain(
      "Nudges off",
    );
    // Admins' nudges are not the mentor's to turn off.
    const dana = await itemOf("dana@acme.example", (a) => a.reason === "unmatched");
    expect(dana.nudge.off).toBeUndefined();

    // And back on.
    await app.nudges.setOff(rosa, false);
    await appAt(ASOF).nudges.nudge(marcus, attentionKey(idle));
    expect(dmsTo("rosa@acme.example")).toHaveLength(2);
  });

  it("each attention line says who acts and carries a Nudge button whose id begins with `nudge` (DM, slash answer, Home tab)", async () => {
    const app = appAt(ASOF);
    const dana = user("dana@acme.example");
    const slash = JSON.stringify((await app.surfaces.command(dana, "")).message.blocks);
    const home = JSON.stringify((await app.surfaces.homeView(dana)).blocks);
    for (const surface of [slash, home]) {
      expect(surface).toContain("waiting 55 days for admin approval — nudge the admins");
      expect(surface).toContain("unmatched for 86 days — the program admins match mentors");
      expect(surface).toMatch(/"action_id":"nudge_0"/);
      expect(surface).toContain(
        '"accessibility_label":"Nudge the admins about Margaret Hamilton in Engineering Mentorship"',
      );
    }
    const report = await app.reports.managerReport("dana@acme.example", ASOF);
    const dm = buildManagerBlocks(report, { zone: "UTC", period: null, buttons: true });
    const buttons = dm.blocks.flatMap((b) => (b.type === "section" && b.accessory ? [b.accessory] : []));
    expect(buttons.map((b) => b.action_id)).toEqual(report.attention.map((_, i) => `nudge_${i}`));
    expect(buttons.map((b) => b.value)).toEqual(report.attention.map(attentionKey));
  });

  it("the admins' queue: Grace's Home tab lists the request waiting for her, and its CSV has every such request and no mentee", async () => {
    const app = appAt(ASOF);
    const grace = user("grace@acme.example");
    const home = JSON.stringify((await app.surfaces.homeView(grace)).blocks);
    expect(home).toContain("*Waiting for your approval* (1), the longest waits first:");
    expect(home).toContain("• *Margaret Hamilton* — Engineering Mentorship · requested 02-10-2026 · 55 days");
    // Dana administers nothing: no queue on her tab.
    expect(JSON.stringify((await app.surfaces.homeView(user("dana@acme.example"))).blocks)).not.toContain(
      "Waiting for your approval",
    );
    const answer = await app.surfaces.action(grace, "queueCsv");
    expect(answer.text).toContain("I sent the 1 request waiting for admin approval as a CSV file");
    const csv = emulator.uploads.at(-1)!.files[0]!.content.toString("utf8").trimEnd().split(/\r?\n/);
    expect(csv).toHaveLength(2);
    expect(csv[1]).toContain("Margaret Hamilton");
    for (const name of MENTEES) expect(csv.join("\n")).not.toContain(name);
  });

  it("a program admin missing from people.csv keeps summary and post, and is not told to ask their program admin", async () => {
    await t.db("people").where("email", "grace@acme.example").delete();
    const app = appAt(ASOF);
    const grace = user("grace@acme.example");
    const summary = await app.surfaces.command(grace, "summary eng");
    expect(JSON.stringify(summary.message.blocks)).toContain("Program summary · Engineering Mentorship");
    const before = emulator.messages.length;
    const posted = await app.surfaces.command(grace, "post eng");
    expect(posted.message.text).toMatch(/^Posted the summary of `eng`/);
    expect(emulator.messages.length).toBe(before + 1);
    const home = JSON.stringify((await app.surfaces.homeView(grace)).blocks);
    expect(home).toContain("Waiting for your approval");
    expect(home).not.toContain("ask your program admin");
  });

  it("REPORT_SCOPE=all: a line per direct report with its mentors and what needs attention, the most attention first", async () => {
    const app = appAt(ASOF, "one", { REPORT_SCOPE: "all" });
    const olivia = await app.reports.managerReport("olivia@acme.example", ASOF);
    // Tom reports to Sam, who reports to Marcus: he counts under Marcus.
    expect(olivia.branches).toEqual([
      { email: "marcus@acme.example", name: "Marcus Lee", mentors: 3, attention: 6 },
      { email: "dana@acme.example", name: "Dana Brooks", mentors: 7, attention: 4 },
    ]);
    const text = JSON.stringify(buildManagerBlocks(olivia, { zone: "UTC", period: null, buttons: true }).blocks);
    expect(text).toContain(
      "*By direct report*\\n• under *Marcus Lee*: 3 mentors · 6 need attention\\n• under *Dana Brooks*: 7 mentors · 4 need attention",
    );
    // The batch the deliveries use says the same; with `direct` there is no such line.
    const [batch] = await app.reports.managerReports(["olivia@acme.example"], ASOF);
    expect(batch?.branches).toEqual(olivia.branches);
    expect((await appAt(ASOF).reports.managerReport("dana@acme.example", ASOF)).branches).toBeUndefined();
  });

  it("trends: six points per series, each the counts of a report as of that period's start, in a valid line chart", async () => {
    const app = appAt(ASOF);
    const eng = (await app.reports.programs()).find((p) => p.id === "eng")!;
    const [summary] = await app.reports.programSummaries([eng], ASOF);
    const starts = ["01-19", "02-02", "02-16", "03-02", "03-16", "03-30"].map((d) => Date.parse(`2026-${d}T00:00Z`));
    expect(summary!.trend!.map((t) => t.at)).toEqual(starts);
    for (const [i, at] of starts.entries()) {
      const [then] = await app.reports.programSummaries([eng], at, { trend: false });
      const counts = Object.fromEntries(then!.counts.filter((c) => c.count > 0).map((c) => [c.status, c.count]));
      expect(summary!.trend![i]!.counts).toEqual(counts);
    }
    const m = buildProgramBlocks(summary!, { zone: "UTC", period: null, chart: true });
    expect(blockErrors(m.blocks, { maxBlocks: 50, newBlocks: true })).toEqual([]);
    const line = m.blocks.find((b) => b.type === "data_visualization" && b.chart.type === "line");
    const chart = line && line.type === "data_visualization" && line.chart.type === "line" ? line.chart : null;
    expect(chart?.axis_config.categories).toEqual([
      "01-19-2026",
      "02-02-2026",
      "02-16-2026",
      "03-02-2026",
      "03-16-2026",
      "03-30-2026",
    ]);
    for (const s of chart!.series) expect(s.data).toHaveLength(6);
    const waiting = chart!.series.find((s) => s.name === "Requests waiting")!.data.map((d) => d.value);
    expect(waiting.at(-1)).toBe(3);
    // A workspace without the newer blocks gets the summary without charts, organizations as lines.
    expect(blockErrors(withoutNewBlocks(m).blocks, { maxBlocks: 50, newBlocks: false })).toEqual([]);
    // Early in the data there are fewer periods: none before the anchor (01-05-2026).
    const [early] = await app.reports.programSummaries([eng], Date.UTC(2026, 0, 20));
    expect(early!.trend!.length).toBeLessThanOrEqual(2);
  });

  it("the admin's Home tab carries the trend; a workspace that refuses charts gets the tab without them, once refused", async () => {
    await appAt(ASOF).surfaces.publishHome(user("grace@acme.example"));
    const view = JSON.stringify(emulator.views.at(-1)!.view);
    expect(view).toContain('"type":"line"');
    expect(view).toContain("Waiting for your approval");

    const old = await emulatorFor(t.db, { newBlocks: false });
    try {
      const config = { ...loadConfig({}), ...baseConfig, SLACK_BOT_TOKEN: old.token, SLACK_API_URL: old.url };
      const app = createApp({ config, db: t.db, log: createLogger("silent") }, { now: () => ASOF, retryBaseMs: 10 });
      const grace = old.userIdOf("grace@acme.example")!;
      await app.surfaces.publishHome(grace);
      expect(old.callsOf("views.publish").map((c) => c.error ?? "ok")).toEqual(["invalid_blocks", "ok"]);
      const plain = JSON.stringify(old.views.at(-1)!.view);
      expect(plain).not.toContain("data_visualization");
      expect(plain).toContain("*By organization*");
      // Remembered for the period: the next opening is published at once without charts.
      await app.surfaces.publishHome(grace);
      expect(old.callsOf("views.publish").map((c) => c.error ?? "ok")).toEqual(["invalid_blocks", "ok", "ok"]);
    } finally {
      await old.stop();
    }
  });

  it("a nudge is no delivery of the run: the period does not look started, and the tally and expiry leave it out", async () => {
    const app = appAt(ASOF);
    const item = await itemOf("dana@acme.example", (a) => a.reason === "unmatched");
    await app.nudges.nudge(user("dana@acme.example"), attentionKey(item));
    await t.db("deliveries").where("kind", "nudge").update({ state: "sending" });
    expect(await app.ledger.hasRows("2026-03-30")).toBe(false);
    const tally = await app.ledger.tally("2026-03-30");
    expect(Object.values(tally.byState).every((k) => !("nudge" in k))).toBe(true);
    expect(await app.ledger.expireBefore("2026-04-13", ASOF + 14 * DAY)).toEqual([]);
  });
});
