import type { App, BlockButtonAction } from "@slack/bolt";
import { COMMAND, NUDGE_ACTION_PATTERN, NUDGE_SETTINGS } from "../../ids.js";
import type { Logger } from "../../logger.js";
import { ACTIONS } from "../../render/blocks.js";
import type { NudgePort, SurfacePort, UploadPort } from "../ports.js";
import { handleNudgeButton, handleReportButton } from "./actions.js";
import { handleReportCommand } from "./commands.js";
import { handleAppHomeOpened } from "./events.js";
import { handleFileShare } from "./uploads.js";

export function registerListeners(
  app: App,
  deps: { surfaces: SurfacePort; log: Logger; uploads?: UploadPort; nudges?: NudgePort },
): void {
  app.command(COMMAND, handleReportCommand(deps));
  app.event("app_home_opened", handleAppHomeOpened(deps));
  const button = handleReportButton(deps);
  for (const id of Object.values(ACTIONS)) app.action<BlockButtonAction>(id, button);
  if (deps.nudges) {
    const nudge = handleNudgeButton({ nudges: deps.nudges, surfaces: deps.surfaces, log: deps.log });
    for (const id of [NUDGE_ACTION_PATTERN, NUDGE_SETTINGS.off, NUDGE_SETTINGS.on])
      app.action<BlockButtonAction>(id, nudge);
  }
  if (deps.uploads) app.event("message", handleFileShare({ uploads: deps.uploads, log: deps.log }));
}
