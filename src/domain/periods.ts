import { DateTime } from "luxon";
import { formatDate, isValidZone } from "./dates.js";
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

/** The zone a manager's report follows (§12): the Slack profile's, else the roster's, else the report zone. */
export function recipientZone(
  slackTz: string | null | undefined,
  rosterTz: string | null | undefined,
  reportZone: string,
) {
  // Slack answers a zone for every user, but an old profile or a typo in the roster must not stop a delivery.
  for (const z of [slackTz, rosterTz]) if (z && isValidZone(z)) return z;
  return reportZone;
}

/**
 * `localTime` (HH:MM) on the period's first day as read in `zone`. The period is named by its first
 * day in the report zone, so east of that zone this moment comes before the period begins there. A
 * time the zone skips that day (clocks going forward) moves on by the length of the gap.
 */
export function localMoment(periodId: string, localTime: string, zone: string): Millis {
  return DateTime.fromISO(`${periodId}T${localTime}`, { zone }).toMillis();
}

/** The earliest moment any zone on Earth (UTC+14) reaches `localTime` on the period's first day. */
export function earliestLocalMoment(periodId: string, localTime: string): Millis {
  return localMoment(periodId, localTime, "UTC+14");
}

/** A period as its first and last days, MM-DD-YYYY – MM-DD-YYYY in `zone`. */
export function formatPeriodRange(period: Pick<Period, "start" | "end">, zone: string): string {
  const lastDay = DateTime.fromMillis(period.end, { zone }).minus({ days: 1 }).toMillis();
  return `${formatDate(period.start, zone)} – ${formatDate(lastDay, zone)}`;
}
