import { fork, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Command, Option } from "commander";
import { DateTime } from "luxon";
import pg from "pg";
import { createApp } from "../app.js";
import { loadConfig } from "../config.js";
import { bareReportRead } from "../db/bare-read.js";
import { createDb, type Db, migrate } from "../db/knex.js";
import { clearDeliveryState } from "../db/ledger-repo.js";
import { SlackEmulator } from "../emulator/server.js";
import { importDirectory } from "../import/import-service.js";
import { createLogger } from "../logger.js";
import { buildManagerBlocks } from "../render/blocks.js";
import { MANAGER_BATCH } from "../services/report-service.js";
import { compareImport, importLines, snapshotReimport } from "./bare-load.js";
import { startEmulatorProcess } from "./emulator-process.js";
import { benchLocalWaves, type LocalWavesResult, printLocalWaves } from "./local-waves.js";
import { BIG_MANAGER, SIZES, writeCompany } from "./synthetic.js";

/** Slack's documented limits (docs.slack.dev): per minute. chat.postMessage: "several hundred" a workspace. */
const SLACK = { postMessage: 300, tier2: 20, tier3: 50, tier4: 100 };
const BIN = fileURLToPath(new URL("../../bin/mentorship-report.js", import.meta.url));
const ZONE = "UTC";
const ASOF = DateTime.fromISO("2026-03-02T09:00", { zone: ZONE }).toMillis();

const ms = (a: number) => Math.round(a);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

/** One step's resident memory, in a process of its own. */
export interface StepRss {
  /** The step's process's high-water mark (the kernel's, which no sample can miss): the step alone. */
  peakMB: number;
  /** Resident before the step began: Node and the app's modules, loaded. */
  startMB: number;
  /** The JS heap's largest sampled size: what the resident peak is beyond it lives outside the heap. */
  peakHeapMB: number;
}

/**
 * Runs a step in this fresh process and samples its JS heap meanwhile. The step has the process to
 * itself, so no earlier step's memory (held by the allocator, the heap, SQLite) is counted in its peak.
 */
