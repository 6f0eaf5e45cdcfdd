import type { WebClient } from "@slack/web-api";
import { type Config, periodSettings } from "../config.js";
import { rememberNewBlocksRejected, workspaceRejectsNewBlocks } from "../db/controls-repo.js";
import { emailOfUser, writeDirectory } from "../db/directory-repo.js";
import { lastImports } from "../db/import-repo.js";
import type { Db } from "../db/knex.js";
import { findPerson, findProgram, listPrograms } from "../db/report-repo.js";
import { formatDate } from "../domain/dates.js";
import { periodOf } from "../domain/periods.js";
import { ADMIN_WAITING } from "../domain/statuses.js";
import type { Program } from "../domain/types.js";
import type { Logger } from "../logger.js";
import {
  buildManagerBlocks,
  buildProgramBlocks,
  hasNewBlocks,
  type Message,
  NEW_BLOCK_TYPES,
  withoutNewBlocks,
} from "../render/blocks.js";
import { buildCsv } from "../render/csv.js";
import type { InstallationLine } from "../render/installations.js";
import * as ui from "../render/surfaces.js";
import { classify } from "../slack/client.js";
import type { SurfaceAction, SurfacePort } from "../slack/ports.js";
import { readWithRetry, SlackCallError } from "../slack/retry.js";
import { createControlService } from "./control-service.js";
import type { ReportService } from "./report-service.js";

export interface SurfaceDeps {
  db: Db;
  reports: ReportService;
  slack: WebClient;
  log: Logger;
  config: Pick<Config, "REPORT_TIMEZONE" | "ADMIN_EMAILS" | "REPORT_ANCHOR_DATE" | "REPORT_INTERVAL_WEEKS">;
  now?: () => number;
  /** Installed from the link: the installations, listed on the global admins' Home tab (§16). */
  installations?: () => Promise<InstallationLine[]>;
}

