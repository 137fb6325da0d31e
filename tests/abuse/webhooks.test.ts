/**
 * Webhooks under abuse (issue 12): every delivery signed over its raw bytes with exactly 128 hex
 * characters; timestamps inside a window (a bad one is 400, never 500); an ack changes only the
 * event's own number's messages; the event id and its effect commit together, so a failed apply is
 * retried; old ids are pruned by the sweep; a real WAHA without a key refuses to start; the sandbox
 * signs by itself.
 */
import { spawnSync } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { eq, inArray, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EnvError, parseEnv } from "~/env";
import { campaignRecipients, campaigns, webhookEvents, whatsappSessions, workspaces } from "~/server/db/schema";
import { SchedulerService } from "~/server/services/scheduler";
import { EVENT_RETENTION_MS, TIMESTAMP_WINDOW_MS } from "~/server/services/wahaWebhooks";
import { backends } from "../helpers/db";
import { createTestUser, startTestApp, TEST_WEBHOOK_SECRET, type TestApp } from "../helpers/app";
import { waitFor } from "../helpers/waitFor";

const sign = (body: Buffer | string, key = TEST_WEBHOOK_SECRET) => createHmac("sha512", key).update(body).digest("hex");

interface Posted {
  status: number;
  body: { ok?: boolean; outcome?: string; error?: { code: string; message: string; field?: string } };
}

async function post(app: TestApp, body: Buffer | string, headers: Record<string, string>): Promise<Posted> {
  const response = await fetch(`${app.url}/api/webhooks/waha`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : new Uint8Array(body),
  });
  return { status: response.status, body: (await response.json()) as Posted["body"] };
}

/** A WAHA-shaped event, signed as WAHA signs it. */
function event(fields: { id?: string; timestamp?: unknown; event: string; session: string; payload: unknown }) {
  const body = JSON.stringify({ id: fields.id ?? `evt_${randomBytes(8).toString("hex")}`, timestamp: "timestamp" in fields ? fields.timestamp : Date.now(), ...fields });
  return { body, headers: { "x-webhook-hmac": sign(body), "x-webhook-hmac-algorithm": "sha512" } };
}

