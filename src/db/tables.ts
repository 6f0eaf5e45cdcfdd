/**
 * The row of every table, as the database gives it back, declared once: Knex checks every
 * `db("table")` query of the app against these. Epoch milliseconds are numbers on both engines
 * (knex.ts reads PostgreSQL's int8 as a number). Booleans come back as 0/1 from SQLite.
 */

export interface ProgramRecord {
  program_id: string;
  name: string;
  match_duration_months: number;
  requires_mentor_approval: boolean | number;
  requires_mentee_approval: boolean | number;
  requires_admin_approval: boolean | number;
  admin_channel: string | null;
  admin_emails: string;
}

export interface PersonRecord {
  email: string;
  name: string;
  organization: string;
  manager_email: string | null;
  timezone: string | null;
}

export interface EnrollmentRecord {
  program_id: string;
  email: string;
  role: string;
  added_at: number | null;
  registered_at: number | null;
}

export interface MatchRequestRecord {
  request_id: string;
  program_id: string;
  mentor_email: string;
  mentee_email: string;
  requested_at: number;
  mentor_approved_at: number | null;
  mentee_approved_at: number | null;
  admin_approved_at: number | null;
  closed_at: number | null;
}

export interface MatchRecord {
  match_id: string;
  program_id: string;
  mentor_email: string;
  mentee_email: string;
  matched_at: number;
  closed_at: number | null;
}

export interface MeetingRecord {
  meeting_id: string;
  match_id: string;
  scheduled_at: number;
  cancelled_at: number | null;
}

export interface SettingRecord {
  key: string;
  value: string;
}

export interface SlackUserRecord {
  email: string;
  user_id: string | null;
  problem: string | null;
  checked_at: number;
  tz: string | null;
  /** The workspace (or Grid org) the user was found in; null: the one workspace of SLACK_BOT_TOKEN. */
  team_id?: string | null;
}

export interface DeliveryRecord {
  id: number;
  period_id: string;
  kind: "dm" | "channel" | "notice" | "stale" | "nudge";
  recipient: string;
  state: "pending" | "sending" | "delivered" | "failed" | "skipped";
  attempts: number;
  owner: string | null;
  claim: string | null;
  lease_until: number | null;
  channel: string | null;
  ts: string | null;
  error: string | null;
  updated_at: number;
  due_at: number | null;
  /** The as-of the delivered report was built at (§10: the next DM says what changed since). */
  as_of: number | null;
  /** A nudge (§18): the email of the manager who asked for it. */
  requested_by?: string | null;
  /** The workspace the row was delivered in (§16); null: the one workspace of SLACK_BOT_TOKEN. */
  team_id?: string | null;
}

export interface NudgeOptoutRecord {
  email: string;
  updated_at: number;
}

export interface ReportControlRecord {
  email: string;
  state: "paused" | "stopped";
  skip_period: string | null;
  updated_at: number;
}

export interface DeliveryPeriodRecord {
  period_id: string;
  completed_at: number;
}

export interface SeenRequestRecord {
  signature: string;
  forget_after: number;
}

export interface InstallationRecord {
  install_key: string;
  enterprise_id: string | null;
  enterprise_name: string | null;
  team_id: string | null;
  team_name: string | null;
  is_enterprise_install: boolean | number;
  app_id: string | null;
  bot_id: string | null;
  bot_user_id: string | null;
  bot_scopes: string | null;
  installer_user_id: string | null;
  enterprise_url: string | null;
  bot_token_sealed: string | null;
  installed_at: number;
  revoked_at: number | null;
}

declare module "knex/types/tables.js" {
  interface Tables {
    programs: ProgramRecord;
    people: PersonRecord;
    enrollments: EnrollmentRecord;
    match_requests: MatchRequestRecord;
    matches: MatchRecord;
    meetings: MeetingRecord;
    settings: SettingRecord;
    slack_users: SlackUserRecord;
    deliveries: DeliveryRecord;
    delivery_periods: DeliveryPeriodRecord;
    report_controls: ReportControlRecord;
    seen_requests: SeenRequestRecord;
    nudge_optouts: NudgeOptoutRecord;
    installations: InstallationRecord;
  }
}
