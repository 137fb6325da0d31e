import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as s from "~/server/db/schema";
import { WahaApiClient } from "~/server/services/waha/client";
import { WhatsappSessionService } from "~/server/services/whatsappSessions";
import { startFakeWaha, type FakeWaha, type WahaEngine } from "../../tools/fake-waha/server";
import { backends, createTestDatabase, type TestDatabase } from "../helpers/db";

/**
 * A number created by the app is a WAHA session with NOWEB's message store on (fullSync off), on any
 * engine: on NOWEB it is what lets recovery ask WAHA for a message; the others keep it and ignore it.
 * Judged by what the fake WAHA received and by a message read back through WAHA.
 */

const API_KEY = "session-create-key";
const CHAT = "14155550123@c.us";
const engines: WahaEngine[] = ["NOWEB", "WEBJS", "GOWS"];

for (const backend of backends) {
  describe(`[${backend}] WhatsappSessionService.create`, () => {
    let database: TestDatabase;
    const fakes = new Map<WahaEngine, FakeWaha>();
    beforeAll(async () => {
      database = await createTestDatabase(backend);
      for (const engine of engines) fakes.set(engine, await startFakeWaha({ apiKey: API_KEY, engine, nowebStore: "config" }));
    });
    afterAll(async () => {
      await database?.close();
      for (const fake of fakes.values()) await fake.close();
    });

    it.each(engines)("%s: the session gets config.noweb.store {enabled: true, fullSync: false} and WAHA finds its messages", async (engine) => {
      const fake = fakes.get(engine)!;
      const client = new WahaApiClient({ baseUrl: fake.url, apiKey: API_KEY });
      const service = new WhatsappSessionService(database.db, client, { sandboxUrl: null, webhookUrl: "http://127.0.0.1:9/hook" });
      const [workspace] = await database.db.insert(s.workspaces).values({ name: `w-${engine}` }).returning();

      const created = await service.create(workspace!.id, "Sales");
      const raw = (await (await fetch(`${fake.url}/api/sessions/${created.wahaSessionName}`, { headers: { "x-api-key": API_KEY } })).json()) as {
        config: { noweb: unknown; webhooks: Array<{ url: string }> };
        engine: { engine: string };
      };
      expect(raw.engine.engine).toBe(engine);
      expect(raw.config.noweb).toEqual({ store: { enabled: true, fullSync: false }, markOnline: true });
      expect(raw.config.webhooks.map((hook) => hook.url)).toEqual(["http://127.0.0.1:9/hook"]); // still there beside it

      fake.setSessionStatus(created.wahaSessionName, "WORKING"); // the QR scan
      const { messageId } = await client.sendText({ session: created.wahaSessionName, chatId: CHAT, text: "kept" });
      expect(await client.getMessage(created.wahaSessionName, CHAT, messageId)).toMatchObject({ id: messageId, body: "kept" });
      expect(await client.getSession(created.wahaSessionName)).toMatchObject({ engine, nowebStoreEnabled: true });
    });
  });
}
