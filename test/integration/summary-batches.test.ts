import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../src/db/knex.js";
import { readReportInput, readReportInputs } from "../../src/db/report-repo.js";
import { parseInstant } from "../../src/domain/dates.js";
import { ADMIN_WAITING } from "../../src/domain/statuses.js";
import type { ReportInput } from "../../src/domain/types.js";
import { importDirectory } from "../../src/import/import-service.js";
import { createReportService } from "../../src/services/report-service.js";
import { asOfArb, reportInputArb } from "../helpers/arbitraries.js";
import { ENGINES, freshDb, type TestDb } from "../helpers/db.js";
import { SAMPLE } from "../helpers/files.js";

const ASOF = parseInstant("2026-03-02T09:00", "UTC")!;
const DAY = 86_400_000;
/** One read for all the mentors: the summary as built before batches. */
const WHOLE = Number.MAX_SAFE_INTEGER;

/** A generated company slice as tables; each match's meetings a week apart, so their counts change over time. */
async function load(db: Db, input: ReportInput): Promise<void> {
  await db("programs").insert(
    input.programs.map((p) => ({
      program_id: p.id,
      name: p.name,
      match_duration_months: p.matchDurationMonths,
      requires_mentor_approval: p.requiresMentorApproval,
      requires_mentee_approval: p.requiresMenteeApproval,
      requires_admin_approval: p.requiresAdminApproval,
    })),
  );
  const people = new Map<string, { email: string; name: string; organization: string; manager_email: string | null }>();
  for (let m = 0; m < 8; m++)
    people.set(`mentor${m}@x.io`, {
      email: `mentor${m}@x.io`,
      // Names sort the other way from emails: a summary lists rows by name, batches go by email.
      name: `Mentor ${7 - m}`,
      organization: `Org ${m % 3}`,
      // One mentor with no manager: batches go by mentor, and every mentor counts in the summary.
      manager_email: m === 7 ? null : `boss${m % 2}@x.io`,
    });
  await db("people").insert([...people.values()]);
  if (input.enrollments.length)
    await db("enrollments").insert(
      input.enrollments.map((e) => ({
        program_id: e.programId,
        email: e.email,
        role: "mentor",
        registered_at: e.registeredAt,
        added_at: e.addedAt ?? null,
      })),
    );
  if (input.matches.length) {
    await db("matches").insert(
      input.matches.map((m) => ({
        match_id: m.id,
        program_id: m.programId,
        mentor_email: m.mentorEmail,
        mentee_email: "mentee@x.io",
        matched_at: m.matchedAt,
        closed_at: m.closedAt,
      })),
    );
    const meetings = input.matches.flatMap((m) =>
      Array.from({ length: m.upcomingMeetings + m.completedMeetings }, (_, i) => ({
        meeting_id: `${m.id}-${i}`,
        match_id: m.id,
        scheduled_at: m.matchedAt + (i + 1) * 7 * DAY,
        cancelled_at: null,
      })),
    );
    if (meetings.length) await db("meetings").insert(meetings);
  }
  if (input.requests.length)
    await db("match_requests").insert(
      input.requests.map((r) => ({
        request_id: r.id,
        program_id: r.programId,
        mentor_email: r.mentorEmail,
        mentee_email: "mentee@x.io",
        requested_at: r.requestedAt,
        mentor_approved_at: r.mentorApprovedAt,
        mentee_approved_at: r.menteeApprovedAt,
        admin_approved_at: r.adminApprovedAt,
        closed_at: r.closedAt,
      })),
    );
}

