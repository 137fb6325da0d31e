/**
 * Issue 12, strict input and right answers: an unknown or read-only field is a 400 naming it (REST
 * and tRPC), a page cursor the API never returned is a 400 (never a 500), attribute names that are
 * JavaScript prototype names are refused at import with where they are, a contact stored with one
 * before that does not break its list, and resuming a campaign paused mid-run answers Running.
 */
import { eq } from "drizzle-orm";
import superjson from "superjson";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toAppError } from "~/server/api/trpc";
import { campaigns, contactListMembers, contacts } from "~/server/db/schema";
import { renderTemplate } from "~/server/services/personalization";
import { backends } from "../helpers/db";
import { createTestUser, startTestApp, type TestApp } from "../helpers/app";
import { waitFor } from "../helpers/waitFor";
import { inMs, type Json, restClient, type RestClient } from "../rest/helpers";

function expectError(answer: { status: number; body: Json }, status: number, code: string, field?: string) {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  expect(answer.body).toEqual({ error: { code, message: expect.any(String), ...(field ? { field } : {}) } });
}

const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
const SOME_UUID = "6f1c1b0e-8a3e-4c55-9d3e-2b7f0f5d1a10";

describe.each(backends)("[%s] strict input and right answers", (kind) => {
  let app: TestApp;
  let user: Awaited<ReturnType<typeof createTestUser>>;
  let api: RestClient;

  beforeAll(async () => {
    app = await startTestApp(kind);
    user = await createTestUser(app);
    api = restClient(app, user.apiKey);
  });
  afterAll(async () => {
    await app?.close();
  });

  async function listWithContacts(name: string): Promise<string> {
    const list = await api("POST", "/api/v1/lists", { name });
    expect(list.status).toBe(201);
    const added = await api("POST", `/api/v1/lists/${list.body.id}/contacts`, [{ phone: "+4915123456731", first_name: "Jonas" }]);
    expect(added.status, JSON.stringify(added.body)).toBe(200);
    return list.body.id;
  }

  async function scheduledCampaign(name: string, delayMs = 0) {
    const session = await api("POST", "/api/v1/sessions", { name: `${name} number` });
    expect(session.status, JSON.stringify(session.body)).toBe(201);
    // The phone scanned the QR code: the number can send.
    app.fakeWaha.setSessionStatus(session.body.wahaSessionName, "WORKING", { id: "4915100000099@c.us" });
    const listId = await listWithContacts(`${name} list`);
    const created = await api("POST", "/api/v1/campaigns", {
      name,
      listId,
      sessionId: session.body.id,
      text: "Hello",
      scheduledAt: inMs(3600_000),
      delayMinMs: delayMs,
      delayMaxMs: delayMs,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return { campaign: created.body, sessionId: session.body.id as string, listId };
  }

  it('PATCH /campaigns/{id} with {"status":"Completed"} is 400 naming status and where to go; nothing changes', async () => {
    const { campaign } = await scheduledCampaign("Status setter");
    const answer = await api("PATCH", `/api/v1/campaigns/${campaign.id}`, { status: "Completed" });
    expectError(answer, 400, "bad_request", "status");
    expect(answer.body.error.message).toBe("status cannot be set here; use /schedule, /pause, /resume or /cancel");
    const [row] = await app.services.db.select().from(campaigns).where(eq(campaigns.id, campaign.id));
    expect(row!.status).toBe("Scheduled");
    expect(row!.updatedAt.toISOString()).toBe(campaign.updatedAt);
    // A valid field next to an unknown one changes nothing either.
    const mixed = await api("PATCH", `/api/v1/campaigns/${campaign.id}`, { name: "Renamed", colour: "red" });
    expectError(mixed, 400, "bad_request", "colour");
    expect(mixed.body.error.message).toMatch(/^Unknown field "colour": this takes .*name.*scheduledAt/);
    expect((await api("GET", `/api/v1/campaigns/${campaign.id}`)).body.name).toBe("Status setter");
  });

  it("unknown fields are refused everywhere a body is read, and in nested objects", async () => {
    expectError(await api("POST", "/api/v1/lists", { name: "Typo", nmae: "x" }), 400, "bad_request", "nmae");
    expect((await api("GET", "/api/v1/lists")).body.items.map((list: Json) => list.name)).not.toContain("Typo");
    expectError(await api("POST", "/api/v1/templates", { name: "T", body: "Hi", createdAt: "2020-01-01T00:00:00Z" }), 400, "bad_request", "createdAt");
    expectError(await api("POST", "/api/v1/sessions", { name: "N", engine: "NOWEB" }), 400, "bad_request", "engine");
    const listId = await listWithContacts("Nested");
    const nested = await api("POST", `/api/v1/lists/${listId}/import`, { csv: "phone\n+4915123456732\n", mapping: { ignores: ["city"] } });
    expectError(nested, 400, "bad_request", "mapping.ignores");
    expect(nested.body.error.message).toMatch(/mapping takes phone, firstName, ignore/);
    const { campaign } = await scheduledCampaign("Create typo");
    const createTypo = await api("POST", "/api/v1/campaigns", {
      name: "Typo",
      listId: campaign.listId,
      sessionId: campaign.sessionId,
      text: "Hi",
      scheduleAt: inMs(3600_000),
      scheduledAt: inMs(3600_000),
    });
    expectError(createTypo, 400, "bad_request", "scheduleAt");
  });

  it("an unknown query parameter is 400 naming it, on every kind of route", async () => {
    const listId = await listWithContacts("Query");
    const misspelt = await api("GET", "/api/v1/lists?limt=5");
    expectError(misspelt, 400, "bad_request", "limt");
    expect(misspelt.body.error.message).toBe('Unknown query parameter "limt": this endpoint takes cursor, limit');
    expectError(await api("GET", "/api/v1/sessions?page=2"), 400, "bad_request", "page");
    expectError(await api("GET", `/api/v1/lists/${listId}?id=${SOME_UUID}`), 400, "bad_request", "id");
    expectError(await api("POST", `/api/v1/lists/${listId}/import?country=DE`, "phone\n+4915123456739\n", { "content-type": "text/csv" }), 400, "bad_request", "country");
    expect((await api("GET", `/api/v1/lists/${listId}`)).body.memberCount).toBe(1);
    expect((await api("GET", "/api/v1/lists?limit=5")).status).toBe(200);
  });

  it("tRPC template.update with no field but the id answers the template (it was a 500)", async () => {
    const template = await user.trpc.template.create({ name: "Unchanged", body: "Hi" });
    const updated = await user.trpc.template.update({ id: template.id });
    expect(updated).toMatchObject({ id: template.id, name: "Unchanged", body: "Hi" });
    expect(updated.updatedAt.getTime()).toBeGreaterThanOrEqual(template.updatedAt.getTime());
  });

  it("a route that takes no body refuses one (nothing or {} is fine)", async () => {
    const { campaign } = await scheduledCampaign("No body");
    const refused = await api("POST", `/api/v1/campaigns/${campaign.id}/pause`, { reason: "lunch" });
    expectError(refused, 400, "bad_request");
    expect(refused.body.error.message).toBe("POST /api/v1/campaigns/{id}/pause takes no request body: the path says everything it needs");
    expect((await api("GET", `/api/v1/campaigns/${campaign.id}`)).body.status).toBe("Scheduled");
    expect((await api("POST", `/api/v1/campaigns/${campaign.id}/pause`, {})).body.status).toBe("Paused");
    expect((await api("POST", `/api/v1/campaigns/${campaign.id}/resume`)).body.status).toBe("Scheduled");
  });

  it("tRPC inputs are strict too: an unknown key is BAD_REQUEST naming it", async () => {
    // What the dashboard is told: the error as the tRPC error formatter gives it (toAppError).
    const told = (call: Promise<unknown>) => call.then(() => null, (error: unknown) => toAppError(error));
    expect(await told(user.trpc.contactList.create({ name: "Via tRPC", extra: 1 } as never))).toMatchObject({
      code: "BAD_REQUEST",
      field: "extra",
      message: expect.stringMatching(/^Unknown field "extra": this takes name$/),
    });
    const { campaign } = await scheduledCampaign("tRPC status");
    expect(await told(user.trpc.campaign.update({ id: campaign.id, status: "Completed" } as never))).toMatchObject({
      code: "BAD_REQUEST",
      field: "status",
      message: "status cannot be set here; use /schedule, /pause, /resume or /cancel",
    });
  });

  it("a cursor the API did not return is 400 cursor on every paged list, never a 500", async () => {
    const listId = await listWithContacts("Paged");
    const bad = [
      cursorOf({ createdAt: "not a date", id: SOME_UUID }),
      cursorOf({ createdAt: "2026-01-01T00:00:00.000Z", id: "not-a-uuid" }),
      cursorOf({ createdAt: "2026", id: SOME_UUID }),
      cursorOf({ createdAt: 5, id: SOME_UUID }),
      cursorOf(null),
      cursorOf([]),
      "%%%",
    ];
    const membersPath = `/api/v1/lists/${listId}/contacts`;
    for (const path of ["/api/v1/lists", "/api/v1/templates", "/api/v1/campaigns", membersPath, "/api/v1/media"]) {
      for (const cursor of bad) expectError(await api("GET", `${path}?cursor=${encodeURIComponent(cursor)}`), 400, "bad_request", "cursor");
      // A cursor of the form the API returns still works (members page by import position).
      const good = path === membersPath ? cursorOf({ position: 1 }) : cursorOf({ createdAt: new Date().toISOString(), id: SOME_UUID });
      expect((await api("GET", `${path}?cursor=${good}`)).status, path).toBe(200);
    }
    expectError(await api("GET", `${membersPath}?cursor=${cursorOf({ position: -1 })}`), 400, "bad_request", "cursor");
    expectError(await api("GET", `/api/v1/campaigns/${SOME_UUID}/recipients?cursor=99999999999999999999`), 400, "bad_request", "cursor");
  });

  it("paging with the cursors the API returns sees every row once, also rows created in the same instant", async () => {
    const listId = await listWithContacts("Same instant");
    // One request, one statement: the six contacts share one created_at, to the microsecond.
    const phones = [1, 2, 3, 4, 5].map((n) => `+49151234567${60 + n}`);
    expect((await api("POST", `/api/v1/lists/${listId}/contacts`, phones.map((phone) => ({ phone })))).body.added).toBe(5);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Json = await api("GET", `/api/v1/lists/${listId}/contacts?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((item: Json) => item.phone));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen.sort()).toEqual(["+4915123456731", ...phones].sort());
  });

  it("a CSV column named after a JavaScript prototype name is refused with its line; nothing is imported", async () => {
    const listId = await listWithContacts("Prototype CSV");
    for (const column of ["constructor", "__proto__", "toString", "hasOwnProperty", "prototype", "valueOf"]) {
      const answer = await api("POST", `/api/v1/lists/${listId}/import`, `phone_number,first_name,${column}\n+4915123456740,Eva,x\n`, {
        "content-type": "text/csv",
      });
      expectError(answer, 400, "bad_request", "csv");
      expect(answer.body.error.message).toContain(`Column "${column}" (line 1, the header)`);
    }
    expect((await api("GET", `/api/v1/lists/${listId}`)).body.memberCount).toBe(1);
    // Left out with mapping.ignore, the same file imports.
    const ignored = await api("POST", `/api/v1/lists/${listId}/import`, {
      csv: "phone_number,constructor\n+4915123456740,x\n",
      mapping: { ignore: ["constructor"] },
    });
    expect(ignored.status, JSON.stringify(ignored.body)).toBe(200);
    expect(ignored.body.added).toBe(1);
  });

  it("a JSON contact with a prototype-name key is refused naming the contact and key", async () => {
    const listId = await listWithContacts("Prototype JSON");
    const answer = await api("POST", `/api/v1/lists/${listId}/contacts`, '[{"phone":"+4915123456741"},{"phone":"+4915123456742","constructor":"x"}]', {
      "content-type": "application/json",
    });
    expectError(answer, 400, "bad_request", "contacts.1.constructor");
    expect(answer.body.error.message).toMatch(/^Contact 2: the key "constructor"/);
    const proto = await api("POST", `/api/v1/lists/${listId}/contacts`, '[{"phone":"+4915123456741","__proto__":"x"}]', {
      "content-type": "application/json",
    });
    expectError(proto, 400, "bad_request", "contacts.0.__proto__");
    // A list or an object is no attribute value: named, not silently left out.
    const nested = await api("POST", `/api/v1/lists/${listId}/contacts`, [{ phone: "+4915123456741" }, { phone: "+4915123456742", tags: ["a", "b"] }]);
    expectError(nested, 400, "bad_request", "contacts.1.tags");
    expect(nested.body.error.message).toBe('Contact 2: "tags" holds a list; a contact\'s values are text, numbers or true/false');
    expect((await api("GET", `/api/v1/lists/${listId}`)).body.memberCount).toBe(1);
  });

  it("a contact stored with a `constructor` attribute (before the refusal) does not break its list", async () => {
    const listId = await listWithContacts("Old rows");
    const [contact] = await app.services.db
      .insert(contacts)
      .values({ workspaceId: user.workspaceId, phone: "+4915123456743", firstName: "Old", attributes: JSON.parse('{"constructor":"x","city":"Bonn","__proto__":"y"}') as Record<string, string> })
      .returning();
    await app.services.db.insert(contactListMembers).values({ listId, contactId: contact!.id });
    const members = await user.trpc.contactList.members({ id: listId });
    const old = members.items.find((item) => item.id === contact!.id)!;
    expect(old.attributes).toEqual({ city: "Bonn" });
    // What the dashboard's transport must carry.
    expect(() => superjson.serialize(members)).not.toThrow();
    const rest = await api("GET", `/api/v1/lists/${listId}/contacts`);
    expect(rest.status).toBe(200);
    expect(rest.body.items.find((item: Json) => item.id === contact!.id).attributes).toEqual({ city: "Bonn" });
    // Nor is it a placeholder: a template cannot reach Object's own `constructor` through it.
    expectError(await api("POST", "/api/v1/templates", { name: "Proto", body: "Hi {{constructor}}" }), 422, "unprocessable", "body");
    expect((await api("POST", "/api/v1/templates", { name: "City", body: "Hi {{city}}" })).status).toBe(201);
    expect(renderTemplate("Hi {{constructor|there}}", { phone: "+4915123456743", firstName: null, attributes: {} })).toBe("Hi there");
  });

  it("POST /campaigns/{id}/resume on a campaign paused mid-run answers Running, its real state", async () => {
    // Two seconds between two messages: the run is still going after its first send.
    const { campaign } = await scheduledCampaign("Mid-run", 2000);
    await api("POST", `/api/v1/lists/${campaign.listId}/contacts`, [{ phone: "+4915123456751" }, { phone: "+4915123456752" }]);
    const rescheduled = await api("PATCH", `/api/v1/campaigns/${campaign.id}`, { scheduledAt: inMs(1500) });
    expect(rescheduled.status, JSON.stringify(rescheduled.body)).toBe(200);
    await waitFor("the first send", async () => {
      const current = (await api("GET", `/api/v1/campaigns/${campaign.id}`)).body;
      return current.status === "Running" && current.counts.sent >= 1;
    }, { timeoutMs: 15_000 });
    const paused = await api("POST", `/api/v1/campaigns/${campaign.id}/pause`);
    expect(paused.body.status).toBe("Paused");
    const resumed = await api("POST", `/api/v1/campaigns/${campaign.id}/resume`);
    expect(resumed.status).toBe(200);
    expect(resumed.body).toMatchObject({ id: campaign.id, status: "Running", pauseReason: null });
    await waitFor("the campaign to complete", async () => (await api("GET", `/api/v1/campaigns/${campaign.id}`)).body.status === "Completed", {
      timeoutMs: 20_000,
    });
    const sent = app.fakeWaha.messages().filter((message) => message.text === "Hello");
    expect(new Set(sent.map((message) => message.chatId)).size).toBe(sent.length);
  });
});
