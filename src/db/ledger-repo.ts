import { clearDirectory } from "./directory-repo.js";
import { chunks, type Db, rowsPerInsert } from "./knex.js";
import type { DeliveryRecord } from "./tables.js";

/**
 * dm: a manager's report · channel: a program's summary · notice: a program admin told that its channel
 * post failed · stale: a program admin told, before the run delivers, that the data is old (§13).
 */
export type DeliveryKind = DeliveryRecord["kind"];
/**
 * pending: not sent · sending: a post may have reached Slack (check before resending) · delivered ·
 * failed: permanent · skipped: the manager paused or stopped their reports (§11), or is outside a pilot (§17).
 */
export type DeliveryState = DeliveryRecord["state"];

export interface DeliveryRow {
  id: number;
  periodId: string;
  kind: DeliveryKind;
  recipient: string;
  state: DeliveryState;
  attempts: number;
  updatedAt: number;
  error: string | null;
  /** Local time (§12): when the report is due, and the moment it is built as of; null: at once. */
  dueAt: number | null;
}

/** A claimed row is changed only by the claim that holds it: a run whose lease ran out changes nothing. */
export type Fence = { id: number; claim: string };

/** `stale` and `nudge` are there only in a period that had such rows. */
export type KindCounts = Record<Exclude<DeliveryKind, "stale" | "nudge">, number> & { stale?: number; nudge?: number };
/** The skip reason of a recipient outside a pilot (§17). */
export const NOT_IN_PILOT = "not_in_pilot";

export const noCounts = (): KindCounts => ({ dm: 0, channel: 0, notice: 0 });

export interface PeriodTally {
  byState: Record<DeliveryState, KindCounts>;
  failed: Array<{ kind: DeliveryKind; recipient: string; error: string }>;
  /** Managers whose report was skipped at their wish, with the reason (`paused`, `stopped`). */
  skipped: Array<{ recipient: string; reason: string }>;
  /**
   * Recipients outside a pilot (§17, `not_in_pilot`), counted, not listed: a pilot of ten in a company of
   * thousands would otherwise list everyone else at every tally.
   */
  outsidePilot: { dm: number; channel: number };
}

export interface ClaimQuery {
  periodId: string;
  kinds: DeliveryKind[];
  owner: string;
  claim: string;
  now: number;
  leaseMs: number;
  limit: number;
  exclude: number[];
  /** Local time (§12): only rows due by then (and those due at once). */
  dueBy?: number;
}

/** A planned row: `dueAt`, the moment its report is due and built as of; none: at once. */
export type PlanItem = { kind: DeliveryKind; recipient: string; dueAt?: number | null };

/** The delivery ledger: one row per period and recipient, and the periods that are done. */
/** A row closed because its period ended before it could be delivered. */
export type ExpiredRow = { periodId: string; kind: DeliveryKind; recipient: string };

