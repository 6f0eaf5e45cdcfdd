import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { SIZES, writeCompany } from "../../src/bench/synthetic.js";
import { SlackEmulator } from "../../src/emulator/server.js";
import { importDirectory } from "../../src/import/import-service.js";
import { freshDb, type TestDb } from "../helpers/db.js";
import { periodBeforeNow, type Served, startServe } from "../helpers/serve.js";

const PG = inject("pgUrl");
/** The workspace's limit, and each instance's setting: together they must share it, not triple it. */
const RATE = 1200;
/** A period long done: with it, the first start catches up today's (§17). */
const EARLIER = periodBeforeNow();

/** DMs per user: every value must be exactly 1. */
const dmsPerUser = (e: SlackEmulator) => {
  const out = new Map<string, number>();
  for (const m of e.messages) if (m.user) out.set(m.user, (out.get(m.user) ?? 0) + 1);
  return out;
};

describe.skipIf(!PG)("three serve processes on one PostgreSQL", () => {
  let t: TestDb;
  let emulator: SlackEmulator;
  let expected = 0;
  const served: Served[] = [];

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "mr-co-"));
    await writeCompany(dir, { ...SIZES.small, bigTeam: 0 });
    t = await freshDb("pg");
    expect((await importDirectory(t.db, dir, { zone: "UTC" })).ok).toBe(true);
    const people: Array<{ email: string; name: string }> = await t.db("people").select("email", "name");
    emulator = await new SlackEmulator({
      users: people.map((p, i) => ({ id: `U${i}`, email: p.email, name: p.name })),
      channels: ["eng", "lead", "buddy"].map((p) => ({ id: `C${p.toUpperCase()}`, name: `mentorship-${p}` })),
      responseDelayMs: 15,
      methodLimits: { "chat.postMessage": RATE },
    }).start();
  });
  afterAll(async () => {
    for (const s of served) if (s.child.exitCode === null && !s.child.killed) await s.stop();
    await emulator.stop();
    await t.drop();
  });

  it("catch up at the same moment: each manager gets one DM, and a killed instance's share is taken over", async () => {
    const env = {
      DATABASE_URL: t.url,
      SLACK_BOT_TOKEN: emulator.token,
      SLACK_API_URL: emulator.url,
      REPORT_SCHEDULE: "0 9 * * 1",
      DELIVERY_LEASE_SECONDS: "2",
      DELIVERY_RATE_PER_MINUTE: String(RATE),
    };
    // Today's period began before now and the one before it was delivered, so each process delivers at
    // start (catch-up), all three at once.
    await t.db("delivery_periods").insert({ period_id: EARLIER, completed_at: 0 });
    const started = await Promise.all([startServe(env), startServe(env), startServe(env)]);
    served.push(...started);
    // Kill, in the middle of its share, an instance that holds claims (owner ids start with the pid).
    await new Promise<void>((resolve) => {
      const onMsg = () => {
        if (emulator.messages.length >= 40) {
          emulator.off("message", onMsg);
          resolve();
        }
      };
      emulator.on("message", onMsg);
    });
    const holders: Array<string | null> = await t
      .db("deliveries")
      .whereNotNull("claim")
      .distinct("owner")
      .pluck("owner");
    const victim = started.find((s) => holders.some((o) => o?.startsWith(`${s.child.pid}-`))) ?? started[0]!;
    victim.child.kill("SIGKILL");
    // Wait until the ledger says the period is complete.
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      const done = await t.db("delivery_periods").whereNot({ period_id: EARLIER }).first();
      if (done) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(await t.db("delivery_periods").whereNot({ period_id: EARLIER }).count({ n: "*" }).first()).toEqual({ n: 1 });
    const ledger = await t.db("deliveries").where({ kind: "dm" }).select("state").count({ n: "*" }).groupBy("state");
    expected = Number(ledger.find((r) => r.state === "delivered")?.n ?? 0);
    expect(expected).toBeGreaterThan(100);
    const per = dmsPerUser(emulator);
    expect(per.size).toBe(expected);
    expect([...per.values()].every((n) => n === 1)).toBe(true);
    // Every post went out once in all; the channels too.
    const channelPosts = emulator.messages
      .filter((m) => !m.user)
      .map((m) => m.channel)
      .sort();
    expect(channelPosts).toEqual(["CBUDDY", "CENG", "CLEAD"]);
    // Three instances shared the workspace's rate instead of each posting at it: few 429s.
    const posts = emulator.callsOf("chat.postMessage");
    const limited = posts.filter((c) => c.status === 429).length;
    expect(limited / posts.length).toBeLessThan(0.1);
    // The work was shared: more than one instance delivered.
    const owners = await t.db("deliveries").where({ state: "delivered" }).distinct("owner").pluck("owner");
    expect(owners.length).toBeGreaterThanOrEqual(2);
    // The two survivors are still up and healthy.
    for (const s of started.filter((x) => x !== victim)) expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
  });
});