for (const backend of backends) {
  describe(`[${backend}] webhook abuse`, () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startTestApp(backend);
    });
    afterAll(async () => {
      await app?.close();
    });

    /** Two numbers in two workspaces; one sent message on each, under the same WAHA message id. */
    async function twoNumbersSharingAMessageId() {
      const messageId = `true_491511234567@c.us_${randomBytes(6).toString("hex").toUpperCase()}`;
      const seed = async (label: string) => {
        const [workspace] = await app.services.db.insert(workspaces).values({ name: label }).returning();
        const wahaSessionName = `wc-${label}-${randomBytes(3).toString("hex")}`;
        const [session] = await app.services.db
          .insert(whatsappSessions)
          .values({ workspaceId: workspace!.id, name: label, wahaSessionName, status: "WORKING" })
          .returning();
        const [campaign] = await app.services.db
          .insert(campaigns)
          .values({
            workspaceId: workspace!.id,
            name: label,
            messageText: "Hello",
            sessionId: session!.id,
            scheduledAt: new Date(Date.now() - 60_000),
            status: "Completed",
            delayMinMs: 0,
            delayMaxMs: 0,
          })
          .returning();
        const [recipient] = await app.services.db
          .insert(campaignRecipients)
          .values({ campaignId: campaign!.id, position: 0, phone: "+491511234567", chatId: "491511234567@c.us", renderedText: "Hello", status: "sent", wahaMessageId: messageId, ack: 1 })
          .returning();
        return { wahaSessionName, sessionId: session!.id, recipientId: recipient!.id };
      };
      return { messageId, victim: await seed("victim"), other: await seed("other") };
    }

    const ackOf = async (recipientId: number) =>
      (await app.services.db.select().from(campaignRecipients).where(eq(campaignRecipients.id, recipientId)))[0]!.ack;

    it("refuses a delivery without a valid signature of its exact bytes: none, wrong key, junk appended, a prefix, another algorithm", async () => {
      const { body } = event({ event: "session.status", session: "nobody", payload: { status: "FAILED" } });
      const good = sign(body);
      const refusals: Record<string, Record<string, string>> = {
        unsigned: {},
        "wrong key": { "x-webhook-hmac": sign(body, "some-other-key-0123456789") },
        "junk appended": { "x-webhook-hmac": `${good}zz` },
        "hex appended": { "x-webhook-hmac": `${good}00` },
        truncated: { "x-webhook-hmac": good.slice(0, 64) },
        prefixed: { "x-webhook-hmac": `sha512=${good}` },
        "another algorithm": { "x-webhook-hmac": good, "x-webhook-hmac-algorithm": "sha256" },
      };
      for (const [what, headers] of Object.entries(refusals)) {
        const answer = await post(app, body, headers);
        expect(answer.status, what).toBe(401);
        expect(answer.body.error, what).toMatchObject({ code: "unauthorized", message: expect.stringMatching(/X-Webhook-Hmac|sha512/) });
      }
      // Nothing was recorded by the refusals: the genuine delivery is handled, not a duplicate.
      expect((await post(app, body, { "x-webhook-hmac": good.toUpperCase(), "x-webhook-hmac-algorithm": "sha512" })).body).toEqual({ ok: true, outcome: "handled" });
    });

    it("checks the signature over the raw bytes: a body that only decodes to the signed text is refused", async () => {
      const session = (await createTestUser(app).then((user) => user.trpc.whatsappSession.create({ name: "Bytes" }))).wahaSessionName;
      // Signed: valid UTF-8 with U+FFFD. Sent: the byte 0xFF instead, which a lenient decoder turns into U+FFFD too.
      const signedText = JSON.stringify({ id: `evt_${randomBytes(8).toString("hex")}`, timestamp: Date.now(), event: "session.status", session, payload: { status: "FAILED", note: "\uFFFD" } });
      const sentBytes = Buffer.concat(signedText.split("\uFFFD").flatMap((part, index) => (index === 0 ? [Buffer.from(part)] : [Buffer.from([0xff]), Buffer.from(part)])));
      expect(sentBytes.toString("utf8")).toBe(signedText);
      const answer = await post(app, sentBytes, { "x-webhook-hmac": sign(signedText) });
      expect(answer.status).toBe(401);
      const [row] = await app.services.db.select().from(whatsappSessions).where(eq(whatsappSessions.wahaSessionName, session));
      expect(row!.status).not.toBe("FAILED");

      // Correctly signed but not UTF-8: a 400 that says what is expected, never a 500.
      const invalid = await post(app, sentBytes, { "x-webhook-hmac": sign(sentBytes) });
      expect(invalid.status).toBe(400);
      expect(invalid.body.error).toMatchObject({ code: "bad_request", message: expect.stringContaining("UTF-8 JSON") });
    });

    it("answers 400, never 500, to a timestamp that is absurd, missing, not a number, or outside the window", async () => {
      const now = Date.now();
      const cases: Record<string, unknown> = {
        "1e20": 1e20,
        negative: -1,
        missing: undefined,
        "a string": String(now),
        "20 minutes old": now - 20 * 60_000,
        "20 minutes ahead": now + 20 * 60_000,
      };
      for (const [what, timestamp] of Object.entries(cases)) {
        const signed = event({ timestamp, event: "session.status", session: "nobody", payload: { status: "WORKING" } });
        const answer = await post(app, signed.body, signed.headers);
        expect(answer.status, what).toBe(400);
        expect(answer.body.error?.code, what).toBe("bad_request");
        expect(answer.body.error?.message, what).toMatch(/timestamp/);
      }
      // The edge of the window is inside it.
      const edge = event({ timestamp: now - TIMESTAMP_WINDOW_MS + 60_000, event: "session.status", session: "nobody", payload: { status: "WORKING" } });
      expect((await post(app, edge.body, edge.headers)).body).toEqual({ ok: true, outcome: "handled" });
    });

    it("an ack changes only the messages of the event's own number, even under a message id another number used", async () => {
      const { messageId, victim, other } = await twoNumbersSharingAMessageId();
      const forged = event({ event: "message.ack", session: other.wahaSessionName, payload: { id: messageId, ack: -1 } });
      expect((await post(app, forged.body, forged.headers)).body).toEqual({ ok: true, outcome: "handled" });
      expect(await ackOf(victim.recipientId)).toBe(1);
      expect(await ackOf(other.recipientId)).toBe(-1);

      const unknownSession = event({ event: "message.ack", session: "no-such-session", payload: { id: messageId, ack: -1 } });
      await post(app, unknownSession.body, unknownSession.headers);
      expect(await ackOf(victim.recipientId)).toBe(1);

      const genuine = event({ event: "message.ack", session: victim.wahaSessionName, payload: { id: messageId, ack: 3 } });
      expect((await post(app, genuine.body, genuine.headers)).body).toEqual({ ok: true, outcome: "handled" });
      expect(await ackOf(victim.recipientId)).toBe(3);
    });

    it("records the event id and its effect together: a failed apply leaves no id, and WAHA's retry is applied", async () => {
      const { messageId, victim } = await twoNumbersSharingAMessageId();
      const db = app.services.db;
      // The effect fails inside the database: an update of this recipient raises until the trigger goes.
      await db.execute(sql.raw(`create or replace function test_refuse_ack() returns trigger language plpgsql as $$ begin if new.id = ${victim.recipientId} then raise exception 'ack refused by the test'; end if; return new; end $$`));
      await db.execute(sql.raw(`create trigger test_refuse_ack before update on campaign_recipients for each row execute function test_refuse_ack()`));
      const delivery = event({ event: "message.ack", session: victim.wahaSessionName, payload: { id: messageId, ack: 2 } });
      const eventId = (JSON.parse(delivery.body) as { id: string }).id;
      try {
        const failed = await post(app, delivery.body, delivery.headers);
        expect(failed.status).toBe(500);
        expect(failed.body.error).toMatchObject({ code: "internal" });
        expect(await db.select().from(webhookEvents).where(eq(webhookEvents.eventId, eventId))).toEqual([]);
        expect(await ackOf(victim.recipientId)).toBe(1);
      } finally {
        await db.execute(sql.raw(`drop trigger test_refuse_ack on campaign_recipients`));
        await db.execute(sql.raw(`drop function test_refuse_ack()`));
      }
      // WAHA retries the same delivery: it is applied, not answered "duplicate".
      expect((await post(app, delivery.body, delivery.headers)).body).toEqual({ ok: true, outcome: "handled" });
      expect(await ackOf(victim.recipientId)).toBe(2);
      expect(await db.select().from(webhookEvents).where(eq(webhookEvents.eventId, eventId))).toHaveLength(1);
      expect((await post(app, delivery.body, delivery.headers)).body).toEqual({ ok: true, outcome: "duplicate" });
    });

    it("the sweep prunes event ids older than the retention and keeps recent ones", async () => {
      const old = `evt_old_${randomBytes(6).toString("hex")}`;
      const recent = `evt_recent_${randomBytes(6).toString("hex")}`;
      await app.services.db.insert(webhookEvents).values([
        { eventId: old, receivedAt: new Date(Date.now() - EVENT_RETENTION_MS - 3_600_000) },
        { eventId: recent, receivedAt: new Date(Date.now() - EVENT_RETENTION_MS + 3_600_000) },
      ]);
      // A process starting now (its first sweep does the housekeeping; later ones every 10 minutes).
      const scheduler = new SchedulerService(app.services.db, app.services.waha, { sweepCron: "*/1 * * * * *" });
      try {
        await scheduler.initialize();
        await waitFor("the old event id pruned", async () => (await app.services.db.select().from(webhookEvents).where(eq(webhookEvents.eventId, old))).length === 0, { timeoutMs: 15_000 });
      } finally {
        await scheduler.stop();
      }
      const left = await app.services.db.select().from(webhookEvents).where(inArray(webhookEvents.eventId, [old, recent]));
      expect(left.map((row) => row.eventId)).toEqual([recent]);
    });
  });

  describe(`[${backend}] webhooks in sandbox mode`, () => {
    let app: TestApp;
    beforeAll(async () => {
      // No WAHA_URL and no key configured: the app makes a key and its built-in fake WAHA signs with it.
      app = await startTestApp(backend, { WAHA_URL: "", WAHA_WEBHOOK_SECRET: "" });
      app.services.sessions.setWebhookUrl(`${app.url}/api/webhooks/waha`);
    });
    afterAll(async () => {
      await app?.close();
    });

    it("signs by itself with a key made at start, and still refuses unsigned deliveries", async () => {
      expect(app.services.sandbox).toBe(true);
      expect(app.services.webhookSecret).toMatch(/^[0-9a-f]{64}$/);
      const user = await createTestUser(app);
      const session = await user.trpc.whatsappSession.create({ name: "Sandboxed" });
      app.services.fakeWaha!.setSessionStatus(session.wahaSessionName, "WORKING");
      await waitFor("WORKING stored from the fake's signed webhook", async () => {
        const [row] = await app.services.db.select().from(whatsappSessions).where(eq(whatsappSessions.id, session.id));
        return row?.status === "WORKING";
      });
      const unsigned = JSON.stringify({ id: "evt_unsigned", timestamp: Date.now(), event: "session.status", session: session.wahaSessionName, payload: { status: "FAILED" } });
      expect((await post(app, unsigned, {})).status).toBe(401);
      expect((await post(app, unsigned, { "x-webhook-hmac": sign(unsigned) })).status).toBe(401);
    });
  });
}

