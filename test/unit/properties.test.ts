import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildProgramSummary, rowsByManager } from "../../src/domain/reports.js";
import { buildRows } from "../../src/domain/status-engine.js";
import { relevantStatuses } from "../../src/domain/statuses.js";
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
