import "./tables.js";
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import knexFactory, { type Knex } from "knex";
import pg from "pg";
import { AppError, safeErrorMessage } from "../errors.js";
import type { Logger } from "../logger.js";

export type Db = Knex;
export type Engine = "sqlite" | "pg";

// int8 (counts, epoch milliseconds) as numbers: every value we keep fits in 2^53.
pg.types.setTypeParser(20, (v) => Number(v));

export function engineOf(databaseUrl: string): Engine {
  return /^postgres(ql)?:\/\//.test(databaseUrl) ? "pg" : "sqlite";
}

export function sqlitePath(databaseUrl: string): string {
  const path = databaseUrl.replace(/^sqlite:(\/\/)?/, "");
  return path === ":memory:" ? path : resolve(path);
}

/** DATABASE_URL names a database we cannot open or reach: fixing the variable (or the server) is the cure. */
export class DatabaseUnavailableError extends AppError {
  readonly code = "DATABASE_UNAVAILABLE";
  override readonly exitCode = 2;
}

/** DATABASE_URL as it may be shown: without its password. */
export function shownDatabaseUrl(databaseUrl: string): string {
  if (engineOf(databaseUrl) !== "pg") return databaseUrl;
  try {
    const url = new URL(databaseUrl);
    url.password = "";
    return url.href;
  } catch {
    return databaseUrl.replace(/:[^:@/]*@/, "@");
  }
}

/**
 * Knex prints its warnings (a failed connection, with the driver's stack) on the console; they go
 * to our logger at debug, first line only, since the failure itself reaches the caller as an error.
 */
function knexLog(log: Logger | undefined): Knex.Config["log"] {
  const line = (level: "debug" | "warn") => (message: unknown) =>
    log?.[level]({ knex: String(message).split("\n")[0]?.slice(0, 300) }, "database driver message");
  return { debug: line("debug"), warn: line("debug"), deprecate: line("debug"), error: line("warn") };
}

/**
 * mkdir -p, one folder at a time: Node's own `recursive` spins forever under a folder that refuses
 * new entries with ENOENT (/proc).
 */
function makeFolders(dir: string): void {
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory())
      throw Object.assign(new Error(`${dir} is not a folder`), { code: "ENOTDIR", path: dir });
    return;
  }
  const parent = dirname(dir);
  if (parent !== dir) makeFolders(parent);
  mkdirSync(dir, { mode: 0o700 });
}

/**
 * A file an earlier release (or a copy) left readable by others is made the owner's alone at start,
 * with its -wal and -shm companions, and says so (§15).
 */
function tightenSqliteFiles(filename: string, log: Logger | undefined): void {
  for (const file of [filename, `${filename}-wal`, `${filename}-shm`]) {
    if (!existsSync(file)) continue;
    const mode = statSync(file).mode & 0o777;
    if ((mode & 0o077) === 0) continue;
    chmodSync(file, 0o600);
    log?.warn(
      { file, was: `0${mode.toString(8)}`, now: "0600" },
      "the SQLite file was readable by others: now readable by its owner only",
    );
  }
}

export function createDb(databaseUrl: string, log?: Logger): Db {
  if (engineOf(databaseUrl) === "pg") {
    return knexFactory({ client: "pg", connection: databaseUrl, pool: { min: 0, max: 10 }, log: knexLog(log) });
  }
  const filename = sqlitePath(databaseUrl);
  if (filename !== ":memory:") {
    // Mentees' names and emails live here: new folders and the file are the owner's alone (spec §14).
    // SQLite gives the -wal and -shm files the database file's mode.
    try {
      makeFolders(dirname(filename));
      closeSync(openSync(filename, "a", 0o600));
      tightenSqliteFiles(filename, log);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const reason =
        e.code === "ENOTDIR"
          ? `${e.path} is a file, not a folder`
          : e.code === "EISDIR"
            ? `${e.path} is a folder, not a file`
            : e.message;
      throw new DatabaseUnavailableError(`Cannot create the SQLite database at DATABASE_URL=${databaseUrl}: ${reason}`);
    }
  }
  return knexFactory({
    client: "better-sqlite3",
    connection: { filename },
    useNullAsDefault: true,
    log: knexLog(log),
    // One connection: better-sqlite3 is synchronous, and a single writer is what SQLite wants.
    pool: {
      min: 1,
      max: 1,
      afterCreate(conn: { pragma(s: string): unknown }, done: (err: Error | null, conn: unknown) => void) {
        try {
          conn.pragma("journal_mode = WAL");
          conn.pragma("synchronous = NORMAL");
          conn.pragma("foreign_keys = ON");
          conn.pragma("busy_timeout = 10000");
          done(null, conn);
        } catch (err) {
          done(err as Error, conn);
        }
      },
    },
  });
}

