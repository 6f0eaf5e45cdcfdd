import { createWriteStream } from "node:fs";
import { join } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import type { WebClient } from "@slack/web-api";
import type { Config } from "../config.js";
import type { Db } from "../db/knex.js";
import { listPrograms } from "../db/report-repo.js";
import { ZoneMismatchError } from "../db/zone-guard.js";
import { safeErrorMessage } from "../errors.js";
import { FILES } from "../import/csv-files.js";
import { ImportError, importDirectory } from "../import/import-service.js";
import { makeCopyFolder, removeCopyFolder, sweepCopyFolders } from "../import/temp-copies.js";
import type { Logger } from "../logger.js";
import type { Message } from "../render/blocks.js";
import {
  buildProblemsFile,
  buildUploadAnswer,
  uploadFailed,
  uploadNotAdmin,
  uploadNothingToRead,
} from "../render/data-in.js";
import { fetchSlackFile } from "../slack/client.js";
import type { FileShare, UploadPort } from "../slack/ports.js";
import { afterRateLimits, readWithRetry } from "../slack/retry.js";

export interface UploadDeps {
  db: Db;
  slack: WebClient;
  log: Logger;
  config: Pick<Config, "SLACK_BOT_TOKEN" | "SLACK_API_URL" | "REPORT_TIMEZONE" | "ADMIN_EMAILS">;
  /** The roster email of a Slack user (the surface service's, which caches it). */
  emailOf: (userId: string) => Promise<string | null>;
  /** Larger files are refused before download, and while downloading whatever Slack said (spec §15: 50 MB). */
  maxFileBytes?: number;
  /** A download that has not finished by then is given up (spec §15: 60 s). */
  downloadTimeoutMs?: number;
}

class UploadProblem extends Error {}

const EXPECTED = FILES.map((f) => f.file);

const MB = 1024 * 1024;

/**
 * CSV files an admin sends the app in a DM (spec §13, §15): downloaded with the bot token into a
 * private folder, imported with the same rules as `import DIR`, and answered in the thread. A global
 * admin (ADMIN_EMAILS) may send any file; a program admin's files are a snapshot of their own
 * programs only. Files from anyone else are never downloaded.
 */
