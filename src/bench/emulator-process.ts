import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createDb } from "../db/knex.js";
import { listPeople } from "../db/roster-repo.js";
import { type EmulatorOptions, SlackEmulator } from "../emulator/server.js";

/** What the bench reads back from the emulator: each call's method and outcome, and who got each message. */
export interface EmulatorRecord {
  /** `via`: the workspace whose token the call carried, when the people are spread over `workspaces`. */
  calls: Array<{ method: string; at: number; status: number; ok: boolean; via?: string }>;
  recipients: string[];
}

/**
 * `zones`: each user's Slack `tz`, given round the roster in turn (none: no `tz`). `workspaces`: the
 * roster dealt round that many workspaces (§16), each with its own token and limits.
 */
type StartOptions = Omit<EmulatorOptions, "users" | "workspaces"> & { zones?: string[]; workspaces?: number };

type Request =
  | { type: "start"; databaseUrl: string; options: StartOptions }
  | { type: "calls"; from: number }
  | { type: "record" }
  | { type: "stop" };

/**
 * The Slack emulator in a process of its own, its workspace made of the roster: the bench measures
 * the app's memory and CPU, not those of a million emulated users (Slack is not in the app's process
 * either).
 */
export async function startEmulatorProcess(databaseUrl: string, options: StartOptions) {
  const child = fork(fileURLToPath(import.meta.url), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const ask = <T>(req: Request): Promise<T> =>
    new Promise((resolve, reject) => {
      child.once("error", reject);
      child.once("message", (m) => {
        child.off("error", reject);
        resolve(m as T);
      });
      child.send(req);
    });
  const started = await ask<{ url: string; token: string; teams: Array<{ id: string; token: string }> }>({
    type: "start",
    databaseUrl,
    options,
  });
  return {
    ...started,
    record: () => ask<EmulatorRecord>({ type: "record" }),
    /** The calls from the `from`-th on: a wave reads its own, not a copy of the whole run's in the measured process. */
    callsFrom: (from: number) => ask<EmulatorRecord["calls"]>({ type: "calls", from }),
    stop: async () => {
      await ask<{ stopped: true }>({ type: "stop" });
      child.disconnect();
    },
  };
}

const callsOf = (emulator: SlackEmulator, from: number): EmulatorRecord["calls"] =>
  emulator.calls.slice(from).map((c) => ({ method: c.method, at: c.at, status: c.status, ok: c.ok, via: c.via }));

async function serve(): Promise<void> {
  let emulator: SlackEmulator | null = null;
  process.on("message", async (req: Request) => {
    if (req.type === "start") {
      const db = createDb(req.databaseUrl);
      const people = await listPeople(db);
      await db.destroy();
      const { zones, workspaces: n, ...options } = req.options;
      const users = people.map((p, i) => ({
        id: `U${i}`,
        email: p.email,
        name: p.name,
        tz: zones?.[i % zones.length],
      }));
      const teams = Array.from({ length: n ?? 0 }, (_, w) => ({
        teamId: `T0WS${w + 1}`,
        name: `Workspace ${w + 1}`,
        users: users.filter((_u, i) => i % (n ?? 1) === w),
        channels: w === 0 ? options.channels : [],
      }));
      emulator = await new SlackEmulator({
        ...options,
        ...(n ? { workspaces: teams, channels: [] } : { users }),
        lean: true,
      }).start();
      const started = emulator;
      process.send?.({
        url: started.url,
        token: started.token,
        teams: teams.map((t) => ({ id: t.teamId, token: started.tokenFor(t.teamId) })),
      });
    } else if (req.type === "calls" && emulator) {
      process.send?.(callsOf(emulator, req.from));
    } else if (req.type === "record" && emulator) {
      const record: EmulatorRecord = {
        calls: callsOf(emulator, 0),
        recipients: emulator.messages.map((m) => m.user ?? m.channel),
      };
      process.send?.(record);
    } else if (req.type === "stop") {
      await emulator?.stop();
      process.send?.({ stopped: true });
    }
  });
}

if (process.send && process.argv[1] === fileURLToPath(import.meta.url)) await serve();
