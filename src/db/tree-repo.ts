import type { Db } from "./knex.js";

/**
 * For each of these managers, everyone below them with the direct report whose branch they are in
 * (`REPORT_SCOPE=all`, §18: a line per direct report). One recursive read for the whole batch; UNION
 * (not UNION ALL) stops at a cycle, should one ever slip into the data.
 */
export async function readBranches(
  db: Db,
  managerEmails: string[],
): Promise<Array<{ email: string; manager: string; branch: string }>> {
  if (!managerEmails.length) return [];
  const rows = (await db
    .withRecursive("tree", ["email", "manager", "branch"], (qb) => {
      qb.select("email", "manager_email", "email")
        .from("people")
        .whereIn("manager_email", managerEmails)
        .union((u) =>
          u
            .select("p.email", "t.manager", "t.branch")
            .from("people as p")
            .join("tree as t", "p.manager_email", "t.email"),
        );
    })
    .select("email", "manager", "branch")
    .from("tree")) as Array<{ email: string; manager: string; branch: string }>;
  return rows.filter((r) => r.email !== r.manager && r.branch !== r.manager);
}