async function measured<T>(fn: () => Promise<T>): Promise<{ value: T; rss: StepRss }> {
  (globalThis as { gc?: () => void }).gc?.();
  const startMB = process.memoryUsage.rss() / 2 ** 20;
  let heap = process.memoryUsage().heapUsed;
  const sample = setInterval(() => {
    heap = Math.max(heap, process.memoryUsage().heapUsed);
  }, 20);
  try {
    const value = await fn();
    return { value, rss: { peakMB: process.resourceUsage().maxRSS / 1024, startMB, peakHeapMB: heap / 2 ** 20 } };
  } finally {
    clearInterval(sample);
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function freshDatabase(
  engine: "sqlite" | "pg",
  pgUrl: string,
): Promise<{ url: string; drop: () => Promise<void> }> {
  if (engine === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "mr-bench-db-"));
    return { url: join(dir, "bench.sqlite"), drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const name = `mr_bench_${process.pid}_${Date.now()}`;
  const admin = new pg.Client(pgUrl);
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  return {
    url: pgUrl.replace(/\/[^/?]*(\?|$)/, `/${name}$1`),
    drop: async () => {
      const a = new pg.Client(pgUrl);
      await a.connect();
      await a.query(`drop database if exists ${name} with (force)`);
      await a.end();
    },
  };
}

async function slashLatency(
  dbUrl: string,
  samples: number,
): Promise<{ ackP50: number; ackP95: number; p50: number; p95: number; samples: number }> {
  const emulator = await new SlackEmulator({
    users: [{ id: "U0BIG", email: BIG_MANAGER, name: "Big Team Manager" }],
  }).start();
  const port = await freePort();
  const secret = "bench-secret";
  const child = spawn(process.execPath, [BIN, "serve"], {
    env: {
      PATH: process.env.PATH ?? "",
      DATABASE_URL: dbUrl,
      SLACK_BOT_TOKEN: emulator.token,
      SLACK_API_URL: emulator.url,
      SLACK_SIGNING_SECRET: secret,
      PORT: String(port),
      REPORT_SCHEDULE: "off",
      LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise<void>((resolve) => child.stdout!.on("data", (d) => String(d).includes("is serving") && resolve()));
  const { createHmac } = await import("node:crypto");
  const acks: number[] = [];
  const answers: number[] = [];
  try {
    for (let i = 0; i < samples + 5; i++) {
      const body = new URLSearchParams({
        command: "/mentorship-report",
        text: "",
        user_id: "U0BIG",
        team_id: "T0EMULATED",
        response_url: emulator.responseUrl(`b${i}`),
        trigger_id: "t",
      }).toString();
      const ts = Math.floor(Date.now() / 1000);
      const sig = "v0=" + createHmac("sha256", secret).update(`v0:${ts}:${body}`).digest("hex");
      const answered = new Promise<number>((resolve) => {
        const on = (r: { path: string }) => {
          if (r.path !== `/response/b${i}`) return;
          emulator.off("response", on);
          resolve(performance.now());
        };
        emulator.on("response", (b: Record<string, unknown>) => on({ path: emulator.responses.at(-1)!.path, ...b }));
      });
      const t0 = performance.now();
      const res = await fetch(`http://127.0.0.1:${port}/slack/events`, {
        method: "POST",
        headers: {
          "Content-Type": "application/x-www-form-urlencoded",
          "X-Slack-Request-Timestamp": String(ts),
          "X-Slack-Signature": sig,
        },
        body,
      });
      await res.text();
      const ack = performance.now() - t0;
      const done = (await answered) - t0;
      emulator.removeAllListeners("response");
      if (i >= 5) {
        acks.push(ack);
        answers.push(done);
      }
    }
  } finally {
    child.kill("SIGTERM");
    await emulator.stop();
  }
  return { ackP50: pct(acks, 50), ackP95: pct(acks, 95), p50: pct(answers, 50), p95: pct(answers, 95), samples };
}

async function delivery(db: Db, databaseUrl: string, opts: { ratePerMinute: number; faults: number }) {
  const scale = opts.ratePerMinute / SLACK.postMessage;
  const emulator = await startEmulatorProcess(databaseUrl, {
    channels: ["eng", "lead", "buddy"].map((p) => ({ id: `C${p.toUpperCase()}`, name: `mentorship-${p}` })),
    methodLimits: {
      "chat.postMessage": opts.ratePerMinute,
      "users.list": SLACK.tier2 * scale,
      "users.lookupByEmail": SLACK.tier3 * scale,
      "conversations.open": SLACK.tier3 * scale,
      "conversations.history": SLACK.tier3 * scale,
    },
    faults: opts.faults ? { probability: opts.faults, seed: 7 } : undefined,
  });
  const config = {
    ...loadConfig({}),
    SLACK_BOT_TOKEN: emulator.token,
    SLACK_API_URL: emulator.url,
    REPORT_TIMEZONE: ZONE,
    REPORT_ANCHOR_DATE: "2026-01-05",
    REPORT_INTERVAL_WEEKS: 2,
    REPORT_SCOPE: "direct" as const,
    DELIVERY_RATE_PER_MINUTE: opts.ratePerMinute,
    DELIVERY_LEASE_SECONDS: 60,
    ADMIN_EMAILS: [] as string[],
  };
  const { delivery: service } = createApp(
    { config, db, log: createLogger("silent") },
    { slackConcurrency: 16, deliveryConcurrency: 8 },
  );
  await clearDeliveryState(db);
  const t0 = performance.now();
  let summary = await service.deliverPeriod({ asOf: ASOF });
  for (let i = 0; summary.left && i < 5; i++) summary = await service.deliverPeriod({ asOf: ASOF });
  const wall = (performance.now() - t0) / 1000;
  const { calls, recipients } = await emulator.record();
  await emulator.stop();
  const callsOf = (method: string) => calls.filter((c) => c.method === method);
  const okPosts = callsOf("chat.postMessage").filter((c) => c.ok);
  const postSpan = (okPosts.at(-1)!.at - okPosts[0]!.at) / 1000;
  const delivered = summary.tally!.byState.delivered.dm + summary.tally!.byState.delivered.channel;
  // Posts per 5 s from the first: where a run's rate falls short, the dips say when.
  const postsPer5s: number[] = [];
  for (const c of okPosts) {
    const k = Math.floor((c.at - okPosts[0]!.at) / 5000);
    while (postsPer5s.length <= k) postsPer5s.push(0);
    postsPer5s[k]!++;
  }
  const perRecipient = new Map<string, number>();
  for (const r of recipients) perRecipient.set(r, (perRecipient.get(r) ?? 0) + 1);
  const directoryCalls = callsOf("users.list").length + callsOf("users.lookupByEmail").length;
  return {
    delivered,
    duplicates: [...perRecipient.values()].filter((n) => n > 1).length,
    slackCalls: calls.length,
    callsPerReport: calls.length / delivered,
    allowedPerMinute: opts.ratePerMinute,
    achievedPerMinute: ((okPosts.length - 1) / postSpan) * 60,
    ratio: (((okPosts.length - 1) / postSpan) * 60) / opts.ratePerMinute,
    http429: calls.filter((c) => c.status === 429).length,
    wallSeconds: wall,
    directoryCalls,
    failed: summary.tally!.failed.length,
    postsPer5s,
  };
}

/** What `--json` prints, and the table reads; a step not run is not there. */
interface BenchResults {
  import: Parameters<typeof importLines>[0] & { rows: number; seconds: number; rowsPerSecond: number };
  reports?: { managers: number; rows: number; buildMs: number; bareSqlMs: number; ratio: number; batchSize: number };
  slashCommand?: Awaited<ReturnType<typeof slashLatency>>;
  delivery?: Awaited<ReturnType<typeof delivery>>;
  deliveryWithFaults?: Awaited<ReturnType<typeof delivery>> & { company: string };
  localWaves?: LocalWavesResult;
  modelled10kDMs: { minutes: number; directoryMinutes: number; postMinutes: number; assumptions: string };
  /** Each step's resident memory, measured in a fresh process of its own. */
  rssMB: Partial<Record<Step, StepRss>>;
  rssMeasure: string;
  /** The largest of the steps' peaks. */
  peakRssMB: number;
}

/** What a step's process is told: where the company and its database are, and the run's settings. */
interface StepOptions {
  size: keyof typeof SIZES;
  engine: "sqlite" | "pg";
  pgUrl: string;
  databaseUrl: string;
  dir: string;
  rate: number;
  localRate: number;
  faults: number;
  samples: number;
}

/** The steps in their order; the import comes first (the others read its data), the snapshot last (it changes it). */
const STEPS = ["import", "reports", "slash", "delivery", "local-waves", "faults", "snapshot"] as const;
type Step = (typeof STEPS)[number];

const say = (s: string) => process.env.BENCH_QUIET !== "1" && process.stderr.write(s + "\n");

async function withDb<T>(url: string, fn: (db: Db) => Promise<T>): Promise<T> {
  const db = createDb(url);
  try {
    return await fn(db);
  } finally {
    await db.destroy();
  }
}

const runStep: Record<Step, (o: StepOptions) => Promise<unknown>> = {
  import: (o) =>
    withDb(o.databaseUrl, async (db) => {
      say("Importing…");
      const t = performance.now();
      const imported = await importDirectory(db, o.dir, { zone: ZONE });
      const seconds = (performance.now() - t) / 1000;
      if (!imported.ok)
        throw new Error(
          `bench import failed: ${imported.problems
            .slice(0, 3)
            .map((p) => `${p.file}:${p.line} ${p.problem}`)
            .join("; ")}`,
        );
      const rows = imported.files.reduce((n, f) => n + f.rows, 0);
      return {
        rows,
        seconds,
        rowsPerSecond: rows / seconds,
        ...(await compareImport(o.engine, o.dir, o.databaseUrl, seconds, say)),
      };
    }),

  reports: (o) =>
    withDb(o.databaseUrl, async (db) => {
      say("Building every manager's report…");
      const { reports } = createApp({
        config: { ...loadConfig({}), REPORT_TIMEZONE: ZONE, REPORT_SCOPE: "direct" },
        db,
        log: createLogger("silent"),
      });
      const build: number[] = [];
      const bare: number[] = [];
      let managers = 0;
      let reportRows = 0;
      for (let i = 0; i < 3; i++) {
        // A batch of managers at a time, as a delivery builds them: memory does not grow with the company.
        let t = performance.now();
        managers = 0;
        reportRows = 0;
        for await (const batch of reports.managerBatches(ASOF, MANAGER_BATCH)) {
          for (const m of batch) buildManagerBlocks(m, { zone: ZONE, period: null });
          managers += batch.length;
          reportRows += batch.reduce((n, m) => n + m.groups.reduce((k, g) => k + g.rows.length, 0), 0);
        }
        build.push(performance.now() - t);
        t = performance.now();
        await bareReportRead(db, ASOF, MANAGER_BATCH);
        bare.push(performance.now() - t);
      }
      return {
        managers,
        rows: reportRows,
        buildMs: median(build),
        bareSqlMs: median(bare),
        ratio: median(build) / median(bare),
        batchSize: MANAGER_BATCH,
      };
    }),

  slash: (o) => {
    say("Timing slash commands for a 1,000-person team over HTTP…");
    return slashLatency(o.databaseUrl, o.samples);
  },

  delivery: (o) =>
    withDb(o.databaseUrl, (db) => {
      say(`Delivering through the emulator at ${o.rate}/min…`);
      return delivery(db, o.databaseUrl, { ratePerMinute: o.rate, faults: 0 });
    }),

  "local-waves": (o) =>
    withDb(o.databaseUrl, (db) => {
      say(`Delivering in local time at ${o.localRate}/min: managers over 24 zones, wave by wave…`);
      return benchLocalWaves(db, {
        databaseUrl: o.databaseUrl,
        ratePerMinute: o.localRate,
        limits: SLACK,
        asOf: ASOF,
      });
    }),

  faults: async (o) => {
    // On the small company: each 429 holds every sender for its Retry-After, so a large run with
    // faults measures Slack's penalty, not the app; what this run shows is "once each, no matter what".
    say(`Delivering the small company with ${Math.round(o.faults * 100)}% of calls answered 429 or 5xx…`);
    const smallDir = mkdtempSync(join(tmpdir(), "mr-bench-csv-"));
    await writeCompany(smallDir, SIZES.small);
    const smallDb = await freshDatabase(o.engine, o.pgUrl);
    try {
      return await withDb(smallDb.url, async (sdb) => {
        await migrate(sdb);
        await importDirectory(sdb, smallDir, { zone: ZONE });
        return {
          company: "small",
          ...(await delivery(sdb, smallDb.url, { ratePerMinute: o.rate, faults: o.faults })),
        };
      });
    } finally {
      await smallDb.drop();
      rmSync(smallDir, { recursive: true, force: true });
    }
  },

  snapshot: (o) => withDb(o.databaseUrl, (db) => snapshotReimport(db, o.dir, ZONE, say)),
};

/**
 * Runs one step in a fresh child process, so that its peak resident memory is its own: an earlier
 * step's (kept by the allocator, V8 or SQLite after it ended) cannot hide in it, nor its in a later one.
 */
function inChild(step: Step, o: StepOptions): Promise<{ value: unknown; rss: StepRss }> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ["--step", step, JSON.stringify(o)], {
      execArgv: ["--expose-gc"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    let answer: { value?: unknown; rss?: StepRss; error?: string } | null = null;
    child.once("message", (m) => {
      answer = m as typeof answer;
    });
    child.once("error", reject);
    child.once("exit", (code) => {
      if (answer?.rss) resolve({ value: answer.value, rss: answer.rss });
      else reject(new Error(answer?.error ?? `the ${step} step's process ended with code ${code}`));
    });
  });
}

/** A step's process: runs the step, measured, and sends the figures to the parent. */
async function stepProcess(step: Step, o: StepOptions): Promise<void> {
  try {
    const { value, rss } = await measured(() => runStep[step](o));
    await new Promise((resolve) => process.send!({ value, rss }, resolve));
  } catch (err) {
    await new Promise((resolve) =>
      process.send!({ error: `${step}: ${err instanceof Error ? err.message : String(err)}` }, resolve),
    );
  }
}

async function main(argv: string[]) {
  const program = new Command()
    .name("bench")
    .addOption(new Option("--size <size>", "company size").choices(["small", "medium", "full", "huge"]).default("full"))
    .addOption(new Option("--engine <engine>", "database").choices(["sqlite", "pg"]).default("sqlite"))
    .option(
      "--pg-url <url>",
      "PostgreSQL server for --engine pg",
      process.env.TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test",
    )
    .option(
      "--rate <perMinute>",
      "the emulated workspace's chat.postMessage limit (Slack's, scaled up)",
      (v) => Number(v),
      12_000,
    )
    .option(
      "--local-rate <perMinute>",
      "the limit for the local-time waves: a wave is short, so at --rate this machine's CPU, not the pacing, is timed",
      (v) => Number(v),
      3_000,
    )
    .option("--faults <share>", "also deliver with this share of calls answered 429/5xx", (v) => Number(v), 0.2)
    .option("--samples <n>", "slash commands to time", (v) => Number(v), 50)
    .option(
      "--steps <list>",
      `the steps to run, comma-separated, of ${STEPS.join(", ")} (default: all; --size huge leaves out faults); ` +
        "the import always runs, the others read its data",
    )
    .option("--json", "print one JSON object");
  program.parse(argv);
  const o = program.opts<{
    size: keyof typeof SIZES;
    engine: "sqlite" | "pg";
    pgUrl: string;
    rate: number;
    localRate: number;
    faults: number;
    samples: number;
    steps?: string;
    json?: boolean;
  }>();
  const asked = o.steps?.split(",").map((x) => x.trim()) ?? null;
  const unknown = asked?.filter((x) => !(STEPS as readonly string[]).includes(x)) ?? [];
  if (unknown.length) throw new Error(`--steps: no step ${unknown.join(", ")} (steps: ${STEPS.join(", ")})`);
  // The huge company measures size (memory, rates at scale); the fault run tells nothing more there.
  const steps = STEPS.filter(
    (s) => s === "import" || (asked ? asked.includes(s) : s !== "faults" || (o.faults > 0 && o.size !== "huge")),
  );
  if (o.json) process.env.BENCH_QUIET = "1";
  const size = SIZES[o.size];

  say(`Generating a ${o.size} company (${size.people.toLocaleString()} people)…`);
  const dir = mkdtempSync(join(tmpdir(), "mr-bench-csv-"));
  await writeCompany(dir, size);
  const database = await freshDatabase(o.engine, o.pgUrl);
  const rss: Partial<Record<Step, StepRss>> = {};
  const results: Record<string, unknown> = {
    size: o.size,
    engine: o.engine,
    company: size,
    rssMB: rss,
    rssMeasure: "each step in a fresh child process: its kernel high-water mark (VmHWM), Node and modules included",
  };
  try {
    await withDb(database.url, migrate);
    const stepOptions: StepOptions = { ...o, databaseUrl: database.url, dir };
    const key: Record<Step, string> = {
      import: "import",
      reports: "reports",
      slash: "slashCommand",
      delivery: "delivery",
      "local-waves": "localWaves",
      faults: "deliveryWithFaults",
      snapshot: "snapshot",
    };
    for (const step of steps) {
      const { value, rss: stepRss } = await inChild(step, stepOptions);
      rss[step] = stepRss;
      if (step === "snapshot") (results.import as Record<string, unknown>).snapshot = value;
      else results[key[step]] = value;
    }

    // Slack's real limits: users.list pages 1,000 users at Tier 2; posts at the workspace pace.
    const workspaceUsers = size.people;
    const dms = 10_000;
    const directoryMinutes = Math.ceil(workspaceUsers / 1000) / SLACK.tier2;
    const postMinutes = dms / SLACK.postMessage;
    results.modelled10kDMs = {
      minutes: directoryMinutes + postMinutes,
      directoryMinutes,
      postMinutes,
      assumptions: `users.list ${SLACK.tier2}/min over ${workspaceUsers} users, chat.postMessage ${SLACK.postMessage}/min`,
    };
    results.peakRssMB = Math.max(...Object.values(rss).map((m) => m.peakMB));
  } finally {
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  }

  if (o.json) {
    process.stdout.write(JSON.stringify(results, null, 2) + "\n");
    return;
  }
  const r = results as unknown as BenchResults;
  const line = (k: string, v: string, goal = "") => process.stdout.write(`${k.padEnd(44)} ${v.padEnd(28)} ${goal}\n`);
  process.stdout.write(`\nMentorship reports benchmark — ${o.size} company on ${o.engine}\n${"-".repeat(96)}\n`);
  line(
    "import",
    `${Math.round(r.import.rowsPerSecond).toLocaleString()} rows/s`,
    `(${r.import.rows.toLocaleString()} rows in ${r.import.seconds.toFixed(1)} s)`,
  );
  for (const [k, v, goal] of importLines(r.import)) line(k, v, goal);
  if (r.reports) {
    line(
      "every manager's report (engine + Block Kit)",
      `${ms(r.reports.buildMs)} ms`,
      `(${r.reports.managers.toLocaleString()} managers, ${r.reports.rows.toLocaleString()} rows)`,
    );
    line("bare SQL read of the same rows", `${ms(r.reports.bareSqlMs)} ms`);
    line("ratio report / bare read", r.reports.ratio.toFixed(2), "goal <= 1.5");
  }
  if (r.slashCommand) {
    line(
      "slash command, 1,000-person team: p50 / p95",
      `${ms(r.slashCommand.p50)} / ${ms(r.slashCommand.p95)} ms`,
      "goal p95 < 200 ms (ack to answer)",
    );
    line("  ack p50 / p95", `${ms(r.slashCommand.ackP50)} / ${ms(r.slashCommand.ackP95)} ms`, "Slack wants < 3000 ms");
  }
  const d = r.delivery;
  if (d) {
    line(
      "delivered reports",
      `${d.delivered.toLocaleString()}`,
      `(${d.duplicates} duplicates, ${d.failed} failed, ${d.wallSeconds.toFixed(1)} s)`,
    );
    line("Slack calls per delivered report", d.callsPerReport.toFixed(3), "goal <= 1.1");
    line(
      "achieved / allowed rate",
      d.ratio.toFixed(3),
      `goal >= 0.9 (${Math.round(d.achievedPerMinute)} of ${d.allowedPerMinute}/min, ${d.http429} x 429)`,
    );
  }
  if (r.deliveryWithFaults) {
    const f = r.deliveryWithFaults;
    line(
      `${Math.round(o.faults * 100)}% faults (small company): delivered / dup.`,
      `${f.delivered.toLocaleString()} / ${f.duplicates}`,
      `(calls per report ${f.callsPerReport.toFixed(2)}, ${f.wallSeconds.toFixed(1)} s)`,
    );
  }
  if (r.localWaves) printLocalWaves(r.localWaves, line);
  line(
    "modelled: 10,000 DMs at Slack's real limits",
    `${r.modelled10kDMs.minutes.toFixed(1)} min`,
    `(${r.modelled10kDMs.assumptions})`,
  );
  const goal = o.size === "huge" ? 1024 : 512;
  for (const [step, m] of Object.entries(r.rssMB))
    line(
      `peak RSS: ${step} (a process of its own)`,
      `${Math.round(m.peakMB)} MB`,
      `(goal < ${goal} MB; JS heap peak ${Math.round(m.peakHeapMB)} MB, ${Math.round(m.startMB)} MB at start)`,
    );
  line("peak RSS of any step", `${Math.round(r.peakRssMB)} MB`, "goal < 1024 MB");
}

const fail = (err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
};
if (process.argv[2] === "--step")
  stepProcess(process.argv[3] as Step, JSON.parse(process.argv[4]!) as StepOptions).catch(fail);
else main(process.argv).catch(fail);
