import { execFileSync } from "node:child_process";
import { readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createApp, importingFirst } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { startScheduler } from "../../src/delivery/scheduler.js";
import { createLogger } from "../../src/logger.js";
import { createDropFolder, startDropFolderSchedule } from "../../src/services/drop-folder.js";
import { ENGINES } from "../helpers/db.js";
import { csvDir, dump, SAMPLE } from "../helpers/files.js";
import { baseConfig, sampleWorkspace } from "../helpers/slack.js";

const log = createLogger("silent");
const sample = (name: string) => readFileSync(join(SAMPLE, name), "utf8");
/** The data tables (the drop folder's own bookkeeping left out). */
const data = async (db: Parameters<typeof dump>[0]) => {
  const { settings, ...tables } = await dump(db);
  return {
    ...tables,
    settings: settings!.filter((s) => !String((s as { key: string }).key).startsWith("import_dir.")),
  };
};

describe.each(ENGINES)("IMPORT_DIR, the drop folder (%s)", (engine) => {
  const w = sampleWorkspace(engine);
  /** One instance of the app watching `dir` (several may share the database). */
  const appFor = (dir: string, settle = 0) =>
    createApp({
      config: {
        ...loadConfig({}),
        ...baseConfig,
        IMPORT_DIR: dir,
        IMPORT_SETTLE_SECONDS: settle,
        SLACK_BOT_TOKEN: w.emulator.token,
        SLACK_API_URL: w.emulator.url,
      },
      db: w.t.db,
      log,
    });

  it("imports once per change of the files' content", async () => {
    const dir = csvDir();
    const app = appFor(dir);
    expect((await app.dropFolder.check()).outcome).toBe("imported");
    // Not imported again while the files are the same: a change made in the database stays.
    await w.t.db("people").where({ email: "dana@acme.example" }).update({ name: "Dana Changed" });
    expect((await app.dropFolder.check()).outcome).toBe("unchanged");
    utimesSync(join(dir, "people.csv"), new Date(), new Date(Date.now() + 5000));
    expect((await app.dropFolder.check()).outcome).toBe("unchanged");
    expect((await appFor(dir).dropFolder.check()).outcome).toBe("unchanged");
    expect(await w.t.db("people").where({ email: "dana@acme.example" }).first()).toMatchObject({
      name: "Dana Changed",
    });

    writeFileSync(
      join(dir, "people.csv"),
      `${sample("people.csv").trimEnd()}\nzed@acme.example,Zed Newcomer,Engineering,dana@acme.example,\n`,
    );
    expect(await app.dropFolder.check()).toEqual({ outcome: "imported", files: expect.any(Array) });
    expect(await w.t.db("people").where({ email: "dana@acme.example" }).first()).toMatchObject({
      name: "Dana Brooks",
    });
    expect(await w.t.db("people").where({ email: "zed@acme.example" }).first()).toBeTruthy();
    // Another instance sharing the database sees the change as imported.
    expect((await appFor(dir).dropFolder.check()).outcome).toBe("unchanged");
    expect(w.emulator.messages).toHaveLength(0);
  });

  it("a bad file keeps the data imported before and tells the admins once per change", async () => {
    const dir = csvDir();
    const app = appFor(dir);
    await app.dropFolder.check();
    const before = await data(w.t.db);
    writeFileSync(
      join(dir, "enrollments.csv"),
      `${sample("enrollments.csv").trimEnd()}\neng,mia@acme.example,boss,2025-01-01,\n`,
    );
    expect(await app.dropFolder.check()).toEqual({ outcome: "failed", problems: 1, told: 2 });
    expect(await data(w.t.db)).toEqual(before);
    const dmTo = (m: { user?: string }) => w.emulator.messages.filter((x) => x.user === m.user).length;
    const admins = ["grace@acme.example", "olivia@acme.example"].map((e) => w.emulator.userIdOf(e));
    expect(w.emulator.messages.map((m) => m.user).sort()).toEqual(admins.sort());
    const text = w.emulator.messages[0]!.text;
    expect(text).toContain("could not be imported");
    expect(text).toContain("enrollments.csv:19: role: is not mentor or mentee");
    expect(text).not.toContain("mia@");

    // Every later check, in this instance or another, stays quiet until the files change again.
    expect((await app.dropFolder.check()).outcome).toBe("unchanged");
    expect((await appFor(dir).dropFolder.check()).outcome).toBe("unchanged");
    expect(w.emulator.messages).toHaveLength(2);

    // Fixed, then broken the same way again: that is a new change, told again.
    writeFileSync(join(dir, "enrollments.csv"), sample("enrollments.csv"));
    expect((await app.dropFolder.check()).outcome).toBe("unchanged");
    writeFileSync(
      join(dir, "enrollments.csv"),
      `${sample("enrollments.csv").trimEnd()}\neng,mia@acme.example,boss,2025-01-01,\n`,
    );
    expect((await app.dropFolder.check()).outcome).toBe("failed");
    expect(w.emulator.messages).toHaveLength(4);
    expect(dmTo({ user: admins[0] })).toBe(2);
  });

  it("a scheduled run imports the changed folder before it delivers", async () => {
    const dir = csvDir({ "people.csv": sample("people.csv").replace("Ada Lovelace", "Ada King") });
    const app = appFor(dir);
    const s = startScheduler({
      config: { ...app.config, REPORT_SCHEDULE: "off" },
      delivery: importingFirst(app.delivery, app.dropFolder, log),
      log,
    });
    await s.tick();
    await s.stop();
    const toDana = w.emulator.messages.find((m) => m.user === w.emulator.userIdOf("dana@acme.example"));
    expect(JSON.stringify(toDana)).toContain("Ada King");
  });

  it("waits until a file written line by line has settled, then imports it once, whole (§15)", async () => {
    const dir = csvDir();
    const app = appFor(dir, 1);
    await new Promise((r) => setTimeout(r, 1100));
    expect((await app.dropFolder.check()).outcome).toBe("imported");
    const before = await data(w.t.db);
    const lines =
      `${sample("people.csv").trimEnd()}\nzed@acme.example,Zed Newcomer,Engineering,dana@acme.example,\n`.split("\n");
    // Half written: the other half of the people would be removed, then added back.
    writeFileSync(join(dir, "people.csv"), `${lines.slice(0, 8).join("\n")}\n`);
    expect((await app.dropFolder.check()).outcome).toBe("settling");
    writeFileSync(join(dir, "people.csv"), lines.join("\n"));
    expect((await app.dropFolder.check()).outcome).toBe("settling");
    expect(await data(w.t.db)).toEqual(before);
    await new Promise((r) => setTimeout(r, 1100));
    expect(await app.dropFolder.check()).toEqual({ outcome: "imported", files: expect.any(Array) });
    expect(await w.t.db("people").count({ n: "*" }).first()).toMatchObject({ n: 22 });
    expect(w.emulator.messages).toHaveLength(0);
    const [imports] = await w.t.db("imports").where({ source: "folder" }).count({ n: "*" });
    expect(Number(imports!.n)).toBe(2);
  });

  it("checks again by itself once a changed file will have settled, not a schedule step later", async () => {
    const dir = csvDir({ "people.csv": sample("people.csv").replace("Ada Lovelace", "Ada King") });
    const app = appFor(dir, 1);
    const schedule = startDropFolderSchedule(app.dropFolder, { schedule: "off", zone: "UTC", log });
    try {
      const deadline = Date.now() + 5000;
      const ada = () => w.t.db("people").where({ email: "ada@acme.example" }).first();
      while ((await ada())?.name !== "Ada King" && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(await ada()).toMatchObject({ name: "Ada King" });
    } finally {
      await schedule.stop();
    }
  });

  it("refuses a symbolic link without reading it, and tells the admins which file", async () => {
    const dir = csvDir();
    const app = appFor(dir);
    await app.dropFolder.check();
    const before = await data(w.t.db);
    const secret = join(csvDir({}, { fromSample: false }), "secret.txt");
    writeFileSync(secret, "root-secret-first-line,x\n");
    rmSync(join(dir, "people.csv"));
    symlinkSync(secret, join(dir, "people.csv"));
    expect(await app.dropFolder.check()).toEqual({ outcome: "failed", problems: 1, told: 2 });
    expect(await data(w.t.db)).toEqual(before);
    const told = JSON.stringify(w.emulator.messages);
    expect(told).toContain("people.csv");
    expect(told).toContain("is a symbolic link");
    expect(told).not.toContain("root-secret");
    expect(JSON.stringify(await w.t.db("imports").select("*"))).not.toContain("root-secret");
  });

  it("a file swapped for a named pipe after the survey is refused at once, not waited on forever", async () => {
    const dir = csvDir();
    const app = appFor(dir);
    await app.dropFolder.check();
    const before = await data(w.t.db);
    writeFileSync(join(dir, "people.csv"), `${sample("people.csv").trimEnd()}\n`);
    const folder = createDropFolder({
      db: w.t.db,
      config: { ...app.config, IMPORT_DIR: dir, IMPORT_SETTLE_SECONDS: 0 },
      slack: () => app.slack,
      directory: () => app.directory,
      log,
      // The clock is read between the survey and the copy: the moment an exporter could swap the file.
      now: () => {
        rmSync(join(dir, "people.csv"));
        execFileSync("mkfifo", [join(dir, "people.csv")]);
        return Date.now();
      },
    });
    const result = await Promise.race([
      folder.check(),
      new Promise((r) => setTimeout(() => r("still waiting on the pipe"), 3000).unref()),
    ]);
    expect(result).toEqual({ outcome: "failed", problems: 1, told: 2 });
    expect(JSON.stringify(w.emulator.messages)).toContain("people.csv: -: is not a regular file");
    expect(await data(w.t.db)).toEqual(before);
  });

  it("picks up a same-size edit whose modification time was kept (cp -p, rsync -t)", async () => {
    const dir = csvDir();
    const path = join(dir, "people.csv");
    // Whole seconds, which every file system keeps exactly: the modification time is then truly the same.
    const kept = 1_760_000_000;
    utimesSync(path, kept, kept);
    const app = appFor(dir);
    expect((await app.dropFolder.check()).outcome).toBe("imported");
    writeFileSync(path, sample("people.csv").replace("Dana Brooks", "Dana Brookz"));
    utimesSync(path, kept, kept);
    expect(statSync(path).mtimeMs).toBe(kept * 1000);
    expect((await app.dropFolder.check()).outcome).toBe("imported");
    expect(await w.t.db("people").where({ email: "dana@acme.example" }).first()).toMatchObject({
      name: "Dana Brookz",
    });
  });
});

describe("IMPORT_SETTLE_SECONDS", () => {
  it("defaults to 30 and refuses what is not a whole number of seconds, naming the variable", () => {
    expect(loadConfig({}).IMPORT_SETTLE_SECONDS).toBe(30);
    expect(loadConfig({ IMPORT_SETTLE_SECONDS: "0" }).IMPORT_SETTLE_SECONDS).toBe(0);
    for (const bad of ["-1", "2.5", "soon", "86401"])
      expect(() => loadConfig({ IMPORT_SETTLE_SECONDS: bad })).toThrow(/IMPORT_SETTLE_SECONDS.*whole number/);
  });
});
