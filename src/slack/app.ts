import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import bolt from "@slack/bolt";
import type { WebClient } from "@slack/web-api";
import { type Config, ConfigError, settingsOf } from "../config.js";
import { redactEmails, safeErrorMessage } from "../errors.js";
import { EVENTS_PATH, HEALTH_PATH } from "../ids.js";
import type { Logger } from "../logger.js";
import { metrics } from "../metrics.js";
import type { SurfaceService } from "../services/surface-service.js";
import type { UploadService } from "../services/upload-service.js";
import { refusePlaceholders, SlackSetupError } from "./client.js";
import { registerListeners } from "./listeners/index.js";
import { auditRefusal, createRequestGuard } from "./request-guard.js";
import { readWithRetry, SlackCallError } from "./retry.js";

const { App, HTTPReceiver, HTTPModuleFunctions, LogLevel } = bolt;
type BoltLogger = bolt.Logger;

export const METRICS_PATH = "/metrics";
/** How long stopping may take before we stop waiting for Slack (SIGTERM must end within 10 s). */
const STOP_TIMEOUT_MS = 3000;

/** The workspace and bot the token belongs to, from auth.test. */
export interface SlackIdentity {
  teamId: string;
  botUserId?: string;
  botId?: string;
}

/**
 * auth.test before anything listens: a token Slack refuses (or a Slack that never answers) stops
 * `serve` with a message that says which, instead of a stack trace after "serving".
 */
export async function checkSlackToken(
  slack: WebClient,
  config: Pick<Config, "SLACK_API_URL">,
  log: Logger,
): Promise<SlackIdentity> {
  try {
    const r = await readWithRetry("auth.test", () => slack.auth.test(), log, { tries: 3, baseMs: 500 });
    if (!r.team_id) throw new SlackSetupError("auth.test did not name the token's workspace (team_id).");
    if ((r as { emulator?: unknown }).emulator === true)
      log.warn(
        { slackApiUrl: config.SLACK_API_URL },
        "SLACK_API_URL points at the bundled Slack emulator, not Slack: nothing reaches real people",
      );
    return { teamId: r.team_id, botUserId: r.user_id, botId: r.bot_id };
  } catch (err) {
    if (!(err instanceof SlackCallError)) throw err;
    const o = err.outcome;
    const reason = "reason" in o ? o.reason : "ratelimited";
    if (o.kind === "fatal" || o.kind === "permanent")
      throw new SlackSetupError(
        `Slack refused SLACK_BOT_TOKEN (auth.test: ${reason}). Copy the Bot User OAuth Token from the app's "OAuth & Permissions" page, and reinstall the app if it was removed.`,
      );
    throw new SlackSetupError(
      `Slack did not answer auth.test at ${config.SLACK_API_URL} (${reason}); serve stops instead of running without Slack. Check the network or SLACK_API_URL, then start again.`,
    );
  }
}

export interface Health {
  ok: boolean;
  [k: string]: unknown;
}

export interface SlackAppDeps {
  config: Config;
  log: Logger;
  surfaces: SurfaceService;
  /** CSV files program admins send in a DM (spec §13). */
  uploads?: UploadService;
  slack: WebClient;
  health: () => Promise<Health>;
  /** Replay memory shared by the instances on one database (spec §14); this process's own without it. */
  rememberRequest?: (signature: string, forgetAfter: number, now: number) => Promise<boolean>;
}

export interface RunningSlackApp {
  /** The port /healthz and /metrics answer on (and /slack/events over HTTP). */
  port: number;
  identity: SlackIdentity;
  stop(): Promise<void>;
}

/** /healthz and /metrics, for Bolt's HTTP server or our own loopback one in Socket Mode. */
function opsHandler(health: () => Promise<Health>, log: Logger) {
  return (path: string, res: ServerResponse): boolean => {
    if (path === HEALTH_PATH) {
      health()
        .then((h) => {
          res.writeHead(h.ok ? 200 : 503, { "Content-Type": "application/json" });
          res.end(JSON.stringify(h));
        })
        .catch((err) => {
          log.error({ err: safeErrorMessage(err) }, "health check failed");
          res.writeHead(503, { "Content-Type": "application/json" });
          res.end(JSON.stringify({ ok: false }));
        });
      return true;
    }
    if (path === METRICS_PATH) {
      metrics
        .text()
        .then(({ contentType, body }) => {
          res.writeHead(200, { "Content-Type": contentType });
          res.end(body);
        })
        .catch((err) => {
          log.error({ err: safeErrorMessage(err) }, "metrics failed");
          res.writeHead(500).end();
        });
      return true;
    }
    return false;
  };
}

/**
 * Bolt (and the Web API and Socket Mode clients it makes) log through this, so every line is our
 * JSON. Their debug and info lines are dropped: the Web API client's carry request bodies, which
 * name mentees. Errors are shortened the way ours are.
 */
export function boltLogger(log: Logger): BoltLogger {
  const child = log.child({ component: "bolt" });
  const text = (parts: unknown[]) =>
    redactEmails(parts.map((p) => (p instanceof Error ? safeErrorMessage(p) : String(p))).join(" ")).slice(0, 500);
  return {
    debug: () => {},
    info: () => {},
    warn: (...parts: unknown[]) => child.warn(text(parts)),
    error: (...parts: unknown[]) => child.error(text(parts)),
    // LOG_LEVEL decides, not Bolt.
    setLevel: () => {},
    getLevel: () => LogLevel.WARN,
    setName: () => {},
  };
}

/**
 * The port is taken or refused: a setting to change (exit 2, which the systemd unit does not restart
 * on), not a crash to report with a stack.
 */
