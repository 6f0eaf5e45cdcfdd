import type { StatusGroup } from "../domain/reports.js";
import { escapeInvisible } from "./text.js";

export const CSV_HEADER = [
  "Matching Status",
  "Program",
  "Current Company/Organization",
  "Mentor Name",
  "Mentor Email",
  "Registered (MM-DD-YYYY)",
  "Mentee Name",
  "Match Date",
  "Upcoming Meetings",
  "Completed Meetings",
];

function cell(v: string | number): string {
  // Invisible characters written out as the text preview does (§15); line breaks are CSV's to quote.
  const text = typeof v === "string" ? escapeInvisible(v, { keepLineBreaks: true }) : v;
  // A spreadsheet runs a text cell that starts like a formula (spec §14); a quote makes it text again.
  const s = typeof text === "string" && /^[=+\-@\t\r]/.test(text) ? `'${text}` : String(text);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** RFC 4180 CSV with the seed columns, CRLF line ends as the RFC has them. */
export function buildCsv(groups: StatusGroup[]): string {
  const lines = [CSV_HEADER.map(cell).join(",")];
  for (const g of groups) {
    for (const r of g.rows) {
      lines.push(
        [
          g.status,
          r.program,
          r.organization,
          r.mentorName,
          r.mentorEmail,
          r.registered,
          r.mentee,
          r.matchDate,
          r.upcomingMeetings,
          r.completedMeetings,
        ]
          .map(cell)
          .join(","),
      );
    }
  }
  return lines.join("\r\n") + "\r\n";
}
