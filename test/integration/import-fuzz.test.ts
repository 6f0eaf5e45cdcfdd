import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FILES } from "../../src/import/csv-files.js";
import { importDirectory } from "../../src/import/import-service.js";
import { ENGINES, freshDb, type TestDb } from "../helpers/db.js";
import { dump, SAMPLE } from "../helpers/files.js";

const NAMES = FILES.map((f) => f.file);

// Cells a real export has, and cells that break things: quotes, separators, line breaks,
// control characters, non-ASCII, lone surrogates, near-dates and near-emails.
const cell = fc.oneof(
  fc.constantFrom(
    "",
    "eng",
    "lead",
    "m1",
    "mt1",
    "r1",
    "ada@acme.example",
    "mia@acme.example",
    "ADA@ACME.EXAMPLE",
    "mentor",
    "mentee",
    "true",
    "no",
    "6",
    "2026-01-01",
    "2026-02-30",
    "2026-01-01T10:00:00Z",
    "2026-01-01T24:00",
    "UTC",
    "Mars/Olympus",
    "#mentorship-eng",
    "not an email",
  ),
  fc.string({ maxLength: 12 }),
  fc.string({
    unit: fc.constantFrom('"', ",", "\n", "\r", "a", "\u0000", "\u001b", "é", "\uFFFD", "@", " "),
    maxLength: 8,
  }),
  fc.string({ unit: "binary", maxLength: 6 }),
);

const quoteMaybe = (v: string, quote: boolean) => (quote ? `"${v.replace(/"/g, '""')}"` : v);

/** A file for one of the six names: a header in any order (maybe with a column missing, doubled or extra), rows of any shape. */
const csvFile = fc
  .record({
    spec: fc.constantFrom(...FILES),
    order: fc.array(fc.nat(), { minLength: 9, maxLength: 9 }),
    drop: fc.boolean(),
    extra: fc.option(fc.constantFrom("junk", "email", "Program_ID", "")),
    rows: fc.array(fc.record({ width: fc.integer({ min: -1, max: 1 }), cells: fc.array(cell, { maxLength: 12 }) }), {
      maxLength: 6,
    }),
    quote: fc.boolean(),
    crlf: fc.boolean(),
    bom: fc.boolean(),
  })
  .map(({ spec, order, drop, extra, rows, quote, crlf, bom }) => {
    const cols = [...spec.columns, ...(spec.optionalColumns ?? [])];
    const header = cols
      .map((c, i) => ({ c, k: order[i] ?? 0 }))
      .sort((a, b) => a.k - b.k)
      .map((x) => x.c);
    if (drop) header.pop();
    if (extra !== null) header.push(extra);
    const nl = crlf ? "\r\n" : "\n";
    const lines = [header.join(",")];
    for (const r of rows) {
      const width = Math.max(0, header.length + r.width);
      const cells = Array.from({ length: width }, (_, i) => r.cells[i % Math.max(1, r.cells.length)] ?? "");
      lines.push(cells.map((c) => quoteMaybe(c, quote || /[",\r\n]/.test(c))).join(","));
    }
    return { name: spec.file, content: Buffer.from((bom ? "\uFEFF" : "") + lines.join(nl) + nl) };
  });

const rawFile = fc.record({
  name: fc.constantFrom(...NAMES),
  content: fc.uint8Array({ maxLength: 300 }).map(Buffer.from),
});

const folder = fc.uniqueArray(fc.oneof(csvFile, csvFile, rawFile), {
  minLength: 1,
  maxLength: 3,
  selector: (f) => f.name,
});

describe.each(ENGINES)("import fuzzing on %s", (engine) => {
  let t: TestDb;
  beforeAll(async () => {
    t = await freshDb(engine);
    expect((await importDirectory(t.db, SAMPLE, { zone: "UTC" })).ok).toBe(true);
  });
  afterAll(async () => t.drop());

  it("never throws, never writes when it refuses, and every problem names a file and a line (snapshot or --merge)", async () => {
    await fc.assert(
      fc.asyncProperty(folder, fc.boolean(), async (files, merge) => {
        const dir = mkdtempSync(join(tmpdir(), "mr-fuzz-"));
        try {
          for (const f of files) writeFileSync(join(dir, f.name), f.content);
          const before = await dump(t.db);
          const r = await importDirectory(t.db, dir, { zone: "UTC", merge });
          if (r.ok) return;
          expect(r.problems.length).toBeGreaterThan(0);
          for (const p of r.problems) {
            expect(NAMES).toContain(p.file);
            // A line of the file, or, for a stored row the import would leave dangling, the key it would remove.
            if (p.line === 0) expect(p.problem).toMatch(/in the database/);
            else expect(p.line).toBeGreaterThanOrEqual(1);
            expect(p.column).not.toBe("");
          }
          expect(await dump(t.db)).toEqual(before);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }),
      { numRuns: engine === "pg" ? 40 : 80 },
    );
  });
});
