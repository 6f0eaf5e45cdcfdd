import type { ControlState } from "../domain/controls.js";
import type { Db } from "./knex.js";

export interface ManagerControl {
  state: Exclude<ControlState, "active">;
  /** For `paused`: the period whose scheduled report is skipped. */
  skipPeriod: string | null;
}

export async function controlOf(db: Db, email: string): Promise<ManagerControl | null> {
  const r = await db("report_controls").where("email", email).first();
  return r ? { state: r.state, skipPeriod: r.skip_period ?? null } : null;
}

export async function setControl(db: Db, email: string, c: ManagerControl, now: number): Promise<void> {
  await db("report_controls")
    .insert({ email, state: c.state, skip_period: c.skipPeriod, updated_at: now })
    .onConflict("email")
    .merge();
}

export async function clearControl(db: Db, email: string): Promise<void> {
  await db("report_controls").where("email", email).delete();
}

/** Whether this period's DM has gone to the manager (or may have: a post in doubt). */
export async function dmSentIn(db: Db, periodId: string, email: string): Promise<boolean> {
  const r = await db("deliveries")
    .where({ period_id: periodId, kind: "dm", recipient: email })
    .whereIn("state", ["delivered", "sending"])
    .first();
  return !!r;
}

/** The managers whose scheduled report of this period is skipped, with the reason, in one read. */
export async function skipsOf(db: Db, periodId: string): Promise<Map<string, "paused" | "stopped">> {
  const rows: Array<{ email: string; state: "paused" | "stopped" }> = await db("report_controls")
    .where("state", "stopped")
    .orWhere((w) => w.where("state", "paused").where("skip_period", periodId))
    .select("email", "state");
  return new Map(rows.map((r) => [r.email, r.state]));
}

/** Paused for a period that is over: the manager gets reports again, so the control reads as active. */
export const activeState = (c: ManagerControl | null, currentPeriod: string): ControlState =>
  !c ? "active" : c.state === "paused" && c.skipPeriod !== null && c.skipPeriod < currentPeriod ? "active" : c.state;

const NEW_BLOCKS = "slack.new_blocks_rejected_in";

/**
 * Whether this workspace refused the newer block types (table, data_visualization) in this period
 * already. Kept per period: a workspace (or its clients) that learns the newer blocks later gets them
 * from the next period on, at the cost of one refused call then.
 */
export const workspaceRejectsNewBlocks = (db: Db, periodId: string) => rejectedIn(db, NEW_BLOCKS, periodId);
export const rememberNewBlocksRejected = (db: Db, periodId: string) => rememberRejected(db, NEW_BLOCKS, periodId);

const DATA_TABLE = "slack.data_table_rejected_in";

/**
 * Whether this workspace refused the `data_table` block in this period: it may still take `table`, so
 * this is remembered apart from the newer blocks as a whole (§18: data_table, then table, then lines).
 */
export const workspaceRejectsDataTable = (db: Db, periodId: string) => rejectedIn(db, DATA_TABLE, periodId);
export const rememberDataTableRejected = (db: Db, periodId: string) => rememberRejected(db, DATA_TABLE, periodId);

async function rejectedIn(db: Db, key: string, periodId: string): Promise<boolean> {
  const r = await db("settings").where("key", key).first();
  return r?.value === periodId;
}

async function rememberRejected(db: Db, key: string, periodId: string): Promise<void> {
  await db("settings").insert({ key, value: periodId }).onConflict("key").merge();
}