/** One round trip before any work, so a wrong DATABASE_URL is a one-line message (exit 2), not a driver stack. */
export async function ensureReachable(db: Db, databaseUrl: string): Promise<void> {
  try {
    await db.raw("select 1");
  } catch (err) {
    throw new DatabaseUnavailableError(
      `Cannot open the database at DATABASE_URL=${shownDatabaseUrl(databaseUrl)}: ${safeErrorMessage(err)}`,
    );
  }
}

export function isPg(db: Db): boolean {
  return db.client.config.client === "pg";
}

export type DatabaseHealth = "ok" | "missing" | "timeout" | "error";

/**
 * Whether the database answers, within `timeoutMs` (a frozen server or a pool held by a stuck query
 * would otherwise keep a health probe waiting). A SQLite file deleted under a running process still
 * answers through its open handle, so its path is checked too.
 */
export async function pingDatabase(db: Db, timeoutMs: number): Promise<DatabaseHealth> {
  if (!isPg(db)) {
    const filename = (db.client.config.connection as { filename: string }).filename;
    if (filename !== ":memory:" && !existsSync(filename)) return "missing";
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<DatabaseHealth>((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  const query = db.raw("select 1").then(
    (): DatabaseHealth => "ok",
    (): DatabaseHealth => "error",
  );
  try {
    return await Promise.race([query, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The top-level migrations/ folder: compiled, it sits at dist/migrations beside this module's
 * dist/db; from the sources (the tests) it is migrations/ at the root, beside src/.
 */
async function loadMigrations(): Promise<Knex.MigrationSource<string>> {
  const here = import.meta.url;
  const index = here.endsWith(".ts")
    ? new URL("../../migrations/index.ts", here)
    : new URL("../migrations/index.js", here);
  const mod: { migrationSource: Knex.MigrationSource<string> } = await import(index.href);
  return mod.migrationSource;
}

/** Any fixed number: the PostgreSQL advisory lock instances take around their migration. */
const MIGRATION_LOCK_KEY = 7_303_372_001;

/**
 * Brings the schema up to date. On PostgreSQL instances started together queue on an advisory lock
 * held for the whole migration: Knex's own lock makes the second fail at once (or both race to create
 * its tables), where it should wait and then find nothing left to do.
 */
export async function migrate(db: Db): Promise<void> {
  const migrationSource = await loadMigrations();
  if (!isPg(db)) {
    await db.migrate.latest({ migrationSource });
    return;
  }
  const conn = (await db.client.acquireConnection()) as pg.Client;
  try {
    await conn.query("select pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
    try {
      await db.migrate.latest({ migrationSource });
    } finally {
      await conn.query("select pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await db.client.releaseConnection(conn);
  }
}

// Keeps every multi-row statement under PostgreSQL's 65,535 bound variables, and under SQLite's
// 500 terms of a compound SELECT (how Knex writes a multi-row insert there).
const MAX_VARIABLES = 30000;
const SQLITE_MAX_ROWS = 500;

/** Rows of `width` columns that one INSERT may carry on this engine. */
export function rowsPerInsert(db: Db, width: number): number {
  const byVariables = Math.max(1, Math.floor(MAX_VARIABLES / Math.max(1, width)));
  return isPg(db) ? byVariables : Math.min(SQLITE_MAX_ROWS, byVariables);
}

export function* chunks<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}
