import { formatDate } from "../domain/dates.js";
import { type Block, esc } from "./blocks.js";

/** One installation as `status` and the global admins' Home tab list it (§16). */
export interface InstallationLine {
  id: string;
  name: string;
  kind: "workspace" | "org";
  since: number;
  managersReached: number;
  revokedAt: number | null;
}

const describe = (i: InstallationLine, zone: string) =>
  `${i.kind === "org" ? "org" : "workspace"} since ${formatDate(i.since, zone)}, ` +
  `${i.managersReached} manager${i.managersReached === 1 ? "" : "s"} reached` +
  (i.revokedAt === null ? "" : `, revoked ${formatDate(i.revokedAt, zone)}`);

/** The installations as lines of `status`: name, id, since, managers reached, revoked. */
export function buildInstallationLines(list: InstallationLine[], zone: string): string[] {
  if (!list.length) return ["Installations: none yet (open /slack/install to add the app to a workspace)."];
  return ["Installations:", ...list.map((i) => `  ${i.name} (${i.id}): ${describe(i, zone)}`)];
}

/** The same list for the global admins' Home tab: one context block, at most ten installations named. */
export function buildInstallationBlocks(list: InstallationLine[], zone: string): Block[] {
  const shown = list.slice(0, 10).map((i) => `• *${esc(i.name)}* (${esc(i.id)}): ${describe(i, zone)}`);
  const more = list.length > shown.length ? [`…and ${list.length - shown.length} more (see \`status\`).`] : [];
  const text = list.length ? [`*Installations*`, ...shown, ...more].join("\n") : "*Installations*: none yet.";
  return [{ type: "section", text: { type: "mrkdwn", text: text.slice(0, 3000) } }];
}
