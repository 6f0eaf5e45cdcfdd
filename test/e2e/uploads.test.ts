import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PostedMessage, SlackEmulator } from "../../src/emulator/server.js";
import { importDirectory } from "../../src/import/import-service.js";
import { ENGINES, freshDb, type TestDb } from "../helpers/db.js";
import { dump, SAMPLE } from "../helpers/files.js";
import { type Served, SIGNING_SECRET, startServe } from "../helpers/serve.js";
import { emulatorFor } from "../helpers/slack.js";

const MENTEE_MARKERS = ["mia@", "eve@", "liam@", "noah@", "zoe@", "Secret-Mentee", "Hidden-Mentee"];
const sample = (name: string) => readFileSync(join(SAMPLE, name), "utf8");

describe.each(ENGINES)("CSV files sent to the app in a DM (%s)", (engine) => {
  let t: TestDb;
  let emulator: SlackEmulator;
  let serve: Served;

  beforeAll(async () => {
    t = await freshDb(engine);
    await importDirectory(t.db, SAMPLE, { zone: "UTC" });
    emulator = await emulatorFor(t.db, { channels: [] });
    // Grace, a global admin, may send people.csv too; a program admin's limits are upload-roles.test.ts's.
    serve = await startServe({
      DATABASE_URL: t.url,
      SLACK_BOT_TOKEN: emulator.token,
      SLACK_API_URL: emulator.url,
      ADMIN_EMAILS: "grace@acme.example",
    });
  }, 60_000);
  afterAll(async () => {
    expect(await serve.stop()).toBe(0);
    await emulator.stop();
    await t.drop();
  });

  /** `email` shares these files in their DM with the app; resolves with the app's answers in that thread. */
  async function share(email: string, files: Record<string, string>, opts: { waitForUpload?: boolean } = {}) {
    const user = emulator.userIdOf(email)!;
    const ids = Object.entries(files).map(([name, content]) => emulator.addFile({ name, content, user }));
    const event = emulator.fileShareEvent(user, ids);
    const uploadsBefore = emulator.uploads.length;
    await emulator.sendEvent(event, { url: `${serve.url}/slack/events`, signingSecret: SIGNING_SECRET });
    const inThread = () => emulator.messages.filter((m) => m.thread_ts === event.ts);
    const deadline = Date.now() + 15_000;
    while (
      (!inThread().length || (opts.waitForUpload && emulator.uploads.length === uploadsBefore)) &&
      Date.now() < deadline
    )
      await new Promise((r) => setTimeout(r, 25));
    return {
      ts: event.ts as string,
      channel: event.channel as string,
      answers: inThread(),
      uploads: emulator.uploads.slice(uploadsBefore),
    };
  }
  const textOf = (answers: PostedMessage[]) => JSON.stringify(answers.map((a) => [a.text, a.blocks]));

  it("an admin's files are imported and the counts are answered in the thread", async () => {
    const people = `${sample("people.csv").trimEnd()}\nzed@acme.example,Zed Newcomer,Engineering,dana@acme.example,\n`;
    const r = await share("grace@acme.example", { "people.csv": people, "notes.txt": "hello" });
    expect(r.answers).toHaveLength(1);
    expect(r.answers[0]!.channel).toBe(r.channel);
    const text = textOf(r.answers);
    expect(text).toContain("Imported 1 file");
    expect(text).toContain("`people.csv`: 1 added, 0 changed, 0 removed, 21 unchanged");
    expect(text).toContain("left out: notes.txt");
    expect(await t.db("people").where({ email: "zed@acme.example" }).first()).toMatchObject({ name: "Zed Newcomer" });
    // Downloaded with the bot token, and only the file that is one of the six.
    expect(emulator.downloads).toEqual([{ fileId: expect.any(String), authorized: true }]);
    for (const m of MENTEE_MARKERS) expect(text).not.toContain(m);
  });

  it("an admin's bad files change nothing: the first 20 problems in the thread, all of them attached", async () => {
    const before = await dump(t.db);
    const bad = Array.from({ length: 25 }, (_, i) => `eng,person${i}@acme.example,boss,2025-01-01,`);
    // A shifted column puts a mentee's email where a date belongs: the answer must not repeat it.
    bad.push("eng,ada@acme.example,mentor,mia@acme.example,");
    const enrollments = `${sample("enrollments.csv").trimEnd()}\n${bad.join("\n")}\n`;
    const r = await share("grace@acme.example", { "enrollments.csv": enrollments }, { waitForUpload: true });
    expect(await dump(t.db)).toEqual(before);
    const answer = r.answers[0]!;
    expect(answer.text).toMatch(/^Nothing was imported: \d+ problems/);
    const listed = answer.text.split("\n").filter((l) => /^enrollments\.csv:\d+: /.test(l.replace(/^```/, "")));
    expect(listed).toHaveLength(20);
    expect(answer.text).toContain("enrollments.csv:19: role: is not mentor or mentee");
    expect(r.uploads).toHaveLength(1);
    expect(r.uploads[0]).toMatchObject({ channel: r.channel, thread_ts: r.ts });
    const attached = r.uploads[0]!.files[0]!.content.toString("utf8");
    expect(attached).toContain("enrollments.csv:43: role: is not mentor or mentee");
    expect(attached).toContain("enrollments.csv:44: added_at:");
    expect(attached.trim().split("\n").length).toBeGreaterThan(20);
    for (const m of MENTEE_MARKERS) {
      expect(textOf(r.answers)).not.toContain(m);
      expect(attached).not.toContain(m);
    }
  });

  it("files from someone who is not an admin are not downloaded, and the sender is told why", async () => {
    const infoCalls = emulator.callsOf("files.info").length;
    const downloads = emulator.downloads.length;
    const before = await dump(t.db);
    const r = await share("dana@acme.example", { "people.csv": "email,name,organization,manager_email\n" });
    expect(textOf(r.answers)).toContain("Only program admins can send me data files");
    expect(emulator.callsOf("files.info")).toHaveLength(infoCalls);
    expect(emulator.downloads).toHaveLength(downloads);
    expect(await dump(t.db)).toEqual(before);
  });

  it("a file that Slack says lives on another host is not fetched with the token", async () => {
    const downloads = emulator.downloads.length;
    emulator.fileUrlBase = "https://files.slack.com.evil.example";
    try {
      const people = `${sample("people.csv").trimEnd()}\nyan@acme.example,Yan Other,Engineering,dana@acme.example,\n`;
      const r = await share("grace@acme.example", { "people.csv": people });
      expect(textOf(r.answers)).toContain("I could not read the files you sent");
      expect(emulator.downloads).toHaveLength(downloads);
      expect(await t.db("people").where({ email: "yan@acme.example" }).first()).toBeUndefined();
    } finally {
      emulator.fileUrlBase = null;
    }
  });
});
