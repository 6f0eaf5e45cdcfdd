import { DateTime } from "luxon";
import type { Period } from "../domain/periods.js";
import type { ManagerReport, ProgramSummary } from "../domain/reports.js";
import { rowCount } from "../domain/reports.js";
import type { ReportRow } from "../domain/types.js";

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
// Slack layer hands these payloads to the SDK as they are (`as never` at those call sites).
type Text = { type: "plain_text" | "mrkdwn"; text: string; emoji?: boolean };
export type Block =
  | { type: "header"; text: Text & { type: "plain_text" } }
  | { type: "section"; text?: Text; fields?: Text[]; block_id?: string }
  | { type: "context"; elements: Text[] }
  | { type: "divider" }
  | {
      type: "data_visualization";
      title: string;
      chart: { type: "pie"; segments: Array<{ label: string; value: number }> };
    };

/** Block types newer than some workspaces and clients accept (Slack answers `invalid_blocks`). */
export const NEW_BLOCK_TYPES: ReadonlySet<string> = new Set(["data_visualization", "table"]);

/** The same message without the newer block types: the first fallback after `invalid_blocks`. */
export function withoutNewBlocks(m: Message): Message {
  return { text: m.text, blocks: m.blocks.filter((b) => !NEW_BLOCK_TYPES.has(b.type)) };
}

export const hasNewBlocks = (m: Message) => m.blocks.some((b) => NEW_BLOCK_TYPES.has(b.type));

export interface Message {
  text: string;
  blocks: Block[];
}

export interface RenderOptions {
  zone: string;
  period: Period | null;
  maxBlocks?: number;
}

// C0 and C1 control characters and the bidirectional overrides: a name can neither ring a bell in a
// terminal nor reorder what a reader sees.
const CONTROL = /[\p{Cc}\u202a-\u202e\u2066-\u2069]/gu;

/** Text from the data, made inert: control characters dropped, whitespace runs folded to one space. */
const plain = (s: string) => s.replace(/\s+/g, " ").replace(CONTROL, "");

/** Slack's three control characters, escaped so a name can't inject a mention or a link (spec §14). */
export const esc = (s: string) => plain(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const clip = (s: string, n: number) => (s.length <= n ? s : `${s.slice(0, n - 1)}…`);
const day = (ms: number, zone: string) => DateTime.fromMillis(ms, { zone }).toFormat("MM-dd-yyyy");
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

function periodLabel(o: RenderOptions, asOf: number): string {
  if (!o.period) return `as of ${day(asOf, o.zone)}`;
  const lastDay = DateTime.fromMillis(o.period.end, { zone: o.zone }).minus({ days: 1 }).toMillis();
  return `${day(o.period.start, o.zone)} – ${day(lastDay, o.zone)}`;
}

const header = (text: string): Block => ({
  type: "header",
  text: { type: "plain_text", text: clip(text, LIMITS.headerText), emoji: true },
});
const mrkdwn = (text: string): Text => ({ type: "mrkdwn", text });
const section = (text: string): Block => ({ type: "section", text: mrkdwn(clip(text, LIMITS.sectionText)) });
const context = (text: string): Block => ({ type: "context", elements: [mrkdwn(clip(text, LIMITS.sectionText))] });

function rowLine(r: ReportRow): string {
  const parts = [`${esc(r.program)}`];
  if (r.organization) parts.push(esc(r.organization));
  if (r.registered) parts.push(`registered ${r.registered}`);
  if (r.matchDate) parts.push(`matched ${r.matchDate}`);
  if (r.mentee) parts.push(`with a ${r.mentee}`);
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

function countFields(counts: Array<{ status: string; count: number }>): Block[] {
  const fields = counts.map((c) => mrkdwn(`*${c.status}*\n${c.count}`));
  const blocks: Block[] = [];
  for (let i = 0; i < fields.length; i += LIMITS.fields)
    blocks.push({ type: "section", fields: fields.slice(i, i + LIMITS.fields) });
  return blocks;
}

export function buildManagerFallback(report: ManagerReport, o: RenderOptions): string {
  const n = rowCount(report);
  if (n === 0) return `Mentorship report (${periodLabel(o, report.asOf)}): none of your team mentors in a program.`;
  const counts = report.groups.map((g) => `${g.rows.length} ${g.status}`).join(", ");
  return `Mentorship report (${periodLabel(o, report.asOf)}): ${plural(n, "mentor connection")} on your team: ${counts}.`;
}

/**
 * The manager's report as one message within Block Kit's limits for any team size: every row while
 * they fit, then a count of the rest and where to see them all.
 */
export function buildManagerBlocks(report: ManagerReport, o: RenderOptions): Message {
  const max = o.maxBlocks ?? LIMITS.messageBlocks;
  const n = rowCount(report);
  const blocks: Block[] = [header(`Mentorship report · ${periodLabel(o, report.asOf)}`)];
  if (n === 0) {
    blocks.push(section("None of your team takes part in a mentorship program as a mentor right now."));
    return { text: buildManagerFallback(report, o), blocks };
  }
  blocks.push(
    context(
      `Your team's mentors as of ${day(report.asOf, o.zone)} · ${plural(n, "mentor connection")} · mentees are never named`,
    ),
  );
  blocks.push(...countFields(report.groups.map((g) => ({ status: g.status, count: g.rows.length }))));
  blocks.push({ type: "divider" });

  const footerRoom = 1;
  let shown = 0;
  outer: for (const g of report.groups) {
    const sections = packSections([`*${g.status}* (${g.rows.length})`, ...g.rows.map(rowLine)]);
    for (const s of sections) {
      if (blocks.length >= max - footerRoom) break outer;
      blocks.push(section(s));
      shown += s.split("\n").filter((l) => l.startsWith("• ")).length;
    }
  }
  if (shown < n) {
    blocks.push(
      context(
        `Showing ${shown} of ${n} connections. Type \`/mentorship-report\` or open the app's Home tab to see them by program.`,
      ),
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

/** A program's summary for its admins' channel: counts per relevant status, then per organization. */
export function buildProgramBlocks(s: ProgramSummary, o: RenderOptions & { chart?: boolean }): Message {
  const max = o.maxBlocks ?? LIMITS.messageBlocks;
  const total = s.counts.reduce((n, c) => n + c.count, 0);
  const chart = o.chart ? buildStatusChart(s) : null;
  const blocks: Block[] = [
    header(`Program summary · ${esc(s.program.name)}`),
    context(`${periodLabel(o, s.asOf)} · ${plural(total, "mentor connection")} · as of ${day(s.asOf, o.zone)}`),
    ...countFields(s.counts),
    ...(chart ? [chart] : []),
  ];
  if (s.byOrganization.length) {
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
