import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseInstant } from "../../src/domain/dates.js";
import type { SlackEmulator } from "../../src/emulator/server.js";
import { importDirectory } from "../../src/import/import-service.js";
import { ENGINES, freshDb, type TestDb } from "../helpers/db.js";
import { SAMPLE } from "../helpers/files.js";
import { deliveryFor, emulatorFor } from "../helpers/slack.js";

const ASOF = parseInstant("2026-03-02T09:00", "UTC")!;

describe.each(ENGINES)(
  "a 200 answer that is not JSON (a proxy's error page) on %s (issue 9 row 3, spec §14)",
  (engine) => {
    let t: TestDb;
    let emulator: SlackEmulator;
    beforeEach(async () => {
      t = await freshDb(engine);
      expect((await importDirectory(t.db, SAMPLE, { zone: "UTC" })).ok).toBe(true);
      emulator = await emulatorFor(t.db);
    });
    afterEach(async () => {
      await emulator.stop();
      await t.drop();
    });

    it("after a post that went out: the DM is reconciled as delivered, never failed, never sent twice", async () => {
      emulator.setHtmlAnswers({ methods: ["chat.postMessage"], count: 2, afterWork: true });
      const s = await deliveryFor(t.db, emulator).deliverPeriod({ asOf: ASOF });
      expect(s.tally!.failed).toEqual([]);
      expect(s.left).toBe(0);
      expect(s.reconciled).toBe(2);
      const perRecipient = new Map<string, number>();
      for (const m of emulator.messages) perRecipient.set(m.channel, (perRecipient.get(m.channel) ?? 0) + 1);
      expect([...perRecipient.values()].every((n) => n === 1)).toBe(true);
      expect(emulator.messages).toHaveLength(5);
    });

    it("in the directory lookup: the run goes on and every DM is delivered", async () => {
      emulator.setHtmlAnswers({ methods: ["users.lookupByEmail", "users.list"], count: 1 });
      const s = await deliveryFor(t.db, emulator).deliverPeriod({ asOf: ASOF });
      expect(s.fatal).toBeNull();
      expect(s.deliveredNow.dm).toBe(3);
      expect(s.tally!.failed).toEqual([]);
    });

    it("in every directory lookup: the run stops as 'Slack out of reach', leaving the DMs for the next run", async () => {
      emulator.setHtmlAnswers({ methods: ["users.lookupByEmail", "users.list"], count: 1000 });
      const s = await deliveryFor(t.db, emulator).deliverPeriod({ asOf: ASOF });
      expect(s.unreachable).toBe(true);
      expect(s.fatal).toBeNull();
      expect(s.tally!.failed).toEqual([]);
      expect(s.left).toBeGreaterThanOrEqual(3);
    });
  },
);
