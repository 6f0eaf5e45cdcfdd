import { chunks, type Db, rowsPerInsert } from "./knex.js";

export interface ImportContext {
  programs: string[];
  managerOf: Map<string, string | null>;
  /** `program\0email\0role` of every enrollment already stored. */
  enrollments: string[];
  matches: string[];
}

/** What is already stored, for checking the references of a partial import. */
export async function readImportContext(db: Db): Promise<ImportContext> {
  const [programs, people, enrollments, matches] = await Promise.all([
    db("programs").pluck("program_id"),
    db("people").select("email", "manager_email"),
    db("enrollments").select("program_id", "email", "role"),
    db("matches").pluck("match_id"),
  ]);
  return {
    programs,
    managerOf: new Map(people.map((p) => [p.email as string, (p.manager_email as string | null) ?? null])),
    enrollments: enrollments.map((e) => `${e.program_id}\u0000${e.email}\u0000${e.role}`),
    matches,
  };
}

export interface TableRows {
  table: string;
  key: readonly string[];
  rows: Array<Record<string, unknown>>;
}

/** Upserts every table's rows by key in one transaction: all of them or none. */
export async function writeImport(
  db: Db,
  tables: TableRows[],
  zone: string,
  onProgress?: (written: number, total: number) => void,
): Promise<void> {
  const total = tables.reduce((n, t) => n + t.rows.length, 0);
  let written = 0;
  await db.transaction(async (trx) => {
    for (const t of tables) {
      if (t.rows.length === 0) continue;
      for (const chunk of chunks(t.rows, rowsPerInsert(trx, Object.keys(t.rows[0]!).length))) {
        await trx(t.table)
          .insert(chunk)
          .onConflict([...t.key])
          .merge();
        onProgress?.((written += chunk.length), total);
      }
    }
    await trx("settings").insert({ key: "timezone", value: zone }).onConflict("key").merge();
  });
}
