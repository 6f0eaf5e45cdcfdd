import { WebClient } from "@slack/web-api";
import type { Config } from "../config.js";
import type { InstallationInfo, InstallationRepo } from "../db/installation-repo.js";
import type { Logger } from "../logger.js";
import { clientWithToken } from "./client.js";
import { installationScope } from "./installation-scope.js";
import { readWithRetry } from "./retry.js";

/** A live installation: a workspace, or a Grid org whose one token serves its workspaces (§16). */
export interface Workspace {
  /** The installation's id: the team id, or the enterprise id of an org-wide install. */
  id: string;
  name: string | null;
  isOrg: boolean;
  installedAt: number;
}

/** With an org token these list one workspace and want its `team_id` (docs.slack.dev, org-wide apps). */
const NEEDS_TEAM = new Set(["users.list", "conversations.list"]);

const scope = installationScope;

/**
 * The one client the services hold when the app is installed from the link: each call goes out with
 * the token of the installation whose work is running (a request from its team, a delivery to one of
 * its people), set by `within`. A call outside any installation's work has no token, and Slack says so.
 */
class InstallationClient extends WebClient {
  override async apiCall(method: string, options?: Record<string, unknown>) {
    const s = scope.getStore();
    if (!s) return super.apiCall(method, options);
    const withTeam =
      s.teamId && NEEDS_TEAM.has(method) && options?.team_id === undefined
        ? { ...options, team_id: s.teamId }
        : options;
    return s.client.apiCall(method, withTeam);
  }
}

const LIVE_CACHE_MS = 5000;
const CHANNELS_CACHE_MS = 10 * 60_000;

const idOf = (i: InstallationInfo) => (i.isEnterpriseInstall ? i.enterpriseId : i.teamId) ?? i.key;

