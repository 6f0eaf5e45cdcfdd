import { formatDate } from "../domain/dates.js";
import type { Status } from "../domain/statuses.js";
import type { ReportRow } from "../domain/types.js";

/**
 * The one date a manager needs for a row of each status, beside the seed's columns: when a request was
 * made, when an active match ends, when a finished match ended or closed, when an unregistered mentor
 * was added. Unmatched rows have their registration date already.
 */
const DATE_COLUMN: Partial<Record<Status, { label: string; of: (r: ReportRow) => number | null }>> = {
  "Matched-Active": { label: "Ends", of: (r) => r.endAt },
  "Matched-Duration Completed": { label: "Ended", of: (r) => r.endAt },
  Concluded: { label: "Closed", of: (r) => r.endAt },
  "Match Request-Waiting Mentee Approval": { label: "Requested", of: (r) => r.since },
  "Match Request-Waiting Mentor Approval": { label: "Requested", of: (r) => r.since },
  "Match Request-Waiting 2 Approvals": { label: "Requested", of: (r) => r.since },
  "Match Request-Waiting Admin Approval": { label: "Requested", of: (r) => r.since },
  "Not Registered": { label: "Added", of: (r) => r.since },
};

/** The label of a status group's date column, or null when the status has none. */
export const dateColumn = (status: Status): string | null => DATE_COLUMN[status]?.label ?? null;

/** The row's date for its status's column (MM-DD-YYYY in `zone`), "" when unknown. */
export function rowDate(r: ReportRow, zone: string): string {
  const at = DATE_COLUMN[r.status]?.of(r) ?? null;
  return at === null ? "" : formatDate(at, zone);
}
