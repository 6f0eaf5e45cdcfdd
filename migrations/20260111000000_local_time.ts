import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  // The zone Slack knows for the user: a manager's report goes at REPORT_LOCAL_TIME there (§12).
  await knex.schema.alterTable("slack_users", (t) => {
    t.string("tz");
  });
  // When a recipient's report is due, and the as-of it is built at; null: at once (fixed delivery, `send`).
  await knex.schema.alterTable("deliveries", (t) => {
    t.bigInteger("due_at");
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable("deliveries", (t) => {
    t.dropColumn("due_at");
  });
  await knex.schema.alterTable("slack_users", (t) => {
    t.dropColumn("tz");
  });
}
