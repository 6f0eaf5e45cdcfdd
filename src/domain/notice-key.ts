/**
 * A notice's ledger recipient: the program and the admin it tells, as `PROGRAM>admin`. The program
 * id is percent-encoded, so an id that itself holds a `>` can neither misroute the notice nor share
 * a row with another program's (ids without such characters read as before).
 */
export function noticeRecipient(programId: string, admin: string): string {
  return `${encodeURIComponent(programId)}>${admin}`;
}

export function parseNoticeRecipient(recipient: string): { programId: string; admin: string } {
  const at = recipient.indexOf(">");
  const raw = recipient.slice(0, at);
  let programId = raw;
  try {
    programId = decodeURIComponent(raw);
  } catch {
    // A row written before ids were encoded, holding a stray `%`: its id is the text as it is.
  }
  return { programId, admin: recipient.slice(at + 1) };
}
