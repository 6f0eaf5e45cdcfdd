import type { WebClient } from "@slack/web-api";
import type { Logger } from "../logger.js";

/**
 * A link that opens the app's Home tab (slack://app?team=…&id=…&tab=home), from the token's team and the
 * bot's app: two reads, once per process. Undefined when Slack does not tell: the DM then goes without
 * that button rather than with a broken one.
 */
export function homeLinkOf(slack: WebClient, log: Logger): () => Promise<string | undefined> {
  let link: Promise<string | undefined> | null = null;
  return () => {
    link ??= (async () => {
      try {
        const auth = await slack.auth.test();
        if (!auth.team_id || !auth.bot_id) return undefined;
        const bot = await slack.bots.info({ bot: auth.bot_id });
        const app = bot.bot?.app_id;
        return app ? `slack://app?team=${auth.team_id}&id=${app}&tab=home` : undefined;
      } catch (err) {
        log.warn(
          { reason: (err as Error).message },
          "could not learn the app's id: DMs go without the Home tab button",
        );
        link = null;
        return undefined;
      }
    })();
    return link;
  };
}
