import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigError, installModeOf, loadConfig } from "../../src/config.js";
import { createInstallationStore, type InstallationRepo } from "../../src/db/installation-repo.js";
import { createTokenCipher } from "../../src/db/token-cipher.js";
import { ENGINES, freshDb, type TestDb } from "../helpers/db.js";

const KEY = randomBytes(32).toString("base64");
const TOKEN = `xoxb-${randomBytes(12).toString("hex")}`;

const workspace = (teamId: string, token: string, enterpriseId?: string) => ({
  team: { id: teamId, name: `Team ${teamId}` },
  enterprise: enterpriseId ? { id: enterpriseId, name: "Acme Org" } : undefined,
  user: { id: "U0INSTALLER", token: undefined, scopes: undefined },
  bot: { token, scopes: ["chat:write", "commands"], id: "B1", userId: "U0BOT" },
  isEnterpriseInstall: false,
  appId: "A1",
  tokenType: "bot" as const,
  authVersion: "v2" as const,
});

describe.each(ENGINES)("installations on %s", (engine) => {
  let t: TestDb;
  let store: InstallationRepo;
  let clock = 1_000;
  beforeEach(async () => {
    t = await freshDb(engine);
    clock = 1_000;
    store = createInstallationStore(t.db, createTokenCipher(KEY), () => clock);
  });
  afterEach(async () => t.drop());

  it("keeps the bot token sealed: the database holds no readable token, and Bolt gets it back", async () => {
    await store.storeInstallation(workspace("T1", TOKEN));
    const got = await store.fetchInstallation({ teamId: "T1", enterpriseId: undefined, isEnterpriseInstall: false });
    expect(got.bot?.token).toBe(TOKEN);
    expect(got.team?.id).toBe("T1");

    const rows = await t.db("installations").select();
    expect(JSON.stringify(rows)).not.toContain(TOKEN);
    expect(JSON.stringify(rows)).not.toContain(TOKEN.slice(5));
    if (engine === "sqlite") {
      // Closed first, so that nothing is left in the write-ahead log: the file is all there is.
      await t.db.destroy();
      const bytes = readFileSync(t.url);
      expect(bytes.includes(Buffer.from("T1"))).toBe(true);
      expect(bytes.includes(Buffer.from(TOKEN.slice(5)))).toBe(false);
    } else {
      // What a dump of the table would show.
      const c = new pg.Client(t.url);
      await c.connect();
      const dump = await c.query("select * from installations");
      await c.end();
      expect(JSON.stringify(dump.rows)).not.toContain(TOKEN.slice(5));
    }
  });

  it("a sealed token does not open with another key, nor moved to another installation's row", async () => {
    await store.storeInstallation(workspace("T1", TOKEN));
    await store.storeInstallation(workspace("T2", "xoxb-other"));
    const other = createInstallationStore(t.db, createTokenCipher(randomBytes(32).toString("base64")));
    await expect(
      other.fetchInstallation({ teamId: "T1", enterpriseId: undefined, isEnterpriseInstall: false }),
    ).rejects.toThrow(/TOKEN_ENCRYPTION_KEY/);
    const sealed = (await t.db("installations").where({ team_id: "T1" }).first())!.bot_token_sealed;
    await t.db("installations").where({ team_id: "T2" }).update({ bot_token_sealed: sealed });
    await expect(
      store.fetchInstallation({ teamId: "T2", enterpriseId: undefined, isEnterpriseInstall: false }),
    ).rejects.toThrow(/does not open/);
  });

  it("an org-wide install serves every workspace of its org; an unknown team is not installed", async () => {
    await store.storeInstallation({
      team: undefined,
      enterprise: { id: "E1", name: "Acme Org" },
      user: { id: "U0INSTALLER", token: undefined, scopes: undefined },
      bot: { token: "xoxb-org", scopes: ["chat:write"], id: "B2", userId: "U0BOT" },
      isEnterpriseInstall: true,
      appId: "A1",
      tokenType: "bot",
      authVersion: "v2",
    });
    const viaWorkspace = await store.fetchInstallation({ teamId: "T7", enterpriseId: "E1", isEnterpriseInstall: true });
    expect(viaWorkspace.bot?.token).toBe("xoxb-org");
    expect(viaWorkspace.isEnterpriseInstall).toBe(true);
    await expect(
      store.fetchInstallation({ teamId: "T9", enterpriseId: undefined, isEnterpriseInstall: false }),
    ).rejects.toThrow(/not installed/);
    await expect(
      store.fetchInstallation({ teamId: "T9", enterpriseId: "E2", isEnterpriseInstall: false }),
    ).rejects.toThrow(/not installed/);
  });

  it("uninstalling erases the token and keeps the row as revoked; a reinstall brings it back, since unchanged", async () => {
    await store.storeInstallation(workspace("T1", TOKEN));
    clock = 2_000;
    await store.deleteInstallation({ teamId: "T1", enterpriseId: undefined, isEnterpriseInstall: false });
    const row = await t.db("installations").where({ team_id: "T1" }).first();
    expect(row?.bot_token_sealed).toBeNull();
    expect(Number(row?.revoked_at)).toBe(2_000);
    await expect(
      store.fetchInstallation({ teamId: "T1", enterpriseId: undefined, isEnterpriseInstall: false }),
    ).rejects.toThrow(/not installed/);
    expect(await store.live()).toEqual([]);

    clock = 3_000;
    await store.storeInstallation(workspace("T1", "xoxb-new"));
    const [again] = await store.live();
    expect(again).toMatchObject({ teamId: "T1", token: "xoxb-new", installedAt: 1_000, revokedAt: null });
  });

  it("lists installations oldest first", async () => {
    clock = 5;
    await store.storeInstallation(workspace("T2", "xoxb-2"));
    clock = 9;
    await store.storeInstallation(workspace("T1", "xoxb-1"));
    expect((await store.list()).map((i) => i.teamId)).toEqual(["T2", "T1"]);
  });
});

describe("install-from-link settings", () => {
  it("TOKEN_ENCRYPTION_KEY must be 32 bytes of base64, and its value is never echoed", () => {
    expect(loadConfig({ TOKEN_ENCRYPTION_KEY: KEY }).TOKEN_ENCRYPTION_KEY).toBe(KEY);
    for (const bad of ["short", randomBytes(16).toString("base64"), "not base64 at all!!"]) {
      let message = "";
      try {
        loadConfig({ TOKEN_ENCRYPTION_KEY: bad });
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        message = (err as Error).message;
      }
      expect(message).toMatch(/TOKEN_ENCRYPTION_KEY: must be 32 random bytes in base64/);
      expect(message).not.toContain(bad);
    }
  });

  it("the link needs all four variables; SLACK_BOT_TOKEN alone stays the one-workspace default", () => {
    const all = {
      SLACK_CLIENT_ID: "1.2",
      SLACK_CLIENT_SECRET: "s",
      SLACK_STATE_SECRET: "st",
      TOKEN_ENCRYPTION_KEY: KEY,
    };
    expect(installModeOf(loadConfig({ SLACK_BOT_TOKEN: "xoxb-1" }))).toBe("token");
    expect(installModeOf(loadConfig({}))).toBe("token");
    expect(installModeOf(loadConfig(all))).toBe("link");
    expect(() => installModeOf(loadConfig({ ...all, SLACK_STATE_SECRET: "" }))).toThrow(/missing: SLACK_STATE_SECRET/);
  });
});
