import { startScheduler } from "../delivery/scheduler.js";
import { createSurfaceService } from "../services/surface-service.js";
import { createSlackApp } from "../slack/app.js";
import type { CliContext } from "./context.js";
import { createServices } from "./send.js";

/** Runs until SIGTERM or SIGINT, then stops taking work, lets a running delivery finish and exits 0. */
export async function runServe(ctx: CliContext): Promise<number> {
  const { config, log, db } = ctx;
  const { slack, reports, delivery } = createServices(ctx);
  const surfaces = createSurfaceService({ db, reports, slack, log, config });
  let scheduler: ReturnType<typeof startScheduler> | null = null;
  const health = async () => {
    await db.raw("select 1");
    return {
      ok: true,
      database: "ok",
      scheduler: config.REPORT_SCHEDULE === "off" ? "off" : "on",
      mode: config.SLACK_APP_TOKEN ? "socket" : "http",
    };
  };
  const app = createSlackApp({ config, log, surfaces, health });
  await app.start(config.PORT);
  log.info({ port: config.PORT, mode: config.SLACK_APP_TOKEN ? "socket" : "http" }, "serving");
  ctx.io.out(
    `mentorship-report is serving on port ${config.PORT} (${config.SLACK_APP_TOKEN ? "Socket Mode" : "HTTP"}); schedule: ${config.REPORT_SCHEDULE}\n`,
  );
  scheduler = startScheduler({ config, delivery, log });

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, "stopping");
      resolve();
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
  await scheduler.stop();
  await app.stop();
  return 0;
}
