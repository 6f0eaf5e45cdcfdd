import { addMonths, formatDate } from "./dates.js";
import { STATUS_ORDER, type Status } from "./statuses.js";
import type { MentorEnrollment, MentorMatch, MentorRequest, Millis, Program, ReportInput, ReportRow } from "./types.js";

export const DEFAULT_MATCH_DURATION_MONTHS = 6;

/** Something that happened at `at` has happened by `asOf`; null never happened. */
const happened = (at: Millis | null, asOf: Millis): at is Millis => at !== null && at <= asOf;

/** When a match reaches the end of its program's duration. */
export function matchEnd(match: MentorMatch, program: Program, zone: string): Millis {
  return addMonths(match.matchedAt, program.matchDurationMonths || DEFAULT_MATCH_DURATION_MONTHS, zone);
}

export function matchStatus(match: MentorMatch, program: Program, asOf: Millis, zone: string): Status | null {
  if (!happened(match.matchedAt, asOf)) return null;
  const end = matchEnd(match, program, zone);
  if (happened(match.closedAt, asOf) && match.closedAt < end) return "Concluded";
  if (end <= asOf) return "Matched-Duration Completed";
  return "Matched-Active";
}

/** The status of a request that is open at `asOf`, or null when it is not open then. */
export function requestStatus(req: MentorRequest, program: Program, asOf: Millis): Status | null {
  if (!happened(req.requestedAt, asOf) || happened(req.closedAt, asOf)) return null;
  const mentorMissing = program.requiresMentorApproval && !happened(req.mentorApprovedAt, asOf);
  const menteeMissing = program.requiresMenteeApproval && !happened(req.menteeApprovedAt, asOf);
  const adminMissing = program.requiresAdminApproval && !happened(req.adminApprovedAt, asOf);
  if (mentorMissing && menteeMissing) return "Match Request-Waiting 2 Approvals";
  if (menteeMissing) return "Match Request-Waiting Mentee Approval";
  if (mentorMissing) return "Match Request-Waiting Mentor Approval";
  if (adminMissing) return "Match Request-Waiting Admin Approval";
  return null;
}

const key = (programId: string, email: string) => `${programId}\u0000${email}`;

function groupBy<T>(items: readonly T[], k: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const kk = k(item);
    const list = out.get(kk);
    if (list) list.push(item);
    else out.set(kk, [item]);
  }
  return out;
}

export function compareRows(a: ReportRow, b: ReportRow): number {
  return (
    STATUS_ORDER.get(a.status)! - STATUS_ORDER.get(b.status)! ||
    cmp(a.program, b.program) ||
    cmp(a.programId, b.programId) ||
    cmp(a.mentorName, b.mentorName) ||
    cmp(a.mentorEmail, b.mentorEmail) ||
    cmpDate(a.matchDate, b.matchDate) ||
    cmp(a.sourceId, b.sourceId)
  );
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** MM-DD-YYYY compared as a date (year, then month and day), without allocating in the sort's inner loop. */
function cmpDate(a: string, b: string): number {
  if (!a || !b) return a.length - b.length;
  for (const [from, to] of DATE_PARTS) {
    for (let i = from; i < to; i++) {
      const d = a.charCodeAt(i) - b.charCodeAt(i);
      if (d) return d;
    }
  }
  return 0;
}
const DATE_PARTS: ReadonlyArray<readonly [number, number]> = [
  [6, 10],
  [0, 5],
];

/**
 * Turns the data into report rows as of `asOf` (spec §2–§3). Pure: the same input, time and zone
 * always give the same rows in the same order.
 */
export function buildRows(input: ReportInput, asOf: Millis, zone: string): ReportRow[] {
  const programs = new Map(input.programs.map((p) => [p.id, p]));
  const matchesOf = groupBy(input.matches, (m) => key(m.programId, m.mentorEmail));
  const requestsOf = groupBy(input.requests, (r) => key(r.programId, r.mentorEmail));
  const rows: ReportRow[] = [];

  for (const e of input.enrollments) {
    const program = programs.get(e.programId);
    if (!program) continue;
    if (!happened(e.registeredAt, asOf)) {
      rows.push(row(e, program, "Not Registered", "", "", "", 0, 0, "", e.addedAt ?? null, null, null));
      continue;
    }
    const registered = formatDate(e.registeredAt, zone);
    const before = rows.length;
    for (const m of matchesOf.get(key(e.programId, e.email)) ?? []) {
      const status = matchStatus(m, program, asOf, zone);
      if (!status) continue;
      const matchDate = status === "Concluded" ? "" : formatDate(m.matchedAt, zone);
      const endAt = status === "Concluded" ? m.closedAt : matchEnd(m, program, zone);
      rows.push(
        row(
          e,
          program,
          status,
          registered,
          "Mentee",
          matchDate,
          m.upcomingMeetings,
          m.completedMeetings,
          m.id,
          m.matchedAt,
          endAt,
          m.lastCompletedAt ?? null,
        ),
      );
    }
    for (const r of requestsOf.get(key(e.programId, e.email)) ?? []) {
      const status = requestStatus(r, program, asOf);
      if (status) rows.push(row(e, program, status, registered, "Mentee", "", 0, 0, r.id, r.requestedAt, null, null));
    }
    // Every match made by `asOf` yields a row above, so an Unmatched mentor has no earlier match in the
    // program: their wait starts at registration (§10's "later of registration and the last match's end").
    if (rows.length === before)
      rows.push(row(e, program, "Unmatched", registered, "", "", 0, 0, "", e.registeredAt, null, null));
  }
  return rows.sort(compareRows);
}

// One literal of one shape for every row: tens of thousands of them per run stay cheap to build and sort.
function row(
  e: MentorEnrollment,
  program: Program,
  status: Status,
  registered: string,
  mentee: "Mentee" | "",
  matchDate: string,
  upcomingMeetings: number,
  completedMeetings: number,
  sourceId: string,
  since: Millis | null,
  endAt: Millis | null,
  lastMeetingAt: Millis | null,
): ReportRow {
  return {
    status,
    programId: program.id,
    program: program.name,
    organization: e.organization,
    mentorName: e.name,
    mentorEmail: e.email,
    managerEmail: e.managerEmail,
    registered,
    mentee,
    matchDate,
    upcomingMeetings,
    completedMeetings,
    sourceId,
    since,
    endAt,
    lastMeetingAt,
  };
}
