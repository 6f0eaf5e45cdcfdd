import type { Db } from "../knex.js";
import type { LedgerStore } from "./types.js";

/** What a program admin's notice is told: the channel summaries that failed for good. */
export const noticeStore = (db: Db): Pick<LedgerStore, "failedChannels"> => ({
  async failedChannels(periodId) {
    const rows: Array<{ recipient: string; error: string | null }> = await db("deliveries")
      .where({ period_id: periodId, kind: "channel", state: "failed" })
      .select("recipient", "error");
    return rows.map((r) => ({ programId: r.recipient, error: r.error ?? "" }));
  },
});
