import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/** What the ledger holds for the period being delivered, by kind and state (read when scraped). */
export type LedgerCounts = Array<{ kind: string; state: string; count: number }>;

/**
 * The process's Prometheus metrics, served at /metrics. One registry per process: the Slack client,
 * the listeners and the delivery run all count into it, and nothing needs to pass it around.
 */
function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  let ledger: (() => Promise<LedgerCounts>) | null = null;
  let lastImport: (() => Promise<number | null>) | null = null;

  const slackCalls = new Counter({
    name: "mentorship_slack_calls_total",
    help: "Slack Web API calls by method and outcome (ok, ratelimited, transient, permanent, fatal).",
    labelNames: ["method", "outcome"] as const,
    registers,
  });
  const rateLimited = new Counter({
    name: "mentorship_slack_rate_limited_total",
    help: "Slack answers with HTTP 429, by method.",
    labelNames: ["method"] as const,
    registers,
  });
  const commandSeconds = new Histogram({
    name: "mentorship_slash_command_seconds",
    help: "From a slash command's arrival to its answer, by outcome.",
    labelNames: ["outcome"] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30],
    registers,
  });
  const refused = new Counter({
    name: "mentorship_requests_refused_total",
    help: "Requests refused before any work, by reason (signature, stale, replay, team, response_url, too_large).",
    labelNames: ["reason"] as const,
    registers,
  });
  const runSeconds = new Histogram({
    name: "mentorship_delivery_run_seconds",
    help: "Duration of delivery runs.",
    buckets: [1, 5, 15, 60, 300, 900, 1800, 3600, 7200],
    registers,
  });
  const rowsLeft = new Gauge({
    name: "mentorship_delivery_rows_left",
    help: "Rows the last delivery run left open for a later one.",
    registers,
  });
  new Gauge({
    name: "mentorship_deliveries",
    help: "The current period's deliveries in the ledger, by kind and state.",
    labelNames: ["kind", "state"] as const,
    registers,
    async collect() {
      if (!ledger) return;
      this.reset();
      for (const r of await ledger().catch(() => [])) this.set({ kind: r.kind, state: r.state }, r.count);
    },
  });
  new Gauge({
    name: "mentorship_last_import_age_seconds",
    help: "Seconds since the data was last imported (absent before the first import).",
    registers,
    async collect() {
      const at = lastImport ? await lastImport().catch(() => null) : null;
      this.reset();
      if (at !== null) this.set((Date.now() - at) / 1000);
    },
  });

  return {
    registry,
    slackCall(method: string, outcome: string): void {
      slackCalls.inc({ method, outcome });
      if (outcome === "ratelimited") rateLimited.inc({ method });
    },
    command(outcome: string, seconds: number): void {
      commandSeconds.observe({ outcome }, seconds);
    },
    refused(reason: string): void {
      refused.inc({ reason });
    },
    run(seconds: number, left: number): void {
      runSeconds.observe(seconds);
      rowsLeft.set(left);
    },
    /** The readers behind the ledger and import-age gauges; `serve` sets them once it has a database. */
    watch(sources: { ledger?: () => Promise<LedgerCounts>; lastImport?: () => Promise<number | null> }): void {
      ledger = sources.ledger ?? ledger;
      lastImport = sources.lastImport ?? lastImport;
    },
    async text(): Promise<{ contentType: string; body: string }> {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

type RunResult = { left: number };

/** The same delivery service, with each run's duration and what it left recorded for /metrics. */
export function timedDelivery<
  D extends {
    deliverPeriod: (...a: never[]) => Promise<RunResult>;
    deliverDue: (...a: never[]) => Promise<RunResult[]>;
  },
>(delivery: D, m: Metrics = metrics): D {
  const time = async <R>(run: () => Promise<R>, left: (r: R) => number): Promise<R> => {
    const started = performance.now();
    const r = await run();
    m.run((performance.now() - started) / 1000, left(r));
    return r;
  };
  return {
    ...delivery,
    deliverPeriod: (...a: Parameters<D["deliverPeriod"]>) =>
      time(
        () => delivery.deliverPeriod(...a),
        (r) => r.left,
      ),
    deliverDue: (...a: Parameters<D["deliverDue"]>) =>
      time(
        () => delivery.deliverDue(...a),
        (rs) => rs.reduce((n, r) => n + r.left, 0),
      ),
  };
}
export const metrics: Metrics = createMetrics();
