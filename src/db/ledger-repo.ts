import { chunks, type Db, rowsPerInsert } from "./knex.js";

/** dm: a manager's report · channel: a program's summary · notice: a program admin told that its channel post failed. */
export type DeliveryKind = "dm" | "channel" | "notice";
/** pending: not sent · sending: a post may have reached Slack (check before resending) · delivered · failed: permanent. */
export type DeliveryState = "pending" | "sending" | "delivered" | "failed";

export interface DeliveryRow {
  id: number;
  periodId: string;
  kind: DeliveryKind;
  recipient: string;
  state: DeliveryState;
  attempts: number;
  updatedAt: number;
  error: string | null;
}

const toRow = (r: Record<string, any>): DeliveryRow => ({
  id: Number(r.id),
  periodId: r.period_id,
  kind: r.kind,
  recipient: r.recipient,
  state: r.state,
  attempts: Number(r.attempts),
  updatedAt: Number(r.updated_at),
  error: r.error ?? null,
});

/** Records the period's recipients; a recipient already there keeps its row (and its state). */
export async function planDeliveries(
  db: Db,
  periodId: string,
  items: Array<{ kind: DeliveryKind; recipient: string }>,
  now: number,
): Promise<void> {
  for (const chunk of chunks(items, rowsPerInsert(db, 6))) {
    const rows = chunk.map((it) => ({
      period_id: periodId,
      kind: it.kind,
      recipient: it.recipient,
      state: "pending",
      attempts: 0,
      updated_at: now,
    }));
    await db("deliveries").insert(rows).onConflict(["period_id", "kind", "recipient"]).ignore();
  }
}

/**
 * Takes up to `limit` rows of the period that nobody holds (or whose holder's lease ran out). The
 * conditional UPDATE is what makes a claim exclusive across processes on both engines.
 */
export async function claimDue(
  db: Db,
  q: {
    periodId: string;
    kinds: DeliveryKind[];
    owner: string;
    claim: string;
    now: number;
    leaseMs: number;
    limit: number;
    exclude: number[];
  },
): Promise<DeliveryRow[]> {
  const due = (b: ReturnType<Db>) =>
    b
      .where("period_id", q.periodId)
      .whereIn("kind", q.kinds)
      .whereIn("state", ["pending", "sending"])
      .where((w) => w.whereNull("lease_until").orWhere("lease_until", "<", q.now));
  const candidates = due(db("deliveries")).whereNotIn("id", q.exclude).orderBy("id").limit(q.limit).pluck("id");
  const ids: number[] = await candidates;
  if (ids.length === 0) return [];
  await due(db("deliveries"))
    .whereIn("id", ids)
    .update({ owner: q.owner, claim: q.claim, lease_until: q.now + q.leaseMs });
  return (await db("deliveries").where("claim", q.claim).orderBy("id")).map(toRow);
}

/** Extends the leases of the claims this process still works on. */
export async function renewLeases(db: Db, claims: string[], leaseUntil: number): Promise<void> {
  if (claims.length)
    await db("deliveries")
      .whereIn("claim", claims)
      .whereIn("state", ["pending", "sending"])
      .update({ lease_until: leaseUntil });
}

type Fence = { id: number; claim: string };
const fenced = (db: Db, f: Fence) => db("deliveries").where({ id: f.id, claim: f.claim });

/**
 * Marks, in one statement per chunk, the period's pending rows of these recipients as failed for good
 * (no Slack user to send to). Rows someone holds are left to their holder.
 */
export async function failPending(
  db: Db,
  q: { periodId: string; kind: DeliveryKind; recipients: string[]; error: string; now: number },
): Promise<void> {
  for (const chunk of chunks(q.recipients, 5000)) {
    await db("deliveries")
      .where({ period_id: q.periodId, kind: q.kind, state: "pending" })
      .whereIn("recipient", chunk)
      .where((w) => w.whereNull("lease_until").orWhere("lease_until", "<", q.now))
      .update({ state: "failed", error: q.error, owner: null, claim: null, lease_until: null, updated_at: q.now });
  }
}

/** Rows some instance holds right now, for `status`. */
export async function listHeld(
  db: Db,
  periodId: string,
): Promise<Array<{ kind: DeliveryKind; recipient: string; owner: string; leaseUntil: number }>> {
  const rows = await db("deliveries")
    .where("period_id", periodId)
    .whereNotNull("claim")
    .select("kind", "recipient", "owner", "lease_until")
    .orderBy("id");
  return rows.map((r: any) => ({
    kind: r.kind,
    recipient: r.recipient,
    owner: r.owner,
    leaseUntil: Number(r.lease_until),
  }));
}

