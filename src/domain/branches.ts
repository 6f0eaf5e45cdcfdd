import type { BranchLine, ManagerReport } from "./reports.js";

/**
 * The report's mentors counted by the direct report whose branch they are in, the branches that need
 * the most attention first (then the largest, then by name). Mentors outside every branch (none, in a
 * well-formed roster) are left out. Pure: the branch of each mentor and the names are given.
 */
export function branchLines(
  report: ManagerReport,
  branchOf: ReadonlyMap<string, string>,
  names: ReadonlyMap<string, string>,
): BranchLine[] {
  const mentors = new Map<string, Set<string>>();
  const attention = new Map<string, number>();
  for (const g of report.groups)
    for (const r of g.rows) {
      const b = branchOf.get(r.mentorEmail);
      if (!b) continue;
      const set = mentors.get(b) ?? new Set<string>();
      set.add(r.mentorEmail);
      mentors.set(b, set);
    }
  for (const a of report.attention) {
    const b = branchOf.get(a.mentorEmail);
    if (b) attention.set(b, (attention.get(b) ?? 0) + 1);
  }
  return [...mentors]
    .map(([email, set]) => ({
      email,
      name: names.get(email) ?? email,
      mentors: set.size,
      attention: attention.get(email) ?? 0,
    }))
    .sort((a, b) => b.attention - a.attention || b.mentors - a.mentors || a.name.localeCompare(b.name));
}
