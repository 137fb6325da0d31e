import { createHmac } from "node:crypto";
import net from "node:net";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as s from "~/server/db/schema";
import { WahaApiClient } from "~/server/services/waha/client";
import { NUMBER_WEBHOOK_EVENTS, serverWebhookTargets, signNumberWebhooks } from "~/server/services/webhookKeys";
import { startFakeWaha, type FakeWaha } from "../../tools/fake-waha/server";
import { createTestUser, startTestApp, TEST_WEBHOOK_SECRET, type TestApp } from "../helpers/app";
import { backends } from "../helpers/db";
import { waitFor } from "../helpers/waitFor";
import { restClient, type RestClient } from "../rest/helpers";

/**
 * Issue 15: each registered WAHA server signs its webhooks with its own key. A number's session is
 * created with its server's key, the app verifies an event about that number with that key only (not
 * another server's, not the default WAHA_WEBHOOK_SECRET), `sign-webhooks` re-signs older numbers
 * with their server's key, and each server has one client whose keep-alive pool serves every call.
 * Judged by what the fakes hold and post, and the app's HTTP answers to signed deliveries.
 */

const KEY_A = "server-a-secret-key-0001";
const KEY_B = "server-b-secret-key-0002";

/** A TCP pass-through in front of a fake WAHA that counts the connections opened to it. */
async function countingProxy(target: FakeWaha): Promise<{ url: string; connections: () => number; close: () => Promise<void> }> {
  const targetPort = Number(new URL(target.url).port);
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    connections += 1;
    const upstream = net.connect(targetPort, "127.0.0.1");
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("error", () => socket.destroy());
      socket.on("close", () => sockets.delete(socket));
    }
    client.pipe(upstream).pipe(client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    connections: () => connections,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe.each(backends)("[%s] each WAHA server's own webhook key", (kind) => {
  let app: TestApp;
  let fakeA: FakeWaha;
  let fakeB: FakeWaha;
  let webhookUrl: string;
  const newOwner = async () => restClient(app, (await createTestUser(app)).apiKey);
  async function registerBoth(owner: RestClient) {
    const a = await owner("POST", "/api/v1/waha-servers", { name: "WAHA A", url: fakeA.url, apiKey: KEY_A });
    const b = await owner("POST", "/api/v1/waha-servers", { name: "WAHA B", url: fakeB.url, apiKey: KEY_B });
    expect([a.status, b.status]).toEqual([201, 201]);
    return { a: a.body as { id: string }, b: b.body as { id: string } };
  }
  /** Posts a session.status event for `session`, signed with `key`, as WAHA would. */
  async function deliver(session: string, status: string, key: string): Promise<number> {
    const body = JSON.stringify({ id: `evt-${Math.random().toString(36).slice(2)}`, timestamp: Date.now(), event: "session.status", session, payload: { status } });
    const response = await fetch(webhookUrl, {
      method: "POST",
      headers: { "content-type": "application/json", "x-webhook-hmac": createHmac("sha512", key).update(body).digest("hex"), "x-webhook-hmac-algorithm": "sha512" },
      body,
    });
    await response.arrayBuffer();
    return response.status;
  }
  async function storedStatus(sessionId: string): Promise<string | undefined> {
    const [row] = await app.services.db.select({ status: s.whatsappSessions.status }).from(s.whatsappSessions).where(eq(s.whatsappSessions.id, sessionId));
    return row?.status;
  }
  async function hookOn(fake: FakeWaha, apiKey: string, session: string) {
    const client = new WahaApiClient({ baseUrl: fake.url, apiKey, timeoutMs: 5_000 });
    try {
      const config = await client.getSessionConfig(session);
      return (config?.webhooks as Array<{ url: string; hmac?: { key?: string } }> | undefined)?.find((hook) => hook.url === webhookUrl);
    } finally {
      client.close();
    }
  }

  beforeAll(async () => {
    fakeA = await startFakeWaha({ port: 0, apiKey: KEY_A });
    fakeB = await startFakeWaha({ port: 0, apiKey: KEY_B });
    app = await startTestApp(kind);
    webhookUrl = `${app.url}/api/webhooks/waha`;
    app.services.sessions.setWebhookUrl(webhookUrl);
  });
  afterAll(async () => {
    await app?.close();
    await fakeA?.close();
    await fakeB?.close();
  });

  it("a number on server A is configured with A's key; its events verify with A's key only, the default server's with the default key only", async () => {
    const owner = await newOwner();
    const { a, b } = await registerBoth(owner);
    const number = await owner("POST", "/api/v1/sessions", { name: "On A", serverId: a.id });
    expect(number.status).toBe(201);
    const name = number.body.wahaSessionName as string;
    await waitFor("server A's signed webhook stored SCAN_QR_CODE", async () => (await storedStatus(number.body.id)) === "SCAN_QR_CODE");

    // The key is sealed at rest and never shown.
    const [row] = await app.services.db.select().from(s.wahaServers).where(eq(s.wahaServers.id, a.id));
    const keyA = (await app.services.wahaServers.webhookKey(a.id))!;
    const keyB = (await app.services.wahaServers.webhookKey(b.id))!;
    expect(keyA).toMatch(/^[0-9a-f]{64}$/);
    expect(keyA).not.toBe(keyB);
    expect(row!.webhookSecretEncrypted).toMatch(/^v1\./);
    expect(row!.webhookSecretEncrypted).not.toContain(keyA);
    expect(JSON.stringify((await owner("GET", "/api/v1/waha-servers")).body)).not.toContain(keyA);

    // Server A's session carries A's key, not the default one.
    expect((await hookOn(fakeA, KEY_A, name))?.hmac?.key).toBe(keyA);

    // Server A's own signed event (the scan) is applied.
    fakeA.setSessionStatus(name, "WORKING", { id: "14155550111@c.us" });
    await waitFor("A's signed webhook stored WORKING", async () => (await storedStatus(number.body.id)) === "WORKING");
    await fakeA.drainWebhooks();

    // The same kind of event signed with server B's key or the default key is refused, and changes nothing.
    expect(await deliver(name, "STOPPED", keyB)).toBe(401);
    expect(await deliver(name, "STOPPED", TEST_WEBHOOK_SECRET)).toBe(401);
    expect(await storedStatus(number.body.id)).toBe("WORKING");
    expect(await deliver(name, "FAILED", keyA)).toBe(200);
    expect(await storedStatus(number.body.id)).toBe("FAILED");

    // A number on the default server keeps WAHA_WEBHOOK_SECRET, and a server's key does not pass for it.
    const onDefault = await owner("POST", "/api/v1/sessions", { name: "On default", serverId: null });
    expect(onDefault.status).toBe(201);
    expect(onDefault.body.serverId).toBeNull();
    // WAHA's own events for it first (STARTING -> SCAN_QR_CODE), so none lands after ours below.
    await waitFor("the default server's signed webhook stored SCAN_QR_CODE", async () => (await storedStatus(onDefault.body.id)) === "SCAN_QR_CODE");
    await app.fakeWaha.drainWebhooks();
    expect(await deliver(onDefault.body.wahaSessionName, "FAILED", keyA)).toBe(401);
    expect(await deliver(onDefault.body.wahaSessionName, "FAILED", TEST_WEBHOOK_SECRET)).toBe(200);
    expect(await storedStatus(onDefault.body.id)).toBe("FAILED");
  });

  it("sign-webhooks gives a number made before server keys its server's key, through that server; its events are then accepted", async () => {
    const owner = await newOwner();
    const { a } = await registerBoth(owner);
    // As a server registered before keys existed, holding a number whose webhook has no key.
    await app.services.db.update(s.wahaServers).set({ webhookSecretEncrypted: null }).where(eq(s.wahaServers.id, a.id));
    const [workspace] = await app.services.db.select({ workspaceId: s.wahaServers.workspaceId }).from(s.wahaServers).where(eq(s.wahaServers.id, a.id));
    const name = `wc-old-on-a-${Math.random().toString(16).slice(2, 8)}`;
    const direct = new WahaApiClient({ baseUrl: fakeA.url, apiKey: KEY_A, timeoutMs: 5_000 });
    try {
      await direct.createSession(name, { start: true, webhooks: [{ url: webhookUrl, events: NUMBER_WEBHOOK_EVENTS }] });
    } finally {
      direct.close();
    }
    const [number] = await app.services.db
      .insert(s.whatsappSessions)
      .values({ workspaceId: workspace!.workspaceId, name: "Old on A", wahaSessionName: name, serverId: a.id, status: "STARTING" })
      .returning();

    // Unsigned: refused.
    fakeA.setSessionStatus(name, "SCAN_QR_CODE");
    await fakeA.drainWebhooks();
    expect(await storedStatus(number!.id)).toBe("STARTING");

    // What `npm run cli -- sign-webhooks` runs.
    const servers = serverWebhookTargets(app.services.db, app.services.waha, app.services.config);
    try {
      const results = await signNumberWebhooks(app.services.db, app.services.waha, { webhookUrl, hmacKey: TEST_WEBHOOK_SECRET }, servers);
      expect(results.find((result) => result.wahaSessionName === name)?.outcome).toBe("signed");
    } finally {
      servers.close();
    }
    const keyA = await app.services.wahaServers.webhookKey(a.id);
    expect(keyA).toMatch(/^[0-9a-f]{64}$/);
    expect((await hookOn(fakeA, KEY_A, name))?.hmac?.key).toBe(keyA);

    fakeA.setSessionStatus(name, "WORKING", { id: "14155550112@c.us" });
    await waitFor("the re-signed number's webhook is accepted", async () => (await storedStatus(number!.id)) === "WORKING");
  });

  it("one client per server, whose keep-alive connection serves every call to it", async () => {
    const owner = await newOwner();
    const proxy = await countingProxy(fakeA);
    try {
      const counted = await owner("POST", "/api/v1/waha-servers", { name: "Counted", url: proxy.url, apiKey: KEY_A });
      expect(counted.status).toBe(201);
      expect(counted.body.health).toBe("healthy");
      const { b } = await registerBoth(owner);
      const number = await owner("POST", "/api/v1/sessions", { name: "Counted number", serverId: counted.body.id });
      expect(number.status).toBe(201);
      for (let read = 0; read < 3; read++) expect((await owner("GET", `/api/v1/sessions/${number.body.id}`)).status).toBe(200);
      // The health check, the session's creation and three reads: five calls, one connection.
      expect(proxy.connections()).toBe(1);

      const registry = app.services.wahaClients;
      const first = await registry.forServer(counted.body.id);
      expect(await registry.forServer(counted.body.id)).toBe(first);
      expect(await registry.forServer(b.id)).not.toBe(first);
      expect(first).not.toBe(registry.defaultClient);
    } finally {
      await proxy.close();
    }
  });
});
