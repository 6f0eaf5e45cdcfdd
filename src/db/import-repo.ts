import { once } from "node:events";
import type pg from "pg";
import { type CopyStreamQuery, from as copyFrom } from "pg-copy-streams";
import { type Db, type Engine, isPg } from "./knex.js";

/** What the import needs of a better-sqlite3 connection. */
interface SqliteConnection {
  exec(sql: string): unknown;
  prepare(sql: string): { run(...params: unknown[]): unknown; all(...params: unknown[]): unknown[] };
  readonly inTransaction: boolean;
}

export type ColumnType = "text" | "integer" | "bigint" | "boolean";

export interface StageTable {
  table: string;
  columns: ReadonlyArray<{ name: string; type: ColumnType }>;
  key: readonly string[];
}

/** Appends rows (the file's line, then the columns' values) to a staging table, without a round trip per row. */
export interface StageWriter {
  write(line: number, values: ReadonlyArray<string | number | boolean | null>): void | Promise<void>;
  end(): Promise<void>;
}

/**
 * One connection inside one transaction, for an import: staging tables, then set-based SQL.
 * Statements take `?` placeholders on both engines.
 */
export interface ImportSession {
  readonly engine: Engine;
  stage(t: StageTable): Promise<StageWriter>;
  all<T>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  run(sql: string, params?: readonly unknown[]): Promise<void>;
}

export class ImportWriteError extends Error {
  readonly code = "IMPORT_WRITE_FAILED";
}

const BATCH = 50;

export const stageName = (table: string) => `stage_${table}`;

function stageDdl(t: StageTable, pgTemp: boolean): string {
  const cols = t.columns.map((c) => `${c.name} ${c.type}`).join(", ");
  return `create temp table ${stageName(t.table)} (line integer not null, ${cols})${pgTemp ? " on commit drop" : ""}`;
}

function sqliteSession(conn: SqliteConnection, staged: string[]): ImportSession {
  return {
    engine: "sqlite",
    async stage(t) {
      conn.exec(`drop table if exists temp.${stageName(t.table)}`);
      conn.exec(stageDdl(t, false));
      staged.push(stageName(t.table));
      const width = t.columns.length + 1;
      const row = `(?${", ?".repeat(t.columns.length)})`;
      const one = conn.prepare(`insert into ${stageName(t.table)} values ${row}`);
      // Many rows per statement: the per-call cost, not SQLite, is what a bulk load pays for.
      const many = conn.prepare(`insert into ${stageName(t.table)} values ${Array(BATCH).fill(row).join(", ")}`);
      let params: unknown[] = [];
      return {
        write(line, values) {
          params.push(line);
          // better-sqlite3 binds no booleans; SQLite keeps them as 1 and 0 anyway.
          for (const v of values) params.push(typeof v === "boolean" ? Number(v) : v);
          if (params.length === BATCH * width) {
            many.run(...params);
            params = [];
          }
        },
        async end() {
          for (let i = 0; i < params.length; i += width) one.run(...params.slice(i, i + width));
          params = [];
        },
      };
    },
    async all<T>(sql: string, params: readonly unknown[] = []) {
      return conn.prepare(sql).all(...params) as T[];
    },
    async run(sql, params = []) {
      if (params.length === 0) conn.exec(sql);
      else conn.prepare(sql).run(...params);
    },
  };
}

/** COPY's text format: a backslash, tab, CR or LF in a value is escaped; \N is NULL. */
function copyValue(v: string | number | boolean | null): string {
  if (v === null) return "\\N";
  if (typeof v === "boolean") return v ? "t" : "f";
  if (typeof v === "number") return String(v);
  return /[\\\t\n\r]/.test(v)
    ? v.replace(/[\\\t\n\r]/g, (c) => (c === "\\" ? "\\\\" : c === "\t" ? "\\t" : c === "\n" ? "\\n" : "\\r"))
    : v;
}

