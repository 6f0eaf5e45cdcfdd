import { createHash } from "node:crypto";
import { constants, createReadStream, createWriteStream } from "node:fs";
import { lstat, open } from "node:fs/promises";
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
import { makeCopyFolder, removeCopyFolder } from "../import/temp-copies.js";
import type { Logger } from "../logger.js";
import { buildDropFolderFailure } from "../render/data-in.js";
import type { Directory } from "../slack/directory.js";
import { afterRateLimits } from "../slack/retry.js";

export type DropFolderResult =
  | { outcome: "off" | "missing" | "unchanged" }
  /** A file changed less than IMPORT_SETTLE_SECONDS ago: it may still be being written. */
  | { outcome: "settling"; retryInMs: number }
  | { outcome: "imported"; files: string[] }
  /** `told`: admins DMed by this check (0 when this change was told before, or by another instance). */
  | { outcome: "failed"; problems: number; told: number };

export interface DropFolderDeps {
  db: Db;
  config: Pick<Config, "IMPORT_DIR" | "IMPORT_SETTLE_SECONDS" | "REPORT_TIMEZONE" | "ADMIN_EMAILS">;
  /** Made on first use: only a failure needs Slack. */
  slack: () => WebClient;
  directory: () => Pick<Directory, "resolve">;
  log: Logger;
  now?: () => number;
}

/** A file the drop folder will not read at all (a symbolic link, a folder): the admins are told which. */
class FolderRefusal extends Error {
  constructor(
    readonly file: string,
    readonly why: string,
  ) {
    super(`${file} ${why}`);
  }
}

interface Present {
  file: string;
  /** Size, modification and change times, inode: any write, `cp -p` and `rsync -t` included, changes it. */
  key: string;
  /**
   * The change time: any write or change of size or modification time moves it, and unlike the
   * modification time it cannot be set back or ahead (`touch -d`), so it says how long the file was left alone.
   */
  changedAt: number;
}

/** The six files directly in `folder`, as lstat sees them; a symbolic link or a non-file is refused unread. */
async function survey(folder: string): Promise<Present[]> {
  const present: Present[] = [];
  for (const { file } of FILES) {
    const s = await lstat(join(folder, file)).catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return null;
      throw err;
    });
    if (!s) continue;
    if (s.isSymbolicLink())
      throw new FolderRefusal(file, "is a symbolic link: the drop folder reads only regular files directly inside it");
    if (!s.isFile()) throw new FolderRefusal(file, "is not a regular file");
    present.push({
      file,
      key: `${file}:${s.size}:${s.mtimeMs}:${s.ctimeMs}:${s.dev}:${s.ino}`,
      changedAt: s.ctimeMs,
    });
  }
  return present;
}

/**
 * Copies the files into `to` and hashes the copies: what is imported is exactly what was hashed, even
 * if the exporter rewrites a file meanwhile. O_NOFOLLOW: a file swapped for a link after the survey is
 * still not followed. O_NONBLOCK: one swapped for a named pipe is opened at once and refused, where a
 * plain open would wait for a writer forever and hold the drop folder's checks with it.
 */
