import { createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders, IncomingMessage, RequestListener, ServerResponse } from "node:http";
import { EVENTS_PATH } from "../ids.js";
import type { Logger } from "../logger.js";
import { metrics } from "../metrics.js";

export type Refusal = "signature" | "stale" | "replay" | "team" | "response_url" | "too_large";

/** Slack's window for a request's timestamp, either way (clocks drift both ways). */
const WINDOW_SECONDS = 300;

/** Who sent a request and with which command, for the audit line; never its text. */
export interface RequestParties {
  teamId?: string;
  userId?: string;
  command?: string;
}

/** The fields of a Slack request the gate looks at: a slash command's form, an interaction's payload or an event. */
export interface SlackPayload {
  type?: string;
  team_id?: string;
  team?: { id?: string; enterprise_id?: string } | null;
  user_id?: string;
  user?: { id?: string; team_id?: string } | string;
  view?: { team_id?: string } | null;
  enterprise_id?: string;
  enterprise?: { id?: string } | null;
  authorizations?: Array<{ team_id?: string | null; enterprise_id?: string | null }>;
  command?: string;
  event_id?: string;
  event?: { user?: string; team?: string; user_team?: string };
  response_url?: string;
  response_urls?: Array<{ response_url?: string }>;
}

/** A Slack request body as an object: a form (commands), a form with a JSON `payload` (interactions) or JSON (events). */
export function payloadOf(rawBody: string, contentType: string | undefined): SlackPayload | null {
  try {
    if ((contentType ?? "").includes("application/json")) return JSON.parse(rawBody) as SlackPayload;
    const form = new URLSearchParams(rawBody);
    const payload = form.get("payload");
    return payload ? (JSON.parse(payload) as SlackPayload) : (Object.fromEntries(form) as SlackPayload);
  } catch {
    return null;
  }
}

/** The team, user and command of a Slack request, for the audit line. */
export function partiesOf(body: SlackPayload | null): RequestParties {
  if (!body || typeof body !== "object") return {};
  const user = typeof body.user === "string" ? body.user : body.user?.id;
  return {
    teamId: body.team_id ?? body.team?.id ?? (typeof body.user === "object" ? body.user.team_id : undefined),
    userId: body.user_id ?? user ?? body.event?.user,
    command: body.command,
  };
}

/** One line per refused request: who, what and why, never the request's content. */
export function auditRefusal(log: Logger, reason: Refusal, parties: RequestParties): void {
  metrics.refused(reason);
  log.warn(
    { audit: "refused", reason, user: parties.userId, team: parties.teamId, command: parties.command },
    "request refused",
  );
}

/** Whether a team (of an organisation) is served: the token's workspace, or any installed one (§16). */
export type IsServedTeam = (teamId: string, enterpriseId: string | undefined) => boolean | Promise<boolean>;

/** The workspace (and its Enterprise Grid organisation, if any) the bot token belongs to. */
export interface ServedWorkspace {
  teamId: string;
  enterpriseId?: string;
}

/**
 * Whether requests naming this team (and organisation) are ours to serve, with SLACK_BOT_TOKEN: the
 * token's own workspace only. Installed from the link, app.ts asks the installations instead (§16).
 */
export function servedTeams(served: ServedWorkspace) {
  return (teamId: string, enterpriseId: string | undefined): boolean =>
    teamId === served.teamId && (enterpriseId === undefined || enterpriseId === served.enterpriseId);
}

const text = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/**
 * Every team and organisation a payload names, wherever Slack may put them: a payload naming ours in
 * one place and another team in a place we did not look would otherwise pass.
 */
export function teamsNamedBy(body: SlackPayload): { teams: Set<string>; enterprises: Set<string> } {
  const user = typeof body.user === "object" && body.user ? body.user : undefined;
  const teams = [
    body.team_id,
    body.team?.id,
    user?.team_id,
    body.view?.team_id,
    body.event?.team,
    body.event?.user_team,
    ...(Array.isArray(body.authorizations) ? body.authorizations.map((a) => a?.team_id) : []),
  ];
  const enterprises = [
    body.enterprise_id,
    body.enterprise?.id,
    body.team?.enterprise_id,
    ...(Array.isArray(body.authorizations) ? body.authorizations.map((a) => a?.enterprise_id) : []),
  ];
  const set = (vs: unknown[]) => new Set(vs.map(text).filter((v): v is string => v !== undefined));
  return { teams: set(teams), enterprises: set(enterprises) };
}

