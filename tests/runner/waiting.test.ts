/**
 * No busy waiting: a campaign whose number is busy with another campaign's send sleeps until the
 * time the database gives and wakes when the slot is freed (NOTIFY wc_slot_released), so waiting
 * costs a few statements, not one every few milliseconds. Real database, fake WAHA over HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "~/server/db/client";
import { listenForSlotReleases, type SlotWakeups } from "~/server/db/notifications";
import { childLogger } from "~/server/logger";
import { cancelCampaign } from "~/server/services/campaignLifecycle";
import { CampaignRunnerService, type CampaignRunnerOptions } from "~/server/services/runner/campaignRunner";
import { WahaApiClient } from "~/server/services/waha/client";
import { type FakeWaha, startFakeWaha } from "../../tools/fake-waha/server";
import { backends, createTestDatabase, type TestDatabase } from "../helpers/db";
import { waitFor } from "../helpers/waitFor";
import { campaignRow, recipientCounts, seedCampaign, sessionMessages } from "./helpers";

/** The database as one runner sees it, noting when it sends each statement. */
function countingDb(db: Db, statementTimes: number[]): Db {
  const counted = new Set(["execute", "select", "update", "insert", "delete", "transaction"]);
  return new Proxy(db, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== "function" || !counted.has(String(property))) return value;
      return (...args: unknown[]) => {
        statementTimes.push(Date.now());
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

const SEND_MS = 6_000;

for (const backend of backends) {
  describe(`[${backend}] waiting for a busy number`, () => {
    let database: TestDatabase;
    let fake: FakeWaha;
    let client: WahaApiClient;
    let slotWakeups: SlotWakeups;
    let options: CampaignRunnerOptions;

    beforeAll(async () => {
      [database, fake] = await Promise.all([createTestDatabase(backend), startFakeWaha({ port: 0 })]);
      client = new WahaApiClient({ baseUrl: fake.url, timeoutMs: SEND_MS + 4_000 });
      slotWakeups = await listenForSlotReleases(database, childLogger("test"));
      // The default lease (30 s, renewed every 10 s): renewals are not what this counts.
      options = { sendRetry: { attempts: 1, baseDelayMs: 5 }, slotWakeups };
    });
    afterAll(async () => {
      await slotWakeups?.close();
      client?.close();
      await Promise.all([database?.close(), fake?.close()]);
    });

    it(`a campaign waiting ${SEND_MS / 1000} s behind another one's send costs a few statements, and goes as soon as the slot is freed`, async () => {
      const first = await seedCampaign(database.db, { recipients: 1 });
      fake.setSessionStatus(first.wahaSessionName, "WORKING");
      const second = await seedCampaign(database.db, { recipients: 2, session: { id: first.sessionId, wahaSessionName: first.wahaSessionName, workspaceId: first.workspaceId } });

      fake.setFaults({ latencyMs: SEND_MS });
      const firstRun = new CampaignRunnerService(database.db, client, options).runCampaign(first.campaignId);
      await waitFor("the first campaign's send in flight", () => sessionMessages(fake.messages(), first.wahaSessionName).length === 1);
      fake.setFaults({ latencyMs: 0 });

      const statementTimes: number[] = [];
      const secondStartedAt = Date.now();
      const secondRun = new CampaignRunnerService(countingDb(database.db, statementTimes), client, options).runCampaign(second.campaignId);
      expect((await firstRun).status).toBe("Completed");
      const slotFreedAt = Date.now();
      expect((await secondRun).status).toBe("Completed");
      const secondDoneAt = Date.now();

      // Its start (claim, recipients, the first take) takes the first second; what follows until the
      // slot is freed is waiting: at most a few looks, where a 10 ms poll would have made hundreds.
      const whileWaiting = statementTimes.filter((at) => at > secondStartedAt + 1_000 && at < slotFreedAt);
      expect(slotFreedAt - secondStartedAt).toBeGreaterThan(SEND_MS - 2_000);
      expect(whileWaiting.length).toBeLessThanOrEqual(3);
      // Woken by the release, not by a timer: its two sends follow at once.
      expect(secondDoneAt - slotFreedAt).toBeLessThan(1_500);
      expect(await recipientCounts(database.db, second.campaignId)).toEqual({ sent: 2 });
      expect(fake.stats().maxInFlight[first.wahaSessionName]).toBe(1);
    }, 30_000);

    it("held behind another campaign's send longer than the threshold, a campaign reads waiting: number_busy with that campaign's name, cleared when it sends", async () => {
      const first = await seedCampaign(database.db, { recipients: 1 });
      fake.setSessionStatus(first.wahaSessionName, "WORKING");
      const second = await seedCampaign(database.db, { recipients: 1, session: { id: first.sessionId, wahaSessionName: first.wahaSessionName, workspaceId: first.workspaceId } });
      const firstName = (await campaignRow(database.db, first.campaignId))!.name;

      fake.setFaults({ latencyMs: 4_000 });
      const firstRun = new CampaignRunnerService(database.db, client, options).runCampaign(first.campaignId);
      await waitFor("the first campaign's send in flight", () => sessionMessages(fake.messages(), first.wahaSessionName).length === 1);
      fake.setFaults({ latencyMs: 0 });
      let firstDone = false;
      void firstRun.then(() => (firstDone = true));

      // The threshold injected (the default is 10 s), so the test waits for the state, not the clock.
      const secondRun = new CampaignRunnerService(database.db, client, { ...options, numberBusyAfterMs: 200 }).runCampaign(second.campaignId);
      const busy = await waitFor("the second campaign to say the number is busy", async () => {
        const row = await campaignRow(database.db, second.campaignId);
        return row?.waitingReason === "number_busy" ? row : null;
      });
      expect(firstDone).toBe(false);
      expect(busy.waitingDetail).toBe(firstName);
      expect(busy.waitingUntil).toBeInstanceOf(Date);
      expect(sessionMessages(fake.messages(), first.wahaSessionName)).toHaveLength(1);

      expect((await firstRun).status).toBe("Completed");
      expect((await secondRun).status).toBe("Completed");
      const done = (await campaignRow(database.db, second.campaignId))!;
      expect({ reason: done.waitingReason, until: done.waitingUntil, detail: done.waitingDetail }).toEqual({ reason: null, until: null, detail: null });
      expect(await recipientCounts(database.db, second.campaignId)).toEqual({ sent: 1 });
      expect(fake.stats().maxInFlight[first.wahaSessionName]).toBe(1);
    }, 20_000);

    it("a cancel during a slow send returns as soon as that send ends, not by polling", async () => {
      const seeded = await seedCampaign(database.db, { recipients: 3 });
      fake.setSessionStatus(seeded.wahaSessionName, "WORKING");
      fake.setFaults({ latencyMs: 2_000 });
      const run = new CampaignRunnerService(database.db, client, options).runCampaign(seeded.campaignId);
      await waitFor("a send in flight", () => sessionMessages(fake.messages(), seeded.wahaSessionName).length === 1);
      const statementTimes: number[] = [];
      const cancelStartedAt = Date.now();
      await cancelCampaign(countingDb(database.db, statementTimes), seeded.campaignId, slotWakeups);
      const cancelledAfterMs = Date.now() - cancelStartedAt;
      fake.setFaults({ latencyMs: 0 });
      expect((await run).status).toBe("Cancelled");
      // It waited out the send in flight (about 2 s) with a handful of statements.
      expect(cancelledAfterMs).toBeGreaterThan(1_000);
      expect(statementTimes.length).toBeLessThanOrEqual(4);
      expect(sessionMessages(fake.messages(), seeded.wahaSessionName)).toHaveLength(1);
    }, 20_000);
  });
}
