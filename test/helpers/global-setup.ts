import pg from "pg";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    pgUrl: string | null;
  }
}

export const DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/test";

/**
 * Finds the PostgreSQL server for the engine suites. Without one, `npm test` still passes and says
 * so loudly; with REQUIRE_PG=1 (as .ci/run sets it) a missing server fails the run.
 */
export default async function setup(project: TestProject) {
  const url = process.env.TEST_PG_URL ?? DEFAULT_PG_URL;
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query("select 1");
    project.provide("pgUrl", url);
    console.log(`\n[engines] PostgreSQL suite ON: ${url.replace(/:[^:@/]*@/, ":***@")}\n`);
  } catch (err) {
    if (process.env.REQUIRE_PG === "1") {
      throw new Error(`REQUIRE_PG=1 but PostgreSQL at ${url} could not be reached: ${(err as Error).message}`);
    }
    project.provide("pgUrl", null);
    const bar = "!".repeat(78);
    const banner = `\n${bar}\n!! PostgreSQL SUITE SKIPPED: no server at ${url}\n!! (${(err as Error).message})\n!! Set TEST_PG_URL, or run .ci/run / npm run test:pg where PostgreSQL runs.\n${bar}\n`;
    console.warn(banner);
    // Said again at the end, where a reader of the run looks.
    return () => console.warn(banner);
  } finally {
    await client.end().catch(() => {});
  }
}
