import { formatDate, formatDayTime } from "../domain/dates.js";
import type { ImportProblem } from "../import/csv-files.js";
import { type Block, esc, type Message } from "./blocks.js";

/** How many problems the answer itself lists; the attached file has all of them. */
export const PROBLEMS_IN_MESSAGE = 20;

const section = (text: string): Block => ({ type: "section", text: { type: "mrkdwn", text } });
const msg = (text: string): Message => ({ text, blocks: [section(text)] });
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
const clip = (s: string, n: number) => (s.length <= n ? s : `${s.slice(0, n - 1)}…`);

/**
 * A problem line as it may go to Slack: a quoted cell value is left out unless it is a program or
 * match id, since a shifted column can put a mentee's name or email in any cell.
 */
export function problemLine(p: ImportProblem): string {
  const problem = p.problem.replace(/(?<!\b(?:program|match) )"(?:[^"\\]|\\.)*"/g, "the value");
  // Line 0: a stored row the import would leave dangling, named by its file alone.
  return `${p.file}${p.line > 0 ? `:${p.line}` : ""}: ${p.column}: ${problem}`;
}

/** Every problem, one a line: the file attached to a failed upload's answer. */
export const buildProblemsFile = (problems: ImportProblem[]) => `${problems.map(problemLine).join("\n")}\n`;

export const uploadNotAdmin = (): Message =>
  msg(
    "Only program admins can send me data files, so I did not open these. Ask a program admin (programs.csv, admin_emails) to send them.",
  );

export const uploadNothingToRead = (names: string[], expected: readonly string[]): Message =>
  msg(
    `None of these is a file I import (${esc(names.join(", ")) || "no name"}). Send one or more of: ${expected.join(", ")}.`,
  );

export const uploadFailed = (reason: string): Message =>
  msg(`I could not read the files you sent (${esc(reason)}); nothing was imported. Please send them again.`);

export interface UploadOutcome {
  ok: boolean;
  /** Per file, what the import did: counts by name (rows, added, changed, removed, unchanged). */
  files: Array<{ file: string; counts: Record<string, number> }>;
  problems: ImportProblem[];
  /** Files sent that are not one of the six, left out. */
  ignored: string[];
}

/** The answer in the upload's thread: per-file counts, or the first problems (all of them in the attached file). */
export function buildUploadAnswer(o: UploadOutcome): Message {
  const parts: string[] = [];
  if (o.ok) {
    const files = o.files.map((f) => {
      const counts = Object.entries(f.counts).map(([k, n]) => `${n} ${k}`);
      return `• \`${f.file}\`: ${counts.join(", ")}`;
    });
    parts.push(`Imported ${plural(o.files.length, "file")} in one transaction:\n${files.join("\n")}`);
  } else {
    parts.push(`Nothing was imported: ${plural(o.problems.length, "problem")}. Fix them and send the files again.`);
    const shown = o.problems.slice(0, PROBLEMS_IN_MESSAGE);
    // 20 lines of at most 140 characters keep the list within a section's 3000.
    parts.push(`\`\`\`${shown.map((p) => esc(clip(problemLine(p), 140))).join("\n")}\`\`\``);
    if (o.problems.length > shown.length)
      parts.push(`The first ${shown.length} are above; all ${o.problems.length} are in the attached file.`);
  }
  if (o.ignored.length) parts.push(`Not one of the six files, left out: ${esc(clip(o.ignored.join(", "), 500))}.`);
  return { text: clip(parts.join("\n"), 3900), blocks: parts.map((p) => section(clip(p, 3000))) };
}

/** What the admins read, once per change, when the drop folder's files could not be imported. */
export function buildDropFolderFailure(problems: ImportProblem[]): Message {
  const shown = problems.slice(0, PROBLEMS_IN_MESSAGE);
  const parts = [
    `The files in the drop folder (IMPORT_DIR) could not be imported: ${plural(problems.length, "problem")}. ` +
      "Nothing was changed; the reports keep the data imported before. Fix the files and I will import them when they change.",
    `\`\`\`${shown.map((p) => esc(clip(problemLine(p), 140))).join("\n")}\`\`\``,
  ];
  if (problems.length > shown.length)
    parts.push(`The first ${shown.length} of ${problems.length}; \`import --dry-run\` on the folder lists them all.`);
  return { text: clip(parts.join("\n"), 3900), blocks: parts.map((p) => section(clip(p, 3000))) };
}

/** What the program admins read before a scheduled run delivers reports built on old data (§13). */
export function buildStaleDataNotice(o: { dataAsOf: number; days: number; maxAgeDays: number; zone: string }): Message {
  const text =
    `The mentorship data was last imported on ${formatDate(o.dataAsOf, o.zone)}, ${plural(o.days, "day")} ago ` +
    `(more than ${plural(o.maxAgeDays, "day")}), and this period's reports are going out now with it. ` +
    "Send me the latest CSV files here, or update the drop folder, so the next reports are right.";
  return msg(text);
}

/** An import as the history keeps it; its problems are already formatted and free of cell values. */
export interface LastImport {
  finishedAt: number;
  source: string;
  outcome: string;
  files: ReadonlyArray<{ added: number; changed: number; removed: number }>;
  problemCount: number;
  problems: readonly string[];
}

/** The admin's Home tab: the last import, from where, and what it did or why it was refused (§13). */
export function buildLastImportBlocks(i: LastImport | null, zone: string): Block[] {
  if (!i) return [section("*Data*: nothing has been imported yet.")];
  const when = formatDayTime(i.finishedAt, zone);
  const from = i.source === "cli" ? "the command line" : i.source === "folder" ? "the drop folder" : "Slack";
  const sum = (k: "added" | "changed" | "removed") => i.files.reduce((n, f) => n + f[k], 0);
  const head =
    i.outcome === "imported"
      ? `*Last import* ${when} from ${from}: ${plural(i.files.length, "file")}, ${sum("added")} added, ${sum("changed")} changed, ${sum("removed")} removed.`
      : `*Last import* ${when} from ${from} was ${i.outcome}: ${plural(i.problemCount, "problem")}; nothing was changed.`;
  const blocks = [section(head)];
  const shown = i.outcome === "imported" ? [] : i.problems.slice(0, 10);
  if (shown.length) blocks.push(section(clip(`\`\`\`${shown.map((p) => esc(clip(p, 140))).join("\n")}\`\`\``, 3000)));
  return blocks;
}
