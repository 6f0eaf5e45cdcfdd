import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { inject } from "vitest";
import { createDb, type Db, migrate } from "../../src/db/knex.js";

export type EngineName = "sqlite" | "pg";

/** The engines this run covers: SQLite always, PostgreSQL when the global setup found a server. */
export const ENGINES: EngineName[] = inject("pgUrl") ? ["sqlite", "pg"] : ["sqlite"];

export interface TestDb {
  db: Db;
  url: string;
  drop(): Promise<void>;
}

/** A new, empty, migrated database: a temp SQLite file, or a PostgreSQL database of its own. */
export async function freshDb(engine: EngineName, opts: { migrate?: boolean } = {}): Promise<TestDb> {
  let url: string;
  let cleanup: () => Promise<void>;
  if (engine === "pg") {
    const base = inject("pgUrl")!;
    const name = `mr_test_${process.pid}_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
    const admin = new pg.Client(base);
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    url = base.replace(/\/[^/?]*(\?|$)/, `/${name}$1`);
    cleanup = async () => {
      const a = new pg.Client(base);
      await a.connect();
      await a.query(`drop database if exists ${name} with (force)`);
      await a.end();
    };
  } else {
    const dir = mkdtempSync(join(tmpdir(), "mr-test-"));
    url = join(dir, "test.sqlite");
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  }
  const db = createDb(url);
  if (opts.migrate !== false) await migrate(db);
  return {
    db,
    url,
    async drop() {
      await db.destroy();
      await cleanup();
    },
  };
}
