import { type Config, periodSettings } from "../config.js";
import { activeState, clearControl, controlOf, dmSentIn, setControl, skipsOf } from "../db/controls-repo.js";
import type { Db } from "../db/knex.js";
import { type ControlState, periodToSkip } from "../domain/controls.js";
import { nextPeriod, periodOf } from "../domain/periods.js";
import type { Millis } from "../domain/types.js";

export type ControlDeps = {
  db: Db;
  config: Pick<Config, "REPORT_TIMEZONE" | "REPORT_ANCHOR_DATE" | "REPORT_INTERVAL_WEEKS">;
};

/** A manager's own controls over their scheduled DM (spec §11): pause one period, stop, resume. */
export function createControlService({ db, config }: ControlDeps) {
  const settings = periodSettings(config);
  const periodAt = (at: Millis) => periodOf(at, settings);

  return {
    async state(email: string, at: Millis): Promise<ControlState> {
      return activeState(await controlOf(db, email), periodAt(at).id);
    },

    /** Skips the next scheduled report; returns the first day of the period skipped. */
    async pause(email: string, at: Millis): Promise<{ skipped: Millis }> {
      const current = periodAt(at);
      const next = nextPeriod(current, settings);
      const skip = periodToSkip(current.id, next.id, await dmSentIn(db, current.id, email));
      await setControl(db, email, { state: "paused", skipPeriod: skip }, at);
      return { skipped: skip === current.id ? current.start : next.start };
    },

    async stop(email: string, at: Millis): Promise<void> {
      await setControl(db, email, { state: "stopped", skipPeriod: null }, at);
    },

    /** How many managers' scheduled reports of the period that holds `at` are skipped, by reason. */
    async skipCounts(at: Millis): Promise<{ paused: number; stopped: number }> {
      const skips = [...(await skipsOf(db, periodAt(at).id)).values()];
      return {
        paused: skips.filter((s) => s === "paused").length,
        stopped: skips.filter((s) => s === "stopped").length,
      };
    },

    async resume(email: string): Promise<void> {
      await clearControl(db, email);
    },
  };
}

export type ControlService = ReturnType<typeof createControlService>;