function pgSession(client: pg.Client): ImportSession & { abort(): Promise<void> } {
  // A COPY still open when the import stops holds the connection: nothing else runs on it until it ends.
  let open: CopyStreamQuery | null = null;
  const numbered = (sql: string) => {
    let n = 0;
    return sql.replace(/\?/g, () => `$${++n}`);
  };
  return {
    engine: "pg",
    async stage(t) {
      await client.query(stageDdl(t, true));
      const copy = client.query(copyFrom(`copy ${stageName(t.table)} from stdin`));
      open = copy;
      let failed: Error | null = null;
      copy.on("error", (err: Error) => {
        failed ??= err;
      });
      let buf = "";
      const flush = async () => {
        if (failed) throw failed;
        if (!copy.write(buf)) await once(copy, "drain");
        buf = "";
      };
      return {
        async write(line, values) {
          buf += `${line}\t${values.map(copyValue).join("\t")}\n`;
          if (buf.length >= 256 * 1024) await flush();
        },
        async end() {
          if (buf) await flush();
          copy.end();
          await once(copy, "finish");
          open = null;
          if (failed) throw failed;
        },
      };
    },
    async all<T>(sql: string, params: readonly unknown[] = []) {
      return (await client.query(numbered(sql), [...params])).rows as T[];
    },
    async run(sql, params = []) {
      await client.query(numbered(sql), [...params]);
    },
    async abort() {
      const copy = open;
      open = null;
      if (!copy || copy.destroyed) return;
      // Destroying the stream sends CopyFail: the server ends the COPY and the transaction can roll back.
      const closed = once(copy, "close").catch(() => undefined);
      copy.destroy(new Error("import stopped"));
      await closed;
    },
  };
}

/**
 * Runs `fn` on one connection in one transaction, committed only when it returns true. When a
 * write fails (a full disk, an I/O error, a read-only database) the error is the database's own:
 * SQLite may already have rolled back, and a second rollback's complaint must not hide the cause.
 */
export async function inImportTransaction(db: Db, fn: (s: ImportSession) => Promise<boolean>): Promise<void> {
  const conn: unknown = await db.client.acquireConnection();
  try {
    if (isPg(db)) {
      const client = conn as pg.Client;
      await client.query("begin");
      // One import at a time (instances importing the same drop folder): the second compares with what the first wrote.
      await client.query("select pg_advisory_xact_lock(hashtext('mentorship-report import'))");
      let commit = false;
      const session = pgSession(client);
      try {
        commit = await fn(session);
      } catch (err) {
        await session.abort();
        await client.query("rollback").catch(() => undefined);
        throw writeError(err);
      }
      await client.query(commit ? "commit" : "rollback").catch((err: unknown) => {
        throw writeError(err);
      });
      return;
    }
    const sqlite = conn as SqliteConnection;
    const staged: string[] = [];
    try {
      // A page cache that holds the tables being merged; staging tables spill to temp files, so memory stays flat.
      sqlite.exec("pragma cache_size = -131072");
      sqlite.exec("begin immediate");
      const commit = await fn(sqliteSession(sqlite, staged));
      sqlite.exec(commit ? "commit" : "rollback");
    } catch (err) {
      if (sqlite.inTransaction) sqlite.exec("rollback");
      throw writeError(err);
    } finally {
      sqlite.exec("pragma cache_size = -2000");
      for (const t of staged) {
        try {
          sqlite.exec(`drop table if exists temp.${t}`);
        } catch {
          // A temp table left behind is dropped at the next import, or with the connection.
        }
      }
    }
  } finally {
    await db.client.releaseConnection(conn);
  }
}

/** The driver's reason, without the statement (which may hold row values). */
function writeError(err: unknown): unknown {
  const e = err as Error & { code?: string; severity?: string };
  const fromDatabase = err instanceof Error && (e.name === "SqliteError" || typeof e.severity === "string");
  if (!fromDatabase) return err;
  const reason = e.message.includes(" - ") ? e.message.slice(e.message.lastIndexOf(" - ") + 3) : e.message;
  return new ImportWriteError(`the database refused the import (${e.code ?? e.name}: ${reason}); nothing was written`);
}

/** A reference from rows of one table to the key of another; a `'quoted'` entry is a constant. */
export interface Reference {
  from: string;
  cols: readonly string[];
  to: string;
  toCols: readonly string[];
  /** Columns that describe, without naming a person, stored rows left pointing at nothing. */
  groupBy: readonly string[];
}

/** Which tables this import replaces (snapshot) or adds to (merge). */
export interface ImportPlan {
  tables: readonly StageTable[];
  merge: boolean;
  /**
   * A program admin's import (spec §15): it reads and changes only the rows of the programs staged
   * by `stageScope`; every other row stays as stored, whatever the files leave out.
   */
  scoped?: boolean;
}

const SCOPE = stageName("scope");
const SCOPE_MATCHES = stageName("scope_matches");

/**
 * Whether stored row `alias` of `table` belongs to the import's programs. A meeting belongs to its
 * match's program, as stored when the import began: a match the import removes keeps its meetings in scope.
 */
