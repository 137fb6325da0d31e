/**
 * Recurring campaigns (issue 15): a series makes one run per occurrence of its cron in its zone, each
 * run a campaign of its own with the audience as it is then, sent through the fake WAHA. The
 * scheduler's clock is controlled (SchedulerOptions.clock), set in the past so that the database's
 * clock (the claim's) has passed each occurrence too: crossing a daylight-saving change takes seconds,
 * not a week. Each driver on each backend.
 */
import { randomUUID } from "node:crypto";
import { and, asc, eq, inArray, sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseKind } from "~/server/db/client";
import { campaignRecipients, campaigns, contactListMembers, contacts } from "~/server/db/schema";
import { CampaignService } from "~/server/services/campaigns";
import { PREVIOUS_RUN_STILL_RUNNING } from "~/server/services/recurrence/campaignSeries";
import { type SchedulerDriver, SchedulerService } from "~/server/services/scheduler";
import { CAMPAIGN_QUEUE } from "~/server/services/scheduling/pgBossDriver";
import { WahaApiClient } from "~/server/services/waha/client";
import { type FakeWaha, startFakeWaha } from "../../tools/fake-waha/server";
import { createTestDatabase, backends, type TestDatabase } from "../helpers/db";
import { waitFor } from "../helpers/waitFor";
import { type Audience, seedAudience } from "../scheduler/fixtures/seed";

const drivers: SchedulerDriver[] = ["node-cron", "pg-boss"];
const cases = backends.flatMap((kind) => drivers.map((driver) => [kind, driver] as [DatabaseKind, SchedulerDriver]));

