import { DateTime } from "luxon";
import { createApp } from "../app.js";
import { readManagerZones } from "../db/directory-repo.js";
import { type ImportRecord, lastImports, lastSuccessfulImportAt } from "../db/import-repo.js";
import { periodsStartedBy, planWaves } from "../delivery/waves.js";
import { formatDayTime } from "../domain/dates.js";
import { formatPeriodRange, periodOf, recipientZone } from "../domain/periods.js";
import { buildInstallationLines } from "../render/installations.js";
import { type CliContext, parseAsOf } from "./context.js";
import { outsidePilotText } from "./run-summary.js";

/** What the ledger says about a period: for the operator who watches deliveries. Reads only. */
export async function runStatus(ctx: CliContext, opts: { asOf?: string }): Promise<number> {
  const { config, io } = ctx;
  const zone = config.REPORT_TIMEZONE;
  const at = parseAsOf(opts.asOf, zone);
  const app = createApp(ctx);
  const local = config.REPORT_DELIVERY === "local";
  // Local time: east of REPORT_TIMEZONE the next period's waves may have begun; it is the one to watch.
  const period = local
    ? periodsStartedBy(at, app.settings.periods, config.REPORT_LOCAL_TIME).at(-1)!
    : periodOf(at, app.settings.periods);
  const [tally, complete, held, waiting] = await Promise.all([
    app.ledger.tally(period.id),
    app.ledger.isPeriodComplete(period.id),
    app.ledger.listHeld(period.id),
    app.ledger.waiting(period.id, at),
  ]);
  const when = (ms: number) => formatDayTime(ms, zone);
  const lines = [`Period ${period.id} (${formatPeriodRange(period, zone)}): ${complete ? "complete" : "not complete"}`];
  const total = Object.values(tally.byState).reduce((n, k) => n + k.dm + k.channel + k.notice, 0);
  if (total === 0) {
    lines.push("  Nothing planned yet: no run has started for this period.");
    // §17: serve holds the period under way on such a database; say so, or its past first wave looks missed.
    if ((await app.ledger.earliestPeriod()) === null)
      lines.push(
        "  No period was ever delivered on this database: serve does not catch up a period already under way when it starts; `npx mentorship-report send` delivers it now.",
      );
    if (local) {
      const zones = new Map(
        [...(await readManagerZones(ctx.db))].map(([email, z]) => [email, recipientZone(z.slackTz, z.rosterTz, zone)]),
      );
      const first = planWaves(period, zones, { localTime: config.REPORT_LOCAL_TIME, reportZone: zone }).waves[0];
      if (first !== undefined) lines.push(`  First wave (${config.REPORT_LOCAL_TIME} local time): ${when(first)}`);
    }
  } else {
    const sum = (k: { dm: number; channel: number; notice: number }) => k.dm + k.channel + k.notice;
    lines.push(
      `  delivered ${sum(tally.byState.delivered)} · waiting for local time ${waiting.count}` +
        `${waiting.next !== null ? ` (next wave ${when(waiting.next)})` : ""}` +
        ` · failed ${sum(tally.byState.failed)} · skipped ${sum(tally.byState.skipped)}`,
    );
    lines.push(`  ${"".padEnd(10)} ${"DMs".padStart(8)} ${"channels".padStart(9)} ${"notices".padStart(8)}`);
    for (const [state, k] of Object.entries(tally.byState))
      lines.push(
        `  ${state.padEnd(10)} ${String(k.dm).padStart(8)} ${String(k.channel).padStart(9)} ${String(k.notice).padStart(8)}`,
      );
  }
  for (const h of held)
    lines.push(
      `  held: ${h.kind} ${h.recipient} by ${h.owner} until ${DateTime.fromMillis(h.leaseUntil, { zone }).toFormat("HH:mm:ss")}`,
    );
  for (const f of tally.failed) lines.push(`  failed: ${f.kind} ${f.recipient}: ${f.error}`);
  for (const k of tally.skipped) lines.push(`  skipped: dm ${k.recipient}: ${k.reason}`);
  if (tally.outsidePilot.dm || tally.outsidePilot.channel) lines.push(`  ${outsidePilotText(tally.outsidePilot)}`);
  lines.push(...importLines(await lastImports(ctx.db, 3), await lastSuccessfulImportAt(ctx.db), zone));
  // Installed from the link: where the app is, and how many managers it reached there (§16).
  if (app.link) lines.push(...buildInstallationLines(await app.link.service.list(), zone));
  io.out(lines.join("\n") + "\n");
  return 0;
}

/**
 * The last imports, newest first: when, from where, what they did or why they were refused. When none
 * of them was imported, the last one that was: what the reports show (or that they show nothing yet).
 */
function importLines(imports: ImportRecord[], lastGood: number | null, zone: string): string[] {
  if (imports.length === 0) return ["Imports: none yet."];
  const at = (ms: number) => DateTime.fromMillis(ms, { zone }).toFormat("MM-dd-yyyy HH:mm");
  const lines = ["Last imports:"];
  for (const i of imports) {
    const when = at(i.finishedAt);
    const sum = (k: "added" | "changed" | "removed") => i.files.reduce((n, f) => n + f[k], 0);
    const what =
      i.outcome === "imported"
        ? `${i.files.length} files: ${sum("added")} added, ${sum("changed")} changed, ${sum("removed")} removed`
        : `${i.problemCount} problem${i.problemCount === 1 ? "" : "s"}; nothing was written`;
    lines.push(`  ${when}  ${i.source.padEnd(12)} ${i.outcome.padEnd(8)}  ${what}`);
    for (const p of i.outcome === "imported" ? [] : i.problems.slice(0, 3)) lines.push(`      ${p}`);
  }
  if (imports.some((i) => i.outcome === "imported")) return lines;
  lines.push(
    lastGood === null
      ? "  No import has gone through yet: the reports have no data."
      : `  Last import that went through: ${at(lastGood)}; the reports show its data.`,
  );
  return lines;
}