function inScope(table: string, alias: string): string {
  if (table === "meetings") return `${alias}.match_id in (select match_id from ${SCOPE_MATCHES})`;
  return `${alias}.program_id in (select program_id from ${SCOPE})`;
}

/** Rows of `table` the import may change or remove: all of them, or only its programs'. */
const mine = (plan: ImportPlan, table: string, alias: string) => (plan.scoped ? inScope(table, alias) : "1 = 1");

/** Stages the programs a scoped import may touch, and their matches as stored now. */
export async function stageScope(s: ImportSession, programs: readonly string[]): Promise<void> {
  const w = await s.stage({ table: "scope", key: ["program_id"], columns: [{ name: "program_id", type: "text" }] });
  for (const p of programs) await w.write(0, [p]);
  await w.end();
  await (
    await s.stage({ table: "scope_matches", key: ["match_id"], columns: [{ name: "match_id", type: "text" }] })
  ).end();
  await s.run(
    `insert into ${SCOPE_MATCHES} (line, match_id) select 0, match_id from matches where ${inScope("matches", "matches")}`,
  );
}

export interface ScopeViolation {
  line: number;
  column: string;
  problem: string;
}

const OTHERS = "a program you do not administer";

/**
 * Staged rows a program admin may not send: a row of another program, a key that is another
 * program's row, a change to a program's admins or channel. Each names the column, never the value.
 */
export async function scopeViolations(s: ImportSession, t: StageTable): Promise<ScopeViolation[]> {
  const st = stageName(t.table);
  const out: ScopeViolation[] = [];
  const lines = async (where: string, column: string, problem: string) => {
    const rows = await s.all<{ line: number }>(`select st.line from ${st} st where ${where} order by st.line`);
    for (const r of rows) out.push({ line: r.line, column, problem });
  };
  if (t.table === "meetings") {
    await lines(
      `exists (select 1 from matches m where m.match_id = st.match_id and not ${inScope("matches", "m")})`,
      "match_id",
      `is a match of ${OTHERS}`,
    );
  } else {
    await lines(`st.program_id is not null and not ${inScope(t.table, "st")}`, "program_id", `is ${OTHERS}`);
  }
  const what: Record<string, [string, string]> = {
    match_requests: ["request_id", "match request"],
    matches: ["match_id", "match"],
    meetings: ["meeting_id", "meeting"],
  };
  const own = what[t.table];
  if (own) {
    await lines(
      `exists (select 1 from ${t.table} d where d.${own[0]} = st.${own[0]} and not ${inScope(t.table, "d")})`,
      own[0],
      `is the id of a ${own[1]} of ${OTHERS}`,
    );
  }
  if (t.table === "programs") {
    for (const col of ["admin_emails", "admin_channel"]) {
      await lines(
        `${inScope("programs", "st")} and exists (select 1 from programs d where d.program_id = st.program_id and d.${col} is distinct from st.${col})`,
        col,
        "can be changed only by a global admin (ADMIN_EMAILS)",
      );
    }
  }
  return out;
}

const colExpr = (c: string, alias: string) => (c.startsWith("'") ? c : `${alias}.${c}`);

function matchOn(ref: Reference, target: string): string {
  const conds = ref.toCols.map((c, i) => `d.${c} = ${colExpr(ref.cols[i]!, "r")}`).join(" and ");
  return `exists (select 1 from ${target} d where ${conds})`;
}

function notNull(ref: Reference): string {
  return (
    ref.cols
      .filter((c) => !c.startsWith("'"))
      .map((c) => `r.${c} is not null`)
      .join(" and ") || "1 = 1"
  );
}

const present = (plan: ImportPlan, table: string) => plan.tables.some((t) => t.table === table);

/**
 * Indexes the staging table on its key once its rows are in: a unique index when the keys are
 * unique, which is how an import without duplicates learns it has none. Returns whether they were.
 */
export async function indexStage(s: ImportSession, t: StageTable): Promise<boolean> {
  const ddl = (unique: boolean) =>
    `create ${unique ? "unique " : ""}index ${s.engine === "sqlite" ? "temp." : ""}ix_${stageName(t.table)} on ${stageName(t.table)} (${t.key.join(", ")})`;
  let unique = true;
  // A failed statement ends a PostgreSQL transaction unless it ran under a savepoint.
  if (s.engine === "pg") await s.run("savepoint stage_index");
  try {
    await s.run(ddl(true));
    if (s.engine === "pg") await s.run("release savepoint stage_index");
  } catch {
    if (s.engine === "pg") await s.run("rollback to savepoint stage_index");
    unique = false;
    await s.run(ddl(false));
  }
  if (s.engine === "pg") await s.run(`analyze ${stageName(t.table)}`);
  return unique;
}

