import type { WebClient } from "@slack/web-api";
import { type Config, installModeOf, settingsOf } from "./config.js";
import { createInstallationStore } from "./db/installation-repo.js";
import type { Db } from "./db/knex.js";
import { createLedgerStore } from "./db/ledger-repo.js";
import { createTokenCipher } from "./db/token-cipher.js";
import { createDeliveryService, type DeliveryService, planPeriod } from "./delivery/delivery-service.js";
import { Pacers } from "./delivery/pacer.js";
import type { Millis } from "./domain/types.js";
import { safeErrorMessage } from "./errors.js";
import type { Logger } from "./logger.js";
import { createDropFolder, type DropFolder } from "./services/drop-folder.js";
import { createInstallationService } from "./services/installation-service.js";
import { createNudgeService } from "./services/nudge-service.js";
import { createReportService } from "./services/report-service.js";
import { createSurfaceService } from "./services/surface-service.js";
import { createUploadService } from "./services/upload-service.js";
import { createSlackClient } from "./slack/client.js";
import { createDirectory } from "./slack/directory.js";
import { createWorkspaces } from "./slack/workspaces.js";

/** What a caller (a test, the bench) may set instead of the defaults. */
export interface AppOverrides {
  slack?: WebClient;
  now?: () => number;
  instanceId?: string;
  /** Slack calls in flight at once. */
  slackConcurrency?: number;
  /** Rows a delivery run posts at once. */
  deliveryConcurrency?: number;
  /** First backoff after a transient Slack error. */
  retryBaseMs?: number;
}

/**
 * The composition root: every service of the app wired once, for the CLI commands, `serve`, the
 * demo, the bench and the tests. The Slack side is made on first use, so commands that never talk
 * to Slack (a dry run, a preview) need no token.
 */
export function createApp(base: { config: Config; db: Db; log: Logger }, over: AppOverrides = {}) {
  const { config, db, log } = base;
  const settings = settingsOf(config);
  const once = <T>(make: () => T): (() => T) => {
    let made: { value: T } | null = null;
    return () => {
      made ??= { value: make() };
      return made.value;
    };
  };
  const reports = createReportService({ db, config });
  const ledger = createLedgerStore(db);
  // Installed from the link (§16): the installations in the database, a client each; else SLACK_BOT_TOKEN's one.
  const link = once(() => {
    if (installModeOf(config) !== "link") return null;
    const installations = createInstallationStore(db, createTokenCipher(config.TOKEN_ENCRYPTION_KEY!), over.now);
    const workspaces = createWorkspaces({ installations, config, concurrency: over.slackConcurrency, now: over.now });
    const service = createInstallationService({ db, installations, workspaces, log, now: over.now });
    return { installations, workspaces, service };
  });
  const slack = once(
    () => over.slack ?? link()?.workspaces.client ?? createSlackClient(config, { concurrency: over.slackConcurrency }),
  );
  const directory = once(() =>
    createDirectory({
      db,
      slack: slack(),
      log,
      now: over.now,
      retryBaseMs: over.retryBaseMs,
      workspaces: link()?.workspaces,
    }),
  );
  // One pace per workspace for everything this process posts there: the DMs of a run and the managers'
  // nudges (§18); a nudge goes at the pace of the workspace its request came from (§16).
  const pacers = once(() => new Pacers(config.DELIVERY_RATE_PER_MINUTE, over.now));
  const delivery = once(() =>
    createDeliveryService({
      pacers: pacers(),
      db,
      ledger,
      slack: slack(),
      directory: directory(),
      reports,
      log,
      config,
      now: over.now,
      instanceId: over.instanceId,
      concurrency: over.deliveryConcurrency,
      retryBaseMs: over.retryBaseMs,
      workspaces: link()?.workspaces,
    }),
  );
  const surfaces = once(() =>
    createSurfaceService({
      db,
      reports,
      slack: slack(),
      log,
      config,
      now: over.now,
      installations: link() ? () => link()!.service.list() : undefined,
    }),
  );
  const uploads = once(() =>
    createUploadService({ db, slack: slack(), log, config, emailOf: (user) => surfaces().emailOf(user) }),
  );
  const nudges = once(() =>
    createNudgeService({
      db,
      reports,
      slack: slack(),
      directory: directory(),
      pacer: pacers().ofRequest(),
      log,
      config,
      now: over.now,
      emailOf: (user) => surfaces().emailOf(user),
    }),
  );
  const dropFolder = once(() => createDropFolder({ db, config, slack, directory, log }));
  return {
    config,
    settings,
    db,
    log,
    reports,
    ledger,
    get slack() {
      return slack();
    },
    /** The installations and their clients when installed from the link; null with SLACK_BOT_TOKEN. */
    get link() {
      return link();
    },
    get directory() {
      return directory();
    },
    get delivery() {
      return delivery();
    },
    get surfaces() {
      return surfaces();
    },
    get uploads() {
      return uploads();
    },
    get nudges() {
      return nudges();
    },
    /** IMPORT_DIR, imported when its files change (serve). */
    get dropFolder() {
      return dropFolder();
    },
    /** What a delivery run would send, without Slack or the ledger. */
    planPeriod: (asOf: Millis) => planPeriod({ reports, config, db }, asOf),
  };
}

export type App = ReturnType<typeof createApp>;

/**
 * The delivery service whose scheduled runs first import the drop folder when it changed (a failure
 * never stops a run). With local-time delivery that is every minute's check: a look at the files'
 * sizes and times, and one settings read.
 */
export function importingFirst(delivery: DeliveryService, drop: DropFolder, log: Logger): DeliveryService {
  const first = () =>
    drop.check().catch((err) => log.error({ err: safeErrorMessage(err) }, "drop folder check failed"));
  return {
    ...delivery,
    deliverPeriod: async (opts) => {
      await first();
      return delivery.deliverPeriod(opts);
    },
    deliverDue: async (opts) => {
      await first();
      return delivery.deliverDue(opts);
    },
  };
}
