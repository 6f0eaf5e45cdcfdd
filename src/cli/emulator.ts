import { isAbsolute, resolve } from "node:path";
import { listAdminChannels, listPeople } from "../db/roster-repo.js";
import { CONSOLE_HELP, startConsole } from "../emulator/console.js";
import { SlackEmulator } from "../emulator/server.js";
import { messageAsText } from "../emulator/transcript.js";
import { type CliContext, UsageError } from "./context.js";

/** DATABASE_URL as serve should get it: a SQLite path made absolute, a password never printed. */
function databaseUrlForServe(url: string): string {
  if (/^postgres(ql)?:\/\//.test(url)) {
    const u = new URL(url);
    if (u.password) u.password = "PASSWORD";
    return u.toString();
  }
  return isAbsolute(url) ? url : resolve(url);
}

/**
 * The bundled Slack emulator as a process of its own, printing each message as it would read in
 * Slack: a local stand-in for a workspace when trying `send` or `serve`. Its workspace is the roster
 * only when asked (`--from-db`): it answers anyone holding its token, so it starts empty by default.
 */
export async function runEmulator(
  ctx: CliContext,
  opts: { port: string; appUrl?: string; fromDb?: boolean },
): Promise<number> {
  const port = Number(opts.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port ${JSON.stringify(opts.port)}: not a port number`);
  const [people, channels] = opts.fromDb
    ? await Promise.all([listPeople(ctx.db), listAdminChannels(ctx.db)])
    : [[], []];
  const users = people.map((p, i) => ({
    id: `U${String(i + 1).padStart(8, "0")}`,
    email: p.email,
    name: p.name,
    tz: p.timezone ?? undefined,
  }));
  const names = new Map(users.map((u) => [u.id, `${u.name} <${u.email}>`]));
  const workspaceChannels = channels.map((c, i) => ({
    id: `C${String(i + 1).padStart(8, "0")}`,
    name: c.replace(/^#/, ""),
  }));
  // A post reads as Slack shows it: in #name, not in an id.
  const channelNames = new Map(workspaceChannels.map((c) => [c.id, `#${c.name}`]));
  const emulator = await new SlackEmulator({ users, channels: workspaceChannels }).start(port);
  emulator.on("message", (m: Parameters<typeof messageAsText>[0] & { user?: string; channel: string }) => {
    ctx.io.out(
      `\n── ${m.user ? `DM to ${names.get(m.user) ?? m.user}` : `post in ${channelNames.get(m.channel) ?? m.channel}`} ${"─".repeat(20)}\n${messageAsText(m)}\n`,
    );
  });
  if (opts.fromDb)
    ctx.io.err(
      "warning: --from-db: this workspace holds every person of the roster in DATABASE_URL, mentees included, and answers any local process that has the token below.\n",
    );
  if (!users.length)
    ctx.io.out(
      opts.fromDb
        ? "The roster in DATABASE_URL is empty: import data first, then start the emulator again:\n" +
            "  npx mentorship-report import examples/sample     (or the folder of your exports)\n"
        : "The workspace is empty. To make it of your roster, import data first and start with --from-db:\n" +
            "  npx mentorship-report import examples/sample     (or the folder of your exports)\n" +
            "  npx mentorship-report emulator --from-db\n" +
            "(or type `as EMAIL` below to add one person)\n",
    );
  const appPort = new URL(opts.appUrl ?? "http://127.0.0.1:3000/slack/events").port || "3000";
  const databaseUrl = databaseUrlForServe(ctx.config.DATABASE_URL);
  const common = `PORT=${appPort} DATABASE_URL=${databaseUrl} SLACK_API_URL=${emulator.url} SLACK_BOT_TOKEN=${emulator.token}`;
  ctx.io.out(
    `Slack emulator at ${emulator.url} with ${users.length} users and ${channels.length} channels; its tokens are new each run.\n` +
      "Point the app at it, in another terminal (Socket Mode):\n" +
      `  ${common} SLACK_APP_TOKEN=${emulator.appToken} npx mentorship-report serve\n` +
      `  (HTTP mode instead: leave out SLACK_APP_TOKEN and give serve and this emulator the same SLACK_SIGNING_SECRET)\n` +
      (databaseUrl.includes(":PASSWORD@") ? "  (put the database's password in place of PASSWORD)\n" : "") +
      "Ctrl-C stops it.\n",
  );
  // Typed lines become signed requests to serve (HTTP mode, with the same signing secret) or go over
  // Socket Mode when serve is connected that way.
  const typed = startConsole({
    emulator,
    input: process.stdin,
    out: ctx.io.out,
    target: { url: opts.appUrl, signingSecret: ctx.config.SLACK_SIGNING_SECRET },
    names,
  });
  ctx.io.out(`${CONSOLE_HELP}\n> `);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  typed.close();
  await emulator.stop();
  return 0;
}
