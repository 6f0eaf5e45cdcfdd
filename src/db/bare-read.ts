import type { ReportScope } from "../domain/reports.js";
import { chunks, type Db } from "./knex.js";
import { listReportManagers, readTeams, reportQueries } from "./report-repo.js";

/**
 * The reads every manager's report does, batch by batch, with the rows consumed and nothing else
 * (no status engine, no rendering): the floor the report build is measured against.
 */
export async function bareReportRead(db: Db, asOf: number, batchSize: number, scope: ReportScope = "direct") {
  const managers = await listReportManagers(db, scope);
  let rows = managers.length;
  for (const batch of chunks(managers, batchSize)) {
    const emails = batch.map((m) => m.email);
    const q = reportQueries(db, { asOf, team: { managerEmails: emails, scope } });
    const counts = await Promise.all([
      q.programsQ.then((r: unknown[]) => r.length),
      q.enrollmentsQ.then((r: unknown[]) => r.length),
      q.matchesQ.then((r: unknown[]) => r.length),
      q.requestsQ.then((r: unknown[]) => r.length),
      q.meetingsQ.then((r: unknown[]) => r.length),
      readTeams(db, emails, scope).then((r) => r.length),
    ]);
    rows += counts.reduce((a, b) => a + b, 0);
  }
  return rows;
}
