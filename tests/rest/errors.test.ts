/**
 * The error model over HTTP: a campaign in the wrong state is 409; the scheduler stopping and WAHA
 * unreachable are 503 with `retryable: true`; WAHA refusing is 422. The mapping itself, code by
 * code: tests/foundation/errorModel.test.ts.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { openApiDocument } from "~/server/rest/openapi";
import { logIn } from "~/server/services/auth";
import { startFakeWaha } from "../../tools/fake-waha/server";
import { backends } from "../helpers/db";
import { createTestUser, startTestApp, type TestApp } from "../helpers/app";
import { json, startTestServer } from "../waha/helpers";
import { inMs, type Json, restClient, type RestClient } from "./helpers";

/** The error shape: `retryable: true` exactly when the status is 503. */
function expectError(answer: { status: number; body: Json }, status: number, code: string, field?: string) {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  expect(answer.body).toEqual({
    error: { code, message: expect.any(String), ...(field ? { field } : {}), ...(status === 503 ? { retryable: true } : {}) },
  });
}

/** A number, a list with one contact and a template: what a campaign needs. */
async function campaignInput(api: RestClient) {
  const session = await api("POST", "/api/v1/sessions", { name: "Sales" });
  expect(session.status).toBe(201);
  const list = await api("POST", "/api/v1/lists", { name: "Customers" });
  await api("POST", `/api/v1/lists/${list.body.id}/contacts`, [{ phone: "+4915123456711", first_name: "Lena" }]);
  const template = await api("POST", "/api/v1/templates", { name: "Hello", body: "Hi {{first_name|there}}" });
  return { name: "Launch", listId: list.body.id, templateId: template.body.id, sessionId: session.body.id, scheduledAt: inMs(3600_000) };
}

describe("the OpenAPI document's 503", () => {
  it("is listed where WAHA or the scheduler is called, with retryable: true, and nowhere else", () => {
    const doc = openApiDocument() as Json;
    const with503 = Object.entries(doc.paths as Record<string, Record<string, Json>>)
      .flatMap(([path, item]) => Object.entries(item).map(([method, operation]) => [`${method.toUpperCase()} ${path}`, operation] as const))
      .filter(([, operation]) => "503" in operation.responses)
      .map(([name]) => name);
    expect(with503.sort()).toEqual(
      [
        "POST /api/v1/sessions",
        "DELETE /api/v1/sessions/{id}",
        "POST /api/v1/campaigns",
        "PATCH /api/v1/campaigns/{id}",
        "DELETE /api/v1/campaigns/{id}",
        "POST /api/v1/campaigns/{id}/pause",
        "POST /api/v1/campaigns/{id}/resume",
        "POST /api/v1/campaigns/{id}/cancel",
        "POST /api/v1/campaigns/{id}/schedule",
        // Issue 14: both arm (or start) the new campaign.
        "POST /api/v1/campaigns/{id}/retry-failed",
        "POST /api/v1/campaigns/{id}/duplicate",
      ].sort(),
    );
    expect(JSON.stringify(doc.components.responses.Unavailable)).toContain('"retryable":{"const":true}');
    expect(doc.components.schemas.Error.properties.error.properties.code.enum).toContain("unavailable");
  });
});

