/**
 * The numbers' policies, as the runs of one runner service see them (runner/numberStates.ts): read
 * again for every number in one statement per period, not one per run; an owner's change reaches
 * every run within the period. Real database.
 */
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { whatsappSessions } from "~/server/db/schema";
import { NumberStates } from "~/server/services/runner/numberStates";
import { countingDb } from "../helpers/countingDb";
import { backends, createTestDatabase, type TestDatabase } from "../helpers/db";
import { seedCampaign } from "./helpers";

const REFRESH_MS = 1_000;
/** Enough that one statement per number could not pass for one per period. */
const NUMBERS = 20;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

for (const backend of backends) {
  describe(`[${backend}] the numbers' policies of a runner service`, () => {
    let database: TestDatabase;

    beforeAll(async () => {
      database = await createTestDatabase(backend);
    });
    afterAll(async () => {
      await database?.close();
    });

    it("reads every held number again in one statement per period, and an owner's change reaches every run", async () => {
      const sessionIds: string[] = [];
      for (let i = 0; i < NUMBERS; i++) sessionIds.push((await seedCampaign(database.db, { recipients: 1 })).sessionId);
      const counter = { statements: 0 };
      const numbers = new NumberStates(countingDb(database.db, "select", () => counter.statements++), REFRESH_MS);

      const first = await Promise.all(sessionIds.map((id) => numbers.hold(id)));
      expect(first.every((state) => state !== null && state.policy.dailyLimit === null)).toBe(true);
      expect(counter.statements).toBe(NUMBERS); // each run's start reads its own number

      // Every run asks at once, as running campaigns do before a send: one statement for the twenty.
      await database.db.update(whatsappSessions).set({ dailyLimit: 40 }).where(eq(whatsappSessions.id, sessionIds[7]!));
      await sleep(REFRESH_MS + 20);
      counter.statements = 0;
      const read = await Promise.all(sessionIds.map((id) => numbers.current(id)));
      expect(counter.statements).toBe(1);
      expect(read[7]?.policy.dailyLimit).toBe(40);
      expect(read.filter((state) => state?.policy.dailyLimit === 40)).toHaveLength(1);

      // Within the period: no statement at all.
      await Promise.all(sessionIds.map((id) => numbers.current(id)));
      expect(counter.statements).toBe(1);

      // A released number is no longer read.
      for (const id of sessionIds) numbers.release(id);
      expect(await numbers.current(sessionIds[0]!)).toBeNull();
    });
  });
}
