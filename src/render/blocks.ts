import {
  ATTENTION_REASONS,
  type AttentionItem,
  attentionKey,
  attentionReasonText,
  whoActsText,
} from "../domain/attention.js";
import type { ControlState } from "../domain/controls.js";
import { formatDate } from "../domain/dates.js";
import { dataAsOfLabel } from "../domain/freshness.js";
import { formatPeriodRange, type Period } from "../domain/periods.js";
import type { ManagerReport, ProgramSummary, ReportChanges } from "../domain/reports.js";
import { rowCount } from "../domain/reports.js";
import type { ReportRow } from "../domain/types.js";
import { NUDGE_ACTION_PREFIX } from "../ids.js";
import { dateColumn, rowDate } from "./row-dates.js";

/** Block Kit's limits (docs.slack.dev/reference/block-kit). */
export const LIMITS = {
  messageBlocks: 50,
  homeBlocks: 100,
  sectionText: 3000,
  fields: 10,
  fieldText: 2000,
  headerText: 150,
  contextElements: 10,
  messageText: 40000,
} as const;

// The blocks this app builds, typed narrowly. The SDK's KnownBlock has no data_visualization yet, so the
// Slack layer hands these payloads to the SDK as they are.
type Text = { type: "plain_text" | "mrkdwn"; text: string; emoji?: boolean; verbatim?: boolean };
export type Button = {
  type: "button";
  action_id: string;
  text: Text & { type: "plain_text" };
  url?: string;
  value?: string;
  style?: "primary" | "danger";
  /** What a screen reader says (at most 75 characters). */
  accessibility_label?: string;
  confirm?: {
    title: Text & { type: "plain_text" };
    text: Text;
    confirm: Text & { type: "plain_text" };
    deny: Text & { type: "plain_text" };
  };
};
export type TableCell = { type: "raw_text"; text: string };
export type Block =
  | { type: "header"; text: Text & { type: "plain_text" } }
  | { type: "section"; text?: Text; fields?: Text[]; block_id?: string; accessory?: Button }
  | { type: "context"; elements: Text[] }
  | { type: "divider" }
  | { type: "actions"; block_id?: string; elements: Button[] }
  | {
      type: "table";
      rows: TableCell[][];
      column_settings?: Array<{ align?: "left" | "center" | "right"; is_wrapped?: boolean } | null>;
    }
  | {
      type: "data_table";
      caption: string;
      page_size?: number;
      row_header_column_index?: number;
      rows: Array<Array<TableCell | { type: "raw_number"; value: number; text: string }>>;
    }
  | {
      type: "data_visualization";
      title: string;
      chart:
        | { type: "pie"; segments: Array<{ label: string; value: number }> }
        | {
            type: "line";
            series: Array<{ name: string; data: Array<{ label: string; value: number }> }>;
            axis_config: { categories: string[]; x_label?: string; y_label?: string };
          };
    };

/** Block types newer than some workspaces and clients accept (Slack answers `invalid_blocks`). */
export const NEW_BLOCK_TYPES: ReadonlySet<string> = new Set(["data_visualization", "table", "data_table"]);

/**
 * The next simpler form of a message after `invalid_blocks`: the form the message carries for that case
 * (a DM's rows as sections instead of a table), else the same message without the newer block types.
 */
export function withoutNewBlocks(m: Message): Message {
  if (m.simpler) return m.simpler;
  return { text: m.text, blocks: m.blocks.filter((b) => !NEW_BLOCK_TYPES.has(b.type)) };
}

export const hasNewBlocks = (m: Message) => m.blocks.some((b) => NEW_BLOCK_TYPES.has(b.type));
export const hasDataTable = (m: Message) => m.blocks.some((b) => b.type === "data_table");

export interface Message {
  text: string;
  blocks: Block[];
  /** The same content without newer block types, for a workspace that rejects them (never sent itself). */
  simpler?: Message;
}

export interface RenderOptions {
  zone: string;
  period: Period | null;
  maxBlocks?: number;
}

/**
 * How a DM shows its rows: a `data_table` (sortable, paginated; newest), a `table` block (newer), or
 * sections of lines that every workspace accepts.
 */
export type RowForm = "data_table" | "table" | "sections";

