import { spawn } from "node:child_process";
import { once } from "node:events";
import { copyFileSync, createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { Db } from "../db/knex.js";
import { FILES } from "../import/csv-files.js";
import { importDirectory } from "../import/import-service.js";

// The lookup indexes the app's schema has (primary keys included), so that the bare load pays for
// the same index maintenance the import does.
const INDEXES: Record<string, string[]> = {
  programs: ["primary key (program_id)"],
  people: ["primary key (email)", "index (manager_email)"],
  enrollments: ["primary key (program_id, email, role)", "index (email, role)"],
  match_requests: ["primary key (request_id)", "index (mentor_email, program_id)"],
  matches: ["primary key (match_id)", "index (mentor_email, program_id)"],
  meetings: ["primary key (meeting_id)", "index (match_id)"],
};

const headerOf = (path: string) =>
  readFileSync(path, "utf8")
    .slice(0, 4096)
    .split(/\r?\n/)[0]!
    .replace(/^\uFEFF/, "")
    .split(",")
    .map((c) => c.trim());

/** Plain tables named like the files (every column text), with the app's keys and lookup indexes. */
function ddl(dir: string, schema: string, indexNames: boolean): string[] {
  const out: string[] = [];
  for (const f of FILES) {
    const cols = headerOf(join(dir, f.file));
    const specs = INDEXES[f.table]!;
    const pk = specs.find((s) => s.startsWith("primary key"))!;
    out.push(`create table ${schema}${f.table} (${cols.map((c) => `${c} text`).join(", ")}, ${pk});`);
    const lookups = specs.filter((s) => s.startsWith("index"));
    for (const [i, s] of lookups.entries())
      out.push(`create index ${indexNames ? `ix_${f.table}_${i} ` : ""}on ${schema}${f.table} ${s.slice(6)};`);
  }
  return out;
}

function run(cmd: string, args: string[], input: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["pipe", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (d) => {
      err += d;
    });
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 && !err ? resolve() : reject(new Error(`${cmd}: ${err || `exit ${code}`}`)),
    );
    child.stdin.end(input);
  });
}

/**
 * Seconds a bare load of the six files takes, for comparison with the import: the sqlite3 CLI's
 * `.import` into a new file, or psql's `\copy` into a schema of the given database, each into the
 * plain tables above and in one transaction.
 */
export async function bareLoad(engine: "sqlite" | "pg", dir: string, databaseUrl: string): Promise<number> {
  if (engine === "sqlite") {
    const tmp = mkdtempSync(join(tmpdir(), "mr-bare-"));
    try {
      const script = [
        "pragma journal_mode = wal;",
        "pragma synchronous = normal;",
        ...ddl(dir, "", true),
        ".mode csv",
        "begin;",
        ...FILES.map((f) => `.import --skip 1 ${join(dir, f.file)} ${f.table}`),
        "commit;",
      ].join("\n");
      const file = join(tmp, "bare.sqlite");
      const t = performance.now();
      await run("sqlite3", [file], script);
      return (performance.now() - t) / 1000;
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  const schema = `bare_${process.pid}`;
  const script = [
    "\\set ON_ERROR_STOP on",
    "set client_min_messages = warning;",
    `create schema ${schema};`,
    ...ddl(dir, `${schema}.`, false),
    "begin;",
    ...FILES.map((f) => `\\copy ${schema}.${f.table} from '${join(dir, f.file)}' with (format csv, header true)`),
    "commit;",
  ].join("\n");
  const t = performance.now();
  try {
    await run("psql", ["-q", "-X", databaseUrl], script);
    return (performance.now() - t) / 1000;
  } finally {
    await run("psql", ["-q", "-X", databaseUrl], `set client_min_messages = warning;\ndrop schema ${schema} cascade;`);
  }
}

/**
 * A copy of the company's files with 1% of all rows gone, taken evenly from meetings.csv (nothing
 * refers to a meeting, so the snapshot import removes them without refusing). Streamed line by line:
 * the snapshot step's peak memory is the import's, not the copy's (1.2 GB of strings at 1M people).
 */
export async function withoutOnePercent(dir: string): Promise<{ dir: string; removed: number }> {
  const out = mkdtempSync(join(tmpdir(), "mr-bench-snapshot-"));
  const linesOf = (file: string) =>
    createInterface({ input: createReadStream(join(dir, file)), crlfDelay: Number.POSITIVE_INFINITY });
  let total = 0;
  let meetings = 0;
  for (const f of FILES) {
    let rows = -1;
    for await (const line of linesOf(f.file)) if (line) rows++;
    total += rows;
    if (f.file === "meetings.csv") meetings = rows;
  }
  const removed = Math.round(total * 0.01);
  const every = meetings / removed;
  const drop = new Set(Array.from({ length: removed }, (_, i) => Math.floor(i * every)));
  for (const f of FILES) {
    if (f.file !== "meetings.csv") {
      copyFileSync(join(dir, f.file), join(out, f.file));
      continue;
    }
    const sink = createWriteStream(join(out, f.file));
    let row = -1;
    for await (const line of linesOf(f.file)) {
      if (!line) continue;
      if (row < 0 || !drop.has(row)) if (!sink.write(`${line}\n`)) await once(sink, "drain");
      row++;
    }
    sink.end();
    await once(sink, "finish");
  }
  return { dir: out, removed };
}

/** The bare load of the same files, timed in the same run, and the import's ratio to it. */
export async function compareImport(
  engine: "sqlite" | "pg",
  dir: string,
  databaseUrl: string,
  importSeconds: number,
  say: (s: string) => void,
): Promise<{ bareSeconds: number; ratio: number }> {
  say(
    engine === "sqlite"
      ? "Bare load of the same files (sqlite3 .import)…"
      : "Bare load of the same files (psql \\copy)…",
  );
  const bareSeconds = await bareLoad(engine, dir, databaseUrl);
  return { bareSeconds, ratio: importSeconds / bareSeconds };
}

/** Imports the company again without 1% of its rows: the snapshot removes them. */
export async function snapshotReimport(
  db: Db,
  dir: string,
  zone: string,
  say: (s: string) => void,
): Promise<{ seconds: number; rowsRemoved: number }> {
  const snap = await withoutOnePercent(dir);
  say(`Re-importing without ${snap.removed.toLocaleString()} rows (1%)…`);
  try {
    const t = performance.now();
    const r = await importDirectory(db, snap.dir, { zone });
    if (!r.ok) throw new Error(`bench snapshot import refused: ${r.problems.length} problems`);
    return { seconds: (performance.now() - t) / 1000, rowsRemoved: r.files.reduce((n, f) => n + f.removed, 0) };
  } finally {
    rmSync(snap.dir, { recursive: true, force: true });
  }
}

/** The bench's text lines for the import comparison. */
export function importLines(i: {
  bareSeconds: number;
  ratio: number;
  snapshot?: { seconds: number; rowsRemoved: number };
}): Array<[string, string, string]> {
  const lines: Array<[string, string, string]> = [
    ["  bare load of the same files", `${i.bareSeconds.toFixed(2)} s`, ""],
    ["  ratio import / bare load", i.ratio.toFixed(2), "goal <= 5"],
  ];
  if (i.snapshot)
    lines.push([
      "  snapshot re-import removing 1% of rows",
      `${i.snapshot.seconds.toFixed(2)} s`,
      `(${i.snapshot.rowsRemoved.toLocaleString()} rows removed)`,
    ]);
  return lines;
}
