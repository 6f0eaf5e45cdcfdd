import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SlackEmulator } from "../../src/emulator/server.js";
import { freshDb, type TestDb } from "../helpers/db.js";
import { csvDir, SAMPLE } from "../helpers/files.js";
import { type Served, startServe } from "../helpers/serve.js";

const until = async (check: () => Promise<boolean>, ms = 15_000) => {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 100));
  }
};

describe("serve with IMPORT_DIR", () => {
  let t: TestDb;
  let emulator: SlackEmulator;
  let serve: Served;
  const dir = csvDir();
  beforeAll(async () => {
    t = await freshDb("sqlite");
    emulator = await new SlackEmulator().start();
    serve = await startServe({
      DATABASE_URL: t.url,
      SLACK_BOT_TOKEN: emulator.token,
      SLACK_API_URL: emulator.url,
      IMPORT_DIR: dir,
      IMPORT_SCHEDULE: "* * * * * *",
      IMPORT_SETTLE_SECONDS: "0",
    });
  });
  afterAll(async () => {
    expect(await serve.stop()).toBe(0);
    await emulator.stop();
    await t.drop();
  });
  const person = (email: string) => t.db("people").where({ email }).first();

  it("imports the folder at start, then each change on IMPORT_SCHEDULE, recorded as the folder's", async () => {
    await until(async () => !!(await person("dana@acme.example")));
    const people = (await t.db("people").count({ n: "*" }).first())!.n;
    writeFileSync(
      join(dir, "people.csv"),
      `${readFileSync(join(SAMPLE, "people.csv"), "utf8").trimEnd()}\nlate@acme.example,Late Arrival,Sales,,\n`,
    );
    await until(async () => !!(await person("late@acme.example")));
    expect(Number((await t.db("people").count({ n: "*" }).first())!.n)).toBe(Number(people) + 1);
    const sources = await t.db("imports").where("outcome", "imported").pluck("source");
    expect(sources).toEqual(["folder", "folder"]);
  });
});
