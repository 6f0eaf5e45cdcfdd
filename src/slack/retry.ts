import type { Logger } from "../logger.js";
import { classify, type Outcome } from "./client.js";

export class SlackCallError extends Error {
  constructor(
    readonly method: string,
    readonly outcome: Outcome,
  ) {
    super(`${method}: ${"reason" in outcome ? outcome.reason : "ratelimited"}`);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** 429s a read waits out in total before it is given up (thrown as `ratelimited`). */
export const MAX_READ_RATE_LIMIT_WAIT_MS = 5 * 60_000;

/**
 * Calls a read-only Slack method until it answers: a 429 waits out its Retry-After (up to
 * `maxWaitMs` in all), a transient error backs off (up to `tries`), a permanent or fatal answer is
 * thrown at once. Never use it for a post.
 */
export async function readWithRetry<T>(
  method: string,
  fn: () => Promise<T>,
  log: Logger,
  opts: { tries?: number; baseMs?: number; maxWaitMs?: number } = {},
): Promise<T> {
  const tries = opts.tries ?? 5;
  const baseMs = opts.baseMs ?? 250;
  let waited = 0;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const o = classify(err);
      if (o.kind === "ratelimited") {
        waited += o.retryAfterMs;
        if (waited > (opts.maxWaitMs ?? MAX_READ_RATE_LIMIT_WAIT_MS)) throw new SlackCallError(method, o);
        log.debug({ method, waitMs: o.retryAfterMs }, "rate limited; waiting");
        await sleep(o.retryAfterMs);
        attempt--;
        continue;
      }
      if (o.kind !== "transient" || attempt >= tries) throw new SlackCallError(method, o);
      await sleep(Math.min(8000, baseMs * 2 ** attempt));
    }
  }
}

/**
 * A write to Slack, tried again only after a 429 (which means it did not happen), at most `maxWaits`
 * times and never for a Retry-After past the read bound; anything else is thrown.
 */
export async function afterRateLimits<T>(fn: () => Promise<T>, maxWaits = 5): Promise<T> {
  for (let waits = 0; ; waits++) {
    try {
      return await fn();
    } catch (err) {
      const o = classify(err);
      if (o.kind !== "ratelimited" || waits >= maxWaits || o.retryAfterMs > MAX_READ_RATE_LIMIT_WAIT_MS) throw err;
      await sleep(o.retryAfterMs);
    }
  }
}
