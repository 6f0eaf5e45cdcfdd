import {
  ATTENTION_REASONS,
  type AttentionItem,
  type AttentionReason,
  type AttentionSettings,
  attentionItems,
} from "./attention.js";
import { compareRows } from "./status-engine.js";
import { relevantStatuses, STATUSES, type Status } from "./statuses.js";
import type { Millis, Person, Program, ReportRow } from "./types.js";

export type ReportScope = "direct" | "all";

export interface StatusGroup {
  status: Status;
  rows: ReportRow[];
}

export interface ManagerReport {
  manager: { email: string; name: string };
  asOf: Millis;
  groups: StatusGroup[];
  /** Rows that need a nudge (spec §10); empty when nothing does or no settings were given. */
  attention: AttentionItem[];
  /** The last successful import (§13); null: none on record; absent: not asked (then not shown). */
  dataAsOf?: Millis | null;
  /** What changed since the manager's last delivered report; absent for a first report. */
  changes?: ReportChanges;
  /** `REPORT_SCOPE=all`: the mentors and attention per direct report (§18); absent with `direct`. */
  branches?: BranchLine[];
}

/** One direct report's part of a whole-tree report (§18): "under NAME: N mentors · K need attention". */
export interface BranchLine {
  email: string;
  name: string;
  mentors: number;
  attention: number;
}

/** What changed in a manager's report since an earlier time (spec §10). */
export interface ReportChanges extends ReportDiff {
  since: Millis;
  /** Meetings completed between `since` and the report's as-of, over the team's matches. */
  meetingsCompleted: number;
}

/** The changes between a report as of `since` and a later one of the same people. */
export function changesSince(before: readonly ReportRow[], after: readonly ReportRow[], since: Millis): ReportChanges {
  const diff = diffRows(before, after);
  let meetingsCompleted = 0;
  for (const c of diff.changed)
    if (c.before.sourceId === c.after.sourceId)
      meetingsCompleted += Math.max(0, c.after.completedMeetings - c.before.completedMeetings);
  // A match new since then had all its completed meetings since then.
  for (const a of diff.added) meetingsCompleted += a.completedMeetings;
  for (const c of diff.changed) if (c.before.sourceId === "") meetingsCompleted += c.after.completedMeetings;
  return { ...diff, since, meetingsCompleted };
}

export interface OrganizationCounts {
  organization: string;
  counts: Partial<Record<Status, number>>;
  total: number;
}

export interface ProgramSummary {
  program: { id: string; name: string };
  asOf: Millis;
  /** Every status relevant to the program, in report order, zeros included. */
  counts: Array<{ status: Status; count: number }>;
  byOrganization: OrganizationCounts[];
  groups: StatusGroup[];
  /** The last successful import (§13); null: none on record; absent: not asked (then not shown). */
  dataAsOf?: Millis | null;
  /** Rows that need a nudge, counted by reason (§10); zeros when no settings were given. */
  attention: Record<AttentionReason, number>;
  /** The counts one period earlier, for the change per status (§10); absent when not asked. */
  previous?: { asOf: Millis; counts: Partial<Record<Status, number>> };
  /** The counts at the start of each of the last periods, oldest first (§18's trend); absent when not asked. */
  trend?: Array<{ at: Millis; counts: Partial<Record<Status, number>> }>;
}

/** Rows per status of one program: the counts a summary compares with an earlier one. */
export function statusCounts(rows: readonly ReportRow[], programId: string): Partial<Record<Status, number>> {
  const out: Partial<Record<Status, number>> = {};
  for (const r of rows) if (r.programId === programId) out[r.status] = (out[r.status] ?? 0) + 1;
  return out;
}

/**
 * Two sets of counts per status added up: the counts of disjoint rows (two batches of mentors) make
 * those of all of them. Statuses in report order, as `statusCounts` gives them.
 */
