import { chunks, type Db } from "./knex.js";

/** A nudge's ledger row (kind `nudge`, recipient: the item's key). */
export interface NudgeRecord {
  key: string;
  state: "sending" | "delivered" | "failed";
  requestedBy: string;
  at: number;
  error: string | null;
}

/**
 * Takes the period's nudge of an item for this click: the unique (period, kind, recipient) lets one
 * insert win across instances; a row that failed for good before may be taken again. Returns the row
 * as it stands, and whether this click holds it (then it sends).
 */
export async function claimNudge(
  db: Db,
  q: { periodId: string; key: string; requestedBy: string; claim: string; now: number },
): Promise<{ mine: boolean; row: NudgeRecord }> {
  await db("deliveries")
    .insert({
      period_id: q.periodId,
      kind: "nudge",
      recipient: q.key,
      state: "sending",
      attempts: 1,
      claim: q.claim,
      requested_by: q.requestedBy,
      updated_at: q.now,
    })
    .onConflict(["period_id", "kind", "recipient"])
    .ignore();
  await db("deliveries")
    .where({ period_id: q.periodId, kind: "nudge", recipient: q.key, state: "failed" })
    .update({ state: "sending", claim: q.claim, requested_by: q.requestedBy, error: null, updated_at: q.now });
  const r = await db("deliveries").where({ period_id: q.periodId, kind: "nudge", recipient: q.key }).first();
  if (!r) throw new Error("the nudge's ledger row vanished right after it was written");
  return {
    mine: r.claim === q.claim,
    row: {
      key: r.recipient,
      state: r.state === "delivered" ? "delivered" : r.state === "failed" ? "failed" : "sending",
      requestedBy: r.requested_by ?? "",
      at: Number(r.updated_at),
      error: r.error ?? null,
    },
  };
}

/** Settles a claimed nudge: delivered (where the last post went), or failed with the reason. */
export async function finishNudge(
  db: Db,
  q: { periodId: string; key: string; claim: string; now: number } & (
    | { channel: string; ts: string }
    | { error: string }
  ),
): Promise<void> {
  await db("deliveries")
    .where({ period_id: q.periodId, kind: "nudge", recipient: q.key, claim: q.claim })
    .update(
      "error" in q
        ? { state: "failed", error: q.error, claim: null, updated_at: q.now }
        : { state: "delivered", channel: q.channel, ts: q.ts, claim: null, updated_at: q.now },
    );
}

/** The period's nudges of these items that went out (or are going), in one read per chunk. */
export async function nudgesSent(db: Db, periodId: string, keys: string[]): Promise<Map<string, NudgeRecord>> {
  const out = new Map<string, NudgeRecord>();
  for (const chunk of chunks(keys, 5000)) {
    const rows = await db("deliveries")
      .where({ period_id: periodId, kind: "nudge" })
      .whereIn("state", ["delivered", "sending"])
      .whereIn("recipient", chunk)
      .select("recipient", "state", "requested_by", "updated_at", "error");
    for (const r of rows)
      out.set(r.recipient, {
        key: r.recipient,
        state: r.state === "delivered" ? "delivered" : "sending",
        requestedBy: r.requested_by ?? "",
        at: Number(r.updated_at),
        error: r.error ?? null,
      });
  }
  return out;
}

/** Which of these mentors turned nudges off. */
export async function nudgesOff(db: Db, emails: string[]): Promise<Set<string>> {
  const out = new Set<string>();
  for (const chunk of chunks(
    emails.map((e) => e.toLowerCase()),
    5000,
  ))
    for (const e of await db("nudge_optouts").whereIn("email", chunk).pluck("email")) out.add(e);
  return out;
}

export async function setNudgesOff(db: Db, email: string, off: boolean, now: number): Promise<void> {
  if (off)
    await db("nudge_optouts").insert({ email: email.toLowerCase(), updated_at: now }).onConflict("email").merge();
  else await db("nudge_optouts").where("email", email.toLowerCase()).delete();
}
