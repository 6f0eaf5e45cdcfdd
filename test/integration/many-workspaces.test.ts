import { randomBytes } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createApp } from "../../src/app.js";
import { buildRunSummaryText } from "../../src/cli/run-summary.js";
import { loadConfig } from "../../src/config.js";
import { createInstallationStore } from "../../src/db/installation-repo.js";
import { createTokenCipher } from "../../src/db/token-cipher.js";
import { parseInstant } from "../../src/domain/dates.js";
import { SlackEmulator } from "../../src/emulator/server.js";
import { importDirectory } from "../../src/import/import-service.js";
import { createLogger } from "../../src/logger.js";
import { buildInstallationLines } from "../../src/render/installations.js";
import { ENGINES, freshDb, type TestDb } from "../helpers/db.js";
import { SAMPLE } from "../helpers/files.js";
import { baseConfig } from "../helpers/slack.js";
import { spreadPeople } from "../helpers/workspaces.js";

const ASOF = parseInstant("2026-03-02T09:00", "UTC")!;
const GRID = "E0ACME";
const KEY = randomBytes(32).toString("base64");

/**
 * Where each person of the sample company is: two separate workspaces (Alpha, Beta) and a Grid org of
 * three. Olivia is in both Alpha and Beta; Beta was installed first, so she is Beta's (§16 order).
 */
const PLACE: Record<string, string[]> = {
  "dana@acme.example": ["T0ALPHA"],
  "olivia@acme.example": ["T0ALPHA", "T0BETA"],
  "marcus@acme.example": ["T0BETA"],
  "priya@acme.example": ["T0GRID2"],
  "sam@acme.example": ["T0GRID3"],
  "grace@acme.example": ["T0GRID1"],
};
/** The installation each manager's DM must go out with: the workspace's own, or the org's for Grid. */
const EXPECTED: Record<string, { team: string; via: string }> = {
  "dana@acme.example": { team: "T0ALPHA", via: "T0ALPHA" },
  "marcus@acme.example": { team: "T0BETA", via: "T0BETA" },
  "sam@acme.example": { team: "T0GRID3", via: GRID },
  "olivia@acme.example": { team: "T0BETA", via: "T0BETA" },
};

async function company(db: TestDb["db"], alphaChannels: Array<{ id: string; name: string }> = []) {
  const teams = [
    { teamId: "T0ALPHA", name: "Alpha", channels: alphaChannels },
    { teamId: "T0BETA", name: "Beta", channels: [{ id: "C0000LEAD", name: "leadership-circle" }] },
    {
      teamId: "T0GRID1",
      name: "Grid One",
      enterpriseId: GRID,
      channels: [{ id: "C0000ENG1", name: "mentorship-eng" }],
    },
    { teamId: "T0GRID2", name: "Grid Two", enterpriseId: GRID },
    { teamId: "T0GRID3", name: "Grid Three", enterpriseId: GRID },
  ];
  const first = await spreadPeople(db, teams, (_i, email) => PLACE[email]?.[0] ?? "T0GRID1");
  // The people in a second workspace too: the same email, another user id there.
  const second = await spreadPeople(db, teams, (_i, email) => PLACE[email]?.[1] ?? null);
  const workspaces = first.map((w, i) => ({
    ...w,
    users: [...w.users, ...second[i]!.users.map((u) => ({ ...u, id: `${u.id}X` }))],
  }));
  for (const w of workspaces) for (const u of w.users) emailOfUser.set(u.id, u.email);
  return new SlackEmulator({ workspaces, org: { enterpriseId: GRID, name: "Acme Org" } }).start();
}

const emailOfUser = new Map<string, string>();

/** The app installed in Beta, then Alpha, then the Grid org (oldest first), as the install link stores them. */
async function install(db: TestDb["db"], e: SlackEmulator) {
  let clock = 1_000;
  const store = createInstallationStore(db, createTokenCipher(KEY), () => clock);
  const base = {
    user: { id: "U0INSTALLER", token: undefined, scopes: undefined },
    appId: "A0EMULATED",
    tokenType: "bot" as const,
    authVersion: "v2" as const,
  };
  for (const [team, name] of [
    ["T0BETA", "Beta"],
    ["T0ALPHA", "Alpha"],
  ] as const) {
    await store.storeInstallation({
      ...base,
      team: { id: team, name },
      enterprise: undefined,
      isEnterpriseInstall: false,
      bot: { token: e.tokenFor(team), scopes: ["chat:write"], id: "B0BOT", userId: "U0BOT" },
    });
    clock += 1_000;
  }
  await store.storeInstallation({
    ...base,
    team: undefined,
    enterprise: { id: GRID, name: "Acme Org" },
    isEnterpriseInstall: true,
    bot: { token: e.tokenFor(GRID), scopes: ["chat:write"], id: "B0BOT", userId: "U0BOT" },
  });
  return store;
}

