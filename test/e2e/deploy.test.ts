import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { cpSync, mkdtempSync, readFileSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { validate } from "dockerfile-utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadConfig } from "../../src/config.js";
import type { SlackEmulator } from "../../src/emulator/server.js";
import { importDirectory } from "../../src/import/import-service.js";
import { WORKDIR } from "../helpers/cli.js";
import { ENGINES, freshDb, type TestDb } from "../helpers/db.js";
import { SAMPLE } from "../helpers/files.js";
import { freePort, type Served, SIGNING_SECRET, startServe } from "../helpers/serve.js";
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
    {
      command?: string[];
      environment?: Record<string, string>;
      healthcheck?: unknown;
      stop_grace_period?: string;
      ports?: string[];
      volumes?: string[];
      profiles?: string[];
    }
  >;
};
const composeFile = () => parse(read("compose.yaml"), { merge: true }) as Compose;

/** KEY=VALUE lines as systemd's EnvironmentFile reads them (comments and blank lines skipped). */
function environmentFile(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split("\n")
      .filter((l) => /^[A-Z_]+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1).trim()]),
  );
}

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
    const compose = composeFile();
    expect(Object.keys(compose.services).sort()).toEqual(["app1", "app2", "db", "import"]);
    for (const name of ["app1", "app2"]) {
      const s = compose.services[name]!;
      expect(s.command).toEqual(["node", "bin/mentorship-report.js", "serve"]);
      expect(s.environment?.DATABASE_URL).toMatch(/^postgres:\/\/.*@db:5432\//);
      expect(Number.parseInt(s.stop_grace_period ?? "0", 10)).toBeGreaterThan(10);
    }
    expect(compose.services.db!.healthcheck).toBeTruthy();
  });

  it("compose publishes the apps on the host's loopback only, and has no default database password", () => {
    const compose = composeFile();
    for (const name of ["app1", "app2"]) {
      const ports = compose.services[name]!.ports ?? [];
      expect(ports.length).toBeGreaterThan(0);
      for (const p of ports) expect(p).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
    }
    // Compose stops with this message when .env does not set it, instead of using a word anyone knows.
    expect(compose.services.db!.environment?.POSTGRES_PASSWORD).toMatch(/^\$\{POSTGRES_PASSWORD:\?[^}]+\}$/);
    expect(compose.services.app1!.environment?.DATABASE_URL).toContain("${POSTGRES_PASSWORD:?");
    expect(read("compose.yaml")).not.toMatch(/POSTGRES_PASSWORD:-/);
    expect(read("README.md")).toMatch(/loopback/);
  });

  it("compose mounts the exports folder as IMPORT_DIR, and its import service imports that folder", () => {
    const compose = composeFile();
    for (const name of ["app1", "app2", "import"]) {
      const s = compose.services[name]!;
      const mount = (s.volumes ?? []).map((v) => v.split(":")).find((v) => v[0] === "./exports");
      expect(mount?.[1]).toBe(s.environment?.IMPORT_DIR);
    }
    const imp = compose.services.import!;
    expect(imp.command).toEqual(["node", "bin/mentorship-report.js", "import", imp.environment?.IMPORT_DIR]);
    // Not started by `docker compose up`: run by hand with `docker compose run --rm import`.
    expect(imp.profiles).toEqual(["tools"]);
    expect(read("README.md")).toContain("docker compose run --rm import");
  });

  it("the image leaves the Slack emulator and the benchmark out of the build it ships", () => {
    const build = dockerfile.slice(dockerfile.indexOf("AS build"), dockerfile.indexOf("AS deps"));
    expect(build).toMatch(/^RUN npm run build && rm -rf dist\/emulator dist\/bench$/m);
    expect(dockerfile).toMatch(/^COPY --from=build \/app\/dist \.\/dist$/m);
  });

  it("the systemd settings template keeps DATABASE_URL where the unit may write, and loads as a configuration", () => {
    const unit = read("deploy/mentorship-report.service");
    const state = unit.match(/^StateDirectory=(.+)$/m)![1]!;
    const settings = environmentFile(read("deploy/mentorship-report.env"));
    expect(settings.DATABASE_URL!.startsWith(`/var/lib/${state}/`)).toBe(true);
    // The file comes after Environment= lines, so its values win: it must be the one to get them right.
    expect(unit.indexOf("EnvironmentFile=")).toBeGreaterThan(unit.indexOf("Environment=DATABASE_URL"));
    const config = loadConfig({ ...settings, SLACK_BOT_TOKEN: "xoxb-1-2-3", SLACK_SIGNING_SECRET: "s3cret" });
    expect(config.DATABASE_URL).toBe(settings.DATABASE_URL);
    // The README's steps, followed literally, create the user and install this template.
    const readme = read("README.md");
    expect(readme).toContain("useradd --system");
    expect(readme).toContain("install -m 600 deploy/mentorship-report.env /etc/mentorship-report.env");
  });

  it.skipIf(spawnSync("systemd-analyze", ["--version"]).error)(
    "the systemd unit passes systemd-analyze, stops within its timeout and does not restart on a configuration error",
    () => {
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
      expect(analyze.stderr.split("\n").filter((l) => l.includes("mentorship-report.service:"))).toEqual([]);
    },
  );
});

