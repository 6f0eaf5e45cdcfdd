import type { Installation, InstallationQuery, InstallationStore } from "@slack/oauth";
import type { Db } from "./knex.js";
import type { InstallationRecord } from "./tables.js";
import type { TokenCipher } from "./token-cipher.js";

/** One installation as the rest of the app sees it (status, Home tab, the clients): never its token. */
export interface InstallationInfo {
  key: string;
  /** A workspace's team id; null for a Grid org-wide install. */
  teamId: string | null;
  teamName: string | null;
  enterpriseId: string | null;
  enterpriseName: string | null;
  isEnterpriseInstall: boolean;
  botUserId: string | null;
  installedAt: number;
  revokedAt: number | null;
}

/** Bolt's InstallationStore, and what status, the Home tab and the clients read. */
export interface InstallationRepo extends Required<InstallationStore> {
  /** Every installation, live and revoked, oldest first (the directory's order, §16). */
  list(): Promise<InstallationInfo[]>;
  /** The live installations with their tokens, oldest first: one Slack client each. */
  live(): Promise<Array<InstallationInfo & { token: string }>>;
  /** app_uninstalled, tokens_revoked: the token erased, the row marked revoked. */
  revokeFor(query: InstallationQuery<boolean>): Promise<InstallationInfo | null>;
}

export class InstallationNotFound extends Error {
  readonly code = "slack_bolt_authorization_error";
}

/** The row's key for (enterprise id, team id, is_enterprise_install). */
export const installKey = (q: {
  enterpriseId?: string | null;
  teamId?: string | null;
  isEnterpriseInstall: boolean;
}) => (q.isEnterpriseInstall ? `org:${q.enterpriseId ?? ""}` : `ws:${q.enterpriseId ?? ""}:${q.teamId ?? ""}`);

const info = (r: InstallationRecord): InstallationInfo => ({
  key: r.install_key,
  teamId: r.team_id,
  teamName: r.team_name,
  enterpriseId: r.enterprise_id,
  enterpriseName: r.enterprise_name,
  isEnterpriseInstall: Boolean(r.is_enterprise_install),
  botUserId: r.bot_user_id,
  installedAt: Number(r.installed_at),
  revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
});

/**
 * The installations kept in the app's database (Bolt's InstallationStore), their bot tokens sealed
 * with TOKEN_ENCRYPTION_KEY. Uninstalling keeps the row, revoked and without its token, for `status`.
 */
