import { createHmac } from "node:crypto";
import { Writable } from "node:stream";
import { ErrorCode } from "@slack/web-api";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createApp } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { rememberSignature } from "../../src/db/seen-requests-repo.js";
import { CATCH_UP_MS, Pacer } from "../../src/delivery/pacer.js";
import { SlackEmulator } from "../../src/emulator/server.js";
import type { Logger } from "../../src/logger.js";
import { classify, tokenMayGoTo } from "../../src/slack/client.js";
import { type CommandArgs, handleReportCommand } from "../../src/slack/listeners/commands.js";
import { createRequestGuard, judgePayload, responseUrlAllowed, servedTeams } from "../../src/slack/request-guard.js";
import { readWithRetry, SlackCallError } from "../../src/slack/retry.js";
import { ENGINES, freshDb } from "../helpers/db.js";
import { baseConfig, emulatorFor, sampleWorkspace, slackFor } from "../helpers/slack.js";

/** A logger whose JSON lines the test can read. */
function capturedLog(): { log: Logger; lines: () => Array<Record<string, unknown>> } {
  const out: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      out.push(String(chunk));
      done();
    },
  });
  return {
    log: pino({ level: "info" }, stream),
    lines: () => out.flatMap((c) => c.split("\n").filter(Boolean)).map((l) => JSON.parse(l)),
  };
}

/** Slack's command payload, as Bolt hands it to the listener. */
function command(userId: string, text: string, responseUrl: string): CommandArgs["command"] {
  return {
    token: "legacy",
    team_id: "T0EMULATED",
    team_domain: "emulated",
    channel_id: "D0",
    channel_name: "directmessage",
    user_id: userId,
    user_name: "someone",
    command: "/mentorship-report",
    text,
    response_url: responseUrl,
    trigger_id: "1.2.3",
    api_app_id: "A0APP",
  };
}

type Event = { what: "ack" | "respond"; at: number; text?: string };

/** Fake ack and respond that record what the handler did, and when. */
function recorder() {
  const events: Event[] = [];
  const t0 = performance.now();
  return {
    events,
    ack: async () => {
      events.push({ what: "ack", at: performance.now() - t0 });
    },
    respond: async (m: { text?: string }) => {
      events.push({ what: "respond", at: performance.now() - t0, text: m.text });
      return {};
    },
  };
}

describe("the slash-command handler, in process (issue 8 item 7)", () => {
  const w = sampleWorkspace("sqlite");
  const services = (log: Logger = capturedLog().log) => {
    const config = {
      ...loadConfig({}),
      ...baseConfig,
      SLACK_BOT_TOKEN: w.emulator.token,
      SLACK_API_URL: w.emulator.url,
    };
    return createApp({ config, db: w.t.db, log }, { retryBaseMs: 10 });
  };
  const user = (email: string) => w.emulator.userIdOf(email)!;

  it("acks first, then answers privately with the manager's team", async () => {
    w.emulator.setResponseDelay(300);
    const { log, lines } = capturedLog();
    const handler = handleReportCommand({ surfaces: services(log).surfaces, log });
    const r = recorder();
    await handler({
      command: command(user("dana@acme.example"), "", w.emulator.responseUrl("1")),
      ack: r.ack,
      respond: r.respond as CommandArgs["respond"],
    });
    expect(r.events.map((e) => e.what)).toEqual(["ack", "respond"]);
    expect(r.events[0]!.at).toBeLessThan(50);
    expect(r.events[1]!.at).toBeGreaterThan(250);
    expect(r.events[1]!.text).toMatch(/mentor connection/);
    const audit = lines().find((l) => l.audit === "slash_command");
    expect(audit).toMatchObject({ user: user("dana@acme.example"), action: "team report", outcome: "answered" });
    expect(JSON.stringify(audit)).not.toContain("Ada");
  });

  it("a failure while building is answered with a kind message, and logged as failed", async () => {
    const { log, lines } = capturedLog();
    const app = services(log);
    await w.t.db.destroy();
    const r = recorder();
    await handleReportCommand({ surfaces: app.surfaces, log })({
      command: command("U0NOBODY", "", w.emulator.responseUrl("2")),
      ack: r.ack,
      respond: r.respond as CommandArgs["respond"],
    });
    expect(r.events.map((e) => e.what)).toEqual(["ack", "respond"]);
    expect(r.events[1]!.text).toContain("Something went wrong while building your report");
    expect(lines().find((l) => l.audit === "slash_command")).toMatchObject({ outcome: "failed" });
    // sampleWorkspace's afterEach drops the database; give it one to close.
    w.t.db = (await import("../../src/db/knex.js")).createDb(w.t.url);
  });

  it("the gate: a burst is acked at once, and reports are built a few at a time", async () => {
    w.emulator.setResponseDelay(150);
    const handler = handleReportCommand({
      surfaces: services().surfaces,
      log: capturedLog().log,
      concurrency: 1,
    });
    const emails = ["dana@acme.example", "marcus@acme.example", "sam@acme.example"];
    const recs = emails.map(() => recorder());
    await Promise.all(
      emails.map((e, i) =>
        handler({
          command: command(user(e), "", w.emulator.responseUrl(`g${i}`)),
          ack: recs[i]!.ack,
          respond: recs[i]!.respond as CommandArgs["respond"],
        }),
      ),
    );
    const acks = recs.map((r) => r.events.find((e) => e.what === "ack")!.at);
    const answers = recs.map((r) => r.events.find((e) => e.what === "respond")!.at).sort((a, b) => a - b);
    expect(Math.max(...acks)).toBeLessThan(50);
    // One at a time: each answer waits for the one before it (users.info takes 150 ms each).
    expect(answers[2]! - answers[0]!).toBeGreaterThan(250);
  });
});

