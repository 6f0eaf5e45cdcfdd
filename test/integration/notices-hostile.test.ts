import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildRunSummaryText } from "../../src/cli/run-summary.js";
import { parseInstant } from "../../src/domain/dates.js";
import { importDirectory } from "../../src/import/import-service.js";
import { ENGINES, freshDb } from "../helpers/db.js";
import { csvDir } from "../helpers/files.js";
import { deliveryFor, emulatorFor } from "../helpers/slack.js";

const ASOF = parseInstant("2026-03-02T09:00", "UTC")!;
const HOSTILE = "eng>ops";

/** The sample company with program `eng` renamed to `eng>ops` and given a name that would ping a channel. */
function hostileSample(): string {
  const dir = csvDir();
  for (const f of readdirSync(dir).filter((n) => n.endsWith(".csv"))) {
    const lines = readFileSync(join(dir, f), "utf8").split("\n");
    const header = lines[0]!.split(",");
    const col = header.indexOf(f === "programs.csv" ? "program_id" : "program_id");
    if (col < 0) continue;
    const out = lines.map((l, i) => {
      if (i === 0 || !l) return l;
      const cells = l.split(",");
      if (cells[col] === "eng") cells[col] = HOSTILE;
      if (f === "programs.csv" && cells[col] === HOSTILE) cells[1] = "<!channel> Eng <https://evil.example|click>";
      return cells.join(",");
    });
    writeFileSync(join(dir, f), out.join("\n"));
  }
  return dir;
}

describe.each(ENGINES)(
  "admin notices about a program with a hostile id and name (%s) (issue 9 rows 1, 9)",
  (engine) => {
    it("reach the program's admins, name the right program and admin, and ping no one", async () => {
      const t = await freshDb(engine);
      const imported = await importDirectory(t.db, hostileSample(), { zone: "UTC" });
      expect(imported.ok).toBe(true);
      const emulator = await emulatorFor(t.db, {
        channels: [
          { id: "C0000ENG1", name: "mentorship-eng", botCanPost: false },
          { id: "C0000LEAD", name: "leadership-circle" },
        ],
      });
      try {
        const s = await deliveryFor(t.db, emulator, {
          ADMIN_EMAILS: ["olivia@acme.example", "nobody@acme.example"],
        }).deliverPeriod({ asOf: ASOF });
        const grace = emulator.userIdOf("grace@acme.example")!;
        const olivia = emulator.userIdOf("olivia@acme.example")!;
        const notices = emulator.messages.filter((m) => m.text.startsWith("I could not post"));
        expect(notices.map((m) => m.user).sort()).toEqual([grace, olivia].sort());
        for (const m of emulator.messages) {
          expect(m.text).not.toMatch(/<[!@#]|<https?:/);
          // A table's raw_text cells are never parsed by Slack, so they are shown as they are.
          const parsed = JSON.stringify(m.blocks ?? [], (_k, v) => (v?.type === "raw_text" ? undefined : v));
          expect(parsed).not.toMatch(/<[!@#]|<https?:/);
        }
        expect(notices[0]!.text).toContain("&lt;!channel&gt; Eng");
        expect(s.tally!.failed).toContainEqual(expect.objectContaining({ kind: "notice", error: "not_in_slack" }));
        const summary = buildRunSummaryText(s, "UTC");
        expect(summary).toContain(`notice to nobody@acme.example about program ${HOSTILE}`);
      } finally {
        await emulator.stop();
        await t.drop();
      }
    });
  },
);
