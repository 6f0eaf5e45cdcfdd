import { DateTime } from "luxon";
import { type Config, loadConfig } from "../config.js";
import { createDb, type Db, ensureReachable, migrate } from "../db/knex.js";
import { AppError } from "../errors.js";
import { createLogger, type Logger } from "../logger.js";

export class UsageError extends AppError {
  readonly code = "USAGE";
  override readonly exitCode = 2;
}

export interface CliIo {
  out: (s: string) => void;
  err: (s: string) => void;
  isTTY: boolean;
}

export const processIo: CliIo = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  isTTY: !!process.stdout.isTTY,
};

export interface CliContext {
  config: Config;
  db: Db;
  log: Logger;
  io: CliIo;
}

/** Config, a migrated database and a logger; every command starts here (spec §6). */
export async function withContext<T>(
  io: CliIo,
  env: NodeJS.ProcessEnv,
  fn: (ctx: CliContext) => Promise<T>,
): Promise<T> {
  const config = loadConfig(env);
  const log = createLogger(config.LOG_LEVEL);
  const db = createDb(config.DATABASE_URL, log);
  try {
    await ensureReachable(db, config.DATABASE_URL);
    await migrate(db);
    return await fn({ config, db, log, io });
  } finally {
    await db.destroy();
  }
}

/** `--as-of`: an ISO date (midnight in the report zone) or date-time; default now. */
export function parseAsOf(value: string | undefined, zone: string): number {
  if (value === undefined) return Date.now();
  const dt = DateTime.fromISO(value, { zone });
  if (!dt.isValid) throw new UsageError(`--as-of ${JSON.stringify(value)}: not an ISO 8601 date or date-time`);
  return dt.toMillis();
}
