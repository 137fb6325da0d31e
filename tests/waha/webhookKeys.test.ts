/**
 * Numbers created before WAHA_WEBHOOK_SECRET was set: `signNumberWebhooks` (the CLI's
 * `sign-webhooks`) gives this app's webhook its key on WAHA, keeping the rest of each session's
 * config; afterwards WAHA (the fake, which signs as WAHA does) signs that number's events.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { whatsappSessions, workspaces } from "~/server/db/schema";
import { verifyWebhookSignature } from "~/server/services/wahaWebhooks";
import { WahaApiClient } from "~/server/services/waha/client";
import { NUMBER_WEBHOOK_EVENTS, signNumberWebhooks } from "~/server/services/webhookKeys";
import { type FakeWaha, startFakeWaha } from "../../tools/fake-waha/server";
import { backends, createTestDatabase, type TestDatabase } from "../helpers/db";
import { waitFor } from "../helpers/waitFor";

const KEY = "a-webhook-key-of-at-least-16-characters";
const OTHER_HOOK = { url: "https://example.com/someone-elses-hook", events: ["message"] };

for (const backend of backends) {
  describe(`[${backend}] signing the webhooks of numbers made before the key`, () => {
    let database: TestDatabase;
    let fake: FakeWaha;
    let client: WahaApiClient;
    let receiver: Server;
    let webhookUrl: string;
    const received: { body: Buffer; signature: string | undefined }[] = [];

    beforeAll(async () => {
      [database, fake] = await Promise.all([createTestDatabase(backend), startFakeWaha({ port: 0 })]);
      client = new WahaApiClient({ baseUrl: fake.url, timeoutMs: 5_000 });
      // Stands in for this app's /api/webhooks/waha: keeps what WAHA posts, with its signature.
      receiver = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (chunk: Buffer) => chunks.push(chunk));
        req.on("end", () => {
          const signature = req.headers["x-webhook-hmac"];
          received.push({ body: Buffer.concat(chunks), signature: Array.isArray(signature) ? signature[0] : signature });
          res.end();
        });
      });
      await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
      webhookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/api/webhooks/waha`;
    });
    afterAll(async () => {
      client?.close();
      await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
      await Promise.all([database?.close(), fake?.close()]);
    });

    it("unsigned → signed, other hooks and the NOWEB store kept; a signed one untouched; none → added; gone from WAHA → missing; without `message` → subscribed", async () => {
      const [workspace] = await database.db.insert(workspaces).values({ name: "w" }).returning();
      const names = { unsigned: "wc-old-unsigned", signed: "wc-already-signed", bare: "wc-no-webhook", gone: "wc-gone-from-waha", noReplies: "wc-before-replies" };
      await database.db
        .insert(whatsappSessions)
        .values(Object.entries(names).map(([name, wahaSessionName]) => ({ workspaceId: workspace!.id, name, wahaSessionName, status: "WORKING" as const })));
      // As a number was made before the key existed: this app's webhook without hmac, beside someone else's.
      await client.createSession(names.unsigned, {
        start: true,
        webhooks: [{ url: webhookUrl, events: NUMBER_WEBHOOK_EVENTS }, OTHER_HOOK],
        nowebStore: { enabled: true, fullSync: false },
      });
      await client.createSession(names.signed, { start: true, webhooks: [{ url: webhookUrl, events: NUMBER_WEBHOOK_EVENTS, hmacKey: KEY }] });
      await client.createSession(names.bare, { start: true });
      // Signed, but made before the app read replies (issue 14): no `message` event.
      await client.createSession(names.noReplies, { start: true, webhooks: [{ url: webhookUrl, events: ["session.status", "message.ack"], hmacKey: KEY }] });
      const callsBefore = fake.calls().length;

      const results = await signNumberWebhooks(database.db, client, { webhookUrl, hmacKey: KEY });

      expect(Object.fromEntries(results.map((result) => [result.name, result.outcome]))).toEqual({
        unsigned: "signed",
        signed: "unchanged",
        bare: "added",
        gone: "missing",
        noReplies: "subscribed",
      });
      expect(await client.getSessionConfig(names.noReplies)).toEqual({ webhooks: [{ url: webhookUrl, events: ["session.status", "message.ack", "message"], hmac: { key: KEY } }] });
      const unsigned = await client.getSessionConfig(names.unsigned);
      expect(unsigned).toMatchObject({
        webhooks: [{ url: webhookUrl, events: NUMBER_WEBHOOK_EVENTS, hmac: { key: KEY } }, OTHER_HOOK],
        noweb: { store: { enabled: true, fullSync: false } },
      });
      expect(await client.getSessionConfig(names.bare)).toEqual({ webhooks: [{ url: webhookUrl, events: NUMBER_WEBHOOK_EVENTS, hmac: { key: KEY } }] });
      // Written only where something was missing: one PUT each for the unsigned and the bare number.
      const puts = fake.calls().slice(callsBefore).filter((call) => call.method === "PUT");
      expect(puts.map((call) => call.session).sort()).toEqual([names.bare, names.unsigned, names.noReplies].sort());

      // WAHA now signs that number's events with the key, so this app accepts them.
      received.length = 0;
      fake.setSessionStatus(names.unsigned, "STOPPED");
      const event = await waitFor("the number's session.status webhook", () => received.find((hook) => hook.body.toString().includes(names.unsigned)));
      expect(verifyWebhookSignature(event.body, event.signature, KEY)).toBe(true);
      // Running it again changes nothing.
      const again = await signNumberWebhooks(database.db, client, { webhookUrl, hmacKey: KEY });
      expect(again.filter((result) => result.outcome !== "missing").map((result) => result.outcome)).toEqual(["unchanged", "unchanged", "unchanged", "unchanged"]);
    });
  });
}
