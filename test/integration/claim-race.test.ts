import { describe, expect, it } from "vitest";
import type { Db } from "../../src/db/knex.js";
import { createLedgerStore, type DeliveryRow } from "../../src/db/ledger-repo.js";
import { ENGINES, freshDb } from "../helpers/db.js";

/** A promise and the function that settles it. */
function latch() {
  let open!: () => void;
  const opened = new Promise<void>((r) => {
    open = r;
  });
  return { open, opened };
}

/**
 * The same database, but each UPDATE waits at a gate the test opens: a claimer can be stopped between
 * reading the rows it wants and taking them, so two claimers interleave exactly as the test says.
 */
function gatedDb(db: Db) {
  const reached = latch();
  const release = latch();
  const wrapped = new Proxy(db, {
    apply(target, thisArg, args) {
      const qb = Reflect.apply(target, thisArg, args) as ReturnType<Db>;
      const update = qb.update.bind(qb) as (...a: unknown[]) => ReturnType<Db>;
      (qb as unknown as { update: (...a: unknown[]) => unknown }).update = (...a: unknown[]) => {
        const built = update(...a);
        const run = built.then.bind(built);
        // biome-ignore lint/suspicious/noThenProperty: Knex runs a query when its builder's then is called: the gate sits there.
        (built as unknown as { then: unknown }).then = (ok?: (v: unknown) => unknown, ko?: (e: unknown) => unknown) => {
          reached.open();
          return release.opened.then(() => run(ok, ko));
        };
        return built;
      };
      return qb;
    },
  });
  return { db: wrapped, reached: reached.opened, release: release.open };
}

describe.each(ENGINES)("the ledger's claim is exclusive (%s, issue 15 promise)", (engine) => {
  it("two claimers that read the same free rows before either takes them never both get one", async () => {
    const t = await freshDb(engine);
    try {
      const now = 1_800_000_000_000;
      await createLedgerStore(t.db).plan(
        "2027-01-04",
        Array.from({ length: 6 }, (_, i) => ({ kind: "dm" as const, recipient: `m${i}@acme.example` })),
        now,
      );
      const [a, b] = [gatedDb(t.db), gatedDb(t.db)];
      const claim = (db: Db, who: string) =>
        createLedgerStore(db).claimDue({
          periodId: "2027-01-04",
          kinds: ["dm"],
          owner: who,
          claim: `${who}-claim`,
          now,
          leaseMs: 60_000,
          limit: 10,
          exclude: [],
        });
      // A reads the six free rows and stops before taking them; B then reads the same six and stops too.
      const first = claim(a.db, "A");
      await a.reached;
      const second = claim(b.db, "B");
      await b.reached;
      // A takes its rows; B's take comes after, on rows A now holds under a live lease.
      a.release();
      const gotA: DeliveryRow[] = await first;
      b.release();
      const gotB: DeliveryRow[] = await second;
      expect(gotA.map((r) => r.recipient)).toHaveLength(6);
      const twice = gotB.filter((r) => gotA.some((x) => x.id === r.id));
      expect(twice, "rows claimed by both").toEqual([]);
      const holders = await t.db("deliveries").select("owner").groupBy("owner").pluck("owner");
      expect(holders).toEqual(["A"]);
    } finally {
      await t.drop();
    }
  });
});
