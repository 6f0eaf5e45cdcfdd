import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  // Installations from the install link (§16), one row per workspace or Grid org. `install_key` stands
  // for (enterprise id, team id, is_enterprise_install): a unique index over nullable columns would let
  // two rows with the same null through on both engines.
  await knex.schema.createTable("installations", (t) => {
    t.string("install_key", 80).primary();
    t.string("enterprise_id", 32);
    t.string("enterprise_name");
    t.string("team_id", 32);
    t.string("team_name");
    t.boolean("is_enterprise_install").notNullable().defaultTo(false);
    t.string("app_id", 32);
    t.string("bot_id", 32);
    t.string("bot_user_id", 32);
    t.text("bot_scopes");
    t.string("installer_user_id", 32);
    t.string("enterprise_url");
    // AES-256-GCM with TOKEN_ENCRYPTION_KEY; null once the app was uninstalled or its tokens revoked.
    t.text("bot_token_sealed");
    t.bigInteger("installed_at").notNullable();
    t.bigInteger("revoked_at");
    t.index(["team_id"]);
    t.index(["enterprise_id"]);
  });
  // Each email is tied to a user of one workspace (or org), and each delivery records where it went.
  await knex.schema.alterTable("slack_users", (t) => {
    t.string("team_id", 32);
  });
  await knex.schema.alterTable("deliveries", (t) => {
    t.string("team_id", 32);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable("deliveries", (t) => t.dropColumn("team_id"));
  await knex.schema.alterTable("slack_users", (t) => t.dropColumn("team_id"));
  await knex.schema.dropTableIfExists("installations");
}
