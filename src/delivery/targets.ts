import type { Config } from "../config.js";
import type { Db } from "../db/knex.js";
import { type DeliveryRow, NOT_IN_PILOT } from "../db/ledger-repo.js";
import { listPrograms, listReportManagers } from "../db/report-repo.js";
import type { ReportScope } from "../domain/reports.js";
import type { Millis, Program } from "../domain/types.js";
import { buildManagerBlocks, buildProgramBlocks, esc, type Message } from "../render/blocks.js";
import type { ReportService } from "../services/report-service.js";
import { type RunContext, type RunState, type Target, targetKey } from "./run-state.js";

/**
 * Planning: every manager who gets a report as of `asOf`, a batch of managers at a time (their
 * reports built and let go), then every program with a channel. `onBatch` records each batch.
 */
export async function eachRecipientBatch(
  reports: ReportService,
  asOf: Millis,
  onBatch: (items: Array<{ kind: "dm" | "channel"; recipient: string }>) => Promise<void>,
): Promise<{ dms: Set<string>; channels: Program[] }> {
  const dms = new Set<string>();
  for await (const batch of reports.managerBatches(asOf)) {
    await onBatch(batch.map((r) => ({ kind: "dm" as const, recipient: r.manager.email })));
    for (const r of batch) dms.add(r.manager.email);
  }
  const channels = (await reports.programs()).filter((p) => p.adminChannel);
  await onBatch(channels.map((p) => ({ kind: "channel" as const, recipient: p.id })));
  return { dms, channels };
}

/** Who scheduled reports go to (§17): null, everyone; else the pilot's managers and programs. */
export type Audience = { emails: ReadonlySet<string>; programs: ReadonlySet<string> } | null;

export function audienceOf(
  config: Partial<Pick<Config, "REPORT_AUDIENCE" | "REPORT_PILOT_EMAILS" | "REPORT_PILOT_PROGRAMS">>,
): Audience {
  if (config.REPORT_AUDIENCE !== "pilot") return null;
  // Program ids in any case, as the slash command takes them: `ENG` in the pilot is `eng`.
  return {
    emails: new Set(config.REPORT_PILOT_EMAILS),
    programs: new Set(config.REPORT_PILOT_PROGRAMS?.map((id) => id.toLowerCase())),
  };
}

export const inAudience = (audience: Audience, kind: string, recipient: string) =>
  !audience ||
  (kind === "dm" && audience.emails.has(recipient.toLowerCase())) ||
  (kind === "channel" && audience.programs.has(recipient.toLowerCase()));

/**
 * A pilot (§17): the planned DMs and channel summaries of everyone outside it settled as skipped
 * `not_in_pilot`, before any Slack call, so the run summary and `status` count them.
 */
export async function skipOutsidePilot(
  ctx: Pick<RunContext, "ledger" | "audience" | "now">,
  periodId: string,
  items: Array<{ kind: string; recipient: string }>,
): Promise<void> {
  if (!ctx.audience) return;
  for (const kind of ["dm", "channel"] as const) {
    const recipients = items
      .filter((i) => i.kind === kind && !inAudience(ctx.audience, kind, i.recipient))
      .map((i) => i.recipient);
    if (recipients.length)
      await ctx.ledger.skipPending({ periodId, kind, recipients, reason: NOT_IN_PILOT, now: ctx.now() });
  }
}

/**
 * How many DMs and channel summaries a period's run will have, as the data stands: the managers who
 * may get a report and the programs with a channel, inside the audience. For `serve`'s start line.
 */
export async function countRecipients(
  db: Db,
  scope: ReportScope,
  audience: Audience,
): Promise<{ dm: number; channel: number; pilotMisses?: PilotMisses }> {
  const [managers, programs] = await Promise.all([listReportManagers(db, scope), listPrograms(db)]);
  const counts = {
    dm: managers.filter((m) => inAudience(audience, "dm", m.email)).length,
    channel: programs.filter((p) => p.adminChannel && inAudience(audience, "channel", p.id)).length,
  };
  if (!audience) return counts;
  // A typo in a pilot list would leave someone out without a word: say which entries reach no one.
  const managerEmails = new Set(managers.map((m) => m.email.toLowerCase()));
  const programIds = new Set(programs.map((p) => p.id.toLowerCase()));
  const pilotMisses = {
    emailEntries: [...audience.emails].flatMap((e, i) => (managerEmails.has(e) ? [] : [i + 1])),
    programs: [...audience.programs].filter((id) => !programIds.has(id)),
  };
  return pilotMisses.emailEntries.length || pilotMisses.programs.length ? { ...counts, pilotMisses } : counts;
}

/**
 * Pilot entries that reach no one: emails by their place in REPORT_PILOT_EMAILS (an address typed
 * there is never echoed: it may be anyone's), program ids as given.
 */
export interface PilotMisses {
  emailEntries: number[];
  programs: string[];
}

/** Managers who paused or stopped their reports (§11): their pending DMs settled as skipped, before any Slack call. */
export async function skipAtTheirWish(
  ctx: RunContext,
  run: RunState,
  items: Array<{ kind: string; recipient: string }>,
  skips: ReadonlyMap<string, "paused" | "stopped">,
): Promise<void> {
  for (const reason of ["paused", "stopped"] as const) {
    const recipients = items
      .filter((i) => i.kind === "dm" && skips.get(i.recipient) === reason)
      .map((i) => i.recipient);
    if (recipients.length)
      await ctx.ledger.skipPending({ periodId: run.period.id, recipients, reason, now: ctx.now() });
  }
}

