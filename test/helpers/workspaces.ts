import type { Db } from "../../src/db/knex.js";
import { listPeople } from "../../src/db/roster-repo.js";
import type { EmulatedUser } from "../../src/emulator/server.js";
import type { EmulatedWorkspace } from "../../src/emulator/workspaces.js";

/**
 * The sample company spread over workspaces: person i goes to `place(i, email)` (a workspace's team id,
 * or null: in none). User ids are per workspace, as Slack's are.
 */
export async function spreadPeople(
  db: Db,
  teams: Array<{ teamId: string; name: string; enterpriseId?: string; channels?: EmulatedWorkspace["channels"] }>,
  place: (i: number, email: string) => string | null,
): Promise<EmulatedWorkspace[]> {
  const people = await listPeople(db);
  const byTeam = new Map<string, EmulatedUser[]>(teams.map((t) => [t.teamId, []]));
  people.forEach((p, i) => {
    const team = place(i, p.email);
    if (!team) return;
    byTeam
      .get(team)!
      .push({ id: `U${team.slice(1, 4)}${String(i + 1).padStart(6, "0")}`, email: p.email, name: p.name });
  });
  return teams.map((t) => ({ ...t, users: byTeam.get(t.teamId)! }));
}
