import { clearDirectory } from "../directory-repo.js";
import { chunks, type Db, rowsPerInsert } from "../knex.js";
import type { LedgerStore } from "./types.js";

/** A period's plan (its rows, and whether planning finished) and whether the period is done. */
export const periodStore = (
  db: Db,
): Pick<
  LedgerStore,
  "plan" | "hasRows" | "earliestPeriod" | "isPlanned" | "markPlanned" | "isPeriodComplete" | "markPeriodComplete"
> => ({
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

  async isPeriodComplete(periodId) {
    return !!(await db("delivery_periods").where("period_id", periodId).first());
  },

  async markPeriodComplete(periodId, now) {
    await db("delivery_periods").insert({ period_id: periodId, completed_at: now }).onConflict("period_id").ignore();
  },
});

/** Forgets every delivery and every Slack lookup: a benchmark's next delivery starts from nothing. */
export async function clearDeliveryState(db: Db): Promise<void> {
  await db("deliveries").del();
  await db("delivery_periods").del();
  await db("settings").where("key", "like", "planned:%").del();
  await clearDirectory(db);
}
