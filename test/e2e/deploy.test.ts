import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { validate } from "dockerfile-utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { SlackEmulator } from "../../src/emulator/server.js";
import { importDirectory } from "../../src/import/import-service.js";
import { WORKDIR } from "../helpers/cli.js";
import { ENGINES, freshDb, type TestDb } from "../helpers/db.js";
import { SAMPLE } from "../helpers/files.js";
import { type Served, SIGNING_SECRET, startServe } from "../helpers/serve.js";
import { emulatorFor } from "../helpers/slack.js";

const root = new URL("../../", import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), "utf8");
const dockerfile = read("Dockerfile");

/** The Dockerfile's HEALTHCHECK command (exec form), to run as the container would. */
function healthcheck(): string[] {
  const m = dockerfile.match(/HEALTHCHECK[^\n]*\\\n\s*CMD (\[.*\])/);
  return JSON.parse(m![1]!);
}

type Compose = {
  services: Record<
    string,
    { command?: string[]; environment?: Record<string, string>; healthcheck?: unknown; stop_grace_period?: string }
  >;
};

describe("deployment files (issue 9, 'safe to run in production')", () => {
  it("the Dockerfile lints clean, and the linter does catch a broken one", () => {
    expect(validate(dockerfile)).toEqual([]);
    expect(validate("FROM node\nEXPOSE abc\n").length).toBeGreaterThan(0);
  });

  it("the image is multi-stage, Node 20 slim, production dependencies only, a non-root user, a health check", () => {
    expect(dockerfile.match(/^FROM node:20-[a-z]+-slim/gm)!.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/^RUN npm ci --omit=dev/m);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(healthcheck()[0]).toBe("node");
    expect(dockerfile).toMatch(/^CMD \["node", "bin\/mentorship-report\.js", "serve"\]$/m);
  });

  it("compose runs PostgreSQL and two app instances on it, each stopped with time to let go", () => {
    const compose = parse(read("compose.yaml"), { merge: true }) as Compose;
    expect(Object.keys(compose.services).sort()).toEqual(["app1", "app2", "db"]);
    for (const name of ["app1", "app2"]) {
      const s = compose.services[name]!;
      expect(s.command).toEqual(["node", "bin/mentorship-report.js", "serve"]);
      expect(s.environment?.DATABASE_URL).toMatch(/^postgres:\/\/.*@db:5432\//);
      expect(Number.parseInt(s.stop_grace_period ?? "0", 10)).toBeGreaterThan(10);
    }
    expect(compose.services.db!.healthcheck).toBeTruthy();
  });

  it("the systemd unit passes systemd-analyze, stops within its timeout and does not restart on a configuration error", () => {
    const unit = read("deploy/mentorship-report.service");
    expect(unit).toMatch(/^ExecStart=.*bin\/mentorship-report\.js serve$/m);
    expect(unit).toMatch(/^RestartPreventExitStatus=2$/m);
    expect(Number(unit.match(/^TimeoutStopSec=(\d+)$/m)![1])).toBeGreaterThan(10);
    const analyze = spawnSync(
      "systemd-analyze",
      ["verify", new URL("deploy/mentorship-report.service", root).pathname],
      {
        encoding: "utf8",
      },
    );
    if (analyze.error) return; // no systemd on this machine
    expect(analyze.stderr.split("\n").filter((l) => l.includes("mentorship-report.service:"))).toEqual([]);
  });
});

describe.skipIf(!ENGINES.includes("pg"))("the compose stack's commands, run on this machine", () => {
  let t: TestDb;
  let emulator: SlackEmulator;
  const served: Served[] = [];
  beforeAll(async () => {
    t = await freshDb("pg");
    await importDirectory(t.db, SAMPLE, { zone: "UTC" });
    emulator = await emulatorFor(t.db);
    const compose = parse(read("compose.yaml"), { merge: true }) as Compose;
    for (const name of ["app1", "app2"]) {
      // The service's own environment, with the database and Slack of this test instead of db and Slack.
      // The port is the test's to choose: both run on one machine here.
      const { PORT: _port, ...own } = compose.services[name]!.environment ?? {};
      const env = { ...own, DATABASE_URL: t.url };
      served.push(
        await startServe({
          ...env,
          HTTP_HOST: "127.0.0.1",
          SLACK_BOT_TOKEN: emulator.token,
          SLACK_API_URL: emulator.url,
          SLACK_SIGNING_SECRET: SIGNING_SECRET,
        }),
      );
    }
  });
  afterAll(async () => {
    for (const s of served) expect(await s.stop()).toBe(0);
    await emulator.stop();
    await t.drop();
  });

  it("both instances start on one PostgreSQL, and the image's health check passes against each", () => {
    const [cmd, ...args] = healthcheck();
    for (const s of served) {
      const r = spawnSync(cmd!, args, { cwd: WORKDIR, env: { PATH: process.env.PATH ?? "", PORT: String(s.port) } });
      expect(r.status).toBe(0);
    }
    const none = spawnSync(cmd!, args, { cwd: WORKDIR, env: { PATH: process.env.PATH ?? "", PORT: "1" } });
    expect(none.status).toBe(1);
  });
});
