import { Writable } from "node:stream";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { boltLogger } from "../../src/slack/app.js";

function captured() {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level: "debug" }, sink), lines };
}

describe("Bolt's logger goes through ours", () => {
  it("warnings and errors become JSON lines without email addresses; debug and info (request bodies) are dropped", () => {
    const { log, lines } = captured();
    const bolt = boltLogger(log);
    bolt.debug('http request body: {"text":"Dana Mentee"}');
    bolt.info("now connected");
    bolt.warn("retrying for", "dana@acme.example");
    bolt.error(new Error("failed for dana@acme.example"));
    expect(lines.map((l) => [l.level, l.component, l.msg])).toEqual([
      [40, "bolt", "retrying for <email>"],
      [50, "bolt", "Error: failed for <email>"],
    ]);
  });
});
