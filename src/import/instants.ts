import { parseInstant } from "../domain/dates.js";

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysIn(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return month === 2 && leap ? 29 : DAYS[month - 1]!;
}

// Values without an offset depend on the zone's rules, so they go through luxon; exports repeat
// the same dates over and over, so each distinct one is worked out once.
const local = new Map<string, number | null>();

/**
 * parseInstant's meaning, at import speed: a value with `Z` or an offset is computed directly
 * (most date-times in an export carry one, and luxon is the import's slowest step otherwise).
 */
export function parseImportInstant(value: string, zone: string): number | null {
  const m = ISO.exec(value);
  if (!m) return null;
  const offset = m[8];
  if (offset === undefined) {
    const key = `${zone}\u0000${value}`;
    let ms = local.get(key);
    if (ms === undefined) {
      if (local.size >= 100_000) local.clear();
      ms = parseInstant(value, zone);
      local.set(key, ms);
    }
    return ms;
  }
  const y = +m[1]!;
  const mo = +m[2]!;
  const d = +m[3]!;
  const h = +m[4]!;
  const mi = +m[5]!;
  const s = m[6] === undefined ? 0 : +m[6];
  // Hour 24 is rare and luxon's reading of it is particular: leave it to luxon.
  if (h > 23) return parseInstant(value, zone);
  if (mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) || mi > 59 || s > 59) return null;
  const ms = m[7] === undefined ? 0 : Math.floor(Number(`0.${m[7]}`) * 1000);
  let off = 0;
  if (offset.toUpperCase() !== "Z") {
    const digits = offset.slice(1).replace(":", "");
    const oh = +digits.slice(0, 2);
    const om = digits.length > 2 ? +digits.slice(2) : 0;
    off = (offset[0] === "-" ? -1 : 1) * (oh * 60 + om);
  }
  const utc = new Date(0);
  utc.setUTCFullYear(y, mo - 1, d);
  utc.setUTCHours(h, mi, s, ms);
  return utc.getTime() - off * 60_000;
}
