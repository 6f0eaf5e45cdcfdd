import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SlackEmulator } from "../../src/emulator/server.js";
import { importDirectory } from "../../src/import/import-service.js";
import { ACTIONS } from "../../src/render/blocks.js";
import { freshDb, type TestDb } from "../helpers/db.js";
import { SAMPLE } from "../helpers/files.js";
import { type Served, SIGNING_SECRET, startServe } from "../helpers/serve.js";
import { emulatorFor } from "../helpers/slack.js";

const DANA = "dana@acme.example";
const MARCUS = "marcus@acme.example";

describe("a button acts for the user who clicked it, whatever its value says (issue 15 promise)", () => {
  let t: TestDb;
  let emulator: SlackEmulator;
  let serve: Served;
  beforeAll(async () => {
    t = await freshDb("sqlite");
    await importDirectory(t.db, SAMPLE, { zone: "UTC" });
    emulator = await emulatorFor(t.db, { channels: [] });
    serve = await startServe({ DATABASE_URL: t.url, SLACK_BOT_TOKEN: emulator.token, SLACK_API_URL: emulator.url });
  });
  afterAll(async () => {
    expect(await serve.stop()).toBe(0);
    await emulator.stop();
    await t.drop();
  });

  async function clickAsDana(actionId: string, value: string) {
    const user = emulator.userIdOf(DANA)!;
    const before = emulator.responses.length;
    const payload = emulator.blockActionsPayload({
      user,
      actionId,
      value,
      message: { channel: `D${user.slice(1)}`, ts: "1.000001" },
    });
    await emulator.sendInteraction("interactive", payload, {
      url: `${serve.url}/slack/events`,
      signingSecret: SIGNING_SECRET,
    });
    const deadline = Date.now() + 10_000;
    while (emulator.responses.length === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(emulator.responses.length).toBeGreaterThan(before);
  }

  it("pause and stop whose value names Marcus change only Dana's controls", async () => {
    for (const value of [MARCUS, emulator.userIdOf(MARCUS)!]) {
      await clickAsDana(ACTIONS.pause, value);
      await clickAsDana(ACTIONS.stop, value);
    }
    const rows = await t.db("report_controls").select("email", "state");
    expect(rows).toEqual([{ email: DANA, state: "stopped" }]);
  });

  it("Download CSV whose value names Marcus sends Dana's CSV, to Dana only", async () => {
    const uploads = emulator.uploads.length;
    await clickAsDana(ACTIONS.csv, emulator.userIdOf(MARCUS)!);
    await clickAsDana(ACTIONS.csv, MARCUS);
    const sent = emulator.uploads.slice(uploads);
    expect(sent).toHaveLength(2);
    const danaDm = `D${emulator.userIdOf(DANA)!.slice(1)}`;
    for (const u of sent) {
      expect(u.channel).toBe(danaDm);
      // Dana's team: 8 rows, the same file `csv` sends her.
      expect(u.files[0]!.content.toString("utf8").trimEnd().split("\r\n")).toHaveLength(1 + 8);
    }
    const marcusDm = `D${emulator.userIdOf(MARCUS)!.slice(1)}`;
    expect(emulator.uploads.filter((u) => u.channel === marcusDm)).toHaveLength(0);
  });
});
