import { createRequire } from "node:module";
import { Command, CommanderError, Option } from "commander";
import { AppError, safeErrorMessage } from "../errors.js";
import { type CliIo, processIo, UsageError, withContext } from "./context.js";
import { runImport } from "./import.js";
import { FORMATS, runPreview } from "./preview.js";
import { runSend } from "./send.js";
import { runServe } from "./serve.js";
import { runStatus } from "./status.js";

/**
 * The Slack emulator is a test double: only `emulator` and `demo` load it, so `serve`, `send` and
 * `import` run where it is not installed (the Docker image leaves it out).
 */
async function withEmulator<T>(load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (err) {
    if ((err as { code?: string }).code === "ERR_MODULE_NOT_FOUND")
      throw new UsageError(
        "The Slack emulator is not part of this installation (the Docker image leaves it out); run it from a checkout.",
      );
    throw err;
  }
}

/** package.json sits two folders up from both src/cli and dist/cli. */
const { version } = createRequire(import.meta.url)("../../package.json") as { version: string };

/**
 * Runs the CLI and returns the exit code: 0 done, 1 the work failed, 2 bad usage or configuration,
 * 3 (`send`) delivered what it could but some recipients failed for good.
 */
export async function main(
  argv: string[],
  io: CliIo = processIo,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  let code = 0;
  const run = (fn: Parameters<typeof withContext>[2]) =>
    withContext(io, env, fn).then((c) => {
      code = c as number;
    });
  const program = new Command()
    .name("mentorship-report")
    .description("Mentorship reports for people managers, delivered in Slack.")
    .version(version, "-V, --version", "print the version")
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .showHelpAfterError("(run with --help for usage)");

  program
    .command("migrate")
    .description("bring the database schema up to date")
    .action(() =>
      run(async () => {
        io.out("Schema is up to date.\n");
        return 0;
      }),
    );

  program
    .command("import")
    .description("import the CSV files in DIR (all or nothing)")
    .argument(
      "<dir>",
      "folder with programs.csv, people.csv, enrollments.csv, match_requests.csv, matches.csv, meetings.csv",
    )
    .option("--dry-run", "check every row, write nothing")
    .option("--merge", "only add and update: rows missing from a file are kept (default: each file is the full set)")
    .action((dir: string, opts: { dryRun?: boolean; merge?: boolean }) => run((ctx) => runImport(ctx, dir, opts)));

  program
    .command("preview")
    .description("print one manager's report or one program's summary")
    .option("--manager <email>", "the manager whose team to report")
    .option("--program <id>", "the program to summarise")
    .option("--as-of <iso>", "report time (ISO 8601; a date means midnight in REPORT_TIMEZONE)")
    .option("--since <iso>", "with --manager: also list what changed since this time")
    .addOption(new Option("--format <format>", "output format").choices([...FORMATS]).default("text"))
    .action((opts) => run((ctx) => runPreview(ctx, opts)));

  program
    .command("send")
    .description("deliver the period that contains --as-of (default now): DMs and channel summaries")
    .option("--as-of <iso>", "a time in the period to deliver, and the report time")
    .option("--dry-run", "show what would be sent; send and record nothing")
    .option("--due", "only what is due by --as-of in each manager's local time (the scheduler's tick, by hand)")
    .addHelpText(
      "after",
      "\nExit codes: 0 everything delivered; 1 work left (Slack out of reach, token refused, stopped): run again;\n" +
        "2 bad usage or configuration; 3 some recipients failed for good (not in Slack, channel refused).",
    )
    .action((opts) => run((ctx) => runSend(ctx, opts)));

  program
    .command("status")
    .description("what the delivery ledger says about the period that contains --as-of (default now)")
    .option("--as-of <iso>", "a time in the period")
    .action((opts: { asOf?: string }) => run((ctx) => runStatus(ctx, opts)));

  program
    .command("serve")
    .description("the Slack app: HTTP (or Socket Mode), /healthz and the scheduler")
    .action(() => run((ctx) => runServe(ctx)));

  program
    .command("emulator")
    .description(
      "a local Slack emulator: prints what the app sends, and sends what you type (slash commands, clicks, files) to serve",
    )
    .option("--port <port>", "port on 127.0.0.1", "3001")
    .option("--from-db", "make its workspace of the roster in DATABASE_URL (every person, mentees included)")
    .option(
      "--app-url <url>",
      "serve's request URL for typed commands (HTTP mode)",
      "http://127.0.0.1:3000/slack/events",
    )
    .option(
      "--grid",
      "the roster in DATABASE_URL in two workspaces and a Grid org of three, for installing serve from its link (§16)",
    )
    .action(async (opts: { port: string; appUrl: string; fromDb?: boolean; grid?: boolean }) => {
      if (opts.grid) {
        const { runGridEmulator } = await withEmulator(() => import("./emulator-grid.js"));
        return run((ctx) => runGridEmulator(ctx, opts));
      }
      const { runEmulator } = await withEmulator(() => import("./emulator.js"));
      await run((ctx) => runEmulator(ctx, opts));
    });

  program
    .command("demo")
    .description("the whole pipeline on bundled sample data, no Slack workspace needed")
    .option("--as-of <iso>", "report time", "2026-03-02T09:00")
    .option("--grid", "the short part: installed from the link into two workspaces and a Grid org")
    .action(async (opts: { asOf: string; grid?: boolean }) => {
      const { DEMO_DATABASE, resetDemoDatabase, runDemo } = await withEmulator(() => import("./demo.js"));
      const { runGridDemo } = await withEmulator(() => import("./demo-grid.js"));
      resetDemoDatabase();
      // The demo's story is on stdout; its logs only when asked for.
      code = await withContext(
        io,
        { ...env, DATABASE_URL: DEMO_DATABASE, LOG_LEVEL: env.LOG_LEVEL ?? "warn" },
        (ctx) => (opts.grid ? runGridDemo(ctx, opts) : runDemo(ctx, opts)),
      );
    });

  try {
    await program.parseAsync(argv);
    return code;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof AppError) {
      io.err(err.exitCode === 2 ? `${err.message}\n` : `Error: ${err.message}\n`);
      return err.exitCode;
    }
    io.err(`Unexpected error: ${safeErrorMessage(err)}\n(LOG_LEVEL=debug adds the stack)\n`);
    if (env.LOG_LEVEL === "debug" && err instanceof Error) io.err(`${err.stack?.split("\n").slice(1).join("\n")}\n`);
    return 1;
  }
}
