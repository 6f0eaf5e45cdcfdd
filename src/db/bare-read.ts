import type { Db } from "./knex.js";

/** The same reads the report does, rows consumed and nothing else: the floor the report is measured against. */
export async function bareReportRead(db: Db, asOf: number): Promise<number> {
  const q = (sql: string, b: number[] = []) =>
    db.raw(sql, b).then((r: unknown[] | { rows: unknown[] }) => (Array.isArray(r) ? r.length : r.rows.length));
  const counts = await Promise.all([
    q("select * from programs"),
    q(
      "select e.program_id, e.email, e.registered_at, p.name, p.organization, p.manager_email from enrollments e join people p on p.email = e.email where e.role = 'mentor'",
    ),
    q("select match_id, program_id, mentor_email, matched_at, closed_at from matches where matched_at <= ?", [asOf]),
    q(
      "select request_id, program_id, mentor_email, requested_at, mentor_approved_at, mentee_approved_at, admin_approved_at, closed_at from match_requests where requested_at <= ? and (closed_at is null or closed_at > ?)",
      [asOf, asOf],
    ),
    q(
      "select match_id, sum(case when scheduled_at > ? then 1 else 0 end) as upcoming, sum(case when scheduled_at <= ? then 1 else 0 end) as completed from meetings where cancelled_at is null or cancelled_at > ? group by match_id",
      [asOf, asOf, asOf],
    ),
    q(
      "select email, name, manager_email from people where email in (select distinct p.manager_email from enrollments e join people p on p.email = e.email where e.role = 'mentor' and p.manager_email is not null)",
    ),
  ]);
  return counts.reduce((a, b) => a + b, 0);
}
