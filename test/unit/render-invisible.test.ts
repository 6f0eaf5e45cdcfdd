import { describe, expect, it } from "vitest";
import { buildRunSummaryText } from "../../src/cli/run-summary.js";
import type { RunSummary } from "../../src/delivery/delivery-service.js";
import { buildManagerReport, buildProgramSummary } from "../../src/domain/reports.js";
import { STATUSES } from "../../src/domain/statuses.js";
import type { Program, ReportRow } from "../../src/domain/types.js";
import { buildCsv } from "../../src/render/csv.js";
import { buildManagerJson, buildProgramJson, toJson } from "../../src/render/json.js";
import { buildManagerText, buildProgramText } from "../../src/render/text.js";

const ASOF = Date.UTC(2026, 2, 2, 9);
const period = { id: "2026-03-02", start: Date.UTC(2026, 2, 2), end: Date.UTC(2026, 2, 16) };

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
    ...over,
  } as ReportRow;
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

/** What a direct database write could put in a name: bidi marks and overrides, zero-width and separator characters, C1. */
const INVISIBLE = ["\u200e", "\u200f", "\u061c", "\u200b", "\ufeff", "\u2028", "\u2029", "\u202e", "\u0085", "\u007f"];
const hostile = `Ada${INVISIBLE.join("")}Lovelace`;
const RAW = /[\p{Cc}\p{Cf}\u2028\u2029]/u;
/** Every character of the output that is invisible, but the line breaks a format is made of. */
const rawIn = (s: string) => [...s].filter((c) => c !== "\n" && c !== "\r" && RAW.test(c));

describe("invisible characters are written out wherever data is printed (issue 15 rows 15 and 19)", () => {
  const r = row({
    mentorName: hostile,
    program: `Eng\u2066x\u2069`,
    organization: "Org\u200b",
    mentorEmail: "ada\u2028@x.io",
  });
  const report = buildManagerReport({ email: "b@x.io", name: `Boss\u202e` }, [r], ASOF);
  const summary = buildProgramSummary(program({ name: "P\u200f" }), [r], ASOF);

  it("the text preview", () => {
    for (const out of [buildManagerText(report, "UTC"), buildProgramText(summary, "UTC")]) {
      expect(rawIn(out)).toEqual([]);
      expect(out).toContain(
        "Ada\\u{200e}\\u{200f}\\u{61c}\\u{200b}\\u{feff}\\u{2028}\\u{2029}\\u{202e}\\x85\\x7fLovelace",
      );
    }
  });

  it("the CSV preview, which keeps a line break inside a quoted cell and an emoji's joiner", () => {
    const csv = buildCsv([
      { status: STATUSES[0]!, rows: [r, row({ mentorName: "Two\nLines", organization: "Ada 👩\u200d💻" })] },
    ]);
    expect(rawIn(csv.replaceAll("\u200d", ""))).toEqual([]);
    expect(csv).toContain("Ada\\u{200e}\\u{200f}");
    expect(csv).toContain('"Two\nLines"');
    expect(csv).toContain("Ada 👩\u200d💻");
  });

  it("the JSON output, with the same value once parsed", () => {
    for (const value of [buildManagerJson(report, "UTC"), buildProgramJson(summary, "UTC")]) {
      const out = toJson(value);
      expect(rawIn(out)).toEqual([]);
      expect(JSON.parse(out)).toEqual(value);
    }
    expect(toJson({ name: hostile })).toContain(
      "Ada\\u200e\\u200f\\u061c\\u200b\\ufeff\\u2028\\u2029\\u202e\\u0085\\u007fLovelace",
    );
  });

  it("send --dry-run's list of recipients", () => {
    const s = {
      period,
      asOf: ASOF,
      dryRun: true,
      planned: { dm: 1, channel: 1, notice: 0 },
      plan: [
        { kind: "dm", recipient: `boss\u202e@x.io`, rows: 1 },
        { kind: "channel", recipient: "eng\u200b", channel: "#eng\u2028", rows: 1 },
      ],
    } as unknown as RunSummary;
    const out = buildRunSummaryText(s, "UTC");
    expect(rawIn(out)).toEqual([]);
    expect(out).toContain("boss\\u{202e}@x.io");
    expect(out).toContain("eng\\u{200b} → #eng\\u{2028}");
  });
});
