import { formatDate, formatInstant } from "../domain/dates.js";
import type { ManagerReport, ProgramSummary, ReportDiff, StatusGroup } from "../domain/reports.js";
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

/** `dataAsOf`: the last successful import's day, MM-DD-YYYY like the rows' dates, or null when none is on record. */
const dataAsOf = (r: { dataAsOf?: number | null }, zone: string) =>
  r.dataAsOf === undefined ? {} : { dataAsOf: r.dataAsOf === null ? null : formatDate(r.dataAsOf, zone) };

const groups = (gs: StatusGroup[]) => gs.map((g) => ({ status: g.status, rows: g.rows.map(publicRow) }));

export function buildManagerJson(report: ManagerReport, zone: string) {
  return {
    manager: report.manager,
    asOf: formatInstant(report.asOf, zone),
    ...dataAsOf(report, zone),
    groups: groups(report.groups),
    attention: report.attention.map((a) => ({ ...a })),
  };
}

export function buildProgramJson(summary: ProgramSummary, zone: string) {
  return {
    program: summary.program,
    asOf: formatInstant(summary.asOf, zone),
    ...dataAsOf(summary, zone),
    counts: Object.fromEntries(summary.counts.map((c) => [c.status, c.count])),
    groups: groups(summary.groups),
  };
}

/** What changed between two as-of times: rows that appeared, ended, or changed status or meetings. */
export function buildDiffJson(d: ReportDiff, since: number, zone: string) {
  const withStatus = (r: ReportRow) => ({ status: r.status, ...publicRow(r) });
  return {
    since: formatInstant(since, zone),
    added: d.added.map(withStatus),
    removed: d.removed.map(withStatus),
    changed: d.changed.map((c) => ({ before: withStatus(c.before), after: withStatus(c.after) })),
  };
}

/**
 * Characters JSON.stringify leaves raw (DEL, C1, format characters, the line and paragraph
 * separators), written as `\uXXXX` escapes: the value is the same, the terminal sees none of them.
 */
const RAW_INVISIBLE = /[\u007f-\u009f\p{Cf}\u2028\u2029]/gu;
const u = (n: number) => `\\u${n.toString(16).padStart(4, "0")}`;

/** Pretty JSON for the terminal, one trailing line break. */
export function toJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2).replace(RAW_INVISIBLE, (c: string) =>
    c.length === 1 ? u(c.charCodeAt(0)) : u(c.charCodeAt(0)) + u(c.charCodeAt(1)),
  )}\n`;
}
