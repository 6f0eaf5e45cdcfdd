import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import bolt from "@slack/bolt";
import { WebClient } from "@slack/web-api";
import { type Config, ConfigError, settingsOf } from "../config.js";
import type { InstallationRepo } from "../db/installation-repo.js";
import { redactEmails, safeErrorMessage } from "../errors.js";
import { EVENTS_PATH, HEALTH_PATH } from "../ids.js";
import type { Logger } from "../logger.js";
import { metrics } from "../metrics.js";
import { refusePlaceholders, SlackSetupError } from "./client.js";
import { createInstaller } from "./installer.js";
import { registerListeners } from "./listeners/index.js";
import { handleUninstall, type Uninstalls } from "./listeners/uninstall.js";
import type { NudgePort, SurfacePort, UploadPort } from "./ports.js";
import {
  auditRefusal,
  createRequestGuard,
  firstDelivery,
  type IsServedTeam,
  judgePayload,
  partiesOf,
  type Remember,
  rememberInProcess,
  type SlackPayload,
  servedTeams,
} from "./request-guard.js";
import { readWithRetry, SlackCallError } from "./retry.js";
import type { Workspaces } from "./workspaces.js";

const { App, HTTPReceiver, HTTPModuleFunctions, LogLevel } = bolt;
type BoltLogger = bolt.Logger;

export const METRICS_PATH = "/metrics";
/** How long stopping may take before we stop waiting for Slack (SIGTERM must end within 10 s). */
const STOP_TIMEOUT_MS = 3000;
/** Socket Mode's first connection: a Slack that neither accepts nor refuses it stops serve by then (§15). */
const SOCKET_START_TIMEOUT_MS = 25_000;

/**
 * A silent or slow client never holds a connection for long (§15): its headers within 10 s, the whole
 * request within 30 s, checked every second (Node's default is every 30 s); an idle keep-alive
 * connection is let go after 5 s.
 */
export const SERVER_TIMEOUTS = {
  headersTimeout: 10_000,
  requestTimeout: 30_000,
  keepAliveTimeout: 5_000,
  connectionsCheckingInterval: 1_000,
} as const;

/** The workspace and bot the token belongs to, from auth.test. */
export interface SlackIdentity {
  teamId: string;
  /** The Enterprise Grid organisation of the token's workspace, if it belongs to one. */
  enterpriseId?: string;
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
    return { teamId: r.team_id, enterpriseId: r.enterprise_id || undefined, botUserId: r.user_id, botId: r.bot_id };
  } catch (err) {
    if (!(err instanceof SlackCallError)) throw err;
    const o = err.outcome;
    const reason = "reason" in o ? o.reason : "ratelimited";
    // Elsewhere than Slack it is most likely the emulator, whose token a restart made stale.
    const elsewhere =
      new URL(config.SLACK_API_URL).hostname === "slack.com"
        ? ""
        : ` SLACK_API_URL is ${config.SLACK_API_URL}: if that is the bundled emulator, its token is new each run; use the one it printed this time.`;
    if (o.kind === "fatal" || o.kind === "permanent")
      throw new SlackSetupError(
        `Slack refused SLACK_BOT_TOKEN (auth.test: ${reason}). Copy the Bot User OAuth Token from the app's "OAuth & Permissions" page, and reinstall the app if it was removed.${elsewhere}`,
      );
    throw new SlackSetupError(
      `Slack did not answer auth.test at ${config.SLACK_API_URL} (${reason}); serve stops instead of running without Slack. Check the network or SLACK_API_URL, then start again.`,
    );
  }
}

/**
 * Socket Mode: the app-level token is tried before connecting, since Bolt's Socket Mode client keeps
 * retrying a refused one forever while /healthz says 503 and systemd sees a running process.
 */
