import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DateTime } from "luxon";
import { createApp } from "../app.js";
import { listPeople } from "../db/roster-repo.js";
import { formatDayTime } from "../domain/dates.js";
import { type EmulatedUser, SlackEmulator } from "../emulator/server.js";
import { messageAsText } from "../emulator/transcript.js";
import { importDirectory } from "../import/import-service.js";
import { type CliContext, parseAsOf } from "./context.js";
import { buildRunSummaryText } from "./run-summary.js";

export const SAMPLE_DIR = fileURLToPath(new URL("../../examples/sample/", import.meta.url));
export const DEMO_DATABASE = "./data/demo.sqlite";
/** In the sample company, Sam has no Slack account: the demo shows how a permanent failure is reported. */
const NOT_IN_SLACK = new Set(["sam@acme.example"]);

/** The demo starts from an empty database of its own every time, so reruns show the same thing. */
export function resetDemoDatabase(path = DEMO_DATABASE): void {
  for (const suffix of ["", "-wal", "-shm"]) rmSync(path + suffix, { force: true });
}

const rule = (title: string) => `\n── ${title} ${"─".repeat(Math.max(4, 74 - title.length))}\n`;

/**
 * The whole job on the sample company: import, then a delivery run against the bundled Slack
 * emulator, each DM and channel post printed as it reads in Slack, then a second run that sends
 * nothing because the period is already delivered.
 */
