import { createReadStream, existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { parse } from "csv-parse";
import { type ImportContext, readImportContext, writeImport } from "../db/import-repo.js";
import type { Db } from "../db/knex.js";
import { assertZone } from "../db/zone-guard.js";
import { type DbRow, FILES, Fields, type FileSpec, type ImportProblem } from "./csv-files.js";

export interface FileResult {
  file: string;
  rows: number;
}

export interface ImportResult {
  ok: boolean;
  dryRun: boolean;
  files: FileResult[];
  problems: ImportProblem[];
}

export interface ImportProgress {
  /** A file being read, or "writing" for the transaction (then bytes and totalBytes count rows). */
  file: string;
  bytes: number;
  totalBytes: number;
  rows: number;
}

export interface ImportOptions {
  zone: string;
  dryRun?: boolean;
  onProgress?: (p: ImportProgress) => void;
}

export class ImportError extends Error {
  readonly code = "IMPORT_FAILED";
}

interface ParsedFile {
  spec: FileSpec;
  rows: Array<{ line: number; row: DbRow }>;
}

async function parseFile(
  dir: string,
  spec: FileSpec,
  zone: string,
  problems: ImportProblem[],
  onProgress?: (p: ImportProgress) => void,
): Promise<ParsedFile> {
  const path = join(dir, spec.file);
  const totalBytes = statSync(path).size;
  const out: ParsedFile = { spec, rows: [] };
  const parser = createReadStream(path).pipe(
    parse({ bom: true, info: true, relax_column_count: true, skip_empty_lines: true }),
  );
  let header: string[] | null = null;
  let index: Map<string, number> = new Map();
  const seen = new Map<string, number>();
  try {
    for await (const { record, info } of parser as AsyncIterable<{
      record: string[];
      info: { lines: number; bytes: number };
    }>) {
      if (!header) {
        header = record.map((h) => h.trim().toLowerCase());
        index = new Map(header.map((h, i) => [h, i]));
        const missing = spec.columns.filter((c) => !index.has(c));
        for (const c of missing)
          problems.push({ file: spec.file, line: info.lines, column: c, problem: "column is missing from the header" });
        if (missing.length) return out;
        continue;
      }
      const values: Record<string, string> = {};
      for (const c of [...spec.columns, ...(spec.optionalColumns ?? [])]) values[c] = record[index.get(c) ?? -1] ?? "";
      const fields = new Fields(spec.file, info.lines, values, zone, problems);
      if (record.length > header.length)
        fields.problem(header[header.length - 1] ?? "", `row has ${record.length} fields, the header ${header.length}`);
      const row = spec.parseRow(fields);
      const key = spec.key.map((k) => row[k]).join("\u0000");
      const first = seen.get(key);
      if (first !== undefined) fields.problem(spec.key.join("+"), `duplicate key, first seen on line ${first}`);
      else seen.set(key, info.lines);
      out.rows.push({ line: info.lines, row });
      if (out.rows.length % 5000 === 0)
        onProgress?.({ file: spec.file, bytes: info.bytes, totalBytes, rows: out.rows.length });
    }
  } catch (err) {
    const e = err as { message: string; lines?: number };
    problems.push({ file: spec.file, line: e.lines ?? 0, column: "-", problem: `not valid CSV: ${e.message}` });
  }
  onProgress?.({ file: spec.file, bytes: totalBytes, totalBytes, rows: out.rows.length });
  return out;
}

/** Checks that need every file and the database: references, and a manager chain that loops. */
function crossCheck(files: ParsedFile[], ctx: ImportContext, problems: ImportProblem[]): void {
  const byTable = new Map(files.map((f) => [f.spec.table, f]));
  const rowsOf = (t: string) => byTable.get(t)?.rows ?? [];
  const programs = new Set([...ctx.programs, ...rowsOf("programs").map((r) => r.row.program_id as string)]);
  const managerOf = new Map(ctx.managerOf);
  for (const { row } of rowsOf("people"))
    managerOf.set(row.email as string, (row.manager_email as string | null) ?? null);
  const enrolled = new Set(ctx.enrollments);
  for (const { row } of rowsOf("enrollments")) enrolled.add(`${row.program_id}\u0000${row.email}\u0000${row.role}`);
  const matches = new Set([...ctx.matches, ...rowsOf("matches").map((r) => r.row.match_id as string)]);

  const problem = (file: string, line: number, column: string, p: string) =>
    problems.push({ file, line, column, problem: p });
  const checkProgram = (file: string, line: number, id: unknown) => {
    if (id && !programs.has(id as string)) problem(file, line, "program_id", `unknown program ${JSON.stringify(id)}`);
    return !!id && programs.has(id as string);
  };

  for (const { line, row } of rowsOf("people")) {
    const m = row.manager_email as string | null;
    if (m && !managerOf.has(m))
      problem("people.csv", line, "manager_email", "is not a person in people.csv or the database");
  }
  for (const { line, row } of rowsOf("people")) {
    const seen = new Set<string>();
    for (let p: string | null = row.email as string; p; p = managerOf.get(p) ?? null) {
      if (seen.has(p)) {
        problem("people.csv", line, "manager_email", `the manager chain loops (${seen.size} people)`);
        break;
      }
      seen.add(p);
    }
  }
  for (const { line, row } of rowsOf("enrollments")) {
    checkProgram("enrollments.csv", line, row.program_id);
    if (row.email && !managerOf.has(row.email as string))
      problem("enrollments.csv", line, "email", "is not a person in people.csv or the database");
  }
  for (const t of ["match_requests", "matches"]) {
    const file = `${t}.csv`;
    for (const { line, row } of rowsOf(t)) {
      if (!checkProgram(file, line, row.program_id)) continue;
      for (const role of ["mentor", "mentee"]) {
        const email = row[`${role}_email`];
        if (email && !enrolled.has(`${row.program_id}\u0000${email}\u0000${role}`)) {
          problem(
            file,
            line,
            `${role}_email`,
            `is not enrolled as a ${role} in program ${JSON.stringify(row.program_id)}`,
          );
        }
      }
    }
  }
  for (const { line, row } of rowsOf("meetings")) {
    if (row.match_id && !matches.has(row.match_id as string))
      problem("meetings.csv", line, "match_id", `unknown match ${JSON.stringify(row.match_id)}`);
  }
}

/**
 * Reads the CSV files present in `dir`, checks every row, then writes all of them in one
 * transaction (upsert by key) or nothing at all.
 */
export async function importDirectory(db: Db, dir: string, opts: ImportOptions): Promise<ImportResult> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ImportError(`${dir}: not a directory`);
  const present = FILES.filter((s) => existsSync(join(dir, s.file)));
  if (present.length === 0) {
    throw new ImportError(`${dir}: none of the expected files is there (${FILES.map((f) => f.file).join(", ")})`);
  }
  await assertZone(db, opts.zone);
  const problems: ImportProblem[] = [];
  const parsed: ParsedFile[] = [];
  for (const spec of present) parsed.push(await parseFile(dir, spec, opts.zone, problems, opts.onProgress));
  crossCheck(parsed, await readImportContext(db), problems);
  const fileIndex = (p: ImportProblem) => FILES.findIndex((f) => f.file === p.file);
  const columnIndex = (p: ImportProblem) => FILES[fileIndex(p)]?.columns.indexOf(p.column) ?? -1;
  problems.sort((a, b) => fileIndex(a) - fileIndex(b) || a.line - b.line || columnIndex(a) - columnIndex(b));

  const result: ImportResult = {
    ok: problems.length === 0,
    dryRun: !!opts.dryRun,
    files: parsed.map((p) => ({ file: p.spec.file, rows: p.rows.length })),
    problems,
  };
  if (result.ok && !opts.dryRun) {
    const total = parsed.reduce((n, p) => n + p.rows.length, 0);
    await writeImport(
      db,
      parsed.map((p) => ({ table: p.spec.table, key: p.spec.key, rows: p.rows.map((r) => r.row) })),
      opts.zone,
      (written) => opts.onProgress?.({ file: "writing", bytes: written, totalBytes: total, rows: written }),
    );
  }
  return result;
}
