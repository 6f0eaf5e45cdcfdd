import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { type AddressInfo, connect, type Socket } from "node:net";
import { networkInterfaces } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb } from "../../src/db/knex.js";
import type { SlackEmulator } from "../../src/emulator/server.js";
import { importDirectory } from "../../src/import/import-service.js";
import { ACTIONS } from "../../src/render/blocks.js";
import { BIN, WORKDIR } from "../helpers/cli.js";
import { freshDb, type TestDb } from "../helpers/db.js";
import { SAMPLE } from "../helpers/files.js";
import { freePort, postCommand, type Served, signed, startServe } from "../helpers/serve.js";
import { emulatorFor } from "../helpers/slack.js";

const settle = () => new Promise((r) => setTimeout(r, 800));
const MB = 1024 * 1024;

/** A signed interaction (`payload=` form), as Slack posts a button click. */
async function postInteraction(url: string, payload: Record<string, unknown>): Promise<number> {
  const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  const res = await fetch(`${url}/slack/events`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", ...signed(body) },
    body,
  });
  await res.text();
  return res.status;
}

/**
 * Sends only a request's head over a raw socket (the body is promised, never sent) and resolves with
 * the status line the server answers, or "closed"/"timeout".
 */
function headOnly(port: number, head: string, ms = 5000): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let got = "";
    const timer = setTimeout(() => {
      socket.destroy();
      resolve("timeout");
    }, ms);
    socket.on("data", (d) => {
      got += d;
      if (got.includes("\r\n")) {
        clearTimeout(timer);
        socket.destroy();
        resolve(got.split("\r\n")[0]!);
      }
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(got ? got.split("\r\n")[0]! : "closed");
    });
    socket.write(head);
  });
}

const head = (headers: Record<string, string>) =>
  `POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("")}\r\n`;

/** Resident memory of a process, in MB, from /proc. */
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;