describe.each(backends)("[%s] REST errors", (kind) => {
  describe("with the app running", () => {
    let app: TestApp;
    let api: RestClient;
    let user: Awaited<ReturnType<typeof createTestUser>>;

    beforeAll(async () => {
      app = await startTestApp(kind);
    });
    // A user in a workspace of their own for each test: what one test creates, another never sees.
    beforeEach(async () => {
      user = await createTestUser(app);
      api = restClient(app, user.apiKey);
    });
    afterAll(async () => {
      await app?.close();
    });

    it("a campaign in the wrong state is 409 conflict: pause or cancel a cancelled one", async () => {
      const created = await api("POST", "/api/v1/campaigns", await campaignInput(api));
      expect(created.status).toBe(201);
      expect((await api("POST", `/api/v1/campaigns/${created.body.id}/cancel`)).status).toBe(200);
      const pause = await api("POST", `/api/v1/campaigns/${created.body.id}/pause`);
      expectError(pause, 409, "conflict");
      expect(pause.body.error.message).toMatch(/Cancelled/);
      expectError(await api("POST", `/api/v1/campaigns/${created.body.id}/cancel`), 409, "conflict");
    });

    it("WAHA unreachable: 503 unavailable, retryable, nothing kept; the same request succeeds once WAHA is back", async () => {
      await app.fakeWaha.stopServing();
      try {
        const answer = await api("POST", "/api/v1/sessions", { name: "Support" });
        expectError(answer, 503, "unavailable");
        // Refused, or reset on a kept-alive socket the stop dropped: either way WAHA was not reached.
        expect(answer.body.error.message).toMatch(/^WAHA createSession failed: .*(connection refused|ECONNRESET)/);
        expect((await api("GET", "/api/v1/sessions")).body.items.map((s: Json) => s.name)).not.toContain("Support");

        // The dashboard's tRPC over HTTP says the same: 503, SERVICE_UNAVAILABLE, retryable.
        const { token } = await logIn(app.services.db, { email: user.email, password: "correct horse battery" });
        const response = await fetch(`${app.url}/api/trpc/whatsappSession.create`, {
          method: "POST",
          headers: { "content-type": "application/json", cookie: `wc_session=${token}` },
          body: JSON.stringify({ json: { name: "Support" } }),
        });
        expect(response.status).toBe(503);
        const body = (await response.json()) as Json;
        expect(body.error.json.data).toMatchObject({ code: "SERVICE_UNAVAILABLE", httpStatus: 503, retryable: true, field: null });
      } finally {
        await app.fakeWaha.serveAgain();
      }
      expect((await api("POST", "/api/v1/sessions", { name: "Support" })).status).toBe(201);
    });

  });

  it("the scheduler stopped (the process is shutting down): 503 unavailable, retryable, no half-created campaign", async () => {
    const app = await startTestApp(kind);
    try {
      const api = restClient(app, (await createTestUser(app)).apiKey);
      const input = await campaignInput(api);
      await app.services.scheduler.stop();
      const answer = await api("POST", "/api/v1/campaigns", input);
      expectError(answer, 503, "unavailable");
      expect(answer.body.error.message).toMatch(/try again/);
      expect((await api("GET", "/api/v1/campaigns")).body.items).toEqual([]);
    } finally {
      await app.close();
    }
  });

  describe("with a WAHA that refuses", () => {
    it("WAHA answering 422 to the session's creation: 422 unprocessable, nothing kept", async () => {
      const waha = await startTestServer((_request, res) =>
        json(res, 422, { statusCode: 422, message: "Session 'wc-sales' already exists. Use PUT to update it.", error: "Unprocessable Entity" }),
      );
      const app = await startTestApp(kind, { WAHA_URL: waha.url });
      try {
        const api = restClient(app, (await createTestUser(app)).apiKey);
        const answer = await api("POST", "/api/v1/sessions", { name: "Sales" });
        expectError(answer, 422, "unprocessable");
        expect(answer.body.error.message).toMatch(/already exists/);
        expect((await api("GET", "/api/v1/sessions")).body.items).toEqual([]);
      } finally {
        await app.close();
        await waha.close();
      }
    });

    it("WAHA refusing this app's API key: 422 (not 401: the caller's key is fine), naming the setting, never the key", async () => {
      const waha = await startFakeWaha({ port: 0, apiKey: "the-right-waha-key" });
      const app = await startTestApp(kind, { WAHA_URL: waha.url, WAHA_API_KEY: "a-wrong-waha-key" });
      try {
        const answer = await restClient(app, (await createTestUser(app)).apiKey)("POST", "/api/v1/sessions", { name: "Sales" });
        expectError(answer, 422, "unprocessable");
        expect(answer.body.error.message).toMatch(/WAHA_API_KEY/);
        expect(JSON.stringify(answer.body)).not.toContain("a-wrong-waha-key");
      } finally {
        await app.close();
        await waha.close();
      }
    });
  });
});
