import { chunks, type Db, rowsPerInsert } from "./knex.js";

export interface DirectoryEntry {
  email: string;
  userId: string | null;
  problem: string | null;
  /** The zone of the user's Slack profile. */
  tz?: string | null;
  checkedAt: number;
  /** The installation (team or Grid org id) the user was found in (§16); absent with SLACK_BOT_TOKEN. */
  team?: string | null;
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
        tz: r.tz ?? null,
        checkedAt: Number(r.checked_at),
        team: r.team_id ?? null,
      });
  }
  return out;
}

export async function writeDirectory(db: Db, entries: DirectoryEntry[]): Promise<void> {
  const rows = entries.map((e) => ({
    email: e.email,
    user_id: e.userId,
    problem: e.problem,
    tz: e.tz ?? null,
    checked_at: e.checkedAt,
    team_id: e.team ?? null,
  }));
  await db.transaction(async (trx) => {
    for (const chunk of chunks(rows, rowsPerInsert(trx, 6)))
      await trx("slack_users").insert(chunk).onConflict("email").merge();
  });
}

/** Forgets every lookup and every period's refresh: the next resolve asks Slack afresh. */
export async function clearDirectory(db: Db): Promise<void> {
  await db("slack_users").del();
  await db("settings").where("key", "like", "directory_refreshed:%").del();
}

/** The roster email of a Slack user, for requests that come from Slack (slash commands, Home tab). */
export async function emailOfUser(db: Db, userId: string): Promise<string | null> {
  const r = await db("slack_users").where({ user_id: userId }).whereNull("problem").first();
  return r ? String(r.email) : null;
}

/**
 * Each manager's zones, for their report's local time (§12): the Slack profile's as last read, and the
 * roster's. A manager is anyone named as someone's manager; one read for the whole roster.
 */
export async function readManagerZones(
  db: Db,
): Promise<Map<string, { slackTz: string | null; rosterTz: string | null }>> {
  const rows: Array<{ email: string; timezone: string | null; tz: string | null }> = await db("people as m")
    .whereIn("m.email", db("people").whereNotNull("manager_email").distinct("manager_email"))
    .leftJoin("slack_users as s", "s.email", "m.email")
    .select("m.email", "m.timezone", "s.tz");
  return new Map(rows.map((r) => [r.email, { slackTz: r.tz ?? null, rosterTz: r.timezone ?? null }]));
}

/**
 * Takes the one refresh of the directory ahead of a period's waves: true for the first caller only, so
 * several instances do not each page users.list (Tier 2) at once.
 */
export async function claimDirectoryRefresh(db: Db, periodId: string, owner: string): Promise<boolean> {
  const key = `directory_refreshed:${periodId}`;
  await db("settings").insert({ key, value: owner }).onConflict("key").ignore();
  const r = await db("settings").where({ key }).first();
  return r?.value === owner;
}

/** Gives the refresh back when it failed (Slack out of reach), so the next tick tries again. */
export async function releaseDirectoryRefresh(db: Db, periodId: string, owner: string): Promise<void> {
  await db("settings")
    .where({ key: `directory_refreshed:${periodId}`, value: owner })
    .del();
}
