import { DateTime } from "luxon";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.js";
import { periodsStartedBy, planWaves } from "../../src/delivery/waves.js";
import { earliestLocalMoment, localMoment, periodOf, recipientZone } from "../../src/domain/periods.js";

const utc = (ms: number) => new Date(ms).toISOString().replace(".000", "");
const utcPeriods = { anchorDate: "2026-01-05", intervalWeeks: 2, zone: "UTC" };

describe("local time: each manager's due moment", () => {
  it.each([
    ["Pacific/Pago_Pago", "UTC−11", "2026-01-05T20:00:00Z"],
    ["America/Los_Angeles", "UTC−8", "2026-01-05T17:00:00Z"],
    ["UTC", "UTC", "2026-01-05T09:00:00Z"],
    ["Europe/Berlin", "UTC+1", "2026-01-05T08:00:00Z"],
    ["Asia/Kolkata", "UTC+05:30", "2026-01-05T03:30:00Z"],
    ["Asia/Kathmandu", "UTC+05:45", "2026-01-05T03:15:00Z"],
    ["Pacific/Chatham", "UTC+13:45 (southern summer)", "2026-01-04T19:15:00Z"],
    ["Pacific/Kiritimati", "UTC+14", "2026-01-04T19:00:00Z"],
  ])("09:00 on the period's first day in %s (%s)", (zone, _offset, expected) => {
    const p = periodOf(Date.parse("2026-01-10T12:00:00Z"), utcPeriods);
    expect(p.id).toBe("2026-01-05");
    const due = localMoment(p.id, "09:00", zone);
    expect(utc(due)).toBe(expected);
    expect(DateTime.fromMillis(due, { zone }).toFormat("yyyy-MM-dd HH:mm")).toBe("2026-01-05 09:00");
  });

  it("Pacific/Chatham in its standard time is UTC+12:45", () => {
    expect(utc(localMoment("2026-07-06", "09:00", "Pacific/Chatham"))).toBe("2026-07-05T20:15:00Z");
  });

  it("a manager east of REPORT_TIMEZONE gets the report before the period begins there", () => {
    const p = periodOf(Date.parse("2026-01-10T12:00:00Z"), utcPeriods);
    const due = localMoment(p.id, "09:00", "Pacific/Kiritimati");
    expect(due).toBeLessThan(p.start);
    // Still this period's report: the period is named by its first day, not by the moment it goes.
    expect(periodOf(due, utcPeriods).id).toBe("2025-12-22");
    expect(earliestLocalMoment(p.id, "09:00")).toBe(due);
  });

  it("no zone reaches the local time before the earliest moment, and every zone reaches it within 27 hours", () => {
    const zones = ["Pacific/Kiritimati", "Pacific/Chatham", "Asia/Kolkata", "UTC", "America/Adak", "Pacific/Pago_Pago"];
    const earliest = earliestLocalMoment("2026-01-05", "09:00");
    for (const z of zones) {
      const due = localMoment("2026-01-05", "09:00", z);
      expect(due).toBeGreaterThanOrEqual(earliest);
      expect(due - earliest).toBeLessThanOrEqual(27 * 3600_000);
    }
  });

  describe("a daylight-saving change on the period's first day", () => {
    it("America/New_York in March: 09:00 is already EDT (13:00 UTC, not 14:00)", () => {
      const weekly = { anchorDate: "2026-03-08", intervalWeeks: 1, zone: "America/New_York" };
      const p = periodOf(Date.parse("2026-03-09T12:00:00Z"), weekly);
      expect(p.id).toBe("2026-03-08");
      expect(utc(localMoment(p.id, "09:00", "America/New_York"))).toBe("2026-03-08T13:00:00Z");
      expect(utc(localMoment("2026-03-07", "09:00", "America/New_York"))).toBe("2026-03-07T14:00:00Z");
      // 02:30 does not exist that night: the report goes at 03:30 EDT, once, not skipped.
      expect(utc(localMoment(p.id, "02:30", "America/New_York"))).toBe("2026-03-08T07:30:00Z");
    });

    it("Europe/Berlin in October: 09:00 is back in CET (08:00 UTC, not 07:00)", () => {
      expect(utc(localMoment("2026-10-25", "09:00", "Europe/Berlin"))).toBe("2026-10-25T08:00:00Z");
      expect(utc(localMoment("2026-10-24", "09:00", "Europe/Berlin"))).toBe("2026-10-24T07:00:00Z");
      // 02:30 happens twice that night; the moment is one of them, the same on every run (CET's).
      expect(utc(localMoment("2026-10-25", "02:30", "Europe/Berlin"))).toBe("2026-10-25T01:30:00Z");
    });

    it("Australia/Lord_Howe's 30-minute shift", () => {
      // Clocks go from 02:00 to 02:30 on 2026-10-04: UTC+10:30 becomes UTC+11.
      expect(utc(localMoment("2026-10-03", "09:00", "Australia/Lord_Howe"))).toBe("2026-10-02T22:30:00Z");
      expect(utc(localMoment("2026-10-04", "09:00", "Australia/Lord_Howe"))).toBe("2026-10-03T22:00:00Z");
      // 02:15 is skipped that night: it moves on by the half-hour gap, to 02:45 (+11).
      expect(utc(localMoment("2026-10-04", "02:15", "Australia/Lord_Howe"))).toBe("2026-10-03T15:45:00Z");
      // And back on 2026-04-05: 02:00 becomes 01:30, UTC+11 becomes UTC+10:30.
      expect(utc(localMoment("2026-04-05", "09:00", "Australia/Lord_Howe"))).toBe("2026-04-04T22:30:00Z");
    });
  });

  describe("whose zone", () => {
    it("the Slack profile's zone wins over the roster's", () => {
      const zone = recipientZone("Asia/Tokyo", "Europe/Berlin", "UTC");
      expect(zone).toBe("Asia/Tokyo");
      expect(utc(localMoment("2026-01-05", "09:00", zone))).toBe("2026-01-05T00:00:00Z");
      expect(utc(localMoment("2026-01-05", "09:00", recipientZone(null, "Europe/Berlin", "UTC")))).toBe(
        "2026-01-05T08:00:00Z",
      );
    });

    it("the roster's zone without a Slack zone, REPORT_TIMEZONE without either, and an invalid zone is passed over", () => {
      expect(recipientZone(undefined, "America/Chicago", "UTC")).toBe("America/Chicago");
      expect(recipientZone(null, null, "Europe/Paris")).toBe("Europe/Paris");
      expect(recipientZone("", "", "Europe/Paris")).toBe("Europe/Paris");
      expect(recipientZone("Mars/Olympus", "America/Chicago", "UTC")).toBe("America/Chicago");
      expect(recipientZone("Mars/Olympus", "Nowhere", "UTC")).toBe("UTC");
    });

    it("10,000 managers in 24 zones make no more ICU formatters than there are zones (each weighs ~25 KB off the JS heap)", () => {
      const Real = Intl.DateTimeFormat;
      let made = 0;
      Intl.DateTimeFormat = class extends Real {
        constructor(...args: ConstructorParameters<typeof Real>) {
          super(...args);
          made++;
        }
      } as typeof Intl.DateTimeFormat;
      try {
        const zones = Array.from({ length: 24 }, (_, i) =>
          i === 11 ? "UTC" : `Etc/GMT${i < 11 ? "+" : "-"}${Math.abs(i - 11)}`,
        );
        for (let i = 0; i < 10_000; i++) expect(recipientZone(zones[i % 24], null, "UTC")).toBe(zones[i % 24]);
      } finally {
        Intl.DateTimeFormat = Real;
      }
      expect(made).toBeLessThanOrEqual(24);
    });
  });
});