/** How many instances hold live claims in the period (this one included), to share the posting rate. */
export async function countLiveOwners(db: Db, periodId: string, now: number): Promise<number> {
  const r = await db("deliveries")
    .where("period_id", periodId)
    .whereNotNull("claim")
    .where("lease_until", ">", now)
    .countDistinct({ n: "owner" })
    .first();
  return Number(r?.n ?? 0);
}

/** Rows of these kinds not yet final (pending or in doubt), leaving out `exclude`. */
export async function countOpen(db: Db, periodId: string, kinds: DeliveryKind[], exclude: number[]): Promise<number> {
  const r = await db("deliveries")
    .where("period_id", periodId)
    .whereIn("kind", kinds)
    .whereIn("state", ["pending", "sending"])
    .whereNotIn("id", exclude)
    .count({ n: "*" })
    .first();
  return Number(r?.n ?? 0);
}

/** Programs whose channel summary failed for good this period, with the reason. */
export async function failedChannels(db: Db, periodId: string): Promise<Array<{ programId: string; error: string }>> {
  const rows = await db("deliveries")
    .where({ period_id: periodId, kind: "channel", state: "failed" })
    .select("recipient", "error");
  return rows.map((r: any) => ({ programId: r.recipient, error: r.error ?? "" }));
}

/** Written before the post goes out, so a crash after it leaves the row in doubt, not pending. */
export async function markSending(db: Db, f: Fence, now: number): Promise<boolean> {
  return (await fenced(db, f).update({ state: "sending", attempts: db.raw("attempts + 1"), updated_at: now })) === 1;
}

export async function markPending(db: Db, f: Fence, error: string | null, now: number): Promise<boolean> {
  return (await fenced(db, f).update({ state: "pending", error, updated_at: now })) === 1;
}

export async function markDelivered(
  db: Db,
  f: Fence,
  where: { channel: string; ts: string },
  now: number,
): Promise<boolean> {
  // The owner stays: which instance delivered is worth knowing.
  return (
    (await fenced(db, f).update({
      state: "delivered",
      channel: where.channel,
      ts: where.ts,
      error: null,
      claim: null,
      lease_until: null,
      updated_at: now,
    })) === 1
  );
}

export async function markFailed(db: Db, f: Fence, error: string, now: number): Promise<boolean> {
  return (
    (await fenced(db, f).update({
      state: "failed",
      error,
      owner: null,
      claim: null,
      lease_until: null,
      updated_at: now,
    })) === 1
  );
}

/** Lets go of a row without finishing it (Slack unreachable, the run stopping): another run takes it. */
export async function release(db: Db, f: Fence, error: string | null, now: number): Promise<void> {
  await fenced(db, f).update({ owner: null, claim: null, lease_until: null, error, updated_at: now });
}

export type KindCounts = Record<DeliveryKind, number>;
export const noCounts = (): KindCounts => ({ dm: 0, channel: 0, notice: 0 });

export interface PeriodTally {
  byState: Record<DeliveryState, KindCounts>;
  failed: Array<{ kind: DeliveryKind; recipient: string; error: string }>;
}

export async function tallyPeriod(db: Db, periodId: string): Promise<PeriodTally> {
  const [counts, failed] = await Promise.all([
    db("deliveries").where("period_id", periodId).select("state", "kind").count({ n: "*" }).groupBy("state", "kind"),
    db("deliveries")
      .where({ period_id: periodId, state: "failed" })
      .select("kind", "recipient", "error")
      .orderBy(["kind", "recipient"]),
  ]);
  const byState: PeriodTally["byState"] = {
    pending: noCounts(),
    sending: noCounts(),
    delivered: noCounts(),
    failed: noCounts(),
  };
  for (const c of counts as Array<{ state: DeliveryState; kind: DeliveryKind; n: number }>)
    byState[c.state][c.kind] = Number(c.n);
  return { byState, failed: failed.map((f: any) => ({ kind: f.kind, recipient: f.recipient, error: f.error ?? "" })) };
}

export async function isPeriodComplete(db: Db, periodId: string): Promise<boolean> {
  return !!(await db("delivery_periods").where("period_id", periodId).first());
}

export async function markPeriodComplete(db: Db, periodId: string, now: number): Promise<void> {
  await db("delivery_periods").insert({ period_id: periodId, completed_at: now }).onConflict("period_id").ignore();
}
