import type { WebClient } from "@slack/web-api";
import type { DeliveryRow } from "../db/ledger-repo.js";
import { METADATA_EVENT } from "../ids.js";
import type { Logger } from "../logger.js";
import { readWithRetry } from "../slack/retry.js";

export interface Reconciler {
  /** Looks in Slack for a post of this row that may have gone out before a crash or a lost response. */
  findPosted(
    row: DeliveryRow,
    target: { kind: string; channel: string },
  ): Promise<{ channel: string; ts: string } | null>;
}

export function createReconciler(deps: { slack: WebClient; log: Logger; retryBaseMs: number }): Reconciler {
  const { slack, log } = deps;
  const retry = { baseMs: deps.retryBaseMs };
  let channelIds: Map<string, string> | null = null;

  /** conversations.history wants an id; a program may name its channel `#name`. */
  async function channelId(nameOrId: string): Promise<string> {
    if (/^[CGD][A-Z0-9]+$/.test(nameOrId)) return nameOrId;
    if (!channelIds) {
      const ids = new Map<string, string>();
      let cursor: string | undefined;
      do {
        const page = await readWithRetry(
          "conversations.list",
          () =>
            slack.conversations.list({
              limit: 1000,
              cursor,
              exclude_archived: true,
              types: "public_channel,private_channel",
            }),
          log,
          retry,
        );
        for (const c of page.channels ?? []) if (c.name && c.id) ids.set(c.name, c.id);
        cursor = page.response_metadata?.next_cursor || undefined;
      } while (cursor);
      channelIds = ids;
    }
    return channelIds.get(nameOrId.replace(/^#/, "")) ?? nameOrId;
  }

  async function conversationOf(target: { kind: string; channel: string }): Promise<string> {
    if (target.kind === "channel") return channelId(target.channel);
    const open = await readWithRetry(
      "conversations.open",
      () => slack.conversations.open({ users: target.channel }),
      log,
      retry,
    );
    const id = open.channel?.id;
    if (!id) throw new Error("conversations.open answered without a channel");
    return id;
  }

  return {
    async findPosted(row, target) {
      const channel = await conversationOf(target);
      const history = await readWithRetry(
        "conversations.history",
        () =>
          slack.conversations.history({
            channel,
            oldest: String(Math.floor(row.updatedAt / 1000) - 300),
            limit: 200,
            include_all_metadata: true,
          }),
        log,
        retry,
      );
      for (const m of history.messages ?? []) {
        const md = (m as { metadata?: { event_type?: string; event_payload?: Record<string, unknown> } }).metadata;
        if (
          m.ts &&
          md?.event_type === METADATA_EVENT &&
          md.event_payload?.delivery_id === row.id &&
          md.event_payload?.period === row.periodId
        ) {
          return { channel, ts: m.ts };
        }
      }
      return null;
    },
  };
}