describe("local time: configuration", () => {
  it("defaults to local delivery at 09:00", () => {
    const c = loadConfig({});
    expect(c.REPORT_DELIVERY).toBe("local");
    expect(c.REPORT_LOCAL_TIME).toBe("09:00");
    expect(loadConfig({ REPORT_DELIVERY: "fixed", REPORT_LOCAL_TIME: "23:59" }).REPORT_DELIVERY).toBe("fixed");
  });

  it.each(["9:00", "24:00", "09:60", "0900", "morning"])(
    "REPORT_LOCAL_TIME=%s stops the app, naming the variable",
    (v) => {
      expect(() => loadConfig({ REPORT_LOCAL_TIME: v })).toThrow(ConfigError);
      expect(() => loadConfig({ REPORT_LOCAL_TIME: v })).toThrow(
        /REPORT_LOCAL_TIME="[^"]*": must be a time of day HH:MM/,
      );
    },
  );

  it("REPORT_DELIVERY other than local or fixed stops the app, naming the variable", () => {
    expect(() => loadConfig({ REPORT_DELIVERY: "zoned" })).toThrow(/REPORT_DELIVERY="zoned"/);
  });
});

describe("local time: waves", () => {
  it("one wave per distinct due moment; managers in one zone share it; channel summaries at the local time in REPORT_TIMEZONE", () => {
    const p = periodOf(Date.parse("2026-01-10T12:00:00Z"), utcPeriods);
    const zones = new Map([
      ["a@x.io", "Europe/Berlin"],
      ["b@x.io", "Europe/Berlin"],
      ["c@x.io", "Europe/Paris"],
      ["d@x.io", "Asia/Kolkata"],
      ["e@x.io", "America/New_York"],
    ]);
    const w = planWaves(p, zones, { localTime: "09:00", reportZone: "America/New_York" });
    expect(w.dueOf.get("a@x.io")).toBe(w.dueOf.get("b@x.io"));
    expect(w.dueOf.get("a@x.io")).toBe(w.dueOf.get("c@x.io"));
    expect(utc(w.channelDue)).toBe("2026-01-05T14:00:00Z");
    expect(w.waves.map(utc)).toEqual(["2026-01-05T03:30:00Z", "2026-01-05T08:00:00Z", "2026-01-05T14:00:00Z"]);
  });

  it("the next period's waves count from its easternmost first wave, before it begins in REPORT_TIMEZONE", () => {
    const at = (iso: string) => periodsStartedBy(Date.parse(iso), utcPeriods, "09:00").map((p) => p.id);
    expect(at("2026-01-18T18:59:00Z")).toEqual(["2026-01-05"]);
    expect(at("2026-01-18T19:00:00Z")).toEqual(["2026-01-05", "2026-01-19"]);
    expect(at("2026-01-19T00:00:00Z")).toEqual(["2026-01-19"]);
  });
});
