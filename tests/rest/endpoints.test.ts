/**
 * Every REST v1 endpoint: its success, a validation error naming the field, and another
 * workspace's id (404, never the row). Two users, each in a workspace of their own, new for every
 * test: each test creates the number, list, template or campaign it needs (the helpers below).
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { backends } from "../helpers/db";
import { createTestUser, startTestApp, type TestApp } from "../helpers/app";
import { inMs, type Json, restClient, type RestClient } from "./helpers";

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** The error shape of every failure; `field` when the status calls for one. */
function expectError(answer: { status: number; body: Json }, status: number, code: string, field?: string) {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  expect(answer.body).toEqual({ error: { code, message: expect.any(String), ...(field ? { field } : {}) } });
  expect(answer.body.error.message).not.toMatch(/stack|at .*\.ts|TRPCError|ZodError/);
}

describe.each(backends)("[%s] REST v1 endpoints", (kind) => {
  let app: TestApp;
  let alice: RestClient; // owns the rows
  let bob: RestClient; // another workspace: must see none of them
  let anonymous: RestClient;
  let aliceTrpc: Awaited<ReturnType<typeof createTestUser>>["trpc"];
  let aliceKey: string;

  beforeAll(async () => {
    app = await startTestApp(kind);
    anonymous = restClient(app, null);
  });
  beforeEach(async () => {
    const a = await createTestUser(app);
    const b = await createTestUser(app);
    alice = restClient(app, a.apiKey);
    bob = restClient(app, b.apiKey);
    aliceTrpc = a.trpc;
    aliceKey = a.apiKey;
  });
  afterAll(async () => {
    await app?.close();
  });

  /** Alice's number "Sales" (what POST /sessions answers). */
  async function createSession(): Promise<Json> {
    const created = await alice("POST", "/api/v1/sessions", { name: "Sales" });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return created.body;
  }

  /** Alice's empty list "Customers"; returns its id. */
  async function createList(): Promise<string> {
    const created = await alice("POST", "/api/v1/lists", { name: "Customers" });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return created.body.id;
  }

  /** Alice's list "Customers" with its six contacts, added the four ways the list tests add them; returns its id. */
  async function createListOfSix(): Promise<string> {
    const id = await createList();
    const added = [
      await alice("POST", `/api/v1/lists/${id}/contacts?defaultCountry=US`, [
        { phone: "(201) 555-0131", first_name: "Ana", city: "Hoboken" },
        { phone: "+4915123456731", first_name: "Jonas", city: "Berlin" },
      ]),
      await alice("POST", `/api/v1/lists/${id}/contacts`, { contacts: [{ phone: "201-555-0132", first_name: "Ben" }], defaultCountry: "us" }),
      await alice("POST", `/api/v1/lists/${id}/import?defaultCountry=US`, "phone_number,first_name,city\n+4915123456733,Lena,Hamburg\n2015550134,Sam,Newark\n", {
        "content-type": "text/csv",
      }),
      await alice("POST", `/api/v1/lists/${id}/import`, { csv: "phone\n+4915123456734\n", defaultCountry: "DE" }),
    ];
    expect(added.map((answer) => [answer.status, answer.body.added])).toEqual([
      [200, 2],
      [200, 1],
      [200, 2],
      [200, 1],
    ]);
    return id;
  }

  /** Alice's template "Welcome"; returns its id. */
  async function createTemplate(): Promise<string> {
    const created = await alice("POST", "/api/v1/templates", { name: "Welcome", body: "Hi {{first_name|there}} in {{city|your city}}" });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return created.body.id;
  }

  /** Alice's number, list of six and template, and her campaign "Spring sale" scheduled an hour ahead. */
  async function createCampaign() {
    const session = await createSession();
    const list = await createListOfSix();
    const template = await createTemplate();
    const created = await alice("POST", "/api/v1/campaigns", {
      name: "Spring sale",
      listId: list,
      templateId: template,
      scheduledAt: inMs(3600_000),
      delayMinMs: 1000,
      delayMaxMs: 2000,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return { session: session.id as string, list, template, campaign: created.body.id as string };
  }

  describe("without a valid API key", () => {
    it("health and the OpenAPI document need no key; health tells what the app last saw of WAHA, without calling it", async () => {
      // An app of its own: what health reports depends on whether the app has called WAHA yet.
      const app = await startTestApp(kind);
      const anonymous = restClient(app, null);
      try {
        const before = await anonymous("GET", "/api/v1/health");
        expect(before.status).toBe(200);
        expect(before.body).toMatchObject({ status: "ok", db: "ok", waha: "unknown", wahaLastAnsweredAt: null, scheduler: { initialized: true } });
        await app.services.waha.listSessions();
        const health = await anonymous("GET", "/api/v1/health");
        expect(health.body).toMatchObject({ status: "ok", db: "ok", waha: "ok", scheduler: { initialized: true } });
        expect(health.body.wahaLastAnsweredAt).toMatch(ISO);
        // With WAHA gone, a probe still answers what was last seen: it makes no WAHA call of its own.
        await app.fakeWaha.stopServing();
        try {
          expect((await anonymous("GET", "/api/v1/health")).body).toMatchObject({ status: "ok", waha: "ok" });
          await app.services.waha.listSessions().catch(() => undefined);
          expect((await anonymous("GET", "/api/v1/health")).body).toMatchObject({ status: "degraded", waha: "unreachable" });
        } finally {
          await app.fakeWaha.serveAgain();
        }
        const doc = await anonymous("GET", "/api/v1/openapi.json");
        expect(doc.status).toBe(200);
        expect(doc.body.openapi).toBe("3.1.0");
        expect(Object.keys(doc.body.paths)).toContain("/api/v1/campaigns/{id}/recipients");
      } finally {
        await app.close();
      }
    });

    it("a missing, malformed, unknown or revoked key is 401 on every protected endpoint", async () => {
      expectError(await anonymous("GET", "/api/v1/campaigns"), 401, "unauthorized");
      expectError(await anonymous("POST", "/api/v1/lists", { name: "x" }), 401, "unauthorized");
      expectError(await anonymous("GET", "/api/v1/sessions", undefined, { authorization: "Basic dXNlcjpwYXNz" }), 401, "unauthorized");
      expectError(await restClient(app, "wc_not-a-real-key")("GET", "/api/v1/lists"), 401, "unauthorized");

      const carol = await createTestUser(app);
      const [key] = await carol.trpc.apiKey.list();
      expect((await restClient(app, carol.apiKey)("GET", "/api/v1/lists")).status).toBe(200);
      await carol.trpc.apiKey.revoke({ id: key!.id });
      expectError(await restClient(app, carol.apiKey)("GET", "/api/v1/lists"), 401, "unauthorized");
    });

    it("an unknown route is 404, a known path with another method 405, both in the error shape", async () => {
      expectError(await alice("GET", "/api/v1/nope"), 404, "not_found");
      expectError(await anonymous("GET", "/api/v1/campaigns/x/y/z"), 404, "not_found");
      const wrongMethod = await alice("PUT", "/api/v1/campaigns", {});
      expectError(wrongMethod, 405, "method_not_allowed");
      expect(wrongMethod.headers.get("allow")).toBe("POST, GET");
    });
  });

  describe("sessions", () => {
    it("POST /sessions creates and starts a WAHA session (201)", async () => {
      const created = await alice("POST", "/api/v1/sessions", { name: "Sales" });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ id: expect.any(String), name: "Sales", wahaSessionName: expect.stringMatching(/^wc-sales-/) });
      expect(["STARTING", "SCAN_QR_CODE"]).toContain(created.body.status);
      expect(created.body.createdAt).toMatch(ISO);
      expect(app.fakeWaha.sessionStatus(created.body.wahaSessionName)).toBeDefined();
    });

    it("POST /sessions refuses a bad name (400 name) and a taken one (409 name)", async () => {
      await createSession();
      expectError(await alice("POST", "/api/v1/sessions", { name: "   " }), 400, "bad_request", "name");
      expectError(await alice("POST", "/api/v1/sessions", { name: 42 }), 400, "bad_request", "name");
      expectError(await alice("POST", "/api/v1/sessions", {}), 400, "bad_request", "name");
      expectError(await alice("POST", "/api/v1/sessions", { name: "Sales" }), 409, "conflict", "name");
    });

    it("GET /sessions pages the workspace's numbers; another workspace sees none", async () => {
      const session = await createSession();
      const list = await alice("GET", "/api/v1/sessions");
      expect(list.status).toBe(200);
      expect(list.body).toEqual({ items: [expect.objectContaining({ id: session.id, name: "Sales" })], nextCursor: null });
      expect((await bob("GET", "/api/v1/sessions")).body).toEqual({ items: [], nextCursor: null });
    });

    it("GET /sessions/{id} reads one; a malformed id is 400, another workspace's 404", async () => {
      const ids = { session: (await createSession()).id as string };
      app.fakeWaha.setSessionStatus((await alice("GET", `/api/v1/sessions/${ids.session}`)).body.wahaSessionName, "SCAN_QR_CODE");
      const one = await alice("GET", `/api/v1/sessions/${ids.session}`);
      expect(one.status).toBe(200);
      expect(one.body).toMatchObject({ id: ids.session, status: "SCAN_QR_CODE" });
      expectError(await alice("GET", "/api/v1/sessions/not-an-id"), 400, "bad_request", "id");
      expectError(await bob("GET", `/api/v1/sessions/${ids.session}`), 404, "not_found");
      expectError(await alice("GET", `/api/v1/sessions/${randomUUID()}`), 404, "not_found");
    });

    it("POST /sessions/{id}/simulate-scan is sandbox-only: 409 against a real WAHA (success: rest-flow.test.ts)", async () => {
      const ids = { session: (await createSession()).id as string };
      expectError(await alice("POST", `/api/v1/sessions/${ids.session}/simulate-scan`), 409, "conflict");
      expectError(await alice("POST", "/api/v1/sessions/123/simulate-scan"), 400, "bad_request", "id");
    });
  });

  describe("lists", () => {
    it("POST /lists creates a list (201); bad and taken names are refused", async () => {
      const created = await alice("POST", "/api/v1/lists", { name: "Customers" });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ id: expect.any(String), name: "Customers", memberCount: 0 });
      expectError(await alice("POST", "/api/v1/lists", { name: "" }), 400, "bad_request", "name");
      expectError(await alice("POST", "/api/v1/lists", { name: "x".repeat(100_000) }), 400, "bad_request", "name");
      expectError(await alice("POST", "/api/v1/lists", { name: "Customers" }), 409, "conflict", "name");
    });

    it("POST /lists/{id}/contacts takes a bare array with ?defaultCountry, or {contacts, defaultCountry}", async () => {
      const ids = { list: await createList() };
      const bare = await alice("POST", `/api/v1/lists/${ids.list}/contacts?defaultCountry=US`, [
        { phone: "(201) 555-0131", first_name: "Ana", city: "Hoboken" },
        { phone: "+4915123456731", first_name: "Jonas", city: "Berlin" },
        { phone: "not a number", first_name: "Nobody" },
      ]);
      expect(bare.status).toBe(200);
      expect(bare.body).toMatchObject({ received: 3, added: 2, updated: 0, duplicatesMerged: 0 });
      expect(bare.body.rejected).toEqual([{ line: 3, value: "not a number", reason: expect.any(String) }]);

      const wrapped = await alice("POST", `/api/v1/lists/${ids.list}/contacts`, {
        contacts: [{ phone: "201-555-0132", first_name: "Ben" }],
        defaultCountry: "us",
      });
      expect(wrapped.body).toMatchObject({ received: 1, added: 1, rejected: [] });
    });

    it("POST /lists/{id}/contacts refuses an empty array, a bad country, a non-array body; 404 across workspaces", async () => {
      const ids = { list: await createList() };
      expectError(await alice("POST", `/api/v1/lists/${ids.list}/contacts`, []), 400, "bad_request", "contacts");
      expectError(await alice("POST", `/api/v1/lists/${ids.list}/contacts`, { contacts: "no" }), 400, "bad_request", "contacts");
      expectError(
        await alice("POST", `/api/v1/lists/${ids.list}/contacts?defaultCountry=USA`, [{ phone: "2015550133" }]),
        400,
        "bad_request",
        "defaultCountry",
      );
      expectError(await alice("POST", `/api/v1/lists/${ids.list}/contacts`, "42", { "content-type": "application/json" }), 400, "bad_request");
      expectError(await alice("POST", `/api/v1/lists/${ids.list}/contacts`, [{ name: "no phone column" }]), 400, "bad_request", "phone");
      expectError(await bob("POST", `/api/v1/lists/${ids.list}/contacts`, [{ phone: "+4915123456732" }]), 404, "not_found");
    });

    it("POST /lists/{id}/import reads a CSV body; its errors name the field; 404 across workspaces", async () => {
      const ids = { list: await createList() };
      const csv = "phone_number,first_name,city\n+4915123456733,Lena,Hamburg\n2015550134,Sam,Newark\nabc,Bad,\n";
      const imported = await alice("POST", `/api/v1/lists/${ids.list}/import?defaultCountry=US`, csv, { "content-type": "text/csv" });
      expect(imported.status).toBe(200);
      expect(imported.body).toMatchObject({ received: 3, added: 2, rejected: [{ line: 4, value: "abc" }] });

      const asJson = await alice("POST", `/api/v1/lists/${ids.list}/import`, { csv: "phone\n+4915123456734\n", defaultCountry: "DE" });
      expect(asJson.body).toMatchObject({ received: 1, added: 1 });

      expectError(await alice("POST", `/api/v1/lists/${ids.list}/import`, "", { "content-type": "text/csv" }), 400, "bad_request", "csv");
      const form = new FormData();
      form.append("file", new Blob([csv], { type: "text/csv" }), "contacts.csv");
      const upload = await fetch(`${app.url}/api/v1/lists/${ids.list}/import`, { method: "POST", headers: { authorization: `Bearer ${aliceKey}` }, body: form });
      expectError({ status: upload.status, body: await upload.json() }, 400, "bad_request", "csv");
      expectError(await alice("POST", `/api/v1/lists/${ids.list}/import`, "name,city\nAna,Berlin\n", { "content-type": "text/csv" }), 400, "bad_request", "phone");
      expectError(await alice("POST", `/api/v1/lists/${ids.list}/import?defaultCountry=1`, csv, { "content-type": "text/csv" }), 400, "bad_request", "defaultCountry");
      expectError(await bob("POST", `/api/v1/lists/${ids.list}/import`, csv, { "content-type": "text/csv" }), 404, "not_found");
    });

    it("GET /lists, GET /lists/{id} and GET /lists/{id}/contacts read the workspace's own", async () => {
      const ids = { list: await createListOfSix() };
      const lists = await alice("GET", "/api/v1/lists?limit=10");
      expect(lists.status).toBe(200);
      expect(lists.body).toEqual({ items: [expect.objectContaining({ id: ids.list, memberCount: 6 })], nextCursor: null });
      expect((await bob("GET", "/api/v1/lists")).body).toEqual({ items: [], nextCursor: null });

      const one = await alice("GET", `/api/v1/lists/${ids.list}`);
      expect(one.body).toMatchObject({ id: ids.list, name: "Customers", memberCount: 6 });
      expectError(await bob("GET", `/api/v1/lists/${ids.list}`), 404, "not_found");

      const firstPage = await alice("GET", `/api/v1/lists/${ids.list}/contacts?limit=4`);
      expect(firstPage.body.items).toHaveLength(4);
      expect(firstPage.body.nextCursor).toEqual(expect.any(String));
      const secondPage = await alice("GET", `/api/v1/lists/${ids.list}/contacts?limit=4&cursor=${firstPage.body.nextCursor}`);
      expect(secondPage.body).toMatchObject({ nextCursor: null });
      expect([...firstPage.body.items, ...secondPage.body.items].map((c: Json) => c.phone).sort()).toEqual(
        ["+12015550131", "+12015550132", "+12015550134", "+4915123456731", "+4915123456733", "+4915123456734"].sort(),
      );
      const search = await alice("GET", `/api/v1/lists/${ids.list}/contacts?search=Jonas`);
      expect(search.body.items).toEqual([expect.objectContaining({ phone: "+4915123456731", firstName: "Jonas", attributes: { city: "Berlin" } })]);
      expectError(await bob("GET", `/api/v1/lists/${ids.list}/contacts`), 404, "not_found");
    });

    it("list queries refuse bad paging (400 limit, 400 cursor)", async () => {
      const ids = { list: await createList() };
      expectError(await alice("GET", "/api/v1/lists?limit=0"), 400, "bad_request", "limit");
      expectError(await alice("GET", "/api/v1/lists?limit=lots"), 400, "bad_request", "limit");
      expectError(await alice("GET", "/api/v1/lists?cursor=garbage"), 400, "bad_request", "cursor");
      expectError(await alice("GET", `/api/v1/lists/${ids.list}/contacts?limit=201`), 400, "bad_request", "limit");
    });
  });

  describe("templates", () => {
    it("POST /templates creates one (201); unknown placeholders are 422 body, a missing name 400", async () => {
      const created = await alice("POST", "/api/v1/templates", { name: "Welcome", body: "Hi {{first_name|there}} in {{city|your city}}" });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ id: expect.any(String), name: "Welcome", body: "Hi {{first_name|there}} in {{city|your city}}" });
      expectError(await alice("POST", "/api/v1/templates", { name: "Shoes", body: "Your size: {{shoe_size}}" }), 422, "unprocessable", "body");
      expectError(await alice("POST", "/api/v1/templates", { body: "Hi" }), 400, "bad_request", "name");
      expectError(await alice("POST", "/api/v1/templates", { name: "Long", body: "x".repeat(5000) }), 400, "bad_request", "body");
      expectError(await alice("POST", "/api/v1/templates", { name: "Welcome", body: "Hello" }), 409, "conflict", "name");
    });

    it("GET /templates and GET /templates/{id} read the workspace's own", async () => {
      const ids = { template: await createTemplate() };
      expect((await alice("GET", "/api/v1/templates")).body).toEqual({
        items: [expect.objectContaining({ id: ids.template, name: "Welcome" })],
        nextCursor: null,
      });
      expect((await bob("GET", "/api/v1/templates")).body).toEqual({ items: [], nextCursor: null });
      expect((await alice("GET", `/api/v1/templates/${ids.template}`)).body).toMatchObject({ id: ids.template });
      expectError(await bob("GET", `/api/v1/templates/${ids.template}`), 404, "not_found");
      expectError(await alice("GET", "/api/v1/templates/xyz"), 400, "bad_request", "id");
      expectError(await alice("GET", "/api/v1/templates?limit=-1"), 400, "bad_request", "limit");
    });
  });

  describe("campaigns", () => {
    it("POST /campaigns schedules one (201) with status, times and counts", async () => {
      const ids = { session: (await createSession()).id as string, list: await createListOfSix(), template: await createTemplate() };
      const scheduledAt = new Date(Date.now() + 3600_000);
      const created = await alice("POST", "/api/v1/campaigns", {
        name: "Spring sale",
        listId: ids.list,
        templateId: ids.template,
        scheduledAt: scheduledAt.toISOString().replace("Z", "+00:00"),
        delayMinMs: 1000,
        delayMaxMs: 2000,
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      expect(created.body).toMatchObject({
        id: expect.any(String),
        name: "Spring sale",
        status: "Scheduled",
        scheduledAt: scheduledAt.toISOString(),
        startedAt: null,
        completedAt: null,
        sessionId: ids.session,
        counts: { total: 6, pending: 6, sent: 0, failed: 0, unknown: 0 },
      });
    });

    it("POST /campaigns names the field at fault: 400 for shape, 422 for what cannot be done", async () => {
      const ids = await createCampaign();
      const base = { name: "Bad", listId: ids.list, text: "Hello", scheduledAt: inMs(3600_000) };
      expectError(await alice("POST", "/api/v1/campaigns", { ...base, scheduledAt: "tomorrow at nine" }), 400, "bad_request", "scheduledAt");
      expectError(await alice("POST", "/api/v1/campaigns", { ...base, scheduledAt: "2030-01-01T09:00:00" }), 400, "bad_request", "scheduledAt");
      expectError(await alice("POST", "/api/v1/campaigns", { ...base, scheduledAt: "2020-01-01T09:00:00Z" }), 422, "unprocessable", "scheduledAt");
      expectError(await alice("POST", "/api/v1/campaigns", { ...base, listId: "7" }), 400, "bad_request", "listId");
      expectError(await alice("POST", "/api/v1/campaigns", { ...base, delayMinMs: -5 }), 400, "bad_request", "delayMinMs");
      expectError(await alice("POST", "/api/v1/campaigns", { ...base, delayMinMs: 5000, delayMaxMs: 10 }), 422, "unprocessable", "delayMaxMs");
      expectError(await alice("POST", "/api/v1/campaigns", { ...base, templateId: ids.template }), 422, "unprocessable", "text");
      expectError(await alice("POST", "/api/v1/campaigns", { ...base, listId: randomUUID() }), 422, "unprocessable", "listId");
      // Another workspace's list is not one this caller can use.
      expectError(await bob("POST", "/api/v1/campaigns", base), 422, "unprocessable", "listId");
      expect((await alice("GET", "/api/v1/campaigns")).body.items).toHaveLength(1);
    });

    it("GET /campaigns lists the workspace's own, filtered by status", async () => {
      const ids = await createCampaign();
      const all = await alice("GET", "/api/v1/campaigns");
      expect(all.body).toEqual({ items: [expect.objectContaining({ id: ids.campaign, counts: expect.any(Object) })], nextCursor: null });
      expect((await alice("GET", "/api/v1/campaigns?status=Running,Scheduled")).body.items).toHaveLength(1);
      expect((await alice("GET", "/api/v1/campaigns?status=Running&status=Paused")).body.items).toHaveLength(0);
      expectError(await alice("GET", "/api/v1/campaigns?status=Sleeping"), 400, "bad_request", "status.0");
      expect((await bob("GET", "/api/v1/campaigns")).body).toEqual({ items: [], nextCursor: null });
    });

    it("GET /campaigns/{id} reads one; another workspace's is 404", async () => {
      const ids = await createCampaign();
      const one = await alice("GET", `/api/v1/campaigns/${ids.campaign}`);
      expect(one.status).toBe(200);
      expect(one.body).toMatchObject({ id: ids.campaign, status: "Scheduled", counts: { total: 6 } });
      expectError(await bob("GET", `/api/v1/campaigns/${ids.campaign}`), 404, "not_found");
      expectError(await alice("GET", `/api/v1/campaigns/${randomUUID()}`), 404, "not_found");
      expectError(await alice("GET", "/api/v1/campaigns/1"), 400, "bad_request", "id");
    });

    it("PATCH /campaigns/{id} edits and reschedules; the URL's id wins over the body's", async () => {
      const ids = await createCampaign();
      const later = new Date(Date.now() + 7200_000);
      const patched = await alice("PATCH", `/api/v1/campaigns/${ids.campaign}`, {
        id: randomUUID(),
        name: "Spring sale (final)",
        scheduledAt: later.toISOString(),
      });
      expect(patched.status, JSON.stringify(patched.body)).toBe(200);
      expect(patched.body).toMatchObject({ id: ids.campaign, name: "Spring sale (final)", scheduledAt: later.toISOString() });
      expectError(await alice("PATCH", `/api/v1/campaigns/${ids.campaign}`, { scheduledAt: "soon" }), 400, "bad_request", "scheduledAt");
      expectError(await alice("PATCH", `/api/v1/campaigns/${ids.campaign}`, { name: 7 }), 400, "bad_request", "name");
      expectError(await alice("PATCH", `/api/v1/campaigns/${ids.campaign}`, { scheduledAt: "2001-01-01T00:00:00Z" }), 422, "unprocessable", "scheduledAt");
      expectError(await bob("PATCH", `/api/v1/campaigns/${ids.campaign}`, { name: "Mine now" }), 404, "not_found");
      expect((await alice("GET", `/api/v1/campaigns/${ids.campaign}`)).body.name).toBe("Spring sale (final)");
    });

    it("GET /campaigns/{id}/recipients pages recipients (none before the start); bad filters 400", async () => {
      const ids = await createCampaign();
      const recipients = await alice("GET", `/api/v1/campaigns/${ids.campaign}/recipients?status=pending&limit=10`);
      expect(recipients.status).toBe(200);
      expect(recipients.body).toEqual({ items: [], nextCursor: null });
      expectError(await alice("GET", `/api/v1/campaigns/${ids.campaign}/recipients?status=lost`), 400, "bad_request", "status");
      expectError(await alice("GET", `/api/v1/campaigns/${ids.campaign}/recipients?cursor=abc`), 400, "bad_request", "cursor");
      expectError(await bob("GET", `/api/v1/campaigns/${ids.campaign}/recipients`), 404, "not_found");
    });

    it("POST /campaigns/{id}/pause and /resume: Scheduled -> Paused -> Scheduled; resume twice is 409", async () => {
      const ids = await createCampaign();
      expectError(await bob("POST", `/api/v1/campaigns/${ids.campaign}/pause`), 404, "not_found");
      const paused = await alice("POST", `/api/v1/campaigns/${ids.campaign}/pause`);
      expect(paused.status).toBe(200);
      expect(paused.body).toMatchObject({ id: ids.campaign, status: "Paused" });
      expectError(await bob("POST", `/api/v1/campaigns/${ids.campaign}/resume`), 404, "not_found");
      const resumed = await alice("POST", `/api/v1/campaigns/${ids.campaign}/resume`);
      expect(resumed.status).toBe(200);
      expect(resumed.body).toMatchObject({ status: "Scheduled" });
      expectError(await alice("POST", `/api/v1/campaigns/${ids.campaign}/resume`), 409, "conflict");
      expectError(await alice("POST", "/api/v1/campaigns/abc/pause"), 400, "bad_request", "id");
      // The history says who paused and who resumed, newest first.
      const events = await alice("GET", `/api/v1/campaigns/${ids.campaign}/events`);
      expect(events.status).toBe(200);
      expect((events.body as Array<{ kind: string; reason: string }>).map((event) => [event.kind, event.reason])).toEqual([
        ["resumed", "user"],
        ["paused", "paused_by_user"],
      ]);
      expectError(await bob("GET", `/api/v1/campaigns/${ids.campaign}/events`), 404, "not_found");
    });

    it("POST /campaigns/{id}/cancel cancels; a cancelled campaign can no longer be edited or resumed (409)", async () => {
      const ids = await createCampaign();
      expectError(await bob("POST", `/api/v1/campaigns/${ids.campaign}/cancel`), 404, "not_found");
      const cancelled = await alice("POST", `/api/v1/campaigns/${ids.campaign}/cancel`);
      expect(cancelled.status).toBe(200);
      expect(cancelled.body).toMatchObject({ status: "Cancelled" });
      expectError(await alice("PATCH", `/api/v1/campaigns/${ids.campaign}`, { name: "Again" }), 409, "conflict");
      expectError(await alice("POST", `/api/v1/campaigns/${ids.campaign}/resume`), 409, "conflict");
      expectError(await alice("POST", "/api/v1/campaigns/abc/cancel"), 400, "bad_request", "id");
    });

    it("DELETE /campaigns/{id} answers 204; afterwards the campaign is 404; another workspace's is 404", async () => {
      const ids = await createCampaign();
      // A cancelled campaign (deleting an active one cancels it first: foundation/campaignStatuses.test.ts).
      expect((await alice("POST", `/api/v1/campaigns/${ids.campaign}/cancel`)).status).toBe(200);
      expectError(await bob("DELETE", `/api/v1/campaigns/${ids.campaign}`), 404, "not_found");
      const deleted = await alice("DELETE", `/api/v1/campaigns/${ids.campaign}`);
      expect(deleted.status).toBe(204);
      expect(deleted.body).toBeNull();
      expectError(await alice("GET", `/api/v1/campaigns/${ids.campaign}`), 404, "not_found");
      expectError(await alice("DELETE", `/api/v1/campaigns/${ids.campaign}`), 404, "not_found");
      expectError(await alice("DELETE", "/api/v1/campaigns/abc"), 400, "bad_request", "id");
      // The tRPC side agrees: it is the same procedure.
      await expect(aliceTrpc.campaign.get({ id: ids.campaign })).rejects.toMatchObject({ code: "NOT_FOUND" });
    });
  });

  describe("bad input never yields a 500", () => {
    it("malformed JSON is 400 with a message that says so", async () => {
      const answer = await alice("POST", "/api/v1/campaigns", '{"name": "x",', { "content-type": "application/json" });
      expectError(answer, 400, "bad_request");
      expect(answer.body.error.message).toMatch(/not valid JSON/);
    });

    it("a JSON body that is not an object is 400", async () => {
      expectError(await alice("POST", "/api/v1/templates", '["a"]', { "content-type": "application/json" }), 400, "bad_request");
      expectError(await alice("POST", "/api/v1/templates", "null", { "content-type": "application/json" }), 400, "bad_request");
    });

    it("a body over the size limit is 413", async () => {
      const ids = { list: await createList() };
      const huge = "a".repeat(12 * 1024 * 1024);
      const answer = await alice("POST", `/api/v1/lists/${ids.list}/import`, huge, { "content-type": "text/csv" });
      expectError(answer, 413, "payload_too_large");
      // The connection stays usable for the next request.
      expect((await alice("GET", "/api/v1/lists")).status).toBe(200);
    });

    it("a NUL character (which PostgreSQL text cannot hold) is 400 naming the field, in body, query or CSV", async () => {
      const ids = { list: await createList() };
      expectError(await alice("POST", "/api/v1/lists", { name: "nul\u0000byte" }), 400, "bad_request", "name");
      expectError(await alice("POST", `/api/v1/lists/${ids.list}/contacts`, [{ phone: "+4915123456735", "ci\u0000ty": "x" }]), 400, "bad_request", "contacts.0");
      expectError(await alice("GET", `/api/v1/lists/${ids.list}/contacts?search=%00`), 400, "bad_request", "search");
      expectError(await alice("POST", `/api/v1/lists/${ids.list}/import`, "phone\n+49151\u00002345\n", { "content-type": "text/csv" }), 400, "bad_request", "csv");
    });

    it("wrong types, nested junk and unknown ids come back as 4xx", async () => {
      const ids = { list: await createList() };
      const answers = await Promise.all([
        alice("POST", "/api/v1/campaigns", { name: ["x"], listId: {}, scheduledAt: 12 }),
        alice("POST", "/api/v1/campaigns", { name: "x", listId: randomUUID(), text: "hi", scheduledAt: "2030-02-30T10:00:00Z" }),
        alice("POST", `/api/v1/lists/${ids.list}/contacts`, [{ phone: { nested: true } }, { phone: null }]),
        alice("GET", `/api/v1/lists/${randomUUID()}/contacts`),
        alice("POST", "/api/v1/sessions", { name: "\u0000".repeat(70) }),
        alice("GET", "/api/v1/campaigns/%E0%A4%A"),

      ]);
      for (const answer of answers) {
        expect(answer.status, JSON.stringify(answer.body)).toBeGreaterThanOrEqual(200);
        expect(answer.status, JSON.stringify(answer.body)).toBeLessThan(500);
        if (answer.status >= 400) expect(answer.body.error).toMatchObject({ code: expect.any(String), message: expect.any(String) });
      }
    });
  });
});
