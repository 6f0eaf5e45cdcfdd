import type { DeliveryRow } from "../db/ledger-repo.js";
import { METADATA_EVENT } from "../ids.js";
import { hasDataTable, hasNewBlocks, type Message, withoutNewBlocks } from "../render/blocks.js";
import { classify } from "../slack/client.js";
import { sleep } from "../slack/retry.js";
import { WorkspaceGone } from "../slack/workspaces.js";
import { type RunContext, type RunState, type Target, targetKey } from "./run-state.js";

const MAX_TRIES = 5;
/** A single Retry-After longer than this stops the run: the rows wait for a later tick, not a held process. */
export const MAX_RATE_LIMIT_WAIT_MS = 5 * 60_000;
/** 429s waited out for one row, in total, before the run gives way. */
const MAX_RATE_LIMITED_PER_ROW_MS = 15 * 60_000;
/** What Slack answers with an uninstalled app's token. */
const GONE = new Set(["token_revoked", "invalid_auth", "account_inactive", "team_access_not_granted"]);
/** This many transient failures in a row, with no success between, means Slack is out of reach. */
const UNREACHABLE_AFTER = 8;

/**
 * One claimed row to its end: pending → sending → delivered, or failed for good, or let go for a later
 * run. A row found in doubt (`sending`) is first looked for in Slack, so it is never posted twice.
 */
export async function sendRow(ctx: RunContext, run: RunState, row: DeliveryRow, claim: string): Promise<void> {
  const team = run.targets.get(targetKey(row.kind, row.recipient))?.team;
  if (!ctx.workspaces || team === undefined) return sendRowWith(ctx, run, row, claim);
  try {
    // Every call of this row, the check for an earlier post included, goes with its installation's token.
    return await ctx.workspaces.within(team, () => sendRowWith(ctx, run, row, claim));
  } catch (err) {
    if (!(err instanceof WorkspaceGone)) throw err;
    await ctx.ledger.markFailed({ id: row.id, claim }, "uninstalled", ctx.now());
  }
}

async function sendRowWith(ctx: RunContext, run: RunState, row: DeliveryRow, claim: string): Promise<void> {
  const { ledger, slack, log, now } = ctx;
  const fence = { id: row.id, claim };
  const t = run.targets.get(targetKey(row.kind, row.recipient));
  const pacer = ctx.pacers.for(t?.team);
  if (!t) {
    // Planned by an earlier run whose data had this recipient; today's data does not.
    await ledger.markFailed(fence, "no_longer_in_report", now());
    return;
  }
  if (t.problem && row.state === "pending") {
    await ledger.markFailed(fence, t.problem, now());
    return;
  }
  // A workspace told to wait past the run's bounds (§16): its rows are left for a later run.
  const teamHeld = () => t.team !== undefined && run.heldTeams.has(t.team);
  const held = () => run.stop !== null || teamHeld();
  if (teamHeld()) {
    run.gaveUp.push(row.id);
    await ledger.release(fence, "ratelimited", now());
    return;
  }
  let state = row.state;
  let message = t.message;
  let rateLimitedMs = 0;
  for (let tries = 0; tries < MAX_TRIES && !run.stop; ) {
    let release: (() => void) | null = null;
    try {
      if (state === "sending") {
        if (!t.channel) {
          await ledger.markFailed(fence, t.problem ?? "not_in_slack", now());
          return;
        }
        const found = await ctx.reconcile.findPosted(row, { kind: t.kind, channel: t.channel });
        if (found) {
          await ledger.markDelivered(fence, { ...found, asOf: t.asOf ?? run.summary.asOf, team: t.team }, now());
          run.summary.reconciled++;
          return;
        }
      }
      const channel = t.channel as string;
      ({ message, release } = await gateNewBlocks(run, message));
      // A workspace still held past the bounds by an earlier 429 (this run's or one before) is not waited for.
      if (pacer.heldFor() > MAX_RATE_LIMIT_WAIT_MS) holdPastBounds(run, t, pacer.heldFor(), log);
      await pacer.take(channel, held);
      if (held()) break;
      if (!(await ledger.markSending(fence, now()))) return; // Our claim was taken over.
      state = "sending";
      const res = await slack.chat.postMessage({
        channel,
        text: message.text,
        blocks: message.blocks,
        unfurl_links: false,
        unfurl_media: false,
        metadata: {
          event_type: METADATA_EVENT,
          event_payload: { delivery_id: row.id, period: row.periodId, kind: row.kind },
        },
      });
      run.transientStreak = 0;
      if (release && hasNewBlocks(message)) run.newBlocks = "accepted";
      await ledger.markDelivered(
        fence,
        { channel: res.channel as string, ts: res.ts as string, asOf: t.asOf ?? run.summary.asOf, team: t.team },
        now(),
      );
      run.summary.deliveredNow[t.kind] = (run.summary.deliveredNow[t.kind] ?? 0) + 1;
      return;
    } catch (err) {
      const o = classify(err);
      if (o.kind === "ratelimited") {
        // A 429 means Slack did nothing: the row is plainly pending again, at no cost of a try. Every
        // sender is held at once (before any await). The wait is bounded: by the period's end (a run of
        // the live period), by one long Retry-After, or by many short ones.
        pacer.pause(o.retryAfterMs);
        rateLimitedMs += o.retryAfterMs;
        const at = now();
        const pastPeriod = at < run.period.end && at + o.retryAfterMs >= run.period.end;
        if (pastPeriod || o.retryAfterMs > MAX_RATE_LIMIT_WAIT_MS || rateLimitedMs > MAX_RATE_LIMITED_PER_ROW_MS)
          holdPastBounds(run, t, o.retryAfterMs, log);
        await ledger.markPending(fence, "ratelimited", now());
        state = "pending";
        if (held()) break;
        continue;
      }
      if (o.kind === "fatal" && t.team !== undefined && GONE.has(o.reason)) {
        // One installation's token is gone (uninstalled, revoked): its rows close, the others' go on.
        await ledger.markFailed(fence, "uninstalled", now());
        return;
      }
      if (o.kind === "fatal") {
        run.stop = "fatal";
        run.summary.fatal = o.reason;
        await ledger.markPending(fence, o.reason, now());
        break;
      }
      if (o.kind === "permanent") {
        if (o.reason === "invalid_blocks" && message.blocks.length) {
          // A workspace that rejects a block still gets the report: first without the newer
          // block types (a table, a chart), then as plain text. The refusal is remembered for the rest
          // of the run and for later runs, so that each message does not fail once first.
          if (hasDataTable(message)) {
            // The workspace may still take a table: only data_table is known refused (§18 order).
            message = withoutNewBlocks(message);
            if (run.dataTable !== "rejected") {
              run.dataTable = "rejected";
              await ctx.rememberDataTableRejected(run.period.id);
            }
          } else if (hasNewBlocks(message)) {
            message = withoutNewBlocks(message);
            if (run.newBlocks !== "rejected") {
              run.newBlocks = "rejected";
              await ctx.rememberNewBlocksRejected(run.period.id);
            }
          } else message = { text: message.text, blocks: [] };
          log.warn({ kind: t.kind, blocks: message.blocks.length }, "invalid_blocks: retrying with simpler blocks");
          await ledger.markPending(fence, o.reason, now());
          state = "pending";
          tries++;
          continue;
        }
        await ledger.markFailed(fence, o.reason, now());
        return;
      }
      tries++;
      if (++run.transientStreak >= UNREACHABLE_AFTER) run.stop = "unreachable";
      log.warn({ kind: t.kind, reason: o.reason, tries }, "transient Slack error");
      await sleep(Math.min(4000, ctx.retryBaseMs * 2 ** tries));
    } finally {
      // The probe's answer is in (or it ended some other way, and the next message probes instead).
      release?.();
    }
  }
  run.gaveUp.push(row.id);
  await ledger.release(fence, run.stop ?? (teamHeld() ? "ratelimited" : "gave_up_after_retries"), now());
}

