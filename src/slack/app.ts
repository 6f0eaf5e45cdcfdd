import type { IncomingMessage, ServerResponse } from "node:http";
import bolt from "@slack/bolt";
import type { Config } from "../config.js";
import { safeErrorMessage } from "../errors.js";
import type { Logger } from "../logger.js";
import type { SurfaceService } from "../services/surface-service.js";
import type { UploadService } from "../services/upload-service.js";
import { SlackSetupError } from "./client.js";
import { EVENTS_PATH, HEALTH_PATH } from "./ids.js";
import { registerListeners } from "./listeners/index.js";

const { App, LogLevel } = bolt;

export interface SlackAppDeps {
  config: Config;
  log: Logger;
  surfaces: SurfaceService;
  /** CSV files program admins send in a DM (spec §13). */
  uploads?: UploadService;
  health: () => Promise<Record<string, unknown>>;
}

/** HTTP mode (signed requests at /slack/events) or Socket Mode when SLACK_APP_TOKEN is set; /healthz either way. */
export function createSlackApp({ config, log, surfaces, uploads, health }: SlackAppDeps): InstanceType<typeof App> {
  if (!config.SLACK_BOT_TOKEN)
    throw new SlackSetupError("SLACK_BOT_TOKEN is not set: serve needs the app's bot token.");
  const socketMode = !!config.SLACK_APP_TOKEN;
  if (!socketMode && !config.SLACK_SIGNING_SECRET) {
    throw new SlackSetupError(
      "SLACK_SIGNING_SECRET is not set: HTTP mode needs it to verify requests (or set SLACK_APP_TOKEN for Socket Mode).",
    );
  }
  const healthRoute = {
    path: HEALTH_PATH,
    method: ["GET"],
    handler: (_req: IncomingMessage, res: ServerResponse) => {
      health()
        .then((h) => {
          res.writeHead(h.ok ? 200 : 503, { "Content-Type": "application/json" });
          res.end(JSON.stringify(h));
        })
        .catch((err) => {
          res.writeHead(503, { "Content-Type": "application/json" });
          res.end(JSON.stringify({ ok: false, error: safeErrorMessage(err) }));
        });
    },
  };
  const app = new App({
    token: config.SLACK_BOT_TOKEN,
    signingSecret: config.SLACK_SIGNING_SECRET ?? "unused-in-socket-mode",
    appToken: config.SLACK_APP_TOKEN,
    socketMode,
    endpoints: EVENTS_PATH,
    port: config.PORT,
    customRoutes: [healthRoute],
    // The Socket Mode client asks apps.connections.open for its URL at SLACK_API_URL too.
    installerOptions: socketMode
      ? { port: config.PORT, clientOptions: { slackApiUrl: config.SLACK_API_URL } }
      : undefined,
    clientOptions: { slackApiUrl: config.SLACK_API_URL },
    logLevel: LogLevel.ERROR,
  });
  app.error(async (err) => {
    log.error({ err: safeErrorMessage(err) }, "slack app error");
  });
  registerListeners(app, { surfaces, log, uploads });
  return app;
}
