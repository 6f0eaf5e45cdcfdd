import { DateTime, IANAZone } from "luxon";
import type { Millis } from "./types.js";

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)?$/i;

/**
 * Zones already checked. Luxon checks a zone by making an `Intl.DateTimeFormat`, an ICU object of some
 * 25 KB outside the JS heap that the collector, unaware of its weight, frees late: one per roster row or
 * manager was 250 MB of resident memory at 100,000 people. Few distinct zones exist, so the answers are kept.
 */
const zoneChecks = new Map<string, boolean>();

export function isValidZone(zone: string): boolean {
  let ok = zoneChecks.get(zone);
  if (ok === undefined) {
    // A roster may carry any text as a zone: the map stays small however many wrong ones it holds.
    if (zoneChecks.size >= 10_000) zoneChecks.clear();
    ok = IANAZone.isValidZone(zone);
    zoneChecks.set(zone, ok);
  }
  return ok;
}

/**
 * Parses an ISO 8601 date or date-time. A date alone is midnight in `zone`, and so is a date-time
 * without an offset; an explicit offset or `Z` wins. Returns null for anything else.
 */
export function parseInstant(value: string, zone: string): Millis | null {
  const v = value.trim();
  if (!DATE_ONLY.test(v) && !ISO_DATETIME.test(v)) return null;
  const dt = DateTime.fromISO(v.replace(" ", "T"), { zone });
  return dt.isValid ? dt.toMillis() : null;
}

/**
 * A small memo for the two calendar computations a report makes per row. Real exports repeat the
 * same instants (date-only values are all midnights), and luxon's zone arithmetic is the engine's
 * hottest path; the results are pure functions of their arguments.
 */
function memo<T>(fn: (ms: Millis, arg: string | number, zone: string) => T) {
  const caches = new Map<string, Map<Millis, T>>();
  return (ms: Millis, arg: string | number, zone: string): T => {
    const key = `${zone}\u0000${arg}`;
    let cache = caches.get(key);
    if (!cache) {
      cache = new Map();
      caches.set(key, cache);
    }
    let v = cache.get(ms);
    if (v === undefined) {
      if (cache.size >= 200_000) cache.clear();
      v = fn(ms, arg, zone);
      cache.set(ms, v);
    }
    return v;
  };
}

const formatDateMemo = memo((ms, _arg, zone) => DateTime.fromMillis(ms, { zone }).toFormat("MM-dd-yyyy"));
const addMonthsMemo = memo((ms, months, zone) =>
  DateTime.fromMillis(ms, { zone })
    .plus({ months: Number(months) })
    .toMillis(),
);

/** MM-DD-YYYY in `zone`, the report's date format. */
export function formatDate(ms: Millis, zone: string): string {
  return formatDateMemo(ms, "", zone);
}

/** MM-DD-YYYY HH:MM and the zone: a moment as the operator reads it. */
export function formatDayTime(ms: Millis, zone: string): string {
  return `${DateTime.fromMillis(ms, { zone }).toFormat("MM-dd-yyyy HH:mm")} ${zone}`;
}

export function formatInstant(ms: Millis, zone: string): string {
  return DateTime.fromMillis(ms, { zone }).toISO({ suppressMilliseconds: true }) ?? new Date(ms).toISOString();
}

/** Calendar months added in `zone`, so that a match made on the 31st ends on the month's last day. */
export function addMonths(ms: Millis, months: number, zone: string): Millis {
  return addMonthsMemo(ms, months, zone);
}
