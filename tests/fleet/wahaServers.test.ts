import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as s from "~/server/db/schema";
import { startFakeWaha, type FakeWaha } from "../../tools/fake-waha/server";
import { createTestUser, startTestApp, type TestApp } from "../helpers/app";
import { backends } from "../helpers/db";
import { waitFor } from "../helpers/waitFor";
import { inMs, restClient, type RestClient } from "../rest/helpers";

/**
 * WAHA servers as data (issue 15): a workspace registers its servers over REST, their API keys are
 * stored encrypted and never come back, each server's health follows whether it answers, and a
 * number created with `serverId` is a session on that server and on no other. Judged by REST answers,
 * the stored row, and the sessions each fake WAHA holds.
 */

const KEY_A = "server-a-secret-key-0001";
const KEY_B = "server-b-secret-key-0002";

async function sessionNamesOn(fake: FakeWaha, apiKey?: string): Promise<string[]> {
  const response = await fetch(`${fake.url}/api/sessions?all=true`, { headers: apiKey ? { "x-api-key": apiKey } : {} });
  expect(response.status).toBe(200);
  return ((await response.json()) as Array<{ name: string }>).map((session) => session.name);
}

describe.each(backends)("[%s] WAHA servers over REST", (kind) => {
  let app: TestApp;
  let fakeA: FakeWaha;
  let fakeB: FakeWaha;
  /** A REST client of a fresh workspace: tests run in any order, each with its own servers. */
  const newOwner = async () => restClient(app, (await createTestUser(app)).apiKey);
  async function registerBoth(owner: RestClient) {
    const a = await owner("POST", "/api/v1/waha-servers", { name: "WAHA A", url: fakeA.url, apiKey: KEY_A });
    const b = await owner("POST", "/api/v1/waha-servers", { name: "WAHA B", url: fakeB.url, apiKey: KEY_B });
    expect([a.status, b.status]).toEqual([201, 201]);
    return { a: a.body as { id: string }, b: b.body as { id: string } };
  }

  beforeAll(async () => {
    fakeA = await startFakeWaha({ port: 0, apiKey: KEY_A });
    fakeB = await startFakeWaha({ port: 0, apiKey: KEY_B });
    app = await startTestApp(kind, { SESSION_PROBE_INTERVAL_MS: "1000" });
  });
  afterAll(async () => {
    app?.services.wahaServers.stopHealthChecks();
    await app?.close();
    await fakeA?.close();
    await fakeB?.close();
  });

  it("registers two servers, checks them at once, and never returns or stores a key in the clear", async () => {
    const owner = await newOwner();
    const a = await owner("POST", "/api/v1/waha-servers", { name: "WAHA A", url: `${fakeA.url}/`, apiKey: KEY_A });
    expect(a.status).toBe(201);
    expect(a.body).toMatchObject({ name: "WAHA A", url: fakeA.url, hasApiKey: true, health: "healthy", numbers: 0 });
    expect(a.body).not.toHaveProperty("apiKey");
    expect(JSON.stringify(a.body)).not.toContain(KEY_A);

    const b = await owner("POST", "/api/v1/waha-servers", { name: "WAHA B", url: fakeB.url, apiKey: KEY_B });
    expect(b.status).toBe(201);

    const list = await owner("GET", "/api/v1/waha-servers");
    expect(list.status).toBe(200);
    expect(list.body.items.map((server: { name: string }) => server.name)).toEqual(["WAHA A", "WAHA B"]);
    expect(JSON.stringify(list.body)).not.toContain(KEY_A);
    expect(JSON.stringify(list.body)).not.toContain(KEY_B);

    const [row] = await app.services.db.select().from(s.wahaServers).where(eq(s.wahaServers.id, a.body.id));
    expect(row!.apiKeyEncrypted).toMatch(/^v1\./);
    expect(row!.apiKeyEncrypted).not.toContain(KEY_A);
    expect(row!.apiKeyEncrypted).not.toContain(Buffer.from(KEY_A).toString("base64url"));

    // The same key sealed twice differs (a fresh IV each time).
    const again = await owner("POST", "/api/v1/waha-servers", { name: "WAHA A again", url: fakeA.url, apiKey: KEY_A });
    const [againRow] = await app.services.db.select().from(s.wahaServers).where(eq(s.wahaServers.id, again.body.id));
    expect(againRow!.apiKeyEncrypted).not.toBe(row!.apiKeyEncrypted);
    expect((await owner("DELETE", `/api/v1/waha-servers/${again.body.id}`)).status).toBe(204);
  });

  it("a wrong key reads unauthorized, fixed by PATCH; read-only and unknown fields are refused", async () => {
    const owner = await newOwner();
    const wrong = await owner("POST", "/api/v1/waha-servers", { name: "Wrong key", url: fakeA.url, apiKey: "not-the-key-at-all" });
    expect(wrong.status).toBe(201);
    expect(wrong.body.health).toBe("unauthorized");

    const fixed = await owner("PATCH", `/api/v1/waha-servers/${wrong.body.id}`, { apiKey: KEY_A });
    expect(fixed.status).toBe(200);
    expect(fixed.body.health).toBe("healthy");
    expect(JSON.stringify(fixed.body)).not.toContain(KEY_A);

    const readOnly = await owner("PATCH", `/api/v1/waha-servers/${wrong.body.id}`, { health: "healthy" });
    expect(readOnly.status).toBe(400);
    expect(readOnly.body.error.message).toMatch(/health/);
    const badUrl = await owner("POST", "/api/v1/waha-servers", { name: "Bad", url: "ftp://example.com" });
    expect(badUrl.status).toBe(400);
    expect(badUrl.body.error.message).toMatch(/http\(s\)/);
    const duplicate = await owner("POST", "/api/v1/waha-servers", { name: "Wrong key", url: fakeA.url });
    expect(duplicate.status).toBe(409);

    expect((await owner("DELETE", `/api/v1/waha-servers/${wrong.body.id}`)).status).toBe(204);
  });

  it("health goes unreachable when a server stops and healthy again when it is back, on the timer", async () => {
    const owner = await newOwner();
    const { a, b } = await registerBoth(owner);
    app.services.wahaServers.startHealthChecks();
    try {
      await fakeA.stopServing();
      const down = await waitFor(
        "server A reads unreachable",
        async () => {
          const answer = await owner("GET", `/api/v1/waha-servers/${a.id}`);
          return answer.body.health === "unreachable" ? answer.body : null;
        },
        { timeoutMs: 15_000, intervalMs: 100 },
      );
      expect(down.healthDetail).toBeTruthy();
      // Server B was never down.
      expect((await owner("GET", `/api/v1/waha-servers/${b.id}`)).body.health).toBe("healthy");

      await fakeA.serveAgain();
      const up = await waitFor(
        "server A reads healthy again",
        async () => {
          const answer = await owner("GET", `/api/v1/waha-servers/${a.id}`);
          return answer.body.health === "healthy" ? answer.body : null;
        },
        { timeoutMs: 15_000, intervalMs: 100 },
      );
      expect(new Date(up.healthCheckedAt).getTime()).toBeGreaterThan(new Date(down.healthCheckedAt).getTime());
    } finally {
      app.services.wahaServers.stopHealthChecks();
    }
  });

  it("a number created with serverId is a session on that server only, read through it, and pins the server", async () => {
    const owner = await newOwner();
    const { a, b } = await registerBoth(owner);
    const created = await owner("POST", "/api/v1/sessions", { name: "On B", serverId: b.id });
    expect(created.status).toBe(201);
    expect(created.body.serverId).toBe(b.id);
    const wahaName = created.body.wahaSessionName as string;

    expect(await sessionNamesOn(fakeB, KEY_B)).toContain(wahaName);
    expect(await sessionNamesOn(fakeA, KEY_A)).not.toContain(wahaName);
    expect(await sessionNamesOn(app.fakeWaha)).not.toContain(wahaName);

    // Its status is read from server B: the scan there shows here.
    fakeB.setSessionStatus(wahaName, "WORKING", { id: "14155550100@c.us", pushName: "B phone" });
    const read = await owner("GET", `/api/v1/sessions/${created.body.id}`);
    expect(read.body).toMatchObject({ status: "WORKING", phoneNumber: "+14155550100", serverId: b.id });

    // A number without serverId stays on the default server.
    const onDefault = await owner("POST", "/api/v1/sessions", { name: "On default" });
    expect(onDefault.status).toBe(201);
    expect(onDefault.body.serverId).toBeNull();
    expect(await sessionNamesOn(app.fakeWaha)).toContain(onDefault.body.wahaSessionName);
    expect(await sessionNamesOn(fakeB, KEY_B)).not.toContain(onDefault.body.wahaSessionName);

    expect((await owner("GET", `/api/v1/waha-servers/${b.id}`)).body.numbers).toBe(1);
    const moving = await owner("PATCH", `/api/v1/sessions/${created.body.id}`, { serverId: a.id });
    expect(moving.status).toBe(400);
    expect(moving.body.error.message).toMatch(/serverId/);

    const refused = await owner("DELETE", `/api/v1/waha-servers/${b.id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(/1 WhatsApp number/);

    // Deleting the number deletes it on server B; then the server may go.
    expect((await owner("DELETE", `/api/v1/sessions/${created.body.id}`)).status).toBe(204);
    expect(await sessionNamesOn(fakeB, KEY_B)).not.toContain(wahaName);
    expect((await owner("DELETE", `/api/v1/waha-servers/${b.id}`)).status).toBe(204);
    const onGone = await owner("POST", "/api/v1/sessions", { name: "On gone B", serverId: b.id });
    expect(onGone.status).toBe(422);
    expect(onGone.body.error.field).toBe("serverId");
  });

  it("a campaign from a number on server B is sent through server B", async () => {
    const owner = await newOwner();
    const { b } = await registerBoth(owner);
    const number = await owner("POST", "/api/v1/sessions", { name: "Sender on B", serverId: b.id });
    expect(number.status).toBe(201);
    fakeB.setSessionStatus(number.body.wahaSessionName, "WORKING", { id: "14155550101@c.us", pushName: "B" });
    const list = await owner("POST", "/api/v1/lists", { name: "Two" });
    await owner("POST", `/api/v1/lists/${list.body.id}/contacts`, [{ phone: "+4915123450101" }, { phone: "+4915123450102" }]);
    const template = await owner("POST", "/api/v1/templates", { name: "Hi", body: "Hello from B" });
    const campaign = await owner("POST", "/api/v1/campaigns", {
      name: "Via B",
      listId: list.body.id,
      templateId: template.body.id,
      sessionId: number.body.id,
      scheduledAt: inMs(3000),
      delayMinMs: 0,
      delayMaxMs: 0,
    });
    expect(campaign.status, JSON.stringify(campaign.body)).toBe(201);
    const done = await waitFor(
      "the campaign to complete",
      async () => {
        const answer = await owner("GET", `/api/v1/campaigns/${campaign.body.id}`);
        return answer.body.status === "Completed" ? answer.body : null;
      },
      { timeoutMs: 20_000, intervalMs: 200 },
    );
    expect(done.counts).toMatchObject({ total: 2, sent: 2, failed: 0 });
    const onB = fakeB.messages().filter((message) => message.session === number.body.wahaSessionName);
    expect(onB.map((message) => message.chatId).sort()).toEqual(["4915123450101@c.us", "4915123450102@c.us"]);
    expect(onB.every((message) => message.text === "Hello from B")).toBe(true);
    expect(app.fakeWaha.messages().filter((message) => message.session === number.body.wahaSessionName)).toEqual([]);
  });

  it("another workspace neither sees nor uses a workspace's servers", async () => {
    const owner = await newOwner();
    const stranger = await newOwner();
    const { a } = await registerBoth(owner);
    expect((await stranger("GET", "/api/v1/waha-servers")).body.items).toEqual([]);
    expect((await stranger("GET", `/api/v1/waha-servers/${a.id}`)).status).toBe(404);
    expect((await stranger("PATCH", `/api/v1/waha-servers/${a.id}`, { name: "Mine now" })).status).toBe(404);
    expect((await stranger("DELETE", `/api/v1/waha-servers/${a.id}`)).status).toBe(404);
    const placed = await stranger("POST", "/api/v1/sessions", { name: "Borrowed", serverId: a.id });
    expect(placed.status).toBe(422);
    expect(placed.body.error.message).toMatch(/serverId names no WAHA server/);
    expect(await sessionNamesOn(fakeA, KEY_A)).toEqual([]); // no test places numbers on A
    expect((await owner("GET", `/api/v1/waha-servers/${a.id}`)).body.name).toBe("WAHA A");
  });
});

describe.each(backends)("[%s] WAHA servers without any secret configured", (kind) => {
  let app: TestApp;
  let owner: RestClient;
  beforeAll(async () => {
    // Sandbox mode (no WAHA_URL), and no ENCRYPTION_KEY, AUTH_SECRET or WAHA_WEBHOOK_SECRET.
    app = await startTestApp(kind, { WAHA_URL: "", WAHA_WEBHOOK_SECRET: "" });
    owner = restClient(app, (await createTestUser(app)).apiKey);
  });
  afterAll(async () => {
    await app?.close();
  });

  it("a key is refused with a 400 naming the variable to set; a server without a key is fine", async () => {
    const refused = await owner("POST", "/api/v1/waha-servers", { name: "Keyed", url: app.fakeWaha.url, apiKey: "some-key-1234" });
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toMatch(/ENCRYPTION_KEY/);
    expect((await owner("GET", "/api/v1/waha-servers")).body.items).toEqual([]);

    const keyless = await owner("POST", "/api/v1/waha-servers", { name: "Keyless", url: app.fakeWaha.url });
    expect(keyless.status).toBe(201);
    expect(keyless.body.hasApiKey).toBe(false);
  });
});
