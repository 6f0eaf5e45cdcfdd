import { once } from "node:events";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SlackEmulator } from "../../src/emulator/server.js";
import { importDirectory } from "../../src/import/import-service.js";
import { freshDb, type TestDb } from "../helpers/db.js";
import { SAMPLE } from "../helpers/files.js";
import { type Served, startServe } from "../helpers/serve.js";

describe("serve in Socket Mode (SLACK_APP_TOKEN set)", () => {
  let t: TestDb;
  let emulator: SlackEmulator;
  let serve: Served;
  beforeAll(async () => {
    t = await freshDb("sqlite");
    await importDirectory(t.db, SAMPLE, { zone: "UTC" });
    const people: Array<{ email: string; name: string }> = await t
      .db("people")
      .select("email", "name")
      .orderBy("email");
    emulator = await new SlackEmulator({
      users: people.map((p, i) => ({ id: `U${i}`, email: p.email, name: p.name })),
    }).start();
    const connected = once(emulator, "socket");
    serve = await startServe({
      DATABASE_URL: t.url,
      SLACK_BOT_TOKEN: emulator.token,
      SLACK_API_URL: emulator.url,
      SLACK_APP_TOKEN: emulator.appToken,
      SLACK_SIGNING_SECRET: "",
      // people.csv is a global admin's to send (§15).
      ADMIN_EMAILS: "grace@acme.example",
    });
    await connected;
  });
  afterAll(async () => {
    expect(await serve.stop()).toBe(0);
    await emulator.stop();
    await t.drop();
  });

  it("acks a slash command envelope at once and answers through response_url", async () => {
    const answered = once(emulator, "response");
    const r = await emulator.sendEnvelope("slash_commands", {
      command: "/mentorship-report",
      text: "",
      user_id: emulator.userIdOf("dana@acme.example"),
      team_id: "T0EMULATED",
      channel_id: "D0",
      response_url: emulator.responseUrl("socket-1"),
      trigger_id: "1.2",
    });
    expect(r.ackMs).toBeLessThan(3000);
    const [body] = (await answered) as [Record<string, unknown>];
    expect(body.response_type).toBe("ephemeral");
    expect(JSON.stringify(body)).toContain("Ada Lovelace");
    expect(JSON.stringify(body)).not.toContain("Secret-Mentee");
  });

  it("publishes the Home tab on an app_home_opened event", async () => {
    const published = once(emulator, "view");
    await emulator.sendEnvelope("events_api", {
      type: "event_callback",
      team_id: "T0EMULATED",
      api_app_id: "A0EMULATED",
      event: {
        type: "app_home_opened",
        user: emulator.userIdOf("marcus@acme.example"),
        channel: "D0",
        tab: "home",
        event_ts: "1.2",
      },
      event_id: "Ev1",
      event_time: 1,
    });
    const [{ userId, view }] = (await published) as [{ userId: string; view: { blocks: unknown[] } }];
    expect(userId).toBe(emulator.userIdOf("marcus@acme.example"));
    expect(JSON.stringify(view.blocks)).toContain("Parks, Rosa");
  });

  it("imports CSV files an admin shares in the app's DM, answering in the thread", async () => {
    const grace = emulator.userIdOf("grace@acme.example")!;
    const people = `${readFileSync(join(SAMPLE, "people.csv"), "utf8").trimEnd()}\nsoc@acme.example,Soc Ket,Sales,,\n`;
    const event = emulator.fileShareEvent(grace, [
      emulator.addFile({ name: "people.csv", content: people, user: grace }),
    ]);
    const answered = new Promise((resolve) =>
      emulator.on("message", (m: { thread_ts?: string }) => m.thread_ts === event.ts && resolve(m)),
    );
    expect(await emulator.sendEvent(event)).toBeLessThan(3000);
    expect(JSON.stringify(await answered)).toContain("people.csv`: 1 added");
    expect(await t.db("people").where({ email: "soc@acme.example" }).first()).toBeTruthy();
  });

  it("answers /healthz on PORT", async () => {
    const res = await fetch(`${serve.url}/healthz`);
    expect(await res.json()).toMatchObject({ ok: true, mode: "socket" });
  });
});
