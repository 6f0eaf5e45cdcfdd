import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import type { WebClient } from "@slack/web-api";
import cron from "node-cron";
import type { Config } from "../config.js";
import { claimDropFolderFailure, readDropFolderState, recordDropFolderImported } from "../db/drop-folder-repo.js";
import type { Db } from "../db/knex.js";
import { listPrograms } from "../db/report-repo.js";
import { ZoneMismatchError } from "../db/zone-guard.js";
import { safeErrorMessage } from "../errors.js";
import { FILES, type ImportProblem } from "../import/csv-files.js";
import { ImportError, importDirectory } from "../import/import-service.js";
import type { Logger } from "../logger.js";
import { buildDropFolderFailure } from "../render/data-in.js";
import type { Directory } from "../slack/directory.js";
import { afterRateLimits } from "../slack/retry.js";

export type DropFolderResult =
  | { outcome: "off" | "missing" | "unchanged" }
  | { outcome: "imported"; files: string[] }
  /** `told`: admins DMed by this check (0 when this change was told before, or by another instance). */
  | { outcome: "failed"; problems: number; told: number };

export interface DropFolderDeps {
  db: Db;
  config: Pick<Config, "IMPORT_DIR" | "REPORT_TIMEZONE" | "ADMIN_EMAILS">;
  /** Made on first use: only a failure needs Slack. */
  slack: () => WebClient;
  directory: () => Pick<Directory, "resolve">;
  log: Logger;
}

/**
 * IMPORT_DIR (spec §13): imported when its files changed, by content hash stored in the database, so
 * several instances and restarts import a change once. A failed import changes nothing (the import
 * is all or nothing) and its problems go to the program admins once per change.
 */
export function createDropFolder(deps: DropFolderDeps) {
  const { db, config, log } = deps;
  const dir = config.IMPORT_DIR;
  let running: Promise<DropFolderResult> | null = null;
  // Sizes and mtimes of the files last hashed: an unchanged folder is not read again each tick.
  let seen: { stats: string; hash: string } | null = null;
  let missingLogged = false;

  /** The content hash of the six files present, or null when none is there. */
  async function fingerprint(folder: string): Promise<string | null> {
    const present: Array<{ file: string; size: number; mtime: number }> = [];
    for (const { file } of FILES) {
      const s = await stat(join(folder, file)).catch(() => null);
      if (s?.isFile()) present.push({ file, size: s.size, mtime: s.mtimeMs });
    }
    if (!present.length) return null;
    const stats = JSON.stringify(present);
    if (seen?.stats === stats) return seen.hash;
    const all = createHash("sha256");
    for (const f of present) {
      const one = createHash("sha256");
      await pipeline(createReadStream(join(folder, f.file)), one);
      all.update(`${f.file}\0${one.digest("hex")}\n`);
    }
    seen = { stats, hash: all.digest("hex") };
    return seen.hash;
  }

  async function tellAdmins(problems: ImportProblem[]): Promise<number> {
    const programs = await listPrograms(db);
    const admins = [...new Set([...config.ADMIN_EMAILS, ...programs.flatMap((p) => p.adminEmails)])];
    if (!admins.length) {
      log.warn("the drop folder's import failed and there is no program admin to tell");
      return 0;
    }
    const message = buildDropFolderFailure(problems);
    const users = await deps.directory().resolve(admins);
    let told = 0;
    for (const email of admins) {
      const r = users.get(email);
      if (!r || !("userId" in r)) continue;
      try {
        await afterRateLimits(() =>
          deps.slack().chat.postMessage({ channel: r.userId, text: message.text, blocks: message.blocks }),
        );
        told++;
      } catch (err) {
        log.warn({ err: safeErrorMessage(err) }, "an admin could not be told of the drop folder's problems");
      }
    }
    return told;
  }

  async function run(folder: string): Promise<DropFolderResult> {
    const hash = await fingerprint(folder).catch((err) => {
      if (!missingLogged) log.warn({ dir: folder, err: safeErrorMessage(err) }, "IMPORT_DIR cannot be read");
      missingLogged = true;
      return null;
    });
    if (!hash) {
      if (!missingLogged) log.warn({ dir: folder }, "IMPORT_DIR holds none of the six CSV files");
      missingLogged = true;
      return { outcome: "missing" };
    }
    missingLogged = false;
    const state = await readDropFolderState(db);
    if (hash === state.imported) {
      // Back to the files imported last: a later failure, even one told before, is news again.
      if (state.told) await recordDropFolderImported(db, hash);
      return { outcome: "unchanged" };
    }
    if (hash === state.told) return { outcome: "unchanged" };

    let problems: ImportProblem[];
    try {
      const result = await importDirectory(db, folder, { zone: config.REPORT_TIMEZONE, source: "folder" });
      if (result.ok) {
        await recordDropFolderImported(db, hash);
        log.info({ files: result.files.map((f) => f.file) }, "drop folder imported");
        return { outcome: "imported", files: result.files.map((f) => f.file) };
      }
      problems = result.problems;
    } catch (err) {
      // A refusal of the whole import is the admins' to fix; anything else (the database away) is tried next time.
      if (!(err instanceof ImportError || err instanceof ZoneMismatchError)) throw err;
      problems = [{ file: "-", line: 0, column: "-", problem: err.message }];
    }
    log.warn({ problems: problems.length }, "drop folder import failed; the data imported before stays");
    const told = (await claimDropFolderFailure(db, hash)) ? await tellAdmins(problems) : 0;
    return { outcome: "failed", problems: problems.length, told };
  }

  return {
    /** Imports the folder if its files changed since the last import; one check at a time per process. */
    check(): Promise<DropFolderResult> {
      if (!dir) return Promise.resolve({ outcome: "off" });
      running ??= run(dir).finally(() => {
        running = null;
      });
      return running;
    },
  };
}

export type DropFolder = ReturnType<typeof createDropFolder>;

/** IMPORT_SCHEDULE: the drop folder's own cron, between deliveries; a check at start too. */
export function startDropFolderSchedule(
  drop: DropFolder,
  opts: { schedule: string; zone: string; log: Logger },
): { stop(): Promise<void> } {
  const check = () =>
    drop.check().catch((err) => opts.log.error({ err: safeErrorMessage(err) }, "drop folder check failed"));
  void check();
  if (opts.schedule === "off") return { stop: async () => {} };
  const task = cron.schedule(opts.schedule, check, { timezone: opts.zone, name: "drop-folder", noOverlap: true });
  return {
    async stop() {
      await task.stop();
      await task.destroy();
    },
  };
}