/** Lines that repeat a key seen on an earlier line. */
export async function duplicateKeys(s: ImportSession, t: StageTable): Promise<Array<{ line: number; first: number }>> {
  const keys = t.key.join(", ");
  return s.all(
    `select line, first from (select line, min(line) over (partition by ${keys}) as first from ${stageName(t.table)}
     where ${t.key.map((k) => `${k} is not null`).join(" and ")}) d where line > first order by line`,
  );
}

/** Lines of the staged `from` rows whose reference finds nothing in what the import leaves. */
export async function danglingStaged(s: ImportSession, ref: Reference, plan: ImportPlan): Promise<number[]> {
  if (!present(plan, ref.from)) return [];
  const target = present(plan, ref.to)
    ? plan.merge
      ? `(${matchOn(ref, stageName(ref.to))} or ${matchOn(ref, ref.to)})`
      : matchOn(ref, stageName(ref.to))
    : matchOn(ref, ref.to);
  const rows = await s.all<{ line: number }>(
    `select r.line from ${stageName(ref.from)} r where ${notNull(ref)} and not ${target} order by r.line`,
  );
  return rows.map((r) => r.line);
}

/**
 * Stored rows of a table the import leaves alone that point at rows a snapshot removes, grouped by
 * `groupBy`, with how many.
 */
export async function danglingStored(
  s: ImportSession,
  ref: Reference,
  plan: ImportPlan,
): Promise<Array<Record<string, string> & { n: number }>> {
  if (plan.merge || present(plan, ref.from) || !present(plan, ref.to)) return [];
  const group = ref.groupBy.map((c) => `r.${c}`).join(", ");
  // A scoped snapshot leaves other programs' rows where they are: pointing at one of them is fine.
  const kept = plan.scoped
    ? ` and not exists (select 1 from ${ref.to} d where ${ref.toCols.map((c, i) => `d.${c} = ${colExpr(ref.cols[i]!, "r")}`).join(" and ")} and not ${inScope(ref.to, "d")})`
    : "";
  return s.all(
    `select ${group}, count(*) as n from ${ref.from} r where ${notNull(ref)} and not ${matchOn(ref, stageName(ref.to))}${kept}
     group by ${group} order by ${group}`,
  );
}

const PAGE = 50_000;

/** Rows of `source` by email, a page at a time, so a million people never sit in memory as rows. */
async function* byEmail<T extends { email: string }>(
  s: ImportSession,
  cols: string,
  source: string,
): AsyncGenerator<T[]> {
  let after = "";
  for (;;) {
    const rows = await s.all<T>(`select ${cols} from ${source} where email > ? order by email limit ${PAGE}`, [after]);
    if (rows.length === 0) return;
    yield rows;
    after = rows[rows.length - 1]!.email;
  }
}

/** Everyone's manager as the import leaves it, a page at a time. */
export function finalManagers(
  s: ImportSession,
  plan: ImportPlan,
): AsyncGenerator<Array<{ email: string; manager_email: string | null }>> {
  const staged = `select email, manager_email from ${stageName("people")}`;
  const source = plan.merge
    ? `(${staged} union all select email, manager_email from people p
       where not exists (select 1 from ${stageName("people")} s where s.email = p.email)) f`
    : stageName("people");
  return byEmail(s, "email, manager_email", source);
}

/** The line of each staged person, a page at a time. */
export function stagedPeopleLines(s: ImportSession): AsyncGenerator<Array<{ email: string; line: number }>> {
  return byEmail(s, "email, line", stageName("people"));
}

/** Staged programs whose channel summary or admin notices would go nowhere. */
export async function programsWithoutRecipients(
  s: ImportSession,
): Promise<Array<{ line: number; no_admin: number | boolean; no_channel: number | boolean }>> {
  return s.all(
    `select line, admin_emails = '' as no_admin, admin_channel is null as no_channel from ${stageName("programs")}
     where admin_emails = '' or admin_channel is null order by line`,
  );
}

const differs = (t: StageTable, a: string, b: string) =>
  t.columns
    .filter((c) => !t.key.includes(c.name))
    .map((c) => `${a}.${c.name} is distinct from ${b}.${c.name}`)
    .join(" or ");

