import { randomUUID } from "node:crypto";
import type { WebClient } from "@slack/web-api";
import { type Config, periodSettings } from "../config.js";
import {
  rememberDataTableRejected,
  rememberNewBlocksRejected,
  skipsOf,
  workspaceRejectsDataTable,
  workspaceRejectsNewBlocks,
} from "../db/controls-repo.js";
import { readDirectory } from "../db/directory-repo.js";
import type { Db } from "../db/knex.js";
import { createLedgerStore, type LedgerStore, NOT_IN_PILOT } from "../db/ledger-repo.js";
import { periodOf } from "../domain/periods.js";
import { rowCount } from "../domain/reports.js";
import type { Millis } from "../domain/types.js";
import type { Logger } from "../logger.js";
import type { ReportService } from "../services/report-service.js";
import type { Directory } from "../slack/directory.js";
import { homeLinkOf } from "../slack/home-link.js";
import type { Workspaces } from "../slack/workspaces.js";
import { drain, startHeartbeat } from "./drain.js";
import { expireEndedPeriods } from "./expire.js";
import { deliverDue } from "./local-run.js";
import { sendAdminNotices } from "./notices.js";
import { Pacers } from "./pacer.js";
import { resolveRecipients } from "./recipients.js";
import { createReconciler } from "./reconcile.js";
import {
  emptySummary,
  newRunState,
  openCount,
  type PlannedRecipient,
  type RunContext,
  type RunState,
  type RunSummary,
} from "./run-state.js";
import { warnIfStale } from "./stale-notice.js";
import {
  audienceOf,
  countRecipients,
  eachRecipientBatch,
  inAudience,
  skipAtTheirWish,
  skipOutsidePilot,
} from "./targets.js";

export type { RunSummary } from "./run-state.js";
export { buildChannelNotice } from "./targets.js";

export interface DeliveryDeps {
  db: Db;
  /** The ledger; by default the one in `db`. */
  ledger?: LedgerStore;
  slack: WebClient;
  directory: Directory;
  reports: ReportService;
  log: Logger;
  config: Pick<
    Config,
    | "REPORT_TIMEZONE"
    | "REPORT_ANCHOR_DATE"
    | "REPORT_INTERVAL_WEEKS"
    | "DELIVERY_RATE_PER_MINUTE"
    | "DELIVERY_LEASE_SECONDS"
    | "ADMIN_EMAILS"
  > &
    Partial<
      Pick<
        Config,
        | "REPORT_LOCAL_TIME"
        | "DATA_MAX_AGE_DAYS"
        | "REPORT_DELIVERY"
        | "REPORT_AUDIENCE"
        | "REPORT_PILOT_EMAILS"
        | "REPORT_PILOT_PROGRAMS"
        | "REPORT_SCOPE"
      >
    >;
  now?: () => number;
  instanceId?: string;
  concurrency?: number;
  /** First backoff after a transient error; doubles each try. */
  retryBaseMs?: number;
  /** The pacers, when other senders (nudges, §18) share each workspace's rate. */
  pacers?: Pacers;
  /** Installed from the link (§16): a token per installation, a pace per workspace. */
  workspaces?: Workspaces | null;
}

/**
 * What a run would send, without Slack or the ledger: each recipient with its rows, and the problem
 * the directory already knows of (a manager not found in Slack) or the data shows (no admin channel).
 */