function listenFailure(err: unknown, config: Pick<Config, "PORT" | "HTTP_HOST">, host: string | undefined): unknown {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  const why: Record<string, string> = {
    EADDRINUSE: "the port is already in use (another serve, or another program): stop it or choose another PORT",
    EACCES: "this user may not listen on that port: choose a PORT above 1023",
    EADDRNOTAVAIL: "no network interface of this machine has that address: fix HTTP_HOST or leave it unset",
  };
  if (!code || !why[code]) return err;
  const where = `PORT=${config.PORT}${config.HTTP_HOST ? ` HTTP_HOST=${config.HTTP_HOST}` : ""}`;
  return new ConfigError(`Cannot listen on ${where} (${host ?? "every interface"}): ${why[code]}.`);
}

const withTimeout = <T>(p: Promise<T>, ms: number) =>
  Promise.race([p, new Promise<void>((resolve) => setTimeout(resolve, ms).unref())]);

/**
 * Checks the token, then serves: HTTP mode (signed requests at /slack/events, on every interface
 * unless HTTP_HOST says otherwise) or Socket Mode when SLACK_APP_TOKEN is set (then /healthz and
 * /metrics listen on loopback unless HTTP_HOST says otherwise).
 */
export async function startSlackApp(deps: SlackAppDeps): Promise<RunningSlackApp> {
  const { config, log, surfaces, uploads, slack } = deps;
  if (!config.SLACK_BOT_TOKEN)
    throw new SlackSetupError("SLACK_BOT_TOKEN is not set: serve needs the app's bot token.");
  const socketMode = settingsOf(config).slackMode === "socket";
  if (!socketMode && !config.SLACK_SIGNING_SECRET) {
    throw new SlackSetupError(
      "SLACK_SIGNING_SECRET is not set: HTTP mode needs it to verify requests (or set SLACK_APP_TOKEN for Socket Mode).",
    );
  }
  refusePlaceholders(config);
  const identity = await checkSlackToken(slack, config, log);
  const ops = opsHandler(deps.health, log);
  const common = {
    token: config.SLACK_BOT_TOKEN,
    // We already asked auth.test; Bolt's own check would fail later as an unhandled rejection.
    tokenVerificationEnabled: false,
    botId: identity.botId,
    botUserId: identity.botUserId,
    clientOptions: { slackApiUrl: config.SLACK_API_URL },
    logger: boltLogger(log),
  };

  let app: InstanceType<typeof App>;
  let opsServer: Server | null = null;
  let port: number;
  if (socketMode) {
    app = new App({
      ...common,
      appToken: config.SLACK_APP_TOKEN,
      socketMode: true,
      // The Socket Mode client asks apps.connections.open for its URL at SLACK_API_URL too.
      installerOptions: { clientOptions: { slackApiUrl: config.SLACK_API_URL } },
    });
    opsServer = createServer((req: IncomingMessage, res: ServerResponse) => {
      const path = new URL(req.url ?? "/", "http://localhost").pathname;
      if (req.method !== "GET" || !ops(path, res)) res.writeHead(404).end();
    });
    const server = opsServer;
    const host = config.HTTP_HOST ?? "127.0.0.1";
    await new Promise<void>((resolve, reject) => {
      server.once("error", (err) => reject(listenFailure(err, config, host)));
      server.listen(config.PORT, host, () => resolve());
    });
    port = (server.address() as AddressInfo).port;
  } else {
    const signingSecret = config.SLACK_SIGNING_SECRET!;
    const receiver = new HTTPReceiver({
      signingSecret,
      endpoints: EVENTS_PATH,
      port: config.PORT,
      logger: common.logger,
      customRoutes: [HEALTH_PATH, METRICS_PATH].map((path) => ({
        path,
        method: ["GET"],
        handler: (_req: IncomingMessage, res: ServerResponse) => void ops(path, res),
      })),
    });
    receiver.requestListener = createRequestGuard({
      signingSecret,
      teamId: identity.teamId,
      remember: deps.rememberRequest,
    }).wrap(receiver.requestListener, log, (req) =>
      HTTPModuleFunctions.bufferIncomingMessage(req, HTTPModuleFunctions.defaultBodyLimit),
    );
    app = new App({ ...common, receiver });
  }

  // Socket Mode has no signature to check, but a request from another workspace is refused all the same.
  app.use(async (args) => {
    const body = args.body as { team_id?: string; team?: { id?: string }; user_id?: string; command?: string };
    const team = body.team_id ?? body.team?.id;
    if (team !== undefined && team !== identity.teamId) {
      auditRefusal(log, "team", { teamId: team, userId: body.user_id, command: body.command });
      if ("ack" in args && typeof args.ack === "function") await args.ack();
      return;
    }
    await args.next();
  });
  app.error(async (err) => {
    log.error({ err: safeErrorMessage(err) }, "slack app error");
  });
  registerListeners(app, { surfaces, log, uploads, slackApiUrl: config.SLACK_API_URL });

  if (socketMode) await app.start();
  else {
    const server = (await app
      .start(config.HTTP_HOST ? { port: config.PORT, host: config.HTTP_HOST } : config.PORT)
      .catch((err: unknown) => {
        throw listenFailure(err, config, config.HTTP_HOST);
      })) as Server;
    port = (server.address() as AddressInfo).port;
  }
  return {
    port: port!,
    identity,
    async stop() {
      // Closing a socket to a Slack that no longer answers can hang: we stop waiting after a while.
      const closeOps = opsServer
        ? new Promise<void>((resolve) => {
            opsServer!.closeAllConnections();
            opsServer!.close(() => resolve());
          })
        : Promise.resolve();
      await withTimeout(
        Promise.all([app.stop().catch(() => {}), closeOps]).then(() => {}),
        STOP_TIMEOUT_MS,
      );
    },
  };
}
