import { randomUUID } from "node:crypto";
import cron, { type ScheduledTask } from "node-cron";
import { type Config, periodSettings } from "../config.js";
import { earliestLocalMoment, type Period } from "../domain/periods.js";
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

/** What the scheduler found at start and will do (§17), for `serve`'s start line. */
export interface StartPlan {
  /** The start delivers at once: a period whose first delivery passed while the app was down. */
  catchUp: boolean;
  /**
   * A fresh database (no period ever started): the period already begun at start, left to `send`;
   * the scheduler delivers from the next one.
   */
  leftToSend: string | null;
  /**
   * The next scheduled delivery after start. Fixed: the tick. Local: the period's first wave, the
   * local time in the easternmost zone among the world's (each manager's own comes later). Null: off.
   */
  next: { at: Millis; periodId: string } | null;
}

export interface Scheduler {
  /** Resolves when the start-up catch-up (if any) is done. */
  ready: Promise<RunSummary | null>;
  /** Resolves once the start is decided, before any delivery. */
  plan: Promise<StartPlan>;
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
  delivery: Pick<DeliveryService, "deliverPeriod" | "deliverDue" | "periodOf" | "history">;
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

  const off = config.REPORT_SCHEDULE === "off";
  /** A period's first scheduled delivery: fixed, its first tick; local, its earliest wave anywhere. */
  const firstDeliveryIn = (p: Period): Millis | null =>
    local
      ? earliestLocalMoment(p.id, config.REPORT_LOCAL_TIME)
      : firstTickIn(p, config.REPORT_SCHEDULE, config.REPORT_TIMEZONE);
  /** The first period whose first delivery is at or after `at` (a start on the very minute is its tick). */
  const firstPeriodFrom = (at: Millis): { period: Period; first: Millis | null } => {
    let p = delivery.periodOf(at);
    for (let i = 0; i < 3; i++, p = delivery.periodOf(p.end)) {
      const first = firstDeliveryIn(p);
      if (first !== null && first >= at) return { period: p, first };
    }
    return { period: p, first: null };
  };
  /**
   * §17, the first period is never a surprise: the period already begun at start is the scheduler's only
   * when it or the period just before it was delivered (or started). On a fresh database, or one whose
   * history is older (a `send` of a past period, an app left off for a period or more), it is left to
   * `send` and the scheduler delivers from the next period. Otherwise the earliest period any run
   * started is the start and catch-up is as before. Off: ticks come only by hand, and each delivers.
   */
  const startedAt = now();
  let held: string | undefined;
  const firstPeriod = async (): Promise<string | undefined> => {
    if (off) return undefined;
    const earliest = await delivery.history.earliestPeriod();
    if (earliest !== null) {
      const begun = delivery.periodOf(startedAt);
      const before = delivery.periodOf(begun.start - 1);
      if ((await delivery.history.started(begun.id)) || (await delivery.history.started(before.id))) return earliest;
    }
    held ??= firstPeriodFrom(startedAt).period.id;
    return held;
  };

  const run = async (): Promise<RunSummary | null> => {
    const from = await firstPeriod();
    if (!local) {
      if (from !== undefined && delivery.periodOf(now()).id < from) return null;
      return delivery.deliverPeriod({ asOf: now(), onlyIfIncomplete: true, signal: shutdown.signal });
    }
    await refreshAhead();
    const runs = await delivery.deliverDue({ asOf: now(), signal: shutdown.signal, ...(from ? { from } : {}) });
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
    if (s.skipped || !s.left || s.fatal || s.interrupted) return;
    log.info({ period: s.period.id, left: s.left, inMs: retryMs }, "rows left; the period will be tried again");
    retryIn(s.period);
  };
  /** Local time needs none: it wakes every minute and takes what is open. */
  const retryIn = (period: Period) => {
    if (local || shutdown.signal.aborted || now() + retryMs >= period.end) return;
    if (retry) clearTimeout(retry);
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
        // A run that throws (Slack or the database briefly away) is tried again like one that left rows:
        // with one tick a period, nothing else would deliver it.
        log.error(
          { err: safeErrorMessage(err), inMs: local ? 60_000 : retryMs },
          "scheduled delivery failed; it will be tried again",
        );
        retryIn(delivery.periodOf(now()));
        return null;
      })
      .finally(() => {
        running = null;
      });
    return running;
  };

  if (off) {
    log.info("REPORT_SCHEDULE=off: no scheduled deliveries");
    return {
      ready: Promise.resolve(null),
      plan: Promise.resolve({ catchUp: false, leftToSend: null, next: null }),
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
  const plan = startPlan();
  // Local time ticks at start whatever the plan: what came due while the app was down (a previous
  // period's rest included) goes now, within the periods the scheduler owns; the rest waits for its wave.
  const ready = plan.then((p) => (local || p.catchUp ? tick() : null));

  /** Decides the start: catch up, or wait for the next delivery, and says which. */
  async function startPlan(): Promise<StartPlan> {
    const at = now();
    const current = delivery.periodOf(at);
    const from = (await firstPeriod()) ?? current.id;
    const leftToSend = from > current.id ? current.id : null;
    if (leftToSend)
      log.info(
        { period: leftToSend },
        "neither this period nor the one before was delivered: it is not caught up at start; `send` delivers it now",
      );
    let catchUp = false;
    let next: StartPlan["next"] = null;
    if (from <= current.id && !(await delivery.history.isPeriodComplete(current.id))) {
      const first = firstDeliveryIn(current);
      if (local) {
        // Local time: a period begun and not finished has waves due now or waiting for their hour.
        const waiting = await delivery.history.waiting(current.id, at);
        catchUp = first !== null && first <= at;
        if (waiting.next !== null) next = { at: waiting.next, periodId: current.id };
      } else {
        catchUp = first !== null && first <= at;
        // After a catch-up the period's later ticks find it delivered: the next is the next period's.
        const tick = catchUp ? null : firstTickFrom(at, current.end);
        if (tick !== null) next = { at: tick, periodId: current.id };
      }
    }
    if (catchUp) log.info({ period: current.id }, "catch-up: this period's first delivery has passed");
    if (!next) {
      // The period the scheduler starts with, or the one after the current: its first delivery, unless
      // that has come already (local time, the next period's easternmost wave), then the first ahead.
      const p = from > current.id ? periodFrom(from, current) : delivery.periodOf(current.end);
      const first = firstDeliveryIn(p);
      const ahead = first !== null && first >= at ? { period: p, first } : firstPeriodFrom(at);
      if (ahead.first !== null) next = { at: ahead.first, periodId: ahead.period.id };
    }
    return { catchUp, leftToSend, next };
  }
  /** Fixed: the schedule's next tick from `at` within the period. */
  function firstTickFrom(at: Millis, end: Millis): Millis | null {
    return firstTickIn({ id: "", start: at, end }, config.REPORT_SCHEDULE, config.REPORT_TIMEZONE);
  }
  function periodFrom(id: string, current: Period): Period {
    let p = current;
    while (p.id < id) p = delivery.periodOf(p.end);
    return p;
  }

  return {
    ready,
    plan,
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
