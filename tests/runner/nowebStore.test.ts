/**
 * Exactly once on a NOWEB WAHA without its message store, where WAHA keeps no messages and so cannot
 * say whether a send arrived: a "not found" must never lead to a resend there.
 * - lookupMessage (runner/lookup.ts) against scripted WAHA answers and the fake WAHA;
 * - runner processes SIGKILLed again and again against a fake WAHA in that mode: no chat gets a
 *   second message, every recipient ends `sent` or `unknown`, and each `unknown` says why.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Database, type Db, migrateDatabase } from "~/server/db/client";
import * as s from "~/server/db/schema";
import { lookupMessage, type LookupTarget } from "~/server/services/runner/lookup";
import { WahaApiClient } from "~/server/services/waha/client";
import { type FakeWaha, startFakeWaha } from "../../tools/fake-waha/server";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { json, startTestServer, type TestServer } from "../waha/helpers";
import { perChat, type Seeded, seedCampaign } from "./helpers";
import { killRepeatedly, withFileDatabase } from "./processHelpers";

const CHAT = "14155550123@c.us";
const hasPostgres = Boolean(process.env.TEST_DATABASE_URL);
const NOWEB_REASON = /NOWEB engine without its message store/;

function target(wahaMessageId: string | null, renderedText = "Hi"): LookupTarget {
  return { chatId: CHAT, renderedText, wahaMessageId, sendingStartedAtMs: Date.now() - 1_000 };
}

describe("lookupMessage: a not-found counts only where WAHA keeps the session's messages", () => {
  /** A WAHA that never has the message; its session answer is scripted per test. */
  let waha: TestServer;
  let sessionAnswer: { status: number; body: unknown };
  let client: WahaApiClient;
  const paths = () => waha.requests.map((request) => request.url.split("?")[0]);

  beforeAll(async () => {
    waha = await startTestServer((request, res) => {
      if (request.url.startsWith("/api/sessions/")) return json(res, sessionAnswer.status, sessionAnswer.body);
      json(res, 404, { statusCode: 404, message: "Message not found", error: "Not Found" });
    });
    client = new WahaApiClient({ baseUrl: waha.url, timeoutMs: 2_000 });
  });
  afterAll(async () => {
    client?.close();
    await waha?.close();
  });

  async function lookupWith(session: { engine?: string; config?: unknown } | { status: number; body: unknown }) {
    sessionAnswer =
      "status" in session
        ? session
        : { status: 200, body: { name: "s", status: "WORKING", me: null, ...(session.engine ? { engine: { engine: session.engine } } : {}), ...("config" in session ? { config: session.config } : {}) } };
    waha.requests.length = 0;
    return lookupMessage(client, "s", target("3EB0AAAA"));
  }

  it("NOWEB without the store + 404: unknown, not retryable, and says why", async () => {
    const result = await lookupWith({ engine: "NOWEB" });
    expect(result).toEqual({ kind: "unknown", reason: expect.stringMatching(NOWEB_REASON), retryable: false });
    // One extra call, only because WAHA said "not found".
    expect(paths()).toEqual([`/api/s/chats/${encodeURIComponent(CHAT)}/messages/${encodeURIComponent(`true_${CHAT}_3EB0AAAA`)}`, "/api/sessions/s"]);
    expect(await lookupWith({ engine: "NOWEB", config: { noweb: { store: { enabled: false, fullSync: false } } } })).toMatchObject({ kind: "unknown", retryable: false });
    expect(await lookupWith({ engine: "NOWEB", config: null })).toMatchObject({ kind: "unknown", retryable: false });
  });

  it("NOWEB with the store + 404: absent (safe to send again)", async () => {
    expect(await lookupWith({ engine: "NOWEB", config: { noweb: { store: { enabled: true, fullSync: false } } } })).toEqual({ kind: "absent" });
  });

  it("WEBJS + 404: absent; GOWS + 404: absent unless its message storage is off", async () => {
    expect(await lookupWith({ engine: "WEBJS" })).toEqual({ kind: "absent" });
    expect(await lookupWith({ engine: "GOWS", config: {} })).toEqual({ kind: "absent" });
    expect(await lookupWith({ engine: "GOWS", config: { gows: { storage: { messages: false } } } })).toMatchObject({
      kind: "unknown",
      reason: expect.stringContaining("config.gows.storage.messages"),
      retryable: false,
    });
  });

  it("an engine WAHA does not report (an older WAHA, another engine) + 404: unknown", async () => {
    expect(await lookupWith({})).toMatchObject({ kind: "unknown", reason: expect.stringContaining("none reported"), retryable: false });
    expect(await lookupWith({ engine: "SOMETHING" })).toMatchObject({ kind: "unknown", retryable: false });
  });

  it("getSession failing: unknown and retryable when WAHA may answer later; a session not working pauses", async () => {
    const failing = await lookupWith({ status: 500, body: { statusCode: 500, message: "boom" } });
    expect(failing).toEqual({ kind: "unknown", reason: expect.stringContaining("could not say whether it keeps this number's messages"), retryable: true });
    const notWorking = await lookupWith({ status: 422, body: { error: "x", session: "s", status: "STARTING", expected: ["WORKING"] } });
    expect(notWorking).toMatchObject({ kind: "session_unavailable", error: { kind: "session_not_working" } });
  });
});

