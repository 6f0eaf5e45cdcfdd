import { AsyncLocalStorage } from "node:async_hooks";
import type { WebClient } from "@slack/web-api";

/** The installation whose work is running (a request from its team, a delivery to one of its people). */
export interface InstallationScope {
  /** The installation's id: a team id, or an org-wide install's enterprise id. */
  id: string;
  client: WebClient;
  /** The workspace a request came from: an org token's calls that list one workspace name it. */
  teamId?: string;
}

/** Set by `Workspaces.within`/`withToken` (workspaces.ts); read by the routed client and file downloads. */
export const installationScope = new AsyncLocalStorage<InstallationScope>();

/** The installation at work, when installed from the link (§16). */
export const scopedInstallation = (): string | undefined => installationScope.getStore()?.id;

/** The bot token of the installation at work, when installed from the link (§16). */
export const scopedToken = (): string | undefined => installationScope.getStore()?.client.token;