/**
 * The checks on what a request says, the same over HTTP and Socket Mode: every team it names is one we
 * serve (a request naming none is refused, Slack always names one), and every response_url in it
 * points at Slack. Slack's URL verification names no team and carries nothing to act on.
 */
export async function judgePayload(
  body: SlackPayload | null,
  opts: { isServedTeam: IsServedTeam; slackApiUrl: string },
): Promise<Refusal | null> {
  if (!body || typeof body !== "object") return "team";
  if (body.type === "url_verification") return null;
  const { teams, enterprises } = teamsNamedBy(body);
  if (teams.size === 0 || enterprises.size > 1) return "team";
  const enterprise = [...enterprises][0];
  for (const team of teams) if (!(await opts.isServedTeam(team, enterprise))) return "team";
  const urls = [
    body.response_url,
    ...(Array.isArray(body.response_urls) ? body.response_urls.map((r) => r?.response_url) : []),
  ].filter((u) => u !== undefined);
  for (const url of urls) if (!responseUrlAllowed(url, opts.slackApiUrl)) return "response_url";
  return null;
}

/** Slack retries an event it thinks we missed; the event's id is remembered this long. */
const EVENT_MEMORY_MS = 60 * 60 * 1000;

/** True the first time a key is seen; shared through the database when several instances serve. */
export type Remember = (key: string, forgetAfter: number, now: number) => Promise<boolean>;

/** True the first time an event is delivered (Slack retries with the same event_id). */
export function firstDelivery(remember: Remember, body: SlackPayload, at: number): Promise<boolean> {
  const id = text(body.event_id);
  if (!id) return Promise.resolve(true);
  return remember(`event:${id.slice(0, 70)}`, at + EVENT_MEMORY_MS, at);
}

/** The largest request Slack sends us is far below this; anything bigger is refused unread. */
export const BODY_LIMIT_BYTES = 1024 * 1024;

/**
 * Checks a request from Slack before Bolt sees it: the signature, a timestamp within five minutes
 * either way (Bolt only refuses old ones), a signature not seen before (a replay within the window
 * would pass both), then what the payload says (judgePayload) and whether its event was handled already.
 */
