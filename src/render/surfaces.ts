import type { AttentionItem } from "../domain/attention.js";
import { formatDate, formatDayTime } from "../domain/dates.js";
import type { ManagerReport, ProgramSummary } from "../domain/reports.js";
import { ADMIN_WAITING } from "../domain/statuses.js";
import type { ReportRow } from "../domain/types.js";
import { COMMAND, NUDGE_SETTINGS } from "../ids.js";
import {
  ACTIONS,
  type Block,
  buildManagerBlocks,
  buildProgramBlocks,
  type ControlState,
  esc,
  LIMITS,
  type Message,
} from "./blocks.js";
import { buildLastImportBlocks, type LastImport } from "./data-in.js";
import { buildInstallationBlocks, type InstallationLine } from "./installations.js";

// verbatim: a name or word from the data never becomes a link or a mention (§15).
const section = (text: string): Block => ({ type: "section", text: { type: "mrkdwn", text, verbatim: true } });
const msg = (text: string): Message => ({ text, blocks: [section(text)] });

/**
 * What the command does, and the program ids the user may ask about: every program for a report,
 * the ones they administer for a summary.
 */
export function buildHelp(
  isAdmin: boolean,
  ids: { programs: Array<{ id: string; name: string }>; administered: Array<{ id: string; name: string }> } = {
    programs: [],
    administered: [],
  },
): Message {
  const lines = [
    `*${COMMAND}* — your team's part in the mentorship programs (only you see the answer):`,
    `• \`${COMMAND}\` — your team's mentors, grouped by matching status`,
    `• \`${COMMAND} PROGRAM\` — the same, for one program (its id, e.g. \`eng\`)`,
    `• \`${COMMAND} csv\` — every row as a CSV file, in your DM with the app`,
    `• \`${COMMAND} pause\` — skip your next scheduled report · \`stop\` — no more scheduled reports · \`resume\` — get them again`,
    `• \`${COMMAND} help\` — this help`,
  ];
  if (isAdmin) {
    lines.push(
      `• \`${COMMAND} summary PROGRAM\` — the program's summary (program admins)`,
      `• \`${COMMAND} post PROGRAM\` — post that summary to the program's channel now (program admins)`,
    );
  }
  const sections = [lines.join("\n")];
  if (ids.programs.length) sections.push(idList("Programs", ids.programs));
  if (ids.administered.length) sections.push(idList("Summaries you may ask for or post", ids.administered));
  sections.push(
    "Mentees are never named. The same report arrives by DM every other week and is on the app's Home tab.",
  );
  return { text: sections.join("\n"), blocks: sections.map(section) };
}

/** Help lists this many program ids at most, so 400 programs still make one answer Slack accepts. */
export const HELP_IDS = 50;

/** `Label: a (A), b (B), and N more.`: at most HELP_IDS ids, and always within one section's limit. */
function idList(label: string, ps: Array<{ id: string; name: string }>): string {
  const shown: string[] = [];
  // Room kept for the label and the "and N more" tail.
  let room = LIMITS.sectionText - label.length - 40;
  for (const p of ps.slice(0, HELP_IDS)) {
    const entry = `\`${esc(p.id.replace(/`/g, "'").slice(0, 80))}\` (${esc(p.name.slice(0, 80))})`;
    if (entry.length + 2 > room) break;
    shown.push(entry);
    room -= entry.length + 2;
  }
  const more = ps.length - shown.length;
  return `${label}: ${shown.join(", ")}${more ? `${shown.length ? "," : ""} and ${more} more` : ""}.`;
}

export const notInRoster = (): Message =>
  msg(
    "I couldn't find you in the mentorship roster, so there is no report to show. If you manage people who mentor, ask your program admin to check that your Slack email matches the HR roster.",
  );
/**
 * A word the user typed or a name from the data, shown inside a code span: escaped so it cannot mention
 * or link, without backticks that would end the span, and short, so no answer outgrows a section.
 */
const typed = (s: string) => `\`${esc(s.replace(/`/g, "'").slice(0, 80))}\``;

export const notAdmin = (programId: string): Message =>
  msg(`Only the admins of program ${typed(programId)} can see or post its summary.`);
export const unknownProgram = (programId: string): Message =>
  msg(`There is no program ${typed(programId)}. Type \`${COMMAND} help\` to see what I can do.`);
