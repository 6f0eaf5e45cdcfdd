import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseInstant } from "../../src/domain/dates.js";
import { importDirectory } from "../../src/import/import-service.js";
import { buildManagerBlocks, buildProgramBlocks } from "../../src/render/blocks.js";
import { buildCsv } from "../../src/render/csv.js";
import { buildManagerJson, buildProgramJson } from "../../src/render/json.js";
import { buildManagerText, buildProgramText } from "../../src/render/text.js";
import { createReportService } from "../../src/services/report-service.js";
import { ENGINES, freshDb, type TestDb } from "../helpers/db.js";
import { SAMPLE } from "../helpers/files.js";

const ASOF = parseInstant("2026-03-02T09:00", "UTC")!;
type Row = [
  status: string,
  program: string,
  mentor: string,
  registered: string,
  mentee: string,
  matchDate: string,
  upcoming: number,
  completed: number,
];

// Worked out by hand from examples/sample and the contract (spec §2–§3), as of 03-02-2026 09:00 UTC.
const EXPECTED: Record<string, Row[]> = {
  "dana@acme.example": [
    ["Matched-Active", "Engineering Mentorship", "Ada Lovelace", "12-03-2025", "Mentee", "01-15-2026", 1, 2],
    ["Unmatched", "Engineering Mentorship", "Alan Turing", "01-10-2026", "", "", 0, 0],
    [
      "Matched-Duration Completed",
      "Engineering Mentorship",
      "Barbara Liskov",
      "07-05-2025",
      "Mentee",
      "08-01-2025",
      0,
      5,
    ],
    ["Concluded", "Engineering Mentorship", "Linus Pauling", "11-02-2025", "Mentee", "", 0, 1],
    [
      "Match Request-Waiting Mentee Approval",
      "Engineering Mentorship",
      "Ada Lovelace",
      "12-03-2025",
      "Mentee",
      "",
      0,
      0,
    ],
    [
      "Match Request-Waiting 2 Approvals",
      "Engineering Mentorship",
      "Katherine Johnson",
      "02-02-2026",
      "Mentee",
      "",
      0,
      0,
    ],
    [
      "Match Request-Waiting Admin Approval",
      "Engineering Mentorship",
      "Margaret Hamilton",
      "02-03-2026",
      "Mentee",
      "",
      0,
      0,
    ],
    ["Not Registered", "Engineering Mentorship", "Ken Thompson", "", "", "", 0, 0],
  ],
  "marcus@acme.example": [
    ["Matched-Active", "Leadership Circle", "Parks, Rosa", "12-16-2025", "Mentee", "01-10-2026", 1, 1],
    ["Match Request-Waiting Mentor Approval", "New Hire Buddies", "Parks, Rosa", "02-01-2026", "Mentee", "", 0, 0],
    // Registered on 03-05, after the report time.
    ["Not Registered", "New Hire Buddies", "Victor Okafor", "", "", "", 0, 0],
  ],
  "sam@acme.example": [
    ["Matched-Active", "Leadership Circle", "Tom Baker", "01-06-2026", "Mentee", "02-01-2026", 0, 0],
    ["Match Request-Waiting Mentee Approval", "Leadership Circle", "Tom Baker", "01-06-2026", "Mentee", "", 0, 0],
  ],
  "priya@acme.example": [],
  "olivia@acme.example": [],
};

const MENTEES = [
  "mia@",
  "eve@",
  "liam@",
  "noah@",
  "zoe@",
  "Secret-Mentee",
  "Hidden-Mentee",
  "Private-Mentee",
  "Quiet-Mentee",
  "Unseen-Mentee",
];

