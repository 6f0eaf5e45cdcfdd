import type { Config } from "../config.js";
import type { RunSummary } from "../delivery/delivery-service.js";
import type { StartPlan } from "../delivery/scheduler.js";
import type { Audience, PilotMisses } from "../delivery/targets.js";
import { formatDayTime } from "../domain/dates.js";
import { parseNoticeRecipient } from "../domain/notice-key.js";
import { formatPeriodRange } from "../domain/periods.js";
import { escapeInvisible } from "../render/text.js";

/** What a delivery run did, for the operator's terminal and logs. Names managers, never mentees. */
export function buildRunSummaryText(s: RunSummary, zone: string): string {
  const lines = [
    `Period ${s.period.id} (${formatPeriodRange(s.period, zone)}), report as of ${formatDayTime(s.asOf, zone)}`,
  ];
  const at = (ms: number) => formatDayTime(ms, zone);
  const waiting = s.waiting?.count
    ? `  ${s.waiting.count} waiting for their local time; the next wave at ${at(s.waiting.next!)}.`
    : null;
  if (s.skipped === "not-due") {
    const first = !waiting && s.waiting?.next ? ` The period's first wave is at ${at(s.waiting.next)}.` : "";
    return [...lines, `  Nothing due yet.${first}`, ...(waiting ? [waiting] : [])].join("\n") + "\n";
  }
  if (s.skipped) return [...lines, "  Already delivered: nothing to do."].join("\n") + "\n";
  if (s.dryRun) {
    lines.push(
      `  Dry run: would deliver ${s.planned.dm} DMs and ${s.planned.channel} channel summaries; nothing was sent or recorded.`,
    );
    if (s.plan?.length) {
      const who = (p: NonNullable<RunSummary["plan"]>[number]) =>
        escapeInvisible(p.channel ? `${p.recipient} → ${p.channel}` : p.recipient);
      const width = Math.max(...s.plan.map((p) => who(p).length));
      lines.push("  Recipients (problems as the directory last saw them; Slack is not asked):");
      for (const p of s.plan)
        lines.push(
          `    ${p.kind.padEnd(8)} ${who(p).padEnd(width)}  ${String(p.rows).padStart(5)} row${p.rows === 1 ? "" : "s"}${p.problem ? `  ${reason(p.problem)}` : ""}`,
        );
    }
    return lines.join("\n") + "\n";
  }
  const failed = s.tally?.failed ?? [];
  const f = (k: "dm" | "channel" | "notice") => failed.filter((x) => x.kind === k).length;
  lines.push(
    `  DMs:               ${s.planned.dm} planned · ${s.deliveredNow.dm} delivered now · ${s.alreadyDelivered.dm} already delivered · ${f("dm")} failed`,
    `  Channel summaries: ${s.planned.channel} planned · ${s.deliveredNow.channel} delivered now · ${s.alreadyDelivered.channel} already delivered · ${f("channel")} failed`,
  );
  const notices = s.deliveredNow.notice + s.alreadyDelivered.notice;
  if (notices || f("notice"))
    lines.push(
      `  Program admins told of a failed channel post: ${notices}${f("notice") ? ` (${f("notice")} could not be reached)` : ""}`,
    );
  const skipped = s.tally?.skipped ?? [];
  if (skipped.length) {
    const by = (r: string) => skipped.filter((x) => x.reason === r).length;
    lines.push(
      `  Skipped at the managers' wish: ${by("paused")} paused for this period · ${by("stopped")} stopped (/mentorship-report resume turns them back on)`,
    );
  }
  const outside = s.tally?.outsidePilot;
  if (outside && (outside.dm || outside.channel)) lines.push(`  ${outsidePilotText(outside)}`);
  const stale = (s.deliveredNow.stale ?? 0) + (s.alreadyDelivered.stale ?? 0);
  if (stale) lines.push(`  Program admins told the data is older than DATA_MAX_AGE_DAYS: ${stale}`);
  if (s.reconciled)
    lines.push(`  ${s.reconciled} found already posted in Slack after an interrupted run (not sent again)`);
  if (failed.length) {
    lines.push("  Failed (not retried this period):");
    for (const x of failed) lines.push(`    ${failedWhat(x.kind, x.recipient)}: ${reason(x.error)}`);
  }
  if (s.expired?.length) {
    lines.push(`  Closed as expired (their period ended before they could be delivered): ${s.expired.length}`);
    for (const x of s.expired.slice(0, 20)) lines.push(`    period ${x.periodId}: ${failedWhat(x.kind, x.recipient)}`);
    if (s.expired.length > 20) lines.push(`    …and ${s.expired.length - 20} more (see \`status\`)`);
  }
  if (s.fatal)
    lines.push(
      `  Stopped: Slack refused the app's token (${s.fatal}). Fix SLACK_BOT_TOKEN or the app's scopes, then run send again.`,
    );
  else if (s.interrupted)
    lines.push(`  Stopped for shutdown. ${s.left} left; the next start or another instance finishes them.`);
  else if (s.rateLimitedTeams?.length)
    lines.push(
      `  Slack asked ${s.rateLimitedTeams.length === 1 ? "one workspace" : `${s.rateLimitedTeams.length} workspaces`} (${s.rateLimitedTeams.join(", ")}) to wait ${Math.ceil((s.rateLimited ?? 0) / 1000)} s, longer than a run waits; the others were delivered. ${s.left} left; the next tick or \`send\` finishes them.`,
    );
  else if (s.rateLimited !== undefined)
    lines.push(
      `  Stopped: Slack asked to wait ${Math.ceil(s.rateLimited / 1000)} s (rate limited), longer than a run waits. ${s.left} left; the next tick or \`send\` finishes them.`,
    );
  else if (s.unreachable)
    lines.push(`  Stopped: Slack is out of reach. ${s.left} left; the next tick or \`send\` finishes them.`);
  else if (s.left) lines.push(`  ${s.left} left for a later run (held by another instance or retried out).`);
  else if (waiting) lines.push(waiting);
  else lines.push("  Period complete.");
  return lines.join("\n") + "\n";
}

