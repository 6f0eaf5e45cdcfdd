import { describe, expect, it } from "vitest";
import { type AttentionSettings, attentionItems, attentionReasonText } from "../../src/domain/attention.js";
import { parseInstant } from "../../src/domain/dates.js";
import { periodOf } from "../../src/domain/periods.js";
import { buildManagerReport, diffRows } from "../../src/domain/reports.js";
import { buildRows } from "../../src/domain/status-engine.js";
import type { MentorMatch, MentorRequest, Program, ReportInput } from "../../src/domain/types.js";
import { buildDiffJson, buildManagerJson } from "../../src/render/json.js";

// A zone eight or nine hours from UTC, with dates clear of its DST changes: a UTC slip would move a
// boundary by a day.
const Z = "America/Los_Angeles";
const t = (iso: string) => parseInstant(iso, Z)!;

const program: Program = {
  id: "p1",
  name: "Program One",
  matchDurationMonths: 6,
  requiresMentorApproval: true,
  requiresMenteeApproval: false,
  requiresAdminApproval: false,
  adminChannel: null,
  adminEmails: [],
};

const match = (over: Partial<MentorMatch> = {}): MentorMatch => ({
  id: "m1",
  programId: "p1",
  mentorEmail: "ada@x.io",
  matchedAt: t("2026-01-01"),
  closedAt: null,
  upcomingMeetings: 0,
  completedMeetings: 0,
  lastCompletedAt: null,
  ...over,
});

const request = (over: Partial<MentorRequest> = {}): MentorRequest => ({
  id: "r1",
  programId: "p1",
  mentorEmail: "ada@x.io",
  requestedAt: t("2026-01-01"),
  mentorApprovedAt: null,
  menteeApprovedAt: null,
  adminApprovedAt: null,
  closedAt: null,
  ...over,
});

const input = (over: { matches?: MentorMatch[]; requests?: MentorRequest[]; registeredAt?: number }): ReportInput => ({
  programs: [program],
  enrollments: [
    {
      programId: "p1",
      email: "ada@x.io",
      name: "Ada Lovelace",
      organization: "Eng",
      managerEmail: "boss@x.io",
      registeredAt: over.registeredAt ?? t("2025-12-01"),
    },
  ],
  matches: over.matches ?? [],
  requests: over.requests ?? [],
});

const settings = (asOf: number): AttentionSettings => ({
  requestDays: 14,
  unmatchedDays: 30,
  idleDays: 30,
  periodEnd: periodOf(asOf, { anchorDate: "2026-01-05", intervalWeeks: 2, zone: Z }).end,
  zone: Z,
});

function attention(i: ReportInput, iso: string) {
  const asOf = t(iso);
  return attentionItems(buildRows(i, asOf, Z), asOf, settings(asOf));
}