export const posted = (programId: string, channel: string): Message =>
  msg(`Posted the summary of ${typed(programId)} to ${esc(channel)}.`);
export const postFailed = (programId: string, channel: string | null, reason: string): Message =>
  msg(
    channel
      ? `I could not post the summary of ${typed(programId)} to ${esc(channel)}: ${esc(reason)}. Invite the app to the channel (or check its name), then try again.`
      : `Program ${typed(programId)} has no admin channel set (programs.csv, admin_channel).`,
  );
export const failure = (): Message =>
  msg(
    "Something went wrong while building your report. Please try again in a minute; if it keeps happening, tell your program admin.",
  );

/** Requests of the admins' queue shown on the Home tab; the CSV has them all. */
export const QUEUE_LINES = 20;

/** The requests waiting for admin approval in these programs, the longest waits first (§18). */
export function adminQueue(summaries: ProgramSummary[]): ReportRow[] {
  return summaries
    .flatMap((s) => s.groups.filter((g) => g.status === ADMIN_WAITING).flatMap((g) => g.rows))
    .sort((a, b) => (a.since ?? 0) - (b.since ?? 0) || a.mentorName.localeCompare(b.mentorName));
}

/**
 * The program admin's queue: the requests that wait for them, with mentor, program, requested date and
 * days, the longest waits first, 20 at most with the total, and a button for all of them as CSV.
 */
export function buildAdminQueue(summaries: ProgramSummary[], asOf: number, zone: string): Block[] {
  const waiting = adminQueue(summaries);
  const DAY = 86_400_000;
  if (!waiting.length)
    return [section("*Waiting for your approval:* nothing. No match request in your programs waits for an admin.")];
  const lines = waiting.slice(0, QUEUE_LINES).map((r) => {
    const days = r.since === null ? 0 : Math.floor((asOf - r.since) / DAY);
    const requested = r.since === null ? "" : ` · requested ${formatDate(r.since, zone)}`;
    return `• *${esc(r.mentorName)}* — ${esc(r.program)}${requested} · ${days} day${days === 1 ? "" : "s"}`;
  });
  const head =
    waiting.length > QUEUE_LINES
      ? `*Waiting for your approval* (${waiting.length}): the ${QUEUE_LINES} longest waits; the CSV has all ${waiting.length}.`
      : `*Waiting for your approval* (${waiting.length}), the longest waits first:`;
  return [
    section([head, ...lines].join("\n")),
    {
      type: "actions",
      block_id: "admin_queue",
      elements: [
        {
          type: "button",
          action_id: ACTIONS.queueCsv,
          text: { type: "plain_text", text: "Download the queue (CSV)", emoji: true },
          accessibility_label: `Download all ${waiting.length} requests waiting for admin approval as CSV`,
        },
      ],
    },
  ];
}

