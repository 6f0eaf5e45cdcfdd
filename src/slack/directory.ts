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

/** Below this many unknown emails, one users.lookupByEmail each costs less than paging users.list. */
const LOOKUP_THRESHOLD = 25;
/** A refresh ahead of a period's first wave (UTC+14) still serves its last (UTC−12), 27 hours later. */
const MAX_AGE_MS = 36 * 3600 * 1000;

/** `tz`: the zone of the user's Slack profile, when Slack gave one. */
export type Resolution = { userId: string; tz?: string } | { problem: "not_in_slack" | "deactivated" };

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
}) {
  const { db, slack, log } = deps;
  const retry = { baseMs: deps.retryBaseMs };
  const now = deps.now ?? Date.now;

  /**
   * Pages through users.list, caching each page of the workspace as it comes (the next run's misses are
   * then rare), and keeps only the entries of `wanted`: memory holds a page, not the workspace.
   */
  async function listAllInto(wanted: ReadonlySet<string>, at: number): Promise<DirectoryEntry[]> {
    const found: DirectoryEntry[] = [];
    let cursor: string | undefined;
    do {
      const page = await readWithRetry("users.list", () => slack.users.list({ limit: 1000, cursor }), log, retry);
      const byEmail = new Map<string, DirectoryEntry>();
      for (const m of (page.members ?? []) as Member[]) {
        const email = m.profile?.email?.toLowerCase();
        if (email && !m.is_bot) byEmail.set(email, entry(email, m, at));
      }
      await writeDirectory(db, [...byEmail.values()]);
      for (const [email, e] of byEmail) if (wanted.has(email)) found.push(e);
      cursor = page.response_metadata?.next_cursor || undefined;
    } while (cursor);
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
      // A miss is asked again every run: a new hire or a fixed email gets the very next report.
      const fresh = (e: DirectoryEntry | undefined) => e && !e.problem && now() - e.checkedAt < MAX_AGE_MS;
      const missing = wanted.filter((e) => !fresh(cached.get(e)));
      if (missing.length) {
        const at = now();
        let found: DirectoryEntry[];
        if (missing.length > LOOKUP_THRESHOLD) {
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
            : c.tz
              ? { userId: c.userId!, tz: c.tz }
              : { userId: c.userId! },
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
