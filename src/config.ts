import { DateTime } from "luxon";
import cron from "node-cron";
import { z } from "zod";
import { isValidZone } from "./domain/dates.js";
import { AppError } from "./errors.js";

const emailList = z
  .string()
  .default("")
  .transform((s) =>
    s
      .split(/[;,]/)
      .map((e) => e.trim().toLowerCase())
      .filter(Boolean),
  );

const intIn = (min: number, max: number, dflt: number) =>
  z
    .string()
    .default(String(dflt))
    .refine((s) => /^\d+$/.test(s.trim()) && +s >= min && +s <= max, `must be a whole number from ${min} to ${max}`)
    .transform((s) => Number(s));

/**
 * `.env.example`'s placeholders (`xoxb-...`, `...`): a copied example must not run Slack with a
 * guessable secret. Checked where Slack is used, so `import` and `preview` still run before the app
 * is set up in Slack.
 */
export const isPlaceholder = (s: string | undefined) =>
  s !== undefined && /^(xox[a-z]-|xapp-)?(\.\.\.|…)$/.test(s.trim());

const schema = z.object({
  SLACK_BOT_TOKEN: z.string().optional(),
  SLACK_SIGNING_SECRET: z.string().optional(),
  SLACK_APP_TOKEN: z
    .string()
    .refine((s) => s.startsWith("xapp-"), "must be an app-level token (xapp-…)")
    .optional(),
  /** Install from a link (§16): the app's OAuth credentials, and the key the installations' tokens are encrypted with. */
  SLACK_CLIENT_ID: z.string().optional(),
  SLACK_CLIENT_SECRET: z.string().optional(),
  SLACK_STATE_SECRET: z.string().optional(),
  TOKEN_ENCRYPTION_KEY: z
    .string()
    .refine(
      (s) => /^[A-Za-z0-9+/]+={0,2}$/.test(s.trim()) && Buffer.from(s.trim(), "base64").length === 32,
      "must be 32 random bytes in base64 (make one with `openssl rand -base64 32`)",
    )
    .optional(),
  SLACK_API_URL: z
    .string()
    .default("https://slack.com/api/")
    .refine((s) => URL.canParse(s) && /^https?:$/.test(new URL(s).protocol), "must be an http(s) URL")
    .transform((s) => (s.endsWith("/") ? s : `${s}/`)),
  DATABASE_URL: z.string().min(1).default("./data/mentorship.sqlite"),
  REPORT_TIMEZONE: z.string().default("UTC").refine(isValidZone, "must be an IANA time zone such as Europe/Berlin"),
  REPORT_ANCHOR_DATE: z
    .string()
    .default("2026-01-05")
    .refine((s) => /^\d{4}-\d{2}-\d{2}$/.test(s) && DateTime.fromISO(s).isValid, "must be a date YYYY-MM-DD"),
  REPORT_INTERVAL_WEEKS: intIn(1, 52, 2),
  REPORT_SCHEDULE: z
    .string()
    .default("0 9 * * 1")
    .refine((s) => s === "off" || cron.validate(s), "must be a cron expression (e.g. `0 9 * * 1`) or `off`"),
  REPORT_SCOPE: z.enum(["direct", "all"]).default("direct"),
  /** local: each manager's DM at REPORT_LOCAL_TIME in their own zone (§12); fixed: everyone at REPORT_SCHEDULE. */
  REPORT_DELIVERY: z.enum(["local", "fixed"]).default("local"),
  REPORT_LOCAL_TIME: z
    .string()
    .default("09:00")
    .refine((s) => /^([01]\d|2[0-3]):[0-5]\d$/.test(s), "must be a time of day HH:MM (00:00 to 23:59)"),
  ADMIN_EMAILS: emailList,
  PORT: intIn(0, 65535, 3000),
  /**
   * The address /healthz and /metrics (and, over HTTP, /slack/events) listen on. Unset: loopback in
   * Socket Mode, where nothing from outside needs to reach the app, and every interface over HTTP.
   */
  HTTP_HOST: z
    .string()
    .refine((s) => /^[A-Za-z0-9.:[\]-]+$/.test(s), "must be an address or host name such as 127.0.0.1 or 0.0.0.0")
    .optional(),
  /** Set: /metrics asks for `Authorization: Bearer METRICS_TOKEN`; unset: it answers loopback clients only (§15). */
  METRICS_TOKEN: z.string().min(16, "must be at least 16 characters (a random secret)").optional(),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** Our pace for chat.postMessage across the workspace; Slack allows "several hundred a minute". */
  DELIVERY_RATE_PER_MINUTE: intIn(1, 100000, 300),
  /** How long a claim on a recipient holds before another process may take it over. */
  DELIVERY_LEASE_SECONDS: intIn(1, 3600, 60),
  /** Attention thresholds (spec §10): a request waiting, a mentor unmatched, an active match without meetings. */
  ATTENTION_REQUEST_DAYS: intIn(1, 3650, 14),
  ATTENTION_UNMATCHED_DAYS: intIn(1, 3650, 30),
  ATTENTION_IDLE_DAYS: intIn(1, 3650, 30),
  /** A drop folder `serve` imports when its files change: before each scheduled delivery and on IMPORT_SCHEDULE (§13). */
  IMPORT_DIR: z.string().optional(),
  IMPORT_SCHEDULE: z
    .string()
    .default("*/15 * * * *")
    .refine((s) => s === "off" || cron.validate(s), "must be a cron expression (e.g. `*/15 * * * *`) or `off`"),
  /** A drop-folder file is imported only once it has not changed for this long (spec §15). */
  IMPORT_SETTLE_SECONDS: intIn(0, 86400, 30),
  /** Data imported longer ago than this makes the scheduled run warn the program admins first. */
  DATA_MAX_AGE_DAYS: intIn(1, 3650, 14),
  /** §17: `pilot` sends scheduled reports only to the listed managers and programs; the rest are skipped. */
  REPORT_AUDIENCE: z.enum(["all", "pilot"]).default("all"),
  REPORT_PILOT_EMAILS: emailList.superRefine((list, ctx) => {
    const bad = list.find((e) => !/^[^\s@]+@[^\s@]+$/.test(e));
    if (bad !== undefined)
      ctx.addIssue({ code: "custom", message: `must be email addresses separated by ; or , (${bad} is not one)` });
  }),
  /** Program ids as in programs.csv: free text, so only split and trimmed. */
  REPORT_PILOT_PROGRAMS: z
    .string()
    .default("")
    .transform((s) =>
      s
        .split(/[;,]/)
        .map((e) => e.trim())
        .filter(Boolean),
    ),
});

