import { AppError } from "../errors.js";
import type { Db } from "./knex.js";
import { getSetting } from "./report-repo.js";

export class ZoneMismatchError extends AppError {
  readonly code = "ZONE_MISMATCH";
}

/**
 * Date-only values were turned into instants at midnight in the zone of their import; reading or
 * adding data in another zone would shift them by hours, so the app refuses rather than misreport.
 */
export async function assertZone(db: Db, zone: string): Promise<void> {
  const stored = await getSetting(db, "timezone");
  if (stored !== null && stored !== zone) {
    throw new ZoneMismatchError(
      `REPORT_TIMEZONE is ${JSON.stringify(zone)} but the data in this database was imported with ${JSON.stringify(stored)}: ` +
        `set REPORT_TIMEZONE=${stored}, or import into a fresh database.`,
    );
  }
}
