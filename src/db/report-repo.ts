import type { Knex } from "knex";
import type { ReportScope } from "../domain/reports.js";
import type {
  MentorEnrollment,
  MentorMatch,
  MentorRequest,
  Millis,
  Person,
  Program,
  ReportInput,
} from "../domain/types.js";
import type { Db } from "./knex.js";
import type { EnrollmentRecord, MatchRecord, MatchRequestRecord, PersonRecord, ProgramRecord } from "./tables.js";

export interface ReportQuery {
  asOf: Millis;
  /** Only these programs (one set-based read however many). */
  programIds?: string[];
  /** Only the mentors who report to these managers, directly or through the whole tree. */
  team?: { managerEmails: string[]; scope: ReportScope };
  /** Only the mentors whose emails sort after `after` (null: from the first) up to `last`: one batch of them. */
  mentors?: MentorBatch;
}

export interface MentorBatch {
  after: string | null;
  last: string;
}

/** A query's rows as the columns it selects: Knex cannot follow joins, aliases and raw sums. */
const rowsOf = <T>(q: PromiseLike<unknown>) => q as PromiseLike<T[]>;

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const bool = (v: unknown): boolean => v === true || v === 1 || v === "1" || v === "true";

export function toProgram(r: ProgramRecord): Program {
  return {
    id: r.program_id,
    name: r.name,
    matchDurationMonths: Number(r.match_duration_months),
    requiresMentorApproval: bool(r.requires_mentor_approval),
    requiresMenteeApproval: bool(r.requires_mentee_approval),
    requiresAdminApproval: bool(r.requires_admin_approval),
    adminChannel: r.admin_channel || null,
    adminEmails: (r.admin_emails ?? "").split(";").filter(Boolean),
  };
}

/** The emails of managers' teams as a subquery: direct reports, or the whole reporting trees. */
function teamQuery(db: Db, managerEmails: string[], scope: ReportScope): Knex.QueryBuilder {
  if (scope === "direct") return db("people").select("email").whereIn("manager_email", managerEmails);
  // UNION (not UNION ALL) stops at a cycle, should one ever slip into the data.
  return db
    .withRecursive("team", ["email"], (qb) => {
      qb.select("email")
        .from("people")
        .whereIn("manager_email", managerEmails)
        .union((u) => u.select("p.email").from("people as p").join("team as t", "p.manager_email", "t.email"));
    })
    .select("email")
    .from("team");
}

/**
 * Everything the status engine needs for one batch, in one set-based query per table. Mentee
 * columns are never selected: the mentee's identity stays in the database.
 */
export async function readReportInput(db: Db, q: ReportQuery): Promise<ReportInput> {
  const [input] = await readReportInputs(db, q, [q.asOf]);
  return input!;
}

/**
 * The same batch as of several moments (a summary's previous period and trend), from one read of it:
 * the widest window is read once and each moment's input is cut from it. `q.asOf` is not used.
 */
export async function readReportInputs(db: Db, q: ReportQuery, asOfs: Millis[]): Promise<ReportInput[]> {
  const { programsQ, enrollmentsQ, matchesQ, requestsQ, meetingsQ } = reportQueries(db, q, asOfs);
  const [programs, enrollments, matches, requests, meetings] = await Promise.all([
    programsQ,
    rowsOf<
      Pick<EnrollmentRecord, "program_id" | "email" | "registered_at" | "added_at"> &
        Pick<PersonRecord, "name" | "organization" | "manager_email">
    >(enrollmentsQ),
    rowsOf<Pick<MatchRecord, "match_id" | "program_id" | "mentor_email" | "matched_at" | "closed_at">>(matchesQ),
    rowsOf<Omit<MatchRequestRecord, "mentee_email">>(requestsQ),
    rowsOf<Record<string, number | string | null>>(meetingsQ),
  ]);

  const shared = {
    programs: programs.map(toProgram),
    enrollments: enrollments.map(
      (r): MentorEnrollment => ({
        programId: r.program_id,
        email: r.email,
        name: r.name,
        organization: r.organization ?? "",
        managerEmail: r.manager_email ?? null,
        registeredAt: num(r.registered_at),
        addedAt: num(r.added_at),
      }),
    ),
  };
  const allRequests = requests.map(
    (r): MentorRequest => ({
      id: r.request_id,
      programId: r.program_id,
      mentorEmail: r.mentor_email,
      requestedAt: Number(r.requested_at),
      mentorApprovedAt: num(r.mentor_approved_at),
      menteeApprovedAt: num(r.mentee_approved_at),
      adminApprovedAt: num(r.admin_approved_at),
      closedAt: num(r.closed_at),
    }),
  );
  const meetingsOf = new Map(meetings.map((m) => [String(m.match_id), m]));

  return asOfs.map((asOf, k): ReportInput => {
    const counts = (matchId: string) => {
      const m = meetingsOf.get(matchId);
      return {
        upcomingMeetings: Number(m?.[`upcoming_${k}`] ?? 0),
        completedMeetings: Number(m?.[`completed_${k}`] ?? 0),
        lastCompletedAt: num(m?.[`last_completed_${k}`]),
      };
    };
    return {
      ...shared,
      matches: matches
        .filter((r) => Number(r.matched_at) <= asOf)
        .map(
          (r): MentorMatch => ({
            id: r.match_id,
            programId: r.program_id,
            mentorEmail: r.mentor_email,
            matchedAt: Number(r.matched_at),
            closedAt: num(r.closed_at),
            ...counts(String(r.match_id)),
          }),
        ),
      requests: allRequests.filter((r) => r.requestedAt <= asOf && (r.closedAt === null || r.closedAt > asOf)),
    };
  });
}

