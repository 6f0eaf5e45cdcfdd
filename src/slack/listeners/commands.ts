import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from "@slack/bolt";
import { safeErrorMessage } from "../../errors.js";
import type { Logger } from "../../logger.js";
import * as ui from "../../render/surfaces.js";
import type { SurfaceService } from "../../services/surface-service.js";

export type CommandArgs = SlackCommandMiddlewareArgs & AllMiddlewareArgs;

/**
 * `/mentorship-report`: acknowledged at once (Slack wants it within 3 s), then answered privately
 * through response_url however long the report takes.
 */
export function handleReportCommand(deps: { surfaces: SurfaceService; log: Logger; concurrency?: number }) {
  // Reports are built a few at a time, so a burst of commands never delays the next one's ack.
  const gate = createGate(deps.concurrency ?? 2);
  return async ({ command, ack, respond }: Pick<CommandArgs, "command" | "ack" | "respond">): Promise<void> => {
    await ack();
    const started = Date.now();
    await gate.enter();
    try {
      const answer = await deps.surfaces.command(command.user_id, command.text ?? "");
      await respond({ response_type: "ephemeral", text: answer.message.text, blocks: answer.message.blocks as never });
      if (answer.post) {
        const result = await deps.surfaces.postSummary(answer.post);
        await respond({ response_type: "ephemeral", text: result.text, blocks: result.blocks as never });
      }
      deps.log.info({ ms: Date.now() - started }, "slash command answered");
    } catch (err) {
      deps.log.error({ err: safeErrorMessage(err) }, "slash command failed");
      const m = ui.failure();
      await respond({ response_type: "ephemeral", text: m.text, blocks: m.blocks as never }).catch(() => {});
    } finally {
      gate.leave();
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
