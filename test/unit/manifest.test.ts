import { readFileSync } from "node:fs";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { BOT_EVENTS, BOT_SCOPES, COMMAND, EVENTS_PATH, OAUTH_REDIRECT_PATH } from "../../src/ids.js";

// Slack's schema (slackapi/manifest-schema, MIT), vendored so a clone tests on its own.
const schemaPath = new URL("../../vendor/slack/manifest.schema.1.0.0.json", import.meta.url);
const manifest = parse(readFileSync(new URL("../../manifest.yml", import.meta.url), "utf8"));

describe("manifest.yml", () => {
  it("validates against Slack's app manifest JSON Schema", () => {
    const { $schema: _drop, ...schema } = JSON.parse(readFileSync(schemaPath, "utf8"));
    // The schema carries a few keywords of Slack's own (`regex`); strict mode would refuse to compile it.
    const validate = new Ajv({ strict: false, allErrors: true, validateFormats: false }).compile(schema);
    const ok = validate(manifest);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it("declares what the code uses: the command, the scopes, the events and the request path", () => {
    expect(manifest.features.slash_commands.map((c: { command: string }) => c.command)).toEqual([COMMAND]);
    expect([...manifest.oauth_config.scopes.bot].sort()).toEqual([...BOT_SCOPES].sort());
    expect(manifest.settings.event_subscriptions.bot_events).toEqual([...BOT_EVENTS]);
    expect(new URL(manifest.settings.event_subscriptions.request_url).pathname).toBe(EVENTS_PATH);
    expect(new URL(manifest.features.slash_commands[0].url).pathname).toBe(EVENTS_PATH);
    expect(manifest.features.app_home.home_tab_enabled).toBe(true);
    // The report's buttons need interactivity, posted to the same request path.
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
    expect(new URL(manifest.settings.interactivity.request_url).pathname).toBe(EVENTS_PATH);
  });

  it("can be installed from the link, org-wide on Enterprise Grid (§16)", () => {
    expect(manifest.oauth_config.redirect_urls.map((u: string) => new URL(u).pathname)).toEqual([OAUTH_REDIRECT_PATH]);
    expect(manifest.settings.org_deploy_enabled).toBe(true);
  });

  it("a manifest that breaks the schema is caught", () => {
    const { $schema: _drop, ...schema } = JSON.parse(readFileSync(schemaPath, "utf8"));
    const validate = new Ajv({ strict: false, validateFormats: false }).compile(schema);
    expect(validate({ ...manifest, display_information: { name: "x".repeat(36) } })).toBe(false);
  });
});