describe("§10 attention, at each threshold, in a zone far from UTC", () => {
  it("request_waiting: 13 days is not yet, 14 days is", () => {
    const i = input({ requests: [request()] });
    expect(attention(i, "2026-01-14T23:59")).toEqual([]);
    const [a] = attention(i, "2026-01-15T00:00");
    expect(a).toEqual({
      reason: "request_waiting",
      mentorName: "Ada Lovelace",
      mentorEmail: "ada@x.io",
      program: "Program One",
      status: "Match Request-Waiting Mentor Approval",
      days: 14,
      programId: expect.any(String),
      // §18: the mentor answers a request that waits for them.
      nudge: { to: "mentor" },
    });
    expect(attentionReasonText(a!)).toBe("waiting 14 days for mentor approval");
  });

  it("unmatched: counted from registration, 29 days is not yet, 30 days is", () => {
    const i = input({ registeredAt: t("2026-01-01") });
    expect(attention(i, "2026-01-30T23:59")).toEqual([]);
    expect(attention(i, "2026-01-31T00:00")).toMatchObject([{ reason: "unmatched", status: "Unmatched", days: 30 }]);
  });

  it("match_ending: an active match whose end falls before the end of the period that contains T", () => {
    // Matched 08-20-2025 for 6 months: ends 02-20-2026. Periods start 02-02 and 02-16.
    const i = input({ matches: [match({ matchedAt: t("2025-08-20"), upcomingMeetings: 1 })] });
    expect(attention(i, "2026-02-15T23:59")).toEqual([]);
    const [a] = attention(i, "2026-02-16T00:00");
    expect(a).toMatchObject({ reason: "match_ending", status: "Matched-Active", date: "02-20-2026" });
    expect(a).not.toHaveProperty("days");
    expect(attentionReasonText(a!)).toBe("match ends 02-20-2026");
  });

  it("no_meetings: counted from the match when there has been no meeting", () => {
    const i = input({ matches: [match()] });
    expect(attention(i, "2026-01-30T23:59")).toEqual([]);
    expect(attention(i, "2026-01-31T00:00")).toMatchObject([{ reason: "no_meetings", days: 30 }]);
  });

  it("no_meetings: counted from the last completed meeting, and never while one is upcoming", () => {
    const idle = input({ matches: [match({ completedMeetings: 2, lastCompletedAt: t("2026-01-20") })] });
    expect(attention(idle, "2026-02-18T23:59")).toEqual([]);
    expect(attention(idle, "2026-02-19T00:00")).toMatchObject([{ reason: "no_meetings", days: 30 }]);
    const booked = input({ matches: [match({ upcomingMeetings: 1 })] });
    expect(attention(booked, "2026-03-01T00:00")).toEqual([]);
  });

  it("lists reasons in the contract's order", () => {
    const i: ReportInput = {
      ...input({ requests: [request({ requestedAt: t("2025-11-01") })] }),
      enrollments: [
        ...input({}).enrollments,
        { ...input({}).enrollments[0]!, email: "bo@x.io", name: "Bo", registeredAt: t("2025-01-01") },
      ],
    };
    expect(attention(i, "2026-01-15").map((a) => a.reason)).toEqual(["request_waiting", "unmatched"]);
  });
});

describe("the JSON shapes of §10", () => {
  it("a manager report carries `attention`, [] when nothing needs it", () => {
    const asOf = t("2026-01-02");
    const quiet = buildManagerReport(
      { email: "b@x.io", name: "B" },
      buildRows(input({ registeredAt: t("2026-01-01") }), asOf, Z),
      asOf,
      settings(asOf),
    );
    expect(buildManagerJson(quiet, Z).attention).toEqual([]);
    const late = t("2026-03-01");
    const busy = buildManagerReport(
      { email: "b@x.io", name: "B" },
      buildRows(input({ requests: [request()] }), late, Z),
      late,
      settings(late),
    );
    expect(buildManagerJson(busy, Z).attention).toEqual([
      expect.objectContaining({ reason: "request_waiting", mentorEmail: "ada@x.io", days: 59 }),
    ]);
  });

  it("changes since S: since, added, removed, changed[{before, after}] with the status on every row", () => {
    const s = t("2026-01-02");
    const T = t("2026-03-01");
    const before = buildRows(input({ requests: [request()] }), s, Z);
    const after = buildRows(input({ requests: [request({ closedAt: t("2026-01-10") })], matches: [match()] }), T, Z);
    const j = buildDiffJson(diffRows(before, after), s, Z);
    expect(Object.keys(j)).toEqual(["since", "added", "removed", "changed"]);
    expect(j.since).toBe("2026-01-02T00:00:00-08:00");
    expect(j.changed).toEqual([]);
    expect(j.added).toEqual([expect.objectContaining({ status: "Matched-Active", mentorName: "Ada Lovelace" })]);
    expect(j.removed).toEqual([
      expect.objectContaining({ status: "Match Request-Waiting Mentor Approval", mentee: "Mentee" }),
    ]);
    expect(Object.keys(j.added[0]!)).toEqual([
      "status",
      "program",
      "organization",
      "mentorName",
      "mentorEmail",
      "registered",
      "mentee",
      "matchDate",
      "upcomingMeetings",
      "completedMeetings",
    ]);
  });
});
