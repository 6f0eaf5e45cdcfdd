import { describe, expect, it } from "vitest";
import { buildManagerReport, buildProgramSummary, changesSince } from "../../src/domain/reports.js";
import { STATUSES } from "../../src/domain/statuses.js";
import type { Program, ReportRow } from "../../src/domain/types.js";
import { blockErrors } from "../../src/emulator/block-limits.js";
import {
  ACTIONS,
  buildManagerBlocks,
  buildProgramBlocks,
  LIMITS,
  TABLE_ROWS,
  withoutNewBlocks,
} from "../../src/render/blocks.js";
import { buildCsv } from "../../src/render/csv.js";
import { buildHomeView } from "../../src/render/surfaces.js";

const ASOF = Date.UTC(2026, 2, 2, 9);
const period = { id: "2026-03-02", start: Date.UTC(2026, 2, 2), end: Date.UTC(2026, 2, 16) };

function rows(n: number): ReportRow[] {
  return Array.from({ length: n }, (_, i) => ({
    status: STATUSES[i % STATUSES.length]!,
    programId: "p",
    program: "Engineering Mentorship & <Friends>",
    organization: `Organization ${i % 7}`,
    mentorName: `Mentor Number ${String(i).padStart(4, "0")} With A Rather Long Name`,
    mentorEmail: `mentor.${i}@example.com`,
    managerEmail: "boss@example.com",
    registered: "01-05-2026",
    mentee: i % 3 ? "Mentee" : "",
    matchDate: i % 2 ? "02-01-2026" : "",
    upcomingMeetings: i % 4,
    completedMeetings: i % 5,
    sourceId: `s${i}`,
    since: null,
    endAt: null,
    lastMeetingAt: null,
  }));
}

const program: Program = {
  id: "p",
  name: "Engineering Mentorship",
  matchDurationMonths: 6,
  requiresMentorApproval: true,
  requiresMenteeApproval: true,
  requiresAdminApproval: true,
  adminChannel: "#x",
  adminEmails: [],
};

