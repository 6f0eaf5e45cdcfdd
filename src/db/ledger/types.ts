import type { DeliveryRecord } from "../tables.js";

/**
 * dm: a manager's report · channel: a program's summary · notice: a program admin told that its channel
 * post failed · stale: a program admin told, before the run delivers, that the data is old (§13).
 */
export type DeliveryKind = DeliveryRecord["kind"];
/**
 * pending: not sent · sending: a post may have reached Slack (check before resending) · delivered ·
 * failed: permanent · skipped: the manager paused or stopped their reports (§11), or is outside a pilot (§17).
 */
export type DeliveryState = DeliveryRecord["state"];

export interface DeliveryRow {
  id: number;
  periodId: string;
  kind: DeliveryKind;
  recipient: string;
  state: DeliveryState;
  attempts: number;
  updatedAt: number;
  error: string | null;
  /** Local time (§12): when the report is due, and the moment it is built as of; null: at once. */
  dueAt: number | null;
}

/** A claimed row is changed only by the claim that holds it: a run whose lease ran out changes nothing. */
export type Fence = { id: number; claim: string };

/** `stale` and `nudge` are there only in a period that had such rows. */
export type KindCounts = Record<Exclude<DeliveryKind, "stale" | "nudge">, number> & { stale?: number; nudge?: number };
/** The skip reason of a recipient outside a pilot (§17). */
export const NOT_IN_PILOT = "not_in_pilot";

export const noCounts = (): KindCounts => ({ dm: 0, channel: 0, notice: 0 });

export interface PeriodTally {
  byState: Record<DeliveryState, KindCounts>;
  failed: Array<{ kind: DeliveryKind; recipient: string; error: string }>;
  /** Managers whose report was skipped at their wish, with the reason (`paused`, `stopped`). */
  skipped: Array<{ recipient: string; reason: string }>;
  /**
   * Recipients outside a pilot (§17, `not_in_pilot`), counted, not listed: a pilot of ten in a company of
   * thousands would otherwise list everyone else at every tally.
   */
  outsidePilot: { dm: number; channel: number };
}

export interface ClaimQuery {
  periodId: string;
  kinds: DeliveryKind[];
  owner: string;
  claim: string;
  now: number;
  leaseMs: number;
  limit: number;
  exclude: number[];
  /** Local time (§12): only rows due by then (and those due at once). */
  dueBy?: number;
}

/** A planned row: `dueAt`, the moment its report is due and built as of; none: at once. */
export type PlanItem = { kind: DeliveryKind; recipient: string; dueAt?: number | null };

/** A row closed because its period ended before it could be delivered. */
export type ExpiredRow = { periodId: string; kind: DeliveryKind; recipient: string };

/** The delivery ledger: one row per period and recipient, and the periods that are done. */
export interface LedgerStore {
  /**
   * Closes the open rows of every period before `periodId` as failed `expired` (no live claim on
   * them), and marks those periods done: a period is finished until the next one starts, not after.
   */
  expireBefore(periodId: string, now: number): Promise<ExpiredRow[]>;
  /** Records the period's recipients; a recipient already there keeps its row (and its state). */
  plan(periodId: string, items: PlanItem[], now: number): Promise<void>;
  /** Whether any row of the period was planned. */
  hasRows(periodId: string): Promise<boolean>;
  /** The earliest period any run ever started or finished (§17: none on a fresh database). */
  earliestPeriod(): Promise<string | null>;
  /**
   * Local time: whether a run finished planning the period's recipients. Planning goes a batch at a time,
   * so rows alone do not say the list is whole: until it is, no run may call the period complete.
   */
  isPlanned(periodId: string): Promise<boolean>;
  markPlanned(periodId: string): Promise<void>;
  /** Recipients of this kind whose row is not final yet (and, with `dueBy`, is due by then). */
  openRecipients(periodId: string, kind: DeliveryKind, dueBy?: number): Promise<string[]>;
  /** The rows not final yet and due by `dueBy` (or at once), with their due moments. */
  openDue(
    periodId: string,
    dueBy: number,
  ): Promise<Array<{ kind: DeliveryKind; recipient: string; dueAt: number | null }>>;
  /** Open rows that wait for their local time after `after`, and the earliest of their moments. */
  waiting(periodId: string, after: number): Promise<{ count: number; next: number | null }>;
  /**
   * Takes up to `limit` rows of the period that nobody holds (or whose holder's lease ran out). The
   * conditional UPDATE is what makes a claim exclusive across processes on both engines.
   */
  claimDue(q: ClaimQuery): Promise<DeliveryRow[]>;
  /** The rows a next claim would likely take (free, due, after `afterId`), without claiming them. */
  peekDue(q: Omit<ClaimQuery, "owner" | "claim" | "leaseMs" | "exclude"> & { afterId: number }): Promise<DeliveryRow[]>;
  /** Extends the leases of the claims this process still works on. */
  renewLeases(claims: string[], leaseUntil: number): Promise<void>;
  /**
   * Marks, in one statement per chunk, the period's pending rows of these recipients as failed for good
   * (no Slack user to send to). Rows someone holds are left to their holder.
   */
  failPending(q: {
    periodId: string;
    kind: DeliveryKind;
    recipients: string[];
    error: string;
    now: number;
  }): Promise<void>;
  /** Rows some instance holds right now, for `status`. */
  listHeld(
    periodId: string,
  ): Promise<Array<{ kind: DeliveryKind; recipient: string; owner: string; leaseUntil: number }>>;
  /** How many instances hold live claims in the period (this one included), to share the posting rate. */
  countLiveOwners(periodId: string, now: number): Promise<number>;
  /** Rows of these kinds not yet final (pending or in doubt), leaving out `exclude`. */
  countOpen(periodId: string, kinds: DeliveryKind[], exclude: number[], dueBy?: number): Promise<number>;
  /** Programs whose channel summary failed for good this period, with the reason. */
  failedChannels(periodId: string): Promise<Array<{ programId: string; error: string }>>;
  /** Written before the post goes out, so a crash after it leaves the row in doubt, not pending. */
  markSending(f: Fence, now: number): Promise<boolean>;
  markPending(f: Fence, error: string | null, now: number): Promise<boolean>;
  /** `asOf`: the time the delivered report was built at, from which the next one tells what changed. */
  /** `team`: the installation it was delivered in (§16). */
  markDelivered(
    f: Fence,
    where: { channel: string; ts: string; asOf?: number; team?: string },
    now: number,
  ): Promise<boolean>;
  /** Settles the period's pending rows (DMs unless `kind` says) of these recipients as skipped, with the reason, in one statement a chunk. */
  skipPending(q: {
    periodId: string;
    kind?: DeliveryKind;
    recipients: string[];
    reason: string;
    now: number;
  }): Promise<void>;
  /** Every manager's as-of of the last DM delivered to them before this period, in one grouped read. */
  lastDeliveredAsOf(periodId: string): Promise<Map<string, number>>;
  markFailed(f: Fence, error: string, now: number): Promise<boolean>;
  /** Lets go of a row without finishing it (Slack unreachable, the run stopping): another run takes it. */
  release(f: Fence, error: string | null, now: number): Promise<void>;
  tally(periodId: string): Promise<PeriodTally>;
  isPeriodComplete(periodId: string): Promise<boolean>;
  markPeriodComplete(periodId: string, now: number): Promise<void>;
}
