import type { WebClient } from "@slack/web-api";
import {
  claimDirectoryRefresh,
  type DirectoryEntry,
  readDirectory,
  readManagerZones,
  releaseDirectoryRefresh,
  writeDirectory,
} from "../db/directory-repo.js";
import type { Db } from "../db/knex.js";
import { recipientZone } from "../domain/periods.js";
import type { Logger } from "../logger.js";
import { readWithRetry, SlackCallError } from "./retry.js";
import type { Workspace, Workspaces } from "./workspaces.js";

/** Below this many unknown emails, one users.lookupByEmail each costs less than paging users.list. */
const LOOKUP_THRESHOLD = 25;
/** A refresh ahead of a period's first wave (UTC+14) still serves its last (UTC−12), 27 hours later. */
const MAX_AGE_MS = 36 * 3600 * 1000;

/**
 * `tz`: the zone of the user's Slack profile, when Slack gave one. `team`: the installation the user
 * was found in, when installed from the link (§16).
 */
export type Resolution = { userId: string; tz?: string; team?: string } | { problem: "not_in_slack" | "deactivated" };

type Member = { id: string; deleted?: boolean; is_bot?: boolean; tz?: string; profile?: { email?: string } };

/**
 * Ties roster emails to Slack users, cached in the database: one paginated users.list when many are
 * unknown (1,000 users a call), users.lookupByEmail for a few misses.
 */
