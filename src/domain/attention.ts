import { formatDate } from "./dates.js";
import type { Status } from "./statuses.js";
import type { Millis, ReportRow } from "./types.js";

/** The reasons a row needs a manager's attention (spec §10), in the order a report lists them. */
export const ATTENTION_REASONS = ["request_waiting", "unmatched", "match_ending", "no_meetings"] as const;
export type AttentionReason = (typeof ATTENTION_REASONS)[number];

/** Who a nudge about an item goes to (§18). */
export type NudgeTarget = "mentor" | "admins";

export interface NudgeState {
  to: NudgeTarget;
  /** When this period's nudge about the item went out (ISO); absent: not yet. */
  sentAt?: string;
  /** The manager who asked for it. */
  sentBy?: string;
  /** The mentor turned nudges off: the button says so instead of nudging. */
  off?: boolean;
}

export interface AttentionItem {
  reason: AttentionReason;
  mentorName: string;
  mentorEmail: string;
  program: string;
  /** The program's id: with reason, mentor and status it names the item a nudge is about. */
  programId: string;
  status: Status;
  /** Whole days since the state began: floor((T − start) / 24 h). */
  days?: number;
  /** MM-DD-YYYY in the report zone (a match's end). */
  date?: string;
  /** Every item names someone who can move it (§18); the service adds whether it was nudged. */
  nudge: NudgeState;
}

export interface AttentionSettings {
  requestDays: number;
  unmatchedDays: number;
  idleDays: number;
  /** The end of the report period that contains the report time. */
  periodEnd: Millis;
  zone: string;
}

const DAY: Millis = 24 * 60 * 60 * 1000;
const daysSince = (start: Millis, asOf: Millis) => Math.floor((asOf - start) / DAY);

const WAITING: ReadonlySet<Status> = new Set([
  "Match Request-Waiting Mentee Approval",
  "Match Request-Waiting Mentor Approval",
  "Match Request-Waiting 2 Approvals",
  "Match Request-Waiting Admin Approval",
]);

/**
 * The rows that need a nudge as of `asOf` (spec §10), grouped by reason in `ATTENTION_REASONS` order
 * and within a reason the most urgent first (the longest wait, the nearest end), then in the rows'
 * order. Pure: rows carry every fact the rules need.
 */
export function attentionItems(rows: readonly ReportRow[], asOf: Millis, s: AttentionSettings): AttentionItem[] {
  const byReason = new Map<AttentionReason, AttentionItem[]>(ATTENTION_REASONS.map((r) => [r, []]));
  const add = (reason: AttentionReason, r: ReportRow, extra: { days: number } | { date: string }) =>
    byReason.get(reason)!.push({
      reason,
      mentorName: r.mentorName,
      mentorEmail: r.mentorEmail,
      program: r.program,
      programId: r.programId,
      status: r.status,
      ...extra,
      nudge: { to: nudgeTarget(reason, r.status) },
    });

  for (const r of rows) {
    if (WAITING.has(r.status)) {
      if (r.since !== null && daysSince(r.since, asOf) >= s.requestDays)
        add("request_waiting", r, { days: daysSince(r.since, asOf) });
    } else if (r.status === "Unmatched") {
      if (r.since !== null && daysSince(r.since, asOf) >= s.unmatchedDays)
        add("unmatched", r, { days: daysSince(r.since, asOf) });
    } else if (r.status === "Matched-Active") {
      if (r.endAt !== null && r.endAt < s.periodEnd) add("match_ending", r, { date: formatDate(r.endAt, s.zone) });
      if (r.since !== null && r.upcomingMeetings === 0 && daysSince(r.since, asOf) >= s.idleDays) {
        const idle = daysSince(r.lastMeetingAt ?? r.since, asOf);
        if (idle >= s.idleDays) add("no_meetings", r, { days: idle });
      }
    }
  }
  return ATTENTION_REASONS.flatMap((reason) => {
    const items = byReason.get(reason)!;
    // MM-DD-YYYY compares as a date by year, then month and day.
    const key = (a: AttentionItem) => (a.date ? a.date.slice(6) + a.date.slice(0, 5) : "");
    return reason === "match_ending"
      ? items.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0))
      : items.sort((a, b) => (b.days ?? 0) - (a.days ?? 0));
  });
}

const WAITING_FOR: Partial<Record<Status, string>> = {
  "Match Request-Waiting Mentee Approval": "mentee approval",
  "Match Request-Waiting Mentor Approval": "mentor approval",
  "Match Request-Waiting 2 Approvals": "mentor and mentee approval",
  "Match Request-Waiting Admin Approval": "admin approval",
};

/**
 * Who can move an item (§18): the mentor answers a request waiting for them and books meetings; the
 * program's admins approve, match, and chase a mentee on the mentor's behalf.
 */
export function nudgeTarget(reason: AttentionReason, status: Status): NudgeTarget {
  if (reason === "request_waiting")
    return status === "Match Request-Waiting Mentor Approval" || status === "Match Request-Waiting 2 Approvals"
      ? "mentor"
      : "admins";
  return reason === "unmatched" ? "admins" : "mentor";
}

/**
 * The item's name in the ledger and on its Nudge button: the same item in the next report has the same
 * key, so a nudge goes once per (item, period). Two requests of one mentor waiting at the same step in
 * one program are one item: the nudge would read the same.
 */
export const attentionKey = (a: Pick<AttentionItem, "reason" | "programId" | "mentorEmail" | "status">) =>
  `${a.reason}|${a.programId}|${a.mentorEmail.toLowerCase()}|${STATUS_CODES[a.status] ?? ""}`;

const STATUS_CODES: Partial<Record<Status, string>> = {
  "Match Request-Waiting Mentee Approval": "mentee",
  "Match Request-Waiting Mentor Approval": "mentor",
  "Match Request-Waiting 2 Approvals": "both",
  "Match Request-Waiting Admin Approval": "admin",
};

const days = (n: number) => `${n} day${n === 1 ? "" : "s"}`;

/** Who moves the item, in words, after its reason ("nudge the admins"). */
export function whoActsText(a: AttentionItem): string {
  switch (a.reason) {
    case "request_waiting":
      if (a.status === "Match Request-Waiting Admin Approval") return "nudge the admins";
      if (a.status === "Match Request-Waiting Mentee Approval") return "the admins can follow up with the mentee";
      return "nudge the mentor to answer";
    case "unmatched":
      return "the program admins match mentors";
    case "match_ending":
      return "the mentor can plan what comes next";
    case "no_meetings":
      return "nudge the mentor to book one";
  }
}

/** The reason in words, as a manager reads it ("waiting 14 days for mentor approval"). */
export function attentionReasonText(a: AttentionItem): string {
  switch (a.reason) {
    case "request_waiting":
      return `waiting ${days(a.days ?? 0)} for ${WAITING_FOR[a.status] ?? "approval"}`;
    case "unmatched":
      return `unmatched for ${days(a.days ?? 0)}`;
    case "match_ending":
      return `match ends ${a.date ?? ""}`;
    case "no_meetings":
      return `no meetings for ${days(a.days ?? 0)} and none scheduled`;
  }
}
