import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  // A nudge (§18) is a ledger row of kind `nudge` whose recipient is the item's key: the unique
  // (period, kind, recipient) makes it once per (item, period) across instances. Who asked is kept, so a
  // second click is told when and by whom it went.
  await knex.schema.alterTable("deliveries", (t) => {
    t.string("requested_by");
  });
  // Mentors who pressed "No more nudges".
  await knex.schema.createTable("nudge_optouts", (t) => {
    t.string("email").primary();
    t.bigInteger("updated_at").notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists("nudge_optouts");
  await knex.schema.alterTable("deliveries", (t) => {
    t.dropColumn("requested_by");
  });
}