export function createUploadService(deps: UploadDeps) {
  const { db, slack, log, config } = deps;
  const maxBytes = deps.maxFileBytes ?? 50 * MB;
  const timeoutMs = deps.downloadTimeoutMs ?? 60_000;
  const tooLarge = `a file is larger than ${Math.round(maxBytes / MB)} MB, the most the app accepts`;
  // Copies a killed process left behind go at start.
  sweepCopyFolders().then(
    (n) => n && log.info({ removed: n }, "removed copies of uploaded files left by an earlier process"),
    (err: unknown) => log.warn({ err: safeErrorMessage(err) }, "old copies of uploaded files could not be removed"),
  );

  /** What `email` may send: everything (null), the programs they administer, or nothing (undefined). */
  async function roleOf(email: string): Promise<string[] | null | undefined> {
    if (config.ADMIN_EMAILS.includes(email)) return null;
    const mine = (await listPrograms(db)).filter((p) => p.adminEmails.includes(email)).map((p) => p.id);
    return mine.length ? mine : undefined;
  }

  /** Writes the file's bytes to `path`, refusing more than `maxBytes` whatever the server says. */
  async function download(url: string, path: string): Promise<void> {
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      await downloadWithin(url, path, signal);
    } catch (err) {
      if (signal.aborted) throw new UploadProblem(`Slack did not send a file within ${timeoutMs / 1000} seconds`);
      throw err;
    }
  }

  async function downloadWithin(url: string, path: string, signal: AbortSignal): Promise<void> {
    const res = await fetchSlackFile(url, config, { signal });
    if (!res.ok || !res.body) throw new UploadProblem(`Slack answered HTTP ${res.status} for a file`);
    // Without files:read Slack answers a file URL with its sign-in page, not the file.
    if ((res.headers.get("content-type") ?? "").includes("text/html"))
      throw new UploadProblem("Slack sent a web page instead of the file: does the app have the files:read scope?");
    let seen = 0;
    const cap = new Transform({
      transform(chunk: Buffer, _enc, done) {
        seen += chunk.length;
        done(seen > maxBytes ? new UploadProblem(tooLarge) : null, chunk);
      },
    });
    await pipeline(
      Readable.fromWeb(res.body as WebReadableStream<Uint8Array>),
      cap,
      createWriteStream(path, { mode: 0o600 }),
      { signal },
    );
  }

  async function importShared(
    share: FileShare,
    programs: string[] | null,
    reply: (m: Message) => Promise<void>,
  ): Promise<void> {
    const infos = await Promise.all(
      share.fileIds.map(async (id) => {
        const r = await readWithRetry("files.info", () => slack.files.info({ file: id }), log);
        return {
          name: r.file?.name ?? "",
          size: r.file?.size ?? 0,
          url: r.file?.url_private_download ?? r.file?.url_private ?? "",
        };
      }),
    );
    const wanted = infos.filter((f) => EXPECTED.includes(f.name));
    const ignored = infos.filter((f) => !EXPECTED.includes(f.name)).map((f) => f.name);
    if (!wanted.length) return reply(uploadNothingToRead(ignored, EXPECTED));
    const twice = wanted.find((f, i) => wanted.findIndex((g) => g.name === f.name) !== i);
    if (twice) throw new UploadProblem(`${twice.name} was sent twice`);
    if (wanted.some((f) => f.size > maxBytes)) throw new UploadProblem(tooLarge);

    const dir = await makeCopyFolder();
    try {
      for (const f of wanted) await download(f.url, join(dir, f.name));
      const result = await importDirectory(db, dir, {
        zone: config.REPORT_TIMEZONE,
        source: `slack:${share.user}`,
        programs: programs ?? undefined,
      }).catch((err) => {
        // A refusal of the whole import (an unreadable file, another zone) is the sender's to know; the
        // folder is ours, so its path is left out.
        if (err instanceof ImportError || err instanceof ZoneMismatchError)
          throw new UploadProblem(err.message.replaceAll(`${dir}/`, "").replaceAll(dir, "the files"));
        throw err;
      });
      await reply(
        buildUploadAnswer({
          ok: result.ok,
          files: result.files.map(({ file, added, changed, removed, unchanged }) => ({
            file,
            counts: { added, changed, removed, unchanged },
          })),
          problems: result.problems,
          ignored,
        }),
      );
      log.info({ user: share.user, files: wanted.length, ok: result.ok }, "files sent in Slack imported");
      if (!result.ok) {
        await afterRateLimits(() =>
          slack.filesUploadV2({
            channel_id: share.channel,
            thread_ts: share.ts,
            file: Buffer.from(buildProblemsFile(result.problems)),
            filename: "import-problems.txt",
            title: `Import problems (${result.problems.length})`,
          }),
        );
      }
    } finally {
      await removeCopyFolder(dir);
    }
  }

  /** Handles one share: refuses a non-admin without downloading, else imports; always answers in the thread. */
  async function receive(share: FileShare): Promise<void> {
    const reply = async (m: Message) => {
      await afterRateLimits(() =>
        slack.chat.postMessage({
          channel: share.channel,
          thread_ts: share.ts,
          text: m.text,
          blocks: m.blocks,
          unfurl_links: false,
        }),
      );
    };
    try {
      const email = await deps.emailOf(share.user);
      const programs = email ? await roleOf(email) : undefined;
      if (programs === undefined) {
        log.info({ user: share.user, files: share.fileIds.length }, "files sent by a non-admin were not downloaded");
        return await reply(uploadNotAdmin());
      }
      await importShared(share, programs, reply);
    } catch (err) {
      log.warn({ user: share.user, err: safeErrorMessage(err) }, "files sent in Slack could not be imported");
      const reason = err instanceof UploadProblem ? err.message : "an error on my side";
      await reply(uploadFailed(reason)).catch(() => {});
    }
  }

  return { receive } satisfies UploadPort;
}

export type UploadService = ReturnType<typeof createUploadService>;