/** What `/mentorship-report` and the Home tab answer, for a Slack user; no Bolt in here. */
export function createSurfaceService(deps: SurfaceDeps) {
  const { db, reports, slack, log, config } = deps;
  const now = deps.now ?? Date.now;
  const zone = config.REPORT_TIMEZONE;
  const controls = createControlService({ db, config });

  /** A Slack user's roster email: from the directory cache, else users.info (cached for next time). */
  async function emailOf(userId: string): Promise<string | null> {
    const cached = await emailOfUser(db, userId);
    if (cached) return cached;
    let info: Awaited<ReturnType<typeof slack.users.info>>;
    try {
      info = await readWithRetry("users.info", () => slack.users.info({ user: userId }), log);
    } catch (err) {
      // A user Slack does not know (another workspace's, or since deleted) is simply not in the roster.
      if (err instanceof SlackCallError && err.outcome.kind === "permanent" && err.outcome.reason === "user_not_found")
        return null;
      throw err;
    }
    const email = info.user?.profile?.email?.toLowerCase();
    if (!email || info.user?.deleted) return null;
    await writeDirectory(db, [{ email, userId, problem: null, checkedAt: now() }]);
    return email;
  }

  const isAdminOf = (email: string, p: Program) => config.ADMIN_EMAILS.includes(email) || p.adminEmails.includes(email);

  async function command(userId: string, text: string): Promise<{ message: Message }> {
    const [verb = "", arg = "", ...rest] = text.trim().split(/\s+/).filter(Boolean);
    const email = await emailOf(userId);
    const person = email ? await findPerson(db, email) : null;
    const asOf = now();
    const help = async () => {
      const programs = await listPrograms(db);
      const administered = email ? programs.filter((p) => isAdminOf(email, p)) : [];
      return ui.buildHelp(administered.length > 0 || (!!email && config.ADMIN_EMAILS.includes(email)), {
        programs: person || administered.length ? programs : [],
        administered,
      });
    };
    if (verb.toLowerCase() === "help" || rest.length) return { message: await help() };
    // An admin missing from people.csv still administers their programs: summaries go by the Slack email.
    if (email && (verb.toLowerCase() === "summary" || verb.toLowerCase() === "post")) {
      if (!arg) return { message: await help() };
      const program = await findProgram(db, arg);
      if (!program) return { message: ui.unknownProgram(arg) };
      if (!isAdminOf(email, program)) return { message: ui.notAdmin(arg) };
      const summary = await reports.programSummary(program.id, asOf);
      const rendered = buildProgramBlocks(summary, { zone, period: null });
      if (verb.toLowerCase() === "summary") return { message: rendered };
      if (!program.adminChannel) return { message: ui.postFailed(program.id, null, "") };
      // One answer: posted (or why not). The summary itself is in the channel, not repeated to the admin.
      return {
        message: await postSummary({
          channel: program.adminChannel,
          message: buildProgramBlocks(summary, { zone, period: null, chart: true, requestedBy: userId }),
          programId: program.id,
        }),
      };
    }
    if (!person) return { message: ui.notInRoster() };
    const v = verb.toLowerCase();
    if (!arg && (v === "pause" || v === "stop" || v === "resume")) return { message: await control(person.email, v) };
    if (!arg && v === "csv") return { message: await sendCsv(userId, person.email) };

    const program = verb ? await findProgram(db, verb) : null;
    if (verb && !program) return { message: ui.unknownProgram(verb) };
    const report = await reports.managerReport(person.email, asOf, program?.id);
    // Sections, not a table: an ephemeral answer has no second try, and every workspace accepts them.
    const state = await controls.state(person.email, asOf);
    return {
      message: buildManagerBlocks(report, {
        zone,
        period: null,
        form: "sections",
        buttons: true,
        control: state,
        programName: program?.name,
      }),
    };
  }

  /** Posts an on-demand summary to a program channel; what went wrong is told to the admin who asked. */
  async function postSummary(post: { channel: string; message: Message; programId: string }): Promise<Message> {
    const send = (m: Message) =>
      slack.chat.postMessage({ channel: post.channel, text: m.text, blocks: m.blocks, unfurl_links: false });
    try {
      try {
        await send(post.message);
      } catch (err) {
        const o = classify(err);
        // A workspace without the chart block still gets the summary.
        if (!(o.kind === "permanent" && o.reason === "invalid_blocks" && hasNewBlocks(post.message))) throw err;
        await send(withoutNewBlocks(post.message));
      }
      return ui.posted(post.programId, post.channel);
    } catch (err) {
      const o = classify(err);
      log.warn({ program: post.programId, reason: "reason" in o ? o.reason : o.kind }, "on-demand summary post failed");
      return ui.postFailed(
        post.programId,
        post.channel,
        "reason" in o ? o.reason : "rate limited, try again in a minute",
      );
    }
  }

  /** A manager's own controls (§11), from the command or a button; the answer says what happens next. */
  async function control(email: string, action: "pause" | "stop" | "resume"): Promise<Message> {
    const at = now();
    if (action === "pause") return ui.paused(formatDate((await controls.pause(email, at)).skipped, zone));
    if (action === "stop") {
      await controls.stop(email, at);
      return ui.stopped();
    }
    await controls.resume(email);
    return ui.resumed();
  }

  /**
   * The full report as a CSV file with the seed's columns, uploaded to the manager's DM with the app
   * (files.getUploadURLExternal + files.completeUploadExternal); the answer says it went.
   */
  async function sendCsv(userId: string, email: string): Promise<Message> {
    const report = await reports.managerReport(email, now());
    const rows = report.groups.reduce((n, g) => n + g.rows.length, 0);
    if (!rows) return ui.csvEmpty();
    try {
      const dm = await slack.conversations.open({ users: userId });
      const day = formatDate(report.asOf, zone);
      await slack.filesUploadV2({
        channel_id: dm.channel?.id ?? userId,
        file: Buffer.from(buildCsv(report.groups)),
        filename: `mentorship-report-${day}.csv`,
        title: `Mentorship report as of ${day}`,
      });
      return ui.csvSent(rows);
    } catch (err) {
      const o = classify(err);
      log.warn({ reason: "reason" in o ? o.reason : o.kind }, "CSV upload failed");
      return ui.csvFailed();
    }
  }

  /** The admins' queue of every program this admin administers, as a CSV in their DM (§18). */
  async function sendQueueCsv(userId: string, email: string): Promise<Message> {
    const programs = (await listPrograms(db)).filter((p) => isAdminOf(email, p));
    if (!programs.length) return ui.noQueue();
    const rows = ui.adminQueue(
      await reports.programSummaries(programs, now(), { trend: false, rowsOf: [ADMIN_WAITING] }),
    );
    if (!rows.length) return ui.queueEmpty();
    try {
      const dm = await slack.conversations.open({ users: userId });
      const day = formatDate(now(), zone);
      await slack.filesUploadV2({
        channel_id: dm.channel?.id ?? userId,
        file: Buffer.from(buildCsv([{ status: "Match Request-Waiting Admin Approval", rows }])),
        filename: `admin-queue-${day}.csv`,
        title: `Requests waiting for admin approval as of ${day}`,
      });
      return ui.queueSent(rows.length);
    } catch (err) {
      const o = classify(err);
      log.warn({ reason: "reason" in o ? o.reason : o.kind }, "queue CSV upload failed");
      return ui.csvFailed();
    }
  }

  /** What a manager's control or CSV button does, for the user who clicked it. */
  async function action(userId: string, name: SurfaceAction): Promise<Message> {
    const email = await emailOf(userId);
    if (name === "queueCsv") return email ? sendQueueCsv(userId, email) : ui.notInRoster();
    const person = email ? await findPerson(db, email) : null;
    if (!person) return ui.notInRoster();
    return name === "csv" ? sendCsv(userId, person.email) : control(person.email, name);
  }

  /**
   * Publishes the user's Home tab: with the summaries' charts (§18's trend) unless the workspace is known
   * to refuse newer blocks this period; a refusal is remembered and the tab published without them.
   */
  async function publishHome(userId: string): Promise<void> {
    const periodId = periodOf(now(), periodSettings(config)).id;
    const charts = !(await workspaceRejectsNewBlocks(db, periodId));
    const view = await homeView(userId, { charts });
    try {
      await slack.views.publish({ user_id: userId, view });
    } catch (err) {
      const o = classify(err);
      const refused = o.kind === "permanent" && o.reason === "invalid_blocks";
      if (!(charts && refused && view.blocks.some((b) => NEW_BLOCK_TYPES.has(b.type)))) throw err;
      await rememberNewBlocksRejected(db, periodId);
      await slack.views.publish({ user_id: userId, view: await homeView(userId, { charts: false }) });
    }
  }

  async function homeView(userId: string, opts: { charts?: boolean } = {}) {
    const email = await emailOf(userId);
    const person = email ? await findPerson(db, email) : null;
    const asOf = now();
    const report = person ? await reports.managerReport(person.email, asOf) : null;
    const programs = email ? (await listPrograms(db)).filter((p) => isAdminOf(email, p)) : [];
    // The Home tab lists only the admins' queue; of the other rows it shows counts.
    const summaries = await reports.programSummaries(programs, asOf, { rowsOf: [ADMIN_WAITING] });
    const control = person ? await controls.state(person.email, asOf) : "active";
    const lastImport = programs.length ? ((await lastImports(db, 1))[0] ?? null) : undefined;
    const skips = summaries.length ? await controls.skipCounts(asOf) : undefined;
    const globalAdmin = !!person && config.ADMIN_EMAILS.includes(person.email);
    const installations = globalAdmin && deps.installations ? await deps.installations() : undefined;
    return ui.buildHomeView({
      report,
      summaries,
      zone,
      control,
      lastImport,
      skips,
      asOf,
      charts: opts.charts,
      installations,
    });
  }

  // The listeners' port, and what the app itself reads besides (the Home view, a user's email).
  const service = { command, homeView, publishHome, emailOf, action };
  return service satisfies SurfacePort;
}

export type SurfaceService = ReturnType<typeof createSurfaceService>;
