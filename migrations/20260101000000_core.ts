import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("programs", (t) => {
    t.string("program_id").primary();
    t.string("name").notNullable();
    t.integer("match_duration_months").notNullable().defaultTo(6);
    t.boolean("requires_mentor_approval").notNullable();
    t.boolean("requires_mentee_approval").notNullable();
    t.boolean("requires_admin_approval").notNullable();
    t.string("admin_channel");
    t.text("admin_emails").notNullable().defaultTo("");
  });
  await knex.schema.createTable("people", (t) => {
    t.string("email").primary();
    t.string("name").notNullable();
    t.string("organization").notNullable().defaultTo("");
    t.string("manager_email").index();
    t.string("timezone");
  });
  await knex.schema.createTable("enrollments", (t) => {
    t.string("program_id").notNullable();
    t.string("email").notNullable();
    t.string("role", 8).notNullable();
    t.bigInteger("added_at");
    t.bigInteger("registered_at");
    t.primary(["program_id", "email", "role"]);
    t.index(["email", "role"]);
  });
  await knex.schema.createTable("match_requests", (t) => {
    t.string("request_id").primary();
    t.string("program_id").notNullable();
    t.string("mentor_email").notNullable();
    t.string("mentee_email").notNullable();
    t.bigInteger("requested_at").notNullable();
    t.bigInteger("mentor_approved_at");
    t.bigInteger("mentee_approved_at");
    t.bigInteger("admin_approved_at");
    t.bigInteger("closed_at");
    t.index(["mentor_email", "program_id"]);
  });
  await knex.schema.createTable("matches", (t) => {
    t.string("match_id").primary();
    t.string("program_id").notNullable();
    t.string("mentor_email").notNullable();
    t.string("mentee_email").notNullable();
    t.bigInteger("matched_at").notNullable();
    t.bigInteger("closed_at");
    t.index(["mentor_email", "program_id"]);
  });
  await knex.schema.createTable("meetings", (t) => {
    t.string("meeting_id").primary();
    t.string("match_id").notNullable();
    t.bigInteger("scheduled_at").notNullable();
    t.bigInteger("cancelled_at");
    t.index(["match_id"]);
  });
  // What the stored instants mean depends on the zone date-only values were read in.
  await knex.schema.createTable("settings", (t) => {
    t.string("key").primary();
    t.text("value").notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const t of ["settings", "meetings", "matches", "match_requests", "enrollments", "people", "programs"]) {
    await knex.schema.dropTableIfExists(t);
  }
}
