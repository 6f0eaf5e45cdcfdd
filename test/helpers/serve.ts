import { type ChildProcess, spawn } from "node:child_process";
import { createHmac, randomUUID } from "node:crypto";
import { createServer } from "node:net";
import { loadConfig, periodSettings } from "../../src/config.js";
import { periodOf } from "../../src/domain/periods.js";
import { BIN, WORKDIR } from "./cli.js";

export const SIGNING_SECRET = "test-signing-secret";

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface Served {
  child: ChildProcess;
  port: number;
  url: string;
  output: () => string;
  stop(): Promise<number | null>;
}

/** Starts the real `serve` and resolves once it listens; `nodeArgs` go to node before the app (e.g. `--import`). */
export async function startServe(env: Record<string, string>, nodeArgs: string[] = []): Promise<Served> {
  const port = await freePort();
  const child = spawn(process.execPath, [...nodeArgs, BIN, "serve"], {
    cwd: WORKDIR,
    env: {
      PATH: process.env.PATH ?? "",
      LOG_LEVEL: "warn",
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      REPORT_SCHEDULE: "off",
      PORT: String(port),
      ...env,
    },
  });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${out}`)), 20_000);
    const check = () => {
      if (out.includes("is serving")) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on("data", check);
    void exited.then(() => reject(new Error(`serve exited:\n${out}`)));
  });
  return {
    child,
    port,
    url: `http://127.0.0.1:${port}`,
    output: () => out,
    async stop() {
      child.kill("SIGTERM");
      return exited;
    },
  };
}

export function signed(body: string, opts: { secret?: string; ts?: number } = {}): Record<string, string> {
  const ts = opts.ts ?? Math.floor(Date.now() / 1000);
  const sig = createHmac("sha256", opts.secret ?? SIGNING_SECRET)
    .update(`v0:${ts}:${body}`)
    .digest("hex");
  return { "X-Slack-Request-Timestamp": String(ts), "X-Slack-Signature": `v0=${sig}` };
}

export async function postCommand(
  url: string,
  fields: Record<string, string>,
  sign: { secret?: string; ts?: number } = {},
): Promise<{ status: number; ms: number; body: string }> {
  const body = new URLSearchParams({
    token: "legacy",
    team_id: "T0EMULATED",
    api_app_id: "A0APP",
    command: "/mentorship-report",
    trigger_id: "1.2.3",
    channel_id: "D0",
    user_name: "x",
    ...fields,
  }).toString();
  const started = performance.now();
  const res = await fetch(`${url}/slack/events`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", ...signed(body, sign) },
    body,
  });
  const text = await res.text();
  return { status: res.status, ms: performance.now() - started, body: text };
}

export async function postEvent(url: string, event: Record<string, unknown>): Promise<number> {
  const body = JSON.stringify({
    token: "legacy",
    team_id: "T0EMULATED",
    api_app_id: "A0APP",
    type: "event_callback",
    // Unique per event: serve handles an event_id once (a retry), so two events must not share one.
    event_id: `Ev${randomUUID().replace(/-/g, "").slice(0, 12)}`,
    event_time: Math.floor(Date.now() / 1000),
    event,
  });
  const res = await fetch(`${url}/slack/events`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...signed(body) },
    body,
  });
  await res.text();
  return res.status;
}

/**
 * The period just before the one under way now, with the default period variables: a ledger that holds
 * it makes `serve` catch up the current period at start (§17), as an app that has been running would.
 */
export function periodBeforeNow(): string {
  const s = periodSettings(loadConfig({}));
  return periodOf(periodOf(Date.now(), s).start - 1, s).id;
}
