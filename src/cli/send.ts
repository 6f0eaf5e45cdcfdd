import { createApp } from "../app.js";
import { periodSettings } from "../config.js";
import type { RunSummary } from "../delivery/delivery-service.js";
import { formatDate } from "../domain/dates.js";
import { periodOf } from "../domain/periods.js";
import { type CliContext, parseAsOf, UsageError } from "./context.js";
import { buildRunSummaryText } from "./run-summary.js";

/**
 * `send`'s exit code (README, "Command line"): 0 everything of the period is delivered; 1 work is left
 * (Slack out of reach, a refused token, a shutdown: run it again); 3 some recipients failed for good
 * (not in Slack, a channel the app can't post to: fix the data or the workspace). 2 is bad usage.
 */
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
  // Ctrl-C or SIGTERM: let go of the claimed rows at once, so a rerun need not wait out their leases.
  const shutdown = new AbortController();
  const stop = () => shutdown.abort();
  process.once("SIGINT", stop).once("SIGTERM", stop);
  if (opts.due && !opts.dryRun) {
    const runs = await app.delivery
      .deliverDue({ asOf, signal: shutdown.signal })
      .finally(() => process.off("SIGINT", stop).off("SIGTERM", stop));
    for (const s of runs) ctx.io.out(buildRunSummaryText(s, ctx.config.REPORT_TIMEZONE));
    return sendExitCode(runs);
  }
  const summary = opts.dryRun
    ? await app.planPeriod(asOf)
    : await app.delivery
        .deliverPeriod({ asOf, signal: shutdown.signal })
        .finally(() => process.off("SIGINT", stop).off("SIGTERM", stop));
  ctx.io.out(buildRunSummaryText(summary, ctx.config.REPORT_TIMEZONE));
  return sendExitCode([summary]);
}