describe("lookupMessage against the fake WAHA", () => {
  let noweb: FakeWaha;
  let webjs: FakeWaha;
  beforeAll(async () => {
    [noweb, webjs] = await Promise.all([startFakeWaha({ engine: "NOWEB", nowebStore: "config" }), startFakeWaha({ engine: "WEBJS" })]);
  });
  afterAll(async () => {
    await Promise.all([noweb?.close(), webjs?.close()]);
  });
  // Each test starts from empty fakes: what another test sent is not in their logs.
  beforeEach(() => {
    noweb.reset({ sessions: true });
    webjs.reset({ sessions: true });
  });

  it("NOWEB without the store: WAHA's 400 to the read is unknown, with or without a fixed id, though the message went out", async () => {
    const client = new WahaApiClient({ baseUrl: noweb.url });
    noweb.setSessionStatus("bare", "WORKING");
    const { messageId } = await client.sendText({ session: "bare", chatId: CHAT, text: "Hi", messageId: "3EB0BBBB" });
    expect(noweb.messages().map((message) => message.id)).toEqual([messageId]); // a resend would be a second message
    for (const wahaMessageId of ["3EB0BBBB", null]) {
      expect(await lookupMessage(client, "bare", target(wahaMessageId))).toEqual({
        kind: "unknown",
        reason: expect.stringMatching(NOWEB_REASON),
        retryable: false,
      });
    }
  });

  it("NOWEB with the store (as the app creates numbers): found -> sent, never sent -> absent", async () => {
    const client = new WahaApiClient({ baseUrl: noweb.url });
    await client.createSession("kept", { start: false, nowebStore: { enabled: true, fullSync: false } });
    noweb.setSessionStatus("kept", "WORKING");
    const { messageId } = await client.sendText({ session: "kept", chatId: CHAT, text: "Hi", messageId: "3EB0CCCC" });
    expect(await lookupMessage(client, "kept", target("3EB0CCCC"))).toMatchObject({ kind: "sent", wahaMessageId: messageId });
    expect(await lookupMessage(client, "kept", target("3EB0DDDD"))).toEqual({ kind: "absent" });
  });

  it("WEBJS: never sent -> absent", async () => {
    const client = new WahaApiClient({ baseUrl: webjs.url });
    webjs.setSessionStatus("w", "WORKING");
    expect(await lookupMessage(client, "w", target("3EB0EEEE"))).toEqual({ kind: "absent" });
  });
});

// ------------------------------------------------------------------ SIGKILL, again and again

const RECIPIENTS = 150;
const KILLS = 4;

/**
 * The fake keeps every accepted send in its log, store or not: the judge. Its sends take 20 ms after
 * being recorded, so most kills land between WAHA accepting a message and the runner recording it.
 */
async function startNowebWithoutStore(): Promise<FakeWaha> {
  return startFakeWaha({ port: 0, engine: "NOWEB", nowebStore: "config" });
}

