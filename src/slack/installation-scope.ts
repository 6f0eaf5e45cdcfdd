import { AsyncLocalStorage } from "node:async_hooks";
import type { WebClient } from "@slack/web-api";

/** The installation whose work is running (a request from its team, a delivery to one of its people). */
export interface InstallationScope {
  client: WebClient;
  /** The workspace a request came from: an org token's calls that list one workspace name it. */
  teamId?: string;
}

/** Set by `Workspaces.within`/`withToken` (workspaces.ts); read by the routed client and file downloads. */
export const installationScope = new AsyncLocalStorage<InstallationScope>();

/** The bot token of the installation at work, when installed from the link (§16). */
export const scopedToken = (): string | undefined => installationScope.getStore()?.client.token;