export function createDirectory(deps: {
  db: Db;
  slack: WebClient;
  log: Logger;
  now?: () => number;
  retryBaseMs?: number;
  /** Installed from the link: people are looked for in every installation, oldest first (§16). */
  workspaces?: Workspaces | null;
}) {
  const { db, slack, log } = deps;
  const workspaces = deps.workspaces ?? null;
  const retry = { baseMs: deps.retryBaseMs };
  const now = deps.now ?? Date.now;

  /**
   * Pages through users.list, caching each page of the workspace as it comes (the next run's misses are
   * then rare), and keeps only the entries of `wanted`: memory holds a page, not the workspace.
   */
  async function listAllInto(
    wanted: ReadonlySet<string>,
    at: number,
    where: { teamId?: string; cacheAll: boolean } = { cacheAll: true },
  ): Promise<DirectoryEntry[]> {
    const found: DirectoryEntry[] = [];
    let cursor: string | undefined;
    do {
      const page = await readWithRetry(
        "users.list",
        () => slack.users.list({ limit: 1000, cursor, ...(where.teamId ? { team_id: where.teamId } : {}) }),
        log,
        retry,
      );
      const byEmail = new Map<string, DirectoryEntry>();
      for (const m of (page.members ?? []) as Member[]) {
        const email = m.profile?.email?.toLowerCase();
        if (email && !m.is_bot) byEmail.set(email, entry(email, m, at));
      }
      // Many installations: an email of a later one must not replace the oldest one's (§16 order).
      if (where.cacheAll) await writeDirectory(db, [...byEmail.values()]);
      for (const [email, e] of byEmail) if (wanted.has(email)) found.push(e);
      cursor = page.response_metadata?.next_cursor || undefined;
    } while (cursor);
    return found;
  }

  /** The emails' users in the installation at hand (its client set by `within`); those not there are left out. */
  async function findIn(emails: string[], at: number, ws: Workspace): Promise<DirectoryEntry[]> {
    if (emails.length <= LOOKUP_THRESHOLD) {
      const out: DirectoryEntry[] = [];
      for (const e of emails) {
        const m = await lookup(e);
        if (m) out.push(entry(e, m, at));
      }
      return out;
    }
    const wanted = new Set(emails);
    if (!ws.isOrg) return listAllInto(wanted, at, { cacheAll: false });
    // An org token lists one workspace at a time: each of the org's, once (a Grid user is one id org-wide).
    const teams = await readWithRetry("auth.teams.list", () => slack.auth.teams.list({ limit: 1000 }), log, retry);
    const out = new Map<string, DirectoryEntry>();
    for (const t of teams.teams ?? []) {
      if (!t.id) continue;
      for (const e of await listAllInto(wanted, at, { teamId: t.id, cacheAll: false }))
        if (!out.has(e.email)) out.set(e.email, e);
    }
    return [...out.values()];
  }

  /**
   * §16 order: each installation oldest first takes the emails still not found (on Grid the org's one
   * token looks org-wide); a user deactivated in one is looked for in the next.
   */
  async function acrossInstallations(missing: string[], at: number, wss: Workspaces): Promise<DirectoryEntry[]> {
    const installations = await wss.list();
    const found: DirectoryEntry[] = [];
    const deactivated = new Map<string, DirectoryEntry>();
    const left = new Set(missing);
    const take = (ws: Workspace, here: DirectoryEntry[]) => {
      for (const e of here) {
        if (!left.has(e.email)) continue;
        if (!e.problem) {
          found.push({ ...e, team: ws.id });
          left.delete(e.email);
        } else if (!deactivated.has(e.email)) deactivated.set(e.email, { ...e, team: ws.id });
      }
    };
    if (missing.length > LOOKUP_THRESHOLD) {
      // Each installation pages its own users at its own workspace's limit, all at once; the oldest wins.
      const pages = await Promise.all(installations.map((ws) => wss.within(ws.id, () => findIn(missing, at, ws))));
      for (const [i, ws] of installations.entries()) take(ws, pages[i] ?? []);
    } else {
      // A few lookups: each installation asked only for the emails the older ones did not have.
      for (const ws of installations) {
        if (!left.size) break;
        take(ws, await wss.within(ws.id, () => findIn([...left], at, ws)));
      }
    }
    for (const e of left) found.push(deactivated.get(e) ?? entry(e, null, at));
    return found;
  }

  async function lookup(email: string): Promise<Member | null> {
    try {
      const r = await readWithRetry("users.lookupByEmail", () => slack.users.lookupByEmail({ email }), log, retry);
      return (r.user as Member) ?? null;
    } catch (err) {
      if (err instanceof SlackCallError && err.outcome.kind === "permanent" && err.outcome.reason === "users_not_found")
        return null;
      throw err;
    }
  }

  const entry = (email: string, m: Member | null | undefined, at: number): DirectoryEntry =>
    !m
      ? { email, userId: null, problem: "not_in_slack", tz: null, checkedAt: at }
      : m.deleted
        ? { email, userId: m.id, problem: "deactivated", tz: null, checkedAt: at }
        : { email, userId: m.id, problem: null, tz: m.tz || null, checkedAt: at };

  return {
    async resolve(emails: string[], opts: { refresh?: boolean } = {}): Promise<Map<string, Resolution>> {
      const wanted = [...new Set(emails.map((e) => e.toLowerCase()))];
      const cached = opts.refresh ? new Map<string, DirectoryEntry>() : await readDirectory(db, wanted);
      // A miss is asked again every run: a new hire or a fixed email gets the very next report. So is a
      // user found in an installation since removed.
      const live = workspaces ? new Set((await workspaces.list()).map((w) => w.id)) : null;
      const fresh = (e: DirectoryEntry | undefined) =>
        e && !e.problem && now() - e.checkedAt < MAX_AGE_MS && (!live || (!!e.team && live.has(e.team)));
      const missing = wanted.filter((e) => !fresh(cached.get(e)));
      if (missing.length) {
        const at = now();
        let found: DirectoryEntry[];
        if (workspaces) found = await acrossInstallations(missing, at, workspaces);
        else if (missing.length > LOOKUP_THRESHOLD) {
          const seen = await listAllInto(new Set(missing), at);
          const inSlack = new Set(seen.map((e) => e.email));
          found = [...seen, ...missing.filter((e) => !inSlack.has(e)).map((e) => entry(e, null, at))];
        } else {
          found = [];
          for (const e of missing) found.push(entry(e, await lookup(e), at));
        }
        await writeDirectory(db, found);
        for (const f of found) cached.set(f.email, f);
        log.info(
          { resolved: missing.length, via: missing.length > LOOKUP_THRESHOLD ? "users.list" : "users.lookupByEmail" },
          "directory refreshed",
        );
      }
      const out = new Map<string, Resolution>();
      for (const e of wanted) {
        const c = cached.get(e)!;
        out.set(
          e,
          c.problem
            ? { problem: c.problem as "not_in_slack" | "deactivated" }
            : {
                userId: c.userId!,
                ...(c.tz ? { tz: c.tz } : {}),
                ...(c.team ? { team: c.team } : {}),
              },
        );
      }
      return out;
    },

    /**
     * Reads every manager's Slack user (and zone) afresh, ahead of a period's first wave, so that the
     * waves find the directory ready and start posting at once.
     */
    async refreshManagers(): Promise<number> {
      const emails = [...(await readManagerZones(db)).keys()];
      if (emails.length) await this.resolve(emails, { refresh: true });
      return emails.length;
    },

    /**
     * The directory's one refresh ahead of the period's first wave, whichever instance (or `send --due`)
     * comes first; false when it was done already.
     */
    async refreshOnceFor(periodId: string, owner: string): Promise<boolean> {
      if (!(await claimDirectoryRefresh(db, periodId, owner))) return false;
      const n = await this.refreshManagers().catch(async (err) => {
        await releaseDirectoryRefresh(db, periodId, owner);
        throw err;
      });
      log.info({ period: periodId, managers: n }, "directory refreshed ahead of the period's first wave");
      return true;
    },

    /** Each manager's zone for their report's local time (§12), from what the directory last read. */
    async managerZones(reportZone: string): Promise<Map<string, string>> {
      const out = new Map<string, string>();
      for (const [email, z] of await readManagerZones(db))
        out.set(email, recipientZone(z.slackTz, z.rosterTz, reportZone));
      return out;
    },
  };
}

export type Directory = ReturnType<typeof createDirectory>;
