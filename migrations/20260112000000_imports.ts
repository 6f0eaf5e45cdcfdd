import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  // Every import's outcome: for `status`, the admins' Home tab, and how fresh the reports' data is (§13).
  await knex.schema.createTable("imports", (t) => {
    t.increments("id").primary();
    t.bigInteger("started_at").notNullable();
    t.bigInteger("finished_at").notNullable();
    /** `cli`, `folder` (IMPORT_DIR) or `slack:<user id>`. */
    t.string("source").notNullable();
    /** `imported`, `refused` (bad rows; nothing written) or `failed` (could not run; nothing written). */
    t.string("outcome", 16).notNullable();
    /** Per file: rows, added, changed, removed, unchanged (JSON). */
    t.text("files").notNullable().defaultTo("[]");
    t.integer("problem_count").notNullable().defaultTo(0);
    /** The first problems, as `file:line: column: problem` (JSON); they never hold a cell's text. */
    t.text("problems").notNullable().defaultTo("[]");
    t.index(["outcome", "finished_at"]);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists("imports");
}