describe.skipIf(!ENGINES.includes("pg"))("the compose stack's commands, run on this machine", () => {
  let t: TestDb;
  let emulator: SlackEmulator;
  const served: Served[] = [];
  beforeAll(async () => {
    t = await freshDb("pg");
    // The import service's command, the exports volume being the sample folder here.
    const imp = composeFile().services.import!;
    const [node, bin, ...args] = imp.command!;
    const imported = spawnSync(
      node === "node" ? process.execPath : node!,
      [new URL(bin!, root).pathname, ...args.map((a) => (a === imp.environment?.IMPORT_DIR ? SAMPLE : a))],
      { cwd: WORKDIR, env: { PATH: process.env.PATH ?? "", DATABASE_URL: t.url }, encoding: "utf8" },
    );
    expect(imported.status, imported.stderr).toBe(0);
    expect(imported.stdout).toContain("Imported in one transaction");
    emulator = await emulatorFor(t.db);
    const compose = composeFile();
    for (const name of ["app1", "app2"]) {
      // The service's own environment, with the database and Slack of this test instead of db and Slack.
      // The port is the test's to choose: both run on one machine here.
      const { PORT: _port, ...own } = compose.services[name]!.environment ?? {};
      const env = { ...own, DATABASE_URL: t.url, IMPORT_DIR: SAMPLE };
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

describe("production without the Slack emulator (issue 18 item 2)", () => {
  let t: TestDb;
  let emulator: SlackEmulator;
  beforeAll(async () => {
    t = await freshDb("sqlite");
    await importDirectory(t.db, SAMPLE, { zone: "UTC" });
    emulator = await emulatorFor(t.db);
  });
  afterAll(async () => {
    await emulator.stop();
    await t.drop();
  });

  it("serve starts and answers /healthz from a build without dist/emulator; emulator says it is not installed", async () => {
    // The installation as the image ships it: the build without the emulator and the benchmark.
    const app = mkdtempSync(join(tmpdir(), "mr-noemu-"));
    const dist = new URL("dist/", root).pathname;
    cpSync(dist, join(app, "dist"), {
      recursive: true,
      filter: (src) => !/\/dist\/(emulator|bench)(\/|$)/.test(src),
    });
    cpSync(new URL("bin/", root).pathname, join(app, "bin"), { recursive: true });
    cpSync(new URL("package.json", root).pathname, join(app, "package.json"));
    symlinkSync(new URL("node_modules", root).pathname, join(app, "node_modules"));
    const port = await freePort();
    const child = spawn(process.execPath, [join(app, "bin/mentorship-report.js"), "serve"], {
      cwd: WORKDIR,
      env: {
        PATH: process.env.PATH ?? "",
        LOG_LEVEL: "warn",
        PORT: String(port),
        REPORT_SCHEDULE: "off",
        DATABASE_URL: t.url,
        SLACK_BOT_TOKEN: emulator.token,
        SLACK_API_URL: emulator.url,
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
      },
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const exited = once(child, "exit");
    try {
      const deadline = Date.now() + 20_000;
      while (!out.includes("is serving") && child.exitCode === null && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      expect(out).toContain("is serving");
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(health.status).toBe(200);
    } finally {
      child.kill("SIGTERM");
      await exited;
    }
    const send = spawnSync(process.execPath, [join(app, "bin/mentorship-report.js"), "send", "--dry-run"], {
      cwd: WORKDIR,
      env: { PATH: process.env.PATH ?? "", DATABASE_URL: t.url },
      encoding: "utf8",
    });
    expect(send.status, send.stderr).toBe(0);
    const emu = spawnSync(process.execPath, [join(app, "bin/mentorship-report.js"), "emulator"], {
      cwd: WORKDIR,
      env: { PATH: process.env.PATH ?? "", DATABASE_URL: t.url },
      encoding: "utf8",
    });
    expect(emu.status).toBe(2);
    expect(emu.stderr).toContain("The Slack emulator is not part of this installation");
  });

  it("the image's health check asks the address serve listens on (HTTP_HOST), not a fixed 127.0.0.1", async () => {
    const served = await startServe({
      DATABASE_URL: t.url,
      HTTP_HOST: "127.0.0.2",
      SLACK_BOT_TOKEN: emulator.token,
      SLACK_API_URL: emulator.url,
    });
    try {
      const [cmd, ...args] = healthcheck();
      const probe = (env: Record<string, string>) =>
        spawnSync(cmd!, args, {
          cwd: WORKDIR,
          env: { PATH: process.env.PATH ?? "", PORT: String(served.port), ...env },
        }).status;
      expect(probe({ HTTP_HOST: "127.0.0.2" })).toBe(0);
      // Nothing listens on 127.0.0.1 here: a probe of the fixed address would call it unhealthy.
      expect(probe({ HTTP_HOST: "127.0.0.1" })).toBe(1);
    } finally {
      await served.stop();
    }
  });
});
