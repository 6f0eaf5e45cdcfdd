/** A manager's own controls (spec §11) as they stand: reports as scheduled, one skipped, or none. */
export type ControlState = "active" | "paused" | "stopped";

/**
 * The period whose scheduled report a pause skips: "the next scheduled report" is this period's when it
 * has not reached the manager yet, else the next period's.
 */
export function periodToSkip(current: string, next: string, deliveredThisPeriod: boolean): string {
  return deliveredThisPeriod ? next : current;
}
