import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app.js";
import { runStatus } from "../../src/cli/status.js";
import { loadConfig } from "../../src/config.js";
import { lastImports } from "../../src/db/import-repo.js";
import { FILES } from "../../src/import/csv-files.js";
import { formatProblem, importDirectory } from "../../src/import/import-service.js";
import { createLogger } from "../../src/logger.js";
import { ENGINES } from "../helpers/db.js";
import { csvDir, dump, SAMPLE } from "../helpers/files.js";
import { baseConfig, sampleWorkspace } from "../helpers/slack.js";

const log = createLogger("silent");
const sample = (f: string) => readFileSync(join(SAMPLE, f), "utf8");
/** A mentee's email no file of the sample holds: wherever it turns up, it came from the scanned cell. */
const LEAK = "leak.mentee@acme.example";

describe.each(ENGINES)("a problem never repeats a cell, header cells included (%s)", (engine) => {
  const w = sampleWorkspace(engine);
  const run = (dir: string) => importDirectory(w.t.db, dir, { zone: "UTC", source: "folder" });

  it("a file without a header row is 'no header row', and the history holds only that", async () => {
    const before = await dump(w.t.db);
    const dir = csvDir({
      "enrollments.csv":
        "eng,mia@acme.example,mentee,mia@acme.example,mia@acme.example\neng,ada@acme.example,mentor,,\n",
    });
    const r = await run(dir);
    expect(r.problems.map(formatProblem)).toEqual([
      "enrollments.csv:1: -: no header row: the first line holds none of the expected column names (program_id, email, role, added_at, registered_at)",
    ]);
    expect(await dump(w.t.db)).toEqual(before);
    const [last] = await lastImports(w.t.db, 1);
    expect(last!.problems).toEqual(r.problems.map(formatProblem));
    expect(JSON.stringify(last)).not.toContain("mia@");
  });

  it("a header problem names the column by its expected name or its position", async () => {
    const dir = csvDir({
      "meetings.csv": "meeting_id,match_id,mia@acme.example,mia@acme.example,match_id\nmt1,m1,2026-01-01,,\n",
      "match_requests.csv": `${sample("match_requests.csv").split("\n")[0]},eve@acme.example\u200b\n`,
    });
    const problems = (await run(dir)).problems.map(formatProblem);
    expect(problems).toEqual([
      "match_requests.csv:1: column 10: header holds an invisible format character (U+200B)",
      "meetings.csv:1: column 4: appears twice in the header",
      "meetings.csv:1: match_id: appears twice in the header",
      "meetings.csv:1: scheduled_at: column is missing from the header",
      "meetings.csv:1: cancelled_at: column is missing from the header",
    ]);
  });

  it("a cell under a header that is not an expected name is named by position", async () => {
    const dir = csvDir({
      "people.csv": `email,name,organization,manager_email,timezone,eve@acme.example\nzed@acme.example,Zed,Eng,olivia@acme.example,,bad\u0007\n`,
    });
    expect((await run(dir)).problems.map(formatProblem)).toContain(
      "people.csv:2: column 6: holds a control character (U+0007)",
    );
  });
});

describe.each(ENGINES)("text fields refuse invisible characters (%s)", (engine) => {
  const w = sampleWorkspace(engine);

  it("refuses bidi marks, zero-width spaces, a mid-text BOM and the line separators; keeps an emoji joined by U+200D", async () => {
    const before = await dump(w.t.db);
    const chars = ["\u200e", "\u200f", "\u061c", "\u200b", "\ufeff", "\u2028", "\u2029", "\u00ad", "\u200d"];
    const rows = chars.map((c, i) => `p${i}@acme.example,Ken${c}Thompson,Eng,olivia@acme.example,`);
    const r = await importDirectory(w.t.db, csvDir({ "people.csv": `${sample("people.csv")}${rows.join("\n")}\n` }), {
      zone: "UTC",
    });
    expect(r.problems.map(formatProblem)).toEqual([
      "people.csv:23: name: holds an invisible format character (U+200E)",
      "people.csv:24: name: holds an invisible format character (U+200F)",
      "people.csv:25: name: holds an invisible format character (U+061C)",
      "people.csv:26: name: holds an invisible format character (U+200B)",
      "people.csv:27: name: holds an invisible format character (U+FEFF)",
      "people.csv:28: name: holds a line or paragraph separator (U+2028)",
      "people.csv:29: name: holds a line or paragraph separator (U+2029)",
      "people.csv:30: name: holds an invisible format character (U+00AD)",
      "people.csv:31: name: holds an invisible format character (U+200D)",
    ]);
    expect(await dump(w.t.db)).toEqual(before);

    const emoji = "Ada 👩\u200d💻 Lovelace 👨🏽\u200d🦰";
    const ok = await importDirectory(
      w.t.db,
      csvDir({ "people.csv": `${sample("people.csv")}ok@acme.example,${emoji},Eng,olivia@acme.example,\n` }),
      { zone: "UTC" },
    );
    expect(ok.problems).toEqual([]);
    expect(await w.t.db("people").where({ email: "ok@acme.example" }).first()).toMatchObject({ name: emoji });
  });
});