describe.each(ENGINES)("the sample company on %s", (engine) => {
  let t: TestDb;
  const service = (scope: "direct" | "all" = "direct") =>
    createReportService({ db: t.db, config: { REPORT_TIMEZONE: "UTC", REPORT_SCOPE: scope } });
  beforeAll(async () => {
    t = await freshDb(engine);
    expect((await importDirectory(t.db, SAMPLE, { zone: "UTC" })).ok).toBe(true);
  });
  afterAll(async () => t.drop());

  it.each(Object.keys(EXPECTED))("%s sees exactly their team's rows", async (manager) => {
    const report = await service().managerReport(manager, ASOF);
    const rows = report.groups.flatMap((g) =>
      g.rows.map(
        (r): Row => [
          g.status,
          r.program,
          r.mentorName,
          r.registered,
          r.mentee,
          r.matchDate,
          r.upcomingMeetings,
          r.completedMeetings,
        ],
      ),
    );
    expect(rows).toEqual(EXPECTED[manager]);
  });

  it("sending to everyone yields the same reports, and only for managers with mentor rows", async () => {
    const { managers } = await service().everything(ASOF);
    expect(managers.map((m) => m.manager.email)).toEqual([
      "dana@acme.example",
      "marcus@acme.example",
      "sam@acme.example",
    ]);
    for (const m of managers) expect(m).toEqual(await service().managerReport(m.manager.email, ASOF));
  });

  it("REPORT_SCOPE=all gives a manager their whole reporting tree", async () => {
    const olivia = await service("all").managerReport("olivia@acme.example", ASOF);
    expect(olivia.groups.reduce((n, g) => n + g.rows.length, 0)).toBe(13);
    const marcus = await service("all").managerReport("marcus@acme.example", ASOF);
    expect(new Set(marcus.groups.flatMap((g) => g.rows.map((r) => r.mentorName)))).toEqual(
      new Set(["Parks, Rosa", "Victor Okafor", "Tom Baker"]),
    );
    const { managers } = await service("all").everything(ASOF);
    expect(managers.map((m) => m.manager.email)).toEqual([
      "dana@acme.example",
      "marcus@acme.example",
      "olivia@acme.example",
      "sam@acme.example",
    ]);
  });

  it.each(["direct", "all"] as const)(
    "built in batches of managers (scope %s), every report is the one built from the whole company",
    async (scope) => {
      const { managers } = await service(scope).everything(ASOF);
      const batched = [];
      for await (const batch of service(scope).managerBatches(ASOF, 2)) batched.push(...batch);
      expect(batched).toEqual(managers);
    },
  );

  it("a program summary counts every relevant status, zeros included", async () => {
    const s = await service().programSummary("lead", ASOF);
    expect(s.counts).toEqual([
      { status: "Matched-Active", count: 2 },
      { status: "Unmatched", count: 0 },
      { status: "Matched-Duration Completed", count: 0 },
      { status: "Concluded", count: 0 },
      { status: "Match Request-Waiting Mentee Approval", count: 1 },
      { status: "Not Registered", count: 0 },
    ]);
    expect(s.byOrganization).toEqual([
      { organization: "Sales", counts: { "Matched-Active": 2, "Match Request-Waiting Mentee Approval": 1 }, total: 3 },
    ]);
  });

  it("several programs' summaries from one read equal each program's own", async () => {
    const { listPrograms } = await import("../../src/db/report-repo.js");
    const programs = await listPrograms(t.db);
    const together = await service().programSummaries(programs, ASOF);
    for (const [i, p] of programs.entries()) expect(together[i]).toEqual(await service().programSummary(p.id, ASOF));
  });

  it("a past as-of reproduces that day's report", async () => {
    const report = await service().managerReport("dana@acme.example", parseInstant("2026-01-01", "UTC")!);
    expect(report.groups.map((g) => [g.status, g.rows.map((r) => r.mentorName)])).toEqual([
      // Linus's match closed on 01-20, after that day: still active then.
      ["Matched-Active", ["Barbara Liskov", "Linus Pauling"]],
      ["Unmatched", ["Ada Lovelace"]],
      ["Not Registered", ["Alan Turing", "Katherine Johnson", "Ken Thompson", "Margaret Hamilton"]],
    ]);
  });

  it("no mentee identity in any output of any format", async () => {
    const outputs: string[] = [];
    for (const m of Object.keys(EXPECTED)) {
      const r = await service("all").managerReport(m, ASOF);
      outputs.push(
        buildManagerText(r, "UTC"),
        JSON.stringify(buildManagerJson(r, "UTC")),
        buildCsv(r.groups),
        JSON.stringify(buildManagerBlocks(r, { zone: "UTC", period: null })),
      );
    }
    for (const p of ["eng", "lead", "buddy"]) {
      const s = await service().programSummary(p, ASOF);
      outputs.push(
        buildProgramText(s, "UTC"),
        JSON.stringify(buildProgramJson(s, "UTC")),
        buildCsv(s.groups),
        JSON.stringify(buildProgramBlocks(s, { zone: "UTC", period: null })),
      );
    }
    const all = outputs.join("\n");
    expect(all).toContain("Ada Lovelace");
    for (const m of MENTEES) expect(all).not.toContain(m);
  });
});
