/**
 * Recurring campaigns over REST (issue 15): `recurrence` on create, read and PATCH; the runs and the
 * next occurrences at GET /campaigns/{id}/runs; a bad rule is a 400 naming its field; cancelling the
 * series cancels its next run. Judged by HTTP answers and the rows they name.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contactListMembers, contactLists, contacts, whatsappSessions } from "~/server/db/schema";
import { createTestUser, startTestApp, type TestApp } from "../helpers/app";
import { backends } from "../helpers/db";
import { restClient, type RestClient } from "../rest/helpers";

describe.each(backends)("[%s] recurring campaigns over REST", (kind) => {
  let app: TestApp;

  /** A workspace with one WORKING number and a list of one contact, and its REST client. */
  async function newOwner(): Promise<{ rest: RestClient; listId: string }> {
    const user = await createTestUser(app);
    const db = app.services.db;
    const name = `rec_${user.workspaceId.slice(0, 8)}`;
    await db.insert(whatsappSessions).values({ workspaceId: user.workspaceId, name: "main", wahaSessionName: name, status: "WORKING" });
    app.fakeWaha.setSessionStatus(name, "WORKING");
    const [list] = await db.insert(contactLists).values({ workspaceId: user.workspaceId, name: "everyone" }).returning();
    const [contact] = await db.insert(contacts).values({ workspaceId: user.workspaceId, phone: "+14155550123" }).returning();
    await db.insert(contactListMembers).values({ listId: list!.id, contactId: contact!.id });
    return { rest: restClient(app, user.apiKey), listId: list!.id };
  }

  beforeAll(async () => {
    app = await startTestApp(kind);
  });

  afterAll(async () => {
    await app?.close();
  });

  it("a bad cron, an unknown zone or an until before the first occurrence is a 400 naming the field", async () => {
    const { rest, listId } = await newOwner();
    const create = (recurrence: unknown) => rest("POST", "/api/v1/campaigns", { name: "weekly", listId, text: "Hello", recurrence });

    const badCron = await create({ cron: "0 9 * * FUNDAY", timeZone: "Asia/Jakarta" });
    expect([badCron.status, badCron.body.error.field]).toEqual([400, "recurrence.cron"]);
    const badZone = await create({ cron: "0 9 * * MON", timeZone: "Asia/Atlantis" });
    expect([badZone.status, badZone.body.error.field]).toEqual([400, "recurrence.timeZone"]);
    const tooSoon = await create({ cron: "0 9 1 1 *", timeZone: "Asia/Jakarta", until: new Date(Date.now() + 3_600_000).toISOString() });
    expect([tooSoon.status, tooSoon.body.error.field]).toEqual([400, "recurrence.until"]);
    const everySecond = await create({ cron: "* * * * * *", timeZone: "UTC" });
    expect([everySecond.status, everySecond.body.error.field]).toEqual([400, "recurrence.cron"]);

    const listed = await rest("GET", "/api/v1/campaigns");
    expect(listed.body.items).toEqual([]);
  });

  it("a recurring campaign reads back with its rule, lists its next run and five occurrences, and cancels with its next run", async () => {
    const { rest, listId } = await newOwner();
    const created = await rest("POST", "/api/v1/campaigns", {
      name: "Monday news",
      listId,
      text: "Hello {{first_name|there}}",
      recurrence: { cron: "0 9 * * MON", timeZone: "Asia/Jakarta" },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: "Recurring", recurrence: { cron: "0 9 * * MON", timeZone: "Asia/Jakarta", until: null }, seriesId: null });

    const runs = await rest("GET", `/api/v1/campaigns/${created.body.id}/runs`);
    expect(runs.status).toBe(200);
    expect(runs.body.runs).toHaveLength(1);
    const [next] = runs.body.runs;
    expect(next).toMatchObject({ status: "Scheduled" });
    // Mondays at 09:00 in Jakarta (UTC+7, no daylight saving): 02:00 UTC, a week apart, the first the armed run.
    const occurrences: string[] = runs.body.nextOccurrences;
    expect(occurrences).toHaveLength(5);
    expect(occurrences[0]).toBe(next.occurrenceAt);
    for (const at of occurrences) expect([new Date(at).getUTCDay(), new Date(at).getUTCHours(), new Date(at).getUTCMinutes()]).toEqual([1, 2, 0]);
    expect(new Date(occurrences[1]!).getTime() - new Date(occurrences[0]!).getTime()).toBe(7 * 24 * 3_600_000);
    // The series reads as its next run; the run is a campaign of its own.
    expect(created.body.scheduledAt).toBe(next.occurrenceAt);
    const run = await rest("GET", `/api/v1/campaigns/${next.id}`);
    expect(run.body).toMatchObject({ status: "Scheduled", seriesId: created.body.id, occurrenceAt: next.occurrenceAt, messageText: "Hello {{first_name|there}}" });

    // A new rule remakes the next run.
    const edited = await rest("PATCH", `/api/v1/campaigns/${created.body.id}`, { recurrence: { cron: "30 17 * * FRI", timeZone: "Europe/Berlin" } });
    expect(edited.status).toBe(200);
    const after = await rest("GET", `/api/v1/campaigns/${created.body.id}/runs`);
    expect(after.body.runs).toHaveLength(1);
    expect(after.body.runs[0].id).not.toBe(next.id);
    expect((await rest("GET", `/api/v1/campaigns/${next.id}`)).status).toBe(404);
    const fridayBerlin = new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/Berlin", weekday: "short", hour: "2-digit", minute: "2-digit" });
    expect(fridayBerlin.format(new Date(after.body.runs[0].occurrenceAt))).toBe("Fri 17:30");
    const noTime = await rest("PATCH", `/api/v1/campaigns/${created.body.id}`, { scheduledAt: new Date(Date.now() + 86_400_000).toISOString() });
    expect([noTime.status, noTime.body.error.field]).toEqual([400, "scheduledAt"]);

    const cancelled = await rest("POST", `/api/v1/campaigns/${created.body.id}/cancel`);
    expect(cancelled.body.status).toBe("Cancelled");
    const ended = await rest("GET", `/api/v1/campaigns/${created.body.id}/runs`);
    expect(ended.body.runs.map((r: { status: string }) => r.status)).toEqual(["Cancelled"]);
    expect(ended.body.nextOccurrences).toEqual([]);
  });
});
