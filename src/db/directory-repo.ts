import { chunks, type Db, rowsPerInsert } from "./knex.js";

export interface DirectoryEntry {
  email: string;
  userId: string | null;
  problem: string | null;
  checkedAt: number;
}

const CHUNK = 5000;

export async function readDirectory(db: Db, emails: string[]): Promise<Map<string, DirectoryEntry>> {
  const out = new Map<string, DirectoryEntry>();
  for (const chunk of chunks(emails, CHUNK)) {
    const rows = await db("slack_users").whereIn("email", chunk);
    for (const r of rows)
      out.set(r.email, {
        email: r.email,
        userId: r.user_id ?? null,
        problem: r.problem ?? null,
        checkedAt: Number(r.checked_at),
      });
  }
  return out;
}

export async function writeDirectory(db: Db, entries: DirectoryEntry[]): Promise<void> {
  const rows = entries.map((e) => ({ email: e.email, user_id: e.userId, problem: e.problem, checked_at: e.checkedAt }));
  await db.transaction(async (trx) => {
    for (const chunk of chunks(rows, rowsPerInsert(trx, 4)))
      await trx("slack_users").insert(chunk).onConflict("email").merge();
  });
}

/** The roster email of a Slack user, for requests that come from Slack (slash commands, Home tab). */
export async function emailOfUser(db: Db, userId: string): Promise<string | null> {
  const r = await db("slack_users").where({ user_id: userId }).whereNull("problem").first();
  return r ? String(r.email) : null;
}
