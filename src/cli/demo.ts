import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { importDirectory } from "../import/import-service.js";
import { buildManagerText, buildProgramText } from "../render/text.js";
import { createReportService } from "../services/report-service.js";
import { parseAsOf, type CliContext } from "./context.js";

export const SAMPLE_DIR = fileURLToPath(new URL("../../examples/sample/", import.meta.url));
export const DEMO_DATABASE = "./data/demo.sqlite";

/** The demo starts from an empty database of its own every time, so reruns show the same thing. */
export function resetDemoDatabase(path = DEMO_DATABASE): void {
  for (const suffix of ["", "-wal", "-shm"]) rmSync(path + suffix, { force: true });
}

export async function runDemo(ctx: CliContext, opts: { asOf: string }): Promise<number> {
  const { io, db, config } = ctx;
  const zone = config.REPORT_TIMEZONE;
  const asOf = parseAsOf(opts.asOf, zone);
  io.out(`Importing the sample company from ${SAMPLE_DIR}\n`);
  const imported = await importDirectory(db, SAMPLE_DIR, { zone });
  if (!imported.ok) {
    for (const p of imported.problems) io.err(`${p.file}:${p.line}: ${p.column}: ${p.problem}\n`);
    return 1;
  }
  for (const f of imported.files) io.out(`  ${f.file.padEnd(19)} ${String(f.rows).padStart(4)} rows\n`);

  const { managers, programs } = await createReportService(ctx).everything(asOf);
  io.out(`\n${managers.length} managers have mentors on their team (REPORT_SCOPE=${config.REPORT_SCOPE}).\n`);
  for (const report of managers) io.out(`\n${"=".repeat(78)}\n${buildManagerText(report, zone)}`);
  for (const { summary } of programs) io.out(`\n${"=".repeat(78)}\n${buildProgramText(summary, zone)}`);
  return 0;
}
