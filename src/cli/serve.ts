import { createApp } from "../app.js";
import { ping } from "../db/knex.js";
import { startScheduler } from "../delivery/scheduler.js";
import { importingFirst, startDropFolderSchedule } from "../services/drop-folder.js";
import { createSlackApp } from "../slack/app.js";
import type { CliContext } from "./context.js";

/** Runs until SIGTERM or SIGINT, then stops taking work, lets a running delivery finish and exits 0. */
export async function runServe(ctx: CliContext): Promise<number> {
  const { config, log, db } = ctx;
  const services = createApp(ctx);
  const { slackMode } = services.settings;
  // Made first: without a bot token, that is the message to see.
  const { delivery, directory, surfaces, uploads } = services;
  let scheduler: ReturnType<typeof startScheduler> | null = null;
  const health = async () => {
    await ping(db);
    return {
      ok: true,
      database: "ok",
      scheduler: config.REPORT_SCHEDULE === "off" ? "off" : "on",
      mode: slackMode,
    };
  };
  const app = createSlackApp({ config, log, surfaces, uploads, health });
  await app.start(config.PORT);
  log.info({ port: config.PORT, mode: slackMode }, "serving");
  ctx.io.out(
    `mentorship-report is serving on port ${config.PORT} (${slackMode === "socket" ? "Socket Mode" : "HTTP"}); schedule: ${config.REPORT_SCHEDULE}\n`,
  );
  // IMPORT_DIR: checked at start, on IMPORT_SCHEDULE, and before each scheduled delivery.
  const drop = config.IMPORT_DIR
    ? startDropFolderSchedule(services.dropFolder, {
        schedule: config.IMPORT_SCHEDULE,
        zone: config.REPORT_TIMEZONE,
        log,
      })
    : null;
  scheduler = startScheduler({
    config,
    delivery: config.IMPORT_DIR ? importingFirst(delivery, services.dropFolder, log) : delivery,
    directory,
    log,
  });

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, "stopping");
      resolve();
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
  await drop?.stop();
  await scheduler.stop();
  await app.stop();
  return 0;
}
