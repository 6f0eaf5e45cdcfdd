import { existsSync, lstatSync, type Stats, statSync } from "node:fs";
import { join } from "node:path";
import { type ImportContext, readImportContext, writeImport } from "../db/import-repo.js";
import type { Db } from "../db/knex.js";
import { assertZone } from "../db/zone-guard.js";
import { type DbRow, FILES, Fields, type FileSpec, type ImportProblem, textProblem } from "./csv-files.js";
import { readCsv } from "./csv-reader.js";

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

/** Why `dir/file` cannot be read as a CSV file, or null when it is not there at all. */
function fileProblem(path: string): string | null {
  let link: Stats;
  try {
    link = lstatSync(path);
  } catch {
    return null;
  }
  let target: Stats;
  try {
    target = statSync(path);
  } catch {
    return link.isSymbolicLink() ? "is a symbolic link to a file that does not exist" : "cannot be read";
  }
  if (target.isDirectory()) return "is a folder, not a CSV file";
  if (!target.isFile()) return "is not a regular file";
  return null;
}

/**
 * Streams one file's records, checks each row on its own (shape, bytes, types), and hands every
 * row that has the right shape to `onRow`, with its problems already recorded.
 */
async function parseFile(
  dir: string,
  spec: FileSpec,
  zone: string,
  problems: ImportProblem[],
  onRow: (line: number, row: DbRow) => void | Promise<void>,
  onProgress?: (p: ImportProgress) => void,
): Promise<number> {
  const path = join(dir, spec.file);
  const totalBytes = statSync(path).size;
  const problem = (line: number, column: string, p: string) =>
    problems.push({ file: spec.file, line, column, problem: p });
  let header: string[] | null = null;
  const index = new Map<string, number>();
  let rows = 0;
  let lastReport = 0;
  let bytes = 0;
  try {
    for await (const batch of readCsv(path)) {
      bytes = batch.bytes;
      for (const { line, fields, error } of batch.records) {
        if (!header) {
          header = fields.map((h) => h.trim().toLowerCase());
          for (let i = 0; i < header.length; i++) {
            const bad = textProblem(header[i]!);
            if (bad) problem(line, `column ${i + 1}`, `header ${bad}`);
            else if (index.has(header[i]!)) problem(line, header[i]!, "appears twice in the header");
            else index.set(header[i]!, i);
          }
          if (error) problem(line, "-", `header is not valid CSV: ${error}`);
          for (const c of spec.columns) if (!index.has(c)) problem(line, c, "column is missing from the header");
          if (problems.some((p) => p.file === spec.file)) return rows;
          continue;
        }
        if (error) {
          problem(line, "-", `not valid CSV: ${error}`);
          continue;
        }
        if (fields.length !== header.length) {
          problem(line, "-", `row has ${fields.length} fields, the header has ${header.length}`);
          continue;
        }
        let refused: Set<string> | undefined;
        for (let i = 0; i < fields.length; i++) {
          const bad = textProblem(fields[i]!);
          if (bad) {
            problem(line, header[i]!, bad);
            refused ??= new Set();
            refused.add(header[i]!);
          }
        }
        const row = spec.parseRow(new Fields(spec.file, line, fields, index, zone, problems, refused));
        rows++;
        await onRow(line, row);
      }
      if (rows - lastReport >= 5000) {
        lastReport = rows;
        onProgress?.({ file: spec.file, bytes, totalBytes, rows });
      }
    }
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    // A file that went away or became unreadable while being read; anything else is not the file's fault.
    if (e.syscall) throw new ImportError(`${path} cannot be read (${e.code})`);
    throw err;
  }
  if (!header) problem(1, "-", "the file is empty: it needs at least the header row");
  onProgress?.({ file: spec.file, bytes: totalBytes, totalBytes, rows });
  return rows;
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
    if (id && !programs.has(id as string))
      problem(file, line, "program_id", "is not a program in programs.csv or the database");
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
          problem(file, line, `${role}_email`, `is not enrolled as a ${role} in the row's program`);
        }
      }
    }
  }
  for (const { line, row } of rowsOf("meetings")) {
    if (row.match_id && !matches.has(row.match_id as string))
      problem("meetings.csv", line, "match_id", "is not a match in matches.csv or the database");
  }
}

/**
 * Reads the CSV files present in `dir`, checks every row, then writes all of them in one
 * transaction (upsert by key) or nothing at all.
 */
export async function importDirectory(db: Db, dir: string, opts: ImportOptions): Promise<ImportResult> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ImportError(`${dir}: not a directory`);
  for (const s of FILES) {
    const why = fileProblem(join(dir, s.file));
    if (why) throw new ImportError(`${join(dir, s.file)} ${why}`);
  }
  const present = FILES.filter((s) => existsSync(join(dir, s.file)));
  if (present.length === 0) {
    throw new ImportError(`${dir}: none of the expected files is there (${FILES.map((f) => f.file).join(", ")})`);
  }
  await assertZone(db, opts.zone);
  const problems: ImportProblem[] = [];
  const parsed: ParsedFile[] = [];
  for (const spec of present) {
    const file: ParsedFile = { spec, rows: [] };
    const seen = new Map<string, number>();
    await parseFile(
      dir,
      spec,
      opts.zone,
      problems,
      (line, row) => {
        if (spec.key.some((k) => row[k] === null)) return void file.rows.push({ line, row });
        const key = spec.key.map((k) => row[k]).join("\u0000");
        const first = seen.get(key);
        if (first !== undefined)
          problems.push({
            file: spec.file,
            line,
            column: spec.key.join("+"),
            problem: `duplicate key, first seen on line ${first}`,
          });
        else seen.set(key, line);
        file.rows.push({ line, row });
      },
      opts.onProgress,
    );
    parsed.push(file);
  }
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