/**
 * The privacy scan: a mentee's email in every header position and every cell of each file, sent
 * in Slack by an admin and dropped in IMPORT_DIR; the thread answers (and the attached problems),
 * the admins' DMs, every Home tab, the import history and `status` never hold it.
 */
describe.each(ENGINES)("a mentee's email in any cell or header never comes back (%s)", (engine) => {
  const w = sampleWorkspace(engine);

  type Where = "header" | "header twice" | "no header" | "cell";
  /**
   * Every file with the email at position `i`: of its header, of its header and the next position
   * (a header that names it twice), of its first row standing where the header belongs, or of a row added to it.
   */
  function variant(i: number, where: Where): Record<string, string> {
    const out: Record<string, string> = {};
    for (const spec of FILES) {
      const [head, ...rest] = sample(spec.file).trimEnd().split("\n");
      const cols = head!.split(",");
      if (i >= cols.length) continue;
      const row = rest[rest.length - 1]!.split(",");
      row[i] = LEAK;
      if (where === "header" || where === "header twice") {
        cols[i] = LEAK;
        if (where === "header twice") cols[(i + 1) % cols.length] = LEAK;
        out[spec.file] = `${[cols.join(","), ...rest].join("\n")}\n`;
      } else if (where === "no header") {
        out[spec.file] = `${[row.join(","), ...rest].join("\n")}\n`;
      } else {
        // A short row too: a valid cell must not make the import go through and write it.
        out[spec.file] = `${[head, ...rest, row.join(","), "short"].join("\n")}\n`;
      }
    }
    return out;
  }

  it("in the thread answers, the attached problems, the admins' DMs, the Home tabs, the history and status", async () => {
    const before = await dump(w.t.db);
    const folder = mkdtempSync(join(tmpdir(), "mr-scan-"));
    const config = {
      ...loadConfig({}),
      ...baseConfig,
      ADMIN_EMAILS: ["grace@acme.example"],
      IMPORT_DIR: folder,
      IMPORT_SETTLE_SECONDS: 0,
      SLACK_BOT_TOKEN: w.emulator.token,
      SLACK_API_URL: w.emulator.url,
    };
    const app = createApp({ config, db: w.t.db, log });
    const grace = w.emulator.userIdOf("grace@acme.example")!;
    const channel = w.emulator.fileShareEvent(grace, []).channel as string;
    const width = Math.max(...FILES.map((f) => f.columns.length + (f.optionalColumns?.length ?? 0)));
    let scanned = 0;
    for (let i = 0; i < width; i++) {
      for (const where of ["header", "header twice", "no header", "cell"] as const) {
        const files = variant(i, where);
        const ids = Object.entries(files).map(([name, content]) => w.emulator.addFile({ name, content, user: grace }));
        const event = w.emulator.fileShareEvent(grace, ids);
        await app.uploads.receive({ user: grace, channel, ts: event.ts as string, fileIds: ids });
        for (const f of FILES.map((s) => s.file)) rmSync(join(folder, f), { force: true });
        for (const [name, content] of Object.entries(files)) writeFileSync(join(folder, name), content);
        expect([i, where, (await app.dropFolder.check()).outcome]).toEqual([i, where, "failed"]);
        scanned += Object.keys(files).length;
      }
    }
    expect(scanned).toBeGreaterThan(120);
    const { settings, ...tables } = await dump(w.t.db);
    expect({ ...tables, settings: settings!.filter((s) => !JSON.stringify(s).includes("import_dir.")) }).toEqual(
      before,
    );

    const answers = w.emulator.messages.filter((m) => m.channel === channel);
    expect(answers.length).toBeGreaterThanOrEqual(4 * width);
    const dms = w.emulator.messages.filter((m) => m.channel !== channel);
    expect(dms.length).toBeGreaterThan(0);
    const seen = [JSON.stringify(w.emulator.messages), JSON.stringify(w.emulator.uploads)];
    expect(w.emulator.uploads.length).toBeGreaterThan(0);
    for (const email of ["grace@acme.example", "olivia@acme.example", "dana@acme.example"])
      seen.push(JSON.stringify(await app.surfaces.homeView(w.emulator.userIdOf(email)!)));
    seen.push(JSON.stringify(await w.t.db("imports").select("*")));
    let status = "";
    const io = { out: (s: string) => (status += s), err: (s: string) => (status += s), isTTY: false };
    await runStatus({ config, db: w.t.db, log, io }, {});
    expect(status).toContain("refused");
    seen.push(status);
    for (const s of seen) expect(s.toLowerCase()).not.toContain("leak.mentee");
  }, 120_000);
});
