import { existsSync, lstatSync, type Stats, statSync } from "node:fs";
import { join } from "node:path";
import {
  applyStage,
  compareStage,
  danglingStaged,
  danglingStored,
  duplicateKeys,
  finalManagers,
  type ImportPlan,
  type ImportRecord,
  type ImportSession,
  indexStage,
  inImportTransaction,
  programsWithoutRecipients,
  recordImport,
  type StageTable,
  scopeViolations,
  stagedPeopleLines,
  stageScope,
} from "../db/import-repo.js";
import type { Db } from "../db/knex.js";
import { assertZone } from "../db/zone-guard.js";
import { AppError, safeErrorMessage } from "../errors.js";
import {
  type DbRow,
  FILES,
  Fields,
  type FileSpec,
  type ImportProblem,
  MAX_TEXT,
  REFERENCES,
  textProblem,
  tooLong,
} from "./csv-files.js";
import { readCsv } from "./csv-reader.js";

export interface FileResult {
  file: string;
  rows: number;
  /** Compared with the stored table; all 0 when the import was refused. */
  added: number;
  changed: number;
  removed: number;
  unchanged: number;
}

export interface ImportResult {
  ok: boolean;
  dryRun: boolean;
  merge: boolean;
  files: FileResult[];
  problems: ImportProblem[];
  /** Worth knowing, not a reason to refuse: a program whose summary goes nowhere. */
  warnings: ImportProblem[];
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
  /** Only add and update: rows missing from a file stay. */
  merge?: boolean;
  /**
   * A program admin's import (spec §15): only rows of these programs are read, changed or removed;
   * people.csv and any row of another program are refused. Left out: everything (a global admin, the CLI).
   */
  programs?: readonly string[];
  /** Who asked, for the history: `cli` (default), `folder`, or `slack:<user id>`. */
  source?: string;
  onProgress?: (p: ImportProgress) => void;
  /** The clock the history records the import by (the demo's runs on its report day). */
  now?: () => number;
}

