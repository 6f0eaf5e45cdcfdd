import { DateTime } from "luxon";
import type { Millis } from "./types.js";

export interface PeriodSettings {
  anchorDate: string;
  intervalWeeks: number;
  zone: string;
}

export interface Period {
  /** The period's first day (YYYY-MM-DD in the report zone); the ledger's key. */
  id: string;
  start: Millis;
  end: Millis;
}

function periodAt(s: PeriodSettings, index: number): Period {
  const anchor = DateTime.fromISO(s.anchorDate, { zone: s.zone }).startOf("day");
  // Calendar weeks in the zone: a period starts at local midnight on both sides of a DST change.
  const start = anchor.plus({ weeks: index * s.intervalWeeks });
  const end = anchor.plus({ weeks: (index + 1) * s.intervalWeeks });
  return { id: start.toISODate()!, start: start.toMillis(), end: end.toMillis() };
}

/** The period that contains `at`: periods of `intervalWeeks` weeks counted from the anchor date, both ways. */
export function periodOf(at: Millis, s: PeriodSettings): Period {
  const anchor = DateTime.fromISO(s.anchorDate, { zone: s.zone }).startOf("day");
  const days = DateTime.fromMillis(at, { zone: s.zone }).diff(anchor, "days").days;
  let index = Math.floor(days / (7 * s.intervalWeeks));
  let p = periodAt(s, index);
  while (at < p.start) p = periodAt(s, --index);
  while (at >= p.end) p = periodAt(s, ++index);
  return p;
}

export function nextPeriod(p: Period, s: PeriodSettings): Period {
  return periodOf(p.end, s);
}
