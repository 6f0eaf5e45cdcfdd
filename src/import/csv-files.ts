import { parseInstant } from "../domain/dates.js";

export interface ImportProblem {
  file: string;
  line: number;
  column: string;
  problem: string;
}

export type DbRow = Record<string, string | number | boolean | null>;

export interface FileSpec {
  file: string;
  table: string;
  columns: readonly string[];
  optionalColumns?: readonly string[];
  key: readonly string[];
  /** Person columns are never echoed in a problem: a mentee's address may stand there. */
  parseRow(f: Fields): DbRow;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const TRUE = new Set(["true", "yes", "1"]);
const FALSE = new Set(["false", "no", "0"]);

/** One CSV record's fields, with parsers that record a problem per bad value and carry on. */
export class Fields {
  constructor(
    readonly file: string,
    readonly line: number,
    private readonly values: Record<string, string>,
    private readonly zone: string,
    readonly problems: ImportProblem[],
  ) {}

  problem(column: string, problem: string): null {
    this.problems.push({ file: this.file, line: this.line, column, problem });
    return null;
  }

  raw(col: string): string {
    return (this.values[col] ?? "").trim();
  }

  text(col: string, required = true): string | null {
    const v = this.raw(col);
    if (!v) return required ? this.problem(col, "is required") : null;
    return v;
  }

  email(col: string, required = true): string | null {
    const v = this.raw(col).toLowerCase();
    if (!v) return required ? this.problem(col, "is required") : null;
    // The value itself is not repeated: it may be a mentee's address.
    if (!EMAIL.test(v)) return this.problem(col, "is not an email address");
    return v;
  }

  instant(col: string, required = false): number | null {
    const v = this.raw(col);
    if (!v) return required ? this.problem(col, "is required") : null;
    const ms = parseInstant(v, this.zone);
    return ms ?? this.problem(col, `${JSON.stringify(v)} is not an ISO 8601 date or date-time`);
  }

  bool(col: string): boolean | null {
    const v = this.raw(col).toLowerCase();
    if (TRUE.has(v)) return true;
    if (FALSE.has(v)) return false;
    return this.problem(col, `${JSON.stringify(this.raw(col))} is not a boolean (true/false/yes/no/1/0)`);
  }

  int(col: string, dflt: number, min: number): number | null {
    const v = this.raw(col);
    if (!v) return dflt;
    if (!/^\d+$/.test(v) || +v < min)
      return this.problem(col, `${JSON.stringify(v)} is not a whole number of at least ${min}`);
    return +v;
  }

  /** A closing or cancellation must not come before the start it ends. */
  notBefore(col: string, value: number | null, startCol: string, start: number | null): void {
    if (value !== null && start !== null && value < start) this.problem(col, `is before ${startCol}`);
  }
}

export const FILES: readonly FileSpec[] = [
  {
    file: "programs.csv",
    table: "programs",
    columns: [
      "program_id",
      "name",
      "match_duration_months",
      "requires_mentor_approval",
      "requires_mentee_approval",
      "requires_admin_approval",
      "admin_channel",
      "admin_emails",
    ],
    key: ["program_id"],
    parseRow: (f) => {
      const admins = f
        .raw("admin_emails")
        .split(";")
        .map((e) => e.trim().toLowerCase())
        .filter(Boolean);
      if (admins.some((e) => !EMAIL.test(e))) f.problem("admin_emails", "holds a value that is not an email address");
      const channel = f.text("admin_channel", false);
      if (channel && !/^(#?[a-z0-9][a-z0-9._-]{0,79}|[CGD][A-Z0-9]{6,})$/.test(channel)) {
        f.problem("admin_channel", `${JSON.stringify(channel)} is not a channel id or name`);
      }
      return {
        program_id: f.text("program_id"),
        name: f.text("name"),
        match_duration_months: f.int("match_duration_months", 6, 1),
        requires_mentor_approval: f.bool("requires_mentor_approval"),
        requires_mentee_approval: f.bool("requires_mentee_approval"),
        requires_admin_approval: f.bool("requires_admin_approval"),
        admin_channel: channel,
        admin_emails: admins.join(";"),
      };
    },
  },
  {
    file: "people.csv",
    table: "people",
    columns: ["email", "name", "organization", "manager_email"],
    optionalColumns: ["timezone"],
    key: ["email"],
    parseRow: (f) => {
      const email = f.email("email");
      const manager = f.email("manager_email", false);
      if (email && manager === email) f.problem("manager_email", "is the person's own email");
      return {
        email,
        name: f.text("name"),
        organization: f.raw("organization"),
        manager_email: manager,
        timezone: f.text("timezone", false),
      };
    },
  },
  {
    file: "enrollments.csv",
    table: "enrollments",
    columns: ["program_id", "email", "role", "added_at", "registered_at"],
    key: ["program_id", "email", "role"],
    parseRow: (f) => {
      const role = f.raw("role").toLowerCase();
      if (role !== "mentor" && role !== "mentee")
        f.problem("role", `${JSON.stringify(f.raw("role"))} is not mentor or mentee`);
      return {
        program_id: f.text("program_id"),
        email: f.email("email"),
        role,
        added_at: f.instant("added_at"),
        registered_at: f.instant("registered_at"),
      };
    },
  },
  {
    file: "match_requests.csv",
    table: "match_requests",
    columns: [
      "request_id",
      "program_id",
      "mentor_email",
      "mentee_email",
      "requested_at",
      "mentor_approved_at",
      "mentee_approved_at",
      "admin_approved_at",
      "closed_at",
    ],
    key: ["request_id"],
    parseRow: (f) => {
      const requested = f.instant("requested_at", true);
      const closed = f.instant("closed_at");
      f.notBefore("closed_at", closed, "requested_at", requested);
      return {
        request_id: f.text("request_id"),
        program_id: f.text("program_id"),
        mentor_email: f.email("mentor_email"),
        mentee_email: f.email("mentee_email"),
        requested_at: requested,
        mentor_approved_at: f.instant("mentor_approved_at"),
        mentee_approved_at: f.instant("mentee_approved_at"),
        admin_approved_at: f.instant("admin_approved_at"),
        closed_at: closed,
      };
    },
  },
  {
    file: "matches.csv",
    table: "matches",
    columns: ["match_id", "program_id", "mentor_email", "mentee_email", "matched_at", "closed_at"],
    key: ["match_id"],
    parseRow: (f) => {
      const matched = f.instant("matched_at", true);
      const closed = f.instant("closed_at");
      f.notBefore("closed_at", closed, "matched_at", matched);
      return {
        match_id: f.text("match_id"),
        program_id: f.text("program_id"),
        mentor_email: f.email("mentor_email"),
        mentee_email: f.email("mentee_email"),
        matched_at: matched,
        closed_at: closed,
      };
    },
  },
  {
    file: "meetings.csv",
    table: "meetings",
    columns: ["meeting_id", "match_id", "scheduled_at", "cancelled_at"],
    key: ["meeting_id"],
    parseRow: (f) => ({
      meeting_id: f.text("meeting_id"),
      match_id: f.text("match_id"),
      scheduled_at: f.instant("scheduled_at", true),
      cancelled_at: f.instant("cancelled_at"),
    }),
  },
];
