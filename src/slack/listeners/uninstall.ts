import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from "@slack/bolt";
import { safeErrorMessage } from "../../errors.js";
import type { Logger } from "../../logger.js";

/** What the listener needs of the installations (§16); the service is handed in by app.ts. */
export interface Uninstalls {
  uninstalled(q: { teamId?: string; enterpriseId?: string; isEnterpriseInstall: boolean }): Promise<void>;
}

type Args = (SlackEventMiddlewareArgs<"app_uninstalled"> | SlackEventMiddlewareArgs<"tokens_revoked">) &
  AllMiddlewareArgs;

/**
 * app_uninstalled, and tokens_revoked naming bot tokens: the installation is removed. Bolt calls this
 * without authorizing (the token is already gone at Slack), so the ids come from the envelope.
 */
export function handleUninstall(deps: { uninstalls: Uninstalls; log: Logger }) {
  return async ({ event, body }: Pick<Args, "event" | "body">): Promise<void> => {
    if (event.type === "tokens_revoked" && !event.tokens.bot?.length) return;
    const envelope = body as {
      team_id?: string;
      enterprise_id?: string;
      authorizations?: Array<{ is_enterprise_install?: boolean; enterprise_id?: string | null }>;
    };
    const auth = envelope.authorizations?.[0];
    try {
      await deps.uninstalls.uninstalled({
        teamId: envelope.team_id,
        enterpriseId: envelope.enterprise_id ?? auth?.enterprise_id ?? undefined,
        isEnterpriseInstall: !!auth?.is_enterprise_install,
      });
    } catch (err) {
      deps.log.error({ err: safeErrorMessage(err) }, "uninstall failed");
    }
  };
}