export function addStatusCounts(
  a: Partial<Record<Status, number>>,
  b: Partial<Record<Status, number>>,
): Partial<Record<Status, number>> {
  const out: Partial<Record<Status, number>> = {};
  for (const s of STATUSES) if (a[s] !== undefined || b[s] !== undefined) out[s] = (a[s] ?? 0) + (b[s] ?? 0);
  return out;
}

/** Rows (already in report order) grouped by status; empty groups are left out. */
export function groupByStatus(rows: readonly ReportRow[]): StatusGroup[] {
  const groups = new Map<Status, ReportRow[]>();
  for (const r of rows) {
    const g = groups.get(r.status);
    if (g) g.push(r);
    else groups.set(r.status, [r]);
  }
  return STATUSES.filter((s) => groups.has(s)).map((status) => ({ status, rows: groups.get(status)! }));
}

export function buildManagerReport(
  manager: Pick<Person, "email" | "name">,
  rows: readonly ReportRow[],
  asOf: Millis,
  attention?: AttentionSettings,
): ManagerReport {
  return {
    manager: { email: manager.email, name: manager.name },
    asOf,
    groups: groupByStatus(rows),
    attention: attention ? attentionItems(rows, asOf, attention) : [],
  };
}

export function rowCount(report: { groups: StatusGroup[] }): number {
  return report.groups.reduce((n, g) => n + g.rows.length, 0);
}

export function buildProgramSummary(
  program: Program,
  rows: readonly ReportRow[],
  asOf: Millis,
  settings?: AttentionSettings,
): ProgramSummary {
  const mine = rows.filter((r) => r.programId === program.id);
  const attention = Object.fromEntries(ATTENTION_REASONS.map((r) => [r, 0])) as Record<AttentionReason, number>;
  if (settings) for (const a of attentionItems(mine, asOf, settings)) attention[a.reason]++;
  const total = new Map<Status, number>();
  const orgs = new Map<string, OrganizationCounts>();
  for (const r of mine) {
    total.set(r.status, (total.get(r.status) ?? 0) + 1);
    let o = orgs.get(r.organization);
    if (!o) {
      o = { organization: r.organization, counts: {}, total: 0 };
      orgs.set(r.organization, o);
    }
    o.counts[r.status] = (o.counts[r.status] ?? 0) + 1;
    o.total++;
  }
  return {
    program: { id: program.id, name: program.name },
    asOf,
    counts: countsInOrder(program, total),
    byOrganization: inOrganizationOrder(orgs.values()),
    groups: groupByStatus(mine),
    attention,
  };
}

/**
 * The summary of a program's rows from the summaries of two disjoint parts of them (batches of
 * mentors, as of the same time): equal to the one built from all the rows at once, so a summary is
 * built without holding the program's whole data. The parts' `previous` and `trend` are not merged.
 */
export function mergeProgramSummaries(program: Program, a: ProgramSummary, b: ProgramSummary): ProgramSummary {
  const total = new Map<Status, number>();
  for (const c of [...a.counts, ...b.counts]) total.set(c.status, (total.get(c.status) ?? 0) + c.count);
  const orgs = new Map<string, OrganizationCounts>(a.byOrganization.map((o) => [o.organization, o]));
  for (const o of b.byOrganization) {
    const same = orgs.get(o.organization);
    orgs.set(
      o.organization,
      same
        ? { organization: o.organization, counts: addStatusCounts(same.counts, o.counts), total: same.total + o.total }
        : o,
    );
  }
  const attention = Object.fromEntries(ATTENTION_REASONS.map((r) => [r, a.attention[r] + b.attention[r]])) as Record<
    AttentionReason,
    number
  >;
  const groups: StatusGroup[] = [];
  for (const status of STATUSES) {
    const x = a.groups.find((g) => g.status === status)?.rows ?? [];
    const y = b.groups.find((g) => g.status === status)?.rows ?? [];
    if (x.length || y.length) groups.push({ status, rows: mergeSorted(x, y) });
  }
  return {
    program: a.program,
    asOf: a.asOf,
    counts: countsInOrder(program, total),
    byOrganization: inOrganizationOrder(orgs.values()),
    groups,
    attention,
  };
}

