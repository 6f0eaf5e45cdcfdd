export const STATUSES = [
  "Matched-Active",
  "Unmatched",
  "Matched-Duration Completed",
  "Concluded",
  "Match Request-Waiting Mentee Approval",
  "Match Request-Waiting Mentor Approval",
  "Match Request-Waiting 2 Approvals",
  "Match Request-Waiting Admin Approval",
  "Not Registered",
] as const;

export type Status = (typeof STATUSES)[number];

/** The requests the admins' queue lists (§18). */
export const ADMIN_WAITING: Status = "Match Request-Waiting Admin Approval";

export const STATUS_ORDER: ReadonlyMap<Status, number> = new Map(STATUSES.map((s, i) => [s, i]));

export interface ApprovalSettings {
  requiresMentorApproval: boolean;
  requiresMenteeApproval: boolean;
  requiresAdminApproval: boolean;
}

/** The statuses a program's settings make possible (spec §3, "Relevance"), in report order. */
export function relevantStatuses(p: ApprovalSettings): Status[] {
  return STATUSES.filter((s) => {
    switch (s) {
      case "Match Request-Waiting Admin Approval":
        return p.requiresAdminApproval;
      case "Match Request-Waiting Mentee Approval":
        return p.requiresMenteeApproval;
      case "Match Request-Waiting Mentor Approval":
        return p.requiresMentorApproval;
      case "Match Request-Waiting 2 Approvals":
        return p.requiresMentorApproval && p.requiresMenteeApproval;
      default:
        return true;
    }
  });
}