async function crashAndCheck(fake: FakeWaha, seeded: Seeded, env: Record<string, string>, readRows: () => Promise<s.CampaignRecipient[]>) {
  fake.setSessionStatus(seeded.wahaSessionName, "WORKING"); // a session without config: NOWEB keeps no messages
  fake.setFaults({ latencyMs: 20 });
  const { killedAt, final } = await killRepeatedly(fake, seeded, env, KILLS);
  fake.setFaults({ latencyMs: 0 });
  expect(killedAt.every((count) => count < RECIPIENTS), JSON.stringify(killedAt)).toBe(true);
  expect(JSON.parse(final)).toMatchObject({ status: "Completed" });

  // 0 duplicates: no chat got a second message.
  const counts = perChat(fake.messages(), seeded.wahaSessionName);
  expect([...counts.entries()].filter(([, n]) => n > 1)).toEqual([]);

  const rows = await readRows();
  expect(rows).toHaveLength(RECIPIENTS);
  expect(rows.filter((row) => row.status !== "sent" && row.status !== "unknown").map((row) => row.status)).toEqual([]);
  const messageIdByChat = new Map(fake.messages().map((message) => [message.chatId, message.id]));
  // Each `sent` recipient got its message, the very one WAHA accepted.
  const sent = rows.filter((row) => row.status === "sent");
  expect(sent.filter((row) => messageIdByChat.get(row.chatId) !== row.wahaMessageId).map((row) => row.phone)).toEqual([]);
  // Each `unknown` says why; the interrupted sends are there, some of which WAHA had accepted: a
  // blind resend after "not found" would have given those chats a second message.
  const unknown = rows.filter((row) => row.status === "unknown");
  expect(unknown.filter((row) => !NOWEB_REASON.test(row.lastError ?? "")).map((row) => row.lastError)).toEqual([]);
  expect(unknown.length).toBeGreaterThanOrEqual(1);
  expect(unknown.filter((row) => counts.has(row.chatId)).length).toBeGreaterThanOrEqual(1);
  // A chat without a message is an unknown recipient, never a sent one.
  expect(counts.size).toBe(sent.length + unknown.filter((row) => counts.has(row.chatId)).length);
}

async function recipientRows(db: Db, campaignId: string): Promise<s.CampaignRecipient[]> {
  return db.select().from(s.campaignRecipients).where(eq(s.campaignRecipients.campaignId, campaignId));
}

describe.skipIf(!hasPostgres)("[postgres] a runner SIGKILLed again and again on NOWEB without a store", () => {
  let database: TestDatabase;
  let fake: FakeWaha;
  beforeAll(async () => {
    [database, fake] = await Promise.all([createTestDatabase("postgres"), startNowebWithoutStore()]);
  });
  afterAll(async () => {
    await Promise.all([database?.close(), fake?.close()]);
  });

  it("no chat gets two messages; every recipient ends sent or unknown, each unknown explained", async () => {
    const seeded = await seedCampaign(database.db, { recipients: RECIPIENTS, delayMinMs: 0, delayMaxMs: 3 });
    const env = { DATABASE_URL: database.url!, WAHA_URL: fake.url, CAMPAIGN_ID: seeded.campaignId };
    await crashAndCheck(fake, seeded, env, () => recipientRows(database.db, seeded.campaignId));
  }, 120_000);
});

describe("[pglite, file-backed] a runner SIGKILLed again and again on NOWEB without a store", () => {
  let dir: string;
  let fake: FakeWaha;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "runner-noweb-"));
    fake = await startNowebWithoutStore();
  });
  afterAll(async () => {
    await fake?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const withDatabase = <T>(use: (database: Database) => Promise<T>) => withFileDatabase(dir, use);

  it("no chat gets two messages; every recipient ends sent or unknown, each unknown explained", async () => {
    const seeded = await withDatabase(async (database) => {
      await migrateDatabase(database);
      return seedCampaign(database.db, { recipients: RECIPIENTS, delayMinMs: 0, delayMaxMs: 3 });
    });
    const env = { PGLITE_DIR: dir, WAHA_URL: fake.url, CAMPAIGN_ID: seeded.campaignId };
    await crashAndCheck(fake, seeded, env, () => withDatabase((database) => recipientRows(database.db, seeded.campaignId)));
  }, 180_000);
});