export async function planPeriod(
  deps: Pick<DeliveryDeps, "reports" | "config"> & { db?: Db },
  asOf: Millis,
): Promise<RunSummary> {
  const { config } = deps;
  const period = periodOf(asOf, periodSettings(config));
  const summary = emptySummary(period, asOf, true);
  const plan: PlannedRecipient[] = [];
  const audience = audienceOf(config);
  // A batch of managers at a time: what a dry run holds does not grow with the company.
  for await (const batch of deps.reports.managerBatches(asOf)) {
    const known = deps.db
      ? await readDirectory(
          deps.db,
          batch.map((m) => m.manager.email),
        )
      : new Map();
    for (const m of batch) {
      const problem = inAudience(audience, "dm", m.manager.email) ? known.get(m.manager.email)?.problem : NOT_IN_PILOT;
      plan.push({ kind: "dm", recipient: m.manager.email, rows: rowCount(m), ...(problem ? { problem } : {}) });
    }
  }
  const programs = await deps.reports.programs();
  // The counts only: one pass over the mentors for every program, no trend.
  const summaries = await deps.reports.programSummaries(programs, asOf, { trend: false, rowsOf: [] });
  for (const [i, program] of programs.entries()) {
    const s = summaries[i];
    plan.push({
      kind: "channel",
      recipient: program.id,
      rows: s ? s.counts.reduce((n, c) => n + c.count, 0) : 0,
      ...(program.adminChannel ? { channel: program.adminChannel } : { problem: "no_admin_channel" }),
      ...(program.adminChannel && !inAudience(audience, "channel", program.id) ? { problem: NOT_IN_PILOT } : {}),
    });
  }
  for (const p of plan) if (p.problem !== NOT_IN_PILOT && (p.kind === "dm" || p.channel)) summary.planned[p.kind]++;
  summary.plan = plan;
  return summary;
}