describe.each(cases)("[%s] recurring campaigns with the %s scheduler", (kind, driver) => {
  let database: TestDatabase;
  let fake: FakeWaha;
  let waha: WahaApiClient;
  let scheduler: SchedulerService | null = null;
  /** The scheduler's clock: tests move it. */
  let clockMs = Date.now();

  const startScheduler = async (at: Date | null) => {
    clockMs = at ? at.getTime() : Date.now();
    scheduler = new SchedulerService(database.db, waha, {
      driver,
      role: "all",
      databaseUrl: database.url,
      pglite: database.pglite,
      runnerOptions: { leaseMs: 5_000 },
      stopTimeoutMs: 5_000,
      sweepCron: "* * * * * *",
      // A fixed clock that the test moves, or the real one.
      clock: at ? () => new Date(clockMs) : () => new Date(),
    });
    await scheduler.initialize();
    return new CampaignService(database.db, scheduler, { delayMinMs: 0, delayMaxMs: 0 });
  };

  const runsOf = (seriesId: string) =>
    database.db.select().from(campaigns).where(eq(campaigns.seriesId, seriesId)).orderBy(asc(campaigns.occurrenceAt));

  const sentRecipients = async (runId: string) =>
    (
      await database.db
        .select({ chatId: campaignRecipients.chatId })
        .from(campaignRecipients)
        .where(and(eq(campaignRecipients.campaignId, runId), eq(campaignRecipients.status, "sent")))
    )
      .map((row) => row.chatId)
      .sort();

  const runWithStatus = (seriesId: string, occurrenceAt: string, status: string) =>
    waitFor(`the run at ${occurrenceAt} to be ${status}`, async () => {
      const run = (await runsOf(seriesId)).find((row) => row.occurrenceAt?.toISOString() === occurrenceAt);
      return run?.status === status ? run : null;
    }, { timeoutMs: 15_000, intervalMs: 50 });

  const addContact = async (audience: Audience) => {
    const phone = `+1415556${String(Math.floor(Math.random() * 10_000)).padStart(4, "0")}`;
    const [contact] = await database.db.insert(contacts).values({ workspaceId: audience.workspaceId, phone, firstName: "Late" }).returning();
    await database.db.insert(contactListMembers).values({ listId: audience.listId, contactId: contact!.id });
    return `${phone.slice(1)}@c.us`;
  };

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    fake = await startFakeWaha({ port: 0 });
    waha = new WahaApiClient({ baseUrl: fake.url, timeoutMs: 5_000 });
  });

  afterEach(async () => {
    await scheduler?.stop();
    scheduler = null;
    // Each test's series end with it: no run of one test starts in another.
    await database.db
      .update(campaigns)
      .set({ status: "Cancelled" })
      .where(inArray(campaigns.status, ["Recurring", "Scheduled", "Running", "Paused"]));
  });

  afterAll(async () => {
    await fake?.close();
    await database?.close();
  });

  it("a weekly campaign runs at 09:00 New York time on both sides of the daylight-saving change, each run to the audience of its day", async () => {
    const audience = await seedAudience(database.db, fake, 2);
    // Thursday 26 February 2026; clocks in New York go forward on Sunday 8 March.
    const service = await startScheduler(new Date("2026-02-26T12:00:00Z"));
    const text = `weekly ${randomUUID()}`;
    const series = await service.create(audience.workspaceId, {
      name: "Sunday news",
      listId: audience.listId,
      sessionId: audience.sessionId,
      text,
      recurrence: { cron: "0 9 * * SUN", timeZone: "America/New_York", until: null },
    });
    expect(series.status).toBe("Recurring");

    // One run exists, at 09:00 EST (UTC-5).
    const armed = await runsOf(series.id);
    expect(armed.map((run) => [run.status, run.occurrenceAt?.toISOString()])).toEqual([["Scheduled", "2026-03-01T14:00:00.000Z"]]);

    clockMs = new Date("2026-03-01T14:01:00Z").getTime();
    const first = await runWithStatus(series.id, "2026-03-01T14:00:00.000Z", "Completed");
    expect(await sentRecipients(first.id)).toEqual([...audience.chatIds].sort());
    // The next run is at 09:00 EDT (UTC-4): an hour earlier in UTC.
    await runWithStatus(series.id, "2026-03-08T13:00:00.000Z", "Scheduled");

    const lateComer = await addContact(audience);
    clockMs = new Date("2026-03-08T13:01:00Z").getTime();
    const second = await runWithStatus(series.id, "2026-03-08T13:00:00.000Z", "Completed");
    expect(await sentRecipients(second.id)).toEqual([...audience.chatIds, lateComer].sort());
    await runWithStatus(series.id, "2026-03-15T13:00:00.000Z", "Scheduled");

    // What WAHA received: each run's recipients once; the late contact only from the second run.
    const received = fake.messages().filter((message) => message.text === text).map((message) => message.chatId);
    const counted = Object.fromEntries([...new Set(received)].map((chatId) => [chatId, received.filter((c) => c === chatId).length]));
    expect(counted).toEqual(Object.fromEntries([...audience.chatIds.map((chatId) => [chatId, 2]), [lateComer, 1]]));
    // The series reads as its next run; the list shows the series, not its runs.
    const listed = await service.list(audience.workspaceId, { limit: 50 });
    expect(listed.items.map((item) => item.id)).toEqual([series.id]);
    const overview = await service.series(audience.workspaceId, series.id);
    expect(overview.runs.map((run) => [run.occurrenceAt, run.status, run.counts.sent])).toEqual([
      ["2026-03-15T13:00:00.000Z", "Scheduled", 0],
      ["2026-03-08T13:00:00.000Z", "Completed", 3],
      ["2026-03-01T14:00:00.000Z", "Completed", 2],
    ]);
  });

  it("an occurrence whose previous run is still running is skipped and recorded, and the next one is armed", async () => {
    const audience = await seedAudience(database.db, fake, 3);
    const service = await startScheduler(new Date("2026-01-10T00:00:00Z"));
    // A minute between messages: the first run is still sending when the next day comes.
    const series = await service.create(audience.workspaceId, {
      name: "Daily",
      listId: audience.listId,
      sessionId: audience.sessionId,
      text: `daily ${randomUUID()}`,
      delayMinMs: 60_000,
      delayMaxMs: 60_000,
      recurrence: { cron: "0 9 * * *", timeZone: "Asia/Jakarta", until: null },
    });
    // 09:00 in Jakarta (UTC+7) is 02:00 UTC.
    clockMs = new Date("2026-01-10T02:01:00Z").getTime();
    const first = await runWithStatus(series.id, "2026-01-10T02:00:00.000Z", "Running");
    await runWithStatus(series.id, "2026-01-11T02:00:00.000Z", "Scheduled");

    clockMs = new Date("2026-01-11T02:01:00Z").getTime();
    const skipped = await runWithStatus(series.id, "2026-01-11T02:00:00.000Z", "Missed");
    expect(skipped.missedReason).toBe(PREVIOUS_RUN_STILL_RUNNING);
    expect(await sentRecipients(skipped.id)).toEqual([]);
    await runWithStatus(series.id, "2026-01-12T02:00:00.000Z", "Scheduled");
    expect((await runsOf(series.id)).find((run) => run.id === first.id)?.status).toBe("Running");

    // Cancelling the series cancels its next run and makes no more; the run going on is its own.
    await service.cancel(audience.workspaceId, series.id);
    await service.cancel(audience.workspaceId, first.id);
    expect((await runsOf(series.id)).map((run) => run.status)).toEqual(["Cancelled", "Missed", "Cancelled"]);
  });

  it("the scheduler holds one armed occurrence per series", async () => {
    const audience = await seedAudience(database.db, fake, 1);
    const service = await startScheduler(null);
    const series = [];
    for (let i = 0; i < 5; i++) {
      series.push(
        await service.create(audience.workspaceId, {
          name: `every five minutes ${i}`,
          listId: audience.listId,
          sessionId: audience.sessionId,
          text: `five ${randomUUID()}`,
          recurrence: { cron: "*/5 * * * *", timeZone: "Europe/Berlin", until: null },
        }),
      );
    }
    // A few sweeps later, still one Scheduled run per series, each armed once.
    const firstSweep = scheduler!.status().lastSweepAt?.getTime() ?? 0;
    await waitFor("two more sweeps", () => (scheduler!.status().lastSweepAt?.getTime() ?? 0) >= firstSweep + 2_000, { timeoutMs: 10_000, intervalMs: 100 });
    const seriesIds = series.map((row) => row.id);
    const scheduled = await database.db
      .select({ id: campaigns.id, seriesId: campaigns.seriesId })
      .from(campaigns)
      .where(and(inArray(campaigns.seriesId, seriesIds), eq(campaigns.status, "Scheduled")));
    expect(scheduled.map((row) => row.seriesId).sort()).toEqual([...seriesIds].sort());
    if (driver === "node-cron") {
      expect([...scheduler!.scheduledJobs.keys()].sort()).toEqual(scheduled.map((row) => row.id).sort());
    } else {
      const jobs = (await database.db.execute(
        sql`select data->>'campaignId' as "campaignId" from pgboss.job where name = ${CAMPAIGN_QUEUE} and state in ('created', 'retry')`,
      )) as unknown as { rows: Array<{ campaignId: string }> };
      expect(jobs.rows.map((row) => row.campaignId).sort()).toEqual(scheduled.map((row) => row.id).sort());
    }
  });

  it("a series left without its next run (a stop between a run's start and the next one's creation) gets it when a scheduler starts", async () => {
    const audience = await seedAudience(database.db, fake, 1);
    const service = await startScheduler(new Date("2026-02-26T12:00:00Z"));
    const series = await service.create(audience.workspaceId, {
      name: "Repaired",
      listId: audience.listId,
      sessionId: audience.sessionId,
      text: `repaired ${randomUUID()}`,
      recurrence: { cron: "0 9 * * SUN", timeZone: "Europe/Berlin", until: null },
    });
    await scheduler!.stop();
    // As if the first run had started and the process stopped before making the next one.
    await database.db.update(campaigns).set({ status: "Completed" }).where(eq(campaigns.seriesId, series.id));
    await startScheduler(new Date("2026-03-01T08:30:00Z"));
    // Berlin is UTC+1 until 29 March: 09:00 is 08:00 UTC.
    expect((await runsOf(series.id)).map((run) => [run.status, run.occurrenceAt?.toISOString()])).toEqual([
      ["Completed", "2026-03-01T08:00:00.000Z"],
      ["Scheduled", "2026-03-08T08:00:00.000Z"],
    ]);
  });

  it("a bad rule is refused naming its field", async () => {
    const audience = await seedAudience(database.db, fake, 1);
    const service = await startScheduler(null);
    const base = { name: "bad", listId: audience.listId, sessionId: audience.sessionId, text: "hello" };
    const { createCampaignInput } = await import("~/server/services/campaigns");
    const parsed = (recurrence: unknown) => createCampaignInput.safeParse({ ...base, recurrence });
    expect(parsed({ cron: "0 9 * *", timeZone: "Asia/Jakarta" }).error?.issues[0]?.path).toEqual(["recurrence", "cron"]);
    expect(parsed({ cron: "0 9 * * MON", timeZone: "Mars/Olympus" }).error?.issues[0]?.path).toEqual(["recurrence", "timeZone"]);
    const until = parsed({ cron: "0 9 1 1 *", timeZone: "Asia/Jakarta", until: new Date(Date.now() + 60_000).toISOString() });
    await expect(service.create(audience.workspaceId, { ...base, recurrence: until.data!.recurrence! })).rejects.toMatchObject({
      code: "BAD_REQUEST",
      field: "recurrence.until",
    });
    expect(await database.db.select().from(campaigns).where(eq(campaigns.workspaceId, audience.workspaceId))).toEqual([]);
  });
});