describe("one gate for every Slack request (issue 15 rows 1, 7, 8, 12; spec §15)", () => {
  let t: TestDb;
  let emulator: SlackEmulator;
  let serve: Served;
  let catcher: Server;
  let caught = 0;
  beforeAll(async () => {
    t = await freshDb("sqlite");
    await importDirectory(t.db, SAMPLE, { zone: "UTC" });
    emulator = await emulatorFor(t.db, { channels: [] });
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
  const click = (extra: Record<string, unknown>) => {
    const user = dana();
    return {
      ...emulator.blockActionsPayload({
        user,
        actionId: ACTIONS.csv,
        message: { channel: `D${user.slice(1)}`, ts: "1.1" },
      }),
      ...extra,
    };
  };

  it("a signed button click whose response_url is not Slack's gets nothing there", async () => {
    const port = (catcher.address() as AddressInfo).port;
    const uploads = emulator.uploads.length;
    expect(await postInteraction(serve.url, click({ response_url: `http://127.0.0.1:${port}/steal` }))).toBe(200);
    await settle();
    expect(caught).toBe(0);
    expect(emulator.uploads).toHaveLength(uploads);
    expect(serve.output()).toMatch(/"audit":"refused","reason":"response_url"/);
  });

  it("a click without `team` whose user belongs to another team is refused", async () => {
    const uploads = emulator.uploads.length;
    const payload = click({ team: undefined, user: { id: dana(), team_id: "T0STRANGER" } });
    expect(await postInteraction(serve.url, payload)).toBe(401);
    await settle();
    expect(emulator.uploads).toHaveLength(uploads);
  });

  it("an event Slack sends again (same event_id, X-Slack-Retry-Num) is handled once", async () => {
    const before = emulator.views.length;
    const event = (retry: number) => {
      const body = JSON.stringify({
        token: "legacy",
        team_id: "T0EMULATED",
        api_app_id: "A0APP",
        type: "event_callback",
        event_id: "Ev0RETRIED",
        event_time: Math.floor(Date.now() / 1000),
        event: { type: "app_home_opened", user: dana(), tab: "home" },
      });
      return fetch(`${serve.url}/slack/events`, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          ...(retry ? { "X-Slack-Retry-Num": String(retry), "X-Slack-Retry-Reason": "http_timeout" } : {}),
          ...signed(body, { ts: Math.floor(Date.now() / 1000) - retry }),
        },
        body,
      });
    };
    expect((await event(0)).status).toBe(200);
    expect((await event(1)).status).toBe(200);
    expect((await event(2)).status).toBe(200);
    await settle();
    expect(emulator.views.length - before).toBe(1);
  });

  it("no signature headers, or a stale timestamp: refused before the body is read", async () => {
    // The head promises 4 MB that never come: an answer at all proves the body was not awaited.
    expect(await headOnly(serve.port, head({ "Content-Length": String(4 * MB) }))).toMatch(/^HTTP\/1\.1 401/);
    const stale = {
      "X-Slack-Request-Timestamp": String(Math.floor(Date.now() / 1000) - 600),
      "X-Slack-Signature": "v0=00",
    };
    expect(await headOnly(serve.port, head({ ...stale, "Content-Length": "100" }))).toMatch(/^HTTP\/1\.1 401/);
  });

  it("a body over 1 MB: 413, whether announced or streamed", async () => {
    const fresh = () => ({
      "X-Slack-Request-Timestamp": String(Math.floor(Date.now() / 1000)),
      "X-Slack-Signature": "v0=00",
    });
    expect(await headOnly(serve.port, head({ ...fresh(), "Content-Length": String(4 * MB) }))).toMatch(
      /^HTTP\/1\.1 413/,
    );
    const streamed = await fetch(`${serve.url}/slack/events`, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...fresh() },
      body: new ReadableStream({
        start(c) {
          for (let i = 0; i < 4; i++) c.enqueue(new Uint8Array(MB).fill(32));
          c.close();
        },
      }),
      duplex: "half",
    } as RequestInit).catch((err: unknown) => err);
    // Either the 413 arrives, or the socket is closed under the rest of the upload.
    if (streamed instanceof Response) expect(streamed.status).toBe(413);
  });

  it("120 bodies of 4 MB leave the memory where it was", async () => {
    const pid = serve.child.pid!;
    const before = rssMb(pid);
    const chunk = new Uint8Array(MB).fill(32);
    for (let i = 0; i < 120; i += 10)
      await Promise.all(
        Array.from({ length: 10 }, () =>
          fetch(`${serve.url}/slack/events`, {
            method: "POST",
            headers: {
              "Content-Type": "application/json",
              "X-Slack-Request-Timestamp": String(Math.floor(Date.now() / 1000)),
              "X-Slack-Signature": "v0=00",
            },
            body: new ReadableStream({
              start(c) {
                for (let k = 0; k < 4; k++) c.enqueue(chunk);
                c.close();
              },
            }),
            duplex: "half",
          } as RequestInit)
            .then((r) => r.text())
            .catch(() => {}),
        ),
      );
    await settle();
    const after = rssMb(pid);
    console.log(`serve RSS before ${before.toFixed(0)} MB, after 120 bodies of 4 MB ${after.toFixed(0)} MB`);
    expect(after - before).toBeLessThan(60);
  }, 60_000);

  it("a connection that never sends its headers is closed within about 10 s", async () => {
    const started = performance.now();
    const socket: Socket = connect(serve.port, "127.0.0.1");
    socket.on("error", () => {});
    // Read what comes (the 408), so the socket sees the end and closes.
    socket.resume();
    socket.write("POST /slack/events HTTP/1.1\r\nHost: x\r\n");
    await new Promise((r) => socket.on("close", r));
    expect(performance.now() - started).toBeLessThan(13_000);
  }, 20_000);

  it("/metrics without METRICS_TOKEN answers this machine only", async () => {
    expect((await fetch(`${serve.url}/metrics`)).status).toBe(200);
    const external = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === "IPv4" && !i.internal)?.address;
    if (external) expect((await fetch(`http://${external}:${serve.port}/metrics`)).status).toBe(403);
  });

  it("/metrics without METRICS_TOKEN: a request a reverse proxy on this machine forwarded is not this machine's", async () => {
    const forwarded: Array<Record<string, string>> = [
      { "X-Forwarded-For": "203.0.113.7" },
      { Forwarded: "for=203.0.113.7" },
      { "X-Real-IP": "203.0.113.7" },
    ];
    for (const header of forwarded)
      expect((await fetch(`${serve.url}/metrics`, { headers: header })).status, JSON.stringify(header)).toBe(403);
    expect((await fetch(`${serve.url}/healthz`, { headers: { "X-Forwarded-For": "203.0.113.7" } })).status).toBe(200);
  });
});

