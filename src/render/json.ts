import { formatInstant } from "../domain/dates.js";
import type { ManagerReport, ProgramSummary, StatusGroup } from "../domain/reports.js";
import type { ReportRow } from "../domain/types.js";

/** The public row shape (spec §6): only what a manager may see. */
export function publicRow(r: ReportRow) {
  return {
    program: r.program,
    organization: r.organization,
    mentorName: r.mentorName,
    mentorEmail: r.mentorEmail,
    registered: r.registered,
    mentee: r.mentee,
    matchDate: r.matchDate,
    upcomingMeetings: r.upcomingMeetings,
    completedMeetings: r.completedMeetings,
  };
}

const groups = (gs: StatusGroup[]) => gs.map((g) => ({ status: g.status, rows: g.rows.map(publicRow) }));

export function buildManagerJson(report: ManagerReport, zone: string) {
  return { manager: report.manager, asOf: formatInstant(report.asOf, zone), groups: groups(report.groups) };
}

export function buildProgramJson(summary: ProgramSummary, zone: string) {
  return {
    program: summary.program,
    asOf: formatInstant(summary.asOf, zone),
    counts: Object.fromEntries(summary.counts.map((c) => [c.status, c.count])),
    groups: groups(summary.groups),
  };
}
