import { DateTime } from "luxon";
import { type Config, loadConfig, periodSettings } from "../config.js";
import { lastSuccessfulImportAt } from "../db/import-repo.js";
import type { Db } from "../db/knex.js";
import { chunks } from "../db/knex.js";
import { nudgesOff, nudgesSent } from "../db/nudge-repo.js";
import {
  findPerson,
  findProgram,
  listPrograms,
  listReportManagers,
  nextMentorBatch,
  readNames,
  readReportInput,
  readReportInputs,
  readRoster,
  readTeams,
} from "../db/report-repo.js";
import { readBranches } from "../db/tree-repo.js";
import { assertZone } from "../db/zone-guard.js";
import { type AttentionSettings, attentionKey } from "../domain/attention.js";
import { branchLines } from "../domain/branches.js";
import { periodOf } from "../domain/periods.js";
import {
  addStatusCounts,
  buildManagerReport,
  buildProgramSummary,
  changesSince,
  type ManagerReport,
  mergeProgramSummaries,
  type ProgramSummary,
  rowsByManager,
  statusCounts,
} from "../domain/reports.js";
import { buildRows } from "../domain/status-engine.js";
import type { Status } from "../domain/statuses.js";
import type { Millis, Program, ReportRow } from "../domain/types.js";
import { AppError } from "../errors.js";

/** Managers whose reports are built together: one read of their teams' data, a bounded amount of memory. */
export const MANAGER_BATCH = 500;
/** How many periods a program's trend shows (§18). */
export const TREND_PERIODS = 6;
/**
 * Mentors whose data a program summary reads at once: what it holds is a batch's rows, not a program's.
 * At 100,000 people a batch of 2,000 keeps the summaries' peak near the floor that their own rows make
 * (10,000 left half the gain on the table), for no measurable extra time.
 */
export const SUMMARY_BATCH = 2_000;

export class NotFoundError extends AppError {
  readonly code = "NOT_FOUND";
}

type AttentionConfig = Pick<
  Config,
  | "ATTENTION_REQUEST_DAYS"
  | "ATTENTION_UNMATCHED_DAYS"
  | "ATTENTION_IDLE_DAYS"
  | "REPORT_ANCHOR_DATE"
  | "REPORT_INTERVAL_WEEKS"
>;
export type ReportDeps = {
  db: Db;
  config: Pick<Config, "REPORT_TIMEZONE" | "REPORT_SCOPE"> & Partial<AttentionConfig>;
};

