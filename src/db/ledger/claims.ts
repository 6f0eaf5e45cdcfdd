import type { Db } from "../knex.js";
import type { DeliveryRecord } from "../tables.js";
import { dueByOrNow, OPEN, toRow, unheld } from "./shared.js";
import type { ClaimQuery, Fence, LedgerStore } from "./types.js";

/** Taking rows, holding them under a lease, and settling them under the claim that holds them. */
export const claimStore = (
  db: Db,
): Pick<
  LedgerStore,
  | "claimDue"
  | "peekDue"
  | "renewLeases"
  | "listHeld"
  | "countLiveOwners"
  | "markSending"
  | "markPending"
  | "markDelivered"
  | "markFailed"
  | "release"
> => {
  const fenced = (f: Fence) => db("deliveries").where({ id: f.id, claim: f.claim });
  const due = (q: Pick<ClaimQuery, "periodId" | "kinds" | "now" | "dueBy">) =>
    dueByOrNow(db, q.dueBy)
      .where("period_id", q.periodId)
      .whereIn("kind", q.kinds)
      .whereIn("state", OPEN)
      .where(unheld(q.now));

  return {
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
        ...(where.team === undefined ? {} : { team_id: where.team }),
        error: null,
        claim: null,
        lease_until: null,
        updated_at: now,
      });
      return n === 1;
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
  };
};
