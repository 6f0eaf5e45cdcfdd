import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, inject, it } from "vitest";
import { SIZES, writeCompany } from "../../src/bench/synthetic.js";
import type { Db } from "../../src/db/knex.js";
import { type EmulatedUser, SlackEmulator } from "../../src/emulator/server.js";
import { importDirectory } from "../../src/import/import-service.js";
import { cli, cliAsync } from "../helpers/cli.js";
import { ENGINES, freshDb, type TestDb } from "../helpers/db.js";
import { SAMPLE } from "../helpers/files.js";
import { type Served, startServe } from "../helpers/serve.js";
import { SAMPLE_CHANNELS } from "../helpers/slack.js";

const CLOCK = ["--import", fileURLToPath(new URL("../helpers/clock-offset.mjs", import.meta.url))];
const Z = (iso: string) => Date.parse(iso);
/** The environment of a `serve` whose clock reads `at`. */
const at = (iso: string) => ({ TEST_CLOCK_OFFSET_MS: String(Z(iso) - Date.now()) });

async function usersOf(db: Db, tz: (email: string, i: number) => string | undefined): Promise<EmulatedUser[]> {
  const people: Array<{ email: string; name: string }> = await db("people").select("email", "name").orderBy("email");
  return people.map((p, i) => ({
    id: `U${String(i + 1).padStart(8, "0")}`,
    email: p.email,
    name: p.name,
    tz: tz(p.email, i),
  }));
}

const perRecipient = (e: SlackEmulator) => {
  const out = new Map<string, number>();
  for (const m of e.messages) out.set(m.user ?? m.channel, (out.get(m.user ?? m.channel) ?? 0) + 1);
  return out;
};

async function until(what: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await what())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 200));
  }
}

const openDueBy = async (db: Db, t: number) =>
  Number(
    (
      await db("deliveries")
        .where("period_id", "2026-03-02")
        .whereIn("state", ["pending", "sending"])
        .where("due_at", "<=", t)
        .count({ n: "*" })
        .first()
    )?.n ?? 0,
  );