function appFor(
  db: TestDb["db"],
  e: SlackEmulator,
  instanceId?: string,
  perMinute = 600,
  admins: string[] = [],
  mode: "fixed" | "local" = "fixed",
) {
  const config = {
    ...loadConfig({
      SLACK_CLIENT_ID: "1111.2222",
      SLACK_CLIENT_SECRET: "emulator-client-secret",
      SLACK_STATE_SECRET: "s",
      TOKEN_ENCRYPTION_KEY: KEY,
      REPORT_DELIVERY: mode,
    }),
    ...baseConfig,
    REPORT_SCOPE: "all" as const,
    DELIVERY_RATE_PER_MINUTE: perMinute,
    ADMIN_EMAILS: admins,
    SLACK_API_URL: e.url,
  };
  return createApp({ config, db, log: createLogger("silent") }, { retryBaseMs: 10, instanceId });
}

/** Each DM by the manager's email: where it landed and whose token posted it. */
function dmsByEmail(e: SlackEmulator) {
  const out: Record<string, Array<{ team?: string; via?: string }>> = {};
  for (const m of e.messages) {
    if (!m.user) continue;
    const email = emailOfUser.get(m.user) ?? m.user;
    const list = out[email] ?? [];
    list.push({ team: m.team, via: m.via });
    out[email] = list;
  }
  return out;
}

