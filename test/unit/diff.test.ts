import { describe, expect, it } from "vitest";
import { diffRows } from "../../src/domain/reports.js";
import type { ReportRow } from "../../src/domain/types.js";

const row = (over: Partial<ReportRow>): ReportRow => ({
  status: "Unmatched",
  programId: "p",
  program: "P",
  organization: "O",
  mentorName: "Ada",
  mentorEmail: "ada@x.io",
  managerEmail: "boss@x.io",
  registered: "01-01-2026",
  mentee: "",
  matchDate: "",
  upcomingMeetings: 0,
  completedMeetings: 0,
  sourceId: "",
  since: null,
  endAt: null,
  lastMeetingAt: null,
  ...over,
});

describe("the difference between two reports", () => {
  it("follows a match through its statuses and its meetings", () => {
    const before = [row({ status: "Matched-Active", sourceId: "m1", mentee: "Mentee", upcomingMeetings: 2 })];
    const after = [
      row({ status: "Matched-Active", sourceId: "m1", mentee: "Mentee", upcomingMeetings: 1, completedMeetings: 1 }),
    ];
    expect(diffRows(before, after).changed).toHaveLength(1);
    expect(diffRows(before, before)).toEqual({ added: [], removed: [], changed: [] });
  });

  it("an Unmatched row that becomes a match is one change, and a second new row is new", () => {
    const d = diffRows(
      [row({})],
      [
        row({ status: "Matched-Active", sourceId: "m1" }),
        row({ status: "Match Request-Waiting Admin Approval", sourceId: "r1" }),
      ],
    );
    expect(d.changed.map((c) => [c.before.status, c.after.status])).toEqual([["Unmatched", "Matched-Active"]]);
    expect(d.added.map((r) => r.sourceId)).toEqual(["r1"]);
    expect(d.removed).toEqual([]);
  });

  it("a closed request that leaves the mentor Unmatched is one change; another mentor's rows stay apart", () => {
    const d = diffRows(
      [
        row({ status: "Match Request-Waiting 2 Approvals", sourceId: "r1" }),
        row({ mentorEmail: "bob@x.io", mentorName: "Bob", status: "Matched-Active", sourceId: "m9" }),
      ],
      [row({})],
    );
    expect(d.changed.map((c) => [c.before.status, c.after.status])).toEqual([
      ["Match Request-Waiting 2 Approvals", "Unmatched"],
    ]);
    expect(d.removed.map((r) => r.mentorName)).toEqual(["Bob"]);
  });
});
