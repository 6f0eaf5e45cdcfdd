import { createApp } from "../app.js";
import { type CliContext, parseAsOf } from "./context.js";
import { buildRunSummaryText } from "./run-summary.js";

export async function runSend(
  ctx: CliContext,
  opts: { asOf?: string; dryRun?: boolean; due?: boolean },
): Promise<number> {
  const asOf = parseAsOf(opts.asOf, ctx.config.REPORT_TIMEZONE);
  const app = createApp(ctx);
  // Ctrl-C or SIGTERM: let go of the claimed rows at once, so a rerun need not wait out their leases.
  const shutdown = new AbortController();
  const stop = () => shutdown.abort();
  process.once("SIGINT", stop).once("SIGTERM", stop);
  if (opts.due && !opts.dryRun) {
    const runs = await app.delivery
      .deliverDue({ asOf, signal: shutdown.signal })
      .finally(() => process.off("SIGINT", stop).off("SIGTERM", stop));
    for (const s of runs) ctx.io.out(buildRunSummaryText(s, ctx.config.REPORT_TIMEZONE));
    return runs.some((s) => s.fatal || s.left) ? 1 : 0;
  }
  const summary = opts.dryRun
    ? await app.planPeriod(asOf)
    : await app.delivery
        .deliverPeriod({ asOf, signal: shutdown.signal })
        .finally(() => process.off("SIGINT", stop).off("SIGTERM", stop));
  ctx.io.out(buildRunSummaryText(summary, ctx.config.REPORT_TIMEZONE));
  return summary.fatal || summary.left ? 1 : 0;
}
