/**
 * One renewal statement per period for every lease a runner service holds (runner/leaseRenewal.ts),
 * not one per campaign; a lease another holder took is reported lost, once, and the others go on.
 * Real database.
 */
import { eq, inArray, sql } from "drizzle-orm";
import type { Db } from "~/server/db/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { campaigns } from "~/server/db/schema";
import { childLogger } from "~/server/logger";
import { LeaseRenewer } from "~/server/services/runner/leaseRenewal";
import { countingDb } from "../helpers/countingDb";
import { backends, createTestDatabase, type TestDatabase } from "../helpers/db";
import { waitFor } from "../helpers/waitFor";
import { seedCampaign } from "./helpers";

const LEASE_MS = 600; // renewed every 200 ms
/** Enough that one statement per lease could not pass for one per period. */
const LEASES = 20;

async function expiries(db: Db, ids: string[]): Promise<Map<string, number>> {
  const rows = await db
    .select({ id: campaigns.id, ms: sql<number>`(extract(epoch from ${campaigns.leaseExpiresAt}) * 1000)::float8` })
    .from(campaigns)
    .where(inArray(campaigns.id, ids));
  return new Map(rows.map((row) => [row.id, Number(row.ms)]));
}

for (const backend of backends) {
  describe(`[${backend}] lease renewal`, () => {
    let database: TestDatabase;

    beforeAll(async () => {
      database = await createTestDatabase(backend);
    });
    afterAll(async () => {
      await database?.close();
    });

    it("renews every held lease in one statement per period, reports a lease taken by another holder lost once, and stops when none is held", async () => {
      const ids: string[] = [];
      for (let i = 0; i < LEASES; i++) ids.push((await seedCampaign(database.db, { recipients: 1 })).campaignId);
      await database.db
        .update(campaigns)
        .set({ status: "Running", leaseHolder: sql`'holder-' || ${campaigns.id}::text`, leaseExpiresAt: sql`now() + interval '600 milliseconds'` })
        .where(inArray(campaigns.id, ids));

      const counter = { statements: 0 };
      const renewer = new LeaseRenewer(countingDb(database.db, "execute", () => counter.statements++), LEASE_MS, childLogger("test"));
      const lost: string[] = [];
      const releases = ids.map((id) => renewer.hold(id, `holder-${id}`, () => lost.push(id)));
      const before = await expiries(database.db, ids);

      // Every lease moved on, and it took one statement per period for all twenty.
      const after = await waitFor("every lease renewed", async () => {
        const now = await expiries(database.db, ids);
        return ids.every((id) => now.get(id)! > before.get(id)!) ? now : null;
      }, { timeoutMs: 5_000, intervalMs: 50 });
      expect(counter.statements).toBeGreaterThanOrEqual(1);
      expect(counter.statements).toBeLessThan(LEASES / 4);

      // Another holder takes the first campaign: only it is lost, and only once.
      await database.db.update(campaigns).set({ leaseHolder: "someone-else" }).where(eq(campaigns.id, ids[0]!));
      await waitFor("the taken lease reported lost", () => lost.length > 0, { timeoutMs: 5_000 });
      const seen = counter.statements;
      await waitFor("two more renewals", () => counter.statements >= seen + 2, { timeoutMs: 5_000 });
      expect(lost).toEqual([ids[0]]);
      const kept = await expiries(database.db, ids.slice(1));
      const [taken] = await database.db.select({ holder: campaigns.leaseHolder }).from(campaigns).where(eq(campaigns.id, ids[0]!));
      expect(taken?.holder).toBe("someone-else");
      for (const id of ids.slice(1)) expect(kept.get(id)!).toBeGreaterThan(after.get(id)!);

      // Released: no statement any more.
      for (const release of releases) release();
      const atRelease = counter.statements;
      await new Promise((resolve) => setTimeout(resolve, 3 * (LEASE_MS / 3)));
      expect(counter.statements).toBeLessThanOrEqual(atRelease + 1); // one may have been under way
    });
  });
}
