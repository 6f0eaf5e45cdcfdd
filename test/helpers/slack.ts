import { afterEach, beforeEach } from "vitest";
import { createApp } from "../../src/app.js";
import { type Config, loadConfig } from "../../src/config.js";
import type { Db } from "../../src/db/knex.js";
import { listPeople } from "../../src/db/roster-repo.js";
import { type EmulatedChannel, type EmulatorOptions, SlackEmulator } from "../../src/emulator/server.js";
import { importDirectory } from "../../src/import/import-service.js";
import { createLogger } from "../../src/logger.js";
import { createSlackClient } from "../../src/slack/client.js";
import { type EngineName, freshDb, type TestDb } from "./db.js";
import { SAMPLE } from "./files.js";

export const SAMPLE_CHANNELS: EmulatedChannel[] = [
  { id: "C0000ENG1", name: "mentorship-eng" },
  { id: "C0000LEAD", name: "leadership-circle" },
];

/** An emulator whose workspace holds every person in the database, but those in `absent`. */
export async function emulatorFor(
  db: Db,
  opts: EmulatorOptions & { absent?: string[]; deactivated?: string[] } = {},
): Promise<SlackEmulator> {
  const people = await listPeople(db);
  const users = people
    .filter((p) => !opts.absent?.includes(p.email))
    .map((p, i) => ({
      id: `U${String(i + 1).padStart(8, "0")}`,
      email: p.email,
      name: p.name,
      deleted: opts.deactivated?.includes(p.email),
    }));
  return new SlackEmulator({ channels: SAMPLE_CHANNELS, ...opts, users }).start();
}

export const baseConfig = {
  REPORT_TIMEZONE: "UTC",
  REPORT_ANCHOR_DATE: "2026-01-05",
  REPORT_INTERVAL_WEEKS: 2,
  REPORT_SCOPE: "direct" as const,
  DELIVERY_RATE_PER_MINUTE: 60_000,
  DELIVERY_LEASE_SECONDS: 5,
  ADMIN_EMAILS: [] as string[],
};

export function slackFor(emulator: SlackEmulator, token = emulator.token) {
  return createSlackClient({ SLACK_BOT_TOKEN: token, SLACK_API_URL: emulator.url });
}

export function deliveryFor(
  db: Db,
  emulator: SlackEmulator,
  over: Partial<typeof baseConfig> & Partial<Pick<Config, "REPORT_DELIVERY">> & { token?: string } = {},
) {
  const config = {
    ...loadConfig({}),
    ...baseConfig,
    ...over,
    SLACK_BOT_TOKEN: over.token ?? emulator.token,
    SLACK_API_URL: emulator.url,
  };
  return createApp({ config, db, log: createLogger("silent") }, { retryBaseMs: 10 }).delivery;
}

/** Every text a Slack call carried, for privacy assertions. */
export const everythingSent = (e: SlackEmulator) =>
  JSON.stringify([e.calls.map((c) => c.params), e.responses.map((r) => r.body)]);

/** The sample company in a fresh database, and an emulated workspace of its people, for each test. */
export function sampleWorkspace(engine: EngineName) {
  const ctx = {} as { t: TestDb; emulator: SlackEmulator };
  beforeEach(async () => {
    ctx.t = await freshDb(engine);
    await importDirectory(ctx.t.db, SAMPLE, { zone: "UTC" });
    ctx.emulator = await emulatorFor(ctx.t.db);
  });
  afterEach(async () => {
    await ctx.emulator.stop();
    await ctx.t.drop();
  });
  return ctx;
}
