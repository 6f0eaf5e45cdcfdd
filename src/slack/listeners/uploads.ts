import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from "@slack/bolt";
import { safeErrorMessage } from "../../errors.js";
import type { Logger } from "../../logger.js";
import type { UploadPort } from "../ports.js";

export type MessageArgs = SlackEventMiddlewareArgs<"message"> & AllMiddlewareArgs;

/**
 * Files shared in a DM with the app (a `message` event, subtype file_share, channel_type im) go to
 * the upload service; every other message is left alone. Slack resends an event it thinks was not
 * received, so a share already taken is not taken twice.
 */
export function handleFileShare(deps: { uploads: UploadPort; log: Logger }) {
  const seen = new Set<string>();
  return async ({ event }: Pick<MessageArgs, "event">): Promise<void> => {
    if (event.channel_type !== "im" || event.subtype !== "file_share") return;
    // The app's own uploads (the problems file it attaches) come back as shares too.
    if ("bot_id" in event && event.bot_id) return;
    const files = event.files ?? [];
    if (!event.user || !files.length) return;
    const key = `${event.channel}:${event.ts}`;
    if (seen.has(key)) return;
    seen.add(key);
    if (seen.size > 1000) seen.delete(seen.values().next().value!);
    try {
      await deps.uploads.receive({
        user: event.user,
        channel: event.channel,
        ts: event.ts,
        fileIds: files.map((f) => f.id),
      });
    } catch (err) {
      deps.log.error({ err: safeErrorMessage(err) }, "file share failed");
    }
  };
}
