import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIG_MANAGER, SIZES, writeCompany } from "../../src/bench/synthetic.js";
import { SlackEmulator } from "../../src/emulator/server.js";
import { importDirectory } from "../../src/import/import-service.js";
import { ENGINES, freshDb, type TestDb } from "../helpers/db.js";
import { postCommand, type Served, startServe } from "../helpers/serve.js";

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

describe.each(ENGINES)("slash commands for a 1,000-person team (%s)", (engine) => {
  let t: TestDb;
  let emulator: SlackEmulator;
  let serve: Served;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "mr-co-"));
    await writeCompany(dir, SIZES.small);
    t = await freshDb(engine);
    expect((await importDirectory(t.db, dir, { zone: "UTC" })).ok).toBe(true);
    emulator = await new SlackEmulator({ users: [{ id: "U0BIG", email: BIG_MANAGER, name: "Big" }] }).start();
    serve = await startServe({ DATABASE_URL: t.url, SLACK_BOT_TOKEN: emulator.token, SLACK_API_URL: emulator.url });
  });
  afterAll(async () => {
    await serve.stop();
    await emulator.stop();
    await t.drop();
  });

  async function command(i: number) {
    const path = `/response/lat-${engine}-${i}`;
    const r = await postCommand(serve.url, {
      user_id: "U0BIG",
      text: "",
      response_url: emulator.responseUrl(`lat-${engine}-${i}`),
    });
    const start = performance.now() - r.ms;
    while (!emulator.responses.some((x) => x.path === path)) await new Promise((res) => setTimeout(res, 5));
    const answered = emulator.responses.find((x) => x.path === path)!;
    return { status: r.status, ackMs: r.ms, answerMs: answered.at - (performance.timeOrigin + start) };
  }

  it("acks within 3 s and answers with the report, one at a time", async () => {
    const runs = [];
    for (let i = 0; i < 10; i++) runs.push(await command(i));
    const acks = runs.map((r) => r.ackMs);
    console.log(
      `[${engine}] 1,000-person team, sequential: ack p50 ${pct(acks, 50).toFixed(0)} ms, p95 ${pct(acks, 95).toFixed(0)} ms; answer p95 ${pct(
        runs.map((r) => r.answerMs),
        95,
      ).toFixed(0)} ms`,
    );
    expect(runs.every((r) => r.status === 200)).toBe(true);
    expect(Math.max(...acks)).toBeLessThan(3000);
    const body = JSON.stringify(emulator.responses.at(-1)!.body);
    expect(body).toContain("connections");
  });

  it("50 concurrent commands are each acked within 3 s", async () => {
    const runs = await Promise.all(Array.from({ length: 50 }, (_, i) => command(100 + i)));
    const acks = runs.map((r) => r.ackMs);
    console.log(
      `[${engine}] 50 concurrent: ack p50 ${pct(acks, 50).toFixed(0)} ms, p95 ${pct(acks, 95).toFixed(0)} ms, max ${Math.max(...acks).toFixed(0)} ms; answer p95 ${pct(
        runs.map((r) => r.answerMs),
        95,
      ).toFixed(0)} ms`,
    );
    expect(runs.every((r) => r.status === 200)).toBe(true);
    expect(Math.max(...acks)).toBeLessThan(3000);
  });
});
