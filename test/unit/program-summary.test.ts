import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { AttentionSettings } from "../../src/domain/attention.js";
import { addStatusCounts, buildProgramSummary, mergeProgramSummaries, statusCounts } from "../../src/domain/reports.js";
import { buildRows } from "../../src/domain/status-engine.js";
import type { ReportInput } from "../../src/domain/types.js";
import { asOfArb, reportInputArb } from "../helpers/arbitraries.js";

const DAY = 86_400_000;

/** The part of a company slice that belongs to these mentors: what one batch's read returns. */
function onlyMentors(input: ReportInput, mentors: ReadonlySet<string>): ReportInput {
  return {
    programs: input.programs,
    enrollments: input.enrollments.filter((e) => mentors.has(e.email)),
    matches: input.matches.filter((m) => mentors.has(m.mentorEmail)),
    requests: input.requests.filter((r) => mentors.has(r.mentorEmail)),
  };
}

/** Every mentor of the slice (enrolled or not) put in one of a few batches. */
const splitArb = fc.array(fc.nat(3), { minLength: 8, maxLength: 8 });

describe("a program summary built a batch of mentors at a time", () => {
  it("equals the one built from all the rows: counts, organizations, rows in report order, attention", () => {
    fc.assert(
      fc.property(reportInputArb, asOfArb, splitArb, (input, asOf, split) => {
        const settings: AttentionSettings = {
          requestDays: 7,
          unmatchedDays: 14,
          idleDays: 30,
          periodEnd: asOf + 14 * DAY,
          zone: "UTC",
        };
        const whole = buildRows(input, asOf, "UTC");
        const batches = [0, 1, 2, 3].map(
          (b) => new Set(split.flatMap((to, mentor) => (to === b ? [`mentor${mentor}@x.io`] : []))),
        );
        for (const program of input.programs) {
          let merged = buildProgramSummary(program, [], asOf, settings);
          let counts = {};
          for (const batch of batches) {
            const rows = buildRows(onlyMentors(input, batch), asOf, "UTC");
            merged = mergeProgramSummaries(program, merged, buildProgramSummary(program, rows, asOf, settings));
            counts = addStatusCounts(counts, statusCounts(rows, program.id));
          }
          expect(merged).toEqual(buildProgramSummary(program, whole, asOf, settings));
          // Same order too (toEqual does not look at it): rows within a status, statuses, organizations.
          expect(JSON.stringify(merged)).toBe(JSON.stringify(buildProgramSummary(program, whole, asOf, settings)));
          expect(JSON.stringify(counts)).toBe(JSON.stringify(statusCounts(whole, program.id)));
        }
      }),
      { numRuns: 300 },
    );
  });
});