/** The program's relevant statuses first, zeros included, then any other that has rows: all in report order. */
function countsInOrder(program: Program, total: ReadonlyMap<Status, number>): ProgramSummary["counts"] {
  const relevant = relevantStatuses(program);
  const others = STATUSES.filter((s) => !relevant.includes(s) && total.has(s));
  return [...relevant, ...others].map((status) => ({ status, count: total.get(status) ?? 0 }));
}

function inOrganizationOrder(orgs: Iterable<OrganizationCounts>): OrganizationCounts[] {
  return [...orgs].sort((a, b) => (a.organization < b.organization ? -1 : a.organization > b.organization ? 1 : 0));
}

/** Two lists of rows in report order as one, still in report order (a merge, not a sort). */
function mergeSorted(a: readonly ReportRow[], b: readonly ReportRow[]): ReportRow[] {
  if (!b.length) return [...a];
  if (!a.length) return [...b];
  const out: ReportRow[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) out.push(compareRows(b[j]!, a[i]!) < 0 ? b[j++]! : a[i++]!);
  while (i < a.length) out.push(a[i++]!);
  while (j < b.length) out.push(b[j++]!);
  return out;
}

/**
 * Splits rows among the managers who see them: the mentor's own manager (`direct`) or every manager
 * up the chain (`all`). Rows keep their order within each manager.
 */
export function rowsByManager(
  rows: readonly ReportRow[],
  managerOf: ReadonlyMap<string, string | null>,
  scope: ReportScope,
): Map<string, ReportRow[]> {
  const chains = new Map<string, string[]>();
  const chainOf = (email: string): string[] => {
    let chain = chains.get(email);
    if (chain) return chain;
    chain = [];
    const seen = new Set<string>([email]);
    for (let m = managerOf.get(email) ?? null; m && !seen.has(m); m = managerOf.get(m) ?? null) {
      chain.push(m);
      seen.add(m);
      if (scope === "direct") break;
    }
    chains.set(email, chain);
    return chain;
  };
  const out = new Map<string, ReportRow[]>();
  for (const r of rows) {
    for (const m of chainOf(r.mentorEmail)) {
      const list = out.get(m);
      if (list) list.push(r);
      else out.set(m, [r]);
    }
  }
  return out;
}

export interface ReportDiff {
  added: ReportRow[];
  removed: ReportRow[];
  changed: Array<{ before: ReportRow; after: ReportRow }>;
}

/** What changed between two reports of the same people: rows matched by program, mentor and source. */
export function diffRows(before: readonly ReportRow[], after: readonly ReportRow[]): ReportDiff {
  const id = (r: ReportRow) => `${r.programId}\u0000${r.mentorEmail}\u0000${r.sourceId}`;
  const prev = new Map(before.map((r) => [id(r), r]));
  const diff: ReportDiff = { added: [], removed: [], changed: [] };
  for (const r of after) {
    const p = prev.get(id(r));
    if (!p) diff.added.push(r);
    else {
      prev.delete(id(r));
      if (
        p.status !== r.status ||
        p.upcomingMeetings !== r.upcomingMeetings ||
        p.completedMeetings !== r.completedMeetings
      )
        diff.changed.push({ before: p, after: r });
    }
  }
  // A mentor's Unmatched or Not Registered row has no source; when it gives way to a match or a request
  // (or one gives way to it), that is one change of status, not a row gone and another new.
  const removed = [...prev.values()];
  const mentorKey = (r: ReportRow) => `${r.programId}\u0000${r.mentorEmail}`;
  for (let i = 0; i < removed.length; i++) {
    const gone = removed[i]!;
    const j = diff.added.findIndex(
      (a) => mentorKey(a) === mentorKey(gone) && (a.sourceId === "" || gone.sourceId === ""),
    );
    if (j < 0) continue;
    diff.changed.push({ before: gone, after: diff.added[j]! });
    diff.added.splice(j, 1);
    removed.splice(i--, 1);
  }
  diff.removed = removed;
  return diff;
}