describe.each(ENGINES)("two workspaces and a Grid org of three on %s (§16)", (engine) => {
  let t: TestDb;
  let e: SlackEmulator;
  beforeEach(async () => {
    t = await freshDb(engine);
    await importDirectory(t.db, SAMPLE, { zone: "UTC" });
    e = await company(t.db);
    await install(t.db, e);
  });
  afterEach(async () => {
    await e.stop();
    await t.drop();
  });

  it("each manager gets one DM, in the workspace where found, with that installation's token; summaries in the right workspace", async () => {
    const s = await appFor(t.db, e).delivery.deliverPeriod({ asOf: ASOF });
    expect(s.fatal).toBeNull();
    expect(s.left).toBe(0);
    expect(s.tally?.failed).toEqual([]);
    const dms = dmsByEmail(e);
    for (const [email, where] of Object.entries(EXPECTED)) expect(dms[email], email).toEqual([where]);
    expect(Object.keys(dms).sort()).toEqual(Object.keys(EXPECTED).sort());

    const posts = e.messages.filter((m) => !m.user).map((m) => ({ channel: m.channel, team: m.team, via: m.via }));
    expect(posts).toEqual(
      expect.arrayContaining([
        { channel: "C0000ENG1", team: "T0GRID1", via: GRID },
        { channel: "C0000LEAD", team: "T0BETA", via: "T0BETA" },
      ]),
    );
    expect(posts).toHaveLength(2);
    // Every call went out with some installation's token: none without one.
    expect(e.calls.filter((c) => !c.via)).toEqual([]);

    const rows = await t.db("deliveries").where({ kind: "dm", state: "delivered" }).select("recipient", "team_id");
    expect(Object.fromEntries(rows.map((r) => [r.recipient, r.team_id]))).toEqual(
      Object.fromEntries(Object.entries(EXPECTED).map(([email, w]) => [email, w.via])),
    );
  });

  it("a 429 in one workspace holds only that workspace's posts", async () => {
    // The last post in each workspace, and when Beta started answering 429 (its first post): both in ms.
    const last = new Map<string, number>();
    e.on("message", (m: { team?: string }) => {
      if (m.team) last.set(m.team, Date.now());
    });
    let heldAt = 0;
    e.on("call", (c: { method: string; via?: string }) => {
      if (c.method === "chat.postMessage" && c.via === "T0BETA" && !heldAt) {
        heldAt = Date.now();
        e.holdTeam("T0BETA", 2000);
      }
    });
    // One post a second in each workspace: a pace shared by all would put the Grid's posts after the hold.
    const s = await appFor(t.db, e, undefined, 60).delivery.deliverPeriod({ asOf: ASOF });
    expect(s.left).toBe(0);
    expect(heldAt).toBeGreaterThan(0);
    expect(last.get("T0BETA")! - heldAt).toBeGreaterThanOrEqual(1900);
    for (const team of ["T0ALPHA", "T0GRID1", "T0GRID3"]) expect(last.get(team)! - heldAt, team).toBeLessThan(1900);
  });

  it("a Retry-After past the run's bounds in one workspace leaves only its rows for a later run; the others are delivered", async () => {
    // Beta asks to wait ten minutes at its first post: longer than a run waits (5 min).
    e.on("call", (c: { method: string; via?: string }) => {
      if (c.method === "chat.postMessage" && c.via === "T0BETA") e.holdTeam("T0BETA", 10 * 60_000);
    });
    const app = appFor(t.db, e);
    const started = Date.now();
    const s = await app.delivery.deliverPeriod({ asOf: ASOF });
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(s.fatal).toBeNull();
    expect(s.rateLimitedTeams).toEqual(["T0BETA"]);
    const dms = dmsByEmail(e);
    for (const [email, where] of Object.entries(EXPECTED))
      expect(dms[email], email).toEqual(where.via === "T0BETA" ? undefined : [where]);
    // Beta's two DMs and its channel summary wait; nothing of theirs failed.
    expect(s.left).toBe(3);
    expect(s.tally?.failed).toEqual([]);
    expect(buildRunSummaryText(s, "UTC")).toContain("Slack asked one workspace (T0BETA) to wait 600 s");

    // The next tick of the same process does not post to Beta while its wait stands, nor wait for it.
    const betaPosts = () => e.calls.filter((c) => c.via === "T0BETA" && c.method === "chat.postMessage").length;
    const before = betaPosts();
    const again = await app.delivery.deliverPeriod({ asOf: ASOF });
    expect(betaPosts()).toBe(before);
    expect(again.left).toBe(3);

    // Once the wait is over, a run delivers Beta's rows: once each.
    e.holdTeam("T0BETA", 0);
    e.removeAllListeners("call");
    const later = await appFor(t.db, e).delivery.deliverPeriod({ asOf: ASOF });
    expect(later.left).toBe(0);
    for (const [email, where] of Object.entries(EXPECTED)) expect(dmsByEmail(e)[email], email).toEqual([where]);
  });

  it("uninstalled mid-period: that workspace's open rows close as uninstalled, nothing goes out with its token, the others are delivered", async () => {
    const app = appFor(t.db, e, undefined, 60);
    let removed: Promise<void> | null = null;
    // Beta is removed as its first post is on the way (held back by a 429, as a busy workspace's would be).
    e.on("call", (c: { method: string; via?: string }) => {
      if (c.method !== "chat.postMessage" || c.via !== "T0BETA" || removed) return;
      e.holdTeam("T0BETA", 1500);
      removed = app
        .link!.service.uninstalled({ teamId: "T0BETA", isEnterpriseInstall: false })
        .then(() => e.uninstall("T0BETA"));
    });
    const s = await app.delivery.deliverPeriod({ asOf: ASOF });
    await removed;
    expect(s.fatal).toBeNull();
    expect(s.left).toBe(0);
    const failed = Object.fromEntries((s.tally?.failed ?? []).map((f) => [f.recipient, f.error]));
    expect(failed).toEqual({
      "marcus@acme.example": "uninstalled",
      "olivia@acme.example": "uninstalled",
      lead: "uninstalled",
    });
    expect(e.calls.filter((c) => c.via === "T0BETA" && c.method === "chat.postMessage" && c.ok)).toEqual([]);
    const dms = dmsByEmail(e);
    expect(dms["dana@acme.example"]).toEqual([EXPECTED["dana@acme.example"]]);
    expect(dms["sam@acme.example"]).toEqual([EXPECTED["sam@acme.example"]]);
    const beta = await t.db("installations").where({ team_id: "T0BETA" }).first();
    expect(beta?.bot_token_sealed).toBeNull();
    expect(beta?.revoked_at).not.toBeNull();
  });

  it("status and the global admins' Home tab list the installations: name, id, since, managers reached, revoked", async () => {
    const app = appFor(t.db, e, undefined, 600, ["olivia@acme.example"]);
    await app.delivery.deliverPeriod({ asOf: ASOF });
    await app.link!.service.uninstalled({ teamId: "T0ALPHA", isEnterpriseInstall: false });
    const lines = buildInstallationLines(await app.link!.service.list(), "UTC");
    expect(lines).toEqual([
      "Installations:",
      "  Beta (T0BETA): workspace since 01-01-1970, 2 managers reached",
      expect.stringMatching(
        /^ {2}Alpha \(T0ALPHA\): workspace since 01-01-1970, 1 manager reached, revoked \d\d-\d\d-\d{4}$/,
      ),
      "  Acme Org (E0ACME): org since 01-01-1970, 1 manager reached",
    ]);
    const olivia = (await t.db("slack_users").where({ email: "olivia@acme.example" }).first())!.user_id!;
    const home = await app.link!.workspaces.within("T0BETA", () => app.surfaces.homeView(olivia));
    const text = JSON.stringify(home.blocks);
    expect(text).toContain("*Installations*");
    expect(text).toContain("*Beta* (T0BETA): workspace since");
    // A manager who is not a global admin does not see them.
    const sam = e.userIdOf("sam@acme.example")!;
    const samHome = await app.link!.workspaces.within(GRID, () => app.surfaces.homeView(sam));
    expect(JSON.stringify(samHome.blocks)).not.toContain("Installations");
  });

  it("an admin_channel #name found in two workspaces is not guessed: the program's admins are told", async () => {
    await e.stop();
    e = await company(t.db, [{ id: "C0000LEA2", name: "leadership-circle" }]);
    await t.db("installations").del();
    await install(t.db, e);
    const s = await appFor(t.db, e).delivery.deliverPeriod({ asOf: ASOF });
    const failed = Object.fromEntries((s.tally?.failed ?? []).map((f) => [f.recipient, f.error]));
    expect(failed).toEqual({ lead: "channel_name_in_several_workspaces" });
    expect(e.messages.filter((m) => m.channel === "C0000LEAD" || m.channel === "C0000LEA2")).toEqual([]);
    // The Leadership Circle's admins (Olivia, Grace) each get the notice, in their own workspace.
    const notices = e.messages.filter((m) => m.text.includes("channel_name_in_several_workspaces"));
    expect(notices.map((m) => emailOfUser.get(m.user ?? "")).sort()).toEqual([
      "grace@acme.example",
      "olivia@acme.example",
    ]);
    expect(notices.map((m) => m.team).sort()).toEqual(["T0BETA", "T0GRID1"]);
  });

  it("many unknown emails: every installation pages its users at once, and an email in two is the oldest one's", async () => {
    await e.stop();
    const people = Array.from({ length: 40 }, (_, i) => ({ id: `U${i}`, email: `p${i}@acme.example`, name: `P${i}` }));
    e = await new SlackEmulator({
      workspaces: [
        { teamId: "T0ALPHA", name: "Alpha", users: [...people.slice(0, 20), { ...people[39]!, id: "UA39" }] },
        { teamId: "T0BETA", name: "Beta", users: people.slice(20) },
      ],
      org: { enterpriseId: GRID, name: "Acme Org" },
    }).start();
    await t.db("installations").del();
    await install(t.db, e);
    const got = await appFor(t.db, e).directory.resolve([...people.map((p) => p.email), "nobody@acme.example"]);
    expect(got.get("p0@acme.example")).toEqual({ userId: "U0", team: "T0ALPHA" });
    expect(got.get("p25@acme.example")).toEqual({ userId: "U25", team: "T0BETA" });
    // In both: Beta was installed first.
    expect(got.get("p39@acme.example")).toEqual({ userId: "U39", team: "T0BETA" });
    expect(got.get("nobody@acme.example")).toEqual({ problem: "not_in_slack" });
    expect(new Set(e.callsOf("users.list").map((c) => c.via))).toEqual(new Set(["T0ALPHA", "T0BETA"]));
    // The org (no workspaces here) is asked which workspaces it has, each listed with its team_id.
    expect(e.callsOf("auth.teams.list").map((c) => c.via)).toEqual([GRID]);
    expect(e.callsOf("users.lookupByEmail")).toEqual([]);
  });

  it("local-time delivery (the default) sends each DM in its manager's workspace too", async () => {
    const app = appFor(t.db, e, undefined, 600, [], "local");
    // A day past the period's start: every zone's 09:00 has come.
    await app.delivery.deliverDue({ asOf: parseInstant("2026-03-03T12:00", "UTC")! });
    const dms = dmsByEmail(e);
    for (const [email, where] of Object.entries(EXPECTED)) expect(dms[email], email).toEqual([where]);
  });

  it("exactly once across two instances with two workspaces and an org", async () => {
    const [a, b] = [appFor(t.db, e, "one"), appFor(t.db, e, "two")];
    await Promise.all([a.delivery.deliverPeriod({ asOf: ASOF }), b.delivery.deliverPeriod({ asOf: ASOF })]);
    const dms = dmsByEmail(e);
    for (const [email, where] of Object.entries(EXPECTED)) expect(dms[email], email).toEqual([where]);
    expect(e.messages.filter((m) => !m.user)).toHaveLength(2);
  });
});
