import { describe, expect, it } from "vitest";
import { parseInstant } from "../../src/domain/dates.js";
import { buildRows } from "../../src/domain/status-engine.js";
import type { MentorMatch, MentorRequest, Program, ReportInput } from "../../src/domain/types.js";

const Z = "UTC";
const t = (iso: string, zone = Z) => parseInstant(iso, zone)!;

const program = (over: Partial<Program> = {}): Program => ({
  id: "p1",
  name: "Program One",
  matchDurationMonths: 6,
  requiresMentorApproval: true,
  requiresMenteeApproval: true,
  requiresAdminApproval: true,
  adminChannel: null,
  adminEmails: [],
  ...over,
});

const match = (over: Partial<MentorMatch> = {}): MentorMatch => ({
  id: "m1",
  programId: "p1",
  mentorEmail: "ada@x.io",
  matchedAt: t("2026-01-01"),
  closedAt: null,
  upcomingMeetings: 0,
  completedMeetings: 0,
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

function input(opts: {
  program?: Partial<Program>;
  registeredAt?: number | null;
  matches?: MentorMatch[];
  requests?: MentorRequest[];
}): ReportInput {
  return {
    programs: [program(opts.program)],
    enrollments: [
      {
        programId: "p1",
        email: "ada@x.io",
        name: "Ada",
        organization: "Eng",
        managerEmail: "boss@x.io",
        registeredAt: opts.registeredAt === undefined ? t("2025-12-01") : opts.registeredAt,
      },
    ],
    matches: opts.matches ?? [],
    requests: opts.requests ?? [],
  };
}

const statuses = (i: ReportInput, asOf: string, zone = Z) => buildRows(i, t(asOf, zone), zone).map((r) => r.status);

describe("status engine: one rule per case, boundaries included", () => {
  it.each([
    [
      "a match ending exactly at the report time is Duration Completed",
      { matches: [match()] },
      "2026-07-01",
      "Matched-Duration Completed",
    ],
    [
      "a match one millisecond before its end is Active",
      { matches: [match()] },
      "2026-06-30T23:59:59.999Z",
      "Matched-Active",
    ],
    [
      "a match closed exactly at its end is Duration Completed",
      { matches: [match({ closedAt: t("2026-07-01") })] },
      "2026-08-01",
      "Matched-Duration Completed",
    ],
    [
      "a match closed a day before its end is Concluded",
      { matches: [match({ closedAt: t("2026-06-30") })] },
      "2026-08-01",
      "Concluded",
    ],
    [
      "a closing after the report time has not happened yet",
      { matches: [match({ closedAt: t("2026-03-01") })] },
      "2026-02-01",
      "Matched-Active",
    ],
    [
      "a match made after the report time has not happened: Unmatched",
      { matches: [match({ matchedAt: t("2026-05-01") })] },
      "2026-02-01",
      "Unmatched",
    ],
    [
      "the program's match duration sets the end",
      { program: { matchDurationMonths: 1 }, matches: [match()] },
      "2026-02-01",
      "Matched-Duration Completed",
    ],
    [
      "a duration of 0 means the default of 6 months",
      { program: { matchDurationMonths: 0 }, matches: [match()] },
      "2026-06-30",
      "Matched-Active",
    ],
    [
      "no approvals yet: waiting for both",
      { requests: [request()] },
      "2026-02-01",
      "Match Request-Waiting 2 Approvals",
    ],
    [
      "mentor approved: waiting for the mentee",
      { requests: [request({ mentorApprovedAt: t("2026-01-02") })] },
      "2026-02-01",
      "Match Request-Waiting Mentee Approval",
    ],
    [
      "mentee approved: waiting for the mentor",
      { requests: [request({ menteeApprovedAt: t("2026-01-02") })] },
      "2026-02-01",
      "Match Request-Waiting Mentor Approval",
    ],
    [
      "participants approved: waiting for the admin",
      { requests: [request({ mentorApprovedAt: t("2026-01-02"), menteeApprovedAt: t("2026-01-03") })] },
      "2026-02-01",
      "Match Request-Waiting Admin Approval",
    ],
    [
      "an approval after the report time has not happened yet",
      { requests: [request({ mentorApprovedAt: t("2026-03-01") })] },
      "2026-02-01",
      "Match Request-Waiting 2 Approvals",
    ],
    [
      "mentor approval not required: waiting for the mentee only",
      { program: { requiresMentorApproval: false }, requests: [request()] },
      "2026-02-01",
      "Match Request-Waiting Mentee Approval",
    ],
    [
      "mentee approval not required: waiting for the mentor only",
      { program: { requiresMenteeApproval: false }, requests: [request()] },
      "2026-02-01",
      "Match Request-Waiting Mentor Approval",
    ],
    [
      "only admin approval required",
      { program: { requiresMentorApproval: false, requiresMenteeApproval: false }, requests: [request()] },
      "2026-02-01",
      "Match Request-Waiting Admin Approval",
    ],
    [
      "a fully approved request with no match row yields no row: Unmatched",
      {
        requests: [
          request({
            mentorApprovedAt: t("2026-01-02"),
            menteeApprovedAt: t("2026-01-02"),
            adminApprovedAt: t("2026-01-03"),
          }),
        ],
      },
      "2026-02-01",
      "Unmatched",
    ],
    [
      "a closed request is not open: Unmatched",
      { requests: [request({ closedAt: t("2026-01-10") })] },
      "2026-02-01",
      "Unmatched",
    ],
    [
      "a request closed after the report time is still open",
      { requests: [request({ closedAt: t("2026-03-10") })] },
      "2026-02-01",
      "Match Request-Waiting 2 Approvals",
    ],
    [
      "a request made after the report time is not there: Unmatched",
      { requests: [request({ requestedAt: t("2026-03-01") })] },
      "2026-02-01",
      "Unmatched",
    ],
    ["not registered", { registeredAt: null, matches: [match()] }, "2026-02-01", "Not Registered"],
    [
      "a registration after the report time: Not Registered",
      { registeredAt: t("2026-02-02"), matches: [match()] },
      "2026-02-01",
      "Not Registered",
    ],
    ["registered exactly at the report time counts", { registeredAt: t("2026-02-01") }, "2026-02-01", "Unmatched"],
  ] as const)("%s", (_name, opts, asOf, expected) => {
    expect(statuses(input(opts as Parameters<typeof input>[0]), asOf)).toEqual([expected]);
  });

  it("a mentor with two matches and a pending request gets three rows, in status order", () => {
    const i = input({
      matches: [match({ id: "m1", matchedAt: t("2025-06-01") }), match({ id: "m2", matchedAt: t("2026-01-15") })],
      requests: [request({ mentorApprovedAt: t("2026-01-20") })],
    });
    expect(statuses(i, "2026-02-01")).toEqual([
      "Matched-Active",
      "Matched-Duration Completed",
      "Match Request-Waiting Mentee Approval",
    ]);
  });

  it("not registered means exactly one row, whatever else the mentor has", () => {
    const rows = buildRows(
      input({ registeredAt: null, matches: [match()], requests: [request()] }),
      t("2026-02-01"),
      Z,
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      status: "Not Registered",
      registered: "",
      mentee: "",
      matchDate: "",
      upcomingMeetings: 0,
      completedMeetings: 0,
    });
  });

  it("fills the columns by the seed's rules", () => {
    const rows = buildRows(
      input({
        matches: [
          match({ id: "a", upcomingMeetings: 2, completedMeetings: 3 }),
          match({ id: "b", matchedAt: t("2025-01-01"), closedAt: t("2025-02-01"), completedMeetings: 1 }),
        ],
        requests: [request()],
      }),
      t("2026-02-01"),
      Z,
    );
    const by = Object.fromEntries(rows.map((r) => [r.status, r]));
    expect(by["Matched-Active"]).toMatchObject({
      registered: "12-01-2025",
      mentee: "Mentee",
      matchDate: "01-01-2026",
      upcomingMeetings: 2,
      completedMeetings: 3,
    });
    expect(by.Concluded).toMatchObject({ mentee: "Mentee", matchDate: "", completedMeetings: 1 });
    expect(by["Match Request-Waiting 2 Approvals"]).toMatchObject({
      mentee: "Mentee",
      matchDate: "",
      upcomingMeetings: 0,
      completedMeetings: 0,
    });
    const unmatched = buildRows(input({}), t("2026-02-01"), Z)[0]!;
    expect(unmatched).toMatchObject({
      status: "Unmatched",
      mentee: "",
      matchDate: "",
      program: "Program One",
      organization: "Eng",
      mentorName: "Ada",
    });
  });

  it("date-only values are midnight in REPORT_TIMEZONE and shown in that zone", () => {
    const zone = "America/Los_Angeles";
    const i = input({ registeredAt: t("2026-01-10", zone), matches: [match({ matchedAt: t("2026-01-15", zone) })] });
    // Midnight in Los Angeles is 08:00 UTC: a UTC rendering would still say 01-15, but an instant
    // one hour before that midnight must not yet see the match.
    const rows = buildRows(i, t("2026-01-20", zone), zone);
    expect(rows[0]).toMatchObject({ status: "Matched-Active", registered: "01-10-2026", matchDate: "01-15-2026" });
    expect(statuses(i, "2026-01-14T23:00", zone)).toEqual(["Unmatched"]);
    // A late-evening UTC instant is shown on the zone's own calendar day.
    const late = input({ registeredAt: t("2026-01-10T03:00:00Z") });
    expect(buildRows(late, t("2026-02-01"), zone)[0]!.registered).toBe("01-09-2026");
  });

  it("adds months on the zone's calendar: a match on Aug 31 for 6 months ends on the last day of February", () => {
    const i = input({ matches: [match({ matchedAt: t("2025-08-31") })] });
    expect(statuses(i, "2026-02-27T23:59")).toEqual(["Matched-Active"]);
    expect(statuses(i, "2026-02-28")).toEqual(["Matched-Duration Completed"]);
  });

  it("orders rows deterministically whatever the input order", () => {
    const base = input({
      matches: [match({ id: "m2" }), match({ id: "m1" })],
      requests: [request({ id: "r2" }), request({ id: "r1" })],
    });
    const shuffled = { ...base, matches: [...base.matches].reverse(), requests: [...base.requests].reverse() };
    const ids = (i: ReportInput) => buildRows(i, t("2026-02-01"), Z).map((r) => r.sourceId);
    expect(ids(base)).toEqual(["m1", "m2", "r1", "r2"]);
    expect(ids(shuffled)).toEqual(ids(base));
  });
});
