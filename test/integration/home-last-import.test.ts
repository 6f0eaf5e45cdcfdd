import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { importDirectory } from "../../src/import/import-service.js";
import { createLogger } from "../../src/logger.js";
import { ENGINES } from "../helpers/db.js";
import { csvDir } from "../helpers/files.js";
import { baseConfig, sampleWorkspace } from "../helpers/slack.js";

describe.each(ENGINES)("the admin's Home tab shows the last import (%s)", (engine) => {
  const w = sampleWorkspace(engine);
  const app = () =>
    createApp({
      config: { ...loadConfig({}), ...baseConfig, SLACK_BOT_TOKEN: w.emulator.token, SLACK_API_URL: w.emulator.url },
      db: w.t.db,
      log: createLogger("silent"),
    });
  const home = async (email: string) =>
    JSON.stringify((await app().surfaces.homeView(w.emulator.userIdOf(email)!)).blocks);

  it("to a program admin: what it did, or why it was refused, never a cell's text; not to a manager", async () => {
    expect(await home("grace@acme.example")).toMatch(/Last import\* .* from the command line: 6 files, \d+ added/);
    const bad = csvDir({
      "meetings.csv": "meeting_id,match_id,scheduled_at,cancelled_at\nmt1,m1,mia@acme.example,\n",
    });
    expect((await importDirectory(w.t.db, bad, { zone: "UTC", source: "slack:U1" })).ok).toBe(false);
    const view = await home("grace@acme.example");
    expect(view).toMatch(/Last import\* .* from Slack was refused: 1 problem; nothing was changed/);
    expect(view).toContain("meetings.csv:2: scheduled_at: is not an ISO 8601 date or date-time");
    expect(view).not.toContain("mia@");
    expect(await home("dana@acme.example")).not.toContain("Last import");
  });
});