export async function runDemo(ctx: CliContext, opts: { asOf: string }): Promise<number> {
  const { io, db } = ctx;
  const zone = ctx.config.REPORT_TIMEZONE;
  const asOf = parseAsOf(opts.asOf, zone);
  // The demo runs on its report day: the exports are that day's, so "data as of" matches "as of" and
  // the data is not called stale however long ago that day was.
  const offset = Date.now() - asOf;
  const clock = () => Date.now() - offset;
  io.out(rule("1. Import the sample company (examples/sample)"));
  const imported = await importDirectory(db, SAMPLE_DIR, { zone, now: clock });
  if (!imported.ok) {
    for (const p of imported.problems) io.err(`${p.file}:${p.line}: ${p.column}: ${p.problem}\n`);
    return 1;
  }
  for (const f of imported.files) io.out(`  ${f.file.padEnd(19)} ${String(f.rows).padStart(4)} rows\n`);

  const people = await listPeople(db);
  const users: EmulatedUser[] = people
    .filter((p) => !NOT_IN_SLACK.has(p.email))
    .map((p, i) => ({
      id: `U${String(i + 1).padStart(8, "0")}`,
      email: p.email,
      name: p.name,
      tz: p.timezone ?? undefined,
    }));
  const emulator = await new SlackEmulator({
    users,
    channels: [
      { id: "C0000ENG1", name: "mentorship-eng" },
      { id: "C0000LEAD", name: "leadership-circle" },
    ],
  }).start();
  const nameOf = new Map(users.map((u) => [u.id, `${u.name} <${u.email}>`]));
  try {
    const config = {
      ...ctx.config,
      SLACK_BOT_TOKEN: emulator.token,
      SLACK_API_URL: emulator.url,
      DELIVERY_RATE_PER_MINUTE: 6000,
    };
    const { delivery, uploads } = createApp({ ...ctx, config }, { now: clock });

    // The period before: each DM after it says what changed since (§10).
    const previous = DateTime.fromMillis(asOf, { zone }).minus({ weeks: ctx.config.REPORT_INTERVAL_WEEKS }).toMillis();
    io.out(rule(`2. The period before (report as of ${formatDayTime(previous, zone)}): the managers' last reports`));
    io.out(buildRunSummaryText(await delivery.deliverPeriod({ asOf: previous }), zone));
    const earlier = emulator.messages.length;

    io.out(rule(`3. Deliver the period (report as of ${opts.asOf} ${zone}) to the Slack emulator at ${emulator.url}`));
    const first = await delivery.deliverPeriod({ asOf });
    io.out(buildRunSummaryText(first, zone));

    for (const m of emulator.messages.slice(earlier)) {
      const to = m.user
        ? `DM to ${nameOf.get(m.user)}`
        : `post in #${m.channel === "C0000ENG1" ? "mentorship-eng" : "leadership-circle"}`;
      io.out(rule(to));
      io.out(messageAsText(m) + "\n");
    }

    io.out(rule("4. Run the same period again: nothing is sent twice"));
    const calls = emulator.calls.length;
    const again = await delivery.deliverPeriod({ asOf });
    io.out(buildRunSummaryText(again, zone));
    io.out(`  Slack calls in the second run: ${emulator.calls.length - calls}\n`);
    io.out(rule("5. Dana presses Skip next report, then Resume (the same as /mentorship-report pause, resume)"));
    const dana = emulator.userIdOf("dana@acme.example")!;
    // Pressed on the day of the report: the next scheduled one is skipped.
    const onReportDay = createApp({ ...ctx, config }, { now: () => asOf }).surfaces;
    for (const action of ["pause", "resume"] as const)
      io.out(`${messageAsText(await onReportDay.action(dana, action))}\n`);
    io.out(rule("6. Dana presses Nudge beside Margaret Hamilton's request, waiting 20 days for admin approval"));
    // The button's value names the item; the app checks it against Dana's own report before nudging.
    const danaDm = emulator.messages.slice(earlier).find((m) => m.user === dana);
    const nudgeValue = (danaDm?.blocks as Array<{ accessory?: { value?: string } }> | undefined)?.find(
      (b) => b.accessory?.value,
    )?.accessory?.value;
    const nudges = createApp({ ...ctx, config }, { now: () => asOf }).nudges;
    const beforeNudge = emulator.messages.length;
    io.out(`  Dana sees: ${messageAsText(await nudges.nudge(dana, nudgeValue ?? ""))}\n`);
    for (const m of emulator.messages.slice(beforeNudge)) {
      io.out(rule(`DM to ${nameOf.get(m.user ?? "")}`));
      io.out(`${messageAsText(m)}\n`);
    }
    io.out("\n  Dana presses it again (or another instance of the app takes the click): nothing is sent twice.\n");
    io.out(`  Dana sees: ${messageAsText(await nudges.nudge(dana, nudgeValue ?? ""))}\n`);
    io.out(rule("7. Grace opens the app's Home tab: the requests waiting for her, and her programs' trends"));
    const grace = emulator.userIdOf("grace@acme.example")!;
    const home = await createApp({ ...ctx, config }, { now: () => asOf }).surfaces.homeView(grace);
    io.out(`${messageAsText({ text: "", blocks: home.blocks })}\n`);
    io.out(rule("8. A program admin sends a CSV file to the app in a DM"));
    const people = `${readFileSync(join(SAMPLE_DIR, "people.csv"), "utf8").trimEnd()}\nnew.hire@acme.example,Nia Newhire,Engineering,dana@acme.example,\n`;
    const fileId = emulator.addFile({ name: "people.csv", content: people, user: grace });
    const shared = emulator.fileShareEvent(grace, [fileId]);
    io.out(`  ${nameOf.get(grace)} shares people.csv with one new hire; the app answers in the thread:\n`);
    await uploads.receive({ user: grace, channel: String(shared.channel), ts: String(shared.ts), fileIds: [fileId] });
    for (const m of emulator.messages.filter((x) => x.thread_ts === shared.ts)) io.out(`${messageAsText(m)}\n`);
    io.out(rule("Next"));
    io.out(
      "  npx mentorship-report preview --manager dana@acme.example --format csv   (with DATABASE_URL=./data/demo.sqlite)\n",
    );
    io.out("  README.md: install the app in a real workspace from manifest.yml.\n");
    return 0;
  } finally {
    await emulator.stop();
  }
}