/** The statements of one batch's read, one per table; the bench's bare read runs these very ones. */
export function reportQueries(db: Db, q: ReportQuery, asOfs: Millis[] = [q.asOf]) {
  // The window that holds every moment asked for: the rows of any of them, each cut out after the read.
  const latest = Math.max(...asOfs);
  const earliest = Math.min(...asOfs);
  const scoped = (qb: Knex.QueryBuilder, programCol: string, emailCol: string) => {
    if (q.programIds !== undefined) qb.whereIn(programCol, q.programIds);
    if (q.team) qb.whereIn(emailCol, teamQuery(db, q.team.managerEmails, q.team.scope));
    if (q.mentors) {
      if (q.mentors.after !== null) qb.where(emailCol, ">", q.mentors.after);
      qb.where(emailCol, "<=", q.mentors.last);
    }
    return qb;
  };

  const programsQ = db("programs").select("*");
  if (q.programIds !== undefined) programsQ.whereIn("program_id", q.programIds);

  const enrollmentsQ = scoped(
    db("enrollments as e")
      .join("people as p", "p.email", "e.email")
      .where("e.role", "mentor")
      .select(
        "e.program_id",
        "e.email",
        "e.registered_at",
        "e.added_at",
        "p.name",
        "p.organization",
        "p.manager_email",
      ),
    "e.program_id",
    "e.email",
  );

  const matchesQ = scoped(
    db("matches")
      .select("match_id", "program_id", "mentor_email", "matched_at", "closed_at")
      .where("matched_at", "<=", latest),
    "program_id",
    "mentor_email",
  );

  const requestsQ = scoped(
    db("match_requests")
      .select(
        "request_id",
        "program_id",
        "mentor_email",
        "requested_at",
        "mentor_approved_at",
        "mentee_approved_at",
        "admin_approved_at",
        "closed_at",
      )
      .where("requested_at", "<=", latest)
      .where((w) => w.whereNull("closed_at").orWhere("closed_at", ">", earliest)),
    "program_id",
    "mentor_email",
  );

  // Each moment's meeting counts in columns of their own (upcoming_0, completed_0, last_completed_0, …).
  const meetingsQ = db("meetings").select("match_id");
  for (const [k, asOf] of asOfs.entries()) {
    // With one moment the WHERE below already leaves out what was cancelled by then.
    const live = asOfs.length > 1 ? "(cancelled_at is null or cancelled_at > ?) and " : "";
    const at = asOfs.length > 1 ? [asOf, asOf] : [asOf];
    meetingsQ
      .select(db.raw(`sum(case when ${live}scheduled_at > ? then 1 else 0 end) as ??`, [...at, `upcoming_${k}`]))
      .select(db.raw(`sum(case when ${live}scheduled_at <= ? then 1 else 0 end) as ??`, [...at, `completed_${k}`]))
      .select(
        db.raw(`max(case when ${live}scheduled_at <= ? then scheduled_at end) as ??`, [...at, `last_completed_${k}`]),
      );
  }
  meetingsQ.where((w) => w.whereNull("cancelled_at").orWhere("cancelled_at", ">", earliest)).groupBy("match_id");
  if (q.programIds !== undefined || q.team || q.mentors) {
    meetingsQ.whereIn(
      "match_id",
      scoped(db("matches").select("match_id").where("matched_at", "<=", latest), "program_id", "mentor_email"),
    );
  }

  return { programsQ, enrollmentsQ, matchesQ, requestsQ, meetingsQ };
}

/**
 * The next batch of these programs' mentors after `after` (null: the first batch), `size` of them in
 * email order; null when none is left. The database's own order bounds the batch, so the batches of
 * `readReportInput` cover every mentor once, whatever the collation.
 */
