import { createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders, IncomingMessage, RequestListener, ServerResponse } from "node:http";
import { EVENTS_PATH } from "../ids.js";
import type { Logger } from "../logger.js";
import { metrics } from "../metrics.js";

export type Refusal = "signature" | "stale" | "replay" | "team" | "response_url";

/** Slack's window for a request's timestamp, either way (clocks drift both ways). */
const WINDOW_SECONDS = 300;

/** Who sent a request and with which command, for the audit line; never its text. */
export interface RequestParties {
  teamId?: string;
  userId?: string;
  command?: string;
}

/** The team, user and command of a Slack request body: a form (commands, interactions) or JSON (events). */
export function partiesOf(rawBody: string, contentType: string | undefined): RequestParties {
  type Shape = {
    team_id?: string;
    team?: { id?: string };
    user_id?: string;
    user?: { id?: string } | string;
    command?: string;
    event?: { user?: string };
  };
  let body: Shape = {};
  try {
    if ((contentType ?? "").includes("application/json")) body = JSON.parse(rawBody) as Shape;
    else {
      const form = new URLSearchParams(rawBody);
      const payload = form.get("payload");
      body = payload ? (JSON.parse(payload) as Shape) : (Object.fromEntries(form) as Shape);
    }
  } catch {
    return {};
  }
  const user = typeof body.user === "string" ? body.user : body.user?.id;
  return {
    teamId: body.team_id ?? body.team?.id,
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

/**
 * Checks a request from Slack before Bolt sees it: the signature, a timestamp within five minutes
 * either way (Bolt only refuses old ones), a signature not seen before (a replay within the window
 * would pass both), and the workspace the token belongs to.
 */
export function createRequestGuard(opts: {
  signingSecret: string;
  teamId: string;
  now?: () => number;
  /** True the first time a signature is seen; shared through the database when several instances serve. */
  remember?: (signature: string, forgetAfter: number, now: number) => Promise<boolean>;
}) {
  const now = opts.now ?? Date.now;
  const remember = opts.remember ?? rememberInProcess();

  async function check(headers: IncomingHttpHeaders, rawBody: string): Promise<Refusal | null> {
    const ts = Number(headers["x-slack-request-timestamp"]);
    const signature = headers["x-slack-signature"];
    if (typeof signature !== "string" || !Number.isInteger(ts)) return "signature";
    const at = now();
    if (Math.abs(at / 1000 - ts) > WINDOW_SECONDS) return "stale";
    const expected = `v0=${createHmac("sha256", opts.signingSecret).update(`v0:${ts}:${rawBody}`).digest("hex")}`;
    const a = Buffer.from(signature);
    const b = Buffer.from(expected);
    if (a.length !== b.length || !timingSafeEqual(a, b)) return "signature";
    // Past twice the window a replay is stale anyway, so the signature can be forgotten.
    if (!(await remember(signature, at + 2 * WINDOW_SECONDS * 1000, at))) return "replay";
    const team = partiesOf(rawBody, headers["content-type"]).teamId;
    if (team !== undefined && team !== opts.teamId) return "team";
    return null;
  }

  /**
   * Wraps Bolt's request listener: refused requests get 401 at once and one audit line. `buffer` reads
   * the body the way Bolt's listener expects to be handed it (Bolt's own helper, passed in by app.ts).
   */
  function wrap(
    listener: RequestListener,
    log: Logger,
    buffer: (req: IncomingMessage) => Promise<IncomingMessage & { rawBody: Buffer }>,
  ): RequestListener {
    return (req: IncomingMessage, res: ServerResponse) => {
      const path = new URL(req.url ?? "/", "http://localhost").pathname;
      if (req.method !== "POST" || path !== EVENTS_PATH) return listener(req, res);
      buffer(req)
        .then(async (buffered) => {
          const raw = buffered.rawBody.toString();
          // Slack's SSL check carries no signature; Bolt answers it and drops anything else in it.
          if (new URLSearchParams(raw).get("ssl_check") === "1") return listener(buffered, res);
          const refusal = await check(req.headers, raw);
          if (refusal) {
            auditRefusal(log, refusal, partiesOf(raw, req.headers["content-type"]));
            res.writeHead(401).end();
            return;
          }
          // Bolt checks the signature again on the same buffered body, and then dispatches.
          listener(buffered, res);
        })
        .catch(() => {
          if (!res.headersSent) res.writeHead(400).end();
        });
    };
  }

  return { check, wrap };
}

/** Signatures seen by this process alone: enough for one instance. */
function rememberInProcess() {
  const seen = new Map<string, number>();
  return async (signature: string, forgetAfter: number, at: number): Promise<boolean> => {
    for (const [sig, until] of seen) {
      if (until > at) break;
      seen.delete(sig);
    }
    if (seen.has(signature)) return false;
    seen.set(signature, forgetAfter);
    return true;
  };
}

/** Where a slash command's answer may go: Slack's hooks, or the origin of SLACK_API_URL (the emulator). */
export function responseUrlAllowed(url: string | undefined, slackApiUrl: string): boolean {
  if (!url || !URL.canParse(url)) return false;
  const u = new URL(url);
  if (u.origin === new URL(slackApiUrl).origin) return true;
  return u.protocol === "https:" && u.hostname === "hooks.slack.com" && !u.port && !u.username && !u.password;
}
