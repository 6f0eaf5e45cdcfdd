import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  // The directory: a roster email tied to a Slack user, or the reason it could not be.
  await knex.schema.createTable("slack_users", (t) => {
    t.string("email").primary();
    t.string("user_id");
    t.string("problem");
    t.bigInteger("checked_at").notNullable();
  });
  // The ledger: one row per (period, kind, recipient), so a report is claimed and sent at most once.
  await knex.schema.createTable("deliveries", (t) => {
    t.increments("id");
    t.string("period_id", 10).notNullable();
    t.string("kind", 8).notNullable();
    t.string("recipient").notNullable();
    t.string("state", 12).notNullable().defaultTo("pending");
    t.integer("attempts").notNullable().defaultTo(0);
    t.string("owner");
    t.string("claim");
    t.bigInteger("lease_until");
    t.string("channel");
    t.string("ts");
    t.text("error");
    t.bigInteger("updated_at").notNullable();
    t.unique(["period_id", "kind", "recipient"]);
    t.index(["period_id", "state"]);
    t.index(["claim"]);
  });
  // A period whose run finished with nothing left to send: later ticks in it do nothing.
  await knex.schema.createTable("delivery_periods", (t) => {
    t.string("period_id", 10).primary();
    t.bigInteger("completed_at").notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists("delivery_periods");
  await knex.schema.dropTableIfExists("deliveries");
  await knex.schema.dropTableIfExists("slack_users");
}