export type Config = Readonly<z.infer<typeof schema>>;

export class ConfigError extends AppError {
  readonly code = "CONFIG_INVALID";
  override readonly exitCode = 2;
}

/** Reads the environment once; a bad value stops the app with a message that names the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const picked = Object.fromEntries(Object.keys(schema.shape).map((k) => [k, env[k] === "" ? undefined : env[k]]));
  const parsed = schema.safeParse(picked);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const name = String(i.path[0]);
      const shown = /TOKEN|SECRET/.test(name) ? "" : `=${JSON.stringify(env[name] ?? "")}`;
      return `  ${name}${shown}: ${i.message}`;
    });
    throw new ConfigError(`Invalid configuration:\n${lines.join("\n")}`);
  }
  const c = parsed.data;
  // A pilot with nobody in it would quietly send nothing; pilot lists without a pilot would be ignored.
  const audienceProblem =
    c.REPORT_AUDIENCE === "pilot" && !c.REPORT_PILOT_EMAILS.length && !c.REPORT_PILOT_PROGRAMS.length
      ? '  REPORT_AUDIENCE="pilot": set REPORT_PILOT_EMAILS (managers) or REPORT_PILOT_PROGRAMS (programs), or both'
      : c.REPORT_AUDIENCE === "all" && (c.REPORT_PILOT_EMAILS.length || c.REPORT_PILOT_PROGRAMS.length)
        ? `  ${c.REPORT_PILOT_EMAILS.length ? "REPORT_PILOT_EMAILS" : "REPORT_PILOT_PROGRAMS"}: only read with REPORT_AUDIENCE=pilot; set it, or leave the list empty`
        : null;
  if (audienceProblem) throw new ConfigError(`Invalid configuration:\n${audienceProblem}`);
  return Object.freeze(c);
}

type PeriodVariables = Pick<Config, "REPORT_ANCHOR_DATE" | "REPORT_INTERVAL_WEEKS" | "REPORT_TIMEZONE">;

/** The period grid the variables describe. */
export const periodSettings = (config: PeriodVariables) => ({
  anchorDate: config.REPORT_ANCHOR_DATE,
  intervalWeeks: config.REPORT_INTERVAL_WEEKS,
  zone: config.REPORT_TIMEZONE,
});

/** What the variables imply, worked out here once: the rest of the app asks for these, not the raw variables. */
export function settingsOf(config: PeriodVariables & Pick<Config, "SLACK_APP_TOKEN">) {
  return {
    /** Socket Mode when an app-level token is set, else signed HTTP requests. */
    slackMode: config.SLACK_APP_TOKEN ? ("socket" as const) : ("http" as const),
    periods: periodSettings(config),
  };
}

const OAUTH_VARIABLES = [
  "SLACK_CLIENT_ID",
  "SLACK_CLIENT_SECRET",
  "SLACK_STATE_SECRET",
  "TOKEN_ENCRYPTION_KEY",
] as const;
type OAuthVariables = Pick<Config, (typeof OAUTH_VARIABLES)[number] | "SLACK_BOT_TOKEN">;

/**
 * How the app gets its tokens (§16): one workspace's SLACK_BOT_TOKEN (the default), or installations
 * from the install link. Half the link's variables is a mistake worth stopping for, named here.
 */
export function installModeOf(config: OAuthVariables): "token" | "link" {
  const set = OAUTH_VARIABLES.filter((n) => config[n]);
  if (config.SLACK_BOT_TOKEN || set.length === 0) return "token";
  if (set.length < OAUTH_VARIABLES.length)
    throw new ConfigError(
      `Installing from a link needs ${OAUTH_VARIABLES.join(", ")}; missing: ${OAUTH_VARIABLES.filter((n) => !config[n]).join(", ")}.`,
    );
  return "link";
}
