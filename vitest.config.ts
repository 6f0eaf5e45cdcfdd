import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/helpers/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // One file at a time: several suites time real processes (acks under 3 s, leases, kills), and on a
    // 2-core machine two such files side by side measure each other rather than the app.
    fileParallelism: false,
  },
});
