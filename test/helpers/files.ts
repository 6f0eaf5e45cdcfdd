import { cpSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Db } from "../../src/db/knex.js";

export const SAMPLE = new URL("../../examples/sample/", import.meta.url).pathname;

/** A temp copy of the sample company, with some files replaced or added. */
export function csvDir(
  files: Record<string, string> = {},
  opts: { fromSample?: boolean } = { fromSample: true },
): string {
  const dir = mkdtempSync(join(tmpdir(), "mr-csv-"));
  if (opts.fromSample !== false) cpSync(SAMPLE, dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const TABLES: Record<string, string[]> = {
  programs: ["program_id"],
  people: ["email"],
  enrollments: ["program_id", "email", "role"],
  match_requests: ["request_id"],
  matches: ["match_id"],
  meetings: ["meeting_id"],
  settings: ["key"],
};

/** Every data table's rows in key order, for "nothing changed" assertions. */
export async function dump(db: Db): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const [t, keys] of Object.entries(TABLES)) {
    const rows = await db(t).select("*").orderBy(keys);
    // Engines differ in how they hand back booleans; compare the values.
    out[t] = rows.map((r) =>
      Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === "boolean" ? Number(v) : v])),
    );
  }
  return out;
}
