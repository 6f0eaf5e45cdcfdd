import { formatDate } from "./dates.js";
import type { Millis } from "./types.js";

const DAY = 24 * 3600 * 1000;

/**
 * When the report's data was last imported, as every report shows it (§13): "data as of MM-DD-YYYY",
 * or that no import is on record.
 */
export function dataAsOfLabel(dataAsOf: Millis | null, zone: string): string {
  return dataAsOf === null ? "data as of: no import on record" : `data as of ${formatDate(dataAsOf, zone)}`;
}

/** Older than the limit at `now`; data of unknown age is not called stale (nothing says it is). */
export function isStale(dataAsOf: Millis | null, now: Millis, maxAgeDays: number): boolean {
  return dataAsOf !== null && now - dataAsOf > maxAgeDays * DAY;
}

/** Whole days since the import, for the admins' warning. */
export const daysSince = (dataAsOf: Millis, now: Millis) => Math.floor((now - dataAsOf) / DAY);
