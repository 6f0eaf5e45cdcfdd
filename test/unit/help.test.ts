import { describe, expect, it } from "vitest";
import { blockErrors } from "../../src/emulator/block-limits.js";
import { LIMITS } from "../../src/render/blocks.js";
import { buildHelp, HELP_IDS } from "../../src/render/surfaces.js";

describe("`/mentorship-report help` with many programs (issue 15 row 13)", () => {
  const programs = (n: number, name = (i: number) => `Program number ${i}`) =>
    Array.from({ length: n }, (_, i) => ({ id: `prog-${String(i).padStart(3, "0")}`, name: name(i) }));

  it("400 programs: the first 50 ids, then 'and 350 more', in blocks Slack accepts", () => {
    const all = programs(400);
    const m = buildHelp(true, { programs: all, administered: all });
    expect(blockErrors(m.blocks, { maxBlocks: LIMITS.messageBlocks, newBlocks: true })).toEqual([]);
    const json = JSON.stringify(m.blocks);
    expect(json).toContain("prog-000");
    expect(json).toContain(`prog-0${HELP_IDS - 1}`);
    expect(json).not.toContain(`prog-0${HELP_IDS}`);
    expect(m.text.match(/and 350 more/g)).toHaveLength(2);
  });

  it("long names: fewer ids, still within a section, and the rest counted", () => {
    const all = programs(60, (i) => `${"A very long program name ".repeat(4)}${i}`);
    const m = buildHelp(false, { programs: all, administered: [] });
    expect(blockErrors(m.blocks, { maxBlocks: LIMITS.messageBlocks, newBlocks: true })).toEqual([]);
    const shown = (m.text.match(/`prog-\d+`/g) ?? []).length;
    expect(shown).toBeLessThan(HELP_IDS);
    expect(m.text).toContain(`and ${60 - shown} more.`);
  });

  it("a few programs are all listed with their names, with no 'more'", () => {
    const m = buildHelp(false, { programs: programs(3), administered: [] });
    expect(m.text).toContain(
      "Programs: `prog-000` (Program number 0), `prog-001` (Program number 1), `prog-002` (Program number 2).",
    );
    expect(m.text).not.toMatch(/and \d+ more/);
  });
});
