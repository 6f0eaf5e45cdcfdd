import { randomUUID } from "node:crypto";
import type { WebClient } from "@slack/web-api";
import type { Config } from "../config.js";
import type { Db } from "../db/knex.js";
import {
  claimDue,
  countLiveOwners,
  countOpen,
  type DeliveryKind,
  type DeliveryRow,
  failedChannels,
  failPending,
  isPeriodComplete,
  type KindCounts,
  markDelivered,
  markFailed,
  markPending,
  markPeriodComplete,
  markSending,
  noCounts,
  type PeriodTally,
  planDeliveries,
  release,
  renewLeases,
  tallyPeriod,
} from "../db/ledger-repo.js";
import { type Period, periodOf } from "../domain/periods.js";
import type { ManagerReport, ProgramSummary } from "../domain/reports.js";
import type { Millis, Program } from "../domain/types.js";
import { safeErrorMessage } from "../errors.js";
import type { Logger } from "../logger.js";
import {
  buildManagerBlocks,
  buildProgramBlocks,
  esc,
  hasNewBlocks,
  type Message,
  withoutNewBlocks,
} from "../render/blocks.js";
import type { ReportService } from "../services/report-service.js";
import { classify } from "../slack/client.js";
import type { Directory, Resolution } from "../slack/directory.js";
import { readWithRetry, SlackCallError, sleep } from "../slack/retry.js";
import { Pacer } from "./pacer.js";

export const METADATA_EVENT = "mentorship_report";
const MAX_TRIES = 5;
/** This many transient failures in a row, with no success between, means Slack is out of reach. */
const UNREACHABLE_AFTER = 8;
/** Small claims share a period among instances, and a killed instance strands little until its lease ends. */
const CLAIM_BATCH = 25;

export interface RunSummary {
  period: Period;
  asOf: Millis;
  dryRun: boolean;
  skipped?: "period-complete";
  planned: KindCounts;
  deliveredNow: KindCounts;
  reconciled: number;
  /** Delivered by earlier runs of the same period. */
  alreadyDelivered: KindCounts;
  tally: PeriodTally | null;
  /** Rows this run left for a later one (Slack out of reach, a shutdown, or another instance still holds them). */
  left: number;
  unreachable: boolean;
  /** The run stopped early because the process is shutting down. */
  interrupted: boolean;
  fatal: string | null;
}

export interface DeliveryDeps {
  db: Db;
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
  >;
  now?: () => number;
  instanceId?: string;
  concurrency?: number;
  /** First backoff after a transient error; doubles each try. */
  retryBaseMs?: number;
}

interface Target {
  kind: DeliveryKind;
  recipient: string;
  message: Message;
  /** Where to post: a user id (Slack opens the DM) or a channel id or name. */
  channel?: string;
  problem?: string;
}

function buildTargets(
  zone: string,
  period: Period,
  managers: ManagerReport[],
  programs: Array<{ program: Program; summary: ProgramSummary }>,
): Map<string, Target> {
  const targets = new Map<string, Target>();
  for (const r of managers)
    targets.set(`dm:${r.manager.email}`, {
      kind: "dm",
      recipient: r.manager.email,
      message: buildManagerBlocks(r, { zone, period }),
    });
  for (const { program, summary } of programs) {
    if (!program.adminChannel) continue;
    targets.set(`channel:${program.id}`, {
      kind: "channel",
      recipient: program.id,
      channel: program.adminChannel,
      message: buildProgramBlocks(summary, { zone, period, chart: true }),
    });
  }
  return targets;
}

/** What a program admin reads when the program's channel summary could not be posted. */
export function buildChannelNotice(program: Program, error: string): Message {
  const text =
    `I could not post the ${program.name} summary to ${program.adminChannel ?? "its channel"} (${error}). ` +
    "Invite the app to the channel, or fix admin_channel in programs.csv; the next period will try again.";
  return { text, blocks: [{ type: "section", text: { type: "mrkdwn", text: esc(text) } }] };
}

const openCount = (t: PeriodTally) =>
  Object.values(t.byState.pending).reduce((a, b) => a + b, 0) +
  Object.values(t.byState.sending).reduce((a, b) => a + b, 0);

function emptySummary(period: Period, asOf: Millis, dryRun: boolean): RunSummary {
  return {
    period,
    asOf,
    dryRun,
    planned: noCounts(),
    deliveredNow: noCounts(),
    reconciled: 0,
    alreadyDelivered: noCounts(),
    tally: null,
    left: 0,
    unreachable: false,
    interrupted: false,
    fatal: null,
  };
}