export function createReportService({ db, config: given }: ReportDeps) {
  // Callers that only care about rows (bench, tests) may leave out the attention settings: the defaults apply.
  const config = { ...loadConfig({}), ...given };
  const zone = config.REPORT_TIMEZONE;
  const attention = (asOf: Millis): AttentionSettings => ({
    requestDays: config.ATTENTION_REQUEST_DAYS,
    unmatchedDays: config.ATTENTION_UNMATCHED_DAYS,
    idleDays: config.ATTENTION_IDLE_DAYS,
    periodEnd: periodOf(asOf, periodSettings(config)).end,
    zone,
  });
  /** When the data was last imported (§13): every report carries it. */
  const dataAsOf = () => lastSuccessfulImportAt(db);
  /**
   * Adds to the reports' attention items what the ledger knows of their nudges this period (§18): sent
   * when and by whom, or the mentor turned them off. Three set-based reads for the whole batch.
   */
  async function withNudges(list: ManagerReport[], asOf: Millis): Promise<ManagerReport[]> {
    const items = list.flatMap((r) => r.attention);
    if (!items.length) return list;
    const periodId = periodOf(asOf, periodSettings(config)).id;
    const [sent, off] = await Promise.all([
      nudgesSent(db, periodId, [...new Set(items.map(attentionKey))]),
      nudgesOff(db, [...new Set(items.filter((a) => a.nudge.to === "mentor").map((a) => a.mentorEmail))]),
    ]);
    if (!sent.size && !off.size) return list;
    const names = await readNames(db, [...new Set([...sent.values()].map((n) => n.requestedBy))]);
    return list.map((r) => ({
      ...r,
      attention: r.attention.map((a) => {
        const s = sent.get(attentionKey(a));
        const isOff = a.nudge.to === "mentor" && off.has(a.mentorEmail.toLowerCase());
        if (!s && !isOff) return a;
        return {
          ...a,
          nudge: {
            ...a.nudge,
            ...(s ? { sentAt: new Date(s.at).toISOString(), sentBy: names.get(s.requestedBy) ?? "" } : {}),
            ...(isOff ? { off: true } : {}),
          },
        };
      }),
    }));
  }

  /** With `REPORT_SCOPE=all`, each report's line per direct report (§18), from one read for the batch. */
  async function withBranches(list: ManagerReport[]): Promise<ManagerReport[]> {
    if (config.REPORT_SCOPE !== "all" || !list.length) return list;
    const rows = await readBranches(
      db,
      list.map((r) => r.manager.email),
    );
    const byManager = new Map<string, Map<string, string>>();
    for (const r of rows) {
      const m = byManager.get(r.manager) ?? new Map<string, string>();
      m.set(r.email, r.branch);
      byManager.set(r.manager, m);
    }
    const names = await readNames(db, [...new Set(rows.map((r) => r.branch))]);
    return list.map((r) => ({ ...r, branches: branchLines(r, byManager.get(r.manager.email) ?? new Map(), names) }));
  }

  /** The starts of the last TREND_PERIODS periods up to `asOf`'s, oldest first; none before the anchor. */
  function trendStarts(asOf: Millis): Millis[] {
    const settings = periodSettings(config);
    const anchor = periodOf(DateTime.fromISO(config.REPORT_ANCHOR_DATE, { zone }).toMillis(), settings).start;
    const starts: Millis[] = [];
    for (let p = periodOf(asOf, settings); starts.length < TREND_PERIODS && p.start >= anchor; ) {
      starts.unshift(p.start);
      p = periodOf(p.start - 1, settings);
    }
    return starts;
  }

  /**
   * These programs' summaries as of `asOf`, with their counts one period earlier (§10: the change per
   * status) and, with `trend`, at the start of each of the last TREND_PERIODS periods (§18; periods
   * before the programs had any row are left out). Built `size` mentors at a time, each batch read as of
   * each of those times and its totals added to the others': what is held at once is one batch's rows
   * and the summaries, however large the programs.
   */
  async function summaries(
    programs: Program[],
    asOf: Millis,
    opts: { trend: boolean; size: number; share: boolean; rowsOf?: readonly Status[] },
  ): Promise<ProgramSummary[]> {
    const programIds = programs.map((p) => p.id);
    // Rows only of the statuses asked for: a channel message shows counts, and at a million people
    // every program's rows, merged batch after batch, would be hundreds of thousands held and copied.
    const keep = opts.rowsOf ? new Set(opts.rowsOf) : null;
    const keptRows = (s: ProgramSummary): ProgramSummary =>
      keep ? { ...s, groups: s.groups.filter((g) => keep.has(g.status)) } : s;
    const settings = attention(asOf);
    const before = DateTime.fromMillis(asOf, { zone }).minus({ weeks: config.REPORT_INTERVAL_WEEKS }).toMillis();
    const starts = opts.trend ? trendStarts(asOf) : [];
    type Counts = Partial<Record<Status, number>>;
    const addCounts = (sum: Counts[], rows: ReportRow[]) =>
      programs.map((p, i) => addStatusCounts(sum[i]!, statusCounts(rows, p.id)));

    let built = programs.map((p) => buildProgramSummary(p, [], asOf, settings));
    let previous: Counts[] = programs.map(() => ({}));
    const points: Counts[][] = starts.map(() => programs.map(() => ({})));
    // One read of each batch of mentors serves every moment: now, the previous period, the trend's starts.
    const moments = [asOf, before, ...starts];
    for (
      let batch = await nextMentorBatch(db, programIds, null, opts.size);
      batch;
      batch = await nextMentorBatch(db, programIds, batch.last, opts.size)
    ) {
      const t = performance.now();
      const inputs = await readReportInputs(db, { asOf, programIds, mentors: batch }, moments);
      const [rows, rowsBefore, ...rowsAtStarts] = inputs.map((input, k) => buildRows(input, moments[k]!, zone));
      built = programs.map((p, i) =>
        mergeProgramSummaries(p, built[i]!, keptRows(buildProgramSummary(p, rows!, asOf, settings))),
      );
      previous = addCounts(previous, rowsBefore!);
      for (const [k, r] of rowsAtStarts.entries()) points[k] = addCounts(points[k]!, r);
      // A summary reads every mentor of its programs; with SQLite's synchronous driver nothing else runs
      // meanwhile. Between batches others get their turn; built in the background of a delivery run
      // (`share`), it waits as long as the batch took, so the DMs keep at least half their pace.
      const took = performance.now() - t;
      await new Promise((resolve) => (opts.share ? setTimeout(resolve, took) : setImmediate(resolve)));
    }
    const importedAt = await dataAsOf();
    return built.map((s, i) => {
      const summary = { ...s, dataAsOf: importedAt, previous: { asOf: before, counts: previous[i]! } };
      if (!opts.trend) return summary;
      const trend = starts.map((at, k) => ({ at, counts: points[k]![i]! }));
      const first = trend.findIndex((t) => Object.keys(t.counts).length > 0);
      return { ...summary, trend: first < 0 ? [] : trend.slice(first) };
    });
  }

  let zoneChecked = false;
  const checkZone = async () => {
    if (!zoneChecked) await assertZone(db, zone);
    zoneChecked = true;
  };

  /**
   * The reports of these managers, from one read of their teams' data; a manager whose team has no
   * mentor row gets none. In email order.
   */
  async function managerReports(
    emails: string[],
    asOf: Millis,
    names?: ReadonlyMap<string, string>,
  ): Promise<ManagerReport[]> {
    if (!emails.length) return [];
    await checkZone();
    const scope = config.REPORT_SCOPE;
    const [input, teams, named, importedAt] = await Promise.all([
      readReportInput(db, { asOf, team: { managerEmails: emails, scope } }),
      readTeams(db, emails, scope),
      names ?? readNames(db, emails),
      dataAsOf(),
    ]);
    const managersOf = new Map<string, string[]>();
    for (const t of teams) {
      const list = managersOf.get(t.email);
      if (list) list.push(t.manager);
      else managersOf.set(t.email, [t.manager]);
    }
    const rowsOf = new Map<string, ReportRow[]>();
    for (const r of buildRows(input, asOf, zone))
      for (const m of managersOf.get(r.mentorEmail) ?? []) {
        const list = rowsOf.get(m);
        if (list) list.push(r);
        else rowsOf.set(m, [r]);
      }
    const settings = attention(asOf);
    const built = [...rowsOf]
      .filter(([email]) => named.has(email))
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([email, mine]) => ({
        ...buildManagerReport({ email, name: named.get(email) ?? "" }, mine, asOf, settings),
        dataAsOf: importedAt,
      }));
    return withBranches(await withNudges(built, asOf));
  }

  return {
    /** One manager's team report; an email that is not in the roster is a NotFoundError. */
    async managerReport(email: string, asOf: Millis, programId?: string): Promise<ManagerReport> {
      await checkZone();
      const manager = await findPerson(db, email);
      if (!manager) throw new NotFoundError(`${email.trim()} is not in the roster (people.csv)`);
      const program = programId === undefined ? undefined : await findProgram(db, programId);
      if (program === null) throw new NotFoundError(`program ${JSON.stringify(programId)} does not exist`);
      const input = await readReportInput(db, {
        asOf,
        programIds: program === undefined ? undefined : [program.id],
        team: { managerEmails: [manager.email], scope: config.REPORT_SCOPE },
      });
      const report = buildManagerReport(manager, buildRows(input, asOf, zone), asOf, attention(asOf));
      const [decorated] = await withBranches(await withNudges([report], asOf));
      return { ...decorated!, dataAsOf: await dataAsOf() };
    },

    async programSummary(programId: string, asOf: Millis): Promise<ProgramSummary> {
      await checkZone();
      const program = await findProgram(db, programId);
      if (!program) throw new NotFoundError(`program ${JSON.stringify(programId)} does not exist`);
      const [summary] = await summaries([program], asOf, { trend: true, size: SUMMARY_BATCH, share: false });
      return summary!;
    },

    /**
     * Several programs' summaries, their data read together a batch of `batch` mentors at a time; with
     * `trend` (the default), their counts at the start of each of the last six periods too. `rowsOf`:
     * the statuses whose rows the summaries' groups keep (default: every one; `[]`: counts only).
     */
    async programSummaries(
      programs: Program[],
      asOf: Millis,
      opts: { trend?: boolean; batch?: number; share?: boolean; rowsOf?: readonly Status[] } = {},
    ): Promise<ProgramSummary[]> {
      if (!programs.length) return [];
      await checkZone();
      return summaries(programs, asOf, {
        trend: opts.trend !== false,
        size: opts.batch ?? SUMMARY_BATCH,
        share: opts.share === true,
        rowsOf: opts.rowsOf,
      });
    },

    managerReports,

    /** Every program, in id order. */
    programs: (): Promise<Program[]> => listPrograms(db),

    /** When the data was last imported (§13); null when no import is on record. */
    dataAsOf,

    /**
     * Every manager's report, `size` managers at a time: what is held at once does not grow with the
     * company. In email order, as `everything` gives them.
     */
    async *managerBatches(asOf: Millis, size = MANAGER_BATCH): AsyncGenerator<ManagerReport[]> {
      await checkZone();
      const managers = await listReportManagers(db, config.REPORT_SCOPE);
      for (const batch of chunks(managers, size)) {
        const names = new Map(batch.map((m) => [m.email, m.name]));
        const reports = await managerReports([...names.keys()], asOf, names);
        if (reports.length) yield reports;
      }
    },

    /** Every manager with at least one mentor row from one read of the data, and every program's summary. */
    async everything(asOf: Millis): Promise<{
      managers: ManagerReport[];
      programs: Array<{ program: Program; summary: ProgramSummary }>;
      dataAsOf: Millis | null;
    }> {
      await checkZone();
      const [input, roster, programs, importedAt] = await Promise.all([
        readReportInput(db, { asOf }),
        readRoster(db, config.REPORT_SCOPE),
        listPrograms(db),
        dataAsOf(),
      ]);
      const rows = buildRows(input, asOf, zone);
      const settings = attention(asOf);
      // A mentor's own manager comes with the enrollment; `all` adds the chains above from the roster.
      const managerOf = new Map<string, string | null>(input.enrollments.map((e) => [e.email, e.managerEmail]));
      for (const [email, p] of roster) managerOf.set(email, p.managerEmail);
      const built = [...rowsByManager(rows, managerOf, config.REPORT_SCOPE)]
        .filter(([email]) => roster.has(email))
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([email, mine]) => ({
          ...buildManagerReport({ email, name: roster.get(email)!.name }, mine, asOf, settings),
          dataAsOf: importedAt,
        }));
      const managers = await withBranches(await withNudges(built, asOf));
      const summarized = programs.length
        ? await summaries(programs, asOf, { trend: false, size: SUMMARY_BATCH, share: false })
        : [];
      return {
        managers,
        programs: programs.map((program, i) => ({ program, summary: summarized[i]! })),
        dataAsOf: importedAt,
      };
    },

    /**
     * Adds to each report what changed since the as-of of the last report delivered to its manager
     * (spec §10). One read of the data per distinct earlier as-of (a run's managers mostly share one),
     * never one per manager. A manager with no earlier report gets no changes.
     */
    async withChanges(managers: ManagerReport[], lastAsOf: ReadonlyMap<string, Millis>): Promise<ManagerReport[]> {
      const bySince = new Map<Millis, ManagerReport[]>();
      for (const r of managers) {
        const since = lastAsOf.get(r.manager.email);
        if (since === undefined || since >= r.asOf) continue;
        const list = bySince.get(since);
        if (list) list.push(r);
        else bySince.set(since, [r]);
      }
      if (!bySince.size) return managers;
      const changed = new Map<string, ManagerReport>();
      for (const [since, reports] of bySince) {
        // The same managers' reports as of then: a read of their teams only, not of the company.
        const before = new Map(
          (
            await managerReports(
              reports.map((r) => r.manager.email),
              since,
            )
          ).map((b) => [b.manager.email, b.groups.flatMap((g) => g.rows)]),
        );
        for (const r of reports) {
          const now = r.groups.flatMap((g) => g.rows);
          changed.set(r.manager.email, { ...r, changes: changesSince(before.get(r.manager.email) ?? [], now, since) });
        }
      }
      return managers.map((r) => changed.get(r.manager.email) ?? r);
    },
  };
}

export type ReportService = ReturnType<typeof createReportService>;
