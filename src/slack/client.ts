import { ErrorCode, LogLevel, WebClient, type WebClientOptions } from "@slack/web-api";
import { type Config, isPlaceholder } from "../config.js";
import { AppError, safeErrorMessage } from "../errors.js";
import { metrics } from "../metrics.js";
import { scopedToken } from "./installation-scope.js";

export class SlackSetupError extends AppError {
  readonly code = "SLACK_SETUP";
  override readonly exitCode = 2;
}

/**
 * A Web API client that leaves pacing and retries to us: it rejects a 429 instead of pausing its
 * whole queue, and never retries a post by itself (a retried post after a lost response would be a
 * duplicate; we check Slack first).
 */
export function createSlackClient(
  config: Pick<Config, "SLACK_BOT_TOKEN" | "SLACK_API_URL">,
  opts: { concurrency?: number } = {},
): WebClient {
  if (!config.SLACK_BOT_TOKEN)
    throw new SlackSetupError(
      'SLACK_BOT_TOKEN is not set: it is needed to talk to Slack (see README, "Install in Slack").',
    );
  refusePlaceholders(config);
  return clientWithToken(config.SLACK_BOT_TOKEN, config, opts);
}

/** The same client for any token: an installation's (§16), or SLACK_BOT_TOKEN's. */
export function clientWithToken(
  token: string | undefined,
  config: Pick<Config, "SLACK_API_URL">,
  opts: { concurrency?: number } = {},
): WebClient {
  return new CountedWebClient(token, {
    slackApiUrl: config.SLACK_API_URL,
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 0 },
    maxRequestConcurrency: opts.concurrency ?? 10,
    timeout: 30_000,
    logLevel: LogLevel.ERROR,
  });
}

/** Stops a command that would talk to Slack with a value still copied from `.env.example`. */
export function refusePlaceholders(
  config: Partial<Pick<Config, "SLACK_BOT_TOKEN" | "SLACK_SIGNING_SECRET" | "SLACK_APP_TOKEN">>,
): void {
  const names = (["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"] as const).filter((n) =>
    isPlaceholder(config[n]),
  );
  if (names.length)
    throw new SlackSetupError(
      `${names.join(", ")} ${names.length === 1 ? "is" : "are"} still the placeholder from .env.example: copy the real value from the app's settings at api.slack.com/apps.`,
    );
}

/** Counts every call by method and outcome for /metrics; what the caller sees is unchanged. */
class CountedWebClient extends WebClient {
  constructor(token: string | undefined, options: WebClientOptions) {
    super(token, options);
  }

  override async apiCall(method: string, options?: Record<string, unknown>) {
    try {
      const result = await super.apiCall(method, options);
      metrics.slackCall(method, "ok");
      return result;
    } catch (err) {
      metrics.slackCall(method, classify(err).kind);
      throw err;
    }
  }
}

/**
 * Whether a URL may carry the bot token: Slack's own hosts, or the origin of SLACK_API_URL (the
 * emulator, a proxy the operator chose). A file URL in an event can't send the token elsewhere.
 */
export function tokenMayGoTo(url: string, config: Pick<Config, "SLACK_API_URL">): boolean {
  if (!URL.canParse(url)) return false;
  const u = new URL(url);
  if (u.origin === new URL(config.SLACK_API_URL).origin) return true;
  return u.protocol === "https:" && (u.hostname === "slack.com" || u.hostname === "files.slack.com") && !u.port;
}

/** GETs a Slack file (`url_private`) with the bot token, refusing any other host (spec §14). */
export async function fetchSlackFile(
  url: string,
  config: Pick<Config, "SLACK_BOT_TOKEN" | "SLACK_API_URL">,
  init: { signal?: AbortSignal } = {},
): Promise<Response> {
  if (!tokenMayGoTo(url, config)) throw new SlackSetupError(`refusing to send the bot token to ${new URL(url).host}`);
  // Installed from the link: the token of the installation the file was shared in.
  const token = config.SLACK_BOT_TOKEN ?? scopedToken();
  // Redirects are followed by hand: each hop must pass the same check before the token goes along.
  let target = url;
  for (let hop = 0; hop < 5; hop++) {
    const res = await fetch(target, {
      headers: { Authorization: `Bearer ${token}` },
      redirect: "manual",
      signal: init.signal,
    });
    const next = res.status >= 300 && res.status < 400 ? res.headers.get("location") : null;
    if (!next) return res;
    target = new URL(next, target).href;
    if (!tokenMayGoTo(target, config))
      throw new SlackSetupError(`refusing to follow a redirect with the bot token to ${new URL(target).host}`);
  }
  throw new SlackSetupError("too many redirects fetching a Slack file");
}

export type Outcome =
  | { kind: "ratelimited"; retryAfterMs: number }
  /** The call may or may not have taken effect (5xx, a lost connection, a timeout). */
  | { kind: "transient"; reason: string }
  /** Slack said no for this recipient; trying again will not help. */
  | { kind: "permanent"; reason: string }
  /** Slack said no for every call (bad token, revoked app): stop the run. */
  | { kind: "fatal"; reason: string };

const FATAL = new Set([
  "invalid_auth",
  "not_authed",
  "account_inactive",
  "token_revoked",
  "token_expired",
  "no_permission",
  "missing_scope",
  "team_access_not_granted",
  "org_login_required",
  "ekm_access_denied",
]);
const TRANSIENT = new Set(["internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited"]);

export function classify(err: unknown): Outcome {
  const e = err as {
    code?: string;
    retryAfter?: number;
    statusCode?: number;
    data?: { error?: string };
    message?: string;
  };
  switch (e?.code) {
    case ErrorCode.RateLimitedError:
      return { kind: "ratelimited", retryAfterMs: Math.max(1, e.retryAfter ?? 1) * 1000 };
    case ErrorCode.HTTPError:
      return { kind: "transient", reason: `http_${e.statusCode}` };
    case ErrorCode.RequestError:
      return { kind: "transient", reason: "unreachable" };
    case ErrorCode.PlatformError: {
      const reason = e.data?.error ?? "unknown_error";
      // Slack's error codes are snake_case words. Anything else is a body the SDK could not read as
      // JSON (a proxy's HTML error page with status 200): the call may have taken effect.
      if (!/^[a-z0-9_.]{1,100}$/.test(reason)) return { kind: "transient", reason: "invalid_response" };
      if (FATAL.has(reason)) return { kind: "fatal", reason };
      if (TRANSIENT.has(reason)) return { kind: "transient", reason };
      return { kind: "permanent", reason };
    }
    default:
      return { kind: "transient", reason: safeErrorMessage(err) };
  }
}
