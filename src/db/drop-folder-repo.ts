import type { Db } from "./knex.js";

/** The content hash of the drop folder's files as last imported. */
const IMPORTED = "import_dir.imported";
/** The hash of files that failed and whose problems the admins were told, so they are told once per change. */
const TOLD = "import_dir.failed";

export async function readDropFolderState(db: Db): Promise<{ imported: string | null; told: string | null }> {
  const rows: Array<{ key: string; value: string }> = await db("settings").whereIn("key", [IMPORTED, TOLD]);
  const get = (k: string) => rows.find((r) => r.key === k)?.value || null;
  return { imported: get(IMPORTED), told: get(TOLD) };
}

/** These files are the data now; a later failure, even of files seen failing before, is news again. */
export async function recordDropFolderImported(db: Db, hash: string): Promise<void> {
  await db("settings")
    .insert([
      { key: IMPORTED, value: hash },
      { key: TOLD, value: "" },
    ])
    .onConflict("key")
    .merge();
}

/**
 * Takes the telling of this failure: true for exactly one caller across instances. The conditional
 * UPDATE is what makes it single on both engines (PostgreSQL re-checks the WHERE after the row lock).
 */
export async function claimDropFolderFailure(db: Db, hash: string): Promise<boolean> {
  await db("settings").insert({ key: TOLD, value: "" }).onConflict("key").ignore();
  return (await db("settings").where("key", TOLD).whereNot("value", hash).update({ value: hash })) === 1;
}