export async function nextMentorBatch(
  db: Db,
  programIds: string[],
  after: string | null,
  size: number,
): Promise<MentorBatch | null> {
  const emails = db("enrollments")
    .where("role", "mentor")
    .whereIn("program_id", programIds)
    .distinct("email")
    .orderBy("email")
    .limit(size);
  if (after !== null) emails.where("email", ">", after);
  const r = await rowsOf<{ last: string | null }>(db.from(emails.as("batch")).max("email as last"));
  const last = r[0]?.last ?? null;
  return last === null ? null : { after, last };
}

export async function findPerson(db: Db, email: string): Promise<Person | null> {
  const r = await db("people").where("email", email.trim().toLowerCase()).first();
  return r
    ? { email: r.email, name: r.name, organization: r.organization ?? "", managerEmail: r.manager_email ?? null }
    : null;
}

/** A program by its id; people type ids in any case (`ENG` finds `eng`), an exact match wins. */
export async function findProgram(db: Db, id: string): Promise<Program | null> {
  const r =
    (await db("programs").where("program_id", id).first()) ??
    (await db("programs").whereRaw("lower(program_id) = ?", [id.toLowerCase()]).orderBy("program_id").first());
  return r ? toProgram(r) : null;
}

export async function listPrograms(db: Db): Promise<Program[]> {
  return (await db("programs").select("*").orderBy("program_id")).map(toProgram);
}

/**
 * The managers who may get a report, in email order, with their names: the mentors' own managers
 * (`direct`), or anyone who manages someone (`all`). Only those in the roster.
 */
export async function listReportManagers(db: Db, scope: ReportScope): Promise<Array<{ email: string; name: string }>> {
  // Typed here: the two builders' union trips the compiler's inference, depending on which file it checks first.
  const managers: Knex.QueryBuilder =
    scope === "direct"
      ? db("enrollments as e")
          .join("people as p", "p.email", "e.email")
          .where("e.role", "mentor")
          .whereNotNull("p.manager_email")
          .distinct("p.manager_email")
      : db("people").whereNotNull("manager_email").distinct("manager_email");
  return db("people").whereIn("email", managers).select("email", "name").orderBy("email");
}

/** The roster names of these people. */
export async function readNames(db: Db, emails: string[]): Promise<Map<string, string>> {
  const rows = await db("people").whereIn("email", emails).select("email", "name");
  return new Map(rows.map((r) => [r.email, r.name]));
}

/**
 * Who is on each of these managers' teams: their direct reports, or (`all`) everyone below them.
 * A (member, manager) pair per membership; nobody is on their own team, even in a cyclic roster.
 */
export async function readTeams(
  db: Db,
  managerEmails: string[],
  scope: ReportScope,
): Promise<Array<{ email: string; manager: string }>> {
  if (scope === "direct") {
    const rows = await db("people").whereIn("manager_email", managerEmails).select("email", "manager_email");
    return rows.flatMap((r) => (r.manager_email ? [{ email: r.email, manager: r.manager_email }] : []));
  }
  // UNION (not UNION ALL) stops at a cycle, should one ever slip into the data.
  const rows = await rowsOf<{ email: string; manager: string }>(
    db
      .withRecursive("team", ["email", "manager"], (qb) => {
        qb.select("email", "manager_email")
          .from("people")
          .whereIn("manager_email", managerEmails)
          .union((u) =>
            u.select("p.email", "t.manager").from("people as p").join("team as t", "p.manager_email", "t.email"),
          );
      })
      .select("email", "manager")
      .from("team"),
  );
  return rows.filter((r) => r.email !== r.manager);
}

/**
 * Names and managers for splitting a whole company's rows among its managers: with the `direct`
 * scope only the mentors' managers are needed; `all` walks whole chains, so it takes everyone.
 */
export async function readRoster(
  db: Db,
  scope: ReportScope,
): Promise<Map<string, { name: string; managerEmail: string | null }>> {
  const q = db("people").select("email", "name", "manager_email");
  if (scope === "direct") {
    q.whereIn(
      "email",
      db("enrollments as e")
        .join("people as p", "p.email", "e.email")
        .where("e.role", "mentor")
        .whereNotNull("p.manager_email")
        .distinct("p.manager_email"),
    );
  }
  const rows = await q;
  return new Map(
    rows.map((r) => [
      r.email as string,
      { name: r.name as string, managerEmail: (r.manager_email as string | null) ?? null },
    ]),
  );
}

export async function getSetting(db: Db, key: string): Promise<string | null> {
  const r = await db("settings").where("key", key).first();
  return r ? String(r.value) : null;
}
