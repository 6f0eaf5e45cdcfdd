import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseInstant } from "../../src/domain/dates.js";
import { parseImportInstant } from "../../src/import/instants.js";

const twoDigits = (min: number, max: number) => fc.integer({ min, max }).map((n) => String(n).padStart(2, "0"));

// Near-ISO values, valid and not: days past the month's end, hour 24, odd offsets, lowercase t.
const nearIso = fc
  .tuple(
    fc.integer({ min: 1, max: 9999 }).map((n) => String(n).padStart(4, "0")),
    twoDigits(0, 13),
    twoDigits(0, 32),
    fc.constantFrom("T", " ", "t"),
    twoDigits(0, 25),
    twoDigits(0, 61),
    fc.option(twoDigits(0, 61)),
    fc.option(fc.integer({ min: 0, max: 999_999_999 }).map(String)),
    fc.constantFrom("", "Z", "z", "+05:30", "-0800", "+14", "-12:45", "+23:59", "+24:00", "+05:60"),
  )
  .map(
    ([y, mo, d, t, h, mi, s, f, o]) =>
      `${y}-${mo}-${d}${t}${h}:${mi}${s !== null ? `:${s}${f !== null ? `.${f}` : ""}` : ""}${o}`,
  );

describe("the import's instant parser", () => {
  it("reads every value exactly as the app's ISO 8601 reading does", () => {
    fc.assert(
      fc.property(
        fc.oneof(nearIso, fc.string({ maxLength: 30 })),
        fc.constantFrom("UTC", "Europe/Berlin", "Asia/Kolkata"),
        (v, zone) => {
          expect([v, parseImportInstant(v, zone)]).toEqual([v, parseInstant(v, zone)]);
        },
      ),
      { numRuns: 5000 },
    );
  });
});
