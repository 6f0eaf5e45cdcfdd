import { afterEach, describe, expect, it } from "vitest";
import { migrationSource } from "../../migrations/index.js";
import { migrate } from "../../src/db/knex.js";
import { ENGINES, freshDb, type TestDb } from "../helpers/db.js";

describe.each(ENGINES)("migrations on %s", (engine) => {
  let t: TestDb | null = null;
  afterEach(async () => {
    await t?.drop();
    t = null;
  });

  it("a database made by an earlier version upgrades in place: its data stays, every migration recorded once", async () => {
    t = await freshDb(engine, { migrate: false });
    const { db } = t;
    // The schema as the first release left it: its two migrations only, under the names it recorded.
    await db.migrate.up({ migrationSource });
    await db.migrate.up({ migrationSource });
    await db("people").insert({ email: "dana@acme.example", name: "Dana", organization: "Eng", manager_email: null });
    const all = await migrationSource.getMigrations([]);
    expect((await db("knex_migrations").pluck("name")).sort()).toEqual(all.slice(0, 2));

    await migrate(db);

    expect((await db("knex_migrations").pluck("name")).sort()).toEqual(all);
    expect(await db("people").where({ email: "dana@acme.example" }).first()).toMatchObject({ name: "Dana" });
    // Running it again changes nothing.
    await migrate(db);
    expect(await db("knex_migrations").count({ n: "*" }).first()).toMatchObject({ n: all.length });
  });
});
