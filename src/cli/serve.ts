import { createApp, importingFirst } from "../app.js";
import { lastSuccessfulImportAt } from "../db/import-repo.js";
import { isPg } from "../db/knex.js";
import { rememberSignature } from "../db/seen-requests-repo.js";
import { startScheduler } from "../delivery/scheduler.js";
import { createHealthCheck } from "../health.js";
import { metrics, timedDelivery } from "../metrics.js";
import { startDropFolderSchedule } from "../services/drop-folder.js";
import { startSlackApp } from "../slack/app.js";
import type { CliContext } from "./context.js";
import { buildStartLine } from "./run-summary.js";

/** SIGTERM ends the process within this, whatever Slack is doing; unfinished rows are reconciled next run. */
const SHUTDOWN_DEADLINE_MS = 9000;

/** Runs until SIGTERM or SIGINT, then stops taking work, lets a running delivery let go and exits 0. */
export async function runServe(ctx: CliContext): Promise<number> {
  const { config, log, db } = ctx;
  const services = createApp(ctx);
  const { slackMode } = services.settings;
  // Made first: without a bot token, that is the message to see.
  const { slack, delivery, directory, surfaces, uploads } = services;
  const health = createHealthCheck({
    db,
    slack,
    extra: { scheduler: config.REPORT_SCHEDULE === "off" ? "off" : "on", mode: slackMode },
    tokenless: services.link !== null,
  });
  const app = await startSlackApp({
    config,
    log,
    surfaces,
    uploads,
    nudges: services.nudges,
    slack,
    health,
    // Several instances share PostgreSQL, so replays and retried events are remembered there. SQLite
    // serves one instance: its memory is enough, and an ack never waits on an import's write lock (§15).
    rememberRequest: isPg(db) ? (key, forgetAfter, now) => rememberSignature(db, key, forgetAfter, now) : undefined,
    link: services.link ?? undefined,
  });
  metrics.watch({
    // The period being delivered now, read when Prometheus scrapes.
    ledger: async () => {
      const tally = await services.ledger.tally(delivery.periodOf(Date.now()).id);
      return Object.entries(tally.byState).flatMap(([state, kinds]) =>
        Object.entries(kinds).map(([kind, count]) => ({ kind, state, count })),
      );
    },
    lastImport: () => lastSuccessfulImportAt(db),
  });
  // IMPORT_DIR: checked at start, on IMPORT_SCHEDULE, and before each scheduled delivery.
  const drop = config.IMPORT_DIR
    ? startDropFolderSchedule(services.dropFolder, {
        schedule: config.IMPORT_SCHEDULE,
        zone: config.REPORT_TIMEZONE,
        log,
      })
    : null;
  const timed = timedDelivery(delivery);
  const scheduler = startScheduler({
    config,
    delivery: config.IMPORT_DIR ? importingFirst(timed, services.dropFolder, log) : timed,
    directory,
    log,
  });
  // The start line (§17): how and when deliveries go, and to whom, before any of them starts.
  const [plan, recipients] = await Promise.all([scheduler.plan, delivery.countRecipients()]);
  log.info(
    {
      port: app.port,
      mode: slackMode,
      team: app.identity?.teamId,
      delivery: config.REPORT_SCHEDULE === "off" ? "off" : config.REPORT_DELIVERY,
      audience: delivery.audience
        ? { pilot: { managers: delivery.audience.emails.size, programs: delivery.audience.programs.size } }
        : "everyone",
      next: plan.next && { at: new Date(plan.next.at).toISOString(), period: plan.next.periodId },
      recipients,
      catchUp: plan.catchUp,
      ...(plan.leftToSend ? { leftToSend: plan.leftToSend } : {}),
    },
    "serving",
  );
  ctx.io.out(buildStartLine({ port: app.port, slackMode, config, audience: delivery.audience, plan, recipients }));
  if (services.link) {
    const installs = (await services.link.service.list()).filter((i) => i.revokedAt === null).length;
    ctx.io.out(
      `Installed from the link in ${installs} workspace${installs === 1 ? "" : "s"} or org${installs === 1 ? "" : "s"}; add one at http://${config.HTTP_HOST ?? "localhost"}:${app.port}/slack/install (or serve's public URL)\n`,
    );
  }

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, "stopping");
      resolve();
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
  // A call to a Slack that stopped answering may take its whole timeout: past the deadline the
  // process ends anyway, and the rows it held are reconciled by the next run.
  setTimeout(() => {
    log.warn({ afterMs: SHUTDOWN_DEADLINE_MS }, "shutdown deadline reached; exiting");
    process.exit(0);
  }, SHUTDOWN_DEADLINE_MS).unref();
  const waitAtMost = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());
  await Promise.race([Promise.all([drop?.stop(), scheduler.stop()]), waitAtMost(SHUTDOWN_DEADLINE_MS - 4000)]);
  await app.stop();
  return 0;
}
