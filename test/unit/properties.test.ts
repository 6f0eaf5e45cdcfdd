import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { attentionItems } from "../../src/domain/attention.js";
import { buildProgramSummary, rowsByManager } from "../../src/domain/reports.js";
import { buildRows, matchEnd } from "../../src/domain/status-engine.js";
import { relevantStatuses, STATUSES } from "../../src/domain/statuses.js";
import type { ReportInput } from "../../src/domain/types.js";
import { asOfArb, reportInputArb } from "../helpers/arbitraries.js";

const ZONES = ["UTC", "America/New_York", "Asia/Kolkata"];

describe("status engine properties", () => {
  it("every mentor enrollment yields at least one row, and a not-registered one exactly one", () => {
    fc.assert(
      fc.property(reportInputArb, asOfArb, fc.constantFrom(...ZONES), (input, asOf, zone) => {
        const rows = buildRows(input, asOf, zone);
        for (const e of input.enrollments) {
          const mine = rows.filter((r) => r.programId === e.programId && r.mentorEmail === e.email);
          expect(mine.length).toBeGreaterThanOrEqual(1);
          if (e.registeredAt === null || e.registeredAt > asOf)
            expect(mine.map((r) => r.status)).toEqual(["Not Registered"]);
        }
      }),
    );
  });

  it("statuses stay within the program's relevant set", () => {
    fc.assert(
      fc.property(reportInputArb, asOfArb, (input, asOf) => {
        const programs = new Map(input.programs.map((p) => [p.id, p]));
        for (const r of buildRows(input, asOf, "UTC"))
          expect(relevantStatuses(programs.get(r.programId)!)).toContain(r.status);
      }),
    );
  });

  it("a program summary lists every relevant status and its counts add up to its rows", () => {
    fc.assert(
      fc.property(reportInputArb, asOfArb, (input, asOf) => {
        const rows = buildRows(input, asOf, "UTC");
        for (const p of input.programs) {
          const s = buildProgramSummary(p, rows, asOf);
          const mine = rows.filter((r) => r.programId === p.id);
          expect(s.counts.map((c) => c.status)).toEqual(relevantStatuses(p));
          expect(s.counts.reduce((n, c) => n + c.count, 0)).toBe(mine.length);
          expect(s.byOrganization.reduce((n, o) => n + o.total, 0)).toBe(mine.length);
          expect(s.groups.flatMap((g) => g.rows)).toEqual(mine);
        }
      }),
    );
  });

  it("a report as of a past time does not depend on anything that happened after it", () => {
    fc.assert(
      fc.property(reportInputArb, asOfArb, (input, asOf) => {
        // Erase every event after asOf: the report must not change.
        const cut = <T extends number | null>(v: T) => (v !== null && v > asOf ? null : v);
        const past = {
          ...input,
          enrollments: input.enrollments.map((e) => ({ ...e, registeredAt: cut(e.registeredAt) })),
          matches: input.matches.filter((m) => m.matchedAt <= asOf).map((m) => ({ ...m, closedAt: cut(m.closedAt) })),
          requests: input.requests
            .filter((r) => r.requestedAt <= asOf)
            .map((r) => ({
              ...r,
              mentorApprovedAt: cut(r.mentorApprovedAt),
              menteeApprovedAt: cut(r.menteeApprovedAt),
              adminApprovedAt: cut(r.adminApprovedAt),
              closedAt: cut(r.closedAt),
            })),
        };
        expect(buildRows(past, asOf, "UTC")).toEqual(buildRows(input, asOf, "UTC"));
      }),
    );
  });

  it("splitting rows among managers gives each row to its mentor's manager once (direct scope)", () => {
    fc.assert(
      fc.property(reportInputArb, asOfArb, (input, asOf) => {
        const rows = buildRows(input, asOf, "UTC");
        const managerOf = new Map(input.enrollments.map((e) => [e.email, e.managerEmail]));
        const split = rowsByManager(rows, managerOf, "direct");
        expect([...split.values()].reduce((n, rs) => n + rs.length, 0)).toBe(rows.length);
        for (const [m, rs] of split) for (const r of rs) expect(r.managerEmail).toBe(m);
      }),
    );
  });
});

