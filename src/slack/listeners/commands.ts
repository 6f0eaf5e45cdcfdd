import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from "@slack/bolt";
import { safeErrorMessage } from "../../errors.js";
import type { Logger } from "../../logger.js";
import { metrics } from "../../metrics.js";
import * as ui from "../../render/surfaces.js";
import type { SurfacePort } from "../ports.js";

export type CommandArgs = SlackCommandMiddlewareArgs & AllMiddlewareArgs;

/** What a command asked for, by its first word: enough for the audit line, never the report's content. */
const actionOf = (text: string) => {
  const verb = text.trim().split(/\s+/)[0]?.toLowerCase() ?? "";
  return verb === "help" || verb === "summary" || verb === "post" ? verb : verb ? "program report" : "team report";
};

/**
 * `/mentorship-report`: acknowledged at once (Slack wants it within 3 s), then answered privately
 * through response_url however long the report takes. The request gate (request-guard.ts) has let
 * it through only with a response_url at Slack or at SLACK_API_URL's origin.
 */
export function handleReportCommand(deps: { surfaces: SurfacePort; log: Logger; concurrency?: number }) {
  // Reports are built a few at a time, so a burst of commands never delays the next one's ack.
  const gate = createGate(deps.concurrency ?? 2);
  return async ({ command, ack, respond }: Pick<CommandArgs, "command" | "ack" | "respond">): Promise<void> => {
    await ack();
    const started = performance.now();
    const who = { user: command.user_id, team: command.team_id, command: command.command };
    const action = actionOf(command.text ?? "");
    let outcome = "answered";
    await gate.enter();
    try {
      const answer = await deps.surfaces.command(command.user_id, command.text ?? "");
      await respond({ response_type: "ephemeral", text: answer.message.text, blocks: answer.message.blocks });
    } catch (err) {
      outcome = "failed";
      deps.log.error({ err: safeErrorMessage(err) }, "slash command failed");
      const m = ui.failure();
      await respond({ response_type: "ephemeral", text: m.text, blocks: m.blocks }).catch(() => {});
    } finally {
      gate.leave();
      const ms = Math.round(performance.now() - started);
      metrics.command(outcome, ms / 1000);
      deps.log.info({ audit: "slash_command", ...who, action, outcome, ms }, "slash command");
    }
  };
}

function createGate(size: number) {
  let active = 0;
  const waiting: Array<() => void> = [];
  return {
    async enter(): Promise<void> {
      if (active < size) {
        active++;
        return;
      }
      await new Promise<void>((resolve) => waiting.push(resolve));
    },
    leave(): void {
      const next = waiting.shift();
      // setImmediate, not a microtask: with SQLite's synchronous driver a build never yields, so the
      // next one starts only after pending I/O (other commands' acks) has had its turn.
      if (next) setImmediate(next);
      else active--;
    },
  };
}