export type { ControlState };

export interface ManagerRenderOptions extends RenderOptions {
  /** "table" unless the workspace is known to reject table blocks. */
  form?: RowForm;
  /** Buttons: off for `preview` of the Home tab's own copy, on for DMs and the slash answer. */
  buttons?: boolean;
  control?: ControlState;
  /** A deep link to the app's Home tab (slack://app?team=…&id=…&tab=home), when known. */
  homeUrl?: string;
  /** Shown on the Home tab: a footer does not send the reader to where they already are. */
  onHome?: boolean;
  /** The report is of one program only (`/mentorship-report eng`): said at the top. */
  programName?: string;
}

// C0 and C1 control characters and the bidirectional overrides: a name can neither ring a bell in a
// terminal nor reorder what a reader sees.
const CONTROL = /[\p{Cc}\u202a-\u202e\u2066-\u2069]/gu;

/** Text from the data, made inert: control characters dropped, whitespace runs folded to one space. */
const plain = (s: string) => s.replace(/\s+/g, " ").replace(CONTROL, "");

/** Slack's three control characters, escaped so a name can't inject a mention or a link (spec §14). */
export const esc = (s: string) => plain(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const clip = (s: string, n: number) => (s.length <= n ? s : `${s.slice(0, n - 1)}…`);
const day = formatDate;
/** " · data as of MM-DD-YYYY" when the report knows its import (§13). */
const stamp = (r: { dataAsOf?: number | null }, zone: string) =>
  r.dataAsOf === undefined ? "" : ` · ${dataAsOfLabel(r.dataAsOf, zone)}`;
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

function periodLabel(o: RenderOptions, asOf: number): string {
  if (!o.period) return `as of ${day(asOf, o.zone)}`;
  return formatPeriodRange(o.period, o.zone);
}

const header = (text: string): Block => ({
  type: "header",
  text: { type: "plain_text", text: clip(text, LIMITS.headerText), emoji: true },
});
// verbatim: Slack leaves the text as written, so a name holding a URL or "@here" is neither linked nor
// a mention (§15); the app's own <@U…> mentions still render.
const mrkdwn = (text: string): Text => ({ type: "mrkdwn", text, verbatim: true });
const plainText = (text: string): Text & { type: "plain_text" } => ({ type: "plain_text", text, emoji: true });
const section = (text: string): Block => ({ type: "section", text: mrkdwn(clip(text, LIMITS.sectionText)) });
const context = (text: string): Block => ({ type: "context", elements: [mrkdwn(clip(text, LIMITS.sectionText))] });

/** Action ids of the manager's buttons; slack/listeners/actions.ts answers them. */
export const ACTIONS = {
  home: "report_open_home",
  csv: "report_csv",
  pause: "report_pause",
  stop: "report_stop",
  resume: "report_resume",
  /** A program admin's queue of requests waiting for admin approval, as CSV (§18). */
  queueCsv: "admin_queue_csv",
} as const;

/** Above this many rows a DM puts the statuses that ask for action first (§18). */
export const LARGE_TEAM = 30;

// The statuses someone can move (the four waiting ones, Unmatched, Not Registered), in status order.
const ACTION_STATUSES: ReadonlySet<string> = new Set([
  "Match Request-Waiting Mentee Approval",
  "Match Request-Waiting Mentor Approval",
  "Match Request-Waiting 2 Approvals",
  "Match Request-Waiting Admin Approval",
  "Unmatched",
  "Not Registered",
]);

/**
 * The groups in the order a DM shows them: status order for a small team; for a large one the
 * statuses that ask for action first, where a reader who stops scrolling has seen them.
 */
export function groupsInDmOrder(report: ManagerReport): ManagerReport["groups"] {
  if (rowCount(report) <= LARGE_TEAM) return report.groups;
  const first = report.groups.filter((g) => ACTION_STATUSES.has(g.status));
  return [...first, ...report.groups.filter((g) => !ACTION_STATUSES.has(g.status))];
}

/** Rows a table block holds besides its header row (Slack: at most 100 rows, the header among them). */
export const TABLE_ROWS = 99;

// Who and what first (a wide table scrolls sideways): mentor, status, program, the row's own date, meetings.
const TABLE_HEADER = [
  "Mentor",
  "Status",
  "Program",
  "Key date",
  "Match Date",
  "Upcoming",
  "Completed",
  "Registered",
  "Organization",
  "Email",
];

/** The row's own date in words for the table's "Key date" column ("ends 07-15-2026"). */
function keyDate(r: ReportRow, zone: string): string {
  const label = dateColumn(r.status);
  const d = rowDate(r, zone);
  return label && d ? `${label.toLowerCase()} ${d}` : "";
}

function rowLine(r: ReportRow, zone: string): string {
  const parts = [`${esc(r.program)}`];
  if (r.organization) parts.push(esc(r.organization));
  if (r.registered) parts.push(`registered ${r.registered}`);
  if (r.matchDate) parts.push(`matched ${r.matchDate}`);
  const when = keyDate(r, zone);
  if (when) parts.push(when);
  if (r.upcomingMeetings || r.completedMeetings)
    parts.push(`meetings: ${r.upcomingMeetings} upcoming, ${r.completedMeetings} completed`);
  return `• *${esc(r.mentorName)}* (${esc(r.mentorEmail)}) — ${parts.join(" · ")}`;
}

/** Packs lines into as few sections as fit, each under the section text limit. */
function packSections(lines: string[]): string[] {
  const out: string[] = [];
  let cur = "";
  for (const line of lines) {
    const l = clip(line, LIMITS.sectionText);
    if (cur && cur.length + 1 + l.length > LIMITS.sectionText) {
      out.push(cur);
      cur = l;
    } else cur = cur ? `${cur}\n${l}` : l;
  }
  if (cur) out.push(cur);
  return out;
}

function countFields(counts: Array<{ status: string; count: number; note?: string }>): Block[] {
  const fields = counts.map((c) => mrkdwn(`*${c.status}*\n${c.count}${c.note ? ` ${c.note}` : ""}`));
  const blocks: Block[] = [];
  for (let i = 0; i < fields.length; i += LIMITS.fields)
    blocks.push({ type: "section", fields: fields.slice(i, i + LIMITS.fields) });
  return blocks;
}

/**
 * The message's `text`: what a notification, a screen reader or a client without blocks gives, so a
 * complete summary in sentences: the counts, what changed, and who needs attention and why.
 */
export function buildManagerFallback(report: ManagerReport, o: RenderOptions & { programName?: string }): string {
  const n = rowCount(report);
  const only = o.programName ? `, ${esc(o.programName)} only` : "";
  if (n === 0)
    return `Mentorship report (${periodLabel(o, report.asOf)}${only}): none of your team mentors in a program.`;
  const counts = report.groups.map((g) => `${g.rows.length} ${g.status}`).join(", ");
  const sentences = [
    `Mentorship report (${periodLabel(o, report.asOf)}${only}): ${plural(n, "mentor connection")} on your team: ${counts}.`,
  ];
  const c = report.changes;
  if (c) {
    const statusChanges = c.changed.filter((x) => x.before.status !== x.after.status).length;
    const what = tally([
      [statusChanges, statusChanges === 1 ? "status change" : "status changes"],
      [c.added.length, "new"],
      [c.removed.length, "gone"],
    ]);
    sentences.push(`Since your last report: ${what || "no changes"}.`);
  }
  const items = report.attention;
  if (items.length) {
    const named = items.slice(0, 3).map((a) => `${esc(a.mentorName)} (${esc(a.program)}), ${attentionReasonText(a)}`);
    const more = items.length > 3 ? `; and ${items.length - 3} more` : "";
    sentences.push(
      `${plural(items.length, "mentor connection")} ${items.length === 1 ? "needs" : "need"} attention: ${named.join("; ")}${more}.`,
    );
  }
  return sentences.join(" ");
}

/** At most this many lines each for the changes and the attention lists; the rest is counted. */
const LIST_LINES = 10;

function changeLines(c: ReportChanges): string[] {
  const who = (r: ReportRow) => `*${esc(r.mentorName)}* (${esc(r.program)})`;
  const lines: string[] = [];
  for (const x of c.changed)
    if (x.before.status !== x.after.status) lines.push(`• ${who(x.after)}: ${x.before.status} → ${x.after.status}`);
  for (const r of c.added) lines.push(`• New: ${who(r)} — ${r.status}`);
  for (const r of c.removed) lines.push(`• No longer in your report: ${who(r)} — was ${r.status}`);
  return lines;
}

function capped(lines: string[], more: (n: number) => string): string[] {
  return lines.length <= LIST_LINES
    ? lines
    : [...lines.slice(0, LIST_LINES - 1), more(lines.length - (LIST_LINES - 1))];
}

/** "3 new · 1 gone · 5 status changes": the whole of a list in one line, before its first lines. */
const tally = (parts: Array<[number, string]>) =>
  parts
    .filter(([n]) => n > 0)
    .map(([n, what]) => `${n} ${what}`)
    .join(" · ");

/** "Since your last report": status changes old → new, rows new and gone, meetings completed. */
function changesBlocks(c: ReportChanges, zone: string): Block[] {
  const lines = changeLines(c);
  const statusChanges = c.changed.filter((x) => x.before.status !== x.after.status).length;
  const counts = tally([
    [statusChanges, statusChanges === 1 ? "status change" : "status changes"],
    [c.added.length, "new"],
    [c.removed.length, "gone"],
    [c.meetingsCompleted, c.meetingsCompleted === 1 ? "meeting completed" : "meetings completed"],
  ]);
  const head = `*Since your last report* (${formatDate(c.since, zone)})${counts ? `: ${counts}` : ""}`;
  if (!lines.length) return [section(`${head}\nNo new, ended or changed connections.`)];
  return packSections([head, ...capped(lines, (n) => `…and ${plural(n, "more change")}.`)]).map(section);
}

const REASON_HEADS: Record<AttentionItem["reason"], [string, string]> = {
  request_waiting: ["request waiting", "requests waiting"],
  unmatched: ["mentor unmatched", "mentors unmatched"],
  match_ending: ["match ending", "matches ending"],
  no_meetings: ["match without meetings", "matches without meetings"],
};

/** The Nudge button of an attention item (§18): its state in the label, the item's key as its value. */
function nudgeButton(a: AttentionItem, i: number): Button {
  // A label is read aloud, not formatted: angle brackets go rather than being spelled out as &lt;.
  const said = (s: string) => plain(s).replace(/[<>]/g, "");
  const whom = a.nudge.to === "mentor" ? clip(said(a.mentorName), 40) : "the admins";
  const label = a.nudge.off
    ? "Nudges off"
    : a.nudge.sentAt
      ? "Nudged ✓"
      : a.nudge.to === "mentor"
        ? "Nudge mentor"
        : "Nudge admins";
  return {
    type: "button",
    action_id: `${NUDGE_ACTION_PREFIX}${i}`,
    text: plainText(label),
    value: attentionKey(a),
    accessibility_label: clip(
      a.nudge.off
        ? `${said(a.mentorName)} turned nudges off`
        : a.nudge.sentAt
          ? `Already nudged ${whom} this period: see when and by whom`
          : `Nudge ${whom} about ${said(a.mentorName)} in ${said(a.program)}`,
      75,
    ),
  };
}

function attentionLine(a: AttentionItem, zone: string): string {
  const state = a.nudge.off
    ? " · _nudges off_"
    : a.nudge.sentAt
      ? ` · _nudged ${formatDate(Date.parse(a.nudge.sentAt), zone)}${a.nudge.sentBy ? ` by ${esc(a.nudge.sentBy)}` : ""}_`
      : "";
  return `• *${esc(a.mentorName)}* (${esc(a.program)}) — ${attentionReasonText(a)} — ${whoActsText(a)}${state}`;
}

/**
 * "Needs attention": one line per item saying what waits and who moves it. With buttons, each item is
 * its own section with its Nudge button beside it; without, the lines are packed.
 */
function attentionBlocks(report: ManagerReport, o: ManagerRenderOptions): Block[] {
  const items = report.attention;
  if (!items.length) return [];
  const counts = tally(
    ATTENTION_REASONS.map((r) => {
      const n = items.filter((a) => a.reason === r).length;
      return [n, REASON_HEADS[r][n === 1 ? 0 : 1]];
    }),
  );
  const head = `:warning: *Needs attention* (${items.length})${items.length > LIST_LINES ? `: ${counts}` : ""}`;
  const more = (n: number) => `…and ${n} more, the longest waits first above.`;
  if (!o.buttons)
    return packSections([
      head,
      ...capped(
        items.map((a) => attentionLine(a, o.zone)),
        more,
      ),
    ]).map(section);
  const shown = items.length <= LIST_LINES ? items : items.slice(0, LIST_LINES - 1);
  return [
    section(head),
    ...shown.map(
      (a, i): Block => ({
        type: "section",
        text: mrkdwn(clip(attentionLine(a, o.zone), LIMITS.sectionText)),
        accessory: nudgeButton(a, i),
      }),
    ),
    ...(shown.length < items.length ? [context(more(items.length - shown.length))] : []),
  ];
}

function tableBlock(rows: readonly ReportRow[], zone: string): Block {
  // Escaped like every text this app sends: Slack reads &lt; &gt; &amp; back as the characters.
  const cell = (text: string): TableCell => ({ type: "raw_text", text: clip(esc(text), 1000) || "-" });
  return {
    type: "table",
    column_settings: [
      { is_wrapped: true },
      { is_wrapped: true },
      null,
      null,
      null,
      { align: "right" },
      { align: "right" },
    ],
    rows: [
      TABLE_HEADER.map(cell),
      ...rows.map((r) =>
        [
          r.mentorName,
          r.status,
          r.program,
          keyDate(r, zone),
          r.matchDate,
          String(r.upcomingMeetings),
          String(r.completedMeetings),
          r.registered,
          r.organization,
          r.mentorEmail,
        ].map(cell),
      ),
    ],
  };
}

/** Rows a data_table holds besides its header row (Slack: 100). */
export const DATA_TABLE_ROWS = 100;

/** The rows as a `data_table`: sortable and paginated in Slack, the mentor's name as each row's header. */
function dataTableBlock(rows: readonly ReportRow[], zone: string): Block {
  const cell = (text: string): TableCell => ({ type: "raw_text", text: clip(esc(text), 1000) || "-" });
  // raw_number sorts as a number; its text is what shows.
  const num = (value: number) => ({ type: "raw_number" as const, value, text: String(value) });
  return {
    type: "data_table",
    caption: `Your team's mentor connections (${rows.length}), mentees never named`,
    page_size: 10,
    row_header_column_index: 0,
    rows: [
      TABLE_HEADER.map(cell),
      ...rows.map((r) => [
        cell(r.mentorName),
        cell(r.status),
        cell(r.program),
        cell(keyDate(r, zone)),
        cell(r.matchDate),
        num(r.upcomingMeetings),
        num(r.completedMeetings),
        cell(r.registered),
        cell(r.organization),
        cell(r.mentorEmail),
      ]),
    ],
  };
}

function managerButtons(o: ManagerRenderOptions, withCsv: boolean): Block {
  const button = (action_id: string, text: string, extra: Partial<Button> = {}): Button => ({
    type: "button",
    action_id,
    text: plainText(text),
    ...extra,
  });
  const elements: Button[] = [];
  if (o.homeUrl)
    elements.push(
      button(ACTIONS.home, "Open Home tab", { url: o.homeUrl, accessibility_label: "Open the app's Home tab" }),
    );
  if (withCsv)
    elements.push(
      button(ACTIONS.csv, "Download CSV", {
        style: "primary",
        accessibility_label: "Send every row of this report as a CSV file to your DM",
      }),
    );
  if ((o.control ?? "active") === "active") {
    elements.push(
      button(ACTIONS.pause, "Skip next report", { accessibility_label: "Skip your next scheduled report only" }),
    );
    elements.push(
      button(ACTIONS.stop, "Stop reports", {
        style: "danger",
        accessibility_label: "Stop scheduled reports until you resume them",
        confirm: {
          title: plainText("Stop the reports?"),
          text: mrkdwn("No more scheduled DMs until you resume. `/mentorship-report` and the Home tab keep working."),
          confirm: plainText("Stop"),
          deny: plainText("Keep them"),
        },
      }),
    );
  } else
    elements.push(
      button(ACTIONS.resume, "Resume reports", {
        style: "primary",
        accessibility_label: "Resume your scheduled reports",
      }),
    );
  return { type: "actions", block_id: "report_controls", elements };
}

/**
 * The manager's report as one message within Block Kit's limits for any team size. It opens with what
 * changed since the last report and what needs attention, then the status counts, then the rows: a
 * table for a team that fits one, else sections of lines as far as they fit, with a CSV of every row.
 * A table message carries its sections form as `simpler`, for a workspace that rejects tables.
 */
export function buildManagerBlocks(report: ManagerReport, o: ManagerRenderOptions): Message {
  const n = rowCount(report);
  const text = buildManagerFallback(report, o);
  if (n === 0) {
    return {
      text,
      blocks: [
        header(`Mentorship report · ${periodLabel(o, report.asOf)}`),
        section("None of your team takes part in a mentorship program as a mentor right now."),
        ...(report.dataAsOf === undefined ? [] : [context(dataAsOfLabel(report.dataAsOf, o.zone))]),
      ],
    };
  }
  const form = o.form ?? "table";
  const sections = managerMessage(report, o, "sections");
  if (form === "sections" || n > DATA_TABLE_ROWS) return sections;
  // Each newer form carries the next simpler one for a workspace that refuses it: data_table, table, lines.
  const table = n <= TABLE_ROWS ? { ...managerMessage(report, o, "table"), simpler: sections } : sections;
  return form === "data_table" ? { ...managerMessage(report, o, "data_table"), simpler: table } : table;
}

function managerMessage(report: ManagerReport, o: ManagerRenderOptions, form: RowForm): Message {
  const max = o.maxBlocks ?? LIMITS.messageBlocks;
  const n = rowCount(report);
  const blocks: Block[] = [
    header(`Mentorship report · ${periodLabel(o, report.asOf)}`),
    context(
      `${o.programName ? `*${esc(o.programName)} only* · ` : ""}Your team's mentors as of ${day(report.asOf, o.zone)} · ${plural(n, "mentor connection")} · mentees are never named${stamp(report, o.zone)}`,
    ),
  ];
  if (report.changes) blocks.push(...changesBlocks(report.changes, o.zone));
  blocks.push(...attentionBlocks(report, o));
  if (report.branches?.length) {
    const lines = report.branches.map(
      (b) =>
        `• under *${esc(b.name)}*: ${plural(b.mentors, "mentor")}${b.attention ? ` · ${b.attention} need${b.attention === 1 ? "s" : ""} attention` : ""}`,
    );
    blocks.push(
      ...packSections([
        "*By direct report*",
        ...capped(lines, (k) => `…and ${k} more direct reports, those needing the least attention.`),
      ]).map(section),
    );
  }
  blocks.push({ type: "divider" });
  blocks.push(...countFields(report.groups.map((g) => ({ status: g.status, count: g.rows.length }))));
  // The buttons before the rows: a long report must not hide them.
  if (o.buttons) {
    // Off or paused is said in words, not left to a lone Resume button (§18).
    const control = o.control ?? "active";
    if (control !== "active")
      blocks.push(
        context(
          control === "paused"
            ? ":double_vertical_bar: *Reports paused*: your next scheduled report is skipped; the one after comes as usual."
            : ":black_square_for_stop: *Reports stopped*: no scheduled DMs until you press Resume.",
        ),
      );
    blocks.push(managerButtons(o, true));
  }

  // Room kept: the "showing" notes at the top of the rows and at the end.
  const footerRoom = 2;
  const top = blocks.length;
  const groups = groupsInDmOrder(report);
  let shown = 0;
  if (form === "table" || form === "data_table") {
    const rows = groups.flatMap((g) => g.rows);
    blocks.push(form === "table" ? tableBlock(rows, o.zone) : dataTableBlock(rows, o.zone));
    shown = n;
  } else {
    outer: for (const g of groups) {
      // The mentee is a column of the status, said once: every row of such a status has one.
      const withMentee = g.rows[0]?.mentee ? " · each with a mentee" : "";
      const sections = packSections([
        `*${g.status}* (${g.rows.length})${withMentee}`,
        ...g.rows.map((r) => rowLine(r, o.zone)),
      ]);
      for (const s of sections) {
        if (blocks.length >= max - footerRoom) break outer;
        blocks.push(section(s));
        shown += s.split("\n").filter((l) => l.startsWith("• ")).length;
      }
    }
  }
  if (shown < n) {
    const first = groups !== report.groups ? ", those that ask for action first" : "";
    const csv = o.buttons ? " · *Download CSV* above has every row" : "";
    blocks.splice(top, 0, context(`Showing ${shown} of ${n} connections below${first}${csv}.`));
    const elsewhere = o.onHome
      ? "`/mentorship-report PROGRAM` shows one program at a time."
      : "The app's Home tab and `/mentorship-report PROGRAM` show them by program.";
    blocks.push(
      context(`Showing ${shown} of ${n} connections. ${o.buttons ? "*Download CSV* has every row; " : ""}${elsewhere}`),
    );
  }
  return { text: buildManagerFallback(report, o), blocks };
}

export function buildProgramFallback(s: ProgramSummary, o: RenderOptions): string {
  const total = s.counts.reduce((n, c) => n + c.count, 0);
  // Slack shows `text` in notifications, where a raw `<!channel>` in a program's name would ping everyone.
  return `${esc(s.program.name)} (${periodLabel(o, s.asOf)}): ${plural(total, "mentor connection")}: ${s.counts.map((c) => `${c.count} ${c.status}`).join(", ")}.`;
}

// A pie takes at most 6 segments with labels of at most 20 characters: the four kinds of waiting
// request share one slice.
const SLICES: Array<{ label: string; statuses: string[] }> = [
  { label: "Matched-Active", statuses: ["Matched-Active"] },
  { label: "Unmatched", statuses: ["Unmatched"] },
  { label: "Duration Completed", statuses: ["Matched-Duration Completed"] },
  { label: "Concluded", statuses: ["Concluded"] },
  {
    label: "Requests waiting",
    statuses: [
      "Match Request-Waiting Mentee Approval",
      "Match Request-Waiting Mentor Approval",
      "Match Request-Waiting 2 Approvals",
      "Match Request-Waiting Admin Approval",
    ],
  },
  { label: "Not Registered", statuses: ["Not Registered"] },
];

/** The status mix as a pie chart (a `data_visualization` block), or null when there is nothing to draw. */
export function buildStatusChart(s: ProgramSummary): Block | null {
  const segments = SLICES.map((sl) => ({
    label: sl.label,
    value: s.counts.filter((c) => sl.statuses.includes(c.status)).reduce((n, c) => n + c.count, 0),
  })).filter((x) => x.value > 0);
  if (!segments.length) return null;
  return {
    type: "data_visualization",
    title: clip(`Status mix · ${esc(s.program.name)}`, 50),
    chart: { type: "pie", segments },
  };
}

/**
 * The status mix at the start of each of the last periods as a line chart (§18): one series per pie
 * slice that was ever above zero, one point per period. Null with fewer than two periods to draw.
 */
export function buildTrendChart(s: ProgramSummary, zone: string): Block | null {
  const trend = s.trend ?? [];
  if (trend.length < 2) return null;
  const categories = trend.map((t) => formatDate(t.at, zone));
  const series = SLICES.map((sl) => ({
    name: sl.label,
    data: trend.map((t, i) => ({
      label: categories[i]!,
      value: sl.statuses.reduce((n, st) => n + (t.counts[st as keyof typeof t.counts] ?? 0), 0),
    })),
  })).filter((x) => x.data.some((d) => d.value > 0));
  if (!series.length) return null;
  return {
    type: "data_visualization",
    title: clip(`Last ${trend.length} periods · ${esc(s.program.name)}`, 50),
    chart: {
      type: "line",
      series,
      axis_config: { categories, x_label: "Period start", y_label: "Mentor connections" },
    },
  };
}

/** The per-organization counts as a table: organization as the row header, one column per status seen. */
function organizationTable(s: ProgramSummary): Block {
  const statuses = s.counts.filter((c) => s.byOrganization.some((o) => o.counts[c.status])).map((c) => c.status);
  const cell = (text: string): TableCell => ({ type: "raw_text", text: clip(esc(text), 1000) || "-" });
  const orgs = s.byOrganization.slice(0, TABLE_ROWS);
  return {
    type: "table",
    column_settings: [{ is_wrapped: true }, ...statuses.map(() => ({ align: "right" as const })), { align: "right" }],
    rows: [
      ["Organization", ...statuses, "Total"].map(cell),
      ...orgs.map((o) =>
        [
          o.organization || "(no organization)",
          ...statuses.map((st) => String(o.counts[st] ?? 0)),
          String(o.total),
        ].map(cell),
      ),
    ],
  };
}

/** "+2", "−1", or "" for no change (or nothing to compare with). */
function delta(s: ProgramSummary, status: ProgramSummary["counts"][number]["status"], count: number): string {
  if (!s.previous) return "";
  const d = count - (s.previous.counts[status] ?? 0);
  return d > 0 ? `(+${d})` : d < 0 ? `(−${-d})` : "";
}

/**
 * `chart`: the newer blocks (pie, trend, organizations' table), with the lines form as `simpler`;
 * `trendOnly`: of those only the trend, for a Home tab that holds several summaries (a surface takes
 * two charts and one table at most). `requestedBy`: the Slack user who posted it on demand, named in the post.
 */
type ProgramRenderOptions = RenderOptions & { chart?: boolean; trendOnly?: boolean; requestedBy?: string };

/**
 * A program's summary for its admins' channel: counts per relevant status with the change since the
 * previous period, what needs attention, then per organization.
 */
export function buildProgramBlocks(s: ProgramSummary, o: ProgramRenderOptions): Message {
  const lines = programMessage(s, o, false);
  if (!o.chart) return lines;
  // Newer blocks (the charts, the organizations' table) carry the lines form for a workspace that refuses them.
  return { ...programMessage(s, o, true), simpler: lines };
}

function programMessage(s: ProgramSummary, o: ProgramRenderOptions, newer: boolean): Message {
  const max = o.maxBlocks ?? LIMITS.messageBlocks;
  const total = s.counts.reduce((n, c) => n + c.count, 0);
  const chart = newer && !o.trendOnly ? buildStatusChart(s) : null;
  const trend = newer ? buildTrendChart(s, o.zone) : null;
  // On demand there is no period: "as of" is said once.
  const when = o.period ? `${periodLabel(o, s.asOf)} · ` : "";
  const since = s.previous ? ` · in brackets: change since ${day(s.previous.asOf, o.zone)}` : "";
  const blocks: Block[] = [
    header(`Program summary · ${esc(s.program.name)}`),
    context(`${when}${plural(total, "mentor connection")} · as of ${day(s.asOf, o.zone)}${since}${stamp(s, o.zone)}`),
  ];
  if (o.requestedBy && /^[UW][A-Z0-9]+$/.test(o.requestedBy))
    blocks.push(context(`Posted now at the request of <@${o.requestedBy}>`));
  blocks.push(...countFields(s.counts.map((c) => ({ ...c, note: delta(s, c.status, c.count) }))));
  const needs = tally(
    ATTENTION_REASONS.map((r) => [s.attention?.[r] ?? 0, REASON_HEADS[r][(s.attention?.[r] ?? 0) === 1 ? 0 : 1]]),
  );
  if (needs) blocks.push(section(`:warning: *Needs attention:* ${needs}`));
  if (chart) blocks.push(chart);
  if (trend) blocks.push(trend);
  if (s.byOrganization.length && newer && !o.trendOnly && s.byOrganization.length <= TABLE_ROWS) {
    blocks.push({ type: "divider" }, section("*By organization*"), organizationTable(s));
  } else if (s.byOrganization.length) {
    blocks.push({ type: "divider" });
    const lines = ["*By organization*"];
    for (const org of s.byOrganization) {
      const parts = s.counts.filter((c) => org.counts[c.status]).map((c) => `${org.counts[c.status]} ${c.status}`);
      lines.push(`• *${esc(org.organization || "(no organization)")}* (${org.total}): ${parts.join(" · ")}`);
    }
    const sections = packSections(lines);
    const room = max - blocks.length - 1;
    blocks.push(...sections.slice(0, room).map(section));
    if (sections.length > room)
      blocks.push(context(`${sections.length - room} more sections of organizations left out.`));
  }
  return { text: buildProgramFallback(s, o), blocks };
}