describe("the generators reach every status, and the statuses keep to the approvals (issue 15 promise)", () => {
  it("a sample holds every status, requests waiting for 2 approvals and for the admin, and admin approvals after T", () => {
    const seen = new Set<string>();
    let adminAfterT = 0;
    for (const [input, asOf] of fc.sample(fc.tuple(reportInputArb, asOfArb), { numRuns: 300, seed: 15 })) {
      const requests = new Map(input.requests.map((r) => [r.id, r]));
      for (const r of buildRows(input, asOf, "UTC")) {
        seen.add(r.status);
        const approved = requests.get(r.sourceId)?.adminApprovedAt;
        if (r.status === "Match Request-Waiting Admin Approval" && approved != null && approved > asOf) adminAfterT++;
      }
    }
    expect([...STATUSES].filter((s) => !seen.has(s))).toEqual([]);
    expect(adminAfterT).toBeGreaterThan(0);
  });

  it("a waiting request's status says exactly which required approvals are missing as of T", () => {
    fc.assert(
      fc.property(reportInputArb, asOfArb, (input, asOf) => {
        const programs = new Map(input.programs.map((p) => [p.id, p]));
        const requests = new Map(input.requests.map((r) => [r.id, r]));
        const by = (at: number | null) => at !== null && at <= asOf;
        for (const row of buildRows(input, asOf, "UTC")) {
          const r = requests.get(row.sourceId);
          if (!r || !row.status.startsWith("Match Request")) continue;
          const p = programs.get(r.programId)!;
          const mentor = p.requiresMentorApproval && !by(r.mentorApprovedAt);
          const mentee = p.requiresMenteeApproval && !by(r.menteeApprovedAt);
          const admin = p.requiresAdminApproval && !by(r.adminApprovedAt);
          const expected =
            mentor && mentee
              ? "Match Request-Waiting 2 Approvals"
              : mentee
                ? "Match Request-Waiting Mentee Approval"
                : mentor
                  ? "Match Request-Waiting Mentor Approval"
                  : "Match Request-Waiting Admin Approval";
          expect(row.status).toBe(expected);
          if (expected.endsWith("Admin Approval")) expect(admin).toBe(true);
          expect(by(r.requestedAt) && !by(r.closedAt)).toBe(true);
        }
      }),
    );
  });
});

describe("match_ending at the period's end (issue 15 promise)", () => {
  const program = {
    id: "p",
    name: "P",
    matchDurationMonths: 6,
    requiresMentorApproval: false,
    requiresMenteeApproval: false,
    requiresAdminApproval: false,
    adminChannel: null,
    adminEmails: [],
  };
  const input = (matchedAt: number): ReportInput => ({
    programs: [program],
    enrollments: [
      {
        programId: "p",
        email: "ada@x.io",
        name: "Ada",
        organization: "O",
        managerEmail: "boss@x.io",
        registeredAt: Date.UTC(2025, 0, 1),
      },
    ],
    matches: [
      {
        id: "m",
        programId: "p",
        mentorEmail: "ada@x.io",
        matchedAt,
        closedAt: null,
        upcomingMeetings: 1,
        completedMeetings: 0,
      },
    ],
    requests: [],
  });
  const ending = (matchedAt: number, periodEnd: number) => {
    const asOf = Date.UTC(2025, 11, 1);
    const settings = { requestDays: 14, unmatchedDays: 30, idleDays: 30, periodEnd, zone: "UTC" };
    return attentionItems(buildRows(input(matchedAt), asOf, "UTC"), asOf, settings).filter(
      (a) => a.reason === "match_ending",
    );
  };

  it("a match ending exactly when the period ends is not ending in it; a millisecond earlier it is", () => {
    const matchedAt = Date.UTC(2025, 6, 1, 12);
    const end = matchEnd(input(matchedAt).matches[0]!, program, "UTC");
    expect(ending(matchedAt, end)).toEqual([]);
    expect(ending(matchedAt, end + 1)).toMatchObject([{ reason: "match_ending", date: "01-01-2026" }]);
    expect(ending(matchedAt - 1, end)).toMatchObject([{ reason: "match_ending" }]);
  });
});
