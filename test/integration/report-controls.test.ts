import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { writeCompany } from "../../src/bench/synthetic.js";
import { buildRunSummaryText } from "../../src/cli/run-summary.js";
import { workspaceRejectsDataTable, workspaceRejectsNewBlocks } from "../../src/db/controls-repo.js";
import { parseInstant } from "../../src/domain/dates.js";
import type { SlackEmulator } from "../../src/emulator/server.js";
import { importDirectory } from "../../src/import/import-service.js";
import { createControlService } from "../../src/services/control-service.js";
import { ENGINES, freshDb, type TestDb } from "../helpers/db.js";
import { csvDir, SAMPLE } from "../helpers/files.js";
import { baseConfig, deliveryFor, emulatorFor, everythingSent } from "../helpers/slack.js";

const ASOF = parseInstant("2026-03-02T09:00", "UTC")!;

/** The blocks of each report DM Slack took (not the admins' notices), as JSON. */
const reportDms = (emulator: SlackEmulator) =>
  emulator
    .callsOf("chat.postMessage")
    .filter((c) => !c.error && JSON.stringify(c.params.metadata ?? {}).includes('"kind":"dm"'))
    .map((c) => JSON.stringify(c.params.blocks));
const DAY = 86_400_000;
const DANA = "dana@acme.example";
const MENTEES = ["eve@", "liam@", "mia@", "noah@", "zoe@", "Eve ", "Liam ", "Mia ", "Noah ", "Zoe "];

describe.each(ENGINES)("what changed, attention and the manager's controls on %s", (engine) => {
  let t: TestDb;
  let emulator: SlackEmulator;
  beforeEach(async () => {
    t = await freshDb(engine);
    expect((await importDirectory(t.db, SAMPLE, { zone: "UTC" })).ok).toBe(true);
    emulator = await emulatorFor(t.db);
  });
  afterEach(async () => {
    await emulator.stop();
    await t.drop();
  });
  const dmsTo = async (email: string) => emulator.messages.filter((m) => m.user && m.user === emulator.userIdOf(email));
  const controls = () => createControlService({ db: t.db, config: baseConfig });

  it("a first DM has no changes section; after a re-import the next names the changed mentor with both statuses", async () => {
    await deliveryFor(t.db, emulator).deliverPeriod({ asOf: ASOF });
    const [first] = await dmsTo(DANA);
    const firstText = JSON.stringify(first!.blocks);
    expect(firstText).not.toContain("Since your last report");
    // Attention from the sample: a request waiting 20 days, a mentor unmatched for 51.
    expect(firstText).toContain("Needs attention* (2)");
    expect(firstText).toContain("*Margaret Hamilton* (Engineering Mentorship) — waiting 20 days for admin approval");

    // The next export: Katherine approved her request on 03-10.
    const requests = readFileSync(join(SAMPLE, "match_requests.csv"), "utf8").replace(
      "r2,eng,katherine@acme.example,liam@acme.example,2026-02-25,,",
      "r2,eng,katherine@acme.example,liam@acme.example,2026-02-25,2026-03-10,",
    );
    expect((await importDirectory(t.db, csvDir({ "match_requests.csv": requests }), { zone: "UTC" })).ok).toBe(true);
    await deliveryFor(t.db, emulator).deliverPeriod({ asOf: ASOF + 14 * DAY });
    const [, second] = await dmsTo(DANA);
    const text = JSON.stringify(second!.blocks);
    expect(text).toContain("*Since your last report* (03-02-2026)");
    expect(text).toContain(
      "*Katherine Johnson* (Engineering Mentorship): Match Request-Waiting 2 Approvals → Match Request-Waiting Mentee Approval",
    );
    expect(text.indexOf("Since your last report")).toBeLessThan(text.indexOf("Needs attention"));
    for (const m of MENTEES) expect(everythingSent(emulator)).not.toContain(m);
  });

  it("a paused manager gets no scheduled DM for one period and one the period after; the skip is in the ledger", async () => {
    // Before this period's DM has gone out, a pause skips it.
    const { skipped } = await controls().pause(DANA, ASOF);
    expect(new Date(skipped).toISOString()).toBe("2026-03-02T00:00:00.000Z");
    const s = await deliveryFor(t.db, emulator).deliverPeriod({ asOf: ASOF });
    expect(await dmsTo(DANA)).toHaveLength(0);
    expect(s.deliveredNow.dm).toBe(2);
    expect(s.tally!.skipped).toEqual([{ recipient: DANA, reason: "paused" }]);
    expect(s.tally!.byState.skipped.dm).toBe(1);
    expect(buildRunSummaryText(s, "UTC")).toContain("Skipped at the managers' wish: 1 paused");
    await deliveryFor(t.db, emulator).deliverPeriod({ asOf: ASOF + 14 * DAY });
    expect(await dmsTo(DANA)).toHaveLength(1);
  });

  it("a pause after this period's DM skips the next period's", async () => {
    await deliveryFor(t.db, emulator).deliverPeriod({ asOf: ASOF });
    const { skipped } = await controls().pause(DANA, ASOF + DAY);
    expect(new Date(skipped).toISOString()).toBe("2026-03-16T00:00:00.000Z");
    await deliveryFor(t.db, emulator).deliverPeriod({ asOf: ASOF + 14 * DAY });
    expect(await dmsTo(DANA)).toHaveLength(1);
    await deliveryFor(t.db, emulator).deliverPeriod({ asOf: ASOF + 28 * DAY });
    expect(await dmsTo(DANA)).toHaveLength(2);
  });

  it("a stopped manager gets no scheduled DM until resume", async () => {
    await controls().stop(DANA, ASOF - DAY);
    expect(await controls().state(DANA, ASOF)).toBe("stopped");
    for (const at of [ASOF, ASOF + 14 * DAY]) {
      const s = await deliveryFor(t.db, emulator).deliverPeriod({ asOf: at });
      expect(s.tally!.skipped).toEqual([{ recipient: DANA, reason: "stopped" }]);
    }
    expect(await dmsTo(DANA)).toHaveLength(0);
    await controls().resume(DANA);
    expect(await controls().state(DANA, ASOF)).toBe("active");
    await deliveryFor(t.db, emulator).deliverPeriod({ asOf: ASOF + 28 * DAY });
    expect(await dmsTo(DANA)).toHaveLength(1);
  });
});

