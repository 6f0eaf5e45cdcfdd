import type { Message } from "../render/blocks.js";

/**
 * What the Slack listeners ask of the rest of the app, declared on the Slack side so that `slack/`
 * imports nothing from `services/`: the services implement these, and the composition root hands
 * them to the listeners.
 */
export interface SurfacePort {
  /** `/mentorship-report …`: the private answer. */
  command(userId: string, text: string): Promise<{ message: Message }>;
  /** A report button (CSV, skip, stop, resume, the admins' queue): what to answer. */
  action(userId: string, name: SurfaceAction): Promise<Message>;
  publishHome(userId: string): Promise<void>;
}

export type SurfaceAction = "csv" | "pause" | "stop" | "resume" | "queueCsv";

export interface NudgePort {
  nudge(userId: string, key: string): Promise<Message>;
  /** A mentor's "No more nudges" (or turning them back on). */
  setOff(userId: string, off: boolean): Promise<Message>;
}

/** Files shared in a DM with the app: who sent them, where, and the ids Slack gave them. */
export interface FileShare {
  user: string;
  channel: string;
  /** The message's ts: the answer goes in its thread. */
  ts: string;
  fileIds: string[];
}

export interface UploadPort {
  receive(share: FileShare): Promise<void>;
}
