import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SlackEmulator } from "../../src/emulator/server.js";
import { BOT_SCOPES } from "../../src/ids.js";
import { importDirectory } from "../../src/import/import-service.js";
import { cli } from "../helpers/cli.js";
import { freshDb, type TestDb } from "../helpers/db.js";
import { SAMPLE } from "../helpers/files.js";
import { type Served, signed, startServe } from "../helpers/serve.js";
import { spreadPeople } from "../helpers/workspaces.js";

const GRID = "E0ACME";

/** The sample company in two workspaces (Alpha, Beta) and a Grid org of three; Beta never installs the app. */
async function company(t: TestDb) {
  await importDirectory(t.db, SAMPLE, { zone: "UTC" });
  const workspaces = await spreadPeople(
    t.db,
    [
      { teamId: "T0ALPHA", name: "Alpha" },
      { teamId: "T0BETA", name: "Beta" },
      { teamId: "T0GRID1", name: "Grid One", enterpriseId: GRID },
      { teamId: "T0GRID2", name: "Grid Two", enterpriseId: GRID },
      { teamId: "T0GRID3", name: "Grid Three", enterpriseId: GRID },
    ],
    (_i, email) =>
      email.startsWith("dana")
        ? "T0ALPHA"
        : email.startsWith("marcus")
          ? "T0BETA"
          : email.startsWith("priya")
            ? "T0GRID2"
            : "T0GRID1",
  );
  return new SlackEmulator({ workspaces, org: { enterpriseId: GRID, name: "Acme Org" } }).start();
}

/** What a browser does with the install link: /slack/install, Slack's consent for `team`, back to the app. */
async function installThrough(serve: Served, team: string) {
  const start = await fetch(`${serve.url}/slack/install`, { redirect: "manual" });
  const cookie = (start.headers.get("set-cookie") ?? "").split(";")[0]!;
  const authorize = new URL(start.headers.get("location")!);
  authorize.searchParams.set("team", team);
  const consent = await fetch(authorize, { redirect: "manual" });
  const back = consent.headers.get("location")!;
  const done = await fetch(back, { headers: { Cookie: cookie }, redirect: "manual" });
  return { start, authorize, cookie, back, status: done.status, page: await done.text() };
}

