import type { Db } from "../knex.js";
import { dueByOrNow, OPEN } from "./shared.js";
import { type DeliveryKind, type LedgerStore, NOT_IN_PILOT, noCounts, type PeriodTally } from "./types.js";

/** Reads of what the ledger holds: a period's tally, its open rows and their counts, past deliveries' as-of. */
export const tallyStore = (
  db: Db,
): Pick<LedgerStore, "tally" | "countOpen" | "waiting" | "openRecipients" | "openDue" | "lastDeliveredAsOf"> => ({
  async openRecipients(periodId, kind, dueBy) {
    return dueByOrNow(db, dueBy).where({ period_id: periodId, kind }).whereIn("state", OPEN).pluck("recipient");
  },

  async openDue(periodId, dueBy) {
    const rows: Array<{ kind: DeliveryKind; recipient: string; due_at: number | string | null }> = await dueByOrNow(
      db,
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

  async countOpen(periodId, kinds, exclude, dueBy) {
    const r = await dueByOrNow(db, dueBy)
      .where("period_id", periodId)
      .whereIn("kind", kinds)
      .whereIn("state", OPEN)
      .whereNotIn("id", exclude)
      .count({ n: "*" })
      .first();
    return Number(r?.n ?? 0);
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
});
