import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cli } from "../helpers/cli.js";

describe("the demo (issue 18 item 5)", () => {
  it("its DMs' data time is the report's day, not the day the demo happens to run", () => {
    // A folder of its own: the demo keeps its database in ./data.
    const r = cli(["demo"], {}, mkdtempSync(join(tmpdir(), "mr-demo-")));
    expect(r.code, r.stderr).toBe(0);
    const heads = r.stdout.match(/as of \d\d-\d\d-\d{4} · [^\n]*data as of \d\d-\d\d-\d{4}/g) ?? [];
    expect(heads.length).toBeGreaterThan(0);
    for (const h of heads) expect(h).toMatch(/as of 03-02-2026 · .*data as of 03-02-2026/);
    // The demo's data is as fresh as its report: no stale-data warning to the admins.
    expect(r.stdout).not.toContain("The mentorship data was last imported on");
  });
});

describe("npm run demo (issue 17: done when)", () => {
  it("shows Dana nudging Margaret's waiting request, Grace's nudge, the second click refused, and Grace's queue", () => {
    // The demo writes its database under ./data of the folder it runs in.
    const r = cli(["demo"], {}, mkdtempSync(join(tmpdir(), "mr-demo-")));
    expect(r.code).toBe(0);
    const out = r.stdout;
    expect(out).toContain(
      "• Margaret Hamilton (Engineering Mentorship) — waiting 20 days for admin approval — nudge the admins  [Nudge admins]",
    );
    const nudge = out.slice(out.indexOf("── 6. Dana presses Nudge"), out.indexOf("── 7."));
    expect(nudge).toContain("── DM to Grace Hopper <grace@acme.example>");
    expect(nudge).toContain(
      "Margaret Hamilton's match request in Engineering Mentorship has waited 20 days for admin approval.",
    );
    expect(nudge).toContain("Dana Brooks, Margaret Hamilton's manager, asked me to nudge the program's admins.");
    expect(nudge).toContain("Already nudged this period: Dana Brooks");
    expect(nudge.split("── DM to").length - 1).toBe(1);
    const queue = out.slice(out.indexOf("── 7."), out.indexOf("── 8."));
    expect(queue).toContain("Waiting for your approval (1), the longest waits first:");
    expect(queue).toContain("• Margaret Hamilton — Engineering Mentorship · requested 02-10-2026 · 20 days");
    expect(out).not.toMatch(
      /Secret-Mentee|Hidden-Mentee|Private-Mentee|Quiet-Mentee|Unseen-Mentee|mia@|eve@|liam@|noah@|zoe@/,
    );
  });
});
