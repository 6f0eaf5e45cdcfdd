import { describe, expect, it } from "vitest";
import { buildManagerReport, buildProgramSummary } from "../../src/domain/reports.js";
import { STATUSES } from "../../src/domain/statuses.js";
import type { Program, ReportRow } from "../../src/domain/types.js";
import { buildManagerBlocks, buildProgramBlocks } from "../../src/render/blocks.js";
import { buildCsv } from "../../src/render/csv.js";
import { buildManagerText, buildProgramText } from "../../src/render/text.js";

const ASOF = Date.UTC(2026, 2, 2, 9);
const period = { id: "2026-03-02", start: Date.UTC(2026, 2, 2), end: Date.UTC(2026, 2, 16) };
const HOSTILE_NAME = "<!channel> Eng <https://evil.example|click> & <@U123>";

function row(over: Partial<ReportRow> = {}): ReportRow {
  return {
    status: STATUSES[0]!,
    programId: "p",
    program: "Engineering",
    organization: "Platform",
    mentorName: "Ada",
    mentorEmail: "ada@example.com",
    managerEmail: "boss@example.com",
    registered: "01-05-2026",
    mentee: "Mentee",
    matchDate: "02-01-2026",
    upcomingMeetings: 1,
    completedMeetings: 2,
    sourceId: "s1",
    since: null,
    endAt: null,
    lastMeetingAt: null,
    ...over,
  };
}

const program = (over: Partial<Program> = {}): Program => ({
  id: "p",
  name: "Engineering",
  matchDurationMonths: 6,
  requiresMentorApproval: true,
  requiresMenteeApproval: true,
  requiresAdminApproval: true,
  adminChannel: "#x",
  adminEmails: [],
  ...over,
});

/** Every string Slack would read as text in a message: the `text` fallback and every block's text. */
function slackTexts(m: { text: string; blocks: unknown[] }): string[] {
  const out = [m.text];
  JSON.stringify(m.blocks, (k, v) => {
    if ((k === "text" || k === "title" || k === "label") && typeof v === "string") out.push(v);
    return v;
  });
  return out;
}

describe("hostile data never mentions, links or notifies in Slack (issue 9 row 1, spec §14)", () => {
  it("a program name with <!channel> and a link is escaped in the channel summary's text fallback", () => {
    const s = buildProgramSummary(program({ name: HOSTILE_NAME }), [row()], ASOF);
    for (const chart of [false, true]) {
      const m = buildProgramBlocks(s, { zone: "UTC", period, chart });
      expect(m.text).toContain("&lt;!channel&gt; Eng &lt;https://evil.example|click&gt; &amp; &lt;@U123&gt;");
      for (const t of slackTexts(m)) expect(t).not.toMatch(/<[!@#]|<https?:/);
    }
  });

  it("a manager's DM fallback and blocks carry no live mention from any field", () => {
    const report = buildManagerReport(
      { email: "boss@example.com", name: HOSTILE_NAME },
      [row({ program: HOSTILE_NAME, organization: HOSTILE_NAME, mentorName: HOSTILE_NAME })],
      ASOF,
    );
    const m = buildManagerBlocks(report, { zone: "UTC", period });
    for (const t of slackTexts(m)) expect(t).not.toMatch(/<[!@#]|<https?:/);
  });
});

describe("control characters never reach a terminal or Slack (issue 9 row 10)", () => {
  const nasty = "Ada\u001b[31mRED\u0007\u0000\u009b";
  it("the text preview shows them escaped, not raw", () => {
    const r = row({ mentorName: nasty, program: `Eng${"\u001b"}]0;title\u0007`, organization: "Org\rX" });
    const manager = buildManagerText(buildManagerReport({ email: "b@x.io", name: `Boss\u001b[2J` }, [r], ASOF), "UTC");
    const summary = buildProgramText(buildProgramSummary(program({ name: "P\u001b[1m" }), [r], ASOF), "UTC");
    for (const out of [manager, summary]) {
      expect(out).not.toMatch(/[^\P{Cc}\n]/u);
      expect(out).toContain("\\x1b[31mRED");
    }
  });

  it("Slack blocks and fallbacks carry none of them", () => {
    const r = row({ mentorName: nasty, program: "Eng\u0007", organization: "Org\u001b" });
    const report = buildManagerReport({ email: "b@x.io", name: "Boss" }, [r], ASOF);
    const summary = buildProgramSummary(program({ name: "P\u001b[1m\u0000" }), [r], ASOF);
    for (const m of [
      buildManagerBlocks(report, { zone: "UTC", period }),
      buildProgramBlocks(summary, { zone: "UTC", period, chart: true }),
    ])
      for (const t of slackTexts(m)) expect(t).not.toMatch(/[^\P{Cc}\n]/u);
  });
});

describe("CSV output is safe to open in a spreadsheet (issue 9 row 2, spec §14)", () => {
  it("a text cell that starts a formula is prefixed with ', numbers stay numbers", () => {
    const csv = buildCsv([
      {
        status: STATUSES[0]!,
        rows: [
          row({
            program: '=HYPERLINK("https://evil.example","x")',
            organization: "+1+cmd|' /C calc'!A0",
            mentorName: "@SUM(1+1)",
            mentorEmail: "-2+3",
            registered: "\tTabbed",
            matchDate: "\rCR",
            upcomingMeetings: 3,
            completedMeetings: 0,
          }),
        ],
      },
    ]);
    const line = csv.split("\r\n")[1]!;
    expect(line).toContain(`"'=HYPERLINK(""https://evil.example"",""x"")"`);
    expect(line).toContain(`'+1+cmd|' /C calc'!A0`);
    expect(line).toContain("'@SUM(1+1)");
    expect(line).toContain("'-2+3");
    // A tab is written out (§15), so it no longer starts the cell.
    expect(line).toContain("\\x09Tabbed");
    expect(line).toContain(`"'\rCR"`);
    expect(line.endsWith(",3,0")).toBe(true);
    expect(line.split(",").some((c) => /^[=+\-@\t\r]/.test(c))).toBe(false);
  });

  it("plain values are left as they are", () => {
    const csv = buildCsv([{ status: STATUSES[0]!, rows: [row()] }]);
    expect(csv.split("\r\n")[1]).toBe(
      `${STATUSES[0]},Engineering,Platform,Ada,ada@example.com,01-05-2026,Mentee,02-01-2026,1,2`,
    );
  });
});
