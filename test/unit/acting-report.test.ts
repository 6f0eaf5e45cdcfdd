import { describe, expect, it } from "vitest";
import { buildManagerReport, buildProgramSummary, type ManagerReport } from "../../src/domain/reports.js";
import { STATUSES, type Status } from "../../src/domain/statuses.js";
import type { Program, ReportRow } from "../../src/domain/types.js";
import { blockErrors } from "../../src/emulator/block-limits.js";
import { type Block, buildManagerBlocks, LIMITS, type Message, withoutNewBlocks } from "../../src/render/blocks.js";
import { buildCsv } from "../../src/render/csv.js";
import { buildAdminQueue, buildHomeView, QUEUE_LINES } from "../../src/render/surfaces.js";

const DAY = 86_400_000;
const ASOF = Date.UTC(2026, 3, 6, 9);
const SETTINGS = { requestDays: 14, unmatchedDays: 30, idleDays: 30, periodEnd: Date.UTC(2026, 3, 13), zone: "UTC" };
const ACTION_FIRST: Status[] = [
  "Match Request-Waiting Mentee Approval",
  "Match Request-Waiting Mentor Approval",
  "Match Request-Waiting 2 Approvals",
  "Match Request-Waiting Admin Approval",
  "Unmatched",
  "Not Registered",
];

function row(i: number, status: Status, over: Partial<ReportRow> = {}): ReportRow {
  return {
    status,
    programId: "eng",
    program: "Engineering Mentorship",
    organization: "Engineering",
    mentorName: `Mentor ${String(i).padStart(4, "0")}`,
    mentorEmail: `mentor.${i}@example.com`,
    managerEmail: "boss@example.com",
    registered: "01-05-2026",
    mentee: status === "Unmatched" || status === "Not Registered" ? "" : "Mentee",
    matchDate: "",
    upcomingMeetings: 1,
    completedMeetings: 2,
    sourceId: `s${i}`,
    since: ASOF - 3 * DAY,
    endAt: null,
    lastMeetingAt: null,
    ...over,
  };
}

/** A team of n rows in status order, every status present. */
function team(n: number): ManagerReport {
  const rows = Array.from({ length: n }, (_, i) => row(i, STATUSES[i % STATUSES.length]!));
  rows.sort((a, b) => STATUSES.indexOf(a.status) - STATUSES.indexOf(b.status));
  return buildManagerReport({ email: "boss@example.com", name: "Boss" }, rows, ASOF, SETTINGS);
}

const emails = (blocks: unknown) => (JSON.stringify(blocks).match(/mentor\.\d+@example\.com/g) ?? []) as string[];
const statusOfEmail = (r: ManagerReport) =>
  new Map(r.groups.flatMap((g) => g.rows.map((x) => [x.mentorEmail, x.status] as const)));
const valid = (m: Message, newBlocks = true) =>
  expect(blockErrors(m.blocks, { maxBlocks: LIMITS.messageBlocks, newBlocks })).toEqual([]);
const textObjects = (blocks: unknown): Array<{ type: string; text: string; verbatim?: boolean }> => {
  const out: Array<{ type: string; text: string; verbatim?: boolean }> = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") {
      const o = v as Record<string, unknown>;
      if ((o.type === "mrkdwn" || o.type === "plain_text") && typeof o.text === "string")
        out.push(o as { type: string; text: string });
      Object.values(o).forEach(walk);
    }
  };
  walk(blocks);
  return out;
};
const buttons = (blocks: Block[]) =>
  blocks.flatMap((b) => (b.type === "actions" ? b.elements : b.type === "section" && b.accessory ? [b.accessory] : []));

