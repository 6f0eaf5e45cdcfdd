import type { ExpiredRow } from "../db/ledger-repo.js";
import type { Period } from "../domain/periods.js";
import type { RunContext } from "./run-state.js";

/** The period each delivery service last closed the earlier periods for. */
const checked = new WeakMap<RunContext, string>();

/**
 * A period is finished by later runs until the next one starts (§14); the first run of a new period
 * closes what the earlier ones left as expired. Asked once a period per service: the scan covers the
 * ledger's whole history, and a scheduler wakes every minute.
 */
export async function expireEndedPeriods(ctx: RunContext, current: Period): Promise<ExpiredRow[]> {
  if (checked.get(ctx) === current.id) return [];
  const expired = await ctx.ledger.expireBefore(current.id, ctx.now());
  checked.set(ctx, current.id);
  if (expired.length)
    ctx.log.warn(
      { period: current.id, expired: expired.length, periods: [...new Set(expired.map((e) => e.periodId))] },
      "open rows of ended periods closed as expired",
    );
  return expired;
}