/** A Slack client per installation, from one place, and the client that follows the work's installation. */
export function createWorkspaces(deps: {
  installations: InstallationRepo;
  config: Pick<Config, "SLACK_API_URL">;
  concurrency?: number;
  now?: () => number;
}) {
  const clients = new Map<string, { token: string; client: WebClient }>();
  const clientFor = (id: string, token: string) => {
    const had = clients.get(id);
    if (had?.token === token) return had.client;
    const client = clientWithToken(token, deps.config, { concurrency: deps.concurrency });
    clients.set(id, { token, client });
    return client;
  };
  const routed = new InstallationClient(undefined, { slackApiUrl: deps.config.SLACK_API_URL });
  const now = deps.now ?? Date.now;

  // Read once for a few seconds, not once per message: a delivery asks for each row's installation.
  let cached: { at: number; rows: Promise<Array<InstallationInfo & { token: string; id: string }>> } | null = null;
  function live() {
    if (!cached || now() - cached.at > LIVE_CACHE_MS) {
      const rows = deps.installations.live().then((rs) => rs.map((r) => ({ ...r, id: idOf(r) })));
      cached = { at: now(), rows };
      rows.catch(() => {
        cached = null;
      });
    }
    return cached.rows;
  }

  /** The workspaces each org-wide install reaches (auth.teams.list), read again at most once a minute. */
  const orgTeams = new Map<string, { at: number; teams: Set<string> }>();
  async function teamsOf(orgId: string, token: string, fresh: boolean): Promise<Set<string>> {
    const had = orgTeams.get(orgId);
    if (had && (!fresh || now() - had.at < 60_000)) return had.teams;
    const client = clientFor(orgId, token);
    const teams = new Set<string>();
    let cursor: string | undefined;
    do {
      const page = await client.auth.teams.list({ cursor, limit: 1000 });
      for (const t of page.teams ?? []) if (t.id) teams.add(t.id);
      cursor = page.response_metadata?.next_cursor || undefined;
    } while (cursor);
    orgTeams.set(orgId, { at: now(), teams });
    return teams;
  }

  /** Each installation's channels by id and by name, to their id (an org's, across its workspaces), kept ten minutes. */
  const channelLists = new Map<string, { at: number; names: Promise<Map<string, string>> }>();
  function channelsOf(ws: Workspace, log: Logger): Promise<Map<string, string>> {
    const had = channelLists.get(ws.id);
    if (had && now() - had.at < CHANNELS_CACHE_MS) return had.names;
    const names = (async () => {
      const r = (await live()).find((x) => x.id === ws.id);
      if (!r) return new Map<string, string>();
      const client = clientFor(r.id, r.token);
      const teams = ws.isOrg ? [...(await teamsOf(r.id, r.token, false))] : [undefined];
      const out = new Map<string, string>();
      for (const team of teams) {
        let cursor: string | undefined;
        do {
          const page = await readWithRetry(
            "conversations.list",
            () =>
              client.conversations.list({
                limit: 1000,
                cursor,
                exclude_archived: true,
                types: "public_channel,private_channel",
                ...(team ? { team_id: team } : {}),
              }),
            log,
          );
          for (const c of page.channels ?? []) {
            if (!c.id) continue;
            out.set(c.id, c.id);
            if (c.name) out.set(c.name, c.id);
          }
          cursor = page.response_metadata?.next_cursor || undefined;
        } while (cursor);
      }
      return out;
    })();
    channelLists.set(ws.id, { at: now(), names });
    names.catch(() => channelLists.delete(ws.id));
    return names;
  }

  return {
    /** Holds no token: its calls go with the token of the installation `within` set. */
    client: routed as WebClient,
    /** The live installations, oldest first (the directory's order, §16). */
    async list(): Promise<Workspace[]> {
      return (await live()).map((r) => ({
        id: r.id,
        name: r.isEnterpriseInstall ? r.enterpriseName : r.teamName,
        isOrg: r.isEnterpriseInstall,
        installedAt: r.installedAt,
      }));
    },
    /** The client of one installation; null when it is not (or no longer) installed. */
    async clientOf(id: string): Promise<WebClient | null> {
      const r = (await live()).find((x) => x.id === id);
      return r ? clientFor(r.id, r.token) : null;
    },
    /** Runs `work` with `client` and every call of the routed client going out with installation `id`'s token. */
    async within<T>(id: string, work: () => Promise<T>, teamId?: string): Promise<T> {
      const r = (await live()).find((x) => x.id === id);
      if (!r) throw new WorkspaceGone(id);
      return scope.run({ id: r.id, client: clientFor(r.id, r.token), teamId }, work);
    },
    /**
     * The installations a channel (an id, or `#name`) is in, oldest first: each installation's channels
     * listed once in a while. An id is in one; a name may be in several.
     */
    async findChannel(nameOrId: string, log: Logger): Promise<Array<{ workspace: Workspace; channelId: string }>> {
      const wanted = nameOrId.replace(/^#/, "");
      const found: Array<{ workspace: Workspace; channelId: string }> = [];
      for (const ws of await this.list()) {
        const id = (await channelsOf(ws, log)).get(wanted);
        if (id) found.push({ workspace: ws, channelId: id });
      }
      return found;
    },
    /** Installed or uninstalled just now: the next look reads the database. */
    forget(): void {
      cached = null;
    },
    /**
     * The installation that serves requests from `teamId`: its own, else the org-wide install of an org
     * that reaches it (auth.teams.list); null when the app is not installed there.
     */
    async servingTeam(teamId: string): Promise<Workspace | null> {
      const rows = await live();
      const own = rows.find((r) => !r.isEnterpriseInstall && r.teamId === teamId);
      const orgs = rows.filter((r) => r.isEnterpriseInstall);
      let org: (typeof rows)[number] | undefined = own ? undefined : orgs.find((r) => r.id === teamId);
      if (!own && !org)
        for (const fresh of [false, true])
          for (const r of orgs) if (!org && (await teamsOf(r.id, r.token, fresh)).has(teamId)) org = r;
      const r = own ?? org;
      return r
        ? {
            id: r.id,
            name: r.isEnterpriseInstall ? r.enterpriseName : r.teamName,
            isOrg: r.isEnterpriseInstall,
            installedAt: r.installedAt,
          }
        : null;
    },
    /**
     * Whether a request naming this team (of this org) is served: the team's own installation, the
     * org-wide install of its org, or one whose workspaces (auth.teams.list) include it.
     */
    async serves(teamId: string, enterpriseId: string | undefined): Promise<boolean> {
      if (enterpriseId && (await live()).some((r) => r.isEnterpriseInstall && r.enterpriseId === enterpriseId))
        return true;
      return (await this.servingTeam(teamId)) !== null;
    },
    /** Runs `work` for a request Bolt authorized with `token`, from team `teamId`. */
    withToken<T>(id: string, token: string, work: () => Promise<T>, teamId?: string): Promise<T> {
      return scope.run({ id, client: clientFor(id, token), teamId }, work);
    },
  };
}

export type Workspaces = ReturnType<typeof createWorkspaces>;

/** The installation was removed (app_uninstalled, tokens_revoked) while its work was waiting. */
export class WorkspaceGone extends Error {
  readonly code = "workspace_gone";
  constructor(id: string) {
    super(`the app is no longer installed in ${id}`);
  }
}