describe("/metrics with METRICS_TOKEN (issue 15 row 12)", () => {
  it("needs Authorization: Bearer METRICS_TOKEN, even from this machine", async () => {
    const t = await freshDb("sqlite");
    const emulator = await emulatorFor(t.db, { channels: [] });
    const token = "a-long-random-metrics-token";
    const serve = await startServe({
      DATABASE_URL: t.url,
      SLACK_BOT_TOKEN: emulator.token,
      SLACK_API_URL: emulator.url,
      METRICS_TOKEN: token,
    });
    try {
      expect((await fetch(`${serve.url}/metrics`)).status).toBe(401);
      const wrong = await fetch(`${serve.url}/metrics`, { headers: { Authorization: "Bearer nope" } });
      expect(wrong.status).toBe(401);
      const right = await fetch(`${serve.url}/metrics`, { headers: { Authorization: `Bearer ${token}` } });
      expect(right.status).toBe(200);
      expect(await right.text()).toContain("mentorship_slack_calls_total");
      expect((await fetch(`${serve.url}/healthz`)).status).toBe(200);
    } finally {
      await serve.stop();
      await emulator.stop();
      await t.drop();
    }
  });
});

describe("on SQLite an ack never waits for an import (issue 15 row 21)", () => {
  it("a signed command is answered within 3 s while another connection holds the write lock", async () => {
    const t = await freshDb("sqlite");
    await importDirectory(t.db, SAMPLE, { zone: "UTC" });
    const emulator = await emulatorFor(t.db, { channels: [] });
    const serve = await startServe({
      DATABASE_URL: t.url,
      SLACK_BOT_TOKEN: emulator.token,
      SLACK_API_URL: emulator.url,
    });
    // An import in another process (or on another connection) holds the write lock for its whole transaction.
    const importer = createDb(t.url);
    await importer.raw("begin immediate");
    try {
      const r = await postCommand(serve.url, {
        user_id: emulator.userIdOf("dana@acme.example")!,
        text: "help",
        response_url: emulator.responseUrl("locked"),
      });
      expect(r.status).toBe(200);
      expect(r.ms).toBeLessThan(3000);
    } finally {
      await importer.raw("rollback");
      await importer.destroy();
      await serve.stop();
      await emulator.stop();
      await t.drop();
    }
  }, 30_000);
});

describe("Socket Mode with a refused SLACK_APP_TOKEN (issue 15 row 4)", () => {
  it("serve stops with exit 2 and a message naming the variable, within 30 s", async () => {
    const t = await freshDb("sqlite");
    const emulator = await emulatorFor(t.db, { channels: [] });
    try {
      const started = performance.now();
      const child = spawn(process.execPath, [BIN, "serve"], {
        cwd: WORKDIR,
        env: {
          PATH: process.env.PATH ?? "",
          LOG_LEVEL: "warn",
          REPORT_SCHEDULE: "off",
          DATABASE_URL: t.url,
          SLACK_BOT_TOKEN: emulator.token,
          SLACK_API_URL: emulator.url,
          SLACK_APP_TOKEN: "xapp-1-revoked",
          PORT: String(await freePort()),
        },
      });
      let stderr = "";
      child.stderr.on("data", (d) => (stderr += d));
      const timer = setTimeout(() => child.kill("SIGKILL"), 35_000);
      const code = await new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
      clearTimeout(timer);
      expect(code).toBe(2);
      expect(performance.now() - started).toBeLessThan(30_000);
      expect(stderr).toContain("Slack refused SLACK_APP_TOKEN (apps.connections.open: invalid_auth)");
      expect(stderr).not.toMatch(/^\s+at /m);
    } finally {
      await emulator.stop();
      await t.drop();
    }
  }, 40_000);
});

