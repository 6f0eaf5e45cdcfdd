import {
  earliestLocalMoment,
  localMoment,
  nextPeriod,
  type Period,
  type PeriodSettings,
  periodOf,
} from "../domain/periods.js";
import type { Millis } from "../domain/types.js";

export interface LocalTiming {
  /** HH:MM, REPORT_LOCAL_TIME. */
  localTime: string;
  /** REPORT_TIMEZONE: the channel summaries' zone, and the zone of a manager without one. */
  reportZone: string;
}

export interface WavePlan {
  /** Each manager's due moment: their report's send time and its as-of. */
  dueOf: Map<string, Millis>;
  /** The channel summaries go at the local time in the report zone. */
  channelDue: Millis;
  /** The distinct due moments, earliest first. */
  waves: Millis[];
}

/** When each manager's report of the period is due (§12), from each manager's zone. */
export function planWaves(period: Period, zones: Map<string, string>, t: LocalTiming): WavePlan {
  const byZone = new Map<string, Millis>();
  const dueOf = new Map<string, Millis>();
  for (const [email, zone] of zones) {
    const due = byZone.get(zone) ?? localMoment(period.id, t.localTime, zone);
    byZone.set(zone, due);
    dueOf.set(email, due);
  }
  const channelDue = localMoment(period.id, t.localTime, t.reportZone);
  const waves = [...new Set([...byZone.values(), channelDue])].sort((a, b) => a - b);
  return { dueOf, channelDue, waves };
}

/**
 * The periods whose waves may be due by `at`: the one that holds it, and the next when its first wave
 * (in the easternmost zone, before the period begins in the report zone) has come.
 */
export function periodsStartedBy(at: Millis, s: PeriodSettings, localTime: string): Period[] {
  const current = periodOf(at, s);
  const next = nextPeriod(current, s);
  return earliestLocalMoment(next.id, localTime) <= at ? [current, next] : [current];
}
