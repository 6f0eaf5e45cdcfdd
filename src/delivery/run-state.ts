import type { WebClient } from "@slack/web-api";
import type { DeliveryKind, DeliveryRow, ExpiredRow, KindCounts, LedgerStore, PeriodTally } from "../db/ledger-repo.js";
import { noCounts } from "../db/ledger-repo.js";
import type { Period } from "../domain/periods.js";
import type { Millis } from "../domain/types.js";
import type { Logger } from "../logger.js";
import type { Message } from "../render/blocks.js";
import type { ReportService } from "../services/report-service.js";
import type { Directory, Resolution } from "../slack/directory.js";
import type { Workspaces } from "../slack/workspaces.js";
import type { Pacer, Pacers } from "./pacer.js";
import type { Reconciler } from "./reconcile.js";
import type { Audience } from "./targets.js";

export interface RunSummary {
  period: Period;
  asOf: Millis;
  dryRun: boolean;
  /** not-due: local time (§12), nothing of the period is due yet. */
  skipped?: "period-complete" | "not-due";
  /** Local time: rows that wait for their managers' local time, and the next wave's moment. */
  waiting?: { count: number; next: Millis | null };
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
  /** The run stopped on a 429 whose Retry-After (ms) was past its bounds (§15): the rows wait for a later run. */
  rateLimited?: number;
  /**
   * With many workspaces (§16): the installations told to wait past the bounds. Only their rows wait for a
   * later run; the other workspaces' go on.
   */
  rateLimitedTeams?: string[];
  /** Open rows of earlier periods this run closed: their period ended before Slack could take them. */
  expired?: ExpiredRow[];
  /** A dry run: who would get what (managers and programs only, never a mentee), and what stands in the way. */
  plan?: PlannedRecipient[];
}

export interface PlannedRecipient {
  kind: DeliveryKind;
  /** A manager's email (dm) or a program's id (channel). */
  recipient: string;
  channel?: string;
  /** Report rows the message carries. */
  rows: number;
  /** Why it would not arrive, from what the app already knows (no call to Slack). */
  problem?: string;
}

/** One message a run may send, keyed in the run by `kind:recipient` like its ledger row. */
export interface Target {
  kind: DeliveryKind;
  recipient: string;
  message: Message;
  /** Where to post: a user id (Slack opens the DM) or a channel id or name. */
  channel?: string;
  /** The installation to post with (§16); absent with SLACK_BOT_TOKEN's one workspace. */
  team?: string;
  problem?: string;
  /** The time the report was built at, when not the run's (local time: its due moment). */
  asOf?: Millis;
}

export const targetKey = (kind: DeliveryKind, recipient: string) => `${kind}:${recipient}`;

/** What every run of one delivery service shares: its collaborators and settings. */
export interface RunContext {
  ledger: LedgerStore;
  reports: ReportService;
  /** The report zone: dates in the messages. */
  zone: string;
  slack: WebClient;
  directory: Directory;
  log: Logger;
  now: () => number;
  instanceId: string;
  leaseMs: number;
  /** Shared by the service's runs: the workspace rate holds across them. SLACK_BOT_TOKEN's workspace's. */
  pacer: Pacer;
  /** A pacer per workspace (§16), the one above among them. */
  pacers: Pacers;
  /** Installed from the link: each row is sent with the token of the installation its recipient is in. */
  workspaces: Workspaces | null;
  /**
   * The installation a program's admin channel (an id or `#name`) is in, or why it can't be posted: in
   * none, or a name found in several (the admins are told, and fix admin_channel with an id).
   */
  channelTeam: (nameOrId: string) => Promise<{ team: string; channelId: string } | { problem: string }>;
  reconcile: Reconciler;
  retryBaseMs: number;
  /** Rows posted at once within a claim. */
  concurrency: number;
  adminEmails: string[];
  /** Records that the workspace refused the newer block types, so later runs start with the simpler forms. */
  rememberNewBlocksRejected: (periodId: string) => Promise<void>;
  /** Records that the workspace refused `data_table` (it may still take `table`). */
  rememberDataTableRejected: (periodId: string) => Promise<void>;
  /** Data older than this makes a run warn the program admins first (§13); dates in `zone`. */
  freshness: { maxAgeDays: number; zone: string };
  /** §17: a pilot's managers and programs; null, everyone. */
  audience: Audience;
}

export type StopReason = "unreachable" | "fatal" | "shutdown" | "ratelimited";

/** What one run of one period knows and has done so far; every part of the run reads and writes it here. */
export interface RunState {
  period: Period;
  summary: RunSummary;
  /**
   * The messages at hand: those of the rows being worked on (built when claimed, dropped when done, so
   * a run holds a claim's worth of reports, not the company's), and the admins' notices.
   */
  targets: Map<string, Target>;
  /** The data a row's report is built as of. */
  asOfFor: (row: DeliveryRow) => Millis;
  /** The Slack user (or the reason there is none) of each manager whose DM is open. */
  resolved: Map<string, Resolution>;
  /** Rows this run gave up on after its tries: left for a later run, not taken again by this one. */
  gaveUp: number[];
  /** Installations that asked this run to wait past its bounds: their rows are left for a later run. */
  heldTeams: Set<string>;
  /** Claims being worked on now, whose leases the heartbeat renews. */
  activeClaims: Set<string>;
  /** Transient failures in a row, with no success between. */
  transientStreak: number;
  stop: StopReason | null;
  /** Local time (§12): the run takes only rows due by then. */
  dueBy?: Millis;
  /**
   * Whether the workspace takes the newer block types (table, data_visualization). While unknown, one
   * message with them goes out alone (`newBlocksProbe`) and the others wait for its answer, so a
   * workspace that refuses them costs one refused call, not one per message in flight.
   */
  newBlocks: "unknown" | "accepted" | "rejected";
  newBlocksProbe: Promise<void> | null;
  /** A DM's rows go as a `data_table` until the workspace refuses one; then as a `table`. */
  dataTable: "unknown" | "rejected";
  /** Each manager's as-of of their last delivered report, for what changed since; null: no changes told. */
  lastAsOf: ReadonlyMap<string, Millis> | null;
  /** The app's Home tab, linked from each DM. */
  homeUrl?: string;
}

export function emptySummary(period: Period, asOf: Millis, dryRun: boolean): RunSummary {
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

export const openCount = (t: PeriodTally) =>
  Object.values(t.byState.pending).reduce((a, b) => a + b, 0) +
  Object.values(t.byState.sending).reduce((a, b) => a + b, 0);

export function newRunState(period: Period, asOf: Millis): RunState {
  return {
    period,
    summary: emptySummary(period, asOf, false),
    targets: new Map(),
    asOfFor: () => asOf,
    resolved: new Map(),
    gaveUp: [],
    heldTeams: new Set(),
    activeClaims: new Set(),
    transientStreak: 0,
    stop: null,
    newBlocks: "unknown",
    newBlocksProbe: null,
    dataTable: "unknown",
    lastAsOf: null,
  };
}