export function createInstallationStore(db: Db, cipher: TokenCipher, now: () => number = Date.now): InstallationRepo {
  /** The live row that serves a query: the workspace's own install, else its org's org-wide one. */
  async function rowFor(q: InstallationQuery<boolean>): Promise<InstallationRecord | undefined> {
    const live = () => db("installations").whereNull("revoked_at").whereNotNull("bot_token_sealed");
    if (!q.isEnterpriseInstall && q.teamId) {
      const own = await live().where({ team_id: q.teamId, is_enterprise_install: false }).first();
      if (own) return own;
    }
    return q.enterpriseId
      ? live().where({ enterprise_id: q.enterpriseId, is_enterprise_install: true }).first()
      : undefined;
  }

  const store: Required<InstallationStore> = {
    async storeInstallation(installation) {
      const isOrg = Boolean(installation.isEnterpriseInstall);
      const key = installKey({
        enterpriseId: installation.enterprise?.id,
        teamId: installation.team?.id,
        isEnterpriseInstall: isOrg,
      });
      if (!installation.bot?.token) throw new Error("an installation without a bot token: the bot scopes are missing");
      const row = {
        install_key: key,
        enterprise_id: installation.enterprise?.id ?? null,
        enterprise_name: installation.enterprise?.name ?? null,
        team_id: isOrg ? null : (installation.team?.id ?? null),
        team_name: isOrg ? null : (installation.team?.name ?? null),
        is_enterprise_install: isOrg,
        app_id: installation.appId ?? null,
        bot_id: installation.bot.id ?? null,
        bot_user_id: installation.bot.userId ?? null,
        bot_scopes: installation.bot.scopes.join(","),
        installer_user_id: installation.user.id ?? null,
        enterprise_url: installation.enterpriseUrl ?? null,
        bot_token_sealed: cipher.seal(installation.bot.token, key),
        installed_at: now(),
        revoked_at: null,
      };
      // A reinstall brings the row back with its new token; "since" stays the first install's.
      const { installed_at: _first, ...update } = row;
      await db("installations").insert(row).onConflict("install_key").merge(update);
    },

    async fetchInstallation(query) {
      const r = await rowFor(query);
      if (!r?.bot_token_sealed) throw new InstallationNotFound("the app is not installed in this workspace");
      const isOrg = Boolean(r.is_enterprise_install);
      const installation: Installation = {
        team: isOrg ? undefined : { id: r.team_id ?? "", name: r.team_name ?? undefined },
        enterprise: r.enterprise_id ? { id: r.enterprise_id, name: r.enterprise_name ?? undefined } : undefined,
        user: { id: r.installer_user_id ?? "", token: undefined, scopes: undefined },
        bot: {
          token: cipher.open(r.bot_token_sealed, r.install_key),
          scopes: (r.bot_scopes ?? "").split(",").filter(Boolean),
          id: r.bot_id ?? "",
          userId: r.bot_user_id ?? "",
        },
        appId: r.app_id ?? undefined,
        tokenType: "bot",
        isEnterpriseInstall: isOrg,
        authVersion: "v2",
        enterpriseUrl: r.enterprise_url ?? undefined,
      };
      return installation;
    },

    async deleteInstallation(query) {
      const r = await rowFor(query);
      if (r) await revoke(r.install_key);
    },
  };

  async function revoke(key: string): Promise<void> {
    await db("installations").where({ install_key: key }).update({ bot_token_sealed: null, revoked_at: now() });
  }

  return {
    ...store,
    async list(): Promise<InstallationInfo[]> {
      return (await db("installations").orderBy([{ column: "installed_at" }, { column: "install_key" }])).map(info);
    },
    async live(): Promise<Array<InstallationInfo & { token: string }>> {
      const rows = await db("installations")
        .whereNull("revoked_at")
        .whereNotNull("bot_token_sealed")
        .orderBy([{ column: "installed_at" }, { column: "install_key" }]);
      return rows.map((r) => ({ ...info(r), token: cipher.open(r.bot_token_sealed!, r.install_key) }));
    },
    async revokeFor(query: InstallationQuery<boolean>): Promise<InstallationInfo | null> {
      const r = await rowFor(query);
      if (!r) return null;
      await revoke(r.install_key);
      return info({ ...r, revoked_at: now() });
    },
  };
}

/**
 * Closes an uninstalled installation's open rows as failed (`uninstalled`, §16): the DMs and notices
 * of the people the directory found there. A run holding one loses its claim, so nothing more is sent.
 */
export async function closeOpenRowsOf(db: Db, team: string, reason: string, now: number): Promise<number> {
  return db("deliveries")
    .whereIn("state", ["pending", "sending"])
    .whereIn("kind", ["dm", "notice", "stale"])
    .whereIn("recipient", db("slack_users").where({ team_id: team }).select("email"))
    .update({ state: "failed", error: reason, claim: null, lease_until: null, updated_at: now });
}

/** Managers reached per installation: the distinct recipients of delivered DMs, by the team they went to. */
export async function reachedByInstallation(db: Db): Promise<Map<string, number>> {
  const rows: Array<{ team_id: string | null; n: number | string }> = await db("deliveries")
    .where({ kind: "dm", state: "delivered" })
    .whereNotNull("team_id")
    .groupBy("team_id")
    .select("team_id")
    .countDistinct({ n: "recipient" });
  return new Map(rows.map((r) => [String(r.team_id), Number(r.n)]));
}