describe("large teams (§18): the statuses that ask for action first, every row reachable", () => {
  it("31 rows: the four waiting statuses, Unmatched and Not Registered come before the others, in every form", () => {
    const r = team(31);
    const status = statusOfEmail(r);
    for (const form of ["data_table", "table", "sections"] as const) {
      const m = buildManagerBlocks(r, { zone: "UTC", period: null, form, buttons: true });
      valid(m);
      // Each row once, in the order the message shows them (the attention lines name mentors, not emails).
      const order = emails(m.blocks.filter((b) => b.type !== "section" || !("accessory" in b)));
      const shownStatuses = order.map((e) => status.get(e)!);
      const firstOther = shownStatuses.findIndex((s) => !ACTION_FIRST.includes(s));
      expect(firstOther).toBeGreaterThan(0);
      expect(shownStatuses.slice(firstOther).every((s) => !ACTION_FIRST.includes(s))).toBe(true);
      expect(new Set(order).size).toBe(31);
    }
  });

  it("30 rows keep the status order", () => {
    const r = team(30);
    const m = buildManagerBlocks(r, { zone: "UTC", period: null, form: "table", buttons: true });
    const shown = emails(m.blocks).map((e) => statusOfEmail(r).get(e)!);
    expect(shown[0]).toBe("Matched-Active");
  });

  it("3,000 rows: one valid message that says 'Showing N of M' beside Download CSV, at the top of the rows; the CSV has all", () => {
    const r = team(3000);
    const m = buildManagerBlocks(r, { zone: "UTC", period: null, buttons: true });
    valid(m, false);
    const shown = new Set(emails(m.blocks)).size;
    expect(shown).toBeGreaterThan(50);
    expect(shown).toBeLessThan(3000);
    const actions = m.blocks.findIndex((b) => b.type === "actions");
    const note = m.blocks[actions + 1];
    expect(note?.type).toBe("context");
    expect(JSON.stringify(note)).toContain(
      `Showing ${shown} of 3000 connections below, those that ask for action first · *Download CSV* above has every row.`,
    );
    // Everything shown is of the statuses that ask for action: they alone fill the message.
    const status = statusOfEmail(r);
    expect(emails(m.blocks).every((e) => ACTION_FIRST.includes(status.get(e)!))).toBe(true);
    // Every row is reachable: the CSV (Download CSV) holds them all, with the seed's columns, the mentee one too.
    const csv = buildCsv(r.groups).trimEnd().split("\r\n");
    expect(csv).toHaveLength(3001);
    expect(csv[0]).toContain("Mentee Name");
  });

  it("the data_table form: sortable rows with the mentor as row header, then a table, then lines for workspaces that refuse them", () => {
    const m = buildManagerBlocks(team(40), { zone: "UTC", period: null, form: "data_table", buttons: true });
    valid(m);
    const dt = m.blocks.find((b) => b.type === "data_table");
    expect(dt && dt.type === "data_table" && dt.row_header_column_index).toBe(0);
    expect(dt && dt.type === "data_table" && dt.caption).toContain("mentees never named");
    expect(blockErrors(m.blocks, { maxBlocks: 50, newBlocks: false }).join()).toContain("unsupported type: data_table");
    const table = withoutNewBlocks(m);
    expect(table.blocks.some((b) => b.type === "table")).toBe(true);
    const lines = withoutNewBlocks(table);
    valid(lines, false);
    expect(new Set(emails(lines.blocks)).size).toBe(40);
  });

  it("the emulator knows data_table's limits: a caption, 2 to 101 rows of equal length, a row header that is a column", () => {
    const cell = { type: "raw_text", text: "x" };
    const check = (b: Record<string, unknown>) =>
      blockErrors([{ type: "data_table", caption: "c", rows: [[cell], [cell]], ...b }], {
        maxBlocks: 50,
        newBlocks: true,
      }).join();
    expect(check({})).toBe("");
    expect(check({ caption: undefined })).toContain("caption is required");
    expect(check({ rows: [[cell]] })).toContain("must have 2 to 101 rows");
    expect(check({ rows: Array.from({ length: 102 }, () => [cell]) })).toContain("must have 2 to 101 rows");
    expect(check({ rows: [[cell, cell], [cell]] })).toContain("as many cells as the header");
    expect(check({ row_header_column_index: 1 })).toContain("row_header_column_index");
    expect(check({ page_size: 101 })).toContain("page_size");
  });

  it("the table drops the always-'Mentee' column; the mentor stays the first column (the row header)", () => {
    const m = buildManagerBlocks(team(12), { zone: "UTC", period: null, form: "table", buttons: true });
    const t = m.blocks.find((b) => b.type === "table");
    const header = t && t.type === "table" ? t.rows[0]!.map((c) => c.text) : [];
    expect(header[0]).toBe("Mentor");
    expect(header).not.toContain("Mentee");
  });
});