describe("Block Kit renderers", () => {
  const team = (n: number) =>
    buildManagerReport(
      { email: "boss@example.com", name: "Boss" },
      rows(n).sort((a, b) => STATUSES.indexOf(a.status) - STATUSES.indexOf(b.status)),
      ASOF,
    );
  const emails = (blocks: unknown) => new Set(JSON.stringify(blocks).match(/mentor\.\d+@example\.com/g) ?? []);

  it.each([1, 99, 100, 400, 3000])("a team of %i rows is one valid message with every row reachable", (n) => {
    const m = buildManagerBlocks(team(n), { zone: "UTC", period, buttons: true });
    expect(blockErrors(m.blocks, { maxBlocks: LIMITS.messageBlocks, newBlocks: true })).toEqual([]);
    expect(m.text).toContain(`${n} mentor connection`);
    const actions = m.blocks.find((b) => b.type === "actions");
    const ids = actions && "elements" in actions ? actions.elements.map((e) => e.action_id) : [];
    expect(ids).toContain(ACTIONS.csv);
    if (n <= TABLE_ROWS) {
      // A table of every row, its header first, the mentee a column rather than a phrase on each line.
      const table = m.blocks.find((b) => b.type === "table");
      expect(table && "rows" in table ? table.rows.length : 0).toBe(n + 1);
      expect(emails(m.blocks).size).toBe(n);
      expect(JSON.stringify(m.blocks)).not.toContain("with a Mentee");
      // The workspace that refuses tables gets every row as lines instead.
      const simpler = withoutNewBlocks(m);
      expect(blockErrors(simpler.blocks, { maxBlocks: LIMITS.messageBlocks, newBlocks: false })).toEqual([]);
      expect(emails(simpler.blocks).size).toBe(n);
    } else {
      // Too many for a table: lines as far as they fit, then the count and the CSV of every row.
      expect(m.blocks.some((b) => b.type === "table")).toBe(false);
      const shown = emails(m.blocks).size;
      if (shown < n) expect(JSON.stringify(m.blocks)).toContain(`Showing ${shown} of ${n} connections`);
      const csv = buildCsv(team(n).groups);
      expect(csv.trimEnd().split("\r\n")).toHaveLength(n + 1);
    }
  });

  it("a first DM has no changes section; a later one names each change with both statuses", () => {
    const before = rows(3).map((r) => ({ ...r, status: "Match Request-Waiting Mentor Approval" as const }));
    const after = rows(3).map((r, i) =>
      i === 1
        ? { ...r, status: "Matched-Active" as const }
        : { ...r, status: "Match Request-Waiting Mentor Approval" as const },
    );
    const first = buildManagerReport({ email: "b@x.io", name: "B" }, after, ASOF);
    expect(JSON.stringify(buildManagerBlocks(first, { zone: "UTC", period }).blocks)).not.toContain(
      "Since your last report",
    );
    const later = { ...first, changes: changesSince(before, after, ASOF - 14 * 86_400_000) };
    const m = buildManagerBlocks(later, { zone: "UTC", period });
    const text = JSON.stringify(m.blocks);
    expect(text).toContain("Since your last report");
    expect(text).toContain(
      "*Mentor Number 0001 With A Rather Long Name* (Engineering Mentorship &amp; &lt;Friends&gt;): Match Request-Waiting Mentor Approval → Matched-Active",
    );
    expect(text.indexOf("Since your last report")).toBeLessThan(text.indexOf("Matched-Active*"));
  });

  it("the attention section names mentor and reason in words", () => {
    const r = rows(2).map((x, i) =>
      i === 0
        ? { ...x, status: "Match Request-Waiting Mentor Approval" as const, since: ASOF - 14 * 86_400_000 }
        : {
            ...x,
            status: "Matched-Active" as const,
            since: ASOF - 10 * 86_400_000,
            endAt: Date.UTC(2026, 2, 10),
            upcomingMeetings: 1,
          },
    );
    const report = buildManagerReport({ email: "b@x.io", name: "B" }, r, ASOF, {
      requestDays: 14,
      unmatchedDays: 30,
      idleDays: 30,
      periodEnd: period.end,
      zone: "UTC",
    });
    const text = JSON.stringify(buildManagerBlocks(report, { zone: "UTC", period }).blocks);
    expect(text).toContain("Needs attention* (2)");
    expect(text).toContain(
      "*Mentor Number 0000 With A Rather Long Name* (Engineering Mentorship &amp; &lt;Friends&gt;) — waiting 14 days for mentor approval",
    );
    expect(text).toContain("— match ends 03-10-2026");
  });

  it("the buttons follow the manager's controls: skip and stop while active, resume after", () => {
    const ids = (control: "active" | "paused" | "stopped") => {
      const m = buildManagerBlocks(team(3), {
        zone: "UTC",
        period,
        buttons: true,
        control,
        homeUrl: "slack://app?team=T1&id=A1&tab=home",
      });
      const a = m.blocks.find((b) => b.type === "actions");
      return a && "elements" in a ? a.elements.map((e) => e.action_id) : [];
    };
    expect(ids("active")).toEqual([ACTIONS.home, ACTIONS.csv, ACTIONS.pause, ACTIONS.stop]);
    expect(ids("paused")).toEqual([ACTIONS.home, ACTIONS.csv, ACTIONS.resume]);
    expect(ids("stopped")).toEqual([ACTIONS.home, ACTIONS.csv, ACTIONS.resume]);
  });

  it("escapes Slack's control characters in names", () => {
    const report = buildManagerReport({ email: "b@x.io", name: "B" }, rows(1), ASOF);
    const text = JSON.stringify(buildManagerBlocks(report, { zone: "UTC", period, form: "sections" }).blocks);
    expect(text).toContain("Engineering Mentorship &amp; &lt;Friends&gt;");
    expect(text).not.toContain("<Friends>");
  });

  it("an empty team still renders a kind message", () => {
    const m = buildManagerBlocks(buildManagerReport({ email: "b@x.io", name: "B" }, [], ASOF), { zone: "UTC", period });
    expect(m.text).toContain("none of your team mentors");
    expect(blockErrors(m.blocks, { maxBlocks: 50, newBlocks: false })).toEqual([]);
  });

  it("the channel summary shows every relevant status and each organization, within limits", () => {
    const s = buildProgramSummary(program, rows(500), ASOF);
    const m = buildProgramBlocks(s, { zone: "UTC", period });
    expect(blockErrors(m.blocks, { maxBlocks: 50, newBlocks: false })).toEqual([]);
    const fields = m.blocks.flatMap((b) => ("fields" in b && b.fields ? b.fields.map((f) => f.text) : []));
    expect(fields).toHaveLength(9);
    expect(JSON.stringify(m.blocks)).toContain("Organization 6");
    expect(JSON.stringify(m.blocks)).not.toMatch(/mentor\.\d+@/);
  });

  it("the channel summary carries the status mix as a pie within the chart block's limits", () => {
    const summary = buildProgramSummary(program, rows(500), ASOF);
    const m = buildProgramBlocks(summary, { zone: "UTC", period, chart: true });
    expect(blockErrors(m.blocks, { maxBlocks: 50, newBlocks: true })).toEqual([]);
    const pie = m.blocks.flatMap((b) =>
      b.type === "data_visualization" && b.chart.type === "pie" ? [b.chart.segments] : [],
    )[0];
    expect(pie?.map((x) => x.label)).toEqual([
      "Matched-Active",
      "Unmatched",
      "Duration Completed",
      "Concluded",
      "Requests waiting",
      "Not Registered",
    ]);
    expect(pie?.reduce((n, x) => n + x.value, 0)).toBe(500);
    // A workspace without the newer blocks refuses it; the fallback drops the chart and lists the
    // organizations as lines instead of a table.
    expect(blockErrors(m.blocks, { maxBlocks: 50, newBlocks: false })).not.toEqual([]);
    const simpler = withoutNewBlocks(m);
    expect(blockErrors(simpler.blocks, { maxBlocks: 50, newBlocks: false })).toEqual([]);
    expect(simpler.blocks.some((b) => b.type === "data_visualization" || b.type === "table")).toBe(false);
    for (let i = 0; i < 7; i++) expect(JSON.stringify(simpler.blocks)).toContain(`*Organization ${i}* (`);
    expect(m.blocks.some((b) => b.type === "table")).toBe(true);
  });

  it("the Home tab holds a large team and several summaries within 100 blocks", () => {
    const r = rows(1000).sort((a, b) => STATUSES.indexOf(a.status) - STATUSES.indexOf(b.status));
    const view = buildHomeView({
      report: buildManagerReport({ email: "b@x.io", name: "B" }, r, ASOF),
      summaries: [1, 2, 3].map(() => buildProgramSummary(program, r, ASOF)),
      zone: "UTC",
    });
    expect(view.blocks.length).toBeLessThanOrEqual(100);
    expect(blockErrors(view.blocks, { maxBlocks: 100, newBlocks: false })).toEqual([]);
    expect(
      view.blocks.filter((b) => b.type === "header").map((b) => (b as { text: { text: string } }).text.text),
    ).toEqual([
      "Mentorship report · as of 03-02-2026",
      "Program summary · Engineering Mentorship",
      "Program summary · Engineering Mentorship",
      "Program summary · Engineering Mentorship",
    ]);
  });

  it("an admin's Home tab counts the managers who skipped this period's report", () => {
    const view = buildHomeView({
      report: null,
      summaries: [buildProgramSummary(program, rows(20), ASOF)],
      zone: "UTC",
      skips: { paused: 2, stopped: 1 },
    });
    expect(JSON.stringify(view.blocks)).toContain("skipped at the managers' wish this period: 2 paused, 1 stopped");
    expect(blockErrors(view.blocks, { maxBlocks: 100, newBlocks: false })).toEqual([]);
  });

  it("the emulator's limit check catches what Slack would refuse", () => {
    expect(blockErrors(Array(51).fill({ type: "divider" }), { maxBlocks: 50, newBlocks: false })).toEqual([
      "must be less than 51 items [json-pointer:/blocks]",
    ]);
    expect(
      blockErrors([{ type: "header", text: { type: "plain_text", text: "x".repeat(151) } }], {
        maxBlocks: 50,
        newBlocks: false,
      })[0],
    ).toMatch(/less than 151/);
    expect(
      blockErrors([{ type: "section", text: { type: "mrkdwn", text: "x".repeat(3001) } }], {
        maxBlocks: 50,
        newBlocks: false,
      })[0],
    ).toMatch(/less than 3001/);
    expect(
      blockErrors([{ type: "section", fields: Array(11).fill({ type: "mrkdwn", text: "x" }) }], {
        maxBlocks: 50,
        newBlocks: false,
      })[0],
    ).toMatch(/less than 11/);
    expect(blockErrors([{ type: "table", rows: [] }], { maxBlocks: 50, newBlocks: false })[0]).toMatch(
      /unsupported type/,
    );
    const cell = { type: "raw_text", text: "x" };
    const table = (rowCount: number, cells: number) => ({
      type: "table",
      rows: Array.from({ length: rowCount }, () => Array(cells).fill(cell)),
    });
    const check = (blocks: unknown[]) => blockErrors(blocks, { maxBlocks: 50, newBlocks: true });
    expect(check([table(100, 20)])).toEqual([]);
    expect(check([table(101, 1)])[0]).toMatch(/1 to 100 rows/);
    expect(check([table(1, 21)])[0]).toMatch(/1 to 20 cells/);
    expect(check([{ type: "table", rows: [[{ type: "raw_text", text: "" }]] }])[0]).toMatch(/raw_text must have text/);
    expect(check([table(1, 1), table(1, 1)])[0]).toMatch(/only one table/);
    const button = (action_id: string, text = "Go") => ({
      type: "button",
      action_id,
      text: { type: "plain_text", text },
    });
    expect(check([{ type: "actions", elements: [button("a"), button("a")] }])[0]).toMatch(/unique/);
    expect(check([{ type: "actions", elements: [button("a", "x".repeat(76))] }])[0]).toMatch(/less than 76/);
  });
});
