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
  msg = msg.replace(/[^\s@'"<>(),]+@[^\s@'"<>(),]+/g, "<email>");
  return `${e.name}${e.code ? ` ${e.code}` : ""}: ${msg.slice(0, 300)}`;
}
