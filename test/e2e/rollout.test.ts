import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SlackEmulator } from "../../src/emulator/server.js";
import { importDirectory } from "../../src/import/import-service.js";
import { cliAsync } from "../helpers/cli.js";
import { freshDb, type TestDb } from "../helpers/db.js";
import { SAMPLE } from "../helpers/files.js";
import { startServe } from "../helpers/serve.js";
import { emulatorFor } from "../helpers/slack.js";

const CLOCK = ["--import", fileURLToPath(new URL("../helpers/clock-offset.mjs", import.meta.url))];
const at = (iso: string) => ({ TEST_CLOCK_OFFSET_MS: String(Date.parse(iso) - Date.now()) });

// §17 end to end: the first serve on a fresh database, in a pilot, says what it will do and does nothing yet.
describe("serve's first start in a pilot", () => {
  let t: TestDb;
  let emulator: SlackEmulator;
  beforeAll(async () => {
    t = await freshDb("sqlite");
    await importDirectory(t.db, SAMPLE, { zone: "UTC" });
    emulator = await emulatorFor(t.db);
  });
  afterAll(async () => {
    await emulator.stop();
    await t.drop();
  });

  it("says the delivery mode, the audience, the next delivery and its recipients; sends nothing until `send`", async () => {
    const env = {
      DATABASE_URL: t.url,
      SLACK_BOT_TOKEN: emulator.token,
      SLACK_API_URL: emulator.url,
      REPORT_SCHEDULE: "0 9 * * 1",
      REPORT_AUDIENCE: "pilot",
      REPORT_PILOT_EMAILS: "dana@acme.example",
      REPORT_PILOT_PROGRAMS: "eng",
    };
    // Wednesday of the period that began on Monday 03-02: its waves have all passed.
    const serve = await startServe({ ...env, ...at("2026-03-04T15:00:00Z") }, CLOCK);
    const line = serve
      .output()
      .split("\n")
      .find((l) => l.startsWith("mentorship-report is serving"))!;
    expect(line).toContain("delivery: 09:00 in each manager's zone");
    expect(line).not.toContain("0 9 * * 1");
    expect(line).toContain("audience: pilot of 1 manager and 1 program");
    // The next period's first wave: 09:00 in the easternmost zone (UTC+14), the evening before in UTC.
    expect(line).toContain("next delivery: 03-15-2026 19:00 UTC (period 2026-03-16");
    expect(line).toContain("1 DM and 1 channel summary");
    expect(line).toContain(
      "period 2026-03-02 has begun and neither it nor the period before was delivered: it is not sent at start; `npx mentorship-report send` delivers it now",
    );
    await new Promise((r) => setTimeout(r, 2000));
    await serve.stop();
    expect(emulator.messages).toHaveLength(0);

    const sent = await cliAsync(["send", "--as-of", "2026-03-04T15:00:00Z"], env);
    expect(sent.code).toBe(0);
    expect(sent.stdout).toContain("Skipped, not in the pilot (not_in_pilot): 2 DMs · 1 channel summary");
    expect(emulator.messages.map((m) => m.user ?? m.channel).sort()).toEqual(
      [emulator.userIdOf("dana@acme.example"), "C0000ENG1"].sort(),
    );
  }, 60_000);
});