describe.each(ENGINES)("program summaries built a batch of mentors at a time, on %s", (engine) => {
  describe("the sample company", () => {
    let t: TestDb;
    let reports: ReturnType<typeof createReportService>;
    let programs: Awaited<ReturnType<typeof reports.programs>>;
    beforeAll(async () => {
      t = await freshDb(engine);
      expect((await importDirectory(t.db, SAMPLE, { zone: "UTC" })).ok).toBe(true);
      reports = createReportService({ db: t.db, config: { REPORT_TIMEZONE: "UTC", REPORT_SCOPE: "direct" } });
      programs = await reports.programs();
    });
    afterAll(async () => t.drop());

    it("batches of one mentor give the summaries built whole, trend and change included", async () => {
      const whole = await reports.programSummaries(programs, ASOF, { batch: WHOLE });
      const byOne = await reports.programSummaries(programs, ASOF, { batch: 1 });
      expect(byOne).toEqual(whole);
      expect(JSON.stringify(byOne)).toBe(JSON.stringify(whole));
      // Not trivially equal: the sample's summaries have rows, organizations, attention and a trend.
      expect(whole.flatMap((s) => s.byOrganization).length).toBeGreaterThan(1);
      expect(whole.some((s) => Object.values(s.attention).some((n) => n > 0))).toBe(true);
      expect(whole.some((s) => (s.trend ?? []).length > 1)).toBe(true);
    });

    it("a summary that keeps the rows of some statuses (or none) has the same counts, and of its rows only those", async () => {
      const whole = await reports.programSummaries(programs, ASOF, { batch: 1 });
      const countsOnly = await reports.programSummaries(programs, ASOF, { batch: 1, rowsOf: [] });
      const queue = await reports.programSummaries(programs, ASOF, { batch: 1, rowsOf: [ADMIN_WAITING] });
      expect(countsOnly).toEqual(whole.map((s) => ({ ...s, groups: [] })));
      expect(queue).toEqual(whole.map((s) => ({ ...s, groups: s.groups.filter((g) => g.status === ADMIN_WAITING) })));
      // Not trivially equal: the sample has rows of several statuses, the admins' queue among them.
      expect(whole.flatMap((s) => s.groups).length).toBeGreaterThan(2);
      expect(queue.flatMap((s) => s.groups.flatMap((g) => g.rows)).length).toBeGreaterThan(0);
    });
  });

  describe("generated companies", () => {
    let t: TestDb;
    beforeAll(async () => {
      t = await freshDb(engine);
    });
    afterAll(async () => t.drop());

    it("batches of one, two or three mentors give the summaries built whole", async () => {
      const samples = fc.sample(fc.tuple(reportInputArb, asOfArb), { numRuns: 12, seed: 18 });
      for (const [input, asOf] of samples) {
        for (const table of ["meetings", "matches", "match_requests", "enrollments", "people", "programs"])
          await t.db(table).del();
        await load(t.db, input);
        const reports = createReportService({
          db: t.db,
          config: { REPORT_TIMEZONE: "UTC", REPORT_SCOPE: "direct", REPORT_ANCHOR_DATE: "2025-01-06" },
        });
        const programs = await reports.programs();
        const whole = await reports.programSummaries(programs, asOf, { batch: WHOLE });
        for (const batch of [1, 2, 3]) {
          const batched = await reports.programSummaries(programs, asOf, { batch });
          expect(batched).toEqual(whole);
          expect(JSON.stringify(batched)).toBe(JSON.stringify(whole));
        }
      }
    });

    it("one read as of several moments gives, for each, what a read as of that moment alone gives", async () => {
      const byId = <T extends { id: string }>(xs: T[]) => [...xs].sort((a, b) => a.id.localeCompare(b.id));
      const samples = fc.sample(fc.tuple(reportInputArb, fc.array(asOfArb, { minLength: 2, maxLength: 8 })), {
        numRuns: 12,
        seed: 19,
      });
      let cut = 0;
      for (const [input, moments] of samples) {
        for (const table of ["meetings", "matches", "match_requests", "enrollments", "people", "programs"])
          await t.db(table).del();
        await load(t.db, input);
        // Every other meeting cancelled three days before it was due: counts differ from moment to moment.
        const meetings = await t.db("meetings").select("meeting_id", "scheduled_at").orderBy("meeting_id");
        for (const m of meetings.filter((_, i) => i % 2 === 0))
          await t
            .db("meetings")
            .where("meeting_id", m.meeting_id)
            .update({ cancelled_at: Number(m.scheduled_at) - 3 * DAY });
        const programIds = input.programs.map((p) => p.id);
        const [first, ...rest] = moments;
        const together = await readReportInputs(t.db, { asOf: first!, programIds }, moments);
        for (const [k, asOf] of moments.entries()) {
          const alone = await readReportInput(t.db, { asOf, programIds });
          const got = together[k]!;
          expect(byId(got.matches)).toEqual(byId(alone.matches));
          expect(byId(got.requests)).toEqual(byId(alone.requests));
          expect(got.enrollments.length).toBe(alone.enrollments.length);
          if (
            rest.length &&
            (alone.matches.length !== together[0]!.matches.length ||
              alone.requests.length !== together[0]!.requests.length)
          )
            cut++;
        }
      }
      // Not trivially equal: some moments see other matches or requests than the first one does.
      expect(cut).toBeGreaterThan(0);
    });
  });
});