describe("the surface service's grammar (issue 8 item 7)", () => {
  const w = sampleWorkspace("sqlite");
  const surfaces = () => {
    const config = {
      ...loadConfig({}),
      ...baseConfig,
      SLACK_BOT_TOKEN: w.emulator.token,
      SLACK_API_URL: w.emulator.url,
    };
    return createApp({ config, db: w.t.db, log: capturedLog().log }).surfaces;
  };
  const ask = async (email: string, text: string) => {
    const a = await surfaces().command(w.emulator.userIdOf(email) ?? "U0STRANGER", text);
    return { text: `${a.message.text} ${JSON.stringify(a.message.blocks)}` };
  };

  it.each([
    ["dana@acme.example", "", /mentor connection/],
    ["dana@acme.example", "help", /\/mentorship-report PROGRAM/],
    ["dana@acme.example", "too many words here", /\/mentorship-report PROGRAM/],
    ["dana@acme.example", "nope", /There is no program `nope`/],
    ["dana@acme.example", "summary eng", /Only the admins of program `eng`/],
    ["grace@acme.example", "summary eng", /Program summary · Engineering Mentorship/],
    ["grace@acme.example", "summary", /summary PROGRAM/],
    ["grace@acme.example", "summary nope", /There is no program `nope`/],
  ])("%s types %j", async (email, text, expected) => {
    expect((await ask(email, text)).text).toMatch(expected);
  });

  it("someone outside the roster gets a kind answer", async () => {
    await w.emulator.stop();
    w.emulator = await emulatorFor(w.t.db);
    w.emulator.setUsers([{ id: "U0STRANGER", email: "stranger@elsewhere.example", name: "S" }]);
    expect((await ask("stranger@elsewhere.example", "")).text).toContain("couldn't find you in the mentorship roster");
  });

  it("a Slack user the workspace does not know (users.info: user_not_found) gets the roster note", async () => {
    const a = await surfaces().command("U99999999", "");
    expect(a.message.text).toContain("couldn't find you in the mentorship roster");
  });

  it("what the user typed comes back escaped, without closing the code span, and short", async () => {
    for (const typed of ["x`<!channel>`", "<@U1>&<https://evil.example|x>"]) {
      const { text } = await ask("dana@acme.example", typed);
      expect(text).not.toMatch(/<[!@#]|<https?:/);
      expect(text).toContain("There is no program `");
    }
    const { text: summary } = await ask("dana@acme.example", "summary <!here>");
    expect(summary).toContain("`&lt;!here&gt;`");
    const long = await surfaces().command(w.emulator.userIdOf("dana@acme.example")!, "a".repeat(5000));
    const section = long.message.blocks[0] as { text: { text: string } };
    expect(section.text.text.length).toBeLessThan(3000);
    expect(long.message.text.length).toBeLessThan(3000);
  });

  it("post: only an admin's posts, to the program's channel, and the answer is the one line that says so", async () => {
    const before = w.emulator.messages.length;
    const posted = await ask("grace@acme.example", "post eng");
    expect(posted.text).toMatch(/^Posted the summary of `eng` to #mentorship-eng\./);
    expect(w.emulator.messages.slice(before).map((m) => m.channel)).toEqual(["C0000ENG1"]);
    expect((await ask("dana@acme.example", "post eng")).text).toContain("Only the admins");
    expect(w.emulator.messages.length).toBe(before + 1);
  });
});

describe("the pacer (issue 8 item 7)", () => {
  it("spaces posts at the workspace rate", async () => {
    const p = new Pacer(600); // one every 100 ms
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) await p.take(`C${i}`);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(390);
  });

  it("loses no slot to a stall of the event loop shorter than its catch-up, and takes no more than that", async () => {
    const p = new Pacer(600); // one every 100 ms
    const t0 = performance.now();
    await p.take("C0");
    // A synchronous read holds the loop for 200 ms: the two slots it covered are taken at once after it.
    while (performance.now() - t0 < 200);
    await p.take("C1");
    await p.take("C2");
    expect(performance.now() - t0).toBeLessThan(240);
    await p.take("C3");
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
    // After a long stall, only CATCH_UP_MS of slots come at once; the rest keep the pace.
    while (performance.now() - t0 < 1300);
    const t1 = performance.now();
    for (let i = 4; i < 9; i++) await p.take(`C${i}`);
    expect(performance.now() - t1).toBeGreaterThanOrEqual(4 * 100 - CATCH_UP_MS - 10);
  });

  it("holds one channel to a post a second", async () => {
    const p = new Pacer(60_000);
    const t0 = performance.now();
    await p.take("C1");
    await p.take("C2");
    expect(performance.now() - t0).toBeLessThan(100);
    await p.take("C1");
    expect(performance.now() - t0).toBeGreaterThanOrEqual(990);
  });

  it("holds every sender after a 429 until its Retry-After, and shares the rate among instances", async () => {
    const p = new Pacer(60_000);
    p.pause(300);
    const t0 = performance.now();
    await p.take("C1");
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
    const shared = new Pacer(600);
    shared.share(2); // two instances: one post every 200 ms each
    const t1 = performance.now();
    for (let i = 0; i < 3; i++) await shared.take(`C${i}`);
    expect(performance.now() - t1).toBeGreaterThanOrEqual(390);
  });
});

describe("retry classification against the SDK's real errors (issue 8 item 7)", () => {
  let emulator: SlackEmulator;
  beforeEach(async () => {
    emulator = await new SlackEmulator({
      users: [{ id: "U1", email: "a@x.io", name: "A" }],
      channels: [{ id: "C1", name: "x", botCanPost: false }],
    }).start();
  });
  afterEach(async () => {
    await emulator.stop();
  });
  const errorOf = (p: Promise<unknown>) =>
    p.then(
      () => null,
      (e: unknown) => e,
    );

  it("429 waits its Retry-After; 5xx and a non-JSON 200 are transient; a refused token is fatal; a refusal for one recipient is permanent", async () => {
    const slack = slackFor(emulator);
    emulator.setFaults({ probability: 1, seed: 3, methods: ["users.info"] });
    const faults = [];
    for (let i = 0; i < 6; i++) faults.push(classify(await errorOf(slack.users.info({ user: "U1" }))));
    expect(faults).toContainEqual({ kind: "ratelimited", retryAfterMs: 1000 });
    expect(faults).toContainEqual({ kind: "transient", reason: "http_503" });
    emulator.setFaults(undefined);
    emulator.setHtmlAnswers({ methods: ["users.info"], count: 1 });
    expect(classify(await errorOf(slack.users.info({ user: "U1" })))).toEqual({
      kind: "transient",
      reason: "invalid_response",
    });
    expect(classify(await errorOf(slackFor(emulator, "xoxb-wrong").auth.test()))).toEqual({
      kind: "fatal",
      reason: "invalid_auth",
    });
    expect(classify(await errorOf(slack.chat.postMessage({ channel: "C1", text: "x" })))).toEqual({
      kind: "permanent",
      reason: "not_in_channel",
    });
    await emulator.stop();
    const down = classify(await errorOf(slack.auth.test()));
    expect(down).toEqual({ kind: "transient", reason: "unreachable" });
    emulator = await new SlackEmulator().start();
  });

  it("readWithRetry retries a transient error and gives up at once on a permanent one", async () => {
    const log = capturedLog().log;
    let calls = 0;
    const value = await readWithRetry(
      "users.info",
      async () => {
        if (++calls < 3) throw Object.assign(new Error("x"), { code: ErrorCode.HTTPError, statusCode: 503 });
        return "ok";
      },
      log,
      { baseMs: 1 },
    );
    expect([value, calls]).toEqual(["ok", 3]);
    calls = 0;
    const err = await errorOf(
      readWithRetry(
        "users.info",
        async () => {
          calls++;
          throw Object.assign(new Error("x"), { code: ErrorCode.PlatformError, data: { error: "user_not_found" } });
        },
        log,
        { baseMs: 1 },
      ),
    );
    expect(err).toBeInstanceOf(SlackCallError);
    expect(calls).toBe(1);
  });
});

const servesT1 = { isServedTeam: servedTeams({ teamId: "T1" }), slackApiUrl: "http://127.0.0.1:3001/api/" };

describe("where a request may come from and where the token may go (issue 9 row 5, spec §14)", () => {
  const sign = (secret: string, ts: number, body: string) =>
    `v0=${createHmac("sha256", secret).update(`v0:${ts}:${body}`).digest("hex")}`;

  it("the guard refuses a bad signature, a timestamp out of the window either way, a replay and another workspace", async () => {
    let clock = 1_800_000_000_000;
    const guard = createRequestGuard({ signingSecret: "s", ...servesT1, now: () => clock });
    const body = "command=%2Fmentorship-report&team_id=T1&user_id=U1";
    const at = (dt: number) => Math.floor(clock / 1000) + dt;
    const headers = (ts: number, b = body, secret = "s") => ({
      "x-slack-request-timestamp": String(ts),
      "x-slack-signature": sign(secret, ts, b),
      "content-type": "application/x-www-form-urlencoded",
    });
    expect(await guard.check(headers(at(0), body, "other"), body)).toBe("signature");
    expect(await guard.check(headers(at(-301)), body)).toBe("stale");
    expect(await guard.check(headers(at(301)), body)).toBe("stale");
    const ok = headers(at(-10));
    expect(await guard.check(ok, body)).toBeNull();
    expect(await guard.check(ok, body)).toBe("replay");
    clock += 20 * 60_000; // a replay long after is stale, and the remembered signature is let go
    expect(await guard.check(ok, body)).toBe("stale");
    const other = "command=%2Fmentorship-report&team_id=T2&user_id=U1";
    expect(await guard.check(headers(at(0), other), other)).toBe("team");
  });

  it.each(ENGINES)("a replay sent to another instance on the same database is refused too (%s)", async (engine) => {
    const t = await freshDb(engine);
    try {
      const clock = 1_800_000_000_000;
      const remember = (sig: string, forgetAfter: number, now: number) =>
        rememberSignature(t.db, sig, forgetAfter, now);
      const [a, b] = [0, 1].map(() =>
        createRequestGuard({ signingSecret: "s", ...servesT1, now: () => clock, remember }),
      );
      const body = "command=%2Fmentorship-report&team_id=T1&user_id=U1";
      const ts = Math.floor(clock / 1000);
      const headers = { "x-slack-request-timestamp": String(ts), "x-slack-signature": sign("s", ts, body) };
      expect(await a!.check(headers, body)).toBeNull();
      expect(await b!.check(headers, body)).toBe("replay");
      const later = createRequestGuard({ signingSecret: "s", ...servesT1, now: () => clock + 11 * 60_000, remember });
      expect(await later.check(headers, body)).toBe("stale");
    } finally {
      await t.drop();
    }
  });

  it("one gate for commands, buttons, views and events: every place a payload names a team, and a button's response_url (§15)", async () => {
    const judge = (body: Record<string, unknown>) => judgePayload(body, servesT1);
    const button = (extra: Record<string, unknown>) => ({
      type: "block_actions",
      team: { id: "T1" },
      user: { id: "U1", team_id: "T1" },
      response_url: "http://127.0.0.1:3001/response/1",
      ...extra,
    });
    expect(await judge(button({}))).toBeNull();
    expect(await judge(button({ response_url: "http://127.0.0.1:5432/x" }))).toBe("response_url");
    expect(await judge(button({ response_url: "https://hooks.slack.com.evil.example/x" }))).toBe("response_url");
    expect(
      await judge({
        type: "view_submission",
        team: { id: "T1" },
        user: { id: "U1", team_id: "T1" },
        response_urls: [{ response_url: "http://evil.example/" }],
      }),
    ).toBe("response_url");
    // No `team`, and the user belongs to another team: refused, not waved through.
    expect(await judge(button({ team: undefined, user: { id: "U1", team_id: "T2" } }))).toBe("team");
    expect(await judge(button({ team: null, user: { id: "U1", team_id: "T2" } }))).toBe("team");
    expect(await judge(button({ view: { team_id: "T2" } }))).toBe("team");
    expect(await judge(button({ enterprise: { id: "E9" } }))).toBe("team");
    expect(
      await judge({ type: "event_callback", team_id: "T1", authorizations: [{ team_id: "T2" }], event_id: "Ev1" }),
    ).toBe("team");
    expect(await judge({ type: "event_callback", team_id: "T1", event: { type: "message", team: "T2" } })).toBe("team");
    expect(await judge({ command: "/mentorship-report", user_id: "U1" })).toBe("team");
    expect(
      await judge({ command: "/mentorship-report", team_id: "T1", response_url: "https://hooks.slack.com/commands/1" }),
    ).toBeNull();
    expect(await judge({ type: "url_verification", challenge: "x" })).toBeNull();
    // A workspace of an organisation the token's workspace belongs to.
    const grid = { isServedTeam: servedTeams({ teamId: "T1", enterpriseId: "E1" }), slackApiUrl: servesT1.slackApiUrl };
    expect(await judgePayload(button({ enterprise: { id: "E1" } }), grid)).toBeNull();
    expect(
      await judgePayload(
        button({ enterprise: { id: "E1" }, authorizations: [{ enterprise_id: "E2", team_id: "T1" }] }),
        grid,
      ),
    ).toBe("team");
  });

  it.each(ENGINES)(
    "an event Slack retries (same event_id) is handled once, across instances (%s, §15)",
    async (engine) => {
      const t = await freshDb(engine);
      try {
        const clock = 1_800_000_000_000;
        const remember = (key: string, forgetAfter: number, now: number) =>
          rememberSignature(t.db, key, forgetAfter, now);
        const [a, b] = [0, 1].map(() =>
          createRequestGuard({ signingSecret: "s", ...servesT1, now: () => clock, remember }),
        );
        const ts = Math.floor(clock / 1000);
        const event = (retry: number) =>
          JSON.stringify({
            type: "event_callback",
            team_id: "T1",
            event_id: "Ev0001",
            retry,
            event: { type: "app_home_opened" },
          });
        const headers = (body: string) => ({
          "content-type": "application/json",
          "x-slack-request-timestamp": String(ts),
          "x-slack-signature": sign("s", ts, body),
        });
        expect(await a!.check(headers(event(0)), event(0))).toBeNull();
        // Slack's retry is a new request (new signature) carrying the same event.
        expect(await b!.check(headers(event(1)), event(1))).toBe("duplicate");
        expect(await a!.check(headers(event(2)), event(2))).toBe("duplicate");
      } finally {
        await t.drop();
      }
    },
  );

  it("response_url: Slack's hooks or SLACK_API_URL's origin only", () => {
    const api = "http://127.0.0.1:3001/api/";
    expect(responseUrlAllowed("https://hooks.slack.com/commands/T1/2/x", "https://slack.com/api/")).toBe(true);
    expect(responseUrlAllowed("http://127.0.0.1:3001/response/1", api)).toBe(true);
    for (const bad of [
      "http://hooks.slack.com/commands/x",
      "https://hooks.slack.com.evil.example/x",
      "https://hooks.slack.com:8443/x",
      "http://127.0.0.1:5432/",
      "not a url",
    ])
      expect(responseUrlAllowed(bad, api), bad).toBe(false);
  });

  it("the bot token goes to Slack's hosts or SLACK_API_URL's origin only", () => {
    const config = { SLACK_API_URL: "http://127.0.0.1:3001/api/" };
    expect(tokenMayGoTo("https://files.slack.com/files-pri/T1-F1/x.csv", config)).toBe(true);
    expect(tokenMayGoTo("https://slack.com/api/files.info", config)).toBe(true);
    expect(tokenMayGoTo("http://127.0.0.1:3001/files/F1", config)).toBe(true);
    for (const bad of [
      "https://files.slack.com.evil.example/x",
      "http://files.slack.com/x",
      "https://evil.example/?https://files.slack.com/",
      "http://127.0.0.1:5432/",
    ])
      expect(tokenMayGoTo(bad, config), bad).toBe(false);
  });
});