describe("SIGTERM over HTTP while a slash command's directory lookup and a delivery hang (spec §15)", () => {
  it("serve is gone within 10 s", async () => {
    const t = await freshDb("sqlite");
    await importDirectory(t.db, SAMPLE, { zone: "UTC" });
    const emulator = await emulatorFor(t.db, { channels: [] });
    try {
      const serve = await startServe({
        DATABASE_URL: t.url,
        SLACK_BOT_TOKEN: emulator.token,
        SLACK_API_URL: emulator.url,
        // Every minute: the period's first tick has passed, so a catch-up delivery starts at once.
        REPORT_SCHEDULE: "* * * * *",
      });
      emulator.setResponseDelay(120_000);
      const r = await postCommand(serve.url, {
        user_id: emulator.userIdOf("dana@acme.example")!,
        text: "",
        response_url: emulator.responseUrl("hang"),
      });
      expect(r.status).toBe(200);
      await new Promise((r) => setTimeout(r, 1500));
      const started = performance.now();
      const code = await serve.stop();
      expect(performance.now() - started).toBeLessThan(10_000);
      expect(code).toBe(0);
      expect(() => process.kill(serve.child.pid!, 0)).toThrow();
    } finally {
      emulator.setResponseDelay(0);
      await emulator.stop();
      await t.drop();
    }
  }, 30_000);
});

describe("the same gate in Socket Mode (issue 15 row 1)", () => {
  it("a click naming another team, a response_url elsewhere and a retried event are acked and dropped", async () => {
    const t = await freshDb("sqlite");
    await importDirectory(t.db, SAMPLE, { zone: "UTC" });
    const emulator = await emulatorFor(t.db, { channels: [] });
    const catcher = createServer((req, res) => {
      req.resume();
      res.end("ok");
    });
    let caught = 0;
    catcher.on("request", () => caught++);
    await new Promise<void>((r) => catcher.listen(0, "127.0.0.1", () => r()));
    const serve = await startServe({
      DATABASE_URL: t.url,
      SLACK_BOT_TOKEN: emulator.token,
      SLACK_API_URL: emulator.url,
      SLACK_APP_TOKEN: emulator.appToken,
      SLACK_SIGNING_SECRET: "",
      LOG_LEVEL: "info",
    });
    try {
      const user = emulator.userIdOf("dana@acme.example")!;
      const click = (extra: Record<string, unknown>) => ({
        ...emulator.blockActionsPayload({
          user,
          actionId: ACTIONS.csv,
          message: { channel: `D${user.slice(1)}`, ts: "1.1" },
        }),
        ...extra,
      });
      const port = (catcher.address() as AddressInfo).port;
      await emulator.sendEnvelope("interactive", click({ team: undefined, user: { id: user, team_id: "T0STRANGER" } }));
      await emulator.sendEnvelope("interactive", click({ response_url: `http://127.0.0.1:${port}/steal` }));
      const home = {
        type: "event_callback",
        team_id: "T0EMULATED",
        api_app_id: "A0EMULATED",
        event: { type: "app_home_opened", user, channel: "D0", tab: "home", event_ts: "1.2" },
        event_id: "Ev0SOCKETRETRY",
        event_time: 1,
      };
      await emulator.sendEnvelope("events_api", home);
      await emulator.sendEnvelope("events_api", home);
      await settle();
      expect(emulator.uploads).toHaveLength(0);
      expect(caught).toBe(0);
      expect(emulator.views).toHaveLength(1);
      expect(serve.output()).toMatch(/"audit":"refused","reason":"team"/);
      expect(serve.output()).toMatch(/"audit":"refused","reason":"response_url"/);
    } finally {
      await serve.stop();
      catcher.close();
      await emulator.stop();
      await t.drop();
    }
  }, 30_000);
});
