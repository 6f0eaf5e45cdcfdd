import type { Db } from "./knex.js";

/**
 * Records a request signature; true the first time it is seen across every instance on this database.
 * The primary key makes the first insert win on both engines; signatures past their window are let go.
 */
export async function rememberSignature(db: Db, signature: string, forgetAfter: number, now: number): Promise<boolean> {
  await db("seen_requests").where("forget_after", "<", now).delete();
  const inserted = await db("seen_requests")
    .insert({ signature, forget_after: forgetAfter })
    .onConflict("signature")
    .ignore()
    .returning("signature");
  return inserted.length === 1;
}