export class ImportError extends AppError {
  readonly code = "IMPORT_FAILED";
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
): Promise<{ rows: number; readable: boolean }> {
  const path = join(dir, spec.file);
  const totalBytes = statSync(path).size;
  const problem = (line: number, column: string, p: string) =>
    problems.push({ file: spec.file, line, column, problem: p });
  let header: string[] | null = null;
  // What a problem calls each column: its expected name, else its position. A header cell is never
  // repeated, since a file without a header row has a row of data (a mentee's email) in its place.
  let label: string[] = [];
  const index = new Map<string, number>();
  const expected = new Set([...spec.columns, ...(spec.optionalColumns ?? [])]);
  let rows = 0;
  let lastReport = 0;
  let bytes = 0;
  try {
    for await (const batch of readCsv(path)) {
      bytes = batch.bytes;
      for (const { line, fields, error } of batch.records) {
        if (!header) {
          header = fields.map((h) => h.trim().toLowerCase());
          label = header.map((h, i) => (expected.has(h) ? h : `column ${i + 1}`));
          if (!header.some((h) => expected.has(h))) {
            problem(
              line,
              "-",
              `no header row: the first line holds none of the expected column names (${spec.columns.join(", ")})`,
            );
            return { rows, readable: false };
          }
          for (let i = 0; i < header.length; i++) {
            const bad = textProblem(header[i]!);
            if (bad) problem(line, label[i]!, `header ${bad}`);
            else if (index.has(header[i]!)) problem(line, label[i]!, "appears twice in the header");
            else index.set(header[i]!, i);
          }
          if (error) problem(line, "-", `header is not valid CSV: ${error}`);
          for (const c of spec.columns) if (!index.has(c)) problem(line, c, "column is missing from the header");
          if (problems.some((p) => p.file === spec.file)) return { rows, readable: false };
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
            problem(line, label[i]!, bad);
            refused ??= new Set();
            refused.add(header[i]!);
          }
        }
        const row = spec.parseRow(new Fields(spec.file, line, fields, index, zone, problems, refused));
        for (const col of tooLong(spec, row)) {
          problem(line, col, `is longer than ${MAX_TEXT} characters`);
          row[col] = null;
        }
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
  return { rows, readable: header !== null };
}

const fileOf = (table: string) => FILES.find((f) => f.table === table)?.file ?? `${table}.csv`;

/** Checks that need every file and the database: references, duplicate keys, a manager chain that loops. */
async function crossCheck(
  s: ImportSession,
  plan: ImportPlan,
  duplicated: readonly StageTable[],
  problems: ImportProblem[],
): Promise<void> {
  const add = (file: string, line: number, column: string, problem: string) =>
    problems.push({ file, line, column, problem });
  for (const t of duplicated) {
    for (const d of await duplicateKeys(s, t))
      add(fileOf(t.table), d.line, t.key.join("+"), `duplicate key, first seen on line ${d.first}`);
  }
  const present = new Set(plan.tables.map((t) => t.table));
  for (const ref of REFERENCES) {
    const where = present.has(ref.to)
      ? `${fileOf(ref.to)}${plan.merge ? " or the database" : ""}`
      : `the database (${fileOf(ref.to)} is not in this import)`;
    for (const line of await danglingStaged(s, ref, plan))
      add(fileOf(ref.from), line, ref.column, `${ref.problem} ${where}`);
    for (const g of await danglingStored(s, ref, plan))
      add(fileOf(ref.to), 0, ref.toCols.join("+"), ref.stored(g, g.n));
  }
  if (present.has("people")) {
    const managerOf = new Map<string, string | null>();
    for await (const page of finalManagers(s, plan)) for (const p of page) managerOf.set(p.email, p.manager_email);
    // Each person whose chain loops, with how many people the walk met. A chain found to end is cut
    // short (its people become roots), so each is walked about once however many share it.
    const looping = new Map<string, number>();
    for (const email of managerOf.keys()) {
      const path = new Set<string>();
      let p: string | null = email;
      while (p !== null && !path.has(p)) {
        path.add(p);
        p = managerOf.get(p) ?? null;
      }
      if (p === null) for (const q of path) managerOf.set(q, null);
      else looping.set(email, path.size);
    }
    if (looping.size > 0) {
      for await (const page of stagedPeopleLines(s)) {
        for (const { email, line } of page) {
          const n = looping.get(email);
          // A loop of one is a person managing themselves: that row's "own email" problem says it already.
          if (n !== undefined && n > 1)
            add("people.csv", line, "manager_email", `the manager chain loops (${n} people)`);
        }
      }
    }
  }
}

function stageTable(spec: FileSpec): StageTable {
  return {
    table: spec.table,
    key: spec.key,
    columns: Object.entries(spec.stored).map(([name, type]) => ({ name, type })),
  };
}

export function formatProblem(p: ImportProblem): string {
  return p.line > 0 ? `${p.file}:${p.line}: ${p.column}: ${p.problem}` : `${p.file}: ${p.column}: ${p.problem}`;
}

/**
 * Reads the CSV files present in `dir`, checks every row, then makes each file the full current
 * set of its table (or, with `merge`, adds and updates only), in one transaction, or writes nothing.
 */
export async function importDirectory(db: Db, dir: string, opts: ImportOptions): Promise<ImportResult> {
  const now = opts.now ?? Date.now;
  const startedAt = now();
  const record = async (outcome: ImportRecord["outcome"], r: Partial<ImportResult>, problems: string[]) => {
    if (opts.dryRun) return;
    try {
      await recordImport(db, {
        startedAt,
        finishedAt: now(),
        source: opts.source ?? "cli",
        outcome,
        files: r.files ?? [],
        problemCount: r.problems?.length ?? problems.length,
        problems: problems.slice(0, HISTORY_PROBLEMS),
      });
    } catch {
      // The history is a convenience: a database that cannot take it has already said why.
    }
  };
  let result: ImportResult;
  try {
    result = await importOnce(db, dir, opts);
  } catch (err) {
    await record("failed", {}, [err instanceof ImportError ? err.message : safeErrorMessage(err)]);
    throw err;
  }
  await record(result.ok ? "imported" : "refused", result, result.problems.map(formatProblem));
  return result;
}

/** How many of a refused import's problems the history keeps. */
const HISTORY_PROBLEMS = 20;

async function importOnce(db: Db, dir: string, opts: ImportOptions): Promise<ImportResult> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ImportError(`${dir}: not a directory`);
  for (const s of FILES) {
    const why = fileProblem(join(dir, s.file));
    if (why) throw new ImportError(`${join(dir, s.file)} ${why}`);
  }
  const specs = FILES.filter((s) => existsSync(join(dir, s.file)));
  if (specs.length === 0) {
    throw new ImportError(`${dir}: none of the expected files is there (${FILES.map((f) => f.file).join(", ")})`);
  }
  await assertZone(db, opts.zone);
  const plan: ImportPlan = { tables: specs.map(stageTable), merge: !!opts.merge, scoped: !!opts.programs };
  if (opts.programs && specs.some((sp) => sp.table === "people")) {
    const problem =
      "only a global admin (ADMIN_EMAILS) can send it; a program admin sends the files of their own programs";
    return {
      ok: false,
      dryRun: !!opts.dryRun,
      merge: plan.merge,
      files: specs.map((sp) => ({ file: sp.file, rows: 0, added: 0, changed: 0, removed: 0, unchanged: 0 })),
      problems: [{ file: "people.csv", line: 0, column: "-", problem }],
      warnings: [],
    };
  }
  const problems: ImportProblem[] = [];
  const warnings: ImportProblem[] = [];
  const files: FileResult[] = [];
  const progress = (file: string, done: number, total: number) =>
    opts.onProgress?.({ file, bytes: done, totalBytes: total, rows: done });

  await inImportTransaction(db, async (s) => {
    const duplicated: StageTable[] = [];
    let unreadable = false;
    if (opts.programs) await stageScope(s, opts.programs);
    for (const [i, spec] of specs.entries()) {
      const t = plan.tables[i]!;
      const names = t.columns.map((c) => c.name);
      const writer = await s.stage(t);
      const { rows, readable } = await parseFile(
        dir,
        spec,
        opts.zone,
        problems,
        (line, row) =>
          writer.write(
            line,
            names.map((n) => row[n] ?? null),
          ),
        opts.onProgress,
      );
      await writer.end();
      unreadable ||= !readable;
      if (!(await indexStage(s, t))) duplicated.push(t);
      files.push({ file: spec.file, rows, added: 0, changed: 0, removed: 0, unchanged: 0 });
    }
    // Without a file's header its rows are unknown: every reference to it would be reported as dangling.
    if (unreadable) return false;
    progress("checking", 0, 1);
    if (opts.programs) {
      for (const [i, t] of plan.tables.entries())
        for (const v of await scopeViolations(s, t)) problems.push({ file: specs[i]!.file, ...v });
    }
    await crossCheck(s, plan, duplicated, problems);
    if (problems.length > 0) return false;
    for (const [i, t] of plan.tables.entries()) {
      const c = await compareStage(s, t, plan);
      const f = files[i]!;
      Object.assign(f, {
        added: f.rows - c.matched,
        changed: c.changed,
        unchanged: c.matched - c.changed,
        removed: plan.merge ? 0 : c.stored - c.matched,
      });
    }
    if (specs.some((sp) => sp.table === "programs")) {
      for (const p of await programsWithoutRecipients(s)) {
        if (Number(p.no_admin))
          warnings.push({
            file: "programs.csv",
            line: p.line,
            column: "admin_emails",
            problem: "is empty: no one gets the program's admin notices",
          });
        if (Number(p.no_channel))
          warnings.push({
            file: "programs.csv",
            line: p.line,
            column: "admin_channel",
            problem: "is empty: the program's summary is posted nowhere",
          });
      }
    }
    if (opts.dryRun) return false;
    progress("writing", 0, 1);
    await applyStage(s, plan, files, opts.zone);
    progress("writing", 1, 1);
    return true;
  });

  const fileIndex = (p: ImportProblem) => FILES.findIndex((f) => f.file === p.file);
  const columnIndex = (p: ImportProblem) => FILES[fileIndex(p)]?.columns.indexOf(p.column) ?? -1;
  // A file's own lines first, then the stored rows its removals would leave dangling (line 0).
  const lineOrder = (p: ImportProblem) => (p.line === 0 ? Number.MAX_SAFE_INTEGER : p.line);
  problems.sort(
    (a, b) => fileIndex(a) - fileIndex(b) || lineOrder(a) - lineOrder(b) || columnIndex(a) - columnIndex(b),
  );
  return { ok: problems.length === 0, dryRun: !!opts.dryRun, merge: plan.merge, files, problems, warnings };
}
