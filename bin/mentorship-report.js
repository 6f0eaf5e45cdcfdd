#!/usr/bin/env node
// The CLI runs the compiled sources; `npm ci` builds them through the `prepare` script.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const entry = new URL("../dist/cli/main.js", import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  console.error("mentorship-report is not built yet: run `npm run build` (npm ci does it for you).");
  process.exit(1);
}
// Settings from ./.env, if there is one; variables already set in the environment win.
if (existsSync(".env")) process.loadEnvFile(".env");

// `mentorship-report preview … | head` closes the pipe early; that is not an error.
process.stdout.on("error", (err) => {
  if (err.code === "EPIPE") process.exit(0);
  throw err;
});
const { main } = await import(entry.href);
process.exitCode = await main(process.argv);
