import { randomUUID } from "node:crypto";
import type { WebClient } from "@slack/web-api";
import { type Config, periodSettings } from "../config.js";
import type { Db } from "../db/knex.js";
import { claimNudge, finishNudge, setNudgesOff } from "../db/nudge-repo.js";
import { findPerson, findProgram, readNames } from "../db/report-repo.js";
import type { Pacer } from "../delivery/pacer.js";
import { attentionKey } from "../domain/attention.js";
import { periodOf } from "../domain/periods.js";
import type { Logger } from "../logger.js";
import type { Message } from "../render/blocks.js";
import * as ui from "../render/surfaces.js";
import { classify } from "../slack/client.js";
import type { Directory } from "../slack/directory.js";
import type { NudgePort } from "../slack/ports.js";
import type { ReportService } from "./report-service.js";

export interface NudgeDeps {
  db: Db;
  reports: ReportService;
  slack: WebClient;
  directory: Pick<Directory, "resolve">;
  /** The delivery's pacer: nudges and DMs share the workspace's rate. */
  pacer: Pick<Pacer, "take" | "pause">;
  log: Logger;
  config: Pick<Config, "REPORT_TIMEZONE" | "ADMIN_EMAILS" | "REPORT_ANCHOR_DATE" | "REPORT_INTERVAL_WEEKS">;
  emailOf: (userId: string) => Promise<string | null>;
  now?: () => number;
}

/**
 * The Nudge button (§18): a manager moves an attention item of their own report along by a DM to the
 * person who can act, at most once per (item, period) through the ledger.
 */
export function createNudgeService(deps: NudgeDeps) {
  const { db, reports, slack, directory, pacer, log, config } = deps;
  const now = deps.now ?? Date.now;
  const zone = config.REPORT_TIMEZONE;
  const periods = periodSettings(config);

  /**
   * The click of a Nudge button whose value is `key`. Who may nudge is read from the clicker's own
   * report as of now, never from the button: a value copied from another manager's message finds no
   * item there and nudges no one.
   */
  async function nudge(userId: string, key: string): Promise<Message> {
    const email = await deps.emailOf(userId);
    const manager = email ? await findPerson(db, email) : null;
    if (!manager) return ui.notInRoster();
    const asOf = now();
    const report = await reports.managerReport(manager.email, asOf);
    const item = report.attention.find((a) => attentionKey(a) === key);
    if (!item) {
      log.warn({ audit: "nudge_refused", user: userId }, "nudge of an item not in the clicker's report");
      return ui.nudgeNotYours();
    }
    if (item.nudge.off) return ui.nudgesAreOff(item);

    let emails: string[];
    if (item.nudge.to === "mentor") emails = [item.mentorEmail];
    else {
      const program = await findProgram(db, item.programId);
      emails = [...new Set([...(program?.adminEmails ?? []), ...config.ADMIN_EMAILS].map((e) => e.toLowerCase()))];
    }
    const resolved = await directory.resolve(emails);
    const targets = emails.flatMap((e) => {
      const r = resolved.get(e);
      return r && "userId" in r ? [{ email: e, userId: r.userId }] : [];
    });
    if (!targets.length) return ui.noOneToNudge(item);
    const named = await readNames(
      db,
      targets.map((t) => t.email),
    );
    const targetNames = targets.map((t) => named.get(t.email) ?? t.email);

    const periodId = periodOf(asOf, periods).id;
    const claim = randomUUID();
    const { mine, row } = await claimNudge(db, { periodId, key, requestedBy: manager.email, claim, now: asOf });
    if (!mine) {
      const by = row.requestedBy ? await findPerson(db, row.requestedBy) : null;
      return ui.alreadyNudged(item, row.at, by?.name ?? "", zone);
    }

    const message = ui.buildNudge(item, manager.name);
    let last: { channel: string; ts: string } | null = null;
    try {
      for (const t of targets) last = await post(t.userId, message);
    } catch (err) {
      const o = classify(err);
      const reason = "reason" in o ? o.reason : o.kind;
      // One admin reached is a nudge sent: the others are not asked twice by a retry.
      if (last) await finishNudge(db, { periodId, key, claim, now: now(), ...last });
      else await finishNudge(db, { periodId, key, claim, now: now(), error: reason });
      log.warn({ reason, to: item.nudge.to }, "nudge post failed");
      return last ? ui.nudged(item, targetNames) : ui.nudgeFailed();
    }
    await finishNudge(db, { periodId, key, claim, now: now(), ...last! });
    log.info({ audit: "nudge", user: userId, to: item.nudge.to, reason: item.reason }, "nudge sent");
    return ui.nudged(item, targetNames);
  }

  /**
   * One nudge DM, at the pace of the delivery's DMs. A 429 means Slack did not post it: it is waited out
   * (holding this process's other senders too) and tried again, a few times at most.
   */
  async function post(userId: string, message: Message): Promise<{ channel: string; ts: string }> {
    for (let attempt = 1; ; attempt++) {
      await pacer.take(userId);
      try {
        const r = await slack.chat.postMessage({
          channel: userId,
          text: message.text,
          blocks: message.blocks,
          unfurl_links: false,
        });
        return { channel: String(r.channel ?? userId), ts: String(r.ts ?? "") };
      } catch (err) {
        const o = classify(err);
        if (o.kind !== "ratelimited" || attempt >= 3) throw err;
        pacer.pause(o.retryAfterMs);
      }
    }
  }

  /** "No more nudges" (and back on), for the person who clicked, whoever's message it was. */
  async function setOff(userId: string, off: boolean): Promise<Message> {
    const email = await deps.emailOf(userId);
    if (!email) return ui.notInRoster();
    await setNudgesOff(db, email, off, now());
    log.info({ audit: "nudges_off", user: userId, off }, "nudge setting");
    return off ? ui.nudgesOffDone() : ui.nudgesOnDone();
  }

  return { nudge, setOff } satisfies NudgePort;
}

export type NudgeService = ReturnType<typeof createNudgeService>;
