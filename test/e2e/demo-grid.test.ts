import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cliAsync } from "../helpers/cli.js";

describe("npm run demo -- --grid (§16)", () => {
  it("installs from the link into two workspaces and a Grid org, and each DM lands where its manager was found", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mr-grid-"));
    try {
      const r = await cliAsync(["demo", "--grid"], {}, dir);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("Beta: Installed in Beta");
      expect(r.stdout).toContain("Acme Org: Installed in the org Acme Org");
      expect(r.stdout).toMatch(/DM to Dana Brooks <dana@acme\.example> +in Alpha with Alpha's token/);
      expect(r.stdout).toMatch(/DM to Olivia Chen <olivia@acme\.example> +in Beta with Beta's token/);
      expect(r.stdout).toMatch(/DM to Sam Ortiz <sam@acme\.example> +in Grid Three with Acme Org's token/);
      expect(r.stdout).toMatch(/post in #mentorship-eng +in Grid One with Acme Org's token/);
      expect(r.stdout).not.toMatch(/Mentee/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
