import { createApp } from "../app.js";
import { periodSettings } from "../config.js";
import type { RunSummary } from "../delivery/delivery-service.js";
import { formatDate } from "../domain/dates.js";
import { periodOf } from "../domain/periods.js";
import { type CliContext, parseAsOf, UsageError } from "./context.js";
import { buildRunSummaryText } from "./run-summary.js";
import { watchSendProgress } from "./send-progress.js";

/**
 * `send`'s exit code (README, "Command line"): 0 everything of the period is delivered; 1 work is left
 * (Slack out of reach, a refused token, a shutdown: run it again); 3 some recipients failed for good
 * (not in Slack, a channel the app can't post to: fix the data or the workspace). 2 is bad usage.
 */
/** How far ahead of this machine's clock --as-of may be: another machine's clock may run a little ahead. */
const FUTURE_SKEW_MS = 5 * 60_000;

export function sendExitCode(runs: RunSummary[]): number {
  if (runs.some((s) => s.fatal || s.left)) return 1;
  if (runs.some((s) => s.tally?.failed.length)) return 3;
  return 0;
}

export async function runSend(
  ctx: CliContext,
  opts: { asOf?: string; dryRun?: boolean; due?: boolean },
): Promise<number> {
  const asOf = parseAsOf(opts.asOf, ctx.config.REPORT_TIMEZONE);
  const app = createApp(ctx);
  const periods = periodSettings(ctx.config);
  const period = periodOf(asOf, periods);
  // Delivering a period that has not begun would send reports of data still to come, and mark it done.
  if (!opts.dryRun && period.start > periodOf(Date.now(), periods).start)
    throw new UsageError(
      `--as-of ${opts.asOf} is in a future period (it starts ${formatDate(period.start, ctx.config.REPORT_TIMEZONE)}); send delivers the current period or an earlier one. --dry-run shows what a future period would send.`,
    );
  // Even inside the current period, a report as of a moment still to come is not a report yet (§15);
  // a few minutes allow for clocks that disagree.
  if (!opts.dryRun && asOf > Date.now() + FUTURE_SKEW_MS)
    throw new UsageError(
      `--as-of ${opts.asOf} is later than now: send delivers reports as of now or an earlier time. --dry-run shows what it would send.`,
    );
  if (opts.dryRun) {
    const summary = await app.planPeriod(asOf);
    ctx.io.out(buildRunSummaryText(summary, ctx.config.REPORT_TIMEZONE));
    return sendExitCode([summary]);
  }
  // Ctrl-C or SIGTERM: let go of the claimed rows at once, so a rerun need not wait out their leases.
  const shutdown = new AbortController();
  const stop = () => shutdown.abort();
  process.once("SIGINT", stop).once("SIGTERM", stop);
  const periodId = app.delivery.periodOf(asOf).id;
  const progress = watchSendProgress(ctx.io, () => app.ledger.tally(periodId));
  const done = async () => {
    process.off("SIGINT", stop).off("SIGTERM", stop);
    await progress.stop();
  };
  if (opts.due) {
    const runs = await app.delivery.deliverDue({ asOf, signal: shutdown.signal }).finally(done);
    for (const s of runs) ctx.io.out(buildRunSummaryText(s, ctx.config.REPORT_TIMEZONE));
    return sendExitCode(runs);
  }
  const summary = await app.delivery.deliverPeriod({ asOf, signal: shutdown.signal }).finally(done);
  ctx.io.out(buildRunSummaryText(summary, ctx.config.REPORT_TIMEZONE));
  return sendExitCode([summary]);
}
