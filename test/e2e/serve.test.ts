import { once } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SlackEmulator, SlashResponse } from "../../src/emulator/server.js";
import { SlackEmulator as Emulator } from "../../src/emulator/server.js";
import { importDirectory } from "../../src/import/import-service.js";
import { ENGINES, freshDb, type TestDb } from "../helpers/db.js";
import { SAMPLE } from "../helpers/files.js";
import { postCommand, postEvent, type Served, startServe } from "../helpers/serve.js";

const MENTEE_MARKERS = [
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

describe.each(ENGINES)("serve over HTTP with signed requests (%s)", (engine) => {
  let t: TestDb;
  let emulator: SlackEmulator;
  let serve: Served;
  let n = 0;

  beforeAll(async () => {
    t = await freshDb(engine);
    await importDirectory(t.db, SAMPLE, { zone: "UTC" });
    const people: Array<{ email: string; name: string }> = await t
      .db("people")
      .select("email", "name")
      .orderBy("email");
    emulator = await new Emulator({
      users: [
        ...people.map((p, i) => ({ id: `U${String(i + 1).padStart(8, "0")}`, email: p.email, name: p.name })),
        { id: "U0STRANGER", email: "stranger@elsewhere.example", name: "Stranger" },
      ],
      channels: [
        { id: "C0000ENG1", name: "mentorship-eng" },
        { id: "C0000LEAD", name: "leadership-circle", botCanPost: false },
      ],
    }).start();
    serve = await startServe({ DATABASE_URL: t.url, SLACK_BOT_TOKEN: emulator.token, SLACK_API_URL: emulator.url });
  });
  afterAll(async () => {
    expect(await serve.stop()).toBe(0);
    await emulator.stop();
    await t.drop();
  });

  /** Runs the slash command as `email` and returns what the app answered through response_url. */
  async function ask(
    email: string,
    text: string,
  ): Promise<{ status: number; ackMs: number; answers: SlashResponse[] }> {
    const path = `/response/${++n}`;
    const before = emulator.responses.length;
    const r = await postCommand(serve.url, {
      user_id: emulator.userIdOf(email)!,
      text,
      response_url: emulator.responseUrl(String(n)),
    });
    const deadline = Date.now() + 10_000;
    while (!emulator.responses.slice(before).some((x) => x.path === path) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 50));
    return { status: r.status, ackMs: r.ms, answers: emulator.responses.filter((x) => x.path === path) };
  }
  const textOf = (a: SlashResponse[]) => JSON.stringify(a.map((x) => x.body));

  it("a manager's command shows exactly their team, privately, and never a mentee", async () => {
    const r = await ask("dana@acme.example", "");
    expect(r.status).toBe(200);
    expect(r.answers).toHaveLength(1);
    expect(r.answers[0]!.body.response_type).toBe("ephemeral");
    const text = textOf(r.answers);
    for (const name of [
      "Ada Lovelace",
      "Alan Turing",
      "Barbara Liskov",
      "Linus Pauling",
      "Katherine Johnson",
      "Margaret Hamilton",
      "Ken Thompson",
    ])
      expect(text).toContain(name);
    for (const other of ["Parks, Rosa", "Tom Baker", "Victor Okafor"]) expect(text).not.toContain(other);
    for (const m of MENTEE_MARKERS) expect(text).not.toContain(m);
  });

  it("someone outside the roster gets a kind answer and no data", async () => {
    const text = textOf((await ask("stranger@elsewhere.example", "")).answers);
    expect(text).toContain("couldn't find you in the mentorship roster");
    expect(text).not.toMatch(/@acme\.example/);
  });

  it("a manager with no mentors is told so", async () => {
    expect(textOf((await ask("priya@acme.example", "")).answers)).toContain("None of your team takes part");
  });

  it("a program id narrows the report to that program", async () => {
    const text = textOf((await ask("marcus@acme.example", "buddy")).answers);
    expect(text).toContain("New Hire Buddies");
    expect(text).not.toContain("Leadership Circle");
    expect(textOf((await ask("marcus@acme.example", "nope")).answers)).toContain("There is no program `nope`");
  });

  it("help lists the commands; admin-only commands refuse non-admins", async () => {
    expect(textOf((await ask("dana@acme.example", "help")).answers)).toContain("/mentorship-report PROGRAM");
    const refused = textOf((await ask("dana@acme.example", "summary eng")).answers);
    expect(refused).toContain("Only the admins of program `eng`");
    expect(refused).not.toContain("Program summary");
    const before = emulator.messages.length;
    expect(textOf((await ask("dana@acme.example", "post eng")).answers)).toContain("Only the admins");
    expect(emulator.messages).toHaveLength(before);
  });

  it("a program admin gets the summary, and can post it to the program's channel now", async () => {
    const summary = textOf((await ask("grace@acme.example", "summary eng")).answers);
    expect(summary).toContain("Program summary · Engineering Mentorship");
    const before = emulator.messages.length;
    const posted = await ask("grace@acme.example", "post eng");
    expect(textOf(posted.answers)).toContain("Posted the summary of `eng` to #mentorship-eng");
    expect(emulator.messages.slice(before).map((m) => m.channel)).toEqual(["C0000ENG1"]);
    // A channel the bot may not post to is reported to the admin who asked, not retried.
    const refused = await ask("olivia@acme.example", "post lead");
    expect(textOf(refused.answers)).toContain(
      "could not post the summary of `lead` to #leadership-circle: not_in_channel",
    );
  });

  it("a forged signature or a 10-minute-old timestamp gets 401 and no answer", async () => {
    const before = emulator.responses.length;
    const forged = await postCommand(
      serve.url,
      { user_id: emulator.userIdOf("dana@acme.example")!, text: "", response_url: emulator.responseUrl("forged") },
      { secret: "not-the-secret" },
    );
    expect(forged.status).toBe(401);
    const stale = await postCommand(
      serve.url,
      { user_id: emulator.userIdOf("dana@acme.example")!, text: "", response_url: emulator.responseUrl("stale") },
      { ts: Math.floor(Date.now() / 1000) - 600 },
    );
    expect(stale.status).toBe(401);
    await new Promise((r) => setTimeout(r, 300));
    expect(emulator.responses.length).toBe(before);
  });

  it("app_home_opened publishes the viewer's Home tab, with their programs' summaries for an admin", async () => {
    const views = once(emulator, "view");
    expect(
      await postEvent(serve.url, {
        type: "app_home_opened",
        user: emulator.userIdOf("olivia@acme.example"),
        channel: "D0",
        tab: "home",
        event_ts: "1.2",
      }),
    ).toBe(200);
    const [{ userId, view }] = (await views) as [{ userId: string; view: { blocks: unknown[] } }];
    expect(userId).toBe(emulator.userIdOf("olivia@acme.example"));
    const text = JSON.stringify(view.blocks);
    expect(text).toContain("No one on your team mentors in a program right now");
    expect(text).toContain("Program summary · Leadership Circle");
    expect(text).not.toContain("Program summary · New Hire Buddies");
    const danaView = once(emulator, "view");
    await postEvent(serve.url, {
      type: "app_home_opened",
      user: emulator.userIdOf("dana@acme.example"),
      channel: "D0",
      tab: "home",
      event_ts: "1.3",
    });
    const [{ view: v2 }] = (await danaView) as [{ view: { blocks: unknown[] } }];
    expect(JSON.stringify(v2.blocks)).toContain("Ada Lovelace");
    expect(JSON.stringify(v2.blocks)).not.toContain("Program summary");
  });

  it("answers /healthz", async () => {
    const res = await fetch(`${serve.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, database: "ok", mode: "http" });
  });
});
