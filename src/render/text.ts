import { attentionReasonText, whoActsText } from "../domain/attention.js";
import { formatDayTime } from "../domain/dates.js";
import { dataAsOfLabel } from "../domain/freshness.js";
import type { ManagerReport, ProgramSummary, ReportDiff, StatusGroup } from "../domain/reports.js";
import { rowCount } from "../domain/reports.js";
import { joinsEmoji } from "../import/csv-files.js";
import { dateColumn, rowDate } from "./row-dates.js";

// Control characters (line breaks too: a cell is one line of a table), format characters (bidi marks
// and overrides, zero-width spaces, a BOM) and the line and paragraph separators: data that only a
// direct database write could hold is shown as `\xNN` / `\u{NNNN}`, so a name can't drive the
// reader's terminal or read as something it is not. A joiner inside an emoji is how the emoji is written.
const INVISIBLE = /[\p{Cc}\p{Cf}\u2028\u2029]/gu;

/** `s` with every invisible character written out; `keepLineBreaks` for a format that can hold them (CSV). */
export function escapeInvisible(s: string, opts: { keepLineBreaks?: boolean } = {}): string {
  return s.replace(INVISIBLE, (c: string, at: number) => {
    if (opts.keepLineBreaks && (c === "\n" || c === "\r")) return c;
    if (c === "\u200d" && joinsEmoji(s, at)) return c;
    const n = c.codePointAt(0)!;
    return n <= 0xff ? `\\x${n.toString(16).padStart(2, "0")}` : `\\u{${n.toString(16)}}`;
  });
}
const visible = (s: string) => escapeInvisible(s);

const COLUMNS = [
  "Program",
  "Organization",
  "Mentor",
  "Email",
  "Registered",
  "Mentee",
  "Match Date",
  "Upcoming",
  "Completed",
] as const;

function table(header: readonly string[], rows: string[][], numericFrom: number): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: readonly string[]) =>
    r
      .map((c, i) => (i >= numericFrom ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)];
}

function groupLines(groups: StatusGroup[], zone: string): string[] {
  const out: string[] = [];
  for (const g of groups) {
    out.push("", `${g.status} (${g.rows.length})`);
    // Each status's own date (requested, ends, ended, closed, added) goes after the match date.
    const dated = dateColumn(g.status);
    const rows = g.rows.map((r) =>
      [
        r.program,
        r.organization,
        r.mentorName,
        r.mentorEmail,
        r.registered || "-",
        r.mentee || "-",
        r.matchDate || "-",
        ...(dated ? [rowDate(r, zone) || "-"] : []),
        String(r.upcomingMeetings),
        String(r.completedMeetings),
      ].map(visible),
    );
    const header = dated ? [...COLUMNS.slice(0, 7), dated, ...COLUMNS.slice(7)] : COLUMNS;
    out.push(...table(header, rows, dated ? 8 : 7).map((l) => `  ${l}`));
  }
  return out;
}

function attentionLines(report: ManagerReport): string[] {
  if (!report.attention.length) return [];
  return [
    "",
    `Needs attention (${report.attention.length}):`,
    ...report.attention.map(
      (a) =>
        `  ! ${visible(a.mentorName)} <${visible(a.mentorEmail)}> (${visible(a.program)}): ${attentionReasonText(a)} — ${whoActsText(a)}`,
    ),
  ];
}

const when = formatDayTime;
/** " · data as of MM-DD-YYYY" when the report knows its import (§13). */
const stamp = (r: { dataAsOf?: number | null }, zone: string) =>
  r.dataAsOf === undefined ? "" : ` · ${dataAsOfLabel(r.dataAsOf, zone)}`;

export function buildManagerText(report: ManagerReport, zone: string): string {
  const n = rowCount(report);
  const head = [
    `Mentorship report for ${visible(report.manager.name)} <${visible(report.manager.email)}>`,
    `As of ${when(report.asOf, zone)}${stamp(report, zone)}`,
  ];
  if (n === 0)
    return [...head, "", "None of your team takes part in a mentorship program as a mentor."].join("\n") + "\n";
  const counts = report.groups.map((g) => [g.status, String(g.rows.length)]);
  return (
    [
      ...head,
      `${n} mentor connection${n === 1 ? "" : "s"}:`,
      ...table(["Status", "Rows"], counts, 1).map((l) => `  ${l}`),
      ...attentionLines(report),
      ...groupLines(report.groups, zone),
    ].join("\n") + "\n"
  );
}

export function buildProgramText(summary: ProgramSummary, zone: string): string {
  const counts = summary.counts.map((c) => [c.status, String(c.count)]);
  const total = summary.counts.reduce((n, c) => n + c.count, 0);
  return (
    [
      `Program summary: ${visible(summary.program.name)} (${visible(summary.program.id)})`,
      `As of ${when(summary.asOf, zone)} · ${total} mentor connection${total === 1 ? "" : "s"}${stamp(summary, zone)}`,
      ...table(["Status", "Rows"], counts, 1).map((l) => `  ${l}`),
      ...groupLines(summary.groups, zone),
    ].join("\n") + "\n"
  );
}

export function buildDiffText(d: ReportDiff, since: number, zone: string): string {
  const who = (r: { mentorName: string; program: string }) => `${visible(r.mentorName)} (${visible(r.program)})`;
  const lines = [
    "",
    `Changes since ${when(since, zone)}: ${d.added.length} new, ${d.removed.length} gone, ${d.changed.length} changed`,
  ];
  for (const r of d.added) lines.push(`  + ${who(r)}: ${r.status}`);
  for (const r of d.removed) lines.push(`  - ${who(r)}: was ${r.status}`);
  for (const c of d.changed) {
    const meetings = (r: typeof c.before) => `${r.upcomingMeetings} upcoming, ${r.completedMeetings} completed`;
    const what =
      c.before.status === c.after.status
        ? `meetings ${meetings(c.before)} → ${meetings(c.after)}`
        : `${c.before.status} → ${c.after.status}`;
    lines.push(`  ~ ${who(c.after)}: ${what}`);
  }
  return lines.join("\n") + "\n";
}
