import { Presets, SingleBar } from "cli-progress";
import { type ImportProgress, importDirectory } from "../import/import-service.js";
import type { CliContext } from "./context.js";

export async function runImport(ctx: CliContext, dir: string, opts: { dryRun?: boolean }): Promise<number> {
  const { io, db, config } = ctx;
  const started = Date.now();
  let bar: SingleBar | null = null;
  let current = "";
  const onProgress = (p: ImportProgress) => {
    if (!io.isTTY) return;
    if (p.file !== current) {
      bar?.stop();
      current = p.file;
      bar = new SingleBar(
        { format: `  ${p.file.padEnd(19)} [{bar}] {percentage}% | {rows} rows`, hideCursor: true },
        Presets.shades_classic,
      );
      bar.start(p.totalBytes || 1, 0, { rows: 0 });
    }
    bar!.update(p.bytes, { rows: p.rows });
  };
  const result = await importDirectory(db, dir, { zone: config.REPORT_TIMEZONE, dryRun: opts.dryRun, onProgress });
  (bar as SingleBar | null)?.stop();

  if (!result.ok) {
    for (const p of result.problems) io.err(`${p.file}:${p.line}: ${p.column}: ${p.problem}\n`);
    io.err(
      `Import failed: ${result.problems.length} problem${result.problems.length === 1 ? "" : "s"}; nothing was written.\n`,
    );
    return 1;
  }
  for (const f of result.files) io.out(`  ${f.file.padEnd(19)} ${String(f.rows).padStart(8)} rows\n`);
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  io.out(
    result.dryRun
      ? `Dry run: every row is valid; nothing was written (${secs} s).\n`
      : `Imported in one transaction (${secs} s).\n`,
  );
  return 0;
}
