import { ErrorCode, LogLevel, WebClient } from "@slack/web-api";
import type { Config } from "../config.js";
import { safeErrorMessage } from "../errors.js";

export class SlackSetupError extends Error {
  readonly code = "SLACK_SETUP";
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
  return new WebClient(config.SLACK_BOT_TOKEN, {
    slackApiUrl: config.SLACK_API_URL,
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 0 },
    maxRequestConcurrency: opts.concurrency ?? 10,
    timeout: 30_000,
    logLevel: LogLevel.ERROR,
  });
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
      if (FATAL.has(reason)) return { kind: "fatal", reason };
      if (TRANSIENT.has(reason)) return { kind: "transient", reason };
      return { kind: "permanent", reason };
    }
    default:
      return { kind: "transient", reason: safeErrorMessage(err) };
  }
}
