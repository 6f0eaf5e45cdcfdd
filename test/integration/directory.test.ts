import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SlackEmulator } from "../../src/emulator/server.js";
import { createLogger } from "../../src/logger.js";
import { createDirectory } from "../../src/slack/directory.js";
import { ENGINES, freshDb, type TestDb } from "../helpers/db.js";
import { slackFor } from "../helpers/slack.js";

const users = Array.from({ length: 2500 }, (_, i) => ({
  id: `U${i}`,
  email: `user.${i}@x.io`,
  name: `User ${i}`,
  deleted: i % 100 === 7,
}));

describe.each(ENGINES)("the Slack directory (%s)", (engine) => {
  let t: TestDb;
  let e: SlackEmulator;
  let clock = 1_000_000;
  beforeEach(async () => {
    t = await freshDb(engine);
    e = await new SlackEmulator({ users }).start();
  });
  afterEach(async () => {
    await e.stop();
    await t.drop();
  });
  const directory = () =>
    createDirectory({ db: t.db, slack: slackFor(e), log: createLogger("silent"), now: () => clock });

  it("resolves many emails with paginated users.list (1,000 a page) and no lookups", async () => {
    const wanted = [...users.slice(0, 300).map((u) => u.email), "nobody@x.io"];
    const r = await directory().resolve(wanted.map((w) => w.toUpperCase()));
    expect(e.callsOf("users.list")).toHaveLength(3);
    expect(e.callsOf("users.lookupByEmail")).toHaveLength(0);
    expect(r.get("user.1@x.io")).toEqual({ userId: "U1" });
    expect(r.get("user.7@x.io")).toEqual({ problem: "deactivated" });
    expect(r.get("nobody@x.io")).toEqual({ problem: "not_in_slack" });
  });

  it("looks up a few misses one by one, serves known users from the cache and asks again about misses", async () => {
    const r = await directory().resolve(["user.1@x.io", "user.2@x.io", "ghost@x.io"]);
    expect(e.callsOf("users.lookupByEmail")).toHaveLength(3);
    expect(e.callsOf("users.list")).toHaveLength(0);
    expect(r.get("ghost@x.io")).toEqual({ problem: "not_in_slack" });
    await directory().resolve(["user.1@x.io", "user.2@x.io", "ghost@x.io"]);
    expect(e.callsOf("users.lookupByEmail").map((c) => c.params.email)).toEqual([
      "user.1@x.io",
      "user.2@x.io",
      "ghost@x.io",
      "ghost@x.io",
    ]);
    // The ghost joins Slack: the next run finds them.
    e.setUsers([...users, { id: "UGHOST", email: "ghost@x.io", name: "Ghost" }]);
    expect((await directory().resolve(["ghost@x.io"])).get("ghost@x.io")).toEqual({ userId: "UGHOST" });
    // Still fresh a day later (a period's waves span 27 hours), stale after a day and a half.
    clock += 25 * 3600 * 1000;
    await directory().resolve(["user.1@x.io"]);
    expect(e.callsOf("users.lookupByEmail")).toHaveLength(5);
    clock += 12 * 3600 * 1000;
    await directory().resolve(["user.1@x.io"]);
    expect(e.callsOf("users.lookupByEmail")).toHaveLength(6);
  });

  it("waits out users.list's rate limit (Tier 2) instead of failing", async () => {
    await e.stop();
    e = await new SlackEmulator({ users, methodLimits: { "users.list": 120 } }).start();
    const r = await directory().resolve(users.slice(0, 100).map((u) => u.email));
    expect(e.callsOf("users.list").filter((c) => c.status === 429).length).toBeGreaterThan(0);
    expect(r.get("user.99@x.io")).toEqual({ userId: "U99" });
  });

  it("keeps each user's Slack zone (users.list and users.lookupByEmail), and a manager's zone falls back to the roster's, then REPORT_TIMEZONE", async () => {
    e.setUsers([
      { id: "UTOKYO", email: "tokyo@x.io", name: "T", tz: "Asia/Tokyo" },
      { id: "UNOTZ", email: "nozone@x.io", name: "N" },
      ...users,
    ]);
    await t.db("people").insert([
      { email: "tokyo@x.io", name: "T", organization: "", timezone: "Europe/Berlin" },
      { email: "nozone@x.io", name: "N", organization: "", timezone: "America/Chicago" },
      { email: "nowhere@x.io", name: "W", organization: "", timezone: null },
      { email: "mentor.1@x.io", name: "M1", organization: "", manager_email: "tokyo@x.io" },
      { email: "mentor.2@x.io", name: "M2", organization: "", manager_email: "nozone@x.io" },
      { email: "mentor.3@x.io", name: "M3", organization: "", manager_email: "nowhere@x.io" },
    ]);
    const d = directory();
    // Before any read of Slack: the roster's zone, else REPORT_TIMEZONE.
    expect(Object.fromEntries(await d.managerZones("Europe/Paris"))).toEqual({
      "tokyo@x.io": "Europe/Berlin",
      "nozone@x.io": "America/Chicago",
      "nowhere@x.io": "Europe/Paris",
    });
    expect(await d.refreshManagers()).toBe(3);
    expect(e.callsOf("users.lookupByEmail")).toHaveLength(3);
    expect((await d.resolve(["tokyo@x.io"])).get("tokyo@x.io")).toEqual({ userId: "UTOKYO", tz: "Asia/Tokyo" });
    // The Slack profile wins over the roster.
    expect(Object.fromEntries(await d.managerZones("Europe/Paris"))).toEqual({
      "tokyo@x.io": "Asia/Tokyo",
      "nozone@x.io": "America/Chicago",
      "nowhere@x.io": "Europe/Paris",
    });
    // Through users.list too, and a refresh asks Slack again even when the cache is fresh.
    e.setUsers([{ id: "UTOKYO", email: "tokyo@x.io", name: "T", tz: "America/Sao_Paulo" }, ...users]);
    await d.resolve([...users.slice(0, 30).map((u) => u.email), "tokyo@x.io"], { refresh: true });
    expect(e.callsOf("users.list").length).toBeGreaterThan(0);
    expect((await d.managerZones("UTC")).get("tokyo@x.io")).toBe("America/Sao_Paulo");
  });

  it("refreshes once per period ahead of its first wave, whichever instance comes first, and again after a failure", async () => {
    await t.db("people").insert([
      { email: "user.1@x.io", name: "M", organization: "" },
      { email: "mentor@x.io", name: "N", organization: "", manager_email: "user.1@x.io" },
    ]);
    const a = directory();
    const b = directory();
    expect(await a.refreshOnceFor("2026-01-05", "a")).toBe(true);
    expect(await b.refreshOnceFor("2026-01-05", "b")).toBe(false);
    expect(await a.refreshOnceFor("2026-01-05", "a2")).toBe(false);
    expect(e.callsOf("users.lookupByEmail")).toHaveLength(1);
    await e.stop();
    await expect(b.refreshOnceFor("2026-01-19", "b")).rejects.toThrow();
    e = await new SlackEmulator({ users }).start();
    const c = createDirectory({
      db: t.db,
      slack: slackFor(e),
      log: createLogger("silent"),
      now: () => clock,
      retryBaseMs: 1,
    });
    expect(await c.refreshOnceFor("2026-01-19", "c")).toBe(true);
  });
});