/** The Home tab: the viewer's team report, then the summaries of the programs they administer, in 100 blocks. */
export function buildHomeView(opts: {
  report: ManagerReport | null;
  summaries: ProgramSummary[];
  zone: string;
  control?: ControlState;
  /** For a program admin: the last import, shown after the summaries. */
  lastImport?: LastImport | null;
  /** For an admin: managers whose scheduled report of this period is skipped at their wish (§11). */
  skips?: { paused: number; stopped: number };
  /** When the tab was built: the admins' queue counts its days from it. */
  asOf?: number;
  /** The summaries' charts and organizations' table (newer blocks), for a workspace not known to refuse them. */
  charts?: boolean;
  /** For a global admin, when installed from the link: the installations (§16). */
  installations?: InstallationLine[];
}): {
  type: "home";
  blocks: Block[];
} {
  const perSummary = 14;
  const summaryBudget = Math.min(opts.summaries.length * perSummary, LIMITS.homeBlocks / 2);
  const blocks: Block[] = [];
  const emptyTeam = opts.report?.groups.every((g) => !g.rows.length) ?? false;
  if (emptyTeam && opts.summaries.length)
    // An admin whose own team does not mentor: one line, and their programs come first.
    blocks.push(section("_No one on your team mentors in a program right now. Your programs follow._"));
  else if (opts.report)
    blocks.push(
      ...buildManagerBlocks(opts.report, {
        zone: opts.zone,
        period: null,
        form: "sections",
        buttons: true,
        onHome: true,
        control: opts.control,
        maxBlocks: LIMITS.homeBlocks - summaryBudget - 1,
      }).blocks,
    );
  else if (opts.summaries.length)
    // A program admin outside the HR roster: no team, but their programs, without a pointer to themselves.
    blocks.push(
      section(
        "You are not in the HR roster (people.csv), so there is no team report here. The summaries of the programs you administer follow.",
      ),
    );
  else blocks.push(...notInRoster().blocks);
  const skips = opts.skips;
  if (opts.summaries.length && skips && skips.paused + skips.stopped > 0)
    blocks.push({
      type: "context",
      elements: [
        {
          type: "mrkdwn",
          text: `Scheduled DMs skipped at the managers' wish this period: ${skips.paused} paused, ${skips.stopped} stopped.`,
        },
      ],
    });
  const divider: Block = { type: "divider" };
  const importBlocks: Block[] = [
    ...(opts.lastImport === undefined ? [] : [divider, ...buildLastImportBlocks(opts.lastImport, opts.zone)]),
    ...(opts.installations ? [divider, ...buildInstallationBlocks(opts.installations, opts.zone)] : []),
  ];
  if (opts.summaries.length && opts.asOf !== undefined)
    blocks.push({ type: "divider" }, ...buildAdminQueue(opts.summaries, opts.asOf, opts.zone));
  let room = LIMITS.homeBlocks - blocks.length - importBlocks.length;
  for (const [i, s] of opts.summaries.entries()) {
    const b = buildProgramBlocks(s, {
      zone: opts.zone,
      period: null,
      // A view holds two charts at most: the trends of the first two programs.
      chart: opts.charts && i < 2,
      trendOnly: true,
      maxBlocks: Math.min(perSummary, room - 1),
    });
    if (b.blocks.length + 1 > room) break;
    blocks.push({ type: "divider" }, ...b.blocks);
    room = LIMITS.homeBlocks - blocks.length - importBlocks.length;
  }
  blocks.push(...importBlocks);
  return { type: "home", blocks };
}

export const paused = (firstDay: string): Message =>
  msg(
    `Paused: you won't get the scheduled report of the period starting ${firstDay}; the one after comes as usual. \`${COMMAND}\` and the Home tab keep working.`,
  );
export const stopped = (): Message =>
  msg(
    `Stopped: no more scheduled reports until you resume (\`${COMMAND} resume\` or the Resume button). \`${COMMAND}\` and the Home tab keep working.`,
  );
export const resumed = (): Message => msg("Resumed: your report arrives by DM on the usual schedule again.");
export const csvSent = (rows: number): Message =>
  msg(`I sent the full report (${rows} row${rows === 1 ? "" : "s"}) as a CSV file to our DM. Mentees are never named.`);
export const csvEmpty = (): Message =>
  msg("None of your team takes part in a mentorship program as a mentor right now, so there is no CSV to send.");
export const csvFailed = (): Message => msg("I could not send the CSV file just now. Please try again in a minute.");

const n = (k: number, word: string) => `${k} ${word}${k === 1 ? "" : "s"}`;

/** What the nudged person reads (§18's table): the program, the days, the manager who asked, never the mentee. */
export function nudgeSentence(a: AttentionItem): string {
  const program = esc(a.program);
  const mentor = esc(a.mentorName);
  const days = n(a.days ?? 0, "day");
  switch (a.reason) {
    case "request_waiting":
      if (a.nudge.to === "mentor") return `A match request in ${program} has waited ${days} for your answer.`;
      return a.status === "Match Request-Waiting Admin Approval"
        ? `${mentor}'s match request in ${program} has waited ${days} for admin approval.`
        : `${mentor}'s match request in ${program} has waited ${days} for the mentee.`;
    case "unmatched":
      return `${mentor} has been unmatched in ${program} for ${days}.`;
    case "no_meetings":
      return `No meeting in ${program} for ${days} and none booked.`;
    case "match_ending":
      return `Your match in ${program} ends on ${a.date ?? ""}.`;
  }
}