export function createDeliveryService(deps: DeliveryDeps) {
  const { reports, log, config } = deps;
  const now = deps.now ?? Date.now;
  const retryBaseMs = deps.retryBaseMs ?? 200;
  const periods = periodSettings(config);
  const pacers = deps.pacers ?? new Pacers(config.DELIVERY_RATE_PER_MINUTE, now);
  const workspaces = deps.workspaces ?? null;
  const ctx: RunContext = {
    ledger: deps.ledger ?? createLedgerStore(deps.db),
    reports,
    zone: config.REPORT_TIMEZONE,
    slack: deps.slack,
    directory: deps.directory,
    log,
    now,
    instanceId: deps.instanceId ?? `${process.pid}-${randomUUID().slice(0, 8)}`,
    leaseMs: config.DELIVERY_LEASE_SECONDS * 1000,
    pacer: pacers.for(undefined),
    pacers,
    workspaces,
    channelTeam: async (channel) => {
      const found = workspaces ? await workspaces.findChannel(channel, log) : [];
      const [only] = found;
      if (only && found.length === 1) return { team: only.workspace.id, channelId: only.channelId };
      return { problem: found.length ? "channel_name_in_several_workspaces" : "channel_not_found" };
    },
    reconcile: createReconciler({ slack: deps.slack, log, retryBaseMs }),
    retryBaseMs,
    concurrency: deps.concurrency ?? 4,
    adminEmails: config.ADMIN_EMAILS,
    rememberNewBlocksRejected: (periodId) => rememberNewBlocksRejected(deps.db, periodId),
    rememberDataTableRejected: (periodId) => rememberDataTableRejected(deps.db, periodId),
    freshness: { maxAgeDays: config.DATA_MAX_AGE_DAYS ?? 14, zone: config.REPORT_TIMEZONE },
    audience: audienceOf(config),
  };
  // The Home tab link names one team: with many installations the DMs go without that button.
  const homeLink = workspaces ? async () => undefined : homeLinkOf(deps.slack, log);
  const { ledger } = ctx;

  /**
   * What every run of a period reads before it sends, fixed or local alike, set on its run state: the
   * last delivered as-of of each manager (what changed since), the workspace's refusals of the newer
   * blocks (the DM's form), the Home tab link. Returns the managers' skips (§11).
   */
  async function setUpRun(run: RunState): Promise<Map<string, "paused" | "stopped">> {
    const id = run.period.id;
    const [lastAsOf, skips, rejectsNewBlocks, rejectsDataTable, homeUrl] = await Promise.all([
      ledger.lastDeliveredAsOf(id),
      skipsOf(deps.db, id),
      workspaceRejectsNewBlocks(deps.db, id),
      workspaceRejectsDataTable(deps.db, id),
      homeLink(),
    ]);
    run.lastAsOf = lastAsOf;
    run.homeUrl = homeUrl;
    if (rejectsNewBlocks) run.newBlocks = "rejected";
    if (rejectsDataTable) run.dataTable = "rejected";
    return skips;
  }

  /** The tally that ends every run: what the ledger holds now, and what is left open. */
  async function tallied(run: RunState): Promise<RunSummary> {
    const { summary, period } = run;
    summary.tally = await ledger.tally(period.id);
    summary.left = openCount(summary.tally);
    return summary;
  }

  /**
   * One delivery run of the period that holds `asOf` (contract §7): plan the ledger rows, resolve the
   * managers' Slack users, drain the rows (DMs and channel posts, then the admins' notices), tally.
   * `signal`: a shutdown; the run stops taking rows, lets go of those it holds and returns.
   */
  async function deliverPeriod(opts: {
    asOf: Millis;
    onlyIfIncomplete?: boolean;
    signal?: AbortSignal;
  }): Promise<RunSummary> {
    const period = periodOf(opts.asOf, periods);
    const run = newRunState(period, opts.asOf);
    const { summary } = run;
    if (opts.onlyIfIncomplete && (await ledger.isPeriodComplete(period.id))) {
      summary.skipped = "period-complete";
      return summary;
    }

    // Fixed schedule: a period is retried until the next one starts; then what it left is closed and
    // reported. Local time finishes a previous period's waves itself (they cross the boundary).
    if (config.REPORT_DELIVERY !== "local") {
      const expired = await expireEndedPeriods(ctx, period);
      if (expired.length) summary.expired = expired;
    }

    const [skips, dataAsOf] = await Promise.all([setUpRun(run), reports.dataAsOf()]);
    // Who gets what, a batch of managers at a time; the messages are built when their rows are claimed.
    const { dms, channels } = await eachRecipientBatch(reports, opts.asOf, async (items) => {
      await ledger.plan(period.id, items, now());
      // Managers who paused or stopped their reports (§11), and everyone outside a pilot (§17): settled
      // as skipped before any Slack call.
      await skipAtTheirWish(ctx, run, items, skips);
      await skipOutsidePilot(ctx, period.id, items);
    });
    summary.planned.dm = dms.size;
    summary.planned.channel = channels.length;
    const before = await ledger.tally(period.id);
    summary.alreadyDelivered = { ...before.byState.delivered };

    if (!(await resolveRecipients(ctx, run, before.byState.pending.dm + before.byState.sending.dm, dms)))
      return tallied(run);

    const onAbort = () => {
      run.stop ??= "shutdown";
    };
    if (opts.signal?.aborted) onAbort();
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    const stopHeartbeat = startHeartbeat(ctx, run);
    try {
      const programs = await reports.programs();
      await warnIfStale(ctx, run, { dataAsOf, programs });
      await drain(ctx, run, ["dm", "channel"]);
      if (!run.stop) await sendAdminNotices(ctx, run, programs);
    } finally {
      stopHeartbeat();
      opts.signal?.removeEventListener("abort", onAbort);
    }

    summary.unreachable = run.stop === "unreachable";
    summary.interrupted = run.stop === "shutdown";
    await tallied(run);
    if (summary.left === 0) await ledger.markPeriodComplete(period.id, now());
    log.info(
      {
        period: period.id,
        deliveredNow: summary.deliveredNow,
        left: summary.left,
        failed: summary.tally?.failed.length ?? 0,
      },
      "delivery run finished",
    );
    return summary;
  }

  const local = {
    reports,
    periods,
    timing: { localTime: config.REPORT_LOCAL_TIME ?? "09:00", reportZone: config.REPORT_TIMEZONE },
    setUpRun,
  };

  return {
    deliverPeriod,
    /** Local time (§12): what is due by `asOf`, each DM as of its own due moment; one summary per period. */
    deliverDue: (opts: { asOf: Millis; signal?: AbortSignal; from?: string }) => deliverDue(ctx, local, opts),
    periodOf: (at: Millis) => periodOf(at, periods),
    /** What the scheduler reads to say what it will do (§17): the ledger's history and the audience's size. */
    history: {
      earliestPeriod: () => ledger.earliestPeriod(),
      isPeriodComplete: (periodId: string) => ledger.isPeriodComplete(periodId),
      /** Whether a run ever started the period (or finished it with nothing to send). */
      started: async (periodId: string) =>
        (await ledger.hasRows(periodId)) || (await ledger.isPeriodComplete(periodId)),
      waiting: (periodId: string, after: Millis) => ledger.waiting(periodId, after),
    },
    audience: ctx.audience,
    countRecipients: () => countRecipients(deps.db, config.REPORT_SCOPE ?? "direct", ctx.audience),
  };
}

export type DeliveryService = ReturnType<typeof createDeliveryService>;
