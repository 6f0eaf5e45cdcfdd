import pino, { type Logger } from "pino";
import pretty from "pino-pretty";

export type { Logger };

/**
 * Logs go to stderr, so stdout stays the command's own output: JSON lines with ISO timestamps for a
 * log collector, or pino-pretty's readable lines when stderr is a terminal.
 */
export function createLogger(level: string, opts: { name?: string; pretty?: boolean } = {}): Logger {
  const name = opts.name ?? "mentorship-report";
  const options = { name, level, base: { name }, timestamp: pino.stdTimeFunctions.isoTime };
  if (opts.pretty ?? !!process.stderr.isTTY)
    return pino(options, pretty({ destination: 2, sync: true, colorize: true, translateTime: "SYS:standard" }));
  return pino(options, pino.destination({ fd: 2, sync: true }));
}
