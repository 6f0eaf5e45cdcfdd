import { spawn } from "node:child_process";
import { once } from "node:events";
import { rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { type AddressInfo, connect, createServer as createTcpServer, type Socket } from "node:net";
import { networkInterfaces } from "node:os";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { SlackEmulator } from "../../src/emulator/server.js";
import { importDirectory } from "../../src/import/import-service.js";
import { BIN, cli, WORKDIR } from "../helpers/cli.js";
import { ENGINES, freshDb, type TestDb } from "../helpers/db.js";
import { SAMPLE } from "../helpers/files.js";
import {
  freePort,
  periodBeforeNow,
  postCommand,
  type Served,
  SIGNING_SECRET,
  signed,
  startServe,
} from "../helpers/serve.js";
import { emulatorFor } from "../helpers/slack.js";

const workspace = (t: TestDb): Promise<SlackEmulator> =>
  emulatorFor(t.db, { channels: [{ id: "C0000ENG1", name: "mentorship-eng" }] });

/** Runs `serve` that is expected to stop by itself; kills it after `ms` if it does not. */
function serveUntilExit(env: Record<string, string>, ms = 15_000) {
  return new Promise<{ code: number | null; stdout: string; stderr: string; killed: boolean }>((resolve) => {
    const child = spawn(process.execPath, [BIN, "serve"], {
      cwd: WORKDIR,
      env: { PATH: process.env.PATH ?? "", LOG_LEVEL: "warn", REPORT_SCHEDULE: "off", ...env },
    });
    let stdout = "";
    let stderr = "";
    let killed = false;
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      killed = true;
      child.kill("SIGKILL");
    }, ms);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, killed });
    });
  });
}