const REASONS: Record<string, string> = {
  not_in_slack: "no Slack user with this email",
  deactivated: "Slack account deactivated",
  user_disabled: "Slack account deactivated",
  channel_not_found: "channel not found",
  not_in_channel: "the app is not in the channel (invite it, or grant chat:write.public)",
  is_archived: "channel is archived",
  no_longer_in_report: "no longer has mentors in the report",
  no_admin_channel: "no admin_channel: its summary goes nowhere",
  expired: "the period ended before it could be delivered",
  not_in_pilot: "not in the pilot (REPORT_PILOT_EMAILS, REPORT_PILOT_PROGRAMS)",
};

/** §17: the recipients a pilot leaves out, counted (a pilot of ten in a large company leaves out thousands). */
export const outsidePilotText = (n: { dm: number; channel: number }) =>
  `Skipped, not in the pilot (not_in_pilot): ${n.dm} DM${n.dm === 1 ? "" : "s"} · ${n.channel} channel summar${n.channel === 1 ? "y" : "ies"}`;

/** Recipients come from the data: a character only a direct database write could put there is written out. */
function failedWhat(kind: string, recipient: string): string {
  if (kind === "dm") return `DM to ${escapeInvisible(recipient)}`;
  if (kind === "channel") return `summary of program ${escapeInvisible(recipient)}`;
  const { programId, admin } = parseNoticeRecipient(recipient);
  return `notice to ${escapeInvisible(admin)} about program ${escapeInvisible(programId)}`;
}

const reason = (code: string) => (REASONS[code] ? `${REASONS[code]} (${code})` : code);

/**
 * `serve`'s start line (§17): the delivery mode as it really is (local time is no cron string), the
 * audience, the next delivery and how many it will reach, and a first period left to `send`.
 */
export function buildStartLine(s: {
  port: number;
  slackMode: "socket" | "http";
  config: Pick<Config, "REPORT_DELIVERY" | "REPORT_LOCAL_TIME" | "REPORT_SCHEDULE" | "REPORT_TIMEZONE">;
  audience: Audience;
  plan: StartPlan;
  recipients: { dm: number; channel: number; pilotMisses?: PilotMisses };
}): string {
  const { config, plan, audience } = s;
  const zone = config.REPORT_TIMEZONE;
  const off = config.REPORT_SCHEDULE === "off";
  const local = config.REPORT_DELIVERY === "local";
  const parts = [
    `mentorship-report is serving on port ${s.port} (${s.slackMode === "socket" ? "Socket Mode" : "HTTP"})`,
  ];
  parts.push(
    off
      ? "delivery: off (REPORT_SCHEDULE=off; `send` delivers)"
      : local
        ? `delivery: ${config.REPORT_LOCAL_TIME} in each manager's zone on a period's first day, channel summaries ${config.REPORT_LOCAL_TIME} ${zone}`
        : `delivery: cron \`${config.REPORT_SCHEDULE}\` in ${zone}, everyone at once`,
  );
  parts.push(
    audience
      ? `audience: pilot of ${plural(audience.emails.size, "manager")} and ${plural(audience.programs.size, "program")}`
      : "audience: everyone",
  );
  const misses = s.recipients.pilotMisses;
  if (misses?.emailEntries.length)
    parts.push(
      misses.emailEntries.length === 1
        ? `REPORT_PILOT_EMAILS: entry ${misses.emailEntries[0]} is no manager with mentors on their team in the data`
        : `REPORT_PILOT_EMAILS: entries ${misses.emailEntries.join(", ")} are no managers with mentors on their team in the data`,
    );
  if (misses?.programs.length)
    parts.push(
      `REPORT_PILOT_PROGRAMS: ${misses.programs.join(", ")} ${misses.programs.length === 1 ? "is not a program" : "are not programs"} in the data`,
    );
  const reach = `${plural(s.recipients.dm, "DM")} and ${plural(s.recipients.channel, "channel summary", "channel summaries")}`;
  if (plan.catchUp) parts.push(`catching up now: ${reach}`);
  if (plan.next)
    parts.push(
      `next delivery: ${formatDayTime(plan.next.at, zone)} (period ${plan.next.periodId}${local ? `, the earliest zone's ${config.REPORT_LOCAL_TIME}` : ""}), ${reach}`,
    );
  if (plan.leftToSend)
    parts.push(
      `period ${plan.leftToSend} has begun and neither it nor the period before was delivered: it is not sent at start; \`npx mentorship-report send\` delivers it now`,
    );
  return `${parts.join("; ")}\n`;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
