import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createDb, migrate } from "../../src/db/knex.js";

const mode = (path: string) => statSync(path).mode & 0o777;

describe("the SQLite database holds names and emails: only its owner may read it (issue 9 row 12, spec §14)", () => {
  let base = "";
  const umask = process.umask();
  afterEach(() => {
    process.umask(umask);
    rmSync(base, { recursive: true, force: true });
  });

  it("a new database file, its WAL and its new folder are created owner-only, whatever the umask", async () => {
    base = mkdtempSync(join(tmpdir(), "mr-perm-"));
    process.umask(0o022);
    const file = join(base, "data", "nested", "mentorship.sqlite");
    const db = createDb(file);
    await migrate(db);
    await db("programs").count({ n: "*" });
    expect(mode(join(base, "data"))).toBe(0o700);
    expect(mode(join(base, "data", "nested"))).toBe(0o700);
    expect(mode(file)).toBe(0o600);
    if (existsSync(`${file}-wal`)) expect(mode(`${file}-wal`)).toBe(0o600);
    if (existsSync(`${file}-shm`)) expect(mode(`${file}-shm`)).toBe(0o600);
    await db.destroy();
    // The folder that was there before is the operator's and keeps its mode.
    expect(mode(base)).toBe(0o700);
  });

  it("an existing folder is left as it is; the file in it is still owner-only", async () => {
    base = mkdtempSync(join(tmpdir(), "mr-perm-"));
    process.umask(0o022);
    const db = createDb(join(base, "x.sqlite"));
    await migrate(db);
    await db.destroy();
    expect(mode(join(base, "x.sqlite"))).toBe(0o600);
  });
});