export function createRequestGuard(opts: {
  signingSecret: string;
  isServedTeam: IsServedTeam;
  slackApiUrl: string;
  now?: () => number;
  remember?: Remember;
}) {
  const now = opts.now ?? Date.now;
  const remember = opts.remember ?? rememberInProcess();

  /** What the headers alone tell: refused before a byte of the body is read. */
  function checkHeaders(headers: IncomingHttpHeaders): Refusal | null {
    const ts = Number(headers["x-slack-request-timestamp"]);
    if (typeof headers["x-slack-signature"] !== "string" || !Number.isInteger(ts)) return "signature";
    if (Math.abs(now() / 1000 - ts) > WINDOW_SECONDS) return "stale";
    const length = Number(headers["content-length"] ?? 0);
    if (length > BODY_LIMIT_BYTES) return "too_large";
    return null;
  }

  async function check(headers: IncomingHttpHeaders, rawBody: string): Promise<Refusal | "duplicate" | null> {
    const early = checkHeaders(headers);
    if (early) return early;
    const ts = Number(headers["x-slack-request-timestamp"]);
    const signature = String(headers["x-slack-signature"]);
    const expected = `v0=${createHmac("sha256", opts.signingSecret).update(`v0:${ts}:${rawBody}`).digest("hex")}`;
    const a = Buffer.from(signature);
    const b = Buffer.from(expected);
    if (a.length !== b.length || !timingSafeEqual(a, b)) return "signature";
    const at = now();
    // Past twice the window a replay is stale anyway, so the signature can be forgotten.
    if (!(await remember(signature, at + 2 * WINDOW_SECONDS * 1000, at))) return "replay";
    const body = payloadOf(rawBody, headers["content-type"]);
    const refusal = await judgePayload(body, opts);
    if (refusal) return refusal;
    if (body && !(await firstDelivery(remember, body, at))) return "duplicate";
    return null;
  }

  /**
   * Wraps Bolt's request listener: refused requests get 401 (413 when too large) at once and one audit
   * line; a response_url elsewhere gets an empty 200 (Slack shows nothing) and a retried event an empty
   * 200 (handled once). `buffer` reads the body the way Bolt's listener expects to be handed it (Bolt's
   * own helper, passed in by app.ts) and stops reading past `BODY_LIMIT_BYTES`.
   */
  function wrap(
    listener: RequestListener,
    log: Logger,
    buffer: (req: IncomingMessage, limit: number) => Promise<IncomingMessage & { rawBody: Buffer }>,
  ): RequestListener {
    // Connection: close, so the unread body is never drained or buffered: the socket just goes.
    const refuse = (res: ServerResponse, status: number) => res.writeHead(status, { Connection: "close" }).end();
    return (req: IncomingMessage, res: ServerResponse) => {
      const path = new URL(req.url ?? "/", "http://localhost").pathname;
      if (req.method !== "POST" || path !== EVENTS_PATH) return listener(req, res);
      const unsigned = req.headers["x-slack-signature"] === undefined;
      const early = checkHeaders(req.headers);
      // Slack's SSL check may come unsigned: a few bytes are read to know it, never more.
      const sslCheck = unsigned && Number(req.headers["content-length"] ?? Number.POSITIVE_INFINITY) <= SSL_CHECK_BYTES;
      if (early && !sslCheck) {
        auditRefusal(log, early, {});
        return refuse(res, early === "too_large" ? 413 : 401);
      }
      buffer(req, sslCheck ? SSL_CHECK_BYTES : BODY_LIMIT_BYTES)
        .then(async (buffered) => {
          const raw = buffered.rawBody.toString();
          // Bolt answers the SSL check and drops anything else in it.
          if (new URLSearchParams(raw).get("ssl_check") === "1") return listener(buffered, res);
          const refusal = await check(req.headers, raw);
          if (refusal === "duplicate") {
            log.info({ audit: "event_retry" }, "event already handled");
            res.writeHead(200).end();
            return;
          }
          if (refusal) {
            auditRefusal(log, refusal, partiesOf(payloadOf(raw, req.headers["content-type"])));
            if (refusal === "response_url") res.writeHead(200).end();
            else refuse(res, 401);
            return;
          }
          // Bolt checks the signature again on the same buffered body, and then dispatches.
          listener(buffered, res);
        })
        .catch((err: unknown) => {
          const tooLarge = (err as { type?: string } | null)?.type === "entity.too.large";
          if (tooLarge) auditRefusal(log, "too_large", {});
          if (!res.headersSent) refuse(res, tooLarge ? 413 : 400);
        });
    };
  }

  return { check, wrap };
}

/** `ssl_check=1&token=…`: Slack's SSL check is this small. */
const SSL_CHECK_BYTES = 256;

/**
 * Keys seen by this process alone: enough for one instance (SQLite), and never waiting on a database
 * an import may be holding.
 */
export function rememberInProcess(): Remember {
  // One map per lifetime (signatures, events): in each, insertion order is expiry order.
  const byLifetime = new Map<number, Map<string, number>>();
  return async (key: string, forgetAfter: number, at: number): Promise<boolean> => {
    for (const seen of byLifetime.values())
      for (const [k, until] of seen) {
        if (until > at) break;
        seen.delete(k);
      }
    for (const seen of byLifetime.values()) if (seen.has(key)) return false;
    const lifetime = forgetAfter - at;
    const seen = byLifetime.get(lifetime) ?? new Map<string, number>();
    byLifetime.set(lifetime, seen.set(key, forgetAfter));
    return true;
  };
}

/** Where a response_url may point: Slack's hooks, or the origin of SLACK_API_URL (the emulator). */
export function responseUrlAllowed(url: unknown, slackApiUrl: string): boolean {
  if (typeof url !== "string" || !URL.canParse(url)) return false;
  const u = new URL(url);
  if (u.origin === new URL(slackApiUrl).origin) return true;
  return u.protocol === "https:" && u.hostname === "hooks.slack.com" && !u.port && !u.username && !u.password;
}
