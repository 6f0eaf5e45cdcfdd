import type { ColumnType, Reference } from "../db/import-repo.js";
import { isValidZone } from "../domain/dates.js";
import { parseImportInstant } from "./instants.js";

export interface ImportProblem {
  file: string;
  /** 0 when the problem is not on a line of the file (a row it no longer has). */
  line: number;
  column: string;
  problem: string;
}

export type DbRow = Record<string, string | number | boolean | null>;

export interface FileSpec {
  file: string;
  table: string;
  /** Header columns that must be there. */
  columns: readonly string[];
  optionalColumns?: readonly string[];
  /** The table's columns and their types, in the order parseRow returns them. */
  stored: Readonly<Record<string, ColumnType>>;
  key: readonly string[];
  parseRow(f: Fields): DbRow;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const TRUE = new Set(["true", "yes", "1"]);
const FALSE = new Set(["false", "no", "0"]);
/**
 * Control characters (C0 but line breaks, DEL, C1), Unicode format characters (category Cf: the
 * bidirectional marks and overrides, zero-width spaces and joiners, a BOM in mid-text; a name can
 * read differently from what it is, or two names look the same), the line and paragraph separators,
 * and U+FFFD, which stands for bytes that were not UTF-8.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is what it is for.
const BAD_TEXT = /[\u0000-\u0009\u000B\u000C\u000E-\u001F\u007F-\u009F\u2028\u2029\uFFFD\p{Cf}]/gu;
const ZWJ = "\u200D";
const EMOJI_BEFORE = /\p{Extended_Pictographic}[\uFE0F\u{1F3FB}-\u{1F3FF}]?$/u;
const EMOJI_AFTER = /^\p{Extended_Pictographic}/u;

/** A zero-width joiner that glues two emoji into one (a family, a profession) is how the emoji is written. */
export const joinsEmoji = (s: string, at: number) =>
  EMOJI_BEFORE.test(s.slice(Math.max(0, at - 4), at)) && EMOJI_AFTER.test(s.slice(at + 1, at + 3));

/** Why a field's text is refused, or null; never the text itself. */
export function textProblem(value: string): string | null {
  BAD_TEXT.lastIndex = 0;
  for (let m = BAD_TEXT.exec(value); m; m = BAD_TEXT.exec(value)) {
    const c = m[0];
    if (c === ZWJ && joinsEmoji(value, m.index)) continue;
    if (c === "\uFFFD") return "is not valid UTF-8 text (save the file as UTF-8)";
    const code = `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
    if ((c >= "\u202A" && c <= "\u202E") || (c >= "\u2066" && c <= "\u2069"))
      return `holds a bidirectional override (${code})`;
    if (c === "\u2028" || c === "\u2029") return `holds a line or paragraph separator (${code})`;
    if (c.codePointAt(0)! > 0x9f) return `holds an invisible format character (${code})`;
    return `holds a control character (${code})`;
  }
  return null;
}

/** Text columns stored as varchar(255); admin_emails is the one unbounded text column. */
export const MAX_TEXT = 255;
const UNBOUNDED = new Set(["admin_emails"]);

/** Text values too long for their column, checked for every row so that no engine refuses one at write time. */
export function tooLong(spec: FileSpec, row: DbRow): string[] {
  const out: string[] = [];
  for (const [col, type] of Object.entries(spec.stored)) {
    const v = row[col];
    if (
      type === "text" &&
      typeof v === "string" &&
      v.length > MAX_TEXT &&
      !UNBOUNDED.has(col) &&
      [...v].length > MAX_TEXT
    )
      out.push(col);
  }
  return out;
}

/**
 * One CSV record's fields, with parsers that record a problem per bad value and carry on.
 * A problem names the column and what is wrong, never the value: any cell may hold a mentee's name.
 */
export class Fields {
  constructor(
    readonly file: string,
    readonly line: number,
    private readonly record: readonly string[],
    private readonly index: ReadonlyMap<string, number>,
    private readonly zone: string,
    readonly problems: ImportProblem[],
    /** Columns already refused (bad bytes, control characters): no second problem for them. */
    private readonly refused: ReadonlySet<string> = new Set(),
  ) {}

  problem(column: string, problem: string): null {
    this.problems.push({ file: this.file, line: this.line, column, problem });
    return null;
  }

  raw(col: string): string {
    if (this.refused.has(col)) return "";
    const i = this.index.get(col);
    return i === undefined ? "" : (this.record[i] ?? "").trim();
  }

  private missing(col: string, required: boolean): null {
    return required && !this.refused.has(col) ? this.problem(col, "is required") : null;
  }

  text(col: string, required = true): string | null {
    const v = this.raw(col);
    return v ? v : this.missing(col, required);
  }

  email(col: string, required = true): string | null {
    const v = this.raw(col).toLowerCase();
    if (!v) return this.missing(col, required);
    if (!EMAIL.test(v)) return this.problem(col, "is not an email address");
    return v;
  }

  instant(col: string, required = false): number | null {
    const v = this.raw(col);
    if (!v) return this.missing(col, required);
    return parseImportInstant(v, this.zone) ?? this.problem(col, "is not an ISO 8601 date or date-time");
  }

  bool(col: string): boolean | null {
    const v = this.raw(col).toLowerCase();
    if (TRUE.has(v)) return true;
    if (FALSE.has(v)) return false;
    if (!v) return this.missing(col, true);
    return this.problem(col, "is not a boolean (true/false/yes/no/1/0)");
  }

  int(col: string, dflt: number, min: number): number | null {
    const v = this.raw(col);
    if (!v) return dflt;
    if (!/^\d{1,9}$/.test(v) || +v < min) return this.problem(col, `is not a whole number of at least ${min}`);
    return +v;
  }

  timeZone(col: string): string | null {
    const v = this.raw(col);
    if (!v) return null;
    return isValidZone(v) ? v : this.problem(col, "is not an IANA time zone (such as Europe/Berlin)");
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
    stored: {
      program_id: "text",
      name: "text",
      match_duration_months: "integer",
      requires_mentor_approval: "boolean",
      requires_mentee_approval: "boolean",
      requires_admin_approval: "boolean",
      admin_channel: "text",
      admin_emails: "text",
    },
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
        f.problem("admin_channel", "is not a channel id or name");
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
    stored: { email: "text", name: "text", organization: "text", manager_email: "text", timezone: "text" },
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
        timezone: f.timeZone("timezone"),
      };
    },
  },
  {
    file: "enrollments.csv",
    table: "enrollments",
    columns: ["program_id", "email", "role", "added_at", "registered_at"],
    stored: { program_id: "text", email: "text", role: "text", added_at: "bigint", registered_at: "bigint" },
    key: ["program_id", "email", "role"],
    parseRow: (f) => {
      const role = f.text("role")?.toLowerCase() ?? null;
      if (role && role !== "mentor" && role !== "mentee") f.problem("role", "is not mentor or mentee");
      return {
        program_id: f.text("program_id"),
        email: f.email("email"),
        role: role === "mentor" || role === "mentee" ? role : null,
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
    stored: {
      request_id: "text",
      program_id: "text",
      mentor_email: "text",
      mentee_email: "text",
      requested_at: "bigint",
      mentor_approved_at: "bigint",
      mentee_approved_at: "bigint",
      admin_approved_at: "bigint",
      closed_at: "bigint",
    },
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
    stored: {
      match_id: "text",
      program_id: "text",
      mentor_email: "text",
      mentee_email: "text",
      matched_at: "bigint",
      closed_at: "bigint",
    },
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
    stored: { meeting_id: "text", match_id: "text", scheduled_at: "bigint", cancelled_at: "bigint" },
    key: ["meeting_id"],
    parseRow: (f) => ({
      meeting_id: f.text("meeting_id"),
      match_id: f.text("match_id"),
      scheduled_at: f.instant("scheduled_at", true),
      cancelled_at: f.instant("cancelled_at"),
    }),
  },
];

/** A reference between files, and what a row whose reference finds nothing is told. */
export interface FileReference extends Reference {
  /** The referring file's column a bad row is blamed on. */
  column: string;
  /** For a row of the file: what is wrong with `column` (the referred-to file is appended). */
  problem: string;
  /** For stored rows left pointing at a removed one, described by `groupBy`, `n` of them. */
  stored(g: Record<string, string>, n: number): string;
}

const rows = (n: number, one: string, many: string) => (n === 1 ? `1 ${one}` : `${n} ${many}`);

const programRef = (from: string, what: [string, string]): FileReference => ({
  from,
  cols: ["program_id"],
  to: "programs",
  toCols: ["program_id"],
  groupBy: ["program_id"],
  column: "program_id",
  problem: "is not a program in",
  stored: (g, n) =>
    `program ${JSON.stringify(g.program_id)} is no longer in the file but ${rows(n, ...what)} in the database still name it`,
});

const enrolledRef = (from: "match_requests" | "matches", role: "mentor" | "mentee"): FileReference => {
  const id = from === "matches" ? "match_id" : "request_id";
  return {
    from,
    cols: ["program_id", `${role}_email`, `'${role}'`],
    to: "enrollments",
    toCols: ["program_id", "email", "role"],
    groupBy: [id],
    column: `${role}_email`,
    problem: `is not enrolled as a ${role} in the row's program in`,
    stored: (g) =>
      `${from === "matches" ? "match" : "match request"} ${JSON.stringify(g[id])} in the database names a ${role} no longer enrolled in its program`,
  };
};

/** Every reference a consistent import keeps, checked on what the import leaves behind. */
export const REFERENCES: readonly FileReference[] = [
  {
    from: "people",
    cols: ["manager_email"],
    to: "people",
    toCols: ["email"],
    groupBy: [],
    column: "manager_email",
    problem: "is not a person in",
    stored: () => "",
  },
  programRef("enrollments", ["enrollment", "enrollments"]),
  {
    from: "enrollments",
    cols: ["email"],
    to: "people",
    toCols: ["email"],
    groupBy: ["program_id", "role"],
    column: "email",
    problem: "is not a person in",
    stored: (g, n) =>
      `${rows(n, "person", "people")} no longer in the file ${n === 1 ? "is" : "are"} still enrolled as ${g.role} in program ${JSON.stringify(g.program_id)} (enrollments in the database)`,
  },
  programRef("match_requests", ["match request", "match requests"]),
  enrolledRef("match_requests", "mentor"),
  enrolledRef("match_requests", "mentee"),
  programRef("matches", ["match", "matches"]),
  enrolledRef("matches", "mentor"),
  enrolledRef("matches", "mentee"),
  {
    from: "meetings",
    cols: ["match_id"],
    to: "matches",
    toCols: ["match_id"],
    groupBy: ["match_id"],
    column: "match_id",
    problem: "is not a match in",
    stored: (g, n) =>
      `match ${JSON.stringify(g.match_id)} is no longer in the file but ${rows(n, "meeting", "meetings")} in the database ${n === 1 ? "belongs" : "belong"} to it`,
  },
];
