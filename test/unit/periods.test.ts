import fc from "fast-check";
import { DateTime } from "luxon";
import { describe, expect, it } from "vitest";
import { firstTickIn } from "../../src/delivery/scheduler.js";
import { nextPeriod, periodOf } from "../../src/domain/periods.js";

const at = (iso: string, zone: string) => DateTime.fromISO(iso, { zone }).toMillis();
const local = (ms: number, zone: string) =>
  DateTime.fromMillis(ms, { zone }).toISO({ suppressMilliseconds: true, includeOffset: true });

describe("periods", () => {
  const ny = { anchorDate: "2026-01-05", intervalWeeks: 2, zone: "America/New_York" };

  it("start at local midnight on both sides of a daylight-saving change", () => {
    // US clocks go forward on 2026-03-08: this period is an hour short, and the next starts at midnight EDT.
    const p = periodOf(at("2026-03-09T12:00", ny.zone), ny);
    expect(p.id).toBe("2026-03-02");
    expect(local(p.start, ny.zone)).toBe("2026-03-02T00:00:00-05:00");
    expect(local(p.end, ny.zone)).toBe("2026-03-16T00:00:00-04:00");
    expect(p.end - p.start).toBe(14 * 86_400_000 - 3_600_000);
    expect(periodOf(at("2026-03-15T23:59:59", ny.zone), ny).id).toBe("2026-03-02");
    expect(periodOf(at("2026-03-16T00:00", ny.zone), ny).id).toBe("2026-03-16");
    // And back in November.
    expect(local(periodOf(at("2026-11-01T12:00", ny.zone), ny).end, ny.zone)).toBe("2026-11-09T00:00:00-05:00");
  });

  it("run across a year end", () => {
    const utc = { anchorDate: "2026-01-05", intervalWeeks: 2, zone: "UTC" };
    const p = periodOf(at("2026-12-31T12:00", "UTC"), utc);
    expect(p.id).toBe("2026-12-21");
    expect(nextPeriod(p, utc).id).toBe("2027-01-04");
    expect(periodOf(at("2027-01-03T23:59:59.999", "UTC"), utc).id).toBe("2026-12-21");
  });

  it("count back before the anchor, and honour other lengths", () => {
    expect(periodOf(at("2026-01-01", "UTC"), { anchorDate: "2026-01-05", intervalWeeks: 2, zone: "UTC" }).id).toBe(
      "2025-12-22",
    );
    expect(periodOf(at("2026-01-20", "UTC"), { anchorDate: "2026-01-05", intervalWeeks: 1, zone: "UTC" }).id).toBe(
      "2026-01-19",
    );
    expect(periodOf(at("2026-02-10", "UTC"), { anchorDate: "2026-01-05", intervalWeeks: 4, zone: "UTC" }).id).toBe(
      "2026-02-02",
    );
  });

  it("every instant falls in exactly one period, which starts on a multiple of the interval", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2035, 0, 1) }),
        fc.constantFrom("UTC", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kolkata"),
        fc.integer({ min: 1, max: 6 }),
        (t, zone, weeks) => {
          const s = { anchorDate: "2026-01-05", intervalWeeks: weeks, zone };
          const p = periodOf(t, s);
          expect(p.start).toBeLessThanOrEqual(t);
          expect(t).toBeLessThan(p.end);
          const start = DateTime.fromMillis(p.start, { zone });
          expect(start.toISODate()).toBe(p.id);
          expect(start.hour * 60 + start.minute).toBe(0);
          const days = Math.round(start.diff(DateTime.fromISO("2026-01-05", { zone }), "days").days);
          expect(((days % (7 * weeks)) + 7 * weeks) % (7 * weeks)).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("the schedule's first tick in a period", () => {
  it("is the first minute the cron expression matches, in the report zone", () => {
    const utc = periodOf(at("2026-03-04", "UTC"), { anchorDate: "2026-01-05", intervalWeeks: 2, zone: "UTC" });
    expect(new Date(firstTickIn(utc, "0 9 * * 1", "UTC")!).toISOString()).toBe("2026-03-02T09:00:00.000Z");
    const ny = periodOf(at("2026-03-04", "America/New_York"), {
      anchorDate: "2026-01-05",
      intervalWeeks: 2,
      zone: "America/New_York",
    });
    expect(new Date(firstTickIn(ny, "0 9 * * 1", "America/New_York")!).toISOString()).toBe("2026-03-02T14:00:00.000Z");
    expect(new Date(firstTickIn(ny, "30 8 * * 3", "America/New_York")!).toISOString()).toBe("2026-03-04T13:30:00.000Z");
  });
});
