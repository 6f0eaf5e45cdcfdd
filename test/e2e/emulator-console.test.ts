import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, cli, WORKDIR } from "../helpers/cli.js";
import { SAMPLE } from "../helpers/files.js";
import { freePort, type Served, SIGNING_SECRET, startServe } from "../helpers/serve.js";

describe("the emulator's console: typed commands and clicks reach a running serve", () => {
  const env: Record<string, string> = {
    DATABASE_URL: join(mkdtempSync(join(tmpdir(), "mr-console-")), "db.sqlite"),
  };
  let emulator: ReturnType<typeof spawn>;
  let serve: Served;
  let out = "";
  const until = async (text: string, times = 1) => {
    const deadline = Date.now() + 15_000;
    while (out.split(text).length - 1 < times && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(out.split(text).length - 1).toBeGreaterThanOrEqual(times);
  };

  beforeAll(async () => {
    expect(cli(["import", SAMPLE], env).code).toBe(0);
    const [emulatorPort, appPort] = [await freePort(), await freePort()];
    emulator = spawn(
      process.execPath,
      [BIN, "emulator", "--port", String(emulatorPort), "--app-url", `http://127.0.0.1:${appPort}/slack/events`],
      {
        cwd: WORKDIR,
        env: { PATH: process.env.PATH ?? "", LOG_LEVEL: "warn", SLACK_SIGNING_SECRET: SIGNING_SECRET, ...env },
      },
    );
    emulator.stdout!.on("data", (d) => (out += d));
    await until("Point the app at it");
    serve = await startServe({
      ...env,
      PORT: String(appPort),
      SLACK_BOT_TOKEN: "xoxb-emulator-token",
      SLACK_API_URL: `http://127.0.0.1:${emulatorPort}/api/`,
    });
  });
  afterAll(async () => {
    await serve?.stop();
    emulator.kill("SIGINT");
    await once(emulator, "exit");
  });

  it("prints the help, then the slash answer, the Home tab and what a click changes, never a mentee", async () => {
    expect(out).toContain("/mentorship-report ...   the slash command");
    emulator.stdin!.write("/mentorship-report\n");
    await until("First choose who you are");
    emulator.stdin!.write("as dana@acme.example\n/mentorship-report ENG\n");
    await until("Acting as Dana Brooks <dana@acme.example>");
    await until("answer (only you see it)");
    expect(out).toContain("Ada Lovelace");
    emulator.stdin!.write("home\n");
    await until("Home tab of Dana Brooks <dana@acme.example>");
    expect(out).toContain("[Skip next report]");
    emulator.stdin!.write("click pause\n");
    await until("Home tab of Dana Brooks <dana@acme.example>", 2);
    await until("[Resume reports]");
    emulator.stdin!.write("click csv\n");
    await until("── file mentorship-report-");
    expect(out).toMatch(/file mentorship-report-\d\d-\d\d-\d{4}\.csv in D\w+: 8 rows and a header/);
    expect(out).not.toMatch(/mia@|eve@|liam@|noah@|zoe@/);
  });
});
