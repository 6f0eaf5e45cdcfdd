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
