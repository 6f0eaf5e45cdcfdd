import { randomUUID } from "node:crypto";
import type { DeliveryKind } from "../db/ledger-repo.js";
import { safeErrorMessage } from "../errors.js";
import { sleep } from "../slack/retry.js";
import { type RunContext, type RunState, type Target, targetKey } from "./run-state.js";
import { sendRow } from "./send-row.js";
import { buildTargetsFor, prepareTargets } from "./targets.js";

/** Small claims share a period among instances, and a killed instance strands little until its lease ends. */
const CLAIM_BATCH = 25;

/** Renews, while the run lasts, the leases of the claims it works on; the returned function stops it. */
export function startHeartbeat(ctx: RunContext, run: RunState): () => void {
  const { ledger, log, now, leaseMs } = ctx;
  const heartbeat = setInterval(
    () => {
      ledger
        .renewLeases([...run.activeClaims], now() + leaseMs)
        .catch((err) => log.warn({ err: safeErrorMessage(err) }, "lease renewal failed"));
    },
    Math.max(250, leaseMs / 3),
  );
  heartbeat.unref();
  return () => clearInterval(heartbeat);
}

/**
 * The messages of the DMs a next claim would likely take; nothing when that read fails (the claim builds
 * them). Channel summaries are built once, from the run's start (`drain`).
 */
function buildAhead(
  ctx: RunContext,
  run: RunState,
  kinds: DeliveryKind[],
  afterId: number,
): Promise<Map<string, Target>> {
  return ctx.ledger
    .peekDue({ periodId: run.period.id, kinds, now: ctx.now(), afterId, limit: CLAIM_BATCH, dueBy: run.dueBy })
    .then((rows) =>
      buildTargetsFor(
        ctx,
        run,
        rows.filter((r) => r.kind !== "channel"),
      ),
    )
    .catch(() => new Map<string, Target>());
}

/** Works the period's rows of these kinds until none is left, or what is left belongs to a stalled run. */
export async function drain(ctx: RunContext, run: RunState, kinds: DeliveryKind[]): Promise<void> {
  const { ledger, now, leaseMs, instanceId } = ctx;
  const periodId = run.period.id;
  let idleSince = now();
  let lastOpen = Number.POSITIVE_INFINITY;
  let ahead: Promise<Map<string, Target>> = Promise.resolve(new Map());
  // The channel summaries read every mentor of their programs: built from the start, alongside the DMs,
  // so the last claim (where the channel rows are) does not hold the run's last DMs while they are built.
  const channelsAhead: Promise<Map<string, Target>> = kinds.includes("channel")
    ? ctx.ledger
        .peekDue({ periodId, kinds: ["channel"], now: now(), afterId: 0, limit: 100_000, dueBy: run.dueBy })
        .then((rows) => buildTargetsFor(ctx, run, rows))
        .catch(() => new Map<string, Target>())
    : Promise.resolve(new Map());
  try {
    for (;;) {
      if (run.stop) break;
      const claim = `${instanceId}:${randomUUID()}`;
      run.activeClaims.add(claim);
      const rows = await ledger.claimDue({
        periodId,
        kinds,
        owner: instanceId,
        claim,
        now: now(),
        leaseMs,
        limit: CLAIM_BATCH,
        exclude: run.gaveUp,
        dueBy: run.dueBy,
      });
      if (rows.length === 0) {
        run.activeClaims.delete(claim);
        const openNow = await ledger.countOpen(periodId, kinds, run.gaveUp, run.dueBy);
        if (openNow === 0) break;
        // Another instance holds these; wait for it to finish them, or for its lease to run out.
        if (openNow < lastOpen) idleSince = now();
        lastOpen = openNow;
        if (now() - idleSince > 3 * leaseMs) break;
        await sleep(Math.min(1000, leaseMs / 4));
        continue;
      }
      ctx.pacers.share(await ledger.countLiveOwners(periodId, now()));
      const ready = await ahead;
      if (rows.some((r) => r.kind === "channel")) for (const [k, t] of await channelsAhead) ready.set(k, t);
      const built = await prepareTargets(ctx, run, rows, ready);
      // The next rows' messages are built while these are posted, so posting does not wait on the database.
      ahead = buildAhead(ctx, run, kinds, rows.at(-1)?.id ?? 0);
      const queue = [...rows];
      // Each workspace has its own pace (§16): a claim spread over several posts as many at once each.
      const teams = new Set(rows.map((r) => run.targets.get(targetKey(r.kind, r.recipient))?.team)).size;
      await Promise.all(
        Array.from({ length: Math.min(ctx.concurrency * Math.max(1, teams), queue.length) }, async () => {
          for (let row = queue.shift(); row; row = queue.shift()) {
            if (run.stop) {
              await ledger.release({ id: row.id, claim }, run.stop, now());
              continue;
            }
            await sendRow(ctx, run, row, claim);
          }
        }),
      );
      for (const key of built) run.targets.delete(key);
      run.activeClaims.delete(claim);
    }
  } finally {
    // Nothing of this run still reads the database once it returns.
    await Promise.all([ahead, channelsAhead]);
  }
}