describe("frictions (issue 17 item 8)", () => {
  it("a filtered report says which program it is", () => {
    const m = buildManagerBlocks(team(5), {
      zone: "UTC",
      period: null,
      buttons: true,
      programName: "Engineering Mentorship",
    });
    expect(JSON.stringify(m.blocks)).toContain("*Engineering Mentorship only*");
    expect(m.text).toContain("Engineering Mentorship only");
  });

  it("paused and stopped are said in a line, not only by a Resume button", () => {
    const say = (control: "paused" | "stopped") =>
      JSON.stringify(buildManagerBlocks(team(5), { zone: "UTC", period: null, buttons: true, control }).blocks);
    expect(say("paused")).toContain("*Reports paused*: your next scheduled report is skipped");
    expect(say("stopped")).toContain("*Reports stopped*: no scheduled DMs until you press Resume");
  });

  it("the truncation footer never points a Home-tab reader to the Home tab", () => {
    const notes = (blocks: Block[]) =>
      blocks.filter((b) => b.type === "context" && JSON.stringify(b).includes("Showing")).map((b) => JSON.stringify(b));
    const home = notes(buildHomeView({ report: team(3000), summaries: [], zone: "UTC" }).blocks);
    expect(home).toHaveLength(2);
    for (const n of home) expect(n).not.toContain("Home tab");
    const dm = notes(buildManagerBlocks(team(3000), { zone: "UTC", period: null, buttons: true }).blocks);
    expect(dm.join()).toContain("The app's Home tab");
  });
});

describe("accessibility and inert text (item 7, §15 row 14)", () => {
  const hostile = buildManagerReport(
    { email: "boss@example.com", name: "Boss" },
    [
      row(1, "Match Request-Waiting Admin Approval", {
        mentorName: "https://evil.example/login @here",
        since: ASOF - 20 * DAY,
      }),
      row(2, "Unmatched", { mentorName: "Grace <!channel>", since: ASOF - 40 * DAY }),
    ],
    ASOF,
    SETTINGS,
  );

  it("every mrkdwn text object is verbatim, so a name holding a URL or @here is neither linked nor a mention", () => {
    const m = buildManagerBlocks(hostile, { zone: "UTC", period: null, buttons: true });
    const mrkdwn = textObjects(m.blocks).filter((t) => t.type === "mrkdwn");
    expect(mrkdwn.length).toBeGreaterThan(3);
    expect(mrkdwn.every((t) => t.verbatim === true)).toBe(true);
    expect(JSON.stringify(m.blocks)).toContain("https://evil.example/login @here");
    expect(JSON.stringify(m)).not.toContain("<!channel>");
    valid(m);
  });

  it("the text is a complete summary in sentences: counts, and who needs attention and why", () => {
    const m = buildManagerBlocks(hostile, { zone: "UTC", period: null, buttons: true });
    expect(m.text).toBe(
      "Mentorship report (as of 04-06-2026): 2 mentor connections on your team: 1 Unmatched, 1 Match Request-Waiting Admin Approval. " +
        "2 mentor connections need attention: https://evil.example/login @here (Engineering Mentorship), waiting 20 days for admin approval; " +
        "Grace &lt;!channel&gt; (Engineering Mentorship), unmatched for 40 days.",
    );
  });

  it("every button carries an accessibility_label of at most 75 characters", () => {
    for (const control of ["active", "stopped"] as const) {
      const m = buildManagerBlocks(hostile, {
        zone: "UTC",
        period: null,
        buttons: true,
        control,
        homeUrl: "slack://x",
      });
      const all = buttons(m.blocks);
      expect(all.length).toBeGreaterThanOrEqual(4);
      for (const b of all) expect(b.accessibility_label?.length ?? 0).toBeGreaterThan(0);
      for (const b of all) expect(b.accessibility_label!.length).toBeLessThanOrEqual(75);
    }
  });
});

