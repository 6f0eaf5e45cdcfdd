import { chunks } from "../db/knex.js";
import type { DeliveryKind } from "../db/ledger-repo.js";
import { type Period, type PeriodSettings, periodOf } from "../domain/periods.js";
import type { Millis } from "../domain/types.js";
import { safeErrorMessage } from "../errors.js";
import { MANAGER_BATCH, type ReportService } from "../services/report-service.js";
import { drain, startHeartbeat } from "./drain.js";
import { expireEndedPeriods } from "./expire.js";
import { sendAdminNotices } from "./notices.js";
import { resolveRecipients } from "./recipients.js";
import { newRunState, type RunContext, type RunState, type RunSummary } from "./run-state.js";
import { warnIfStale } from "./stale-notice.js";
import { eachRecipientBatch, skipAtTheirWish, skipOutsidePilot } from "./targets.js";
import { type LocalTiming, periodsStartedBy, planWaves } from "./waves.js";

export interface LocalDeps {
  reports: ReportService;
  periods: PeriodSettings;
  timing: LocalTiming;
  /** The run set-up `deliverPeriod` uses too (the DM's form, what changed since); the managers' skips (§11). */
  setUpRun: (run: RunState) => Promise<Map<string, "paused" | "stopped">>;
}

/**
 * §12, local time: delivers what is due by `asOf` in each period that has something due: an unfinished
 * previous period, the current one, and the next once its easternmost wave has come. Each DM is built
 * as of its own due moment, so managers of one zone get the same data and a rerun reproduces it.
 */
export async function deliverDue(
  ctx: RunContext,
  deps: LocalDeps,
  opts: { asOf: Millis; signal?: AbortSignal; from?: string },
): Promise<RunSummary[]> {
  const current = periodOf(opts.asOf, deps.periods);
  const previous = periodOf(current.start - 1, deps.periods);
  // A period is finished by later ticks until the next one starts (§14); then what it left is closed
  // as expired and reported. Every wave of a period comes on its first day, so nothing due is cut off.
  const expired = await expireEndedPeriods(ctx, current);
  // `from` (§17): periods before the first one the app delivers are left to `send`.
  const periods = periodsStartedBy(opts.asOf, deps.periods, deps.timing.localTime).filter(
    (p) => opts.from === undefined || p.id >= opts.from,
  );
  // Only a previous period that was started and not finished: a fresh install does not send old reports.
  if ((await ctx.ledger.hasRows(previous.id)) && !(await ctx.ledger.isPeriodComplete(previous.id)))
    periods.unshift(previous);
  const out: RunSummary[] = [];
  for (const p of periods) {
    if (opts.signal?.aborted) break;
    out.push(await deliverDueIn(ctx, deps, p, opts));
    if (expired.length && out.length === 1) out[0]!.expired = expired;
  }
  return out;
}

