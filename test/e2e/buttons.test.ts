import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SlackEmulator } from "../../src/emulator/server.js";
import { importDirectory } from "../../src/import/import-service.js";
import { ACTIONS } from "../../src/render/blocks.js";
import { CSV_HEADER } from "../../src/render/csv.js";
import { freshDb, type TestDb } from "../helpers/db.js";
import { SAMPLE } from "../helpers/files.js";
import { type Served, SIGNING_SECRET, startServe } from "../helpers/serve.js";
import { emulatorFor } from "../helpers/slack.js";

const MENTEES = ["mia@", "eve@", "liam@", "noah@", "zoe@", "Mia ", "Eve ", "Liam ", "Noah ", "Zoe "];
const DANA = "dana@acme.example";

describe("the manager's buttons and commands against a running serve (§11)", () => {
  let t: TestDb;
  let emulator: SlackEmulator;
  let serve: Served;
  let target: { url: string; signingSecret: string };

  beforeAll(async () => {
    t = await freshDb("sqlite");
    await importDirectory(t.db, SAMPLE, { zone: "UTC" });
    emulator = await emulatorFor(t.db, { channels: [] });
    serve = await startServe({ DATABASE_URL: t.url, SLACK_BOT_TOKEN: emulator.token, SLACK_API_URL: emulator.url });
    target = { url: `${serve.url}/slack/events`, signingSecret: SIGNING_SECRET };
  });
  afterAll(async () => {
    expect(await serve.stop()).toBe(0);
    await emulator.stop();
    await t.drop();
  });

  const until = async (ok: () => boolean) => {
    const deadline = Date.now() + 10_000;
    while (!ok() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(ok()).toBe(true);
  };
  /** The command as Dana, and the app's answer through response_url. */
  async function command(text: string) {
    const before = emulator.responses.length;
    await emulator.sendInteraction(
      "slash_commands",
      emulator.slashCommandFields(emulator.userIdOf(DANA)!, text),
      target,
    );
    await until(() => emulator.responses.length > before);
    return JSON.stringify(emulator.responses[before]!.body);
  }
  async function click(actionId: string, where: "message" | "home") {
    const user = emulator.userIdOf(DANA)!;
    const payload = emulator.blockActionsPayload({
      user,
      actionId,
      message: where === "message" ? { channel: `D${user.slice(1)}`, ts: "1.000001" } : undefined,
    });
    const [responses, views] = [emulator.responses.length, emulator.views.length];
    await emulator.sendInteraction("interactive", payload, target);
    if (where === "message") await until(() => emulator.responses.length > responses);
    else await until(() => emulator.views.length > views);
    return where === "message"
      ? JSON.stringify(emulator.responses[responses]!.body)
      : JSON.stringify(emulator.views[views]!.view);
  }
  const buttonsOf = (json: string) => [...json.matchAll(/"action_id":"(report_\w+)"/g)].map((m) => m[1]);

  it("`csv` and the Download CSV button upload every row with the seed's columns to the manager's DM", async () => {
    expect(await command("csv")).toContain("I sent the full report (8 rows) as a CSV file to our DM");
    expect(await click(ACTIONS.csv, "message")).toContain("as a CSV file to our DM");
    expect(emulator.uploads).toHaveLength(2);
    for (const u of emulator.uploads) {
      expect(u.channel).toBe(`D${emulator.userIdOf(DANA)!.slice(1)}`);
      const csv = u.files[0]!.content.toString("utf8");
      const lines = csv.trimEnd().split("\r\n");
      expect(lines[0]).toBe(CSV_HEADER.join(","));
      expect(lines).toHaveLength(1 + 8);
      for (const m of MENTEES) expect(csv).not.toContain(m);
    }
    // The upload went the way Slack asks for now: an upload URL, then completion.
    expect(emulator.callsOf("files.getUploadURLExternal")).toHaveLength(2);
    expect(emulator.callsOf("files.completeUploadExternal")).toHaveLength(2);
  });

  it("skip, stop and resume from a DM, the command and the Home tab; the buttons follow the state", async () => {
    expect(await click(ACTIONS.pause, "message")).toContain("Paused: you won't get the scheduled report");
    const paused = await command("");
    expect(buttonsOf(paused)).toEqual([ACTIONS.csv, ACTIONS.resume]);
    expect(await command("stop")).toContain("Stopped: no more scheduled reports");
    const home = await click(ACTIONS.resume, "home");
    expect(buttonsOf(home)).toEqual([ACTIONS.csv, ACTIONS.pause, ACTIONS.stop]);
    expect(await command("resume")).toContain("Resumed");
    expect(await t.db("report_controls").count({ n: "*" }).first()).toMatchObject({ n: 0 });
    const everything = JSON.stringify([emulator.responses, emulator.views, emulator.calls.map((c) => c.params)]);
    for (const m of MENTEES) expect(everything).not.toContain(m);
  });

  it("help names the new commands", async () => {
    const help = await command("help");
    for (const word of ["/mentorship-report csv", "/mentorship-report pause", "`stop`", "`resume`"])
      expect(help).toContain(word);
  });
});

describe("program admins' view (§10, issue 10 item 6)", () => {
  let t: TestDb;
  let emulator: SlackEmulator;
  let serve: Served;
  let target: { url: string; signingSecret: string };
  const GRACE = "grace@acme.example";

  beforeAll(async () => {
    t = await freshDb("sqlite");
    await importDirectory(t.db, SAMPLE, { zone: "UTC" });
    emulator = await emulatorFor(t.db, { channels: [{ id: "C0000ENG1", name: "mentorship-eng" }] });
    serve = await startServe({ DATABASE_URL: t.url, SLACK_BOT_TOKEN: emulator.token, SLACK_API_URL: emulator.url });
    target = { url: `${serve.url}/slack/events`, signingSecret: SIGNING_SECRET };
  });
  afterAll(async () => {
    expect(await serve.stop()).toBe(0);
    await emulator.stop();
    await t.drop();
  });

  async function command(email: string, text: string): Promise<string[]> {
    const before = emulator.responses.length;
    await emulator.sendInteraction(
      "slash_commands",
      emulator.slashCommandFields(emulator.userIdOf(email)!, text),
      target,
    );
    const deadline = Date.now() + 10_000;
    while (emulator.responses.length === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 300));
    return emulator.responses.slice(before).map((r) => JSON.stringify(r.body));
  }

  it("help lists the program ids the user may ask about", async () => {
    const [help] = await command(GRACE, "help");
    expect(help).toContain(
      "Programs: `buddy` (New Hire Buddies), `eng` (Engineering Mentorship), `lead` (Leadership Circle)",
    );
    expect(help).toContain(
      "Summaries you may ask for or post: `eng` (Engineering Mentorship), `lead` (Leadership Circle)",
    );
  });

  it("program ids match in any case; the summary says 'as of' once, with the change and the attention counts", async () => {
    const [summary] = await command(GRACE, "summary ENG");
    expect(summary).toContain("Program summary · Engineering Mentorship");
    const context = JSON.stringify(JSON.parse(summary!).blocks[1]);
    expect(context.match(/(?<!data )as of \d\d-\d\d-\d{4}/g)).toHaveLength(1);
    expect(summary).toContain("change since");
    expect(summary).toContain("Needs attention:*");
    const [report] = await command(DANA, "Eng");
    expect(report).toContain("Ada Lovelace");
  });

  it("an on-demand post says who asked for it", async () => {
    await command(GRACE, "post eng");
    const post = emulator.messages.find((m) => m.channel === "C0000ENG1");
    expect(JSON.stringify(post?.blocks)).toContain(`at the request of <@${emulator.userIdOf(GRACE)}>`);
    // Nothing the admin surfaces sent names a mentee.
    const everything = JSON.stringify([emulator.responses, emulator.views, emulator.calls.map((c) => c.params)]);
    for (const m of MENTEES) expect(everything).not.toContain(m);
  });
});
