import type { ApprovalSettings, Status } from "./statuses.js";

/** Epoch milliseconds. Every instant in the domain is one of these. */
export type Millis = number;

export interface Program extends ApprovalSettings {
  id: string;
  name: string;
  matchDurationMonths: number;
  adminChannel: string | null;
  adminEmails: string[];
}

export interface Person {
  email: string;
  name: string;
  organization: string;
  managerEmail: string | null;
}

/** A mentor's enrollment in one program, joined with the mentor's roster entry. */
export interface MentorEnrollment {
  programId: string;
  email: string;
  name: string;
  organization: string;
  managerEmail: string | null;
  registeredAt: Millis | null;
  /** When the mentor was added to the program (shown while they have not registered). */
  addedAt?: Millis | null;
}

/**
 * A match seen from the mentor's side. It has no mentee field on purpose: the mentee's identity
 * never leaves the database, so no code past the repository can leak it.
 */
export interface MentorMatch {
  id: string;
  programId: string;
  mentorEmail: string;
  matchedAt: Millis;
  closedAt: Millis | null;
  /** Meeting counts as of the report time (not cancelled then; upcoming = scheduled after it). */
  upcomingMeetings: number;
  completedMeetings: number;
  /** The latest completed meeting as of the report time, for the idle-match attention rule. */
  lastCompletedAt?: Millis | null;
}

export interface MentorRequest {
  id: string;
  programId: string;
  mentorEmail: string;
  requestedAt: Millis;
  mentorApprovedAt: Millis | null;
  menteeApprovedAt: Millis | null;
  adminApprovedAt: Millis | null;
  closedAt: Millis | null;
}

export interface ReportInput {
  programs: Program[];
  enrollments: MentorEnrollment[];
  matches: MentorMatch[];
  requests: MentorRequest[];
}

/** One mentor's connection in one program (spec §2). */
export interface ReportRow {
  status: Status;
  programId: string;
  program: string;
  organization: string;
  mentorName: string;
  mentorEmail: string;
  managerEmail: string | null;
  registered: string;
  mentee: "Mentee" | "";
  matchDate: string;
  upcomingMeetings: number;
  completedMeetings: number;
  /** Tie-breaker for a stable order: the match or request id, or "" for rows without one. */
  sourceId: string;
  /**
   * When the row's state began: the request, the match, the registration (Unmatched) or the mentor's
   * addition to the program (Not Registered, when known). Drives the attention rules and the row's dates.
   */
  since: Millis | null;
  /** A match's end: the planned end of an active one, the end reached, or the closing of a concluded one. */
  endAt: Millis | null;
  /** The match's last completed meeting as of the report time. */
  lastMeetingAt: Millis | null;
}
