import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from "@slack/bolt";
import { safeErrorMessage } from "../../errors.js";
import type { Logger } from "../../logger.js";
import type { SurfacePort } from "../ports.js";

export type HomeOpenedArgs = SlackEventMiddlewareArgs<"app_home_opened"> & AllMiddlewareArgs;

/** The Home tab: published fresh each time the viewer opens it. */
export function handleAppHomeOpened(deps: { surfaces: SurfacePort; log: Logger }) {
  return async ({ event }: Pick<HomeOpenedArgs, "event" | "client">): Promise<void> => {
    if (event.tab && event.tab !== "home") return;
    try {
      // The surface service publishes it: with charts, and without them where the workspace refuses them.
      await deps.surfaces.publishHome(event.user);
    } catch (err) {
      deps.log.error({ err: safeErrorMessage(err) }, "home tab failed");
    }
  };
}