describe.each(ENGINES)("serve in local time, killed between two waves (%s)", (engine) => {
  let t: TestDb;
  let emulator: SlackEmulator;
  const served: Served[] = [];
  beforeEach(async () => {
    t = await freshDb(engine);
    expect((await importDirectory(t.db, SAMPLE, { zone: "UTC" })).ok).toBe(true);
    // The period before is done; the test watches the waves of the one that begins on 2026-03-02.
    await t.db("delivery_periods").insert({ period_id: "2026-02-16", completed_at: 0 });
    // Sam's Slack profile says Auckland (the roster says Chicago): 09:00 there is 20:00 UTC the day before.
    const users = await usersOf(t.db, (e) => (e === "sam@acme.example" ? "Pacific/Auckland" : undefined));
    emulator = await new SlackEmulator({ users, channels: SAMPLE_CHANNELS }).start();
  });
  afterEach(async () => {
    for (const s of served.splice(0)) if (s.child.exitCode === null && !s.child.killed) s.child.kill("SIGKILL");
    await emulator.stop();
    await t.drop();
  });

  it("send --due delivers only what is due by --as-of; send without --due delivers everyone at once", async () => {
    const env = { DATABASE_URL: t.url, SLACK_BOT_TOKEN: emulator.token, SLACK_API_URL: emulator.url };
    // Async: the emulator runs in this process and must answer while the CLI waits on it.
    let r = await cliAsync(["send", "--due", "--as-of", "2026-03-01T19:00:00Z"], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Nothing due yet. The period's first wave is at 03-01-2026 20:00 UTC.");
    expect(emulator.messages).toHaveLength(0);
    r = await cliAsync(["send", "--due", "--as-of", "2026-03-02T08:00:00Z"], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/DMs: +2 planned · 2 delivered now/);
    expect(r.stdout).toContain("3 waiting for their local time; the next wave at 03-02-2026 09:00 UTC.");
    expect(emulator.messages).toHaveLength(2);
    r = await cliAsync(["send", "--as-of", "2026-03-02T08:00:00Z"], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Period complete.");
    expect([...perRecipient(emulator).values()]).toEqual([1, 1, 1, 1, 1]);
  });

  it("SIGKILL after the morning waves, a restart after Chicago's 09:00: each manager and channel once", async () => {
    const env = {
      DATABASE_URL: t.url,
      SLACK_BOT_TOKEN: emulator.token,
      SLACK_API_URL: emulator.url,
      REPORT_SCHEDULE: "0 9 * * 1",
      DELIVERY_LEASE_SECONDS: "2",
    };
    // A period delivered before (§17: a fresh database's first serve leaves the begun period to `send`).
    expect((await cliAsync(["send", "--as-of", "2026-02-16T12:00:00Z"], env)).code).toBe(0);
    emulator.messages.splice(0);
    // 10:00 UTC: Auckland (20:00 the day before), Berlin (08:00) and the channels (09:00 UTC) are due; Chicago is not.
    const first = await startServe({ ...env, ...at("2026-03-02T10:00:00Z") }, CLOCK);
    served.push(first);
    await until(async () => emulator.messages.length >= 4 && (await openDueBy(t.db, Z("2026-03-02T10:00:00Z"))) === 0);
    const status = cli(["status", "--as-of", "2026-03-02T10:00:00Z"], { DATABASE_URL: t.url });
    expect(status.stdout).toMatch(/delivered 4 · waiting for local time 1 \(next wave 03-02-2026 15:00 UTC\)/);
    first.child.kill("SIGKILL");
    await new Promise((r) => first.child.once("exit", r));
    expect(emulator.messages).toHaveLength(4);

    const again = await startServe({ ...env, ...at("2026-03-02T15:05:00Z") }, CLOCK);
    served.push(again);
    await until(async () => !!(await t.db("delivery_periods").where({ period_id: "2026-03-02" }).first()));
    await again.stop();
    expect(emulator.messages).toHaveLength(5);
    expect([...perRecipient(emulator).values()]).toEqual([1, 1, 1, 1, 1]);
  });
});

const PG = inject("pgUrl");
const RATE = 1200;
const ZONES = ["Pacific/Auckland", "Asia/Kolkata", "Europe/Berlin", "UTC", "America/New_York", "America/Los_Angeles"];

describe.skipIf(!PG)("three serve processes on one PostgreSQL, across waves", () => {
  let t: TestDb;
  let emulator: SlackEmulator;
  const served: Served[] = [];
  beforeEach(async () => {
    const dir = mkdtempSync(join(tmpdir(), "mr-co-"));
    await writeCompany(dir, { ...SIZES.small, bigTeam: 0 });
    t = await freshDb("pg");
    expect((await importDirectory(t.db, dir, { zone: "UTC" })).ok).toBe(true);
    await t.db("delivery_periods").insert({ period_id: "2026-02-16", completed_at: 0 });
    emulator = await new SlackEmulator({
      users: await usersOf(t.db, (_e, i) => ZONES[i % ZONES.length]),
      channels: ["eng", "lead", "buddy"].map((p) => ({ id: `C${p.toUpperCase()}`, name: `mentorship-${p}` })),
      responseDelayMs: 15,
      methodLimits: { "chat.postMessage": RATE },
    }).start();
  });
  afterEach(async () => {
    for (const s of served.splice(0)) if (s.child.exitCode === null && !s.child.killed) s.child.kill("SIGKILL");
    await emulator.stop();
    await t.drop();
  });

  it("each manager once, each wave at its time, and the workspace rate shared (few 429s)", async () => {
    const env = {
      DATABASE_URL: t.url,
      SLACK_BOT_TOKEN: emulator.token,
      SLACK_API_URL: emulator.url,
      REPORT_SCHEDULE: "0 9 * * 1",
      DELIVERY_LEASE_SECONDS: "2",
      DELIVERY_RATE_PER_MINUTE: String(RATE),
    };
    // 08:30 UTC: Auckland's, Kolkata's and Berlin's waves are due, the others wait.
    const morning = Z("2026-03-02T08:30:00Z");
    const three = () =>
      Promise.all([0, 1, 2].map(() => startServe({ ...env, ...at(new Date(morning).toISOString()) }, CLOCK)));
    let instances = await three();
    served.push(...instances);
    // Planned in full (a batch at a time, by any of the three), and nothing due by 08:30 still open.
    await until(
      async () =>
        (await t.db("settings").where({ key: "planned:2026-03-02" }).first()) !== undefined &&
        (await openDueBy(t.db, morning)) === 0,
      90_000,
    );
    await Promise.all(instances.map((s) => s.stop()));
    // Not complete: later waves wait, whichever instance planned and whichever ran out of due rows first.
    expect(await t.db("delivery_periods").where({ period_id: "2026-03-02" }).first()).toBeUndefined();
    const early = emulator.messages.filter((m) => m.user).length;
    const waiting: Array<{ due_at: string }> = await t
      .db("deliveries")
      .where({ kind: "dm", state: "pending" })
      .select("due_at");
    expect(early).toBeGreaterThan(20);
    expect(waiting.length).toBeGreaterThan(20);
    expect(waiting.every((r) => Number(r.due_at) > morning)).toBe(true);

    // 18:00 UTC: the rest, by three new instances.
    instances = await Promise.all([0, 1, 2].map(() => startServe({ ...env, ...at("2026-03-02T18:00:00Z") }, CLOCK)));
    served.push(...instances);
    await until(async () => !!(await t.db("delivery_periods").where({ period_id: "2026-03-02" }).first()), 90_000);
    await Promise.all(instances.map((s) => s.stop()));

    const delivered = Number(
      (await t.db("deliveries").where({ kind: "dm", state: "delivered" }).count({ n: "*" }).first())?.n,
    );
    const per = perRecipient(emulator);
    const dms = [...per].filter(([k]) => k.startsWith("U"));
    expect(dms.length).toBe(delivered);
    expect(dms.every(([, n]) => n === 1)).toBe(true);
    expect(delivered).toBe(early + waiting.length);
    const posts = emulator.callsOf("chat.postMessage");
    expect(posts.filter((c) => c.status === 429).length / posts.length).toBeLessThan(0.1);
    const owners = await t.db("deliveries").where({ state: "delivered" }).distinct("owner").pluck("owner");
    expect(owners.length).toBeGreaterThanOrEqual(2);
  });
});
