import type { DeliveryKind } from "../db/ledger-repo.js";
import { type Period, type PeriodSettings, periodOf } from "../domain/periods.js";
import type { Millis, Program } from "../domain/types.js";
import { safeErrorMessage } from "../errors.js";
import type { ReportService } from "../services/report-service.js";
import { drain, startHeartbeat } from "./drain.js";
import { sendAdminNotices } from "./notices.js";
import { resolveRecipients } from "./recipients.js";
import { newRunState, type RunContext, type RunSummary } from "./run-state.js";
import { warnIfStale } from "./stale-notice.js";
import { buildTargets } from "./targets.js";
import { type LocalTiming, periodsStartedBy, planWaves } from "./waves.js";

export interface LocalDeps {
  reports: ReportService;
  periods: PeriodSettings;
  timing: LocalTiming;
  /** What a run reads besides the data, as `deliverPeriod` does: managers' skips (§11), the DM's form. */
  extras: (periodId: string) => Promise<{
    skips: Map<string, "paused" | "stopped">;
    rejectsNewBlocks: boolean;
    homeUrl?: string;
  }>;
}

/**
 * §12, local time: delivers what is due by `asOf` in each period that has something due: an unfinished
 * previous period, the current one, and the next once its easternmost wave has come. Each DM is built
 * as of its own due moment, so managers of one zone get the same data and a rerun reproduces it.
 */
export async function deliverDue(
  ctx: RunContext,
  deps: LocalDeps,
  opts: { asOf: Millis; signal?: AbortSignal },
): Promise<RunSummary[]> {
  const current = periodOf(opts.asOf, deps.periods);
  const previous = periodOf(current.start - 1, deps.periods);
  // A period is finished by later ticks until the next one starts (§14); then what it left is closed
  // as expired and reported. Every wave of a period comes on its first day, so nothing due is cut off.
  const expired = await ctx.ledger.expireBefore(current.id, ctx.now());
  if (expired.length)
    ctx.log.warn(
      { period: current.id, expired: expired.length, periods: [...new Set(expired.map((e) => e.periodId))] },
      "open rows of ended periods closed as expired",
    );
  const periods = periodsStartedBy(opts.asOf, deps.periods, deps.timing.localTime);
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

  if (!(await ledger.hasRows(period.id))) {
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
    const { managers, programs } = await reports.everything(first);
    await ledger.plan(
      period.id,
      [
        ...managers.map((m) => ({
          kind: "dm" as const,
          recipient: m.manager.email,
          dueAt: plan.dueOf.get(m.manager.email) ?? plan.channelDue,
        })),
        ...programs
          .filter((p) => p.program.adminChannel)
          .map((p) => ({ kind: "channel" as const, recipient: p.program.id, dueAt: plan.channelDue })),
      ],
      now(),
    );
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
  const [extras, lastAsOf] = await Promise.all([deps.extras(period.id), ledger.lastDeliveredAsOf(period.id)]);
  if (extras.rejectsNewBlocks) run.newBlocks = "rejected";
  const programs = new Map<string, Program>();
  let dataAsOf: Millis | null | undefined;
  for (const [due, kinds] of [...byDue].sort(([a], [b]) => a - b)) {
    const dms = kinds.get("dm");
    const channels = kinds.get("channel");
    // Admins' notices are built by their own phase; only reports need the data as of the due moment.
    if (!dms && !channels) continue;
    const data = await reports.everything(due);
    dataAsOf = data.dataAsOf;
    for (const p of data.programs) programs.set(p.program.id, p.program);
    const managers = await reports.withChanges(
      dms ? data.managers.filter((m) => dms.has(m.manager.email)) : [],
      lastAsOf,
    );
    const targets = buildTargets(
      timing.reportZone,
      period,
      managers,
      channels ? data.programs.filter((p) => channels.has(p.program.id)) : [],
      { newBlocks: !extras.rejectsNewBlocks, homeUrl: extras.homeUrl },
    );
    for (const [k, t] of targets) {
      // The ledger keeps the as-of each report was built at: the due moment, not the run's time.
      run.targets.set(k, { ...t, asOf: due });
      summary.planned[t.kind]++;
    }
  }
  // Managers who paused or stopped their reports (§11): settled as skipped at their wave, before any Slack call.
  for (const reason of ["paused", "stopped"] as const) {
    const recipients = [...run.targets.values()]
      .filter((t) => t.kind === "dm" && extras.skips.get(t.recipient) === reason)
      .map((t) => t.recipient);
    if (recipients.length) await ledger.skipPending({ periodId: period.id, recipients, reason, now: now() });
  }
  summary.alreadyDelivered = { ...(await ledger.tally(period.id)).byState.delivered };
  const openDms = open.filter((r) => r.kind === "dm").length;
  if (!(await resolveRecipients(ctx, run, openDms))) return finish();

  const onAbort = () => {
    run.stop ??= "shutdown";
  };
  if (opts.signal?.aborted) onAbort();
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  const stopHeartbeat = startHeartbeat(ctx, run);
  try {
    await warnIfStale(ctx, run, { dataAsOf, programs: [...programs.values()] });
    await drain(ctx, run, ["dm", "channel"]);
    if (!run.stop && (await ledger.failedChannels(period.id)).length) {
      // A run of DM waves only has not read the programs yet; the admins' notices name them.
      if (!programs.size)
        for (const p of (await reports.everything(asOf)).programs) programs.set(p.program.id, p.program);
      await sendAdminNotices(ctx, run, [...programs.values()]);
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
