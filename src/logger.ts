import pino, { type Logger } from "pino";

export type { Logger };

/** Logs go to stderr as JSON lines, so stdout stays the command's own output. */
export function createLogger(level: string, name = "mentorship-report"): Logger {
  return pino({ name, level, base: { name } }, pino.destination({ fd: 2, sync: true }));
}
