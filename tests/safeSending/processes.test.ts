/**
 * A number's limits hold across processes (issue 13): two runner processes
 * (tests/runner/fixtures/runCampaign.ts), each sending its own campaign on the same number with
 * `dailyLimit: 10`, send exactly 10 in all: then each campaign has either sent all of its 8 or waits
 * with `daily_limit`, and the one that waits sends nothing more. The
 * count is taken where the send slot is taken (wc_send_step), under the number's row lock.
 * PostgreSQL only: several processes share it (PGlite is one connection).
 */
import { eq, inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as s from "~/server/db/schema";
import { type FakeWaha, startFakeWaha } from "../../tools/fake-waha/server";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { waitFor } from "../helpers/waitFor";
import { perChat, seedCampaign, sessionMessages } from "../runner/helpers";
import { type Child, startRunner } from "../runner/processHelpers";

const hasPostgres = Boolean(process.env.TEST_DATABASE_URL);

describe.skipIf(!hasPostgres)("[postgres] a number's daily limit across processes", () => {
  let database: TestDatabase;
  let fake: FakeWaha;
  const children: Child[] = [];
  beforeAll(async () => {
    [database, fake] = await Promise.all([createTestDatabase("postgres"), startFakeWaha({ port: 0 })]);
  });
  afterAll(async () => {
    for (const child of children) if (child.process.exitCode === null) child.process.kill("SIGKILL");
    await Promise.all(children.map((child) => child.exited));
    await Promise.all([database?.close(), fake?.close()]);
  });

  it("two processes sending two campaigns on one number with dailyLimit 10 send exactly 10", async () => {
    const first = await seedCampaign(database.db, { recipients: 8 });
    const second = await seedCampaign(database.db, {
      recipients: 8,
      session: { id: first.sessionId, wahaSessionName: first.wahaSessionName, workspaceId: first.workspaceId },
    });
    await database.db.update(s.whatsappSessions).set({ dailyLimit: 10 }).where(eq(s.whatsappSessions.id, first.sessionId));
    fake.setSessionStatus(first.wahaSessionName, "WORKING");
    fake.setFaults({ latencyMs: 2 }); // sends overlap in time across the two processes

    for (const campaign of [first, second]) {
      children.push(startRunner({ DATABASE_URL: database.url!, WAHA_URL: fake.url, CAMPAIGN_ID: campaign.campaignId, LEASE_MS: "5000" }));
    }
    const ids = [first.campaignId, second.campaignId];
    // However the two processes took turns, 16 recipients and a limit of 10: one campaign at least waits.
    const rows = await waitFor(
      "each campaign to be done or wait for the daily limit",
      async () => {
        const rows = await database.db.select().from(s.campaigns).where(inArray(s.campaigns.id, ids));
        const settled = rows.every((row) => row.status === "Completed" || (row.status === "Running" && row.waitingReason === "daily_limit"));
        return rows.length === 2 && settled && rows.some((row) => row.waitingReason === "daily_limit") ? rows : null;
      },
      { timeoutMs: 30_000 },
    );
    fake.setFaults({ latencyMs: 0 });

    const messages = sessionMessages(fake.messages(), first.wahaSessionName);
    expect(messages).toHaveLength(10);
    // Nobody twice, and both campaigns had their turns.
    expect([...perChat(fake.messages(), first.wahaSessionName).values()].every((n) => n === 1)).toBe(true);
    const chats = new Set(messages.map((message) => message.chatId));
    for (const campaign of [first, second]) expect(campaign.contacts.some((contact) => chats.has(contact.chatId))).toBe(true);
    const [number] = await database.db.select().from(s.whatsappSessions).where(eq(s.whatsappSessions.id, first.sessionId));
    expect(number).toMatchObject({ sentDayCount: 10 });
    expect(fake.stats().maxInFlight[first.wahaSessionName]).toBe(1);
    // The waiting campaigns' runners are still there: waiting, not failed.
    for (const [index, row] of rows.entries()) {
      if (row.status === "Running") expect(children[ids.indexOf(row.id)]!.process.exitCode, `runner ${index} exited while waiting`).toBeNull();
    }
  }, 60_000);
});
