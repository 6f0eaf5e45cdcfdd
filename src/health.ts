import type { WebClient } from "@slack/web-api";
import { type DatabaseHealth, type Db, pingDatabase } from "./db/knex.js";
import { classify } from "./slack/client.js";

export interface HealthReport {
  /** The database answers: what a restart could fix. Slack's state is reported, not judged. */
  ok: boolean;
  database: DatabaseHealth;
  slack: "ok" | "unreachable" | "refused" | "timeout";
  [k: string]: unknown;
}

/**
 * What /healthz says: whether the database and Slack answer, each within a bound, with no error
 * text (it may name a host, a file or a query). Slack is asked at most every `slackEveryMs`, so a
 * probe every few seconds does not become a stream of auth.test calls.
 */
export function createHealthCheck(deps: {
  db: Db;
  slack: WebClient;
  extra?: Record<string, unknown>;
  timeoutMs?: number;
  slackEveryMs?: number;
  /** Installed from the link there is no one token to check: whether Slack answers at all (api.test). */
  tokenless?: boolean;
}) {
  const timeoutMs = deps.timeoutMs ?? 2000;
  const slackEveryMs = deps.slackEveryMs ?? 15_000;
  let slackState: { at: number; value: HealthReport["slack"] } | null = null;

  async function slackAnswer(): Promise<HealthReport["slack"]> {
    if (slackState && Date.now() - slackState.at < slackEveryMs) return slackState.value;
    let timer: NodeJS.Timeout | undefined;
    const value = await Promise.race([
      (deps.tokenless ? deps.slack.api.test() : deps.slack.auth.test()).then(
        () => "ok" as const,
        (err) => {
          const kind = classify(err).kind;
          return kind === "fatal" || kind === "permanent" ? ("refused" as const) : ("unreachable" as const);
        },
      ),
      new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
    slackState = { at: Date.now(), value };
    return value;
  }

  return async (): Promise<HealthReport> => {
    const [database, slack] = await Promise.all([pingDatabase(deps.db, timeoutMs), slackAnswer()]);
    return { ok: database === "ok", database, slack, ...deps.extra };
  };
}