/**
 * The messages of these rows, built: the managers' reports in one read per as-of, each program's
 * summary on its own. A row whose recipient has no report now gets none (the send marks it no longer
 * in the report); notices are built by their own phase.
 */
export async function buildTargetsFor(
  ctx: RunContext,
  run: RunState,
  rows: DeliveryRow[],
): Promise<Map<string, Target>> {
  const { reports, zone } = ctx;
  const { period } = run;
  const wanted = new Map<Millis, { dm: string[]; channel: string[] }>();
  for (const row of rows) {
    if (row.kind !== "dm" && row.kind !== "channel") continue;
    const asOf = run.asOfFor(row);
    const w = wanted.get(asOf) ?? { dm: [], channel: [] };
    wanted.set(asOf, w);
    w[row.kind].push(row.recipient);
  }
  const out = new Map<string, Target>();
  // A workspace known to refuse the newer blocks gets the simpler forms at once, not after a refusal each.
  const newBlocks = run.newBlocks !== "rejected";
  // §18: a data_table (sortable, paginated) where the workspace takes it, a table next, lines last.
  const form = !newBlocks ? "sections" : run.dataTable === "rejected" ? "table" : "data_table";
  let programs: Map<string, Program> | null = null;
  for (const [asOf, w] of wanted) {
    let managers = await reports.managerReports(w.dm, asOf);
    if (run.lastAsOf) managers = await reports.withChanges(managers, run.lastAsOf);
    for (const r of managers) {
      const t: Target = {
        kind: "dm",
        recipient: r.manager.email,
        message: buildManagerBlocks(r, { zone, period, form, buttons: true, homeUrl: run.homeUrl }),
        // The ledger keeps the as-of each report was built at (local time: its due moment).
        asOf,
      };
      const who = run.resolved.get(t.recipient);
      if (who && "userId" in who) {
        t.channel = who.userId;
        t.team = who.team;
      } else if (who) t.problem = who.problem;
      out.set(targetKey("dm", t.recipient), t);
    }
    if (!w.channel.length) continue;
    programs ??= new Map((await reports.programs()).map((p) => [p.id, p]));
    const withChannel = w.channel.flatMap((id) => {
      const program = programs?.get(id);
      return program?.adminChannel ? [program] : [];
    });
    // Every program's summary from one pass over the mentors, not a pass per program; it shares the
    // process with the run's DMs. The channel message shows counts: no row is kept.
    const summaries = await reports.programSummaries(withChannel, asOf, { share: true, rowsOf: [] });
    for (const [i, program] of withChannel.entries()) {
      const summary = summaries[i];
      if (!summary || !program.adminChannel) continue;
      const id = program.id;
      const t: Target = {
        kind: "channel",
        recipient: id,
        channel: program.adminChannel,
        message: buildProgramBlocks(summary, { zone, period, chart: newBlocks }),
        asOf,
      };
      // Installed from the link: the channel is in one of the installations, looked for in each (§16).
      if (ctx.workspaces) {
        const where = await ctx.channelTeam(program.adminChannel);
        // Posted by id: an org token's channels are the org's, and its history is read by id too.
        if ("team" in where) {
          t.team = where.team;
          t.channel = where.channelId;
        } else t.problem = where.problem;
      }
      out.set(targetKey("channel", id), t);
    }
  }
  return out;
}

/**
 * Puts at hand the messages of the claimed rows that have none: those built ahead (`ready`, while the
 * previous claim was being sent) and the rest built now. Returns their keys, to let go of them once sent.
 */
export async function prepareTargets(
  ctx: RunContext,
  run: RunState,
  rows: DeliveryRow[],
  ready: ReadonlyMap<string, Target> = new Map(),
): Promise<string[]> {
  const missing = rows.filter(
    (r) => (r.kind === "dm" || r.kind === "channel") && !run.targets.has(targetKey(r.kind, r.recipient)),
  );
  const toBuild = missing.filter((r) => !ready.has(targetKey(r.kind, r.recipient)));
  const built = toBuild.length ? await buildTargetsFor(ctx, run, toBuild) : new Map<string, Target>();
  const keys: string[] = [];
  for (const r of missing) {
    const key = targetKey(r.kind, r.recipient);
    const t = ready.get(key) ?? built.get(key);
    if (!t) continue;
    run.targets.set(key, t);
    keys.push(key);
  }
  return keys;
}

/** What a program admin reads when the program's channel summary could not be posted. */
export function buildChannelNotice(program: Program, error: string): Message {
  // Escaped in `text` too: Slack shows it in the notification, where a name's `<!channel>` would ping.
  const text = esc(
    `I could not post the ${program.name} summary to ${program.adminChannel ?? "its channel"} (${error}). ` +
      "Invite the app to the channel, or fix admin_channel in programs.csv; the next period will try again.",
  );
  return { text, blocks: [{ type: "section", text: { type: "mrkdwn", text } }] };
}