/** What a run would send, without Slack or the ledger. */
export async function planPeriod(deps: Pick<DeliveryDeps, "reports" | "config">, asOf: Millis): Promise<RunSummary> {
  const { config } = deps;
  const period = periodOf(asOf, {
    anchorDate: config.REPORT_ANCHOR_DATE,
    intervalWeeks: config.REPORT_INTERVAL_WEEKS,
    zone: config.REPORT_TIMEZONE,
  });
  const summary = emptySummary(period, asOf, true);
  const { managers, programs } = await deps.reports.everything(asOf);
  for (const t of buildTargets(config.REPORT_TIMEZONE, period, managers, programs).values()) summary.planned[t.kind]++;
  return summary;
}

export function createDeliveryService(deps: DeliveryDeps) {
  const { db, slack, directory, reports, log, config } = deps;
  const adminEmails = config.ADMIN_EMAILS;
  const now = deps.now ?? Date.now;
  const instanceId = deps.instanceId ?? `${process.pid}-${randomUUID().slice(0, 8)}`;
  const leaseMs = config.DELIVERY_LEASE_SECONDS * 1000;
  const zone = config.REPORT_TIMEZONE;
  const periods = { anchorDate: config.REPORT_ANCHOR_DATE, intervalWeeks: config.REPORT_INTERVAL_WEEKS, zone };
  const pacer = new Pacer(config.DELIVERY_RATE_PER_MINUTE, now);
  const retryBaseMs = deps.retryBaseMs ?? 200;
  const retry = { baseMs: retryBaseMs };

  let channelIds: Map<string, string> | null = null;
  /** conversations.history wants an id; a program may name its channel `#name`. */
  async function channelId(nameOrId: string): Promise<string> {
    if (/^[CGD][A-Z0-9]+$/.test(nameOrId)) return nameOrId;
    if (!channelIds) {
      channelIds = new Map();
      let cursor: string | undefined;
      do {
        const page = await readWithRetry(
          "conversations.list",
          () =>
            slack.conversations.list({
              limit: 1000,
              cursor,
              exclude_archived: true,
              types: "public_channel,private_channel",
            }),
          log,
          retry,
        );
        for (const c of page.channels ?? []) if (c.name && c.id) channelIds.set(c.name, c.id);
        cursor = page.response_metadata?.next_cursor || undefined;
      } while (cursor);
    }
    return channelIds.get(nameOrId.replace(/^#/, "")) ?? nameOrId;
  }

  /** Looks in Slack for a post that may have gone out before a crash or a lost response. */
  async function findPosted(row: DeliveryRow, t: Target): Promise<{ channel: string; ts: string } | null> {
    let channel = t.channel!;
    if (t.kind !== "channel") {
      const open = await readWithRetry(
        "conversations.open",
        () => slack.conversations.open({ users: channel }),
        log,
        retry,
      );
      channel = open.channel!.id!;
    } else {
      channel = await channelId(channel);
    }
    const history = await readWithRetry(
      "conversations.history",
      () =>
        slack.conversations.history({
          channel,
          oldest: String(Math.floor(row.updatedAt / 1000) - 300),
          limit: 200,
          include_all_metadata: true,
        }),
      log,
      retry,
    );
    for (const m of history.messages ?? []) {
      const md = (m as { metadata?: { event_type?: string; event_payload?: Record<string, unknown> } }).metadata;
      if (
        md?.event_type === METADATA_EVENT &&
        md.event_payload?.delivery_id === row.id &&
        md.event_payload?.period === row.periodId
      ) {
        return { channel, ts: m.ts! };
      }
    }
    return null;
  }

  /** `signal`: a shutdown; the run stops taking rows, lets go of those it holds and returns. */
  async function deliverPeriod(opts: {
    asOf: Millis;
    onlyIfIncomplete?: boolean;
    signal?: AbortSignal;
  }): Promise<RunSummary> {
    const period = periodOf(opts.asOf, periods);
    const summary = emptySummary(period, opts.asOf, false);
    if (opts.onlyIfIncomplete && (await isPeriodComplete(db, period.id))) {
      summary.skipped = "period-complete";
      return summary;
    }
    const { managers, programs } = await reports.everything(opts.asOf);
    const targets = buildTargets(zone, period, managers, programs);
    for (const t of targets.values()) summary.planned[t.kind]++;

    await planDeliveries(
      db,
      period.id,
      [...targets.values()].map((t) => ({ kind: t.kind, recipient: t.recipient })),
      now(),
    );
    const before = await tallyPeriod(db, period.id);
    summary.alreadyDelivered = { ...before.byState.delivered };
    const open = before.byState.pending.dm + before.byState.sending.dm;
    let resolved = new Map<string, Resolution>();
    if (open > 0) {
      const emails: string[] = await db("deliveries")
        .where({ period_id: period.id, kind: "dm" })
        .whereIn("state", ["pending", "sending"])
        .pluck("recipient");
      try {
        resolved = await directory.resolve(emails);
      } catch (err) {
        if (!(err instanceof SlackCallError) || err.outcome.kind === "permanent") throw err;
        // Without the directory no DM can go out; the next run starts here again.
        summary.fatal = err.outcome.kind === "fatal" ? err.outcome.reason : null;
        summary.unreachable = err.outcome.kind !== "fatal";
        summary.tally = await tallyPeriod(db, period.id);
        summary.left = openCount(summary.tally);
        log.error({ reason: err.message }, "directory lookup failed; delivery stopped");
        return summary;
      }
    }
    const unreachable = new Map<string, string[]>();
    for (const t of targets.values()) {
      if (t.kind !== "dm") continue;
      const r = resolved.get(t.recipient);
      if (r && "userId" in r) t.channel = r.userId;
      else if (r) {
        t.problem = r.problem;
        const list = unreachable.get(r.problem);
        if (list) list.push(t.recipient);
        else unreachable.set(r.problem, [t.recipient]);
      }
    }
    // Managers with no Slack account are settled in one statement each kind, not a claim each.
    for (const [error, recipients] of unreachable)
      await failPending(db, { periodId: period.id, kind: "dm", recipients, error, now: now() });

    const activeClaims = new Set<string>();
    const heartbeat = setInterval(
      () => {
        renewLeases(db, [...activeClaims], now() + leaseMs).catch((err) =>
          log.warn({ err: safeErrorMessage(err) }, "lease renewal failed"),
        );
      },
      Math.max(250, leaseMs / 3),
    );
    heartbeat.unref();

    const gaveUp: number[] = [];
    let transientStreak = 0;
    let stop: "unreachable" | "fatal" | "shutdown" | null = null;
    const onAbort = () => (stop ??= "shutdown");
    if (opts.signal?.aborted) onAbort();
    opts.signal?.addEventListener("abort", onAbort, { once: true });

    async function deliverOne(row: DeliveryRow, claim: string): Promise<void> {
      const fence = { id: row.id, claim };
      const t = targets.get(`${row.kind}:${row.recipient}`);
      if (!t) {
        // Planned by an earlier run whose data had this recipient; today's data does not.
        await markFailed(db, fence, "no_longer_in_report", now());
        return;
      }
      if (t.problem && row.state === "pending") {
        await markFailed(db, fence, t.problem, now());
        return;
      }
      let state = row.state;
      let message = t.message;
      for (let tries = 0; tries < MAX_TRIES && !stop; ) {
        try {
          if (state === "sending") {
            if (!t.channel) {
              await markFailed(db, fence, t.problem ?? "not_in_slack", now());
              return;
            }
            const found = await findPosted(row, t);
            if (found) {
              await markDelivered(db, fence, found, now());
              summary.reconciled++;
              return;
            }
          }
          await pacer.take(t.channel!);
          if (stop) break;
          if (!(await markSending(db, fence, now()))) return; // Our claim was taken over.
          state = "sending";
          const res = await slack.chat.postMessage({
            channel: t.channel!,
            text: message.text,
            blocks: message.blocks as never,
            unfurl_links: false,
            unfurl_media: false,
            metadata: {
              event_type: METADATA_EVENT,
              event_payload: { delivery_id: row.id, period: row.periodId, kind: row.kind },
            },
          });
          transientStreak = 0;
          await markDelivered(db, fence, { channel: res.channel!, ts: res.ts! }, now());
          summary.deliveredNow[t.kind]++;
          return;
        } catch (err) {
          const o = classify(err);
          if (o.kind === "ratelimited") {
            // A 429 means Slack did nothing: the row is plainly pending again, at no cost of a try.
            pacer.pause(o.retryAfterMs);
            await markPending(db, fence, "ratelimited", now());
            state = "pending";
            continue;
          }
          if (o.kind === "fatal") {
            stop = "fatal";
            summary.fatal = o.reason;
            await markPending(db, fence, o.reason, now());
            break;
          }
          if (o.kind === "permanent") {
            if (o.reason === "invalid_blocks" && message.blocks.length) {
              // A workspace that rejects a block still gets the report: first without the newer
              // block types (a chart), then as plain text.
              message = hasNewBlocks(message) ? withoutNewBlocks(message) : { text: message.text, blocks: [] };
              log.warn({ kind: t.kind, blocks: message.blocks.length }, "invalid_blocks: retrying with simpler blocks");
              await markPending(db, fence, o.reason, now());
              state = "pending";
              tries++;
              continue;
            }
            await markFailed(db, fence, o.reason, now());
            return;
          }
          tries++;
          if (++transientStreak >= UNREACHABLE_AFTER) stop = "unreachable";
          log.warn({ kind: t.kind, reason: o.reason, tries }, "transient Slack error");
          await sleep(Math.min(4000, retryBaseMs * 2 ** tries));
        }
      }
      gaveUp.push(row.id);
      await release(db, fence, stop ?? "gave_up_after_retries", now());
    }

    const workers = deps.concurrency ?? 4;
    /** Works the period's rows of these kinds until none is left, or what is left belongs to a stalled run. */
    async function drain(kinds: DeliveryKind[]): Promise<void> {
      let idleSince = now();
      let lastOpen = Infinity;
      for (;;) {
        if (stop) break;
        const claim = `${instanceId}:${randomUUID()}`;
        activeClaims.add(claim);
        const rows = await claimDue(db, {
          periodId: period.id,
          kinds,
          owner: instanceId,
          claim,
          now: now(),
          leaseMs,
          limit: CLAIM_BATCH,
          exclude: gaveUp,
        });
        if (rows.length) pacer.share(await countLiveOwners(db, period.id, now()));
        if (rows.length === 0) {
          activeClaims.delete(claim);
          const openNow = await countOpen(db, period.id, kinds, gaveUp);
          if (openNow === 0) break;
          // Another instance holds these; wait for it to finish them, or for its lease to run out.
          if (openNow < lastOpen) idleSince = now();
          lastOpen = openNow;
          if (now() - idleSince > 3 * leaseMs) break;
          await sleep(Math.min(1000, leaseMs / 4));
          continue;
        }
        const queue = [...rows];
        await Promise.all(
          Array.from({ length: Math.min(workers, queue.length) }, async () => {
            for (let row = queue.shift(); row; row = queue.shift()) {
              if (stop) {
                await release(db, { id: row.id, claim }, stop, now());
                continue;
              }
              await deliverOne(row, claim);
            }
          }),
        );
        activeClaims.delete(claim);
      }
    }

    try {
      await drain(["dm", "channel"]);
      if (!stop) await noticePhase();
    } finally {
      clearInterval(heartbeat);
      opts.signal?.removeEventListener("abort", onAbort);
    }

    /** Tells each admin of a program whose channel post failed for good, once a period, through the same ledger. */
    async function noticePhase(): Promise<void> {
      const failures = await failedChannels(db, period.id);
      if (!failures.length) return;
      const byId = new Map(programs.map((p) => [p.program.id, p.program]));
      const notices: Target[] = [];
      for (const f of failures) {
        const program = byId.get(f.programId);
        if (!program) continue;
        const message = buildChannelNotice(program, f.error);
        for (const admin of new Set([...program.adminEmails, ...adminEmails]))
          notices.push({ kind: "notice", recipient: `${program.id}>${admin}`, message });
      }
      if (!notices.length) return;
      await planDeliveries(db, period.id, notices, now());
      const admins = await directory.resolve(notices.map((n) => n.recipient.split(">")[1]!));
      for (const n of notices) {
        const r = admins.get(n.recipient.split(">")[1]!);
        if (r && "userId" in r) n.channel = r.userId;
        else n.problem = r?.problem ?? "not_in_slack";
        targets.set(`notice:${n.recipient}`, n);
      }
      await drain(["notice"]);
    }

    summary.unreachable = stop === "unreachable";
    summary.interrupted = stop === "shutdown";
    summary.tally = await tallyPeriod(db, period.id);
    summary.left = openCount(summary.tally);
    if (summary.left === 0) await markPeriodComplete(db, period.id, now());
    log.info(
      {
        period: period.id,
        deliveredNow: summary.deliveredNow,
        left: summary.left,
        failed: summary.tally.failed.length,
      },
      "delivery run finished",
    );
    return summary;
  }

  return { deliverPeriod, periodOf: (at: Millis) => periodOf(at, periods) };
}

export type DeliveryService = ReturnType<typeof createDeliveryService>;