async function checkAppToken(config: Pick<Config, "SLACK_APP_TOKEN" | "SLACK_API_URL">, log: Logger): Promise<void> {
  const client = new WebClient(config.SLACK_APP_TOKEN, {
    slackApiUrl: config.SLACK_API_URL,
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 0 },
    timeout: 10_000,
    logger: boltLogger(log),
  });
  try {
    await readWithRetry("apps.connections.open", () => client.apps.connections.open(), log, { tries: 3, baseMs: 500 });
  } catch (err) {
    if (!(err instanceof SlackCallError)) throw err;
    const o = err.outcome;
    const reason = "reason" in o ? o.reason : "ratelimited";
    if (o.kind === "fatal" || o.kind === "permanent")
      throw new SlackSetupError(
        `Slack refused SLACK_APP_TOKEN (apps.connections.open: ${reason}). Copy the app-level token (xapp-…, scope connections:write) from the app's "Basic Information" page, or unset SLACK_APP_TOKEN to serve over HTTP.`,
      );
    throw new SlackSetupError(
      `Slack did not answer apps.connections.open at ${config.SLACK_API_URL} (${reason}); serve stops instead of running without Socket Mode.`,
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
  surfaces: SurfacePort;
  /** CSV files program admins send in a DM (spec §13). */
  uploads?: UploadPort;
  /** The Nudge buttons (§18). */
  nudges?: NudgePort;
  slack: WebClient;
  health: () => Promise<Health>;
  /** Replay and event memory shared by the instances on one database (spec §14, §15); this process's own without it. */
  rememberRequest?: Remember;
  /** Installed from the link (§16): the installations, their clients, and what to do when one is removed. */
  link?: { installations: InstallationRepo; workspaces: Workspaces; service: Uninstalls };
}

export interface RunningSlackApp {
  /** The port /healthz and /metrics answer on (and /slack/events over HTTP). */
  port: number;
  /** SLACK_BOT_TOKEN's workspace; null when installed from the link (many workspaces). */
  identity: SlackIdentity | null;
  stop(): Promise<void>;
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "::ffff:127.0.0.1"]);

/**
 * /metrics shows who uses the app and how much (§15): with METRICS_TOKEN it needs that bearer token,
 * without it only this machine may ask.
 */
