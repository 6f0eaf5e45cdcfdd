import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from "@slack/bolt";
import { safeErrorMessage } from "../../errors.js";
import { NUDGE_SETTINGS } from "../../ids.js";
import type { Logger } from "../../logger.js";
import { ACTIONS, type Message } from "../../render/blocks.js";
import * as ui from "../../render/surfaces.js";
import type { NudgePort, SurfacePort } from "../ports.js";

export type ButtonArgs = SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs;

/** An answer only the clicker sees, below the message they clicked in (which stays as it was). */
const privately = (respond: ButtonArgs["respond"], m: Message) =>
  respond({ response_type: "ephemeral", replace_original: false, text: m.text, blocks: m.blocks });

const BY_ACTION = {
  [ACTIONS.csv]: "csv",
  [ACTIONS.pause]: "pause",
  [ACTIONS.stop]: "stop",
  [ACTIONS.resume]: "resume",
  [ACTIONS.queueCsv]: "queueCsv",
} as const;

/**
 * The manager's buttons on the DM, the slash answer and the Home tab (§11): acknowledged at once, then
 * done. A click in a message is answered privately in that conversation; a click on the Home tab
 * republishes the tab, whose buttons then show the new state.
 */
export function handleReportButton(deps: { surfaces: SurfacePort; log: Logger }) {
  return async ({
    ack,
    body,
    action,
    respond,
    client,
  }: Pick<ButtonArgs, "ack" | "body" | "action" | "respond" | "client">) => {
    await ack();
    const name = BY_ACTION[action.action_id as keyof typeof BY_ACTION];
    // The Home tab link opens in the client; Slack still tells us of the click.
    if (!name) return;
    const user = body.user.id;
    try {
      const answer = await deps.surfaces.action(user, name);
      if (body.container?.type === "view") {
        await deps.surfaces.publishHome(user);
        if (name === "csv" || name === "queueCsv")
          await client.chat.postMessage({ channel: user, text: answer.text, blocks: answer.blocks });
      } else await privately(respond, answer);
      deps.log.info({ audit: "button", user, action: name }, "report button");
    } catch (err) {
      deps.log.error({ err: safeErrorMessage(err), action: name }, "report button failed");
      if (body.container?.type !== "view") await privately(respond, ui.failure()).catch(() => {});
    }
  };
}

/**
 * A Nudge button (§18) and the nudged mentor's "No more nudges" / back-on buttons. The button's value
 * only names the item; whether the clicker may nudge it is decided by the nudge service from their own
 * report. In a message the answer is private to the clicker; on the Home tab the tab is republished
 * (the button then shows the nudge) and the answer goes to the clicker's DM with the app.
 */
export function handleNudgeButton(deps: { nudges: NudgePort; surfaces: SurfacePort; log: Logger }) {
  return async ({
    ack,
    body,
    action,
    respond,
    client,
  }: Pick<ButtonArgs, "ack" | "body" | "action" | "respond" | "client">) => {
    await ack();
    const user = body.user.id;
    try {
      const answer =
        action.action_id === NUDGE_SETTINGS.off || action.action_id === NUDGE_SETTINGS.on
          ? await deps.nudges.setOff(user, action.action_id === NUDGE_SETTINGS.off)
          : await deps.nudges.nudge(user, action.value ?? "");
      if (body.container?.type === "view") {
        await deps.surfaces.publishHome(user);
        await client.chat.postMessage({ channel: user, text: answer.text, blocks: answer.blocks });
      } else await privately(respond, answer);
    } catch (err) {
      deps.log.error({ err: safeErrorMessage(err), action: "nudge" }, "nudge button failed");
      if (body.container?.type !== "view") await privately(respond, ui.failure()).catch(() => {});
    }
  };
}
