import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger as BoltLogger } from "@slack/bolt";
import oauth, { type Installation, type InstallationStore, type StateStore } from "@slack/oauth";
import type { Config } from "../config.js";
import { BOT_SCOPES, INSTALL_PATH, OAUTH_REDIRECT_PATH } from "../ids.js";
import type { Logger } from "../logger.js";

const { ClearStateStore, InstallProvider, InvalidStateError } = oauth;

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
/** How long an install link's state is good for: the time to click through Slack's consent page. */
const STATE_SECONDS = 600;

/**
 * A state is signed (Bolt's ClearStateStore, with SLACK_STATE_SECRET) and works once: a second
 * redirect with the same state, on any instance sharing the database, is refused.
 */
function onceOnlyStateStore(
  secret: string,
  remember: (key: string, forgetAfter: number, now: number) => Promise<boolean>,
): StateStore {
  const signed = new ClearStateStore(secret, STATE_SECONDS);
  return {
    generateStateParam: (options, now) => signed.generateStateParam(options, now),
    async verifyStateParam(now, state) {
      const options = await signed.verifyStateParam(now, state);
      const key = `state:${createHash("sha256").update(state).digest("hex")}`;
      if (!(await remember(key, now.getTime() + 2 * STATE_SECONDS * 1000, now.getTime())))
        throw new InvalidStateError("The install link was already used.");
      return options;
    },
  };
}

/** Slack's authorize page; with the emulator (SLACK_API_URL elsewhere), the emulator's. */
export function authorizeUrlOf(config: Pick<Config, "SLACK_API_URL">): string {
  const api = new URL(config.SLACK_API_URL);
  return api.hostname === "slack.com" ? "https://slack.com/oauth/v2/authorize" : `${api.origin}/oauth/v2/authorize`;
}

/** Where Slack sends the installer back: this server, as the installer's browser reached it. */
function redirectUriOf(req: IncomingMessage): string {
  const forwarded = String(req.headers["x-forwarded-proto"] ?? "")
    .split(",")[0]
    ?.trim();
  const proto =
    forwarded === "https" || forwarded === "http" ? forwarded : "encrypted" in req.socket ? "https" : "http";
  return new URL(OAUTH_REDIRECT_PATH, `${proto}://${req.headers.host ?? "localhost"}`).href;
}

function page(res: ServerResponse, status: number, title: string, body: string, refreshTo?: string) {
  const refresh = refreshTo ? `<meta http-equiv="refresh" content="2; URL=${esc(refreshTo)}">` : "";
  res.writeHead(status, { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" });
  res.end(
    `<!doctype html><html><head><meta charset="utf-8">${refresh}<title>${esc(title)}</title></head>` +
      `<body><h1>${esc(title)}</h1>${body}</body></html>`,
  );
}

/** The page after an install: which workspace or org, and for an org, on to adding the app to its workspaces. */
export function installedPage(res: ServerResponse, installation: Installation): void {
  if (installation.isEnterpriseInstall && installation.enterprise) {
    const name = installation.enterprise.name ?? installation.enterprise.id;
    // Slack's page for choosing the org's workspaces the app is added to.
    const next = `${installation.enterpriseUrl ?? "https://app.slack.com/"}manage/organization/apps/profile/${installation.appId ?? ""}/workspaces/add`;
    page(
      res,
      200,
      `Installed in the org ${name}`,
      `<p>Mentorship Reports is installed org-wide in ${esc(name)}. Next, choose the workspaces it is added to: ` +
        `<a href="${esc(next)}">add it to workspaces</a>.</p>`,
      next,
    );
    return;
  }
  const name = installation.team?.name ?? installation.team?.id ?? "the workspace";
  page(res, 200, `Installed in ${name}`, `<p>Mentorship Reports is installed in the workspace ${esc(name)}.</p>`);
}

/**
 * Bolt's installer (@slack/oauth) behind GET /slack/install and GET /slack/oauth_redirect (§16): a
 * 302 to Slack's authorize page with the bot scopes and a signed state (also set as a cookie, so the
 * redirect must come back to the same browser), then oauth.v2.access and the installation stored.
 */
export function createInstaller(deps: {
  config: Pick<Config, "SLACK_CLIENT_ID" | "SLACK_CLIENT_SECRET" | "SLACK_STATE_SECRET" | "SLACK_API_URL">;
  installations: InstallationStore;
  remember: (key: string, forgetAfter: number, now: number) => Promise<boolean>;
  log: Logger;
  logger: BoltLogger;
  onInstalled?: (installation: Installation) => Promise<void>;
}) {
  const { config, log } = deps;
  const provider = new InstallProvider({
    clientId: config.SLACK_CLIENT_ID!,
    clientSecret: config.SLACK_CLIENT_SECRET!,
    installationStore: deps.installations,
    stateStore: onceOnlyStateStore(config.SLACK_STATE_SECRET!, deps.remember),
    stateCookieExpirationSeconds: STATE_SECONDS,
    authorizationUrl: authorizeUrlOf(config),
    directInstall: true,
    clientOptions: { slackApiUrl: config.SLACK_API_URL },
    logger: deps.logger,
  });

  const install = (req: IncomingMessage, res: ServerResponse) =>
    provider
      .handleInstallPath(req, res, undefined, { scopes: [...BOT_SCOPES], redirectUri: redirectUriOf(req) })
      .catch((err: unknown) => {
        log.error({ err: err instanceof Error ? err.message : String(err) }, "install link failed");
        if (!res.headersSent) page(res, 500, "The install link failed", "<p>Try again in a minute.</p>");
      });

  const redirect = (req: IncomingMessage, res: ServerResponse) =>
    provider.handleCallback(req, res, {
      successAsync: async (installation) => {
        const where = installation.isEnterpriseInstall
          ? { enterprise: installation.enterprise?.id }
          : { team: installation.team?.id, enterprise: installation.enterprise?.id };
        log.info({ audit: "installed", ...where, orgWide: !!installation.isEnterpriseInstall }, "installed");
        await deps.onInstalled?.(installation);
        installedPage(res, installation);
      },
      failure: (error, _options, _req, r) => {
        log.warn({ audit: "install_refused", reason: error.code }, "install refused");
        page(
          r,
          error.code === "slack_oauth_invalid_state" || error.code === "slack_oauth_missing_state" ? 400 : 502,
          "The app was not installed",
          "<p>The install link expired, was already used, or was not opened in this browser. " +
            `<a href="${esc(INSTALL_PATH)}">Start again</a>.</p>`,
        );
      },
    });

  return {
    routes: [
      { path: INSTALL_PATH, handler: install },
      { path: OAUTH_REDIRECT_PATH, handler: redirect },
    ],
  };
}
