import type { Resolution } from "../slack/directory.js";
import { SlackCallError } from "../slack/retry.js";
import type { RunContext, RunState } from "./run-state.js";

/**
 * Finds the Slack user of every manager whose DM is still open, and settles at once those in today's
 * report (`inReport`) who have none. False when the directory could not be read: no DM can go out, and the run stops there.
 */
export async function resolveRecipients(
  ctx: RunContext,
  run: RunState,
  openDms: number,
  inReport: ReadonlySet<string>,
): Promise<boolean> {
  const { ledger, directory, log, now } = ctx;
  const { period, summary } = run;
  let resolved = new Map<string, Resolution>();
  if (openDms > 0) {
    try {
      resolved = await directory.resolve(await ledger.openRecipients(period.id, "dm", run.dueBy));
    } catch (err) {
      if (!(err instanceof SlackCallError) || err.outcome.kind === "permanent") throw err;
      // Without the directory no DM can go out; the next run starts here again.
      summary.fatal = err.outcome.kind === "fatal" ? err.outcome.reason : null;
      summary.unreachable = err.outcome.kind !== "fatal";
      log.error({ reason: err.message }, "directory lookup failed; delivery stopped");
      return false;
    }
  }
  run.resolved = resolved;
  const unreachable = new Map<string, string[]>();
  for (const [email, r] of resolved) {
    if ("userId" in r || !inReport.has(email)) continue;
    const list = unreachable.get(r.problem);
    if (list) list.push(email);
    else unreachable.set(r.problem, [email]);
  }
  // Managers with no Slack account are settled in one statement each kind, not a claim each.
  for (const [error, recipients] of unreachable)
    await ledger.failPending({ periodId: period.id, kind: "dm", recipients, error, now: now() });
  return true;
}
