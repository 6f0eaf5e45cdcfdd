// Names and constants the layers share. This module imports nothing, so any folder may use it
// without making a cycle.

/** Names that manifest.yml and the listeners share (a test checks the manifest against these). */
export const COMMAND = "/mentorship-report";
export const EVENTS_PATH = "/slack/events";
export const HEALTH_PATH = "/healthz";
/** Install from a link (§16): the install page and where Slack sends the installer back. */
export const INSTALL_PATH = "/slack/install";
export const OAUTH_REDIRECT_PATH = "/slack/oauth_redirect";
export const BOT_SCOPES = [
  "chat:write",
  "chat:write.public",
  "commands",
  "users:read",
  "users:read.email",
  "im:write",
  "im:history",
  "channels:read",
  "channels:history",
  "groups:read",
  "groups:history",
  // CSV files program admins send in a DM: reading them, and attaching the problems to the answer;
  // files:write also uploads a manager's report as CSV (the Download CSV button, `/mentorship-report csv`).
  "files:read",
  "files:write",
] as const;
export const BOT_EVENTS = ["app_home_opened", "message.im"] as const;

/** The metadata event every post of a delivery carries, by which a later run recognises it in Slack. */
export const METADATA_EVENT = "mentorship_report";

/**
 * A Nudge button's action id is this prefix and the item's place in the message (`nudge_0`, …): ids are
 * unique within a message, and the listener answers every id that matches NUDGE_ACTION_PATTERN (§18).
 */
export const NUDGE_ACTION_PREFIX = "nudge_";
export const NUDGE_ACTION_PATTERN = /^nudge_\d+$/;
/** The nudged mentor's buttons: "No more nudges", and back on. */
export const NUDGE_SETTINGS = { off: "mentor_nudges_off", on: "mentor_nudges_on" } as const;
