/**
 * The whole journey over REST, in sandbox mode (no WAHA_URL: the app's own fake WAHA plays
 * WhatsApp), exactly as docs/rest-api.md tells it: add a number, simulate the scan, build a list
 * from JSON and a messy CSV, write a template, schedule a campaign 2 s ahead, watch it complete.
 */
import { readFileSync } from "node:fs";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { whatsappSessions } from "~/server/db/schema";
import { startFakeWaha } from "../../tools/fake-waha/server";
import { backends } from "../helpers/db";
import { createTestUser, startTestApp, type TestApp } from "../helpers/app";
import { waitFor } from "../helpers/waitFor";
import { fixturePath } from "../fixtures/paths";
import { inMs, type Json, restClient, type RestClient } from "./helpers";

const messyCsv = readFileSync(fixturePath("contacts-messy.csv"), "utf8");

describe.each(backends)("[%s] REST v1 end to end in sandbox mode", (kind) => {
  let app: TestApp;
  let api: RestClient;
  let stranger: RestClient;

  beforeAll(async () => {
    // An empty WAHA_URL counts as unset: the app starts its built-in fake WAHA (sandbox).
    app = await startTestApp(kind, { WAHA_URL: "" });
    api = restClient(app, (await createTestUser(app)).apiKey);
    stranger = restClient(app, (await createTestUser(app)).apiKey);
  });
  afterAll(async () => {
    await app?.close();
  });

  it("schedules a campaign from a CSV import and sends every message once", async () => {
    const sandbox = app.services.fakeWaha!;
    expect(app.services.sandbox).toBe(true);
    expect((await api("GET", "/api/v1/health")).body).toMatchObject({ status: "ok", waha: "sandbox" });

    // A WhatsApp number, connected by a simulated QR scan.
    const session = await api("POST", "/api/v1/sessions", { name: "Main number" });
    expect(session.status).toBe(201);
    expect((await stranger("POST", `/api/v1/sessions/${session.body.id}/simulate-scan`)).status).toBe(404);
    const scanned = await api("POST", `/api/v1/sessions/${session.body.id}/simulate-scan`);
    expect(scanned.status).toBe(200);
    expect(scanned.body).toMatchObject({ id: session.body.id, status: "WORKING" });
    expect(sandbox.sessionStatus(session.body.wahaSessionName)).toBe("WORKING");

    // A list: two contacts as JSON, then the messy CSV.
    const list = await api("POST", "/api/v1/lists", { name: "Launch" });
    const added = await api("POST", `/api/v1/lists/${list.body.id}/contacts`, [
      { phone: "+4915123456790", first_name: "Mia", city: "Berlin" },
      { phone: "+4915123456791", first_name: "Noah", city: "Munich" },
    ]);
    expect(added.body).toMatchObject({ received: 2, added: 2, rejected: [] });

    const imported = await api("POST", `/api/v1/lists/${list.body.id}/import?defaultCountry=US`, messyCsv, {
      "content-type": "text/csv; charset=utf-8",
    });
    expect(imported.status, JSON.stringify(imported.body)).toBe(200);
    expect(imported.body).toMatchObject({ received: 10, added: 6, updated: 0, duplicatesMerged: 1 });
    expect(imported.body.rejected.map((row: Json) => row.line)).toEqual([5, 6, 7]);
    for (const row of imported.body.rejected) expect(row.reason).toEqual(expect.any(String));
    expect((await api("GET", `/api/v1/lists/${list.body.id}`)).body.memberCount).toBe(8);

    const members = await api("GET", `/api/v1/lists/${list.body.id}/contacts?limit=50`);
    const phones: string[] = members.body.items.map((contact: Json) => contact.phone);
    expect(phones).toHaveLength(8);
    expect(phones).toEqual(expect.arrayContaining(["+12015550111", "+6281234567811", "+4915123456714"]));

    // A template using a JSON-imported column, with fallbacks for the CSV contacts.
    const template = await api("POST", "/api/v1/templates", { name: "Hello", body: "Hi {{first_name|there}} from {{city|our shop}}!" });
    expect(template.status).toBe(201);

    // Two seconds ahead, no delay between messages.
    const scheduledAt = inMs(2000);
    const created = await api("POST", "/api/v1/campaigns", {
      name: "Launch day",
      listId: list.body.id,
      templateId: template.body.id,
      sessionId: session.body.id,
      scheduledAt,
      delayMinMs: 0,
      delayMaxMs: 0,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ status: "Scheduled", counts: { total: 8, pending: 8 } });
    expect((await stranger("GET", `/api/v1/campaigns/${created.body.id}`)).status).toBe(404);

    const done = await waitFor(
      "the campaign to complete",
      async () => {
        const campaign = await api("GET", `/api/v1/campaigns/${created.body.id}`);
        return campaign.body.status === "Completed" ? campaign.body : null;
      },
      { timeoutMs: 20_000, intervalMs: 200 },
    );
    expect(done.counts).toMatchObject({ total: 8, pending: 0, sent: 8, failed: 0, unknown: 0 });
    expect(new Date(done.startedAt).getTime()).toBeGreaterThanOrEqual(new Date(scheduledAt).getTime() - 50);
    expect(new Date(done.completedAt).getTime()).toBeGreaterThanOrEqual(new Date(done.startedAt).getTime());

    const recipients = await api("GET", `/api/v1/campaigns/${created.body.id}/recipients?limit=100`);
    expect(recipients.body.items).toHaveLength(8);
    expect(recipients.body.items.map((r: Json) => r.status)).toEqual(Array(8).fill("sent"));
    expect(recipients.body.items.map((r: Json) => r.phone).sort()).toEqual([...phones].sort());
    expect(recipients.body.items.find((r: Json) => r.phone === "+4915123456790").renderedText).toBe("Hi Mia from Berlin!");
    expect((await api("GET", `/api/v1/campaigns/${created.body.id}/recipients?status=failed`)).body.items).toEqual([]);
    expect((await stranger("GET", `/api/v1/campaigns/${created.body.id}/recipients`)).status).toBe(404);

    // WAHA got each message exactly once, on this number.
    const messages = sandbox.messages();
    expect(messages).toHaveLength(8);
    expect(new Set(messages.map((m) => m.session))).toEqual(new Set([session.body.wahaSessionName]));
    expect(messages.map((m) => m.chatId.replace(/@.*$/, "")).sort()).toEqual(phones.map((p) => p.slice(1)).sort());
    expect(messages.find((m) => m.chatId.startsWith("4915123456791"))?.text).toBe("Hi Noah from Munich!");

    // A finished campaign cannot be paused, and can be deleted.
    expect((await api("POST", `/api/v1/campaigns/${created.body.id}/pause`)).status).toBe(409);
    expect((await api("DELETE", `/api/v1/campaigns/${created.body.id}`)).status).toBe(204);
  });

  it("simulates scans and replies only for the sandbox's own numbers: one on a registered server gets 409 saying to scan it there", async () => {
    const other = await startFakeWaha({ port: 0, apiKey: "other-server-key" });
    try {
      const server = await api("POST", "/api/v1/waha-servers", { name: "Office WAHA", url: other.url, apiKey: "other-server-key" });
      expect(server.status, JSON.stringify(server.body)).toBe(201);
      const number = await api("POST", "/api/v1/sessions", { name: "Office number", serverId: server.body.id });
      expect(number.status, JSON.stringify(number.body)).toBe(201);

      const scanned = await api("POST", `/api/v1/sessions/${number.body.id}/simulate-scan`);
      expect(scanned.status).toBe(409);
      expect(scanned.body.error.message).toMatch(/registered, not on the sandbox's built-in one: scan its QR code/);
      const [row] = await app.database.db.select({ workspaceId: whatsappSessions.workspaceId }).from(whatsappSessions).where(eq(whatsappSessions.id, number.body.id));
      await expect(app.services.sessions.simulateReply(row!.workspaceId, number.body.id, "+4915123456790", "STOP")).rejects.toThrow(/scan its QR code/);
      // Nothing was made on the sandbox's fake, and the number still waits for its scan on its own server.
      expect(app.services.fakeWaha!.sessionStatus(number.body.wahaSessionName)).toBeUndefined();
      expect(other.sessionStatus(number.body.wahaSessionName)).not.toBe("WORKING");
      expect((await api("GET", `/api/v1/sessions/${number.body.id}`)).body.status).not.toBe("WORKING");
    } finally {
      await other.close();
    }
  });
});
