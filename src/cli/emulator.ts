import { listAdminChannels, listPeople } from "../db/roster-repo.js";
import { CONSOLE_HELP, startConsole } from "../emulator/console.js";
import { SlackEmulator } from "../emulator/server.js";
import { messageAsText } from "../emulator/transcript.js";
import { type CliContext, UsageError } from "./context.js";

/**
 * The bundled Slack emulator as a process of its own, its workspace made of the roster and the
 * programs' channels, printing each message as it would read in Slack: a local stand-in for a
 * workspace when trying `send` or `serve`.
 */
export async function runEmulator(ctx: CliContext, opts: { port: string; appUrl?: string }): Promise<number> {
  const port = Number(opts.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port ${JSON.stringify(opts.port)}: not a port number`);
  const [people, channels] = await Promise.all([listPeople(ctx.db), listAdminChannels(ctx.db)]);
  const users = people.map((p, i) => ({
    id: `U${String(i + 1).padStart(8, "0")}`,
    email: p.email,
    name: p.name,
    tz: p.timezone ?? undefined,
  }));
  const names = new Map(users.map((u) => [u.id, `${u.name} <${u.email}>`]));
  const emulator = await new SlackEmulator({
    users,
    channels: channels.map((c, i) => ({ id: `C${String(i + 1).padStart(8, "0")}`, name: c.replace(/^#/, "") })),
  }).start(port);
  emulator.on("message", (m: Parameters<typeof messageAsText>[0] & { user?: string; channel: string }) => {
    ctx.io.out(
      `\n── ${m.user ? `DM to ${names.get(m.user)}` : `post in ${m.channel}`} ${"─".repeat(20)}\n${messageAsText(m)}\n`,
    );
  });
  ctx.io.out(
    `Slack emulator with ${users.length} users and ${channels.length} channels. Point the app at it (Socket Mode):\n` +
      `  SLACK_API_URL=${emulator.url} SLACK_BOT_TOKEN=${emulator.token} SLACK_APP_TOKEN=${emulator.appToken} npx mentorship-report serve\n` +
      "  (for HTTP mode instead, leave out SLACK_APP_TOKEN and give serve and this emulator the same SLACK_SIGNING_SECRET)\n" +
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
  ctx.io.out(`${CONSOLE_HELP}\n`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  typed.close();
  await emulator.stop();
  return 0;
}