/** JSON log lines that carry an `audit` field. */
const auditLines = (out: string) =>
  out
    .split("\n")
    .filter((l) => l.startsWith("{") && l.includes('"audit"'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe("requests from Slack are checked before any work (issue 9 row 5, spec §14)", () => {
  let t: TestDb;
  let emulator: SlackEmulator;
  let serve: Served;
  let catcher: Server;
  let caught = 0;
  beforeAll(async () => {
    t = await freshDb("sqlite");
    await importDirectory(t.db, SAMPLE, { zone: "UTC" });
    emulator = await workspace(t);
    catcher = createServer((req, res) => {
      caught++;
      req.resume();
      res.end("ok");
    });
    await new Promise<void>((r) => catcher.listen(0, "127.0.0.1", () => r()));
    serve = await startServe({
      DATABASE_URL: t.url,
      SLACK_BOT_TOKEN: emulator.token,
      SLACK_API_URL: emulator.url,
      LOG_LEVEL: "info",
    });
  });
  afterAll(async () => {
    expect(await serve.stop()).toBe(0);
    catcher.close();
    await emulator.stop();
    await t.drop();
  });
  const dana = () => emulator.userIdOf("dana@acme.example")!;
  const settle = () => new Promise((r) => setTimeout(r, 800));

  it("a signed request sent a second time (a replay) is refused", async () => {
    const body = new URLSearchParams({
      command: "/mentorship-report",
      text: "",
      user_id: dana(),
      team_id: "T0EMULATED",
      response_url: emulator.responseUrl("replay"),
    }).toString();
    const headers = { "Content-Type": "application/x-www-form-urlencoded", ...signed(body) };
    const first = await fetch(`${serve.url}/slack/events`, { method: "POST", headers, body });
    const second = await fetch(`${serve.url}/slack/events`, { method: "POST", headers, body });
    expect(first.status).toBe(200);
    expect(second.status).toBe(401);
    await settle();
    expect(emulator.responses.filter((r) => r.path === "/response/replay")).toHaveLength(1);
  });

  it("a command nobody answers: 404, and Bolt's complaint is a JSON log line like every other", async () => {
    const r = await postCommand(serve.url, { command: "/not-ours", text: "", user_id: dana() });
    expect(r.status).toBe(404);
    await settle();
    const lines = serve
      .output()
      .split("\n")
      .filter((l) => l !== "" && !l.startsWith("mentorship-report is serving on port"));
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
    const bolt = lines.map((l) => JSON.parse(l) as { component?: string; msg: string; level: number });
    expect(bolt).toContainEqual(
      expect.objectContaining({
        component: "bolt",
        level: 50,
        msg: expect.stringMatching(/not acknowledged within 3/),
      }),
    );
  });

  it("a timestamp more than 5 minutes in the future is refused", async () => {
    const r = await postCommand(
      serve.url,
      { user_id: dana(), text: "", response_url: emulator.responseUrl("future") },
      { ts: Math.floor(Date.now() / 1000) + 600 },
    );
    expect(r.status).toBe(401);
    await settle();
    expect(emulator.responses.filter((x) => x.path === "/response/future")).toHaveLength(0);
  });

  it("a response_url that is not Slack's gets nothing, not even a failure", async () => {
    const port = (catcher.address() as AddressInfo).port;
    for (const url of [`http://127.0.0.1:${port}/steal`, "https://hooks.slack.com.evil.example/x"]) {
      const r = await postCommand(serve.url, { user_id: dana(), text: "", response_url: url });
      expect(r.status).toBe(200);
    }
    await settle();
    expect(caught).toBe(0);
  });

  it("a request from another workspace (team_id) is refused", async () => {
    const r = await postCommand(serve.url, {
      user_id: dana(),
      text: "",
      team_id: "T0STRANGER",
      response_url: emulator.responseUrl("team"),
    });
    expect(r.status).toBe(401);
    await settle();
    expect(emulator.responses.filter((x) => x.path === "/response/team")).toHaveLength(0);
  });

  it("every slash command and every refusal leaves one audit line, without the command's text", async () => {
    await postCommand(serve.url, { user_id: dana(), text: "eng", response_url: emulator.responseUrl("audit") });
    const deadline = Date.now() + 5000;
    while (!auditLines(serve.output()).some((l) => l.audit === "slash_command" && l.outcome === "answered")) {
      if (Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const lines = auditLines(serve.output());
    const answered = lines.find((l) => l.audit === "slash_command" && l.outcome === "answered");
    expect(answered).toMatchObject({ user: dana(), command: "/mentorship-report" });
    expect(typeof answered!.ms).toBe("number");
    const reasons = lines.filter((l) => l.audit === "refused").map((l) => l.reason);
    expect(reasons).toEqual(expect.arrayContaining(["replay", "stale", "response_url", "team"]));
    for (const l of lines) {
      expect(typeof l.time).toBe("string");
      expect(JSON.stringify(l)).not.toMatch(/"text"|Ada Lovelace|acme\.example/);
    }
  });

  it("/metrics shows Slack calls, refusals and slash-command latency in Prometheus format", async () => {
    const res = await fetch(`${serve.url}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/mentorship_slack_calls_total\{method="auth\.test",outcome="ok"\} [1-9]/);
    expect(text).toMatch(/mentorship_requests_refused_total\{reason="replay"\} [1-9]/);
    expect(text).toMatch(/mentorship_slash_command_seconds_count\{outcome="answered"\} [1-9]/);
    expect(text).toContain("mentorship_slack_rate_limited_total");
    expect(text).toContain("mentorship_delivery_run_seconds");
    expect(text).toMatch(/^mentorship_deliveries\{kind="dm",state="delivered"\} 0$/m);
    expect(text).toMatch(/^mentorship_last_import_age_seconds \d/m);
  });
});

describe("serve refuses to start on settings it can't run safely with (issue 9 rows 5, 14)", () => {
  let t: TestDb;
  let emulator: SlackEmulator;
  beforeAll(async () => {
    t = await freshDb("sqlite");
    emulator = await workspace(t);
  });
  afterAll(async () => {
    await emulator.stop();
    await t.drop();
  });

  it("the placeholder signing secret of .env.example stops it, naming the variable", async () => {
    const r = await serveUntilExit({
      DATABASE_URL: t.url,
      SLACK_BOT_TOKEN: emulator.token,
      SLACK_API_URL: emulator.url,
      SLACK_SIGNING_SECRET: "...",
      PORT: String(await freePort()),
    });
    expect(r.killed).toBe(false);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("SLACK_SIGNING_SECRET");
    expect(r.stderr).toContain("placeholder");
  });

  it("the same copied .env.example does not stand in the way of commands that never talk to Slack", () => {
    const r = cli(["migrate"], { DATABASE_URL: t.url, SLACK_BOT_TOKEN: "xoxb-...", SLACK_SIGNING_SECRET: "..." });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  it("a token Slack refuses: a clear message and exit code 2, never 'serving' and never a stack trace", async () => {
    const r = await serveUntilExit({
      DATABASE_URL: t.url,
      SLACK_BOT_TOKEN: "xoxb-revoked",
      SLACK_API_URL: emulator.url,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      PORT: String(await freePort()),
    });
    expect(r.killed).toBe(false);
    expect(r.code).toBe(2);
    expect(r.stdout).not.toContain("is serving");
    expect(r.stderr).toContain("Slack refused SLACK_BOT_TOKEN (auth.test: invalid_auth)");
    // Against the emulator, the likely cause: a token from one of its earlier runs.
    expect(r.stderr).toContain(
      `SLACK_API_URL is ${emulator.url}: if that is the bundled emulator, its token is new each run; use the one it printed this time.`,
    );
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it("a port already in use: a message naming PORT and HTTP_HOST, exit 2 (systemd does not restart), no stack", async () => {
    const taken = createTcpServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const port = (taken.address() as AddressInfo).port;
    try {
      for (const socketMode of [false, true]) {
        const r = await serveUntilExit({
          DATABASE_URL: t.url,
          SLACK_BOT_TOKEN: emulator.token,
          SLACK_API_URL: emulator.url,
          SLACK_SIGNING_SECRET: SIGNING_SECRET,
          ...(socketMode ? { SLACK_APP_TOKEN: "xapp-1-test" } : {}),
          HTTP_HOST: "127.0.0.1",
          PORT: String(port),
        });
        expect(r.killed).toBe(false);
        expect(r.code).toBe(2);
        expect(r.stderr).toContain(
          `Cannot listen on PORT=${port} HTTP_HOST=127.0.0.1 (127.0.0.1): the port is already in use`,
        );
        expect(r.stderr).not.toContain("Unexpected error");
        expect(r.stderr).not.toMatch(/^\s+at /m);
      }
    } finally {
      taken.close();
    }
  });
});

describe("/healthz tells the truth, quickly (issue 9 row 13)", () => {
  let t: TestDb;
  let emulator: SlackEmulator;
  let serve: Served | null = null;
  beforeAll(async () => {
    t = await freshDb("sqlite");
    await importDirectory(t.db, SAMPLE, { zone: "UTC" });
  });
  afterEach(async () => {
    await serve?.stop();
    serve = null;
    await emulator?.stop();
  });
  afterAll(async () => {
    await t.drop();
  });

  it("says whether the database and Slack answer; a Slack gone quiet does not make it unhealthy", async () => {
    emulator = await workspace(t);
    serve = await startServe({ DATABASE_URL: t.url, SLACK_BOT_TOKEN: emulator.token, SLACK_API_URL: emulator.url });
    await emulator.stop();
    const res = await fetch(`${serve.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, database: "ok", slack: "unreachable" });
  });

  it("after the SQLite file is deleted it says not ok, without the error's text", async () => {
    const own = await freshDb("sqlite");
    await importDirectory(own.db, SAMPLE, { zone: "UTC" });
    await own.db.destroy();
    emulator = await workspace(t);
    serve = await startServe({ DATABASE_URL: own.url, SLACK_BOT_TOKEN: emulator.token, SLACK_API_URL: emulator.url });
    const ok = await fetch(`${serve.url}/healthz`);
    expect(await ok.json()).toMatchObject({ ok: true, database: "ok", slack: "ok" });
    for (const f of ["", "-wal", "-shm"]) rmSync(`${own.url}${f}`, { force: true });
    const res = await fetch(`${serve.url}/healthz`);
    const text = await res.text();
    expect(res.status).toBe(503);
    expect(JSON.parse(text)).toMatchObject({ ok: false, database: "missing" });
    expect(text).not.toContain(own.url);
    expect(text).not.toMatch(/Error|SQLITE/);
    await own.drop();
  });

  it("in Socket Mode it listens on loopback only", async () => {
    const external = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === "IPv4" && !i.internal)?.address;
    emulator = await workspace(t);
    serve = await startServe({
      DATABASE_URL: t.url,
      SLACK_BOT_TOKEN: emulator.token,
      SLACK_API_URL: emulator.url,
      SLACK_APP_TOKEN: emulator.appToken,
      SLACK_SIGNING_SECRET: "",
    });
    expect((await fetch(`${serve.url}/healthz`)).status).toBe(200);
    if (external) await expect(fetch(`http://${external}:${serve.port}/healthz`)).rejects.toThrow();
  });
});

describe.skipIf(!ENGINES.includes("pg"))("/healthz with a frozen PostgreSQL (issue 9 row 13)", () => {
  let t: TestDb;
  let emulator: SlackEmulator;
  let serve: Served;
  let proxy: ReturnType<typeof createTcpServer>;
  let frozen = false;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    t = await freshDb("pg");
    await importDirectory(t.db, SAMPLE, { zone: "UTC" });
    emulator = await workspace(t);
    const target = new URL(t.url);
    // A TCP proxy in front of PostgreSQL that can stop passing bytes, as a frozen server would.
    proxy = createTcpServer((client) => {
      const upstream = connect(Number(target.port || 5432), target.hostname);
      sockets.push(client, upstream);
      client.on("data", (d) => !frozen && upstream.write(d));
      upstream.on("data", (d) => !frozen && client.write(d));
      client.on("error", () => upstream.destroy());
      upstream.on("error", () => client.destroy());
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", () => r()));
    const viaProxy = new URL(t.url);
    viaProxy.port = String((proxy.address() as AddressInfo).port);
    serve = await startServe({
      DATABASE_URL: viaProxy.href,
      SLACK_BOT_TOKEN: emulator.token,
      SLACK_API_URL: emulator.url,
    });
  });
  afterAll(async () => {
    frozen = false;
    await serve.stop();
    for (const s of sockets) s.destroy();
    proxy.close();
    await emulator.stop();
    await t.drop();
  });

  it("answers not-ok within 3 s instead of waiting on the database", async () => {
    expect((await fetch(`${serve.url}/healthz`)).status).toBe(200);
    frozen = true;
    const started = performance.now();
    const res = await fetch(`${serve.url}/healthz`, { signal: AbortSignal.timeout(10_000) });
    expect(performance.now() - started).toBeLessThan(3000);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ ok: false, database: "timeout" });
  });
});

describe("SIGTERM ends serve within 10 s whatever Slack is doing (issue 9 row 14, spec §14)", () => {
  let t: TestDb;
  let emulator: SlackEmulator;
  beforeAll(async () => {
    t = await freshDb("sqlite");
    await importDirectory(t.db, SAMPLE, { zone: "UTC" });
    emulator = await workspace(t);
  });
  afterAll(async () => {
    await emulator.stop();
    await t.drop();
  });

  it("with every Slack call hanging in Socket Mode and a delivery under way", async () => {
    // The period before delivered: the start catches up the current one (§17).
    await t.db("delivery_periods").insert({ period_id: periodBeforeNow(), completed_at: 0 });
    const calls = once(emulator, "call");
    const serve = await startServe({
      DATABASE_URL: t.url,
      SLACK_BOT_TOKEN: emulator.token,
      SLACK_API_URL: emulator.url,
      SLACK_APP_TOKEN: emulator.appToken,
      SLACK_SIGNING_SECRET: "",
      // Every minute: the period's first tick has passed, so the catch-up delivery starts at once.
      REPORT_SCHEDULE: "* * * * *",
    });
    await calls;
    emulator.setResponseDelay(120_000);
    await new Promise((r) => setTimeout(r, 1500));
    const started = performance.now();
    const code = await serve.stop();
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(code).toBe(0);
  }, 30_000);
});
