import { chmodSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cli } from "../helpers/cli.js";

describe("an existing SQLite file readable by others (issue 15 row 18, spec §15)", () => {
  it("is tightened to 0600 at start, with a log line", () => {
    const dir = mkdtempSync(join(tmpdir(), "mr-mode-"));
    try {
      const file = join(dir, "reports.sqlite");
      expect(cli(["migrate"], { DATABASE_URL: file }).code).toBe(0);
      // As an earlier release (or a careless copy) left it.
      chmodSync(file, 0o644);
      const r = cli(["migrate"], { DATABASE_URL: file });
      expect(r.code).toBe(0);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(r.stderr + r.stdout).toMatch(/"was":"0644".*readable by its owner only/);
      // Already tight: nothing to say.
      const again = cli(["migrate"], { DATABASE_URL: file });
      expect(again.stderr + again.stdout).not.toContain("readable by its owner only");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
