import type { App } from "@slack/bolt";
import { COMMAND } from "../../ids.js";
import type { Logger } from "../../logger.js";
import type { SurfaceService } from "../../services/surface-service.js";
import type { UploadService } from "../../services/upload-service.js";
import { handleReportCommand } from "./commands.js";
import { handleAppHomeOpened } from "./events.js";
import { handleFileShare } from "./uploads.js";

export function registerListeners(
  app: App,
  deps: { surfaces: SurfaceService; log: Logger; slackApiUrl: string; uploads?: UploadService },
): void {
  app.command(COMMAND, handleReportCommand(deps));
  app.event("app_home_opened", handleAppHomeOpened(deps));
  if (deps.uploads) app.event("message", handleFileShare({ uploads: deps.uploads, log: deps.log }));
}