/**
 * Slack asked to wait past the run's bounds: with many workspaces (§16) only that installation's rows
 * wait for a later run, the others go on; with SLACK_BOT_TOKEN's one workspace the run stops.
 */
function holdPastBounds(run: RunState, t: Target, retryAfterMs: number, log: RunContext["log"]): void {
  run.summary.rateLimited = Math.max(run.summary.rateLimited ?? 0, retryAfterMs);
  if (t.team === undefined) {
    if (!run.stop) log.warn({ kind: t.kind, retryAfterMs }, "rate limited past the run's bounds; stopping");
    run.stop ??= "ratelimited";
    return;
  }
  if (run.heldTeams.has(t.team)) return;
  run.heldTeams.add(t.team);
  run.summary.rateLimitedTeams = [...run.heldTeams];
  log.warn({ team: t.team, retryAfterMs }, "one workspace rate limited past the run's bounds; its rows wait");
}

/**
 * Lets a message with the newer block types go while the workspace's answer to them is unknown only as
 * the probe; the others wait for the probe and then go in the form its answer calls for.
 */
async function gateNewBlocks(
  run: RunState,
  message: Message,
): Promise<{ message: Message; release: (() => void) | null }> {
  // A message built before the workspace refused data_table goes in its table form.
  const known = (m: Message) => (run.dataTable === "rejected" && hasDataTable(m) ? withoutNewBlocks(m) : m);
  message = known(message);
  while (hasNewBlocks(message) && run.newBlocks === "unknown") {
    if (!run.newBlocksProbe) {
      let done!: () => void;
      run.newBlocksProbe = new Promise<void>((resolve) => {
        done = resolve;
      });
      return {
        message,
        release: () => {
          run.newBlocksProbe = null;
          done();
        },
      };
    }
    await run.newBlocksProbe;
    message = known(message);
  }
  // A workspace that refuses the newer blocks gets the simplest form (a data_table's is two steps down).
  while (run.newBlocks === "rejected" && hasNewBlocks(message)) message = withoutNewBlocks(message);
  return { message, release: null };
}