async function copyAndHash(folder: string, present: Present[], to: string): Promise<string> {
  const all = createHash("sha256");
  for (const { file } of present) {
    const fd = await open(join(folder, file), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(
      (err: NodeJS.ErrnoException) => {
        if (err.code === "ELOOP")
          throw new FolderRefusal(
            file,
            "is a symbolic link: the drop folder reads only regular files directly inside it",
          );
        throw err;
      },
    );
    try {
      if (!(await fd.stat()).isFile()) throw new FolderRefusal(file, "is not a regular file");
      await pipeline(fd.createReadStream({ autoClose: false }), createWriteStream(join(to, file), { mode: 0o600 }));
    } finally {
      await fd.close();
    }
    const one = createHash("sha256");
    await pipeline(createReadStream(join(to, file)), one);
    all.update(`${file}\0${one.digest("hex")}\n`);
  }
  return all.digest("hex");
}

/**
 * IMPORT_DIR (spec §13, §15): imported when its files changed, by content hash stored in the database,
 * so several instances and restarts import a change once. A file is taken only once it has stayed
 * the same for IMPORT_SETTLE_SECONDS (an export written line by line is never imported half-way), and
 * from a private copy. A failed import changes nothing (the import is all or nothing) and its problems
 * go to the program admins once per change.
 */
export function createDropFolder(deps: DropFolderDeps) {
  const { db, config, log } = deps;
  const dir = config.IMPORT_DIR;
  const now = deps.now ?? Date.now;
  const settleMs = config.IMPORT_SETTLE_SECONDS * 1000;
  let running: Promise<DropFolderResult> | null = null;
  // The files' keys and content hash as last copied: an unchanged folder is not read again each tick.
  let seen: { key: string; hash: string } | null = null;
  let missingLogged = false;

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

  /** What the admins are told of a refused file, claimed once per state of the folder like any failure. */
  async function refuse(refusal: FolderRefusal): Promise<DropFolderResult> {
    log.warn({ file: refusal.file }, "drop folder file refused; the data imported before stays");
    const problems = [{ file: refusal.file, line: 0, column: "-", problem: refusal.why }];
    const key = createHash("sha256").update(`refused\0${refusal.message}`).digest("hex");
    const told = (await claimDropFolderFailure(db, key)) ? await tellAdmins(problems) : 0;
    return { outcome: "failed", problems: 1, told };
  }

  /** Whether `hash` is what was imported or told last; back at the imported files, a later failure is news again. */
  async function known(hash: string): Promise<boolean> {
    const state = await readDropFolderState(db);
    if (hash === state.imported) {
      if (state.told) await recordDropFolderImported(db, hash);
      return true;
    }
    return hash === state.told;
  }

  async function run(folder: string): Promise<DropFolderResult> {
    let present: Present[];
    try {
      present = await survey(folder);
    } catch (err) {
      if (err instanceof FolderRefusal) return refuse(err);
      if (!missingLogged) log.warn({ dir: folder, err: safeErrorMessage(err) }, "IMPORT_DIR cannot be read");
      missingLogged = true;
      return { outcome: "missing" };
    }
    if (!present.length) {
      if (!missingLogged) log.warn({ dir: folder }, "IMPORT_DIR holds none of the six CSV files");
      missingLogged = true;
      return { outcome: "missing" };
    }
    missingLogged = false;
    const key = present.map((p) => p.key).join("\n");
    if (seen?.key === key && (await known(seen.hash))) return { outcome: "unchanged" };
    if (seen?.key !== key) {
      // Whole milliseconds, like the clock: a file changed within this millisecond has been left alone for 0 ms.
      const quietFor = now() - Math.floor(Math.max(...present.map((p) => p.changedAt)));
      if (quietFor < settleMs) return { outcome: "settling", retryInMs: settleMs - quietFor };
    }

    const copy = await makeCopyFolder();
    try {
      let hash: string;
      try {
        hash = await copyAndHash(folder, present, copy);
        // Written to while being copied: the copy may be half of it.
        const after = (await survey(folder)).map((p) => p.key).join("\n");
        if (after !== key) return { outcome: "settling", retryInMs: settleMs };
      } catch (err) {
        if (err instanceof FolderRefusal) return refuse(err);
        throw err;
      }
      seen = { key, hash };
      if (await known(hash)) return { outcome: "unchanged" };
      return await importCopy(copy, hash);
    } finally {
      await removeCopyFolder(copy);
    }
  }

  async function importCopy(copy: string, hash: string): Promise<DropFolderResult> {
    let problems: ImportProblem[];
    try {
      const result = await importDirectory(db, copy, { zone: config.REPORT_TIMEZONE, source: "folder" });
      if (result.ok) {
        await recordDropFolderImported(db, hash);
        log.info({ files: result.files.map((f) => f.file) }, "drop folder imported");
        return { outcome: "imported", files: result.files.map((f) => f.file) };
      }
      problems = result.problems;
    } catch (err) {
      // A refusal of the whole import is the admins' to fix; anything else (the database away) is tried next time.
      if (!(err instanceof ImportError || err instanceof ZoneMismatchError)) throw err;
      problems = [
        {
          file: "-",
          line: 0,
          column: "-",
          problem: err.message.replaceAll(`${copy}/`, "").replaceAll(copy, "IMPORT_DIR"),
        },
      ];
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

/**
 * IMPORT_SCHEDULE: the drop folder's own cron, between deliveries; a check at start too, and one more
 * when a changed file will have settled, so a change is not held back a whole schedule step.
 */
export function startDropFolderSchedule(
  drop: DropFolder,
  opts: { schedule: string; zone: string; log: Logger },
): { stop(): Promise<void> } {
  let settle: NodeJS.Timeout | null = null;
  let stopped = false;
  const check = async (): Promise<void> => {
    try {
      const r = await drop.check();
      if (r.outcome === "settling" && !stopped && !settle) {
        settle = setTimeout(() => {
          settle = null;
          void check();
        }, r.retryInMs + 100);
        settle.unref();
      }
    } catch (err) {
      opts.log.error({ err: safeErrorMessage(err) }, "drop folder check failed");
    }
  };
  void check();
  const task =
    opts.schedule === "off"
      ? null
      : cron.schedule(opts.schedule, check, { timezone: opts.zone, name: "drop-folder", noOverlap: true });
  return {
    async stop() {
      stopped = true;
      if (settle) clearTimeout(settle);
      await task?.stop();
      await task?.destroy();
    },
  };
}