export interface TableChanges {
  matched: number;
  changed: number;
  stored: number;
}

/** How the staged rows compare with the stored ones: same key, same key but different, and all stored (of the import's programs). */
export async function compareStage(s: ImportSession, t: StageTable, plan: ImportPlan): Promise<TableChanges> {
  const on = t.key.map((k) => `d.${k} = st.${k}`).join(" and ");
  const [row] = await s.all<{ matched: number; changed: number | null }>(
    `select count(*) as matched, sum(case when ${differs(t, "d", "st")} then 1 else 0 end) as changed
     from ${stageName(t.table)} st join ${t.table} d on ${on}`,
  );
  const [total] = await s.all<{ n: number }>(
    `select count(*) as n from ${t.table} where ${mine(plan, t.table, t.table)}`,
  );
  return { matched: Number(row?.matched ?? 0), changed: Number(row?.changed ?? 0), stored: Number(total?.n ?? 0) };
}

/**
 * Makes each staged table the stored one: rows it no longer has are removed (unless merging), changed
 * ones updated, new ones added; set-based, a statement for each, and none where `changes` says
 * there is nothing to do. Rows that did not change are not written at all.
 */
export async function applyStage(
  s: ImportSession,
  plan: ImportPlan,
  changes: ReadonlyArray<{ added: number; changed: number; removed: number }>,
  zone: string,
): Promise<void> {
  const sameKey = (t: StageTable, a: string, b: string) => t.key.map((k) => `${a}.${k} = ${b}.${k}`).join(" and ");
  // Removals first, the referring tables before the ones they refer to.
  for (const [i, t] of [...plan.tables.entries()].reverse()) {
    if (plan.merge || changes[i]!.removed === 0) continue;
    await s.run(
      `delete from ${t.table} where not exists (select 1 from ${stageName(t.table)} st where ${sameKey(t, "st", t.table)})
       and ${mine(plan, t.table, t.table)}`,
    );
  }
  for (const [i, t] of plan.tables.entries()) {
    const c = changes[i]!;
    const stage = stageName(t.table);
    const cols = t.columns.map((col) => col.name);
    if (c.changed > 0) {
      const sets = cols.filter((col) => !t.key.includes(col)).map((col) => `${col} = st.${col}`);
      await s.run(
        `update ${t.table} set ${sets.join(", ")} from ${stage} st
         where ${sameKey(t, "st", t.table)} and (${differs(t, t.table, "st")})`,
      );
    }
    if (c.added > 0) {
      await s.run(
        `insert into ${t.table} (${cols.join(", ")}) select ${cols.map((col) => `st.${col}`).join(", ")} from ${stage} st
         where not exists (select 1 from ${t.table} d where ${sameKey(t, "d", "st")})`,
      );
    }
  }
  await s.run(
    "insert into settings (key, value) values ('timezone', ?) on conflict (key) do update set value = excluded.value",
    [zone],
  );
}

export interface ImportRecord {
  startedAt: number;
  finishedAt: number;
  source: string;
  outcome: "imported" | "refused" | "failed";
  files: ReadonlyArray<{
    file: string;
    rows: number;
    added: number;
    changed: number;
    removed: number;
    unchanged: number;
  }>;
  problemCount: number;
  /** Already formatted, and free of cell values. */
  problems: readonly string[];
}

export async function recordImport(db: Db, r: ImportRecord): Promise<void> {
  await db("imports").insert({
    started_at: r.startedAt,
    finished_at: r.finishedAt,
    source: r.source,
    outcome: r.outcome,
    files: JSON.stringify(r.files),
    problem_count: r.problemCount,
    problems: JSON.stringify(r.problems),
  });
}

/** The latest imports, newest first. */
export async function lastImports(db: Db, limit: number): Promise<ImportRecord[]> {
  const rows = await db("imports").select("*").orderBy("id", "desc").limit(limit);
  return rows.map((r) => ({
    startedAt: Number(r.started_at),
    finishedAt: Number(r.finished_at),
    source: r.source as string,
    outcome: r.outcome as ImportRecord["outcome"],
    files: JSON.parse(r.files as string),
    problemCount: Number(r.problem_count),
    problems: JSON.parse(r.problems as string),
  }));
}

/** When the data was last imported successfully (what "data as of" means), or null if never. */
export async function lastSuccessfulImportAt(db: Db): Promise<number | null> {
  const row = await db("imports").where("outcome", "imported").max({ at: "finished_at" }).first();
  return row?.at == null ? null : Number(row.at);
}