async function deliverDueIn(
  ctx: RunContext,
  deps: LocalDeps,
  period: Period,
  opts: { asOf: Millis; signal?: AbortSignal },
): Promise<RunSummary> {
  const { ledger, directory, log, now } = ctx;
  const { reports, timing } = deps;
  const asOf = opts.asOf;
  const run = newRunState(period, asOf);
  run.dueBy = asOf;
  const { summary } = run;
  const finish = async () => {
    summary.tally = await ledger.tally(period.id);
    summary.left = await ledger.countOpen(period.id, ["dm", "channel", "notice"], [], asOf);
    summary.waiting = await ledger.waiting(period.id, asOf);
    return summary;
  };
  if (await ledger.isPeriodComplete(period.id)) {
    summary.skipped = "period-complete";
    return summary;
  }

  // Until a run has planned the whole period, each run plans it (again: rows already there stay as they are).
  if (!(await ledger.isPlanned(period.id))) {
    // The period's first run, its earliest possible wave come: the directory (and so each manager's zone)
    // is read afresh, unless the scheduler's early refresh or another instance did it.
    try {
      await directory.refreshOnceFor(period.id, ctx.instanceId);
    } catch (err) {
      log.warn({ err: safeErrorMessage(err) }, "directory refresh failed; planning with the zones known so far");
    }
    const plan = planWaves(period, await directory.managerZones(timing.reportZone), timing);
    if (plan.waves[0]! > asOf) {
      summary.skipped = "not-due";
      summary.waiting = { count: 0, next: plan.waves[0]! };
      return summary;
    }
    // Who gets a report this period is settled as of the first wave, each with their own due moment.
    const first = plan.waves[0]!;
    await eachRecipientBatch(reports, first, async (items) => {
      await ledger.plan(
        period.id,
        items.map((i) => ({
          ...i,
          dueAt: i.kind === "dm" ? (plan.dueOf.get(i.recipient) ?? plan.channelDue) : plan.channelDue,
        })),
        now(),
      );
      await skipOutsidePilot(ctx, period.id, items);
    });
    await ledger.markPlanned(period.id);
  }

  // What is due: the open rows due by `asOf`, grouped by due moment (none: planned by `send`, as of now).
  const open = await ledger.openDue(period.id, asOf);
  if (!open.length) {
    await finish();
    // Nothing open and nothing waiting: the rest went out some other way (`send`), and the period is done.
    if (summary.left === 0 && summary.waiting?.count === 0) {
      await ledger.markPeriodComplete(period.id, now());
      summary.skipped = "period-complete";
    } else summary.skipped = "not-due";
    return summary;
  }
  const byDue = new Map<Millis, Map<DeliveryKind, Set<string>>>();
  for (const r of open) {
    const d = r.dueAt ?? asOf;
    const kinds = byDue.get(d) ?? new Map<DeliveryKind, Set<string>>();
    byDue.set(d, kinds);
    const set = kinds.get(r.kind) ?? new Set<string>();
    kinds.set(r.kind, set);
    set.add(r.recipient);
  }
  const skips = await deps.setUpRun(run);
  // Each report is built as of its due moment when its row is claimed; here only who is in it is counted.
  run.asOfFor = (row) => row.dueAt ?? asOf;
  const inReport = new Set<string>();
  const programs = await reports.programs();
  const withChannel = new Set(programs.filter((p) => p.adminChannel).map((p) => p.id));
  for (const [due, kinds] of [...byDue].sort(([a], [b]) => a - b)) {
    for (const batch of chunks([...(kinds.get("dm") ?? [])], MANAGER_BATCH)) {
      const inIt = (await reports.managerReports(batch, due)).map((r) => r.manager.email);
      for (const email of inIt) inReport.add(email);
      summary.planned.dm += inIt.length;
      // Managers who paused or stopped their reports (§11): settled as skipped at their wave, before any Slack call.
      await skipAtTheirWish(
        ctx,
        run,
        inIt.map((recipient) => ({ kind: "dm", recipient })),
        skips,
      );
    }
    for (const id of kinds.get("channel") ?? []) if (withChannel.has(id)) summary.planned.channel++;
  }
  summary.alreadyDelivered = { ...(await ledger.tally(period.id)).byState.delivered };
  const openDms = open.filter((r) => r.kind === "dm").length;
  if (!(await resolveRecipients(ctx, run, openDms, inReport))) return finish();

  const onAbort = () => {
    run.stop ??= "shutdown";
  };
  if (opts.signal?.aborted) onAbort();
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  const stopHeartbeat = startHeartbeat(ctx, run);
  try {
    // Only a run that delivers reports warns of their data's age.
    const reportsDue = [...byDue.values()].some((k) => k.has("dm") || k.has("channel"));
    await warnIfStale(ctx, run, { dataAsOf: reportsDue ? await reports.dataAsOf() : null, programs });
    await drain(ctx, run, ["dm", "channel"]);
    if (!run.stop && (await ledger.failedChannels(period.id)).length) {
      await sendAdminNotices(ctx, run, programs);
    }
  } finally {
    stopHeartbeat();
    opts.signal?.removeEventListener("abort", onAbort);
  }
  summary.unreachable = run.stop === "unreachable";
  summary.interrupted = run.stop === "shutdown";
  await finish();
  if (summary.left === 0 && summary.waiting?.count === 0) await ledger.markPeriodComplete(period.id, now());
  log.info(
    { period: period.id, deliveredNow: summary.deliveredNow, left: summary.left, waiting: summary.waiting?.count },
    "wave delivered",
  );
  return summary;
}
