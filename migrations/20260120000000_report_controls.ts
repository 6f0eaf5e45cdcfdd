import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  // A manager's own controls (§11): `paused` skips one period's scheduled report, `stopped` all of them
  // until resumed. No row: reports arrive as scheduled.
  await knex.schema.createTable("report_controls", (t) => {
    t.string("email").primary();
    t.string("state", 8).notNullable();
    /** For `paused`: the period whose scheduled report is skipped. */
    t.string("skip_period", 10);
    t.bigInteger("updated_at").notNullable();
  });
  // The as-of a delivered report was built at: the next DM says what changed since then (§10).
  await knex.schema.alterTable("deliveries", (t) => {
    t.bigInteger("as_of");
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable("deliveries", (t) => {
    t.dropColumn("as_of");
  });
  await knex.schema.dropTableIfExists("report_controls");
}
