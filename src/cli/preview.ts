import { createApp } from "../app.js";
import { workspaceRejectsNewBlocks } from "../db/controls-repo.js";
import { periodOf } from "../domain/periods.js";
import { changesSince, diffRows } from "../domain/reports.js";
import { buildManagerBlocks, buildProgramBlocks } from "../render/blocks.js";
import { buildCsv } from "../render/csv.js";
import { buildDiffJson, buildManagerJson, buildProgramJson, toJson } from "../render/json.js";
import { buildDiffText, buildManagerText, buildProgramText } from "../render/text.js";
import { type CliContext, parseAsOf, UsageError } from "./context.js";

export const FORMATS = ["text", "json", "csv", "blocks"] as const;
export type Format = (typeof FORMATS)[number];

export interface PreviewOptions {
  manager?: string;
  program?: string;
  asOf?: string;
  since?: string;
  format: string;
}

export async function runPreview(ctx: CliContext, opts: PreviewOptions): Promise<number> {
  const { config, io } = ctx;
  const zone = config.REPORT_TIMEZONE;
  if (!!opts.manager === !!opts.program)
    throw new UsageError("preview needs exactly one of --manager EMAIL or --program ID");
  if (!FORMATS.includes(opts.format as Format))
    throw new UsageError(`--format ${JSON.stringify(opts.format)}: use one of ${FORMATS.join(", ")}`);
  const asOf = parseAsOf(opts.asOf, zone);
  const app = createApp(ctx);
  const { reports } = app;
  const format = opts.format as Format;
  if (opts.since !== undefined && (!opts.manager || format === "csv")) {
    throw new UsageError("--since goes with --manager and --format text, json or blocks");
  }
  // What a DM of the period that contains as-of would carry, buttons and all (spec §6 `--format blocks`).
  const period = periodOf(asOf, app.settings.periods);
  const blocksOut = (m: { text: string; blocks: unknown[] }) => io.out(toJson({ text: m.text, blocks: m.blocks }));

  if (opts.manager) {
    const report = await reports.managerReport(opts.manager, asOf);
    if (opts.since !== undefined) {
      const since = parseAsOf(opts.since, zone);
      if (since >= asOf) throw new UsageError("--since must be before --as-of");
      const before = await reports.managerReport(opts.manager, since);
      const diff = diffRows(
        before.groups.flatMap((g) => g.rows),
        report.groups.flatMap((g) => g.rows),
      );
      if (format === "blocks") {
        const changes = changesSince(
          before.groups.flatMap((g) => g.rows),
          report.groups.flatMap((g) => g.rows),
          since,
        );
        blocksOut(buildManagerBlocks({ ...report, changes }, { zone, period, buttons: true }));
        return 0;
      }
      if (format === "json")
        io.out(toJson({ ...buildManagerJson(report, zone), changes: buildDiffJson(diff, since, zone) }));
      else io.out(buildManagerText(report, zone) + buildDiffText(diff, since, zone));
      return 0;
    }
    if (format === "json") io.out(toJson(buildManagerJson(report, zone)));
    else if (format === "csv") io.out(buildCsv(report.groups));
    else if (format === "blocks") {
      // As delivery would build it: changes since the DM last delivered to this manager (the ledger
      // knows its as-of), rows as lines if the workspace refused tables this period.
      const [last, rejects] = await Promise.all([
        app.ledger.lastDeliveredAsOf(period.id),
        workspaceRejectsNewBlocks(ctx.db, period.id),
      ]);
      const [withChanges] = await reports.withChanges([report], last);
      const form = rejects ? "sections" : "table";
      blocksOut(buildManagerBlocks(withChanges!, { zone, period, buttons: true, form }));
    } else io.out(buildManagerText(report, zone));
  } else {
    const summary = await reports.programSummary(opts.program!, asOf);
    if (format === "json") io.out(toJson(buildProgramJson(summary, zone)));
    else if (format === "csv") io.out(buildCsv(summary.groups));
    else if (format === "blocks")
      blocksOut(
        buildProgramBlocks(summary, { zone, period, chart: !(await workspaceRejectsNewBlocks(ctx.db, period.id)) }),
      );
    else io.out(buildProgramText(summary, zone));
  }
  return 0;
}
