import type { App } from "@slack/bolt";
import type { Logger } from "../../logger.js";
import type { SurfaceService } from "../../services/surface-service.js";
import { COMMAND } from "../ids.js";
import { handleReportCommand } from "./commands.js";
import { handleAppHomeOpened } from "./events.js";

export function registerListeners(app: App, deps: { surfaces: SurfaceService; log: Logger }): void {
  app.command(COMMAND, handleReportCommand(deps));
  app.event("app_home_opened", handleAppHomeOpened(deps));
}