export interface LedgerStore {
  /**
   * Closes the open rows of every period before `periodId` as failed `expired` (no live claim on
   * them), and marks those periods done: a period is finished until the next one starts, not after.
   */
  expireBefore(periodId: string, now: number): Promise<ExpiredRow[]>;
  /** Records the period's recipients; a recipient already there keeps its row (and its state). */
  plan(periodId: string, items: PlanItem[], now: number): Promise<void>;
  /** Whether any row of the period was planned. */
  hasRows(periodId: string): Promise<boolean>;
  /** The earliest period any run ever started or finished (§17: none on a fresh database). */
  earliestPeriod(): Promise<string | null>;
  /**
   * Local time: whether a run finished planning the period's recipients. Planning goes a batch at a time,
   * so rows alone do not say the list is whole: until it is, no run may call the period complete.
   */
  isPlanned(periodId: string): Promise<boolean>;
  markPlanned(periodId: string): Promise<void>;
  /** Recipients of this kind whose row is not final yet (and, with `dueBy`, is due by then). */
  openRecipients(periodId: string, kind: DeliveryKind, dueBy?: number): Promise<string[]>;
  /** The rows not final yet and due by `dueBy` (or at once), with their due moments. */
  openDue(
    periodId: string,
    dueBy: number,
  ): Promise<Array<{ kind: DeliveryKind; recipient: string; dueAt: number | null }>>;
  /** Open rows that wait for their local time after `after`, and the earliest of their moments. */
  waiting(periodId: string, after: number): Promise<{ count: number; next: number | null }>;
  /**
   * Takes up to `limit` rows of the period that nobody holds (or whose holder's lease ran out). The
   * conditional UPDATE is what makes a claim exclusive across processes on both engines.
   */
  claimDue(q: ClaimQuery): Promise<DeliveryRow[]>;
  /** The rows a next claim would likely take (free, due, after `afterId`), without claiming them. */
  peekDue(q: Omit<ClaimQuery, "owner" | "claim" | "leaseMs" | "exclude"> & { afterId: number }): Promise<DeliveryRow[]>;
  /** Extends the leases of the claims this process still works on. */
  renewLeases(claims: string[], leaseUntil: number): Promise<void>;
  /**
   * Marks, in one statement per chunk, the period's pending rows of these recipients as failed for good
   * (no Slack user to send to). Rows someone holds are left to their holder.
   */
  failPending(q: {
    periodId: string;
    kind: DeliveryKind;
    recipients: string[];
    error: string;
    now: number;
  }): Promise<void>;
  /** Rows some instance holds right now, for `status`. */
  listHeld(
    periodId: string,
  ): Promise<Array<{ kind: DeliveryKind; recipient: string; owner: string; leaseUntil: number }>>;
  /** How many instances hold live claims in the period (this one included), to share the posting rate. */
  countLiveOwners(periodId: string, now: number): Promise<number>;
  /** Rows of these kinds not yet final (pending or in doubt), leaving out `exclude`. */
  countOpen(periodId: string, kinds: DeliveryKind[], exclude: number[], dueBy?: number): Promise<number>;
  /** Programs whose channel summary failed for good this period, with the reason. */
  failedChannels(periodId: string): Promise<Array<{ programId: string; error: string }>>;
  /** Written before the post goes out, so a crash after it leaves the row in doubt, not pending. */
  markSending(f: Fence, now: number): Promise<boolean>;
  markPending(f: Fence, error: string | null, now: number): Promise<boolean>;
  /** `asOf`: the time the delivered report was built at, from which the next one tells what changed. */
  markDelivered(f: Fence, where: { channel: string; ts: string; asOf?: number }, now: number): Promise<boolean>;
  /** Settles the period's pending rows (DMs unless `kind` says) of these recipients as skipped, with the reason, in one statement a chunk. */
  skipPending(q: {
    periodId: string;
    kind?: DeliveryKind;
    recipients: string[];
    reason: string;
    now: number;
  }): Promise<void>;
  /** Every manager's as-of of the last DM delivered to them before this period, in one grouped read. */
  lastDeliveredAsOf(periodId: string): Promise<Map<string, number>>;
  markFailed(f: Fence, error: string, now: number): Promise<boolean>;
  /** Lets go of a row without finishing it (Slack unreachable, the run stopping): another run takes it. */
  release(f: Fence, error: string | null, now: number): Promise<void>;
  tally(periodId: string): Promise<PeriodTally>;
  isPeriodComplete(periodId: string): Promise<boolean>;
  markPeriodComplete(periodId: string, now: number): Promise<void>;
}

const toRow = (r: DeliveryRecord): DeliveryRow => ({
  id: Number(r.id),
  periodId: r.period_id,
  kind: r.kind,
  recipient: r.recipient,
  state: r.state,
  attempts: Number(r.attempts),
  updatedAt: Number(r.updated_at),
  error: r.error ?? null,
  dueAt: r.due_at === null || r.due_at === undefined ? null : Number(r.due_at),
});

