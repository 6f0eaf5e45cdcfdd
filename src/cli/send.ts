import { createDeliveryService, planPeriod } from "../delivery/delivery-service.js";
import { buildRunSummaryText } from "../render/run-summary.js";
import { createReportService } from "../services/report-service.js";
import { createSlackClient } from "../slack/client.js";
import { createDirectory } from "../slack/directory.js";
import { type CliContext, parseAsOf } from "./context.js";

export function createServices(ctx: CliContext) {
  const slack = createSlackClient(ctx.config);
  const reports = createReportService(ctx);
  const directory = createDirectory({ db: ctx.db, slack, log: ctx.log });
  const delivery = createDeliveryService({ ...ctx, slack, directory, reports });
  return { slack, reports, directory, delivery };
}

export async function runSend(ctx: CliContext, opts: { asOf?: string; dryRun?: boolean }): Promise<number> {
  const asOf = parseAsOf(opts.asOf, ctx.config.REPORT_TIMEZONE);
  // Ctrl-C or SIGTERM: let go of the claimed rows at once, so a rerun need not wait out their leases.
  const shutdown = new AbortController();
  const stop = () => shutdown.abort();
  process.once("SIGINT", stop).once("SIGTERM", stop);
  const summary = opts.dryRun
    ? await planPeriod({ reports: createReportService(ctx), config: ctx.config }, asOf)
    : await createServices(ctx)
        .delivery.deliverPeriod({ asOf, signal: shutdown.signal })
        .finally(() => process.off("SIGINT", stop).off("SIGTERM", stop));
  ctx.io.out(buildRunSummaryText(summary, ctx.config.REPORT_TIMEZONE));
  return summary.fatal || summary.left ? 1 : 0;
}
