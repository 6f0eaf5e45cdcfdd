import type { WebClient } from "@slack/web-api";
import type { Config } from "../config.js";
import { emailOfUser, writeDirectory } from "../db/directory-repo.js";
import type { Db } from "../db/knex.js";
import { findPerson, findProgram, listPrograms } from "../db/report-repo.js";
import type { Program } from "../domain/types.js";
import type { Logger } from "../logger.js";
import {
  buildManagerBlocks,
  buildProgramBlocks,
  hasNewBlocks,
  type Message,
  withoutNewBlocks,
} from "../render/blocks.js";
import * as ui from "../render/surfaces.js";
import { classify } from "../slack/client.js";
import { readWithRetry } from "../slack/retry.js";
import type { ReportService } from "./report-service.js";

export interface SurfaceDeps {
  db: Db;
  reports: ReportService;
  slack: WebClient;
  log: Logger;
  config: Pick<Config, "REPORT_TIMEZONE" | "ADMIN_EMAILS">;
  now?: () => number;
}

/** What `/mentorship-report` and the Home tab answer, for a Slack user; no Bolt in here. */
export function createSurfaceService(deps: SurfaceDeps) {
  const { db, reports, slack, log, config } = deps;
  const now = deps.now ?? Date.now;
  const zone = config.REPORT_TIMEZONE;

  /** A Slack user's roster email: from the directory cache, else users.info (cached for next time). */
  async function emailOf(userId: string): Promise<string | null> {
    const cached = await emailOfUser(db, userId);
    if (cached) return cached;
    const info = await readWithRetry("users.info", () => slack.users.info({ user: userId }), log);
    const email = info.user?.profile?.email?.toLowerCase();
    if (!email || info.user?.deleted) return null;
    await writeDirectory(db, [{ email, userId, problem: null, checkedAt: now() }]);
    return email;
  }

  const isAdminOf = (email: string, p: Program) => config.ADMIN_EMAILS.includes(email) || p.adminEmails.includes(email);

  async function command(
    userId: string,
    text: string,
  ): Promise<{ message: Message; post?: { channel: string; message: Message; programId: string } }> {
    const [verb = "", arg = "", ...rest] = text.trim().split(/\s+/).filter(Boolean);
    const email = await emailOf(userId);
    const person = email ? await findPerson(db, email) : null;
    const asOf = now();
    if (verb.toLowerCase() === "help" || rest.length) {
      const admin =
        !!person &&
        (config.ADMIN_EMAILS.includes(person.email) ||
          (await listPrograms(db)).some((p) => isAdminOf(person.email, p)));
      return { message: ui.buildHelp(admin) };
    }
    if (!person) return { message: ui.notInRoster() };

    if (verb.toLowerCase() === "summary" || verb.toLowerCase() === "post") {
      if (!arg) return { message: ui.buildHelp(true) };
      const program = await findProgram(db, arg);
      if (!program) return { message: ui.unknownProgram(arg) };
      if (!isAdminOf(person.email, program)) return { message: ui.notAdmin(arg) };
      const summary = await reports.programSummary(program.id, asOf);
      const rendered = buildProgramBlocks(summary, { zone, period: null });
      if (verb.toLowerCase() === "summary") return { message: rendered };
      if (!program.adminChannel) return { message: ui.postFailed(program.id, null, "") };
      return {
        message: rendered,
        post: {
          channel: program.adminChannel,
          message: buildProgramBlocks(summary, { zone, period: null, chart: true }),
          programId: program.id,
        },
      };
    }

    if (verb && !(await findProgram(db, verb))) return { message: ui.unknownProgram(verb) };
    const report = await reports.managerReport(person.email, asOf, verb || undefined);
    // Sections, not a table: an ephemeral answer has no second try, and every workspace accepts them.
    return { message: buildManagerBlocks(report, { zone, period: null, form: "sections", buttons: true }) };
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

  async function homeView(userId: string) {
    const email = await emailOf(userId);
    const person = email ? await findPerson(db, email) : null;
    const asOf = now();
    const report = person ? await reports.managerReport(person.email, asOf) : null;
    const programs = person ? (await listPrograms(db)).filter((p) => isAdminOf(person.email, p)) : [];
    const summaries = await reports.programSummaries(programs, asOf);
    return ui.buildHomeView({ report, summaries, zone });
  }

  return { command, postSummary, homeView, emailOf };
}

export type SurfaceService = ReturnType<typeof createSurfaceService>;
