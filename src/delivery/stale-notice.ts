import { daysSince, isStale } from "../domain/freshness.js";
import type { Millis, Program } from "../domain/types.js";
import { safeErrorMessage } from "../errors.js";
import { buildStaleDataNotice } from "../render/data-in.js";
import { drain } from "./drain.js";
import { type RunContext, type RunState, type Target, targetKey } from "./run-state.js";

/**
 * Before a run delivers reports built on data older than DATA_MAX_AGE_DAYS, each program admin is told,
 * once a period: a `stale` row per admin in the same ledger, so reruns, waves and instances add nothing.
 * The warning never holds back the reports: when it cannot go (Slack briefly away while the admins are
 * looked up), the run goes on and its rows stay open for the next run.
 */
export async function warnIfStale(
  ctx: RunContext,
  run: RunState,
  data: { dataAsOf: Millis | null | undefined; programs: Program[] },
): Promise<void> {
  try {
    await warn(ctx, run, data);
  } catch (err) {
    ctx.log.warn({ err: safeErrorMessage(err) }, "the stale-data warning could not go now; the reports go on");
  }
}

async function warn(
  ctx: RunContext,
  run: RunState,
  data: { dataAsOf: Millis | null | undefined; programs: Program[] },
): Promise<void> {
  const { ledger, directory, now, freshness } = ctx;
  const dataAsOf = data.dataAsOf ?? null;
  if (dataAsOf === null || !isStale(dataAsOf, now(), freshness.maxAgeDays)) return;
  const admins = [...new Set([...ctx.adminEmails, ...data.programs.flatMap((p) => p.adminEmails)])];
  if (!admins.length) return;
  await ledger.plan(
    run.period.id,
    admins.map((a) => ({ kind: "stale" as const, recipient: a })),
    now(),
  );
  const open = await ledger.openRecipients(run.period.id, "stale");
  if (!open.length) return;
  const message = buildStaleDataNotice({
    dataAsOf,
    days: daysSince(dataAsOf, now()),
    maxAgeDays: freshness.maxAgeDays,
    zone: freshness.zone,
  });
  const users = await directory.resolve(open);
  for (const admin of open) {
    const t: Target = { kind: "stale", recipient: admin, message };
    const r = users.get(admin);
    if (r && "userId" in r) {
      t.channel = r.userId;
      t.team = r.team;
    } else t.problem = r?.problem ?? "not_in_slack";
    run.targets.set(targetKey("stale", admin), t);
  }
  await drain(ctx, run, ["stale"]);
}
