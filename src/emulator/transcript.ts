import type { PostedMessage } from "./server.js";

type AnyBlock = {
  type: string;
  rows?: Array<Array<{ text?: string }>>;
  text?: { text: string };
  fields?: Array<{ text: string }>;
  elements?: Array<{ text?: string }>;
  title?: string;
  chart?: {
    type?: string;
    segments?: Array<{ label: string; value: number }>;
    series?: Array<{ name: string; data: Array<{ value: number }> }>;
  };
  accessory?: { type: string; text?: { text: string } };
};

const unescapeText = (s: string) => s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
const EMOJI: Record<string, string> = { ":warning:": "⚠" };
const plain = (s: string) =>
  unescapeText(
    s
      // A code block first: the inline-code rule below would take its inner backticks and leave ``…``.
      .replace(/```([\s\S]*?)```/g, "$1")
      .replace(/\*([^*\n]+)\*/g, "$1")
      .replace(/`([^`\n]+)`/g, "$1")
      .replace(/:[a-z_]+:/g, (e) => EMOJI[e] ?? e),
  );

/** A message as a person reads it in Slack, roughly: for the demo's terminal. */
export function messageAsText(m: Pick<PostedMessage, "blocks" | "text">, width = 78): string {
  const blocks = (m.blocks ?? []) as AnyBlock[];
  if (!blocks.length) return plain(m.text);
  const out: string[] = [];
  for (const b of blocks) {
    if (b.type === "header") out.push(plain(b.text!.text).toUpperCase());
    else if (b.type === "data_visualization")
      out.push(
        b.chart?.series
          ? `[line chart] ${b.title}: ${b.chart.series.map((x) => `${x.name} ${x.data.map((d) => d.value).join("→")}`).join(" · ")}`
          : `[chart] ${b.title}: ${(b.chart?.segments ?? []).map((x) => `${x.label} ${x.value}`).join(" · ")}`,
      );
    else if (b.type === "divider") out.push("─".repeat(Math.min(width, 40)));
    else if (b.type === "table") out.push(...tableLines(b.rows ?? [], width));
    else if (b.type === "actions")
      out.push(
        (b.elements ?? []).map((e) => `[${plain((e as { text?: { text: string } }).text?.text ?? "")}]`).join(" "),
      );
    else if (b.type === "context") out.push((b.elements ?? []).map((e) => plain(e.text ?? "")).join("  "));
    else if (b.type === "section") {
      // A button beside the text (a Nudge) reads at the end of its line.
      const aside = b.accessory?.type === "button" ? `  [${plain(b.accessory.text?.text ?? "")}]` : "";
      if (b.text) out.push(plain(b.text.text) + aside);
      if (b.fields) {
        const cells = b.fields.map((f) => plain(f.text).replace("\n", ": "));
        for (let i = 0; i < cells.length; i += 2)
          out.push(`${(cells[i] ?? "").padEnd(44)}  ${cells[i + 1] ?? ""}`.trimEnd());
      }
    }
  }
  return out.join("\n");
}

/** A table block as aligned columns, as many of its first columns as fit the width. */
function tableLines(rows: Array<Array<{ text?: string }>>, width: number): string[] {
  const cells = rows.map((r) => r.map((c) => unescapeText(c.text ?? "")));
  const widths: number[] = [];
  for (const r of cells) for (const [i, c] of r.entries()) widths[i] = Math.max(widths[i] ?? 0, c.length);
  let shown = 0;
  for (let used = 0; shown < widths.length && used + widths[shown]! <= width; shown++) used += widths[shown]! + 2;
  return cells.map((r) =>
    r
      .slice(0, Math.max(1, shown))
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd(),
  );
}
