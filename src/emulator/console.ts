import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import type { SharedUpload, SlackEmulator } from "./server.js";
import { messageAsText } from "./transcript.js";

/** Where the app listens: its /slack/events URL and signing secret (or a Socket Mode client is connected). */
export interface AppTarget {
  url?: string;
  signingSecret?: string;
}

const SHORT: Record<string, string> = {
  csv: "report_csv",
  pause: "report_pause",
  skip: "report_pause",
  stop: "report_stop",
  resume: "report_resume",
};

export const CONSOLE_HELP = [
  "Type as a Slack user would (the app must be running: serve, pointed at this emulator):",
  "  as EMAIL                 act as this person from now on",
  "  /mentorship-report ...   the slash command, e.g. /mentorship-report eng",
  "  home                     open the app's Home tab",
  "  click csv|pause|stop|resume   press that button on your last DM from the app (or your Home tab)",
  "  help                     this list",
].join("\n");

/**
 * The emulator's console: prints what the app shows people (Home views, slash answers, files) and
 * turns lines typed on stdin into signed slash commands, button clicks and Home tab openings sent to
 * a running `serve`, so every surface can be tried without writing an HMAC script.
 */
export function startConsole(opts: {
  emulator: SlackEmulator;
  input: Readable;
  out: (s: string) => void;
  target: AppTarget;
  names: Map<string, string>;
}): { close(): void } {
  const { emulator, out, target, names } = opts;
  let user: string | null = null;
  const who = (id: string) => names.get(id) ?? id;

  const onView = (v: { userId: string; view: { blocks?: unknown[] } }) =>
    out(`\n── Home tab of ${who(v.userId)} ${"─".repeat(20)}\n${messageAsText({ text: "", blocks: v.view.blocks })}\n`);
  const onResponse = (body: { text?: string; blocks?: unknown[] }) =>
    out(
      `\n── answer (only you see it) ${"─".repeat(20)}\n${messageAsText({ text: body.text ?? "", blocks: body.blocks })}\n`,
    );
  const onUpload = (u: SharedUpload) => {
    for (const f of u.files) {
      const lines = f.content.toString("utf8").trimEnd().split(/\r?\n/).length;
      out(`\n── file ${f.name} in ${u.channel}: ${lines - 1} rows and a header ${"─".repeat(10)}\n`);
    }
  };
  emulator.on("view", onView);
  emulator.on("response", onResponse);
  emulator.on("upload", onUpload);

  async function handle(line: string): Promise<void> {
    const [word = "", ...rest] = line.trim().split(/\s+/);
    if (!word) return;
    if (word === "help") return out(`${CONSOLE_HELP}\n`);
    if (word === "as") {
      const id = emulator.userIdOf(rest[0] ?? "");
      if (!id) return out(`No user with the email ${JSON.stringify(rest[0] ?? "")} in this workspace.\n`);
      user = id;
      return out(`Acting as ${who(id)}.\n`);
    }
    if (!user) return out("First choose who you are: as EMAIL\n");
    if (word === "/mentorship-report") {
      await emulator.sendInteraction("slash_commands", emulator.slashCommandFields(user, rest.join(" ")), target);
      return;
    }
    if (word === "home") {
      await emulator.sendEvent({ type: "app_home_opened", user, tab: "home", channel: "D0", event_ts: "1.0" }, target);
      return;
    }
    if (word === "click") {
      const actionId = SHORT[rest[0] ?? ""] ?? rest[0] ?? "";
      const dm = [...emulator.messages].reverse().find((m) => m.user === user);
      const payload = emulator.blockActionsPayload({
        user,
        actionId,
        message: dm ? { channel: dm.channel, ts: dm.ts } : undefined,
      });
      await emulator.sendInteraction("interactive", payload, target);
      return;
    }
    out(`Not a command here: ${JSON.stringify(word)}. Type help.\n`);
  }

  const rl = createInterface({ input: opts.input });
  let queue = Promise.resolve();
  rl.on("line", (line) => {
    queue = queue.then(() => handle(line).catch((err: Error) => out(`Could not reach the app: ${err.message}\n`)));
  });
  return {
    close() {
      rl.close();
      emulator.off("view", onView);
      emulator.off("response", onResponse);
      emulator.off("upload", onUpload);
    },
  };
}
