import { randomBytes } from "node:crypto";
import { listAdminChannels, listPeople } from "../db/roster-repo.js";
import { SlackEmulator } from "../emulator/server.js";
import { messageAsText } from "../emulator/transcript.js";
import type { EmulatedWorkspace } from "../emulator/workspaces.js";
import { type CliContext, UsageError } from "./context.js";

const GRID = "E0ACME";
const TEAMS = [
  { teamId: "T0ALPHA", name: "Alpha" },
  { teamId: "T0BETA", name: "Beta" },
  { teamId: "T0GRID1", name: "Grid One", enterpriseId: GRID },
  { teamId: "T0GRID2", name: "Grid Two", enterpriseId: GRID },
  { teamId: "T0GRID3", name: "Grid Three", enterpriseId: GRID },
];

/**
 * `emulator --grid` (§16): the roster dealt round two workspaces and a Grid org of three, the programs'
 * channels in the org's first workspace, nothing installed yet: serve, started with the variables it
 * prints, is installed from its link in a browser (the emulator's consent page lists where).
 */
export async function runGridEmulator(ctx: CliContext, opts: { port: string }): Promise<number> {
  const port = Number(opts.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port ${JSON.stringify(opts.port)}: not a port number`);
  const [people, channels] = await Promise.all([listPeople(ctx.db), listAdminChannels(ctx.db)]);
  const workspaces: EmulatedWorkspace[] = TEAMS.map((t, w) => ({
    ...t,
    users: people
      .map((p, i) => ({
        id: `U${t.teamId.slice(2, 5)}${String(i + 1).padStart(5, "0")}`,
        email: p.email,
        name: p.name,
        i,
      }))
      .filter((u) => u.i % TEAMS.length === w)
      .map(({ i: _i, ...u }) => u),
    channels:
      t.teamId === "T0GRID1"
        ? channels.map((c, i) => ({ id: `C${String(i + 1).padStart(8, "0")}`, name: c.replace(/^#/, "") }))
        : [],
  }));
  const where = new Map(
    workspaces.flatMap((w) => w.users.map((u) => [u.id, `${u.name} <${u.email}> in ${w.name}`] as const)),
  );
  const emulator = await new SlackEmulator({ workspaces, org: { enterpriseId: GRID, name: "Acme Org" } }).start(port);
  emulator.on(
    "message",
    (m: Parameters<typeof messageAsText>[0] & { user?: string; channel: string; via?: string }) => {
      const to = m.user ? `DM to ${where.get(m.user) ?? m.user}` : `post in ${m.channel}`;
      ctx.io.out(`\n── ${to} (token of ${m.via}) ${"─".repeat(12)}\n${messageAsText(m)}\n`);
    },
  );
  const secret = () => randomBytes(16).toString("hex");
  ctx.io.out(
    `Slack emulator with two workspaces (Alpha, Beta) and a Grid org (Acme Org: Grid One, Two, Three), ${people.length} people dealt round them.\n` +
      "Start serve installed from the link:\n" +
      `  SLACK_API_URL=${emulator.url} SLACK_CLIENT_ID=1111.2222 SLACK_CLIENT_SECRET=emulator-client-secret ` +
      `SLACK_STATE_SECRET=${secret()} TOKEN_ENCRYPTION_KEY=${randomBytes(32).toString("base64")} ` +
      `SLACK_SIGNING_SECRET=${secret()} npx mentorship-report serve\n` +
      "then open http://localhost:3000/slack/install in a browser, once for each workspace or the org, and\n" +
      "  npx mentorship-report send   (with the same variables) to see each DM arrive in its workspace.\n" +
      "Ctrl-C stops it.\n",
  );
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await emulator.stop();
  return 0;
}
