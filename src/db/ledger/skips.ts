import { chunks, type Db } from "../knex.js";
import { unheld } from "./shared.js";
import type { LedgerStore } from "./types.js";

/**
 * Settling pending rows without a claim, a chunk of recipients a statement: skipped at the manager's wish
 * or outside a pilot, failed for want of a Slack user. Rows someone holds are left to their holder.
 */
export const skipStore = (db: Db): Pick<LedgerStore, "skipPending" | "failPending"> => ({
  async failPending(q) {
    for (const chunk of chunks(q.recipients, 5000)) {
      await db("deliveries")
        .where({ period_id: q.periodId, kind: q.kind, state: "pending" })
        .whereIn("recipient", chunk)
        .where(unheld(q.now))
        .update({ state: "failed", error: q.error, owner: null, claim: null, lease_until: null, updated_at: q.now });
    }
  },

  async skipPending(q) {
    for (const chunk of chunks(q.recipients, 5000)) {
      await db("deliveries")
        .where({ period_id: q.periodId, kind: q.kind ?? "dm", state: "pending" })
        .whereIn("recipient", chunk)
        .where(unheld(q.now))
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
});