/** What the nudged person can do about it. */
function nudgeAsk(a: AttentionItem): string {
  if (a.nudge.to === "admins")
    return a.reason === "unmatched"
      ? "Could you find them a match, or tell them what is holding it up?"
      : a.status === "Match Request-Waiting Admin Approval"
        ? "Could you approve or decline it in the mentorship platform?"
        : "Could you follow up with the mentee in the mentorship platform?";
  if (a.reason === "request_waiting") return "Could you accept or decline it in the mentorship platform?";
  if (a.reason === "no_meetings") return "Could you book the next meeting in the mentorship platform?";
  return "A good moment to plan a last meeting, or to ask for a new match.";
}

/**
 * The nudge DM: who asked, what waits, what to do. A mentor's carries "No more nudges"; the admins'
 * name the mentor, whom they administer anyway.
 */
export function buildNudge(a: AttentionItem, managerName: string): Message {
  const manager = esc(managerName);
  const who =
    a.nudge.to === "mentor"
      ? `${manager} asked me to nudge you.`
      : `${manager}, ${esc(a.mentorName)}'s manager, asked me to nudge the program's admins.`;
  const text = `${nudgeSentence(a)} ${nudgeAsk(a)} ${who}`;
  const blocks: Block[] = [
    {
      type: "section",
      text: { type: "mrkdwn", text: `:wave: *${nudgeSentence(a)}*\n${nudgeAsk(a)}`, verbatim: true },
    },
    { type: "context", elements: [{ type: "mrkdwn", text: `${who} Mentees are never named.`, verbatim: true }] },
  ];
  if (a.nudge.to === "mentor")
    blocks.push({
      type: "actions",
      block_id: "nudge_settings",
      elements: [
        {
          type: "button",
          action_id: NUDGE_SETTINGS.off,
          text: { type: "plain_text", text: "No more nudges", emoji: true },
          accessibility_label: "Stop nudges from the mentorship report app",
        },
      ],
    });
  return { text, blocks };
}

const when = (at: number, zone: string) => formatDayTime(at, zone);

export const nudged = (a: AttentionItem, names: string[]): Message =>
  msg(
    `Nudged ${a.nudge.to === "mentor" ? esc(a.mentorName) : `the admins of ${esc(a.program)} (${names.map(esc).join(", ")})`}: “${nudgeSentence(a)}” They see that you asked.`,
  );
export const alreadyNudged = (a: AttentionItem, at: number, by: string, zone: string): Message =>
  msg(
    `Already nudged this period: ${by ? esc(by) : "a manager"} nudged ${a.nudge.to === "mentor" ? esc(a.mentorName) : `the admins of ${esc(a.program)}`} about it on ${when(at, zone)}. One nudge a period is enough; the next report shows whether it moved.`,
  );
export const nudgeNotYours = (): Message =>
  msg(
    "That item is not in your report (it may have moved on since the message was sent), so I did not nudge anyone. Your current report: `/mentorship-report`.",
  );
export const nudgesAreOff = (a: AttentionItem): Message =>
  msg(`${esc(a.mentorName)} has turned nudges off, so I did not send one. A word from you works better anyway.`);
export const noOneToNudge = (a: AttentionItem): Message =>
  msg(
    a.nudge.to === "mentor"
      ? `I could not nudge ${esc(a.mentorName)}: they are not in this Slack workspace.`
      : `I could not nudge the admins of ${esc(a.program)}: none of them is in this Slack workspace (programs.csv, admin_emails).`,
  );
export const nudgeFailed = (): Message => msg("I could not send the nudge just now. Please try again in a minute.");
export function nudgesOffDone(): Message {
  const m = msg(
    "Done: no more nudges from the mentorship report app. Managers who press Nudge are told so. Changed your mind? Press the button below.",
  );
  m.blocks.push({
    type: "actions",
    block_id: "nudge_settings",
    elements: [
      {
        type: "button",
        action_id: NUDGE_SETTINGS.on,
        text: { type: "plain_text", text: "Turn nudges back on", emoji: true },
        accessibility_label: "Turn nudges from the mentorship report app back on",
      },
    ],
  });
  return m;
}
export const nudgesOnDone = (): Message => msg("Nudges are back on.");
export const queueSent = (rows: number): Message =>
  msg(
    `I sent the ${rows} request${rows === 1 ? "" : "s"} waiting for admin approval as a CSV file to our DM. Mentees are never named.`,
  );
export const queueEmpty = (): Message => msg("No match request in your programs waits for admin approval right now.");
export const noQueue = (): Message => msg("Only program admins have a queue of requests to approve.");
