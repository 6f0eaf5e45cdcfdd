import type { Period } from "../domain/periods.js";
import type { ManagerReport, ProgramSummary } from "../domain/reports.js";
import type { Program } from "../domain/types.js";
import { buildManagerBlocks, buildProgramBlocks, esc, type Message } from "../render/blocks.js";
import { type Target, targetKey } from "./run-state.js";

/** Planning: every manager's DM and every program's channel summary of the period. */
export function buildTargets(
  zone: string,
  period: Period,
  managers: ManagerReport[],
  programs: Array<{ program: Program; summary: ProgramSummary }>,
  slack: { newBlocks: boolean; homeUrl?: string } = { newBlocks: true },
): Map<string, Target> {
  const targets = new Map<string, Target>();
  // A workspace known to refuse the newer blocks gets the simpler forms at once, not after a refusal each.
  const form = slack.newBlocks ? "table" : "sections";
  for (const r of managers)
    targets.set(targetKey("dm", r.manager.email), {
      kind: "dm",
      recipient: r.manager.email,
      message: buildManagerBlocks(r, { zone, period, form, buttons: true, homeUrl: slack.homeUrl }),
    });
  for (const { program, summary } of programs) {
    if (!program.adminChannel) continue;
    targets.set(targetKey("channel", program.id), {
      kind: "channel",
      recipient: program.id,
      channel: program.adminChannel,
      message: buildProgramBlocks(summary, { zone, period, chart: slack.newBlocks }),
    });
  }
  return targets;
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
