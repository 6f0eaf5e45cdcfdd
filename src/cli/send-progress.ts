import { Presets, SingleBar } from "cli-progress";
import type { PeriodTally } from "../db/ledger-repo.js";
import { safeErrorMessage } from "../errors.js";
import type { CliIo } from "./context.js";

/** A terminal redraws often; a log (a file, journald, CI) gets a line this often instead. */
const TTY_EVERY_MS = 1000;
export const LOG_EVERY_MS = 10_000;

interface Counts {
  planned: number;
  delivered: number;
  failed: number;
  skipped: number;
}

function countsOf(t: PeriodTally): Counts {
  const sum = (state: keyof PeriodTally["byState"]) => Object.values(t.byState[state]).reduce((a, n) => a + n, 0);
  const delivered = sum("delivered");
  const failed = sum("failed");
  const skipped = sum("skipped");
  return { planned: delivered + failed + skipped + sum("pending") + sum("sending"), delivered, failed, skipped };
}

const duration = (ms: number) => {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s} s` : s < 3600 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${(s / 3600).toFixed(1)} h`;
};

/**
 * `send`'s progress, read from the ledger (the one place that knows what a run has done, whichever
 * instance does it): a bar on a terminal, a log line every 10 s elsewhere, so a run to thousands of
 * managers is never minutes of silence. Stopped before the run's summary is printed.
 */
export function watchSendProgress(io: CliIo, tally: () => Promise<PeriodTally>): { stop(): Promise<void> } {
  const started = Date.now();
  let first: number | null = null;
  let bar: SingleBar | null = null;
  let busy: Promise<void> = Promise.resolve();

  const rateOf = (done: number) => {
    const minutes = (Date.now() - started) / 60_000;
    return minutes > 0 && first !== null ? (done - first) / minutes : 0;
  };
  const left = (c: Counts, rate: number) => {
    const remaining = c.planned - c.delivered - c.failed - c.skipped;
    return rate > 0 ? duration((remaining / rate) * 60_000) : "?";
  };

  const tick = async () => {
    let c: Counts;
    try {
      c = countsOf(await tally());
    } catch (err) {
      // A progress read that fails says nothing about the delivery itself; the next one may work.
      if (!io.isTTY) io.err(`sending: progress unavailable (${safeErrorMessage(err)})\n`);
      return;
    }
    // Before the plan is written the run is looking recipients up in Slack: say so rather than nothing.
    if (!c.planned) {
      if (!io.isTTY) io.err("sending: preparing the period (looking up recipients in Slack)\n");
      return;
    }
    const done = c.delivered + c.failed + c.skipped;
    first ??= done;
    const rate = rateOf(done);
    if (io.isTTY) {
      const payload = { rate: Math.round(rate), left: left(c, rate), failed: c.failed };
      if (!bar) {
        bar = new SingleBar(
          {
            format: "  sending [{bar}] {value}/{total} delivered · {failed} failed · {rate}/min · {left} left",
            hideCursor: true,
            stream: process.stdout,
          },
          Presets.shades_classic,
        );
        bar.start(c.planned, done, payload);
      }
      bar.setTotal(c.planned);
      bar.update(done, payload);
      return;
    }
    io.err(
      `sending: ${done} of ${c.planned} done (${c.delivered} delivered, ${c.failed} failed, ${c.skipped} skipped) · ${Math.round(rate)}/min · about ${left(c, rate)} left\n`,
    );
  };

  const timer = setInterval(
    () => {
      busy = busy.then(tick);
    },
    io.isTTY ? TTY_EVERY_MS : LOG_EVERY_MS,
  );
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await busy;
      if (bar) {
        await tick();
        (bar as SingleBar).stop();
      }
    },
  };
}
