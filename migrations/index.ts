import type { Knex } from "knex";
import * as m001 from "./20260101000000_core.js";
import * as m002 from "./20260102000000_delivery.js";
import * as m003 from "./20260111000000_local_time.js";
import * as m004 from "./20260112000000_imports.js";
import * as m005 from "./20260120000000_report_controls.js";
import * as m006 from "./20260125000000_seen_requests.js";
import * as m007 from "./20260203000000_nudges.js";
import * as m020 from "./20260204000000_installations.js";

export interface Migration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

// Compiled to dist/migrations with the app (npm run build); the tests run these sources. The names are
// what knex_migrations records: a database made by an older version upgrades in place.
const migrations: Record<string, Migration> = {
  "20260101000000_core": m001,
  "20260102000000_delivery": m002,
  "20260111000000_local_time": m003,
  "20260112000000_imports": m004,
  "20260120000000_report_controls": m005,
  "20260125000000_seen_requests": m006,
  "20260203000000_nudges": m007,
  "20260204000000_installations": m020,
};

export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(migrations).sort(),
  getMigrationName: (name) => name,
  getMigration: async (name) => migrations[name]!,
};
