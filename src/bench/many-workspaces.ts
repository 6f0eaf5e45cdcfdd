import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command, Option } from "commander";
import { DateTime } from "luxon";
import { createApp } from "../app.js";
import { loadConfig } from "../config.js";
import { createInstallationStore } from "../db/installation-repo.js";
import { createDb, type Db, migrate } from "../db/knex.js";
import { clearDeliveryState } from "../db/ledger-repo.js";
import { createTokenCipher } from "../db/token-cipher.js";
import { importDirectory } from "../import/import-service.js";
import { createLogger } from "../logger.js";
import { startEmulatorProcess } from "./emulator-process.js";
import { SIZES, writeCompany } from "./synthetic.js";

/** Slack's documented limits a minute, per workspace (docs.slack.dev), as the main bench has them. */
const SLACK = { postMessage: 300, tier2: 20, tier3: 50 };
const ASOF = DateTime.fromISO("2026-03-02T09:00", { zone: "UTC" }).toMillis();

/**
 * The same company delivered twice (§16): in one workspace (SLACK_BOT_TOKEN), then dealt round N
 * workspaces installed from the link, each at the same per-workspace limits. Slack calls per DM, each
 * workspace's achieved ÷ allowed rate, the wall time against the one-workspace run, and peak RSS.
 */
async function run(db: Db, dbUrl: string, opts: { workspaces: number; rate: number }) {
  const scale = opts.rate / SLACK.postMessage;
  const emulator = await startEmulatorProcess(dbUrl, {
    channels: ["eng", "lead", "buddy"].map((p) => ({ id: `C${p.toUpperCase()}`, name: `mentorship-${p}` })),
    methodLimits: {
      "chat.postMessage": opts.rate,
      "users.list": SLACK.tier2 * scale,
      "users.lookupByEmail": SLACK.tier3 * scale,
      "conversations.open": SLACK.tier3 * scale,
      "conversations.history": SLACK.tier3 * scale,
      "conversations.list": SLACK.tier2 * scale,
    },
    ...(opts.workspaces > 1 ? { workspaces: opts.workspaces } : {}),
  });
  const key = randomBytes(32).toString("base64");
  const link = opts.workspaces > 1;
  if (link) {
    let clock = 1;
    const store = createInstallationStore(db, createTokenCipher(key), () => clock++);
    for (const t of emulator.teams)
      await store.storeInstallation({
        team: { id: t.id, name: t.id },
        enterprise: undefined,
        user: { id: "U0INSTALLER", token: undefined, scopes: undefined },
        bot: { token: t.token, scopes: ["chat:write"], id: "B0BOT", userId: "U0BOT" },
        isEnterpriseInstall: false,
        tokenType: "bot",
        authVersion: "v2",
      });
  }
  const config = {
    ...loadConfig(
      link
        ? { SLACK_CLIENT_ID: "1111.2222", SLACK_CLIENT_SECRET: "s", SLACK_STATE_SECRET: "s", TOKEN_ENCRYPTION_KEY: key }
        : { SLACK_BOT_TOKEN: emulator.token },
    ),
    SLACK_API_URL: emulator.url,
    REPORT_DELIVERY: "fixed" as const,
    REPORT_SCOPE: "direct" as const,
    DELIVERY_RATE_PER_MINUTE: opts.rate,
    DELIVERY_LEASE_SECONDS: 60,
  };
  const { delivery } = createApp(
    { config, db, log: createLogger("silent") },
    { slackConcurrency: 16, deliveryConcurrency: 8 },
  );
  let peak = process.memoryUsage.rss();
  const sample = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 20);
  const t0 = performance.now();
  let summary = await delivery.deliverPeriod({ asOf: ASOF });
  for (let i = 0; summary.left && i < 5; i++) summary = await delivery.deliverPeriod({ asOf: ASOF });
  const wall = (performance.now() - t0) / 1000;
  clearInterval(sample);
  const { calls } = await emulator.record();
  await emulator.stop();
  const delivered = summary.tally!.byState.delivered.dm + summary.tally!.byState.delivered.channel;
  const perWorkspace = new Map<string, number[]>();
  for (const c of calls)
    if (c.method === "chat.postMessage" && c.ok) {
      const list = perWorkspace.get(c.via ?? "one") ?? [];
      list.push(c.at);
      perWorkspace.set(c.via ?? "one", list);
    }
  const ratios = [...perWorkspace].map(([team, at]) => ({
    team,
    posts: at.length,
    ratio: at.length > 1 ? (((at.length - 1) / ((at.at(-1)! - at[0]!) / 1000)) * 60) / opts.rate : 0,
  }));
  await clearDeliveryState(db);
  await db("installations").del();
  return {
    delivered,
    failed: summary.tally!.failed.length,
    callsPerDM: calls.length / delivered,
    wallSeconds: wall,
    ratios,
    http429: calls.filter((c) => c.status === 429).length,
    peakRssMB: peak / 2 ** 20,
  };
}

async function main(argv: string[]) {
  const o = new Command()
    .addOption(new Option("--size <size>", "company size").choices(["small", "medium", "full", "huge"]).default("full"))
    .option("--workspaces <n>", "workspaces the company is dealt round", (v) => Number(v), 4)
    .option("--rate <perMinute>", "each workspace's chat.postMessage limit", (v) => Number(v), 3000)
    .parse(argv)
    .opts<{ size: keyof typeof SIZES; workspaces: number; rate: number }>();
  const dir = mkdtempSync(join(tmpdir(), "mr-bench-ws-"));
  const dbUrl = join(dir, "bench.sqlite");
  await writeCompany(dir, SIZES[o.size]);
  const db = createDb(dbUrl);
  try {
    await migrate(db);
    const imported = await importDirectory(db, dir, { zone: "UTC" });
    if (!imported.ok) throw new Error("bench import failed");
    process.stderr.write(`${o.size}: one workspace at ${o.rate}/min…\n`);
    const one = await run(db, dbUrl, { workspaces: 1, rate: o.rate });
    process.stderr.write(`${o.size}: ${o.workspaces} workspaces at ${o.rate}/min each…\n`);
    const many = await run(db, dbUrl, { workspaces: o.workspaces, rate: o.rate });
    const lines = [
      `Company: ${SIZES[o.size].people.toLocaleString()} people; each workspace's limit ${o.rate} posts/min`,
      `  one workspace:  ${one.delivered} delivered, ${one.failed} failed, ${one.callsPerDM.toFixed(2)} calls/DM, ${one.wallSeconds.toFixed(1)} s, achieved ÷ allowed ${one.ratios.map((r) => r.ratio.toFixed(2)).join(" ")}, peak RSS ${Math.round(one.peakRssMB)} MB`,
      `  ${o.workspaces} workspaces:   ${many.delivered} delivered, ${many.failed} failed, ${many.callsPerDM.toFixed(2)} calls/DM, ${many.wallSeconds.toFixed(1)} s, ${many.http429} x 429, peak RSS ${Math.round(many.peakRssMB)} MB`,
      ...many.ratios.map((r) => `    ${r.team}: ${r.posts} posts, achieved ÷ allowed ${r.ratio.toFixed(2)}`),
      `  wall time ÷ one workspace's: ${(many.wallSeconds / one.wallSeconds).toFixed(2)} (goal ≤ 0.3 with 4)`,
    ];
    process.stdout.write(`${lines.join("\n")}\n${JSON.stringify({ one, many })}\n`);
  } finally {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main(process.argv);