describe.each(ENGINES)("a workspace that refuses table blocks, on %s", (engine) => {
  let t: TestDb;
  let emulator: SlackEmulator;
  afterEach(async () => {
    await emulator.stop();
    await t.drop();
  });

  it("costs at most 1.1 Slack posts per DM over a run, and remembers it for the period's later runs", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mr-refuse-"));
    await writeCompany(dir, {
      people: 600,
      managers: 60,
      mentorEnrollments: 240,
      matches: 150,
      requests: 80,
      meetings: 600,
      bigTeam: 0,
    });
    t = await freshDb(engine);
    expect((await importDirectory(t.db, dir, { zone: "UTC" })).ok).toBe(true);
    emulator = await emulatorFor(t.db, { newBlocks: false, channels: [] });
    const s = await deliveryFor(t.db, emulator).deliverPeriod({ asOf: ASOF });
    // Report DMs only: program admins also get a notice about the channels this workspace lacks.
    const dmPosts = emulator
      .callsOf("chat.postMessage")
      .filter((c) => JSON.stringify(c.params.metadata ?? {}).includes('"kind":"dm"'));
    expect(s.deliveredNow.dm).toBeGreaterThan(20);
    expect(dmPosts.length / s.deliveredNow.dm).toBeLessThanOrEqual(1.1);
    // The probe is refused twice, as a data_table and then as a table (§18 order), and only then.
    expect(dmPosts.filter((c) => c.error === "invalid_blocks")).toHaveLength(2);
    // Every DM arrived with its rows as lines instead of a table.
    expect(emulator.messages.every((m) => !/"type":"(data_)?table"/.test(JSON.stringify(m.blocks)))).toBe(true);
    expect(await workspaceRejectsNewBlocks(t.db, s.period.id)).toBe(true);
  });

  it("a workspace that takes table but not data_table gets tables after one refusal, remembered for the period", async () => {
    t = await freshDb(engine);
    expect((await importDirectory(t.db, SAMPLE, { zone: "UTC" })).ok).toBe(true);
    emulator = await emulatorFor(t.db, { dataTable: false, channels: [] });
    const delivery = deliveryFor(t.db, emulator);
    const s = await delivery.deliverPeriod({ asOf: ASOF });
    const refused = emulator.callsOf("chat.postMessage").filter((c) => c.error === "invalid_blocks");
    expect(refused).toHaveLength(1);
    expect(JSON.stringify(refused[0]?.params.blocks)).toContain('"type":"data_table"');
    const dms = reportDms(emulator);
    expect(dms).toHaveLength(s.deliveredNow.dm);
    expect(dms.every((blocks) => blocks.includes('"type":"table"'))).toBe(true);
    expect(await workspaceRejectsDataTable(t.db, s.period.id)).toBe(true);
    expect(await workspaceRejectsNewBlocks(t.db, s.period.id)).toBe(false);
  });

  it("a workspace that takes data_table gets each DM's rows as one", async () => {
    t = await freshDb(engine);
    expect((await importDirectory(t.db, SAMPLE, { zone: "UTC" })).ok).toBe(true);
    emulator = await emulatorFor(t.db, { channels: [] });
    const s = await deliveryFor(t.db, emulator).deliverPeriod({ asOf: ASOF });
    expect(s.deliveredNow.dm).toBeGreaterThan(0);
    expect(emulator.callsOf("chat.postMessage").filter((c) => c.error === "invalid_blocks")).toHaveLength(0);
    const dms = reportDms(emulator);
    expect(dms).toHaveLength(s.deliveredNow.dm);
    expect(dms.every((blocks) => blocks.includes('"type":"data_table"'))).toBe(true);
  });
});
