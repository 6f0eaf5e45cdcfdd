import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { installThroughLink } from "../../src/emulator/workspaces.js";
import { BIN, cli, WORKDIR } from "../helpers/cli.js";
import { SAMPLE } from "../helpers/files.js";
import { freePort, type Served, startServe } from "../helpers/serve.js";

describe("emulator --grid: serve installed from its link into two workspaces and a Grid org (§16)", () => {
  const env: Record<string, string> = { DATABASE_URL: join(mkdtempSync(join(tmpdir(), "mr-grid-emu-")), "db.sqlite") };
  let emulator: ReturnType<typeof spawn>;
  let serve: Served;
  let out = "";
  const until = async (re: RegExp) => {
    const deadline = Date.now() + 15_000;
    while (!re.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(out).toMatch(re);
  };

  beforeAll(async () => {
    expect(cli(["import", SAMPLE], env).code).toBe(0);
    emulator = spawn(process.execPath, [BIN, "emulator", "--grid", "--port", String(await freePort())], {
      cwd: WORKDIR,
      env: { PATH: process.env.PATH ?? "", LOG_LEVEL: "warn", ...env },
    });
    emulator.stdout!.on("data", (d) => (out += d));
    await until(/npx mentorship-report serve\n/);
    // The variables the emulator printed, as a newcomer would copy them.
    const line = /^ {2}(SLACK_API_URL=.*) npx mentorship-report serve$/m.exec(out)![1]!;
    const printed = Object.fromEntries(
      line.split(" ").map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
    );
    Object.assign(env, printed, { REPORT_DELIVERY: "fixed" });
    serve = await startServe(env);
  });
  afterAll(async () => {
    await serve?.stop();
    emulator.kill("SIGTERM");
  });

  it("installs from the link in each place, then send delivers each DM in its manager's workspace", async () => {
    for (const [team, title] of [
      ["T0ALPHA", "Installed in Alpha"],
      ["T0BETA", "Installed in Beta"],
      ["E0ACME", "Installed in the org Acme Org"],
    ] as const) {
      const r = await installThroughLink(serve.url, team);
      expect(r.page).toContain(title);
    }
    const sent = cli(["send", "--as-of", "2026-03-02T09:00"], env);
    expect(sent.stderr).toBe("");
    expect(sent.code).toBe(0);
    await until(/DM to Dana Brooks <dana@acme\.example> in \w[\w ]* \(token of \w+\)/);
    const dms = [...out.matchAll(/DM to [^<]+<([^>]+)> in ([\w ]+) \(token of (\w+)\)/g)].map((m) => m.slice(1));
    expect(dms.length).toBeGreaterThan(0);
    for (const [email, workspace, via] of dms) {
      // A Grid workspace's DM goes with the org's token; Alpha's and Beta's with their own.
      expect(via, email).toBe(workspace!.startsWith("Grid") ? "E0ACME" : workspace === "Alpha" ? "T0ALPHA" : "T0BETA");
    }
  });
});
