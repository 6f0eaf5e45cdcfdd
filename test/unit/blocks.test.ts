import { describe, expect, it } from "vitest";
import { buildManagerReport, buildProgramSummary } from "../../src/domain/reports.js";
import { STATUSES } from "../../src/domain/statuses.js";
import type { Program, ReportRow } from "../../src/domain/types.js";
import { blockErrors } from "../../src/emulator/block-limits.js";
import { buildManagerBlocks, buildProgramBlocks, LIMITS, withoutNewBlocks } from "../../src/render/blocks.js";
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
  it.each([1, 50, 500, 3000])("a team of %i rows fits one message within every limit", (n) => {
    const report = buildManagerReport(
      { email: "boss@example.com", name: "Boss" },
      rows(n).sort((a, b) => STATUSES.indexOf(a.status) - STATUSES.indexOf(b.status)),
      ASOF,
    );
    const m = buildManagerBlocks(report, { zone: "UTC", period });
    expect(blockErrors(m.blocks, { maxBlocks: LIMITS.messageBlocks, newBlocks: false })).toEqual([]);
    expect(m.text.length).toBeGreaterThan(0);
    expect(m.text).toContain(`${n} mentor connection`);
    const shown = JSON.stringify(m.blocks).match(/mentor\.\d+@example\.com/g)?.length ?? 0;
    if (n <= 500) expect(shown).toBe(n);
    else {
      expect(shown).toBeLessThan(n);
      expect(JSON.stringify(m.blocks)).toContain(`Showing ${shown} of ${n} connections`);
    }
  });

  it("escapes Slack's control characters in names", () => {
    const report = buildManagerReport({ email: "b@x.io", name: "B" }, rows(1), ASOF);
    const text = JSON.stringify(buildManagerBlocks(report, { zone: "UTC", period }).blocks);
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
    const chart = m.blocks.find((b) => b.type === "data_visualization") as Extract<
      (typeof m.blocks)[number],
      { type: "data_visualization" }
    >;
    expect(chart.chart.segments.map((x) => x.label)).toEqual([
      "Matched-Active",
      "Unmatched",
      "Duration Completed",
      "Concluded",
      "Requests waiting",
      "Not Registered",
    ]);
    expect(chart.chart.segments.reduce((n, x) => n + x.value, 0)).toBe(500);
    // A workspace without the newer blocks refuses it; the fallback drops only the chart.
    expect(blockErrors(m.blocks, { maxBlocks: 50, newBlocks: false })).not.toEqual([]);
    expect(blockErrors(withoutNewBlocks(m).blocks, { maxBlocks: 50, newBlocks: false })).toEqual([]);
    expect(withoutNewBlocks(m).blocks).toHaveLength(m.blocks.length - 1);
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
  });
});