export function metricsAllowed(req: IncomingMessage, token: string | undefined): boolean {
  // A reverse proxy on this machine connects from loopback too: a request it forwarded came from elsewhere.
  const forwarded = ["forwarded", "x-forwarded-for", "x-real-ip"].some((h) => req.headers[h] !== undefined);
  if (!token) return !forwarded && LOOPBACK.has(req.socket.remoteAddress ?? "");
  const given = Buffer.from(req.headers.authorization ?? "");
  const wanted = Buffer.from(`Bearer ${token}`);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

/** /healthz and /metrics, for Bolt's HTTP server or our own loopback one in Socket Mode. */
function opsHandler(health: () => Promise<Health>, log: Logger, metricsToken: string | undefined) {
  return (path: string, req: IncomingMessage, res: ServerResponse): boolean => {
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
      if (!metricsAllowed(req, metricsToken)) {
        res.writeHead(metricsToken ? 401 : 403).end();
        return true;
      }
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

/**
 * Bolt's authorize, from the installations in the database: a request is served with the token of
 * its workspace, or of its org's org-wide install; a team the app is not installed in is refused.
 */
function authorizeFrom(installations: InstallationRepo) {
  return async (source: { teamId?: string; enterpriseId?: string; isEnterpriseInstall: boolean }) => {
    const i = await installations.fetchInstallation({
      teamId: source.teamId,
      enterpriseId: source.enterpriseId,
      isEnterpriseInstall: source.isEnterpriseInstall,
    });
    return {
      botToken: i.bot?.token,
      botId: i.bot?.id,
      botUserId: i.bot?.userId,
      teamId: source.teamId ?? i.team?.id,
      enterpriseId: i.enterprise?.id,
      isEnterpriseInstall: !!i.isEnterpriseInstall,
    };
  };
}

const withTimeout = <T>(p: Promise<T>, ms: number) =>
  Promise.race([p, new Promise<void>((resolve) => setTimeout(resolve, ms).unref())]);

/**
 * Checks the token, then serves: HTTP mode (signed requests at /slack/events, on every interface
 * unless HTTP_HOST says otherwise) or Socket Mode when SLACK_APP_TOKEN is set (then /healthz and
 * /metrics listen on loopback unless HTTP_HOST says otherwise).
 */
export async function startSlackApp(deps: SlackAppDeps): Promise<RunningSlackApp> {
  const { config, log, surfaces, uploads, slack, link } = deps;
  if (!config.SLACK_BOT_TOKEN && !link)
    throw new SlackSetupError("SLACK_BOT_TOKEN is not set: serve needs the app's bot token.");
  const socketMode = settingsOf(config).slackMode === "socket";
  if (!socketMode && !config.SLACK_SIGNING_SECRET) {
    throw new SlackSetupError(
      "SLACK_SIGNING_SECRET is not set: HTTP mode needs it to verify requests (or set SLACK_APP_TOKEN for Socket Mode).",
    );
  }
  refusePlaceholders(config);
  const identity = link ? null : await checkSlackToken(slack, config, log);
  const ops = opsHandler(deps.health, log, config.METRICS_TOKEN);
  const logger = boltLogger(log);
  const common = {
    ...(link
      ? { authorize: authorizeFrom(link.installations) }
      : {
          token: config.SLACK_BOT_TOKEN,
          // We already asked auth.test; Bolt's own check would fail later as an unhandled rejection.
          tokenVerificationEnabled: false,
          botId: identity?.botId,
          botUserId: identity?.botUserId,
        }),
    clientOptions: { slackApiUrl: config.SLACK_API_URL },
    logger,
  };
  const remember = deps.rememberRequest ?? rememberInProcess();
  // /slack/install and /slack/oauth_redirect, on the HTTP port or, in Socket Mode, the ops port.
  const installRoutes = link
    ? createInstaller({
        config,
        installations: link.installations,
        remember,
        log,
        logger,
        onInstalled: async () => link.workspaces.forget(),
      }).routes
    : [];
  /** Whether a request's team is served: SLACK_BOT_TOKEN's workspace, or (from the link) any installed one (§16). */
  const isServedTeam: IsServedTeam = link
    ? (team, enterprise) => link.workspaces.serves(team, enterprise)
    : servedTeams(identity!);

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
    opsServer = createServer(SERVER_TIMEOUTS, (req: IncomingMessage, res: ServerResponse) => {
      const path = new URL(req.url ?? "/", "http://localhost").pathname;
      const route = installRoutes.find((r) => r.path === path);
      if (req.method === "GET" && route) void route.handler(req, res);
      else if (req.method !== "GET" || !ops(path, req, res)) res.writeHead(404).end();
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
      customRoutes: [
        ...[HEALTH_PATH, METRICS_PATH].map((path) => ({
          path,
          method: ["GET"],
          handler: (req: IncomingMessage, res: ServerResponse) => void ops(path, req, res),
        })),
        ...installRoutes.map((r) => ({
          path: r.path,
          method: ["GET"],
          handler: (req: IncomingMessage, res: ServerResponse) => void r.handler(req, res),
        })),
      ],
    });
    receiver.requestListener = createRequestGuard({
      signingSecret,
      isServedTeam,
      slackApiUrl: config.SLACK_API_URL,
      remember,
    }).wrap(receiver.requestListener, log, (req, limit) => HTTPModuleFunctions.bufferIncomingMessage(req, limit));
    app = new App({ ...common, receiver });
  }

  // Socket Mode has no signature to check, but what a request says passes the same gate as over HTTP
  // (where the request guard has already applied it, before Bolt).
  if (socketMode)
    app.use(async (args) => {
      const body = args.body as SlackPayload;
      const refusal = await judgePayload(body, { isServedTeam, slackApiUrl: config.SLACK_API_URL });
      const ack = async () => {
        if ("ack" in args && typeof args.ack === "function") await args.ack();
      };
      if (refusal) {
        auditRefusal(log, refusal, partiesOf(body));
        return ack();
      }
      if (!(await firstDelivery(remember, body, Date.now()))) {
        log.info({ audit: "event_retry" }, "event already handled");
        return ack();
      }
      await args.next();
    });
  // Installed from the link: the services' client answers with this installation's token.
  if (link)
    app.use(async (args) => {
      const { botToken, teamId, enterpriseId, isEnterpriseInstall } = args.context;
      if (!botToken) return args.next();
      const id = (isEnterpriseInstall ? enterpriseId : teamId) ?? teamId ?? "";
      await link.workspaces.withToken(id, botToken, () => args.next(), teamId);
    });
  app.error(async (err) => {
    log.error({ err: safeErrorMessage(err) }, "slack app error");
  });
  registerListeners(app, { surfaces, log, uploads, nudges: deps.nudges });
  if (link) {
    const uninstall = handleUninstall({ uninstalls: link.service, log });
    app.event("app_uninstalled", uninstall);
    app.event("tokens_revoked", uninstall);
  }

  if (socketMode) {
    let timer: NodeJS.Timeout | undefined;
    const tooLong = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new SlackSetupError(
              `Socket Mode did not connect within ${SOCKET_START_TIMEOUT_MS / 1000} s at ${config.SLACK_API_URL}; serve stops instead of running unreachable.`,
            ),
          ),
        SOCKET_START_TIMEOUT_MS,
      );
    });
    try {
      await Promise.race([checkAppToken(config, log).then(() => app.start()), tooLong]);
    } catch (err) {
      await withTimeout(
        app.stop().catch(() => {}),
        STOP_TIMEOUT_MS,
      );
      opsServer?.closeAllConnections();
      opsServer?.close();
      throw err;
    } finally {
      clearTimeout(timer);
    }
  } else {
    const server = (await app
      .start(config.HTTP_HOST ? { port: config.PORT, host: config.HTTP_HOST } : config.PORT, SERVER_TIMEOUTS)
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
