import { WebClient } from "@slack/web-api";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SlackEmulator } from "../../src/emulator/server.js";
import { classify } from "../../src/slack/client.js";
import { slackFor } from "../helpers/slack.js";

const user = (id: string, email: string) => ({ id, email, name: id });

describe("the emulator hosts several workspaces and a Grid org", () => {
  let e: SlackEmulator;
  beforeEach(async () => {
    e = await new SlackEmulator({
      users: [user("U0DEFAULT", "d@acme.example")],
      workspaces: [
        {
          teamId: "T1",
          name: "Alpha",
          users: [user("UA1", "a@acme.example")],
          channels: [{ id: "CA1", name: "alpha" }],
        },
        { teamId: "T2", name: "Beta", users: [user("UB1", "b@acme.example")] },
        { teamId: "TG1", name: "Grid One", enterpriseId: "E1", users: [user("UG1", "g1@acme.example")] },
        { teamId: "TG2", name: "Grid Two", enterpriseId: "E1", users: [user("UG2", "g2@acme.example")] },
      ],
      org: { enterpriseId: "E1", name: "Acme Org" },
      methodLimits: { "users.info": 60 },
    }).start();
  });
  afterEach(async () => e.stop());

  it("each token sees its own workspace's users, and posts land there", async () => {
    const alpha = slackFor(e, e.tokenFor("T1"));
    expect((await alpha.users.lookupByEmail({ email: "a@acme.example" })).user?.id).toBe("UA1");
    await expect(alpha.users.lookupByEmail({ email: "b@acme.example" })).rejects.toMatchObject({
      data: { error: "users_not_found" },
    });
    await expect(slackFor(e).users.lookupByEmail({ email: "a@acme.example" })).rejects.toThrow();
    await alpha.chat.postMessage({ channel: "UA1", text: "hi" });
    expect(e.messages.at(-1)).toMatchObject({ team: "T1", via: "T1", user: "UA1" });
    await expect(alpha.chat.postMessage({ channel: "UB1", text: "hi" })).rejects.toMatchObject({
      data: { error: "channel_not_found" },
    });
    expect((await alpha.auth.test()).team_id).toBe("T1");
  });

  it("an org token looks people up org-wide, lists a workspace only when told which, and names its teams", async () => {
    const org = slackFor(e, e.tokenFor("E1"));
    expect((await org.users.lookupByEmail({ email: "g2@acme.example" })).user?.id).toBe("UG2");
    await expect(org.users.list({})).rejects.toMatchObject({ data: { error: "missing_argument" } });
    const two = await org.users.list({ team_id: "TG2" });
    expect(two.members?.map((m) => m.id)).toEqual(["UG2"]);
    expect((await org.auth.teams.list({})).teams?.map((t) => t.id)).toEqual(["TG1", "TG2"]);
    const who = await org.auth.test();
    expect(who).toMatchObject({ enterprise_id: "E1", is_enterprise_install: true });
    await org.chat.postMessage({ channel: "UG1", text: "hi" });
    expect(e.messages.at(-1)).toMatchObject({ team: "TG1", via: "E1" });
  });

  it("rate limits are per workspace: one workspace at its limit does not hold another", async () => {
    const alpha = slackFor(e, e.tokenFor("T1"));
    const beta = slackFor(e, e.tokenFor("T2"));
    await alpha.users.info({ user: "UA1" });
    const second = await alpha.users.info({ user: "UA1" }).catch((err) => classify(err));
    expect(second).toMatchObject({ kind: "ratelimited" });
    expect((await beta.users.info({ user: "UB1" })).ok).toBe(true);
  });

  it("oauth.v2.access trades a code once for the workspace's token; an uninstall revokes it", async () => {
    const code = e.authorizeCode("T2");
    const noToken = new WebClient(undefined, { slackApiUrl: e.url, retryConfig: { retries: 0 } });
    const wrong = await noToken.oauth.v2
      .access({ code, client_id: "1111.2222", client_secret: "nope" })
      .catch((err) => err.data.error);
    expect(wrong).toBe("bad_client_secret");
    const again = e.authorizeCode("T2");
    const r = await noToken.oauth.v2.access({
      code: again,
      client_id: "1111.2222",
      client_secret: "emulator-client-secret",
    });
    expect(r).toMatchObject({
      access_token: e.tokenFor("T2"),
      team: { id: "T2", name: "Beta" },
      is_enterprise_install: false,
    });
    const replay = await noToken.oauth.v2
      .access({ code: again, client_id: "1111.2222", client_secret: "emulator-client-secret" })
      .catch((err) => err.data.error);
    expect(replay).toBe("invalid_code");
    const org = await noToken.oauth.v2.access({
      code: e.authorizeCode("E1"),
      client_id: "1111.2222",
      client_secret: "emulator-client-secret",
    });
    expect(org).toMatchObject({ team: null, enterprise: { id: "E1" }, is_enterprise_install: true });

    e.uninstall("T2");
    await expect(slackFor(e, e.tokenFor("T2")).auth.test()).rejects.toMatchObject({
      data: { error: "token_revoked" },
    });
    expect((await slackFor(e, e.tokenFor("T1")).auth.test()).ok).toBe(true);
  });

  it("requests from a workspace's user carry its team, and the org's when installed org-wide", () => {
    expect(e.slashCommandFields("UA1", "")).toMatchObject({ team_id: "T1" });
    expect(e.slashCommandFields("UG1", "")).toMatchObject({
      team_id: "TG1",
      enterprise_id: "E1",
      is_enterprise_install: "true",
    });
    expect(e.slashCommandFields("U0DEFAULT", "").team_id).toBe("T0EMULATED");
  });
});
