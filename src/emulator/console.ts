import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { NUDGE_ACTION_PATTERN } from "../ids.js";
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
  "  as EMAIL                 act as this person from now on (someone not in the workspace joins it)",
  "  /mentorship-report ...   the slash command, e.g. /mentorship-report eng",
  "  home                     open the app's Home tab",
  "  click csv|pause|stop|resume   press that button on your last DM from the app (or your Home tab)",
  "  share FILE... [as EMAIL]  send CSV files to the app in a DM, as a program admin would in Slack",
  "  click nudge N            press the Nth Nudge button (1 = the first attention line) there",
  "  help                     this list",
].join("\n");

/** The action ids of the buttons in these blocks, wherever they sit (actions, sections' accessories). */
function buttonsIn(blocks: unknown): string[] {
  const found: string[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (!v || typeof v !== "object") return;
    const o = v as Record<string, unknown>;
    if (o.type === "button" && typeof o.action_id === "string") found.push(o.action_id);
    for (const x of Object.values(o)) if (typeof x === "object") walk(x);
  };
  walk(blocks);
  return found;
}

const shortName = (actionId: string) => Object.keys(SHORT).find((k) => SHORT[k] === actionId) ?? actionId;

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
  /** A roster member's id, or a new workspace member's: acting as someone outside the roster is allowed. */
  const member = (email: string) => {
    const id = emulator.userIdOf(email) ?? emulator.addUser(email);
    if (!names.has(id)) names.set(id, `${email} (not in the roster)`);
    return id;
  };

  /** Whether the prompt is the last thing printed: what the app shows later comes with a prompt of its own. */
  let prompted = false;
  const shown = (s: string) => {
    out(s);
    if (prompted) out("> ");
  };
  const onView = (v: { userId: string; view: { blocks?: unknown[] } }) =>
    shown(
      `\n── Home tab of ${who(v.userId)} ${"─".repeat(20)}\n${messageAsText({ text: "", blocks: v.view.blocks })}\n`,
    );
  const onResponse = (body: { text?: string; blocks?: unknown[] }) =>
    shown(
      `\n── answer (only you see it) ${"─".repeat(20)}\n${messageAsText({ text: body.text ?? "", blocks: body.blocks })}\n`,
    );
  const onUpload = (u: SharedUpload) => {
    for (const f of u.files) {
      const lines = f.content.toString("utf8").trimEnd().split(/\r?\n/).length;
      // A CSV report has a header; anything else (the problems of an import) is just lines.
      const size = /\.csv$/i.test(f.name) ? `${lines - 1} rows and a header` : `${lines} line${lines === 1 ? "" : "s"}`;
      shown(`\n── file ${f.name} in ${u.channel}: ${size} ${"─".repeat(10)}\n`);
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
      if (!/^[^@\s]+@[^@\s]+$/.test(rest[0] ?? "")) return out("as EMAIL: give an email address.\n");
      user = member(rest[0]!);
      return out(`Acting as ${who(user)}.\n`);
    }
    if (word === "share") {
      const at = rest.lastIndexOf("as");
      const paths = at >= 0 ? rest.slice(0, at) : rest;
      const sender = at >= 0 && rest[at + 1] ? member(rest[at + 1]!) : user;
      if (!paths.length) return out("share FILE... [as EMAIL]: name at least one CSV file.\n");
      if (!sender) return out("First choose who you are: as EMAIL (or share FILE... as EMAIL)\n");
      const files = await Promise.all(paths.map(async (p) => ({ name: basename(p), content: await readFile(p) })));
      const ids = files.map((f) => emulator.addFile({ ...f, user: sender }));
      out(`${who(sender)} shares ${files.map((f) => f.name).join(", ")} in their DM with the app.\n`);
      await emulator.sendEvent(emulator.fileShareEvent(sender, ids), target);
      return;
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
    if (word === "click" && rest[0] === "nudge") return clickNudge(Number(rest[1] ?? "1"));
    if (word === "click") {
      const actionId = SHORT[rest[0] ?? ""] ?? rest[0] ?? "";
      const dm = [...emulator.messages].reverse().find((m) => m.user === user);
      const home = [...emulator.views].reverse().find((v) => v.userId === user);
      const onDm = dm ? buttonsIn(dm.blocks) : [];
      const onHome = home ? buttonsIn(home.view.blocks) : [];
      // A button the app never showed has no listener: Slack could not send that click.
      if (!onDm.includes(actionId) && !onHome.includes(actionId)) {
        // The Nudge buttons are one command, `click nudge N`.
        const shown = [
          ...new Set([...onDm, ...onHome].map((id) => (NUDGE_ACTION_PATTERN.test(id) ? "nudge" : shortName(id)))),
        ];
        return out(
          shown.length
            ? `No button ${JSON.stringify(rest[0] ?? "")} on your last DM or Home tab; there: ${shown.join(", ")}.\n`
            : "No button to click yet: open your Home tab (home) or wait for a DM from the app.\n",
        );
      }
      const payload = emulator.blockActionsPayload({
        user,
        actionId,
        message: dm && onDm.includes(actionId) ? { channel: dm.channel, ts: dm.ts } : undefined,
      });
      await emulator.sendInteraction("interactive", payload, target);
      return;
    }
    out(`Not a command here: ${JSON.stringify(word)}. Type help.\n`);
  }

  /**
   * The Nth Nudge button of the user's last DM from the app that has some, else of their Home tab (§18).
   */
  async function clickNudge(n: number): Promise<void> {
    if (!user) return;
    const me = user;
    const nudgesIn = (blocks: unknown) =>
      ((Array.isArray(blocks) ? blocks : []) as Array<{ accessory?: { action_id?: string; value?: string } }>).flatMap(
        (b) => (b.accessory?.action_id && NUDGE_ACTION_PATTERN.test(b.accessory.action_id) ? [b.accessory] : []),
      );
    const dm = [...emulator.messages].reverse().find((m) => m.user === me && nudgesIn(m.blocks).length);
    const view = [...emulator.views].reverse().find((v) => v.userId === me);
    const buttons = nudgesIn(dm ? dm.blocks : view?.view.blocks);
    const button = buttons[n - 1];
    if (!Number.isInteger(n) || !button)
      return out(`No Nudge button number ${JSON.stringify(n)}: there are ${buttons.length}.
`);
    const payload = emulator.blockActionsPayload({
      user: me,
      actionId: button.action_id!,
      value: button.value,
      message: dm ? { channel: dm.channel, ts: dm.ts } : undefined,
    });
    await emulator.sendInteraction("interactive", payload, target);
  }

  const rl = createInterface({ input: opts.input });
  let queue = Promise.resolve();
  rl.on("line", (line) => {
    prompted = false;
    queue = queue.then(() =>
      handle(line)
        .catch((err: Error) => out(`error: ${err.message}\n`))
        .then(() => {
          out("> ");
          prompted = true;
        }),
    );
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