const OPEN: DeliveryState[] = ["pending", "sending"];

/** Forgets every delivery and every Slack lookup: a benchmark's next delivery starts from nothing. */
export async function clearDeliveryState(db: Db): Promise<void> {
  await db("deliveries").del();
  await db("delivery_periods").del();
  await db("settings").where("key", "like", "planned:%").del();
  await clearDirectory(db);
}

export function createLedgerStore(db: Db): LedgerStore {
  const fenced = (f: Fence) => db("deliveries").where({ id: f.id, claim: f.claim });
  /** Rows due by `dueBy`, or at once (no due moment); every row when `dueBy` is not given. */
  const dueByOrNow = (dueBy: number | undefined) => {
    const rows = db("deliveries");
    return dueBy === undefined ? rows : rows.where((w) => w.whereNull("due_at").orWhere("due_at", "<=", dueBy));
  };
  const due = (q: Pick<ClaimQuery, "periodId" | "kinds" | "now" | "dueBy">) =>
    dueByOrNow(q.dueBy)
      .where("period_id", q.periodId)
      .whereIn("kind", q.kinds)
      .whereIn("state", OPEN)
      .where((w) => w.whereNull("lease_until").orWhere("lease_until", "<", q.now));

  return {
    async expireBefore(periodId, now) {
      // Period ids are ISO dates: their text order is their time order.
      // A nudge left in doubt by a crash is no delivery of the run: it is not expired and reported.
      const stale = () =>
        db("deliveries")
          .where("period_id", "<", periodId)
          .whereNot("kind", "nudge")
          .whereIn("state", OPEN)
          .where((w) => w.whereNull("lease_until").orWhere("lease_until", "<", now));
      const rows: Array<{ id: number; period_id: string; kind: DeliveryKind; recipient: string }> = await stale()
        .select("id", "period_id", "kind", "recipient")
        .orderBy(["period_id", "kind", "recipient"]);
      if (!rows.length) return [];
      for (const chunk of chunks(rows, 5000))
        await stale()
          .whereIn(
            "id",
            chunk.map((r) => r.id),
          )
          .update({ state: "failed", error: "expired", owner: null, claim: null, lease_until: null, updated_at: now });
      for (const p of new Set(rows.map((r) => r.period_id)))
        await db("delivery_periods").insert({ period_id: p, completed_at: now }).onConflict("period_id").ignore();
      return rows.map((r) => ({ periodId: r.period_id, kind: r.kind, recipient: r.recipient }));
    },

    async plan(periodId, items, now) {
      for (const chunk of chunks(items, rowsPerInsert(db, 7))) {
        const rows = chunk.map((it) => ({
          period_id: periodId,
          kind: it.kind,
          recipient: it.recipient,
          state: "pending" as const,
          attempts: 0,
          updated_at: now,
          due_at: it.dueAt ?? null,
        }));
        await db("deliveries").insert(rows).onConflict(["period_id", "kind", "recipient"]).ignore();
      }
    },

    async isPlanned(periodId) {
      return !!(await db("settings")
        .where({ key: `planned:${periodId}` })
        .first());
    },

    async markPlanned(periodId) {
      await db("settings")
        .insert({ key: `planned:${periodId}`, value: "1" })
        .onConflict("key")
        .ignore();
    },

    async hasRows(periodId) {
      // A nudge clicked before the period's run is no sign that the run began.
      return !!(await db("deliveries").where("period_id", periodId).whereNot("kind", "nudge").first("id"));
    },

    async earliestPeriod() {
      const [started, done] = await Promise.all([
        // A manager's nudge is no delivery: it does not give the database a history (§17).
        db("deliveries").whereNot("kind", "nudge").min({ first: "period_id" }).first(),
        db("delivery_periods").min({ first: "period_id" }).first(),
      ]);
      const ids = [started?.first, done?.first].filter((id): id is string => typeof id === "string");
      return ids.sort()[0] ?? null;
    },

    async openRecipients(periodId, kind, dueBy) {
      return dueByOrNow(dueBy).where({ period_id: periodId, kind }).whereIn("state", OPEN).pluck("recipient");
    },

    async openDue(periodId, dueBy) {
      const rows: Array<{ kind: DeliveryKind; recipient: string; due_at: number | string | null }> = await dueByOrNow(
        dueBy,
      )
        .where("period_id", periodId)
        .whereIn("state", OPEN)
        .select("kind", "recipient", "due_at");
      return rows.map((r) => ({
        kind: r.kind,
        recipient: r.recipient,
        dueAt: r.due_at === null ? null : Number(r.due_at),
      }));
    },

    async waiting(periodId, after) {
      const r = await db("deliveries")
        .where("period_id", periodId)
        .whereIn("state", OPEN)
        .where("due_at", ">", after)
        .count({ n: "*" })
        .min({ next: "due_at" })
        .first();
      return { count: Number(r?.n ?? 0), next: r?.next == null ? null : Number(r.next) };
    },

    async claimDue(q) {
      const ids: number[] = await due(q).whereNotIn("id", q.exclude).orderBy("id").limit(q.limit).pluck("id");
      if (ids.length === 0) return [];
      await due(q)
        .whereIn("id", ids)
        .update({ owner: q.owner, claim: q.claim, lease_until: q.now + q.leaseMs });
      const rows: DeliveryRecord[] = await db("deliveries").where("claim", q.claim).orderBy("id");
      return rows.map(toRow);
    },

    async peekDue(q) {
      const rows: DeliveryRecord[] = await due(q).where("id", ">", q.afterId).orderBy("id").limit(q.limit);
      return rows.map(toRow);
    },

    async renewLeases(claims, leaseUntil) {
      if (claims.length)
        await db("deliveries").whereIn("claim", claims).whereIn("state", OPEN).update({ lease_until: leaseUntil });
    },

    async failPending(q) {
      for (const chunk of chunks(q.recipients, 5000)) {
        await db("deliveries")
          .where({ period_id: q.periodId, kind: q.kind, state: "pending" })
          .whereIn("recipient", chunk)
          .where((w) => w.whereNull("lease_until").orWhere("lease_until", "<", q.now))
          .update({ state: "failed", error: q.error, owner: null, claim: null, lease_until: null, updated_at: q.now });
      }
    },

    async listHeld(periodId) {
      const rows = await db("deliveries")
        .where("period_id", periodId)
        .whereNotNull("claim")
        .select("kind", "recipient", "owner", "lease_until")
        .orderBy("id");
      return rows.map((r) => ({
        kind: r.kind,
        recipient: r.recipient,
        owner: r.owner ?? "",
        leaseUntil: Number(r.lease_until),
      }));
    },

    async countLiveOwners(periodId, now) {
      const r = await db("deliveries")
        .where("period_id", periodId)
        .whereNotNull("claim")
        .where("lease_until", ">", now)
        .countDistinct({ n: "owner" })
        .first();
      return Number(r?.n ?? 0);
    },

    async countOpen(periodId, kinds, exclude, dueBy) {
      const r = await dueByOrNow(dueBy)
        .where("period_id", periodId)
        .whereIn("kind", kinds)
        .whereIn("state", OPEN)
        .whereNotIn("id", exclude)
        .count({ n: "*" })
        .first();
      return Number(r?.n ?? 0);
    },

    async failedChannels(periodId) {
      const rows: Array<{ recipient: string; error: string | null }> = await db("deliveries")
        .where({ period_id: periodId, kind: "channel", state: "failed" })
        .select("recipient", "error");
      return rows.map((r) => ({ programId: r.recipient, error: r.error ?? "" }));
    },

    async markSending(f, now) {
      return (await fenced(f).update({ state: "sending", attempts: db.raw("attempts + 1"), updated_at: now })) === 1;
    },

    async markPending(f, error, now) {
      return (await fenced(f).update({ state: "pending", error, updated_at: now })) === 1;
    },

    async markDelivered(f, where, now) {
      // The owner stays: which instance delivered is worth knowing.
      const n = await fenced(f).update({
        state: "delivered",
        channel: where.channel,
        ts: where.ts,
        ...(where.asOf === undefined ? {} : { as_of: where.asOf }),
        error: null,
        claim: null,
        lease_until: null,
        updated_at: now,
      });
      return n === 1;
    },

    async skipPending(q) {
      for (const chunk of chunks(q.recipients, 5000)) {
        await db("deliveries")
          .where({ period_id: q.periodId, kind: q.kind ?? "dm", state: "pending" })
          .whereIn("recipient", chunk)
          .where((w) => w.whereNull("lease_until").orWhere("lease_until", "<", q.now))
          .update({
            state: "skipped",
            error: q.reason,
            owner: null,
            claim: null,
            lease_until: null,
            updated_at: q.now,
          });
      }
    },

    async lastDeliveredAsOf(periodId) {
      // Period ids are ISO dates, so an earlier period sorts before this one.
      const rows: Array<{ recipient: string; as_of: number | string }> = await db("deliveries")
        .where({ kind: "dm", state: "delivered" })
        .where("period_id", "<", periodId)
        .whereNotNull("as_of")
        .select("recipient")
        .max({ as_of: "as_of" })
        .groupBy("recipient");
      return new Map(rows.map((r) => [r.recipient, Number(r.as_of)]));
    },

    async markFailed(f, error, now) {
      const n = await fenced(f).update({
        state: "failed",
        error,
        owner: null,
        claim: null,
        lease_until: null,
        updated_at: now,
      });
      return n === 1;
    },

    async release(f, error, now) {
      await fenced(f).update({ owner: null, claim: null, lease_until: null, error, updated_at: now });
    },

    async tally(periodId) {
      // Nudges (§18) are the managers' clicks, not the run's deliveries: they neither hold a period open
      // nor count in its summary.
      const counts = db("deliveries")
        .where("period_id", periodId)
        .whereNot("kind", "nudge")
        .select("state", "kind")
        .count({ n: "*" })
        .groupBy("state", "kind");
      const failed = db("deliveries")
        .where({ period_id: periodId, state: "failed" })
        .whereNot("kind", "nudge")
        .select("kind", "recipient", "error")
        .orderBy(["kind", "recipient"]);
      const skipped = db("deliveries")
        .where({ period_id: periodId, state: "skipped" })
        .whereNot("error", NOT_IN_PILOT)
        .select("recipient", "error")
        .orderBy("recipient");
      const outsidePilot = db("deliveries")
        .where({ period_id: periodId, state: "skipped", error: NOT_IN_PILOT })
        .select("kind")
        .count({ n: "*" })
        .groupBy("kind");
      const byState: PeriodTally["byState"] = {
        pending: noCounts(),
        sending: noCounts(),
        delivered: noCounts(),
        failed: noCounts(),
        skipped: noCounts(),
      };
      for (const c of await counts) byState[c.state][c.kind] = Number(c.n);
      const outside = await outsidePilot;
      const pilotCount = (kind: DeliveryKind) => Number(outside.find((c) => c.kind === kind)?.n ?? 0);
      return {
        byState,
        failed: (await failed).map((f) => ({ kind: f.kind, recipient: f.recipient, error: f.error ?? "" })),
        skipped: (await skipped).map((k) => ({ recipient: k.recipient, reason: k.error ?? "" })),
        outsidePilot: { dm: pilotCount("dm"), channel: pilotCount("channel") },
      };
    },

    async isPeriodComplete(periodId) {
      return !!(await db("delivery_periods").where("period_id", periodId).first());
    },

    async markPeriodComplete(periodId, now) {
      await db("delivery_periods").insert({ period_id: periodId, completed_at: now }).onConflict("period_id").ignore();
    },
  };
}
