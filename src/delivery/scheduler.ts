import cron, { type ScheduledTask } from "node-cron";
import type { Config } from "../config.js";
import type { Period } from "../domain/periods.js";
import type { Millis } from "../domain/types.js";
import { safeErrorMessage } from "../errors.js";
import type { Logger } from "../logger.js";
import type { DeliveryService, RunSummary } from "./delivery-service.js";

const MINUTE = 60_000;

/** The first minute in the period at which the cron expression fires (in `zone`), or null. */
export function firstTickIn(period: Period, expression: string, zone: string): Millis | null {
  const task = cron.createTask(expression, () => {}, { timezone: zone });
  try {
    for (let t = Math.ceil(period.start / MINUTE) * MINUTE; t < period.end; t += MINUTE)
      if (task.match(new Date(t))) return t;
    return null;
  } finally {
    void task.destroy();
  }
}

export interface Scheduler {
  /** Resolves when the start-up catch-up (if any) is done. */
  ready: Promise<RunSummary | null>;
  tick(): Promise<RunSummary | null>;
  stop(): Promise<void>;
}

/**
 * Ticks on REPORT_SCHEDULE in REPORT_TIMEZONE; a tick delivers its period unless that period is done.
 * At start, a period whose first tick has passed undelivered is delivered at once. Runs never overlap
 * within a process; across processes the ledger's claims keep each delivery single.
 */
export function startScheduler(deps: {
  config: Pick<Config, "REPORT_SCHEDULE" | "REPORT_TIMEZONE">;
  delivery: DeliveryService;
  log: Logger;
  now?: () => number;
}): Scheduler {
  const { config, delivery, log } = deps;
  const now = deps.now ?? Date.now;
  let running: Promise<RunSummary | null> | null = null;
  const shutdown = new AbortController();

  const tick = (): Promise<RunSummary | null> => {
    if (running) return running;
    running = delivery
      .deliverPeriod({ asOf: now(), onlyIfIncomplete: true, signal: shutdown.signal })
      .then((s) => {
        if (!s.skipped)
          log.info(
            { period: s.period.id, delivered: s.deliveredNow, left: s.left, interrupted: s.interrupted },
            "scheduled delivery done",
          );
        return s;
      })
      .catch((err) => {
        log.error(
          { err: safeErrorMessage(err) },
          "scheduled delivery failed; the next tick or a restart will finish it",
        );
        return null;
      })
      .finally(() => {
        running = null;
      });
    return running;
  };

  if (config.REPORT_SCHEDULE === "off") {
    log.info("REPORT_SCHEDULE=off: no scheduled deliveries");
    return {
      ready: Promise.resolve(null),
      tick,
      async stop() {
        shutdown.abort();
        await running;
      },
    };
  }

  const task: ScheduledTask = cron.schedule(config.REPORT_SCHEDULE, () => tick(), {
    timezone: config.REPORT_TIMEZONE,
    name: "mentorship-report",
    noOverlap: true,
  });
  const period = delivery.periodOf(now());
  const first = firstTickIn(period, config.REPORT_SCHEDULE, config.REPORT_TIMEZONE);
  const ready =
    first !== null && first <= now()
      ? (log.info({ period: period.id }, "catch-up: this period's first tick has passed"), tick())
      : Promise.resolve(null);

  return {
    ready,
    tick,
    /** Stops ticking, and has a running delivery let go of its rows so another instance (or the next start) takes them. */
    async stop() {
      await task.stop();
      await task.destroy();
      shutdown.abort();
      await running;
    },
  };
}
