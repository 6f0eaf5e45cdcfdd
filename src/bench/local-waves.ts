import { createApp } from "../app.js";
import { loadConfig } from "../config.js";
import type { Db } from "../db/knex.js";
import { clearDeliveryState } from "../db/ledger-repo.js";
import { planWaves } from "../delivery/waves.js";
import { periodOf } from "../domain/periods.js";
import { createLogger } from "../logger.js";
import { startEmulatorProcess } from "./emulator-process.js";

/** One zone per whole-hour offset from UTC−11 to UTC+12: managers spread around the globe. */
export const ZONES_24 = Array.from({ length: 24 }, (_, i) => {
  const offset = i - 11;
  // IANA's Etc zones carry the offset's sign inverted (Etc/GMT-5 is UTC+5).
  return offset === 0 ? "UTC" : `Etc/GMT${offset > 0 ? "-" : "+"}${Math.abs(offset)}`;
});

/**
 * Local-time delivery (§12) wave by wave through the emulator: the directory read ahead of the first
 * wave, then each wave at its moment. Slack's limits are scaled by `ratePerMinute / limits.postMessage`.
 */
export async function benchLocalWaves(
  db: Db,
  opts: {
    /** The same database: the emulator, in a process of its own, makes its workspace of the roster. */
    databaseUrl: string;
    ratePerMinute: number;
    limits: { postMessage: number; tier2: number; tier3: number };
    asOf: number;
  },
) {
  const { limits } = opts;
  const scale = opts.ratePerMinute / limits.postMessage;
  const methodLimits: Record<string, number> = {
    "chat.postMessage": opts.ratePerMinute,
    "users.list": limits.tier2 * scale,
    "users.lookupByEmail": limits.tier3 * scale,
    "conversations.open": limits.tier3 * scale,
    "conversations.history": limits.tier3 * scale,
  };
  // Out of the app's process, as Slack is: the waves' peak RSS is the app's, not a workspace's.
  const emulator = await startEmulatorProcess(opts.databaseUrl, {
    zones: ZONES_24,
    channels: ["eng", "lead", "buddy"].map((p) => ({ id: `C${p.toUpperCase()}`, name: `mentorship-${p}` })),
    methodLimits,
  });
  const config = {
    ...loadConfig({}),
    SLACK_BOT_TOKEN: emulator.token,
    SLACK_API_URL: emulator.url,
    REPORT_DELIVERY: "local" as const,
    DELIVERY_RATE_PER_MINUTE: opts.ratePerMinute,
  };
  const app = createApp({ config, db, log: createLogger("silent") }, { slackConcurrency: 16, deliveryConcurrency: 8 });
  try {
    await clearDeliveryState(db);
    const period = periodOf(opts.asOf, app.settings.periods);
    // The period before counts as delivered: the bench measures this one's waves, not a catch-up.
    await app.ledger.markPeriodComplete(periodOf(period.start - 1, app.settings.periods).id, Date.now());
    await app.directory.refreshOnceFor(period.id, "bench");
    const ahead = (await emulator.callsFrom(0)).length;
    const waves = planWaves(period, await app.directory.managerZones(config.REPORT_TIMEZONE), {
      localTime: config.REPORT_LOCAL_TIME,
      reportZone: config.REPORT_TIMEZONE,
    }).waves;
    const perWave: Array<{ posts: number; ratio: number }> = [];
    const t0 = performance.now();
    let from = ahead;
    for (const w of waves) {
      await app.delivery.deliverDue({ asOf: w });
      const wave = await emulator.callsFrom(from);
      from += wave.length;
      const ok = wave.filter((c) => c.method === "chat.postMessage" && c.ok);
      if (ok.length >= 20) {
        const span = (ok.at(-1)!.at - ok[0]!.at) / 60_000;
        perWave.push({ posts: ok.length, ratio: (ok.length - 1) / span / opts.ratePerMinute });
      }
    }
    const wall = (performance.now() - t0) / 1000;
    const tally = await app.ledger.tally(period.id);
    const delivered = tally.byState.delivered.dm + tally.byState.delivered.channel;
    const record = await emulator.record();
    const duringWaves = record.calls.slice(ahead);
    // Modelled at Slack's real limits: what the waves asked of Slack besides posting holds their posts back.
    const dms = 10_000;
    const postMinutes = dms / limits.postMessage;
    let otherMinutes = 0;
    for (const [method, limit] of Object.entries(methodLimits)) {
      if (method === "chat.postMessage") continue;
      const calls = duringWaves.filter((c) => c.method === method).length;
      otherMinutes += ((calls / delivered) * dms) / (limit / scale);
    }
    const posted = perWave.reduce((n, w) => n + w.posts, 0);
    const perRecipient = new Map<string, number>();
    for (const r of record.recipients) perRecipient.set(r, (perRecipient.get(r) ?? 0) + 1);
    const byMethod: Record<string, number> = {};
    for (const c of duringWaves) byMethod[c.method] = (byMethod[c.method] ?? 0) + 1;
    return {
      waves: waves.length,
      allowedPerMinute: opts.ratePerMinute,
      callsDuringWaves: byMethod,
      delivered,
      duplicates: [...perRecipient.values()].filter((n) => n > 1).length,
      directoryCallsAhead: ahead,
      callsPerReport: record.calls.length / delivered,
      modelledMinutes: postMinutes + otherMinutes,
      postMinutes,
      modelledRatio: (postMinutes + otherMinutes) / postMinutes,
      // Waves of under 20 posts (a small company) are too short to time.
      waveRateRatio: posted ? perWave.reduce((n, w) => n + w.ratio * w.posts, 0) / posted : null,
      worstWaveRateRatio: posted ? Math.min(...perWave.map((w) => w.ratio)) : null,
      http429: record.calls.filter((c) => c.status === 429).length,
      wallSeconds: wall,
    };
  } finally {
    await emulator.stop();
  }
}

export type LocalWavesResult = Awaited<ReturnType<typeof benchLocalWaves>>;

/** The figures issue 11 asks for, one line each. */
export function printLocalWaves(r: LocalWavesResult, line: (k: string, v: string, goal?: string) => void): void {
  line(
    "local time: waves / delivered / duplicates",
    `${r.waves} / ${r.delivered.toLocaleString()} / ${r.duplicates}`,
    `(24 zones, ${r.directoryCallsAhead} directory calls ahead of the first wave, ${r.wallSeconds.toFixed(1)} s)`,
  );
  line(
    "local: modelled 10,000 DMs ÷ posts alone",
    r.modelledRatio.toFixed(3),
    `goal <= 1.05 (${r.modelledMinutes.toFixed(1)} of ${r.postMinutes.toFixed(1)} min)`,
  );
  line("local: Slack calls per delivered report", r.callsPerReport.toFixed(3), "goal <= 1.1");
  line(
    "local: achieved / allowed rate within a wave",
    r.waveRateRatio === null ? "n/a" : r.waveRateRatio.toFixed(3),
    r.worstWaveRateRatio === null
      ? "(every wave under 20 posts: try --size medium)"
      : `goal >= 0.9 (at ${r.allowedPerMinute}/min; worst wave ${r.worstWaveRateRatio.toFixed(3)}, ${r.http429} x 429)`,
  );
}