describe("the admins' queue on the Home tab (§18)", () => {
  const program = (id: string): Program => ({
    id,
    name: `Program ${id}`,
    matchDurationMonths: 6,
    requiresMentorApproval: true,
    requiresMenteeApproval: true,
    requiresAdminApproval: true,
    adminChannel: null,
    adminEmails: ["grace@example.com"],
  });
  // 25 requests waiting for admin approval over two programs, 1 to 25 days old, and rows of other statuses.
  const rows = [
    ...Array.from({ length: 25 }, (_, i) =>
      row(i, "Match Request-Waiting Admin Approval", {
        programId: i % 2 ? "a" : "b",
        program: i % 2 ? "Program a" : "Program b",
        since: ASOF - (i + 1) * DAY,
      }),
    ),
    row(100, "Match Request-Waiting Mentor Approval", { programId: "a", program: "Program a", since: ASOF - 99 * DAY }),
    row(101, "Match Request-Waiting Admin Approval", { programId: "c", program: "Program c", since: ASOF - 99 * DAY }),
  ];
  const summaries = ["a", "b"].map((id) => buildProgramSummary(program(id), rows, ASOF, SETTINGS));

  it("only their programs' requests, the longest first, 20 at most with the total, and a CSV button", () => {
    const blocks = buildAdminQueue(summaries, ASOF, "UTC");
    const text = JSON.stringify(blocks);
    expect(text).toContain(`*Waiting for your approval* (25): the ${QUEUE_LINES} longest waits; the CSV has all 25.`);
    const lines = (blocks[0] as { text: { text: string } }).text.text.split("\n").slice(1);
    expect(lines).toHaveLength(20);
    expect(lines[0]).toBe("• *Mentor 0024* — Program b · requested 03-12-2026 · 25 days");
    expect(lines[19]).toBe("• *Mentor 0005* — Program a · requested 03-31-2026 · 6 days");
    // Another program's request and other statuses are not in it.
    expect(text).not.toContain("Mentor 0100");
    expect(text).not.toContain("Mentor 0101");
    expect(buttons(blocks).map((b) => b.action_id)).toEqual(["admin_queue_csv"]);
    expect(blockErrors(blocks, { maxBlocks: 50, newBlocks: false })).toEqual([]);
  });

  it("an admin's Home tab with three programs carries the trends of two: a view holds two charts at most", () => {
    const trend = [0, 1, 2].map((k) => ({
      at: ASOF - (2 - k) * 14 * DAY,
      counts: { "Match Request-Waiting Admin Approval": k + 1 } as const,
    }));
    const three = ["a", "b", "c"].map((id) => ({ ...buildProgramSummary(program(id), rows, ASOF, SETTINGS), trend }));
    const view = buildHomeView({ report: team(3), summaries: three, zone: "UTC", asOf: ASOF, charts: true });
    expect(blockErrors(view.blocks, { maxBlocks: 100, newBlocks: true })).toEqual([]);
    expect(view.blocks.filter((b) => b.type === "data_visualization")).toHaveLength(2);
    expect(view.blocks.some((b) => b.type === "table")).toBe(false);
  });

  it("is on an admin's Home tab, and not on a manager's who administers nothing", () => {
    const admin = JSON.stringify(buildHomeView({ report: null, summaries, zone: "UTC", asOf: ASOF }).blocks);
    expect(admin).toContain("Waiting for your approval");
    // An admin outside the HR roster is not told to ask their program admin.
    expect(admin).toContain("You are not in the HR roster");
    expect(admin).not.toContain("ask your program admin");
    const manager = JSON.stringify(buildHomeView({ report: team(3), summaries: [], zone: "UTC", asOf: ASOF }).blocks);
    expect(manager).not.toContain("Waiting for your approval");
  });
});
