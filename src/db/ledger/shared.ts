import type { Knex } from "knex";
import type { Db } from "../knex.js";
import type { DeliveryRecord } from "../tables.js";
import type { DeliveryRow, DeliveryState } from "./types.js";

export const toRow = (r: DeliveryRecord): DeliveryRow => ({
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

export const OPEN: DeliveryState[] = ["pending", "sending"];

/** Rows due by `dueBy`, or at once (no due moment); every row when `dueBy` is not given. */
export const dueByOrNow = (db: Db, dueBy: number | undefined) => {
  const rows = db("deliveries");
  return dueBy === undefined ? rows : rows.where((w) => w.whereNull("due_at").orWhere("due_at", "<=", dueBy));
};

/** Rows nobody holds, or whose holder's lease ran out by `now`. */
export const unheld = (now: number) => (w: Knex.QueryBuilder) =>
  w.whereNull("lease_until").orWhere("lease_until", "<", now);
