import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  // Signatures of requests from Slack already answered, shared by every instance on one database, so a
  // replay sent to another instance within the five-minute window is refused too (§14).
  await knex.schema.createTable("seen_requests", (t) => {
    t.string("signature", 80).primary();
    t.bigInteger("forget_after").notNullable().index();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists("seen_requests");
}
