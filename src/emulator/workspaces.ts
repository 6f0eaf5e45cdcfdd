import type { EmulatedChannel, EmulatedUser } from "./server.js";

/** One more workspace the emulator hosts (§16), beside its default one (T0EMULATED). */
export interface EmulatedWorkspace {
  teamId: string;
  name: string;
  users: EmulatedUser[];
  channels?: EmulatedChannel[];
  /** The Grid org the workspace belongs to. */
  enterpriseId?: string;
  /** The bot token an install hands out; default `xoxb-<team>-emulated`. */
  token?: string;
}

/** An Enterprise Grid org: its workspaces name it by `enterpriseId`; an org-wide install's one token serves them all. */
export interface EmulatedOrg {
  enterpriseId: string;
  name: string;
  token?: string;
}

/** Whose token a call carries: the default workspace, one workspace, or a Grid org (org-wide install). */
export interface Tenant {
  kind: "default" | "workspace" | "org";
  /** The team id, or the enterprise id of an org. */
  id: string;
  name: string;
  token: string;
  enterpriseId?: string;
  users: EmulatedUser[];
  channels: EmulatedChannel[];
  /** The workspaces the token reaches (auth.teams.list). */
  teams: Array<{ id: string; name: string }>;
}

export const tokenOf = (w: { teamId?: string; enterpriseId?: string; token?: string }) =>
  w.token ?? `xoxb-${w.teamId ?? w.enterpriseId}-emulated`;

/** The tenants of every workspace and org, each workspace's users and channels, and where each id lives. */
export function buildTenants(workspaces: EmulatedWorkspace[], org: EmulatedOrg | undefined) {
  const tenants: Tenant[] = workspaces.map((w) => ({
    kind: "workspace",
    id: w.teamId,
    name: w.name,
    token: tokenOf(w),
    enterpriseId: w.enterpriseId,
    users: w.users,
    channels: w.channels ?? [],
    teams: [{ id: w.teamId, name: w.name }],
  }));
  if (org) {
    const members = workspaces.filter((w) => w.enterpriseId === org.enterpriseId);
    // A Grid user is one id across the org: seen once, whichever workspaces hold them.
    const users = new Map<string, EmulatedUser>();
    for (const w of members) for (const u of w.users) users.set(u.id, u);
    tenants.push({
      kind: "org",
      id: org.enterpriseId,
      name: org.name,
      token: tokenOf(org),
      enterpriseId: org.enterpriseId,
      users: [...users.values()],
      channels: members.flatMap((w) => w.channels ?? []),
      teams: members.map((w) => ({ id: w.teamId, name: w.name })),
    });
  }
  const teamOf = new Map<string, string>();
  for (const w of workspaces) {
    for (const u of w.users) if (!teamOf.has(u.id)) teamOf.set(u.id, w.teamId);
    for (const c of w.channels ?? []) teamOf.set(c.id, w.teamId);
  }
  return { tenants, teamOf };
}

/** The consent page of /oauth/v2/authorize: where to install, as Slack asks the installer. */
export function consentPage(url: URL, tenants: Tenant[]): string {
  const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const links = tenants
    .filter((t) => t.kind !== "default")
    .map((t) => {
      const to = new URL(url);
      to.searchParams.set("team", t.id);
      const what = t.kind === "org" ? `the whole org ${t.name} (org-wide)` : `the workspace ${t.name}`;
      return `<li><a href="${esc(to.pathname + to.search)}">Allow in ${esc(what)}</a></li>`;
    });
  return `<!doctype html><html><body><h1>Emulated Slack: install the app</h1><ul>${links.join("")}</ul></body></html>`;
}

/**
 * What an installer's browser does with the install link: open the app's /slack/install, allow on the
 * (emulated) authorize page for `team` (a team id, or an enterprise id for an org-wide install), and
 * follow the redirect back with the state cookie. Returns the app's last page.
 */
export async function installThroughLink(appUrl: string, team: string): Promise<{ status: number; page: string }> {
  const start = await fetch(`${appUrl}/slack/install`, { redirect: "manual" });
  const cookie = (start.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  const authorize = new URL(start.headers.get("location") ?? "");
  authorize.searchParams.set("team", team);
  const consent = await fetch(authorize, { redirect: "manual" });
  const back = consent.headers.get("location");
  if (!back) return { status: consent.status, page: await consent.text() };
  const done = await fetch(back, { headers: { Cookie: cookie }, redirect: "manual" });
  return { status: done.status, page: await done.text() };
}
