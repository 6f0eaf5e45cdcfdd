/**
 * An error the app expects and explains: its message is for the person at the terminal (or in
 * Slack), its exit code for the shell. 2: the command or its configuration is wrong; 1: the work
 * could not be done. Each kind is a subclass with its own name and code.
 */
export abstract class AppError extends Error {
  abstract readonly code: string;
  readonly exitCode: 1 | 2 = 1;

  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Anything shaped like an email address becomes `<email>`: it may be a mentee's. */
export function redactEmails(text: string): string {
  return text.replace(/[^\s@'"<>(),]+@[^\s@'"<>(),]+/g, "<email>");
}

/**
 * An error's message fit for a log line or a terminal. Database drivers put the whole statement,
 * values included, in front of the reason ("insert … - too many terms"): the values may name a
 * mentee, so only the reason is kept.
 */
export function safeErrorMessage(err: unknown): string {
  if (!(err instanceof Error)) return String(err).slice(0, 200);
  const e = err as Error & { code?: string };
  let msg = e.message;
  if (/^\s*(insert|update|select|delete|with|create|alter|drop)\b/i.test(msg))
    msg = msg.slice(msg.lastIndexOf(" - ") + 3);
  msg = redactEmails(msg);
  return `${e.name}${e.code ? ` ${e.code}` : ""}: ${msg.slice(0, 300)}`;
}