describe("start-up without a webhook key", () => {
  it("parseEnv refuses a real WAHA without WAHA_WEBHOOK_SECRET or AUTH_SECRET, naming the variable", () => {
    let thrown: unknown;
    try {
      parseEnv({ WAHA_URL: "http://waha:3000" });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(EnvError);
    expect((thrown as EnvError).message).toMatch(/WAHA_WEBHOOK_SECRET is required when WAHA_URL is set/);
    expect(() => parseEnv({ WAHA_URL: "http://waha:3000", WAHA_WEBHOOK_SECRET: "short" })).toThrow(/WAHA_WEBHOOK_SECRET must be at least 16/);
    expect(parseEnv({ WAHA_URL: "http://waha:3000", WAHA_WEBHOOK_SECRET: "0123456789abcdef" }).WAHA_WEBHOOK_SECRET).toBe("0123456789abcdef");
    expect(parseEnv({ WAHA_URL: "http://waha:3000", AUTH_SECRET: "0123456789abcdef" }).WAHA_URL).toBe("http://waha:3000");
    expect(parseEnv({}).WAHA_URL).toBeUndefined();
  });

  it("the real start-up stops with that message", () => {
    const env: NodeJS.ProcessEnv = { ...process.env, WAHA_URL: "http://127.0.0.1:9", NODE_ENV: "production" };
    delete env.WAHA_WEBHOOK_SECRET;
    delete env.AUTH_SECRET;
    const result = spawnSync(process.execPath, ["--import", "tsx", "src/worker/web.ts"], { env, encoding: "utf8", timeout: 60_000 });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("WAHA_WEBHOOK_SECRET is required when WAHA_URL is set");
  });
});
