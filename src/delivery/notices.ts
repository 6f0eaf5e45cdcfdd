import { noticeRecipient } from "../domain/notice-key.js";
import type { Program } from "../domain/types.js";
import { safeErrorMessage } from "../errors.js";
import { drain } from "./drain.js";
import { type RunContext, type RunState, type Target, targetKey } from "./run-state.js";
import { buildChannelNotice } from "./targets.js";

/**
 * Tells each admin of a program whose channel post failed for good, once a period, through the same
 * ledger. A notice that cannot go now (Slack briefly away) does not fail the run that delivered the
 * reports: its rows stay open and a later run sends them.
 */
export async function sendAdminNotices(ctx: RunContext, run: RunState, programs: Program[]): Promise<void> {
  try {
    await sendNotices(ctx, run, programs);
  } catch (err) {
    ctx.log.warn({ err: safeErrorMessage(err) }, "admin notices could not go now; a later run sends them");
  }
}

async function sendNotices(ctx: RunContext, run: RunState, programs: Program[]): Promise<void> {
  const { ledger, directory, now } = ctx;
  const failures = await ledger.failedChannels(run.period.id);
  if (!failures.length) return;
  const byId = new Map(programs.map((p) => [p.id, p]));
  const notices: Array<Target & { admin: string }> = [];
  for (const f of failures) {
    const program = byId.get(f.programId);
    if (!program) continue;
    const message = buildChannelNotice(program, f.error);
    for (const admin of new Set([...program.adminEmails, ...ctx.adminEmails]))
      notices.push({ kind: "notice", recipient: noticeRecipient(program.id, admin), admin, message });
  }
  if (!notices.length) return;
  await ledger.plan(
    run.period.id,
    notices.map((n) => ({ kind: n.kind, recipient: n.recipient })),
    now(),
  );
  const admins = await directory.resolve(notices.map((n) => n.admin));
  for (const { admin, ...n } of notices) {
    const r = admins.get(admin);
    if (r && "userId" in r) {
      n.channel = r.userId;
      n.team = r.team;
    } else n.problem = r?.problem ?? "not_in_slack";
    run.targets.set(targetKey("notice", n.recipient), n);
  }
  await drain(ctx, run, ["notice"]);
}
