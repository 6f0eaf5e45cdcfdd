import { chunks, type Db } from "../knex.js";
import { OPEN, unheld } from "./shared.js";
import type { DeliveryKind, LedgerStore } from "./types.js";

/** Closing the rows a period left open once the next period starts. */
export const expiryStore = (db: Db): Pick<LedgerStore, "expireBefore"> => ({
  async expireBefore(periodId, now) {
    // Period ids are ISO dates: their text order is their time order.
    // A nudge left in doubt by a crash is no delivery of the run: it is not expired and reported.
    const stale = () =>
      db("deliveries")
        .where("period_id", "<", periodId)
        .whereNot("kind", "nudge")
        .whereIn("state", OPEN)
        .where(unheld(now));
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
});
