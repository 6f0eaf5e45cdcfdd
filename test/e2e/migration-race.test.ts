import { describe, expect, it } from "vitest";
import { cliAsync } from "../helpers/cli.js";
import { ENGINES, freshDb } from "../helpers/db.js";

describe.skipIf(!ENGINES.includes("pg"))("instances started together on PostgreSQL (issue 15 row 22)", () => {
  it("the second waits for the first's migration instead of crashing on the migration lock", async () => {
    // A few rounds, since two processes that start together do not always collide.
    for (let round = 0; round < 3; round++) {
      const t = await freshDb("pg", { migrate: false });
      try {
        const runs = await Promise.all([0, 1, 2].map(() => cliAsync(["migrate"], { DATABASE_URL: t.url })));
        for (const r of runs) {
          expect(r.stderr).toBe("");
          expect(r.code).toBe(0);
        }
        const [{ count }] = (await t.db("knex_migrations").count({ count: "*" })) as [{ count: number | string }];
        const names = await t.db("knex_migrations").pluck("name");
        expect(Number(count)).toBe(new Set(names).size);
      } finally {
        await t.drop();
      }
    }
  }, 90_000);
});
