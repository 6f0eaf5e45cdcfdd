import { Presets, SingleBar } from "cli-progress";
import { formatProblem, type ImportProgress, importDirectory } from "../import/import-service.js";
import type { CliContext } from "./context.js";

export async function runImport(
  ctx: CliContext,
  dir: string,
  opts: { dryRun?: boolean; merge?: boolean },
): Promise<number> {
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
  const result = await importDirectory(db, dir, {
    zone: config.REPORT_TIMEZONE,
    dryRun: opts.dryRun,
    merge: opts.merge,
    onProgress,
  });
  (bar as SingleBar | null)?.stop();

  if (!result.ok) {
    for (const p of result.problems) io.err(`${formatProblem(p)}\n`);
    io.err(
      `Import failed: ${result.problems.length} problem${result.problems.length === 1 ? "" : "s"}; nothing was written.\n`,
    );
    return 1;
  }
  const n = (v: number) => String(v).padStart(9);
  io.out(
    `  ${"".padEnd(19)} ${"rows".padStart(9)}${["added", "changed", "removed", "unchanged"].map((h) => h.padStart(10)).join("")}\n`,
  );
  for (const f of result.files)
    io.out(`  ${f.file.padEnd(19)} ${n(f.rows)} ${n(f.added)} ${n(f.changed)} ${n(f.removed)} ${n(f.unchanged)}\n`);
  for (const w of result.warnings) io.err(`warning: ${formatProblem(w)}\n`);
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  io.out(
    result.dryRun
      ? `Dry run: every row is valid; nothing was written (${secs} s).\n`
      : `Imported in one transaction (${secs} s)${result.merge ? "; --merge: rows missing from a file were kept" : ""}.\n`,
  );
  return 0;
}
