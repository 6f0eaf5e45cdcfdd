import { closeOpenRowsOf, type InstallationRepo, reachedByInstallation } from "../db/installation-repo.js";
import type { Db } from "../db/knex.js";
import type { Logger } from "../logger.js";
import type { InstallationLine } from "../render/installations.js";
import type { Workspaces } from "../slack/workspaces.js";

/** What happens to installations after the link stored them: listed, and removed when Slack says so. */
export function createInstallationService(deps: {
  db: Db;
  installations: InstallationRepo;
  workspaces: Workspaces;
  log: Logger;
  now?: () => number;
}) {
  const { db, installations, workspaces, log } = deps;
  const now = deps.now ?? Date.now;
  return {
    /**
     * app_uninstalled, or tokens_revoked for the bot: the token erased, the installation marked revoked,
     * and its open rows closed as failed `uninstalled` (reported with the period's other failures).
     */
    async uninstalled(q: { teamId?: string; enterpriseId?: string; isEnterpriseInstall: boolean }): Promise<void> {
      const gone = await installations.revokeFor({
        teamId: q.teamId,
        enterpriseId: q.enterpriseId,
        isEnterpriseInstall: q.isEnterpriseInstall,
      });
      workspaces.forget();
      if (!gone) return;
      const id = (gone.isEnterpriseInstall ? gone.enterpriseId : gone.teamId) ?? gone.key;
      const closed = await closeOpenRowsOf(db, id, "uninstalled", now());
      log.warn(
        { audit: "uninstalled", installation: id, closedRows: closed },
        "the app was removed from an installation",
      );
    },

    async list(): Promise<InstallationLine[]> {
      const [all, reached] = await Promise.all([installations.list(), reachedByInstallation(db)]);
      return all.map((i) => {
        const id = (i.isEnterpriseInstall ? i.enterpriseId : i.teamId) ?? i.key;
        return {
          id,
          name: (i.isEnterpriseInstall ? i.enterpriseName : i.teamName) ?? id,
          kind: i.isEnterpriseInstall ? "org" : "workspace",
          since: i.installedAt,
          managersReached: reached.get(id) ?? 0,
          revokedAt: i.revokedAt,
        };
      });
    },
  };
}

export type InstallationService = ReturnType<typeof createInstallationService>;
