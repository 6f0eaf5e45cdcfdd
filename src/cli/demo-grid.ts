import { randomBytes } from "node:crypto";
import { createApp } from "../app.js";
import { listPeople } from "../db/roster-repo.js";
import type { EmulatedUser } from "../emulator/server.js";
import { SlackEmulator } from "../emulator/server.js";
import { type EmulatedWorkspace, installThroughLink } from "../emulator/workspaces.js";
import { importDirectory } from "../import/import-service.js";
import { buildInstallationLines } from "../render/installations.js";
import { startSlackApp } from "../slack/app.js";
import { type CliContext, parseAsOf } from "./context.js";
import { SAMPLE_DIR } from "./demo.js";
import { buildRunSummaryText } from "./run-summary.js";

const GRID = "E0ACME";
const rule = (title: string) => `\n── ${title} ${"─".repeat(Math.max(4, 74 - title.length))}\n`;

/** The sample company's managers spread over two workspaces and a Grid org of three; Olivia is in both workspaces. */
const PLACES: Record<string, string[]> = {
  "dana@acme.example": ["T0ALPHA"],
  "olivia@acme.example": ["T0ALPHA", "T0BETA"],
  "marcus@acme.example": ["T0BETA"],
  "priya@acme.example": ["T0GRID2"],
  "sam@acme.example": ["T0GRID3"],
};
const TEAMS = [
  { teamId: "T0ALPHA", name: "Alpha" },
  { teamId: "T0BETA", name: "Beta", channels: [{ id: "C0000LEAD", name: "leadership-circle" }] },
  { teamId: "T0GRID1", name: "Grid One", enterpriseId: GRID, channels: [{ id: "C0000ENG1", name: "mentorship-eng" }] },
  { teamId: "T0GRID2", name: "Grid Two", enterpriseId: GRID },
  { teamId: "T0GRID3", name: "Grid Three", enterpriseId: GRID },
];

/**
 * `demo --grid` (§16): the app installed from its link into two workspaces and a Grid org, all in the
 * emulator, then one delivery: each manager's DM lands in the workspace they were found in, sent with
 * that installation's token.
 */
export async function runGridDemo(ctx: CliContext, opts: { asOf: string }): Promise<number> {
  const { io, db } = ctx;
  const zone = ctx.config.REPORT_TIMEZONE;
  const asOf = parseAsOf(opts.asOf, zone);
  io.out(rule("1. Import the sample company (examples/sample)"));
  const imported = await importDirectory(db, SAMPLE_DIR, { zone });
  if (!imported.ok) return 1;

  const people = await listPeople(db);
  const byTeam = new Map<string, EmulatedUser[]>(TEAMS.map((t) => [t.teamId, []]));
  people.forEach((p, i) => {
    for (const team of PLACES[p.email] ?? ["T0GRID1"])
      byTeam
        .get(team)
        ?.push({ id: `U${team.slice(2, 5)}${String(i + 1).padStart(5, "0")}`, email: p.email, name: p.name });
  });
  const workspaces: EmulatedWorkspace[] = TEAMS.map((t) => ({ ...t, users: byTeam.get(t.teamId) ?? [] }));
  const emulator = await new SlackEmulator({ workspaces, org: { enterpriseId: GRID, name: "Acme Org" } }).start();
  const names = new Map(workspaces.flatMap((w) => w.users.map((u) => [u.id, `${u.name} <${u.email}>`] as const)));
  const channelNames = new Map(TEAMS.flatMap((t) => (t.channels ?? []).map((c) => [c.id, c.name] as const)));
  const teamNames = new Map<string, string>([...TEAMS.map((t) => [t.teamId, t.name] as const), [GRID, "Acme Org"]]);
  const config = {
    ...ctx.config,
    SLACK_BOT_TOKEN: undefined,
    SLACK_APP_TOKEN: undefined,
    SLACK_API_URL: emulator.url,
    SLACK_CLIENT_ID: "1111.2222",
    SLACK_CLIENT_SECRET: "emulator-client-secret",
    SLACK_STATE_SECRET: randomBytes(16).toString("hex"),
    TOKEN_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
    SLACK_SIGNING_SECRET: randomBytes(16).toString("hex"),
    PORT: 0,
    HTTP_HOST: "127.0.0.1",
    DELIVERY_RATE_PER_MINUTE: 6000,
    // Every manager, so that Olivia (in two workspaces) gets one too.
    REPORT_SCOPE: "all" as const,
  };
  const app = createApp({ ...ctx, config });
  const running = await startSlackApp({
    config,
    log: ctx.log,
    surfaces: app.surfaces,
    slack: app.slack,
    health: async () => ({ ok: true }),
    link: app.link ?? undefined,
  });
  try {
    const appUrl = `http://127.0.0.1:${running.port}`;
    io.out(rule(`2. Install from the link (${appUrl}/slack/install), as three admins would`));
    for (const team of ["T0BETA", "T0ALPHA", GRID]) {
      const r = await installThroughLink(appUrl, team);
      const title = /<h1>([^<]*)<\/h1>/.exec(r.page)?.[1] ?? `HTTP ${r.status}`;
      io.out(`  ${teamNames.get(team)}: ${title}\n`);
    }
    io.out(rule(`3. Deliver the period (report as of ${opts.asOf} ${zone})`));
    io.out(buildRunSummaryText(await app.delivery.deliverPeriod({ asOf }), zone));
    for (const m of emulator.messages) {
      const to = m.user
        ? `DM to ${names.get(m.user) ?? m.user}`
        : `post in #${channelNames.get(m.channel) ?? m.channel}`;
      io.out(`  ${to.padEnd(48)} in ${teamNames.get(m.team ?? "")} with ${teamNames.get(m.via ?? "")}'s token\n`);
    }
    io.out(
      "  Olivia is in Alpha and in Beta: Beta was installed first, so her report goes there (oldest installation first).\n",
    );
    io.out(rule("4. What `status` shows"));
    io.out(`${buildInstallationLines(await app.link!.service.list(), zone).join("\n")}\n`);
    return 0;
  } finally {
    await running.stop();
    await emulator.stop();
  }
}
