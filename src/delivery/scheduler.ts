import { randomUUID } from "node:crypto";
import cron, { type ScheduledTask } from "node-cron";
import { type Config, periodSettings } from "../config.js";
import type { Period } from "../domain/periods.js";
import type { Millis } from "../domain/types.js";
import { safeErrorMessage } from "../errors.js";
import type { Logger } from "../logger.js";
import type { Directory } from "../slack/directory.js";
import type { DeliveryService, RunSummary } from "./delivery-service.js";
import { periodsStartedBy } from "./waves.js";

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

/** Local time: how often the scheduler wakes to deliver the waves that came due (§12). */
const LOCAL_TICK = "* * * * *";
/** The directory is read afresh this long before a period's first possible wave, so that wave posts at once. */
export const DIRECTORY_LEAD_MS = 15 * MINUTE;

/**
 * REPORT_DELIVERY=fixed: ticks on REPORT_SCHEDULE in REPORT_TIMEZONE; a tick delivers its period unless
 * that period is done, and at start a period whose first tick has passed undelivered is delivered at once.
 * REPORT_DELIVERY=local: wakes every minute, refreshes the directory ahead of a period's first wave, and
 * delivers what is due by now; at start that is the catch-up. Runs never overlap within a process (a
 * wave Slack slows down finishes before the next starts); across processes the ledger's claims keep
 * each delivery single and the live claims share the workspace rate.
 */
export function startScheduler(deps: {
  config: Pick<
    Config,
    | "REPORT_SCHEDULE"
    | "REPORT_TIMEZONE"
    | "REPORT_DELIVERY"
    | "REPORT_LOCAL_TIME"
    | "REPORT_ANCHOR_DATE"
    | "REPORT_INTERVAL_WEEKS"
  >;
  delivery: Pick<DeliveryService, "deliverPeriod" | "deliverDue" | "periodOf">;
  directory?: Pick<Directory, "refreshOnceFor">;
  log: Logger;
  now?: () => number;
  instanceId?: string;
  /** After a run that left rows (Slack out of reach), the period is tried again this much later. */
  retryMs?: number;
}): Scheduler {
  const { config, delivery, log } = deps;
  const now = deps.now ?? Date.now;
  const local = config.REPORT_DELIVERY === "local";
  const instanceId = deps.instanceId ?? `${process.pid}-${randomUUID().slice(0, 8)}`;
  let running: Promise<RunSummary | null> | null = null;
  const shutdown = new AbortController();
  const refreshed = new Set<string>();
  const periods = periodSettings(config);

  /** Reads the directory afresh once per period, a little before the period's first possible wave. */
  async function refreshAhead(): Promise<void> {
    if (!deps.directory) return;
    for (const p of periodsStartedBy(now() + DIRECTORY_LEAD_MS, periods, config.REPORT_LOCAL_TIME)) {
      if (refreshed.has(p.id)) continue;
      try {
        await deps.directory.refreshOnceFor(p.id, instanceId);
        refreshed.add(p.id);
      } catch (err) {
        // The waves resolve their managers themselves; the next tick tries the refresh again.
        log.warn({ err: safeErrorMessage(err), period: p.id }, "directory refresh ahead of the first wave failed");
      }
    }
  }

  const run = async (): Promise<RunSummary | null> => {
    if (!local) return delivery.deliverPeriod({ asOf: now(), onlyIfIncomplete: true, signal: shutdown.signal });
    await refreshAhead();
    const runs = await delivery.deliverDue({ asOf: now(), signal: shutdown.signal });
    // The latest period that had something due speaks for the tick.
    return runs.filter((r) => !r.skipped).at(-1) ?? runs.at(-1) ?? null;
  };

  const retryMs = deps.retryMs ?? 5 * MINUTE;
  let retry: NodeJS.Timeout | null = null;
  /**
   * Fixed schedule: a period whose run left rows is tried again, until it ends; with one tick a period
   * (REPORT_INTERVAL_WEEKS=1) nothing else would finish it. The next period's run closes what is left.
   */
  const retryLater = (s: RunSummary) => {
    if (local || s.skipped || !s.left || s.fatal || s.interrupted || shutdown.signal.aborted) return;
    if (now() + retryMs >= s.period.end) return;
    if (retry) clearTimeout(retry);
    log.info({ period: s.period.id, left: s.left, inMs: retryMs }, "rows left; the period will be tried again");
    retry = setTimeout(() => {
      retry = null;
      void tick();
    }, retryMs);
    retry.unref();
  };

  const tick = (): Promise<RunSummary | null> => {
    if (running) return running;
    running = run()
      .then((s) => {
        if (s) retryLater(s);
        if (s && !s.skipped)
          log.info(
            {
              period: s.period.id,
              delivered: s.deliveredNow,
              left: s.left,
              waiting: s.waiting?.count,
              interrupted: s.interrupted,
            },
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
        if (retry) clearTimeout(retry);
        await running;
      },
    };
  }

  const task: ScheduledTask = cron.schedule(local ? LOCAL_TICK : config.REPORT_SCHEDULE, () => tick(), {
    timezone: config.REPORT_TIMEZONE,
    name: "mentorship-report",
    noOverlap: true,
  });
  let ready: Promise<RunSummary | null>;
  if (local) {
    // Catch-up: whatever came due while the app was down goes now; the rest waits for its wave.
    ready = tick();
  } else {
    const period = delivery.periodOf(now());
    const first = firstTickIn(period, config.REPORT_SCHEDULE, config.REPORT_TIMEZONE);
    if (first !== null && first <= now()) {
      log.info({ period: period.id }, "catch-up: this period's first tick has passed");
      ready = tick();
    } else ready = Promise.resolve(null);
  }

  return {
    ready,
    tick,
    /** Stops ticking, and has a running delivery let go of its rows so another instance (or the next start) takes them. */
    async stop() {
      await task.stop();
      await task.destroy();
      shutdown.abort();
      if (retry) clearTimeout(retry);
      await running;
    },
  };
}