describe("installed from the link (§16), over HTTP", () => {
  let t: TestDb;
  let emulator: SlackEmulator;
  let serve: Served;
  beforeAll(async () => {
    t = await freshDb("sqlite");
    emulator = await company(t);
    serve = await startServe({
      DATABASE_URL: t.url,
      SLACK_API_URL: emulator.url,
      SLACK_CLIENT_ID: "1111.2222",
      SLACK_CLIENT_SECRET: "emulator-client-secret",
      SLACK_STATE_SECRET: "state-secret-for-tests",
      TOKEN_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
      // Everything the app would log, to look for the tokens in it.
      LOG_LEVEL: "trace",
    });
  });
  afterAll(async () => {
    expect(await serve.stop()).toBe(0);
    await emulator.stop();
    await t.drop();
  });

  it("serve says where the install link is", async () => {
    await expect
      .poll(() => serve.output())
      .toMatch(/Installed from the link in 0 workspaces or orgs; add one at http:\/\/[^ ]+:\d+\/slack\/install/);
  });

  it("/healthz says Slack answers, though no one token is set", async () => {
    const res = await fetch(`${serve.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, database: "ok", slack: "ok" });
  });

  it("/slack/install sends the installer to Slack's authorize page with the client id, the bot scopes and a signed state", async () => {
    const res = await fetch(`${serve.url}/slack/install`, { redirect: "manual" });
    expect(res.status).toBe(302);
    const to = new URL(res.headers.get("location")!);
    expect(`${to.origin}${to.pathname}`).toBe(`${new URL(emulator.url).origin}/oauth/v2/authorize`);
    expect(to.searchParams.get("client_id")).toBe("1111.2222");
    expect(to.searchParams.get("scope")?.split(",").sort()).toEqual([...BOT_SCOPES].sort());
    expect(to.searchParams.get("redirect_uri")).toBe(`${serve.url}/slack/oauth_redirect`);
    // A signed token (header.payload.signature), also held in this browser's cookie.
    expect(to.searchParams.get("state")).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(res.headers.get("set-cookie")).toContain(to.searchParams.get("state"));
  });

  it("installs a workspace from the link: oauth.v2.access called, the installation stored, the page names it; the token is nowhere readable", async () => {
    const r = await installThrough(serve, "T0ALPHA");
    expect(r.status).toBe(200);
    expect(r.page).toContain("Installed in Alpha");
    expect(emulator.callsOf("oauth.v2.access").at(-1)?.ok).toBe(true);
    const row = await t.db("installations").where({ team_id: "T0ALPHA" }).first();
    expect(row).toMatchObject({ team_name: "Alpha", is_enterprise_install: 0 });

    const token = emulator.tokenFor("T0ALPHA");
    expect(JSON.stringify(row)).not.toContain(token);
    const files = [t.url, `${t.url}-wal`].flatMap((f) => {
      try {
        return [readFileSync(f)];
      } catch {
        return [];
      }
    });
    expect(files.length).toBeGreaterThan(0);
    for (const bytes of files) expect(bytes.includes(Buffer.from(token))).toBe(false);
    expect(serve.output()).toContain('"audit":"installed"');
    expect(serve.output()).not.toContain(token);
  });

  it("a replayed redirect, a forged state, or a state without its browser cookie is refused, and nothing is stored", async () => {
    const first = await installThrough(serve, "T0ALPHA");
    expect(first.status).toBe(200);
    const before = await t.db("installations").count({ n: "*" }).first();

    const replay = await fetch(first.back, { headers: { Cookie: first.cookie }, redirect: "manual" });
    expect(replay.status).toBe(400);
    expect(await replay.text()).toContain("not installed");

    const forged = new URL(first.back);
    forged.searchParams.set("state", "eyJhbGciOiJIUzI1NiJ9.eyJmb3JnZWQiOnRydWV9.c2lnbmF0dXJl");
    forged.searchParams.set("code", emulator.authorizeCode("T0BETA"));
    const f = await fetch(forged, {
      headers: { Cookie: `slack-app-oauth-state=${forged.searchParams.get("state")}` },
      redirect: "manual",
    });
    expect(f.status).toBe(400);

    const start = await fetch(`${serve.url}/slack/install`, { redirect: "manual" });
    const state = new URL(start.headers.get("location")!).searchParams.get("state")!;
    const noCookie = await fetch(
      `${serve.url}/slack/oauth_redirect?code=${emulator.authorizeCode("T0BETA")}&state=${state}`,
      { redirect: "manual" },
    );
    expect(noCookie.status).toBe(400);

    expect(await t.db("installations").count({ n: "*" }).first()).toEqual(before);
    expect(await t.db("installations").where({ team_id: "T0BETA" }).first()).toBeUndefined();
    expect(serve.output()).toContain('"audit":"install_refused"');
  });

  it("an org-wide install names the org and sends the installer on to Slack's page for adding it to workspaces", async () => {
    const r = await installThrough(serve, GRID);
    expect(r.status).toBe(200);
    expect(r.page).toContain("Installed in the org Acme Org");
    expect(r.page).toMatch(
      /http-equiv="refresh" content="\d+; URL=[^"]*manage\/organization\/apps\/profile\/A0EMULATED\/workspaces\/add/,
    );
    expect(await t.db("installations").where({ enterprise_id: GRID, is_enterprise_install: 1 }).first()).toBeTruthy();
  });

  it("answers a slash command from each installed team with that installation's token; a team not installed gets 401", async () => {
    const ask = async (user: string) => {
      const fields = emulator.slashCommandFields(user, "");
      const body = new URLSearchParams(fields).toString();
      const answered = once(emulator, "response");
      const res = await fetch(`${serve.url}/slack/events`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", ...signed(body) },
        body,
      });
      return { status: res.status, answered };
    };
    await installThrough(serve, "T0ALPHA");
    await installThrough(serve, GRID);

    const alpha = await ask(idIn(emulator, "dana@acme.example"));
    expect(alpha.status).toBe(200);
    const [answer] = (await alpha.answered) as [Record<string, unknown>];
    expect(JSON.stringify(answer)).toContain("Ada Lovelace");
    const lookedUp = emulator
      .callsOf("users.info")
      .filter((c) => c.params.user === idIn(emulator, "dana@acme.example"));
    expect(lookedUp.map((c) => c.via)).toEqual(["T0ALPHA"]);

    const grid = await ask(idIn(emulator, "priya@acme.example"));
    expect(grid.status).toBe(200);
    await grid.answered;
    const priya = emulator.callsOf("users.info").filter((c) => c.params.user === idIn(emulator, "priya@acme.example"));
    expect(priya.map((c) => c.via)).toEqual([GRID]);

    const beta = await ask(idIn(emulator, "marcus@acme.example"));
    expect(beta.status).toBe(401);
    expect(serve.output()).toMatch(/"audit":"refused","reason":"team".*"team":"T0BETA"/);
  });

  it("a button pressed in each installed team is answered with that installation's token", async () => {
    await installThrough(serve, "T0ALPHA");
    await installThrough(serve, GRID);
    const press = async (email: string) => {
      const user = idIn(emulator, email);
      const uploaded = once(emulator, "upload");
      const payload = emulator.blockActionsPayload({
        user,
        actionId: "report_csv",
        message: { channel: `D${user.slice(1)}`, ts: "1.000001" },
      });
      const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
      const res = await fetch(`${serve.url}/slack/events`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", ...signed(body) },
        body,
      });
      expect(res.status).toBe(200);
      await uploaded;
      return emulator.callsOf("files.completeUploadExternal").at(-1)?.via;
    };
    // The CSV goes to Dana's DM in Alpha with Alpha's token, and to Sam's in Grid Three with the org's.
    expect(await press("dana@acme.example")).toBe("T0ALPHA");
    expect(await press("sam@acme.example")).toBe(GRID);
  });

  it("a CSV file a program admin shares in a Grid workspace is read and answered with the org's token", async () => {
    await installThrough(serve, GRID);
    const grace = idIn(emulator, "grace@acme.example");
    const people = `${readFileSync(`${SAMPLE}people.csv`, "utf8").trimEnd()}\nnew.hire@acme.example,Nia Newhire,Engineering,dana@acme.example,\n`;
    const fileId = emulator.addFile({ name: "people.csv", content: people, user: grace });
    const shared = emulator.fileShareEvent(grace, [fileId]);
    const answered = new Promise<void>((resolve) =>
      emulator.on("message", (m: { thread_ts?: string }) => m.thread_ts === shared.ts && resolve()),
    );
    await emulator.sendEvent(shared, { url: `${serve.url}/slack/events`, signingSecret: "test-signing-secret" });
    await answered;
    expect(emulator.downloads).toEqual([{ fileId, authorized: true }]);
    expect(emulator.messages.filter((m) => m.thread_ts === shared.ts).map((m) => m.via)).toEqual([GRID]);
  });

  it("app_uninstalled erases the installation's token; its team's requests are refused from then on", async () => {
    await installThrough(serve, "T0ALPHA");
    const user = idIn(emulator, "dana@acme.example");
    await emulator.sendEvent(
      { type: "app_uninstalled", user },
      { url: `${serve.url}/slack/events`, signingSecret: "test-signing-secret" },
    );
    await expect
      .poll(async () => (await t.db("installations").where({ team_id: "T0ALPHA" }).first())?.bot_token_sealed)
      .toBeNull();
    await expect.poll(() => serve.output()).toMatch(/"audit":"uninstalled","installation":"T0ALPHA"/);
    const fields = emulator.slashCommandFields(user, "");
    const body = new URLSearchParams(fields).toString();
    const res = await fetch(`${serve.url}/slack/events`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", ...signed(body) },
      body,
    });
    expect(res.status).toBe(401);
  });
});

/** The user id of an email in whichever emulated workspace holds it. */
const idIn = (e: SlackEmulator, email: string): string => e.userIdOf(email) ?? "";

describe("status lists the installations (§16)", () => {
  it("names each installation, its id, since when and whether revoked", async () => {
    const t = await freshDb("sqlite");
    const emulator = await company(t);
    const env = {
      DATABASE_URL: t.url,
      SLACK_API_URL: emulator.url,
      SLACK_CLIENT_ID: "1111.2222",
      SLACK_CLIENT_SECRET: "emulator-client-secret",
      SLACK_STATE_SECRET: "state-secret-for-tests",
      TOKEN_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
    };
    try {
      const serve = await startServe(env);
      await installThrough(serve, "T0ALPHA");
      await installThrough(serve, GRID);
      expect(await serve.stop()).toBe(0);
      const r = cli(["status"], env);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(
        /Installations:\n {2}Alpha \(T0ALPHA\): workspace since [\d-]+, 0 managers reached\n {2}Acme Org \(E0ACME\): org since/,
      );
    } finally {
      await emulator.stop();
      await t.drop();
    }
  });
});

describe("installed from the link, in Socket Mode: the ops port serves the install link", () => {
  let t: TestDb;
  let emulator: SlackEmulator;
  let serve: Served;
  beforeAll(async () => {
    t = await freshDb("sqlite");
    emulator = await company(t);
    const connected = once(emulator, "socket");
    serve = await startServe({
      DATABASE_URL: t.url,
      SLACK_API_URL: emulator.url,
      SLACK_APP_TOKEN: emulator.appToken,
      SLACK_SIGNING_SECRET: "",
      SLACK_CLIENT_ID: "1111.2222",
      SLACK_CLIENT_SECRET: "emulator-client-secret",
      SLACK_STATE_SECRET: "state-secret-for-tests",
      TOKEN_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
    });
    await connected;
  });
  afterAll(async () => {
    expect(await serve.stop()).toBe(0);
    await emulator.stop();
    await t.drop();
  });

  it("installs from the link on the ops port, then answers that workspace's slash command with its token", async () => {
    const r = await installThrough(serve, "T0ALPHA");
    expect(r.status).toBe(200);
    expect(r.page).toContain("Installed in Alpha");
    const user = idIn(emulator, "dana@acme.example");
    const answered = once(emulator, "response");
    await emulator.sendEnvelope("slash_commands", emulator.slashCommandFields(user, ""));
    const [body] = (await answered) as [Record<string, unknown>];
    expect(JSON.stringify(body)).toContain("Ada Lovelace");
    expect(emulator.callsOf("users.info").map((c) => c.via)).toEqual(["T0ALPHA"]);
  });
});
