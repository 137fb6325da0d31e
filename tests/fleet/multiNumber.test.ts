import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as s from "~/server/db/schema";
import { startFakeWaha, type FakeWaha } from "../../tools/fake-waha/server";
import type { FakeMessage } from "../../tools/fake-waha/state";
import { createTestUser, startTestApp, type TestApp } from "../helpers/app";
import { backends } from "../helpers/db";
import { waitFor } from "../helpers/waitFor";
import { inMs, restClient, type RestClient } from "../rest/helpers";

/**
 * Campaigns over several numbers (issue 15): one campaign sends from numbers on two registered WAHA
 * servers, each number at its own pace, each recipient once; a number that drops mid-run is waited
 * for, or with reassignOnDrop replaced by the others, without anyone getting two messages; `sticky`
 * keeps a contact on the number that messaged them before. Judged by what the fake WAHA servers
 * received (their logs, with the time each send was accepted) and by REST answers.
 */

const KEY_A = "multi-a-secret-key-0001";
const KEY_B = "multi-b-secret-key-0002";
const DELAY_MIN_MS = 250;
const DELAY_MAX_MS = 300;

interface Number {
  id: string;
  wahaSessionName: string;
  fake: FakeWaha;
}

let phoneCounter = 0;
/** Phones no other test of this file uses (the fakes' logs are shared by the file). */
const freshPhones = (count: number) => Array.from({ length: count }, () => `+49151${String(7_000_000 + phoneCounter++).padStart(8, "0")}`);
const chatOf = (phone: string) => `${phone.slice(1)}@c.us`;

describe.each(backends)("[%s] campaigns over several numbers", (kind) => {
  let app: TestApp;
  let fakeA: FakeWaha;
  let fakeB: FakeWaha;

  beforeAll(async () => {
    fakeA = await startFakeWaha({ port: 0, apiKey: KEY_A });
    fakeB = await startFakeWaha({ port: 0, apiKey: KEY_B });
    // Auto-resume on: a campaign paused for a dropped number comes back by itself when it is WORKING again.
    app = await startTestApp(kind, {}, { autoResume: true, autoResumeTickMs: 200 });
    // Numbers created from here on tell WAHA to send their events (acks) to this app.
    app.services.sessions.setWebhookUrl(`${app.url}/api/webhooks/waha`);
  });
  afterAll(async () => {
    await app?.close();
    await fakeA?.close();
    await fakeB?.close();
  });

  /** A workspace with both servers registered and three WORKING numbers: two on A, one on B. */
  async function fleet(): Promise<{ owner: RestClient; a1: Number; a2: Number; b: Number }> {
    const owner = restClient(app, (await createTestUser(app)).apiKey);
    const serverA = await owner("POST", "/api/v1/waha-servers", { name: "WAHA A", url: fakeA.url, apiKey: KEY_A });
    const serverB = await owner("POST", "/api/v1/waha-servers", { name: "WAHA B", url: fakeB.url, apiKey: KEY_B });
    expect([serverA.status, serverB.status]).toEqual([201, 201]);
    const number = async (name: string, serverId: string, fake: FakeWaha, phone: string): Promise<Number> => {
      const created = await owner("POST", "/api/v1/sessions", { name, serverId });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      fake.setSessionStatus(created.body.wahaSessionName, "WORKING", { id: `${phone}@c.us`, pushName: name });
      return { id: created.body.id, wahaSessionName: created.body.wahaSessionName, fake };
    };
    const suffix = String(phoneCounter++).padStart(4, "0");
    return {
      owner,
      a1: await number("A one", serverA.body.id, fakeA, `1415555${suffix}1`),
      a2: await number("A two", serverA.body.id, fakeA, `1415555${suffix}2`),
      b: await number("B one", serverB.body.id, fakeB, `1415555${suffix}3`),
    };
  }

  async function listOf(owner: RestClient, phones: string[]): Promise<string> {
    const list = await owner("POST", "/api/v1/lists", { name: `List ${phoneCounter++}` });
    expect(list.status).toBe(201);
    const added = await owner("POST", `/api/v1/lists/${list.body.id}/contacts`, phones.map((phone) => ({ phone })));
    expect(added.status, JSON.stringify(added.body)).toBeLessThan(300);
    return list.body.id as string;
  }

  async function untilStatus(owner: RestClient, campaignId: string, status: string, timeoutMs = 30_000) {
    return waitFor(
      `campaign ${campaignId} to be ${status}`,
      async () => {
        const answer = await owner("GET", `/api/v1/campaigns/${campaignId}`);
        return answer.body.status === status ? answer.body : null;
      },
      { timeoutMs, intervalMs: 100 },
    );
  }

  /** Every message with this text, on both fakes. */
  const sentWith = (text: string): FakeMessage[] => [...fakeA.messages(), ...fakeB.messages()].filter((message) => message.text === text);

  /** A campaign sent once by one number: its contacts were "messaged by" it. */
  async function history(owner: RestClient, from: Number, phones: string[]) {
    const text = `Earlier from ${from.wahaSessionName}`;
    const created = await owner("POST", "/api/v1/campaigns", {
      name: text,
      listId: await listOf(owner, phones),
      text,
      sessionId: from.id,
      scheduledAt: inMs(1500),
      delayMinMs: 0,
      delayMaxMs: 0,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    await untilStatus(owner, created.body.id, "Completed");
  }

  it("a campaign over 3 numbers on two servers completes, each recipient once, each number at its pace", async () => {
    const { owner, a1, a2, b } = await fleet();
    const phones = freshPhones(24);
    const text = `Balanced ${phoneCounter}`;
    const created = await owner("POST", "/api/v1/campaigns", {
      name: "Three numbers",
      listId: await listOf(owner, phones),
      text,
      sessionIds: [a1.id, a2.id, b.id],
      scheduledAt: inMs(1500),
      delayMinMs: DELAY_MIN_MS,
      delayMaxMs: DELAY_MAX_MS,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ sessionId: a1.id, sessionIds: [a1.id, a2.id, b.id], numberAssignment: "balanced", reassignOnDrop: false });

    const done = await untilStatus(owner, created.body.id, "Completed");
    expect(done.counts).toMatchObject({ total: 24, sent: 24, failed: 0 });

    const messages = sentWith(text);
    expect(messages.map((message) => message.chatId).sort()).toEqual(phones.map(chatOf).sort());
    const numbers = await owner("GET", `/api/v1/campaigns/${created.body.id}/numbers`);
    expect(numbers.status).toBe(200);
    for (const number of [a1, a2, b]) {
      const own = messages.filter((message) => message.session === number.wahaSessionName);
      // Every number took part, on its own server only.
      expect(own.length).toBeGreaterThan(0);
      expect(number.fake.messages().filter((message) => message.text === text && message.session === number.wahaSessionName)).toHaveLength(own.length);
      const times = own.map((message) => Date.parse(message.at)).sort((x, y) => x - y);
      for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(DELAY_MIN_MS);
      expect(numbers.body.find((row: { sessionId: string }) => row.sessionId === number.id)).toMatchObject({ sent: own.length, sending: 0 });
    }
  });

  it("acks from every number find their recipient: delivered counts the second number's sends too", async () => {
    // Two numbers on the default fake WAHA, which acks each send by itself (signed webhooks naming the sending session).
    const owner = restClient(app, (await createTestUser(app)).apiKey);
    const numbers = [];
    for (const name of ["First", "Second"]) {
      const created = await owner("POST", "/api/v1/sessions", { name, serverId: null });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      app.fakeWaha.setSessionStatus(created.body.wahaSessionName, "WORKING", { id: `1415556${String(phoneCounter++).padStart(4, "0")}@c.us` });
      numbers.push(created.body as { id: string; wahaSessionName: string });
    }
    const phones = freshPhones(8);
    const text = `Acked ${phoneCounter}`;
    const created = await owner("POST", "/api/v1/campaigns", {
      name: "Acked",
      listId: await listOf(owner, phones),
      text,
      sessionIds: numbers.map((number) => number.id),
      scheduledAt: inMs(1500),
      delayMinMs: 100,
      delayMaxMs: 150,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    await untilStatus(owner, created.body.id, "Completed");
    const sent = app.fakeWaha.messages().filter((message) => message.text === text);
    expect(sent.map((message) => message.chatId).sort()).toEqual(phones.map(chatOf).sort());
    // Both numbers sent (so the second number's acks are part of the count).
    for (const number of numbers) expect(sent.some((message) => message.session === number.wahaSessionName)).toBe(true);
    const delivered = await waitFor(
      "all 8 delivered",
      async () => {
        const answer = await owner("GET", `/api/v1/campaigns/${created.body.id}`);
        return answer.body.counts.delivered === 8 ? answer.body : null;
      },
      { timeoutMs: 15_000, intervalMs: 100 },
    );
    expect(delivered.counts).toMatchObject({ sent: 8, delivered: 8 });
  });

  it("sticky keeps a contact on the number that messaged them before", async () => {
    const { owner, a1, a2, b } = await fleet();
    const [byB, byA2, fresh] = [freshPhones(3), freshPhones(3), freshPhones(6)];
    await history(owner, b, byB);
    await history(owner, a2, byA2);
    const text = `Sticky ${phoneCounter}`;
    const created = await owner("POST", "/api/v1/campaigns", {
      name: "Sticky",
      listId: await listOf(owner, [...fresh, ...byB, ...byA2]),
      text,
      sessionIds: [a1.id, a2.id, b.id],
      numberAssignment: "sticky",
      scheduledAt: inMs(1500),
      delayMinMs: 0,
      delayMaxMs: 0,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    await untilStatus(owner, created.body.id, "Completed");
    const messages = sentWith(text);
    expect(messages).toHaveLength(12);
    const sessionTo = (phone: string) => messages.find((message) => message.chatId === chatOf(phone))?.session;
    for (const phone of byB) expect(sessionTo(phone)).toBe(b.wahaSessionName);
    for (const phone of byA2) expect(sessionTo(phone)).toBe(a2.wahaSessionName);
  });

  for (const reassignOnDrop of [false, true]) {
    it(`a number dropped mid-run ${reassignOnDrop ? "hands its recipients to the others" : "keeps its recipients until it is back"}; nobody gets two messages`, async () => {
      const { owner, a1, a2, b } = await fleet();
      const keptByB = freshPhones(6);
      const pool = freshPhones(8);
      await history(owner, b, keptByB);
      const text = `Drop ${reassignOnDrop} ${phoneCounter}`;
      const created = await owner("POST", "/api/v1/campaigns", {
        name: "Dropping",
        listId: await listOf(owner, [...keptByB, ...pool]),
        text,
        sessionIds: [a1.id, a2.id, b.id],
        numberAssignment: "sticky",
        reassignOnDrop,
        scheduledAt: inMs(1500),
        delayMinMs: DELAY_MIN_MS,
        delayMaxMs: DELAY_MAX_MS,
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);

      // B's first message of this campaign went out: its session stops.
      await waitFor("B to send once", () => sentWith(text).some((message) => message.session === b.wahaSessionName), { timeoutMs: 20_000, intervalMs: 5 });
      fakeB.setSessionStatus(b.wahaSessionName, "STOPPED");
      const sentByBBeforeDrop = sentWith(text).filter((message) => message.session === b.wahaSessionName).length;
      expect(sentByBBeforeDrop).toBeLessThan(keptByB.length);

      if (reassignOnDrop) {
        const done = await untilStatus(owner, created.body.id, "Completed");
        expect(done.counts).toMatchObject({ total: 14, sent: 14 });
      } else {
        const paused = await untilStatus(owner, created.body.id, "Paused");
        expect(paused.pauseReason).toBe("session_not_working");
        // A and the pool are done; B's recipients wait for B.
        const numbers = await owner("GET", `/api/v1/campaigns/${created.body.id}/numbers`);
        expect(numbers.body.find((row: { sessionId: string }) => row.sessionId === b.id).waiting).toBe(keptByB.length - sentByBBeforeDrop);
        const waitingPhones = keptByB.filter((phone) => !sentWith(text).some((message) => message.chatId === chatOf(phone)));
        expect(waitingPhones).toHaveLength(keptByB.length - sentByBBeforeDrop);
        // B is back: the campaign resumes by itself (auto-resume asks WAHA B about B), and B sends them.
        fakeB.setSessionStatus(b.wahaSessionName, "WORKING");
        await untilStatus(owner, created.body.id, "Completed");
        const events = await owner("GET", `/api/v1/campaigns/${created.body.id}/events`);
        expect(events.body.some((event: { kind: string; reason: string }) => event.kind === "resumed" && event.reason === "auto")).toBe(true);
        for (const phone of waitingPhones) {
          expect(sentWith(text).filter((message) => message.chatId === chatOf(phone)).map((message) => message.session)).toEqual([b.wahaSessionName]);
        }
      }
      const messages = sentWith(text);
      expect(messages.map((message) => message.chatId).sort()).toEqual([...keptByB, ...pool].map(chatOf).sort());
      fakeB.setSessionStatus(b.wahaSessionName, "WORKING");
    });
  }

  it("a campaign paused with only a dropped number's unsettled send left waits for that number, not its first one", async () => {
    const { owner, a1, b } = await fleet();
    const phones = freshPhones(2);
    const created = await owner("POST", "/api/v1/campaigns", {
      name: "Unsettled",
      listId: await listOf(owner, phones),
      text: `Unsettled ${phoneCounter}`,
      sessionIds: [a1.id, b.id],
      numberAssignment: "balanced",
      scheduledAt: inMs(3_600_000),
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    // As a run leaves it when B drops mid-send and its send cannot be checked: A sent the first
    // contact, B's message to the second is `sending`, nothing is pending; paused for B, due a check.
    fakeB.setSessionStatus(b.wahaSessionName, "STOPPED");
    const [contactA, contactB] = await Promise.all(
      phones.map(async (phone) => (await app.database.db.select({ id: s.contacts.id }).from(s.contacts).where(eq(s.contacts.phone, phone)))[0]!.id),
    );
    await app.database.db.insert(s.campaignRecipients).values([
      { campaignId: created.body.id, contactId: contactA!, position: 0, phone: phones[0]!, chatId: chatOf(phones[0]!), renderedText: "x", status: "sent", sessionId: a1.id, sentAt: new Date() },
      { campaignId: created.body.id, contactId: contactB!, position: 1, phone: phones[1]!, chatId: chatOf(phones[1]!), renderedText: "x", status: "sending", sessionId: b.id },
    ]);
    await app.database.db
      .update(s.campaigns)
      .set({ status: "Paused", pauseReason: "session_not_working", pausedAt: new Date(), autoResumeAt: new Date(), recipientsMaterializedAt: new Date() })
      .where(eq(s.campaigns.id, created.body.id));

    // Auto-resume (every 200 ms here) asks WAHA B about B and keeps waiting; it never resumes on A's word.
    const checked = await waitFor("auto-resume to ask about B", async () => {
      const answer = await owner("GET", `/api/v1/campaigns/${created.body.id}`);
      return String(answer.body.lastError ?? "").includes(b.wahaSessionName) ? answer.body : null;
    }, { timeoutMs: 10_000, intervalMs: 100 });
    expect(checked).toMatchObject({ status: "Paused", pauseReason: "session_not_working" });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const events = await owner("GET", `/api/v1/campaigns/${created.body.id}/events`);
    expect(events.body.filter((event: { kind: string }) => event.kind === "resumed")).toEqual([]);
    expect((await owner("GET", `/api/v1/campaigns/${created.body.id}`)).body.status).toBe("Paused");
    fakeB.setSessionStatus(b.wahaSessionName, "WORKING");
  });

  it("sessionIds are checked: the workspace's numbers, no duplicates, at most 50, and read back", async () => {
    const { owner, a1, b } = await fleet();
    const stranger = await fleet();
    const listId = await listOf(owner, freshPhones(1));
    const base = { name: "Checked", listId, text: "Hi", scheduledAt: inMs(60_000) };
    const duplicate = await owner("POST", "/api/v1/campaigns", { ...base, sessionIds: [a1.id, a1.id] });
    expect([400, 422]).toContain(duplicate.status);
    expect(duplicate.body.error.message).toMatch(/sessionIds/);
    const foreign = await owner("POST", "/api/v1/campaigns", { ...base, sessionIds: [a1.id, stranger.b.id] });
    expect(foreign.status).toBe(422);
    expect(foreign.body.error.message).toMatch(/sessionIds/);
    const tooMany = await owner("POST", "/api/v1/campaigns", { ...base, sessionIds: Array.from({ length: 51 }, () => crypto.randomUUID()) });
    expect([400, 422]).toContain(tooMany.status);
    expect(tooMany.body.error.message).toMatch(/sessionIds/);
    const badMode = await owner("POST", "/api/v1/campaigns", { ...base, sessionIds: [a1.id], numberAssignment: "random" });
    expect(badMode.status).toBe(400);
    expect(badMode.body.error.message).toMatch(/numberAssignment/);

    const created = await owner("POST", "/api/v1/campaigns", { ...base, sessionIds: [b.id, a1.id], reassignOnDrop: true });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ sessionId: b.id, sessionIds: [b.id, a1.id], reassignOnDrop: true });
    // A single sessionId replaces the set; it reads back as one number.
    const single = await owner("PATCH", `/api/v1/campaigns/${created.body.id}`, { sessionId: a1.id });
    expect(single.status, JSON.stringify(single.body)).toBe(200);
    expect(single.body).toMatchObject({ sessionId: a1.id, sessionIds: [a1.id] });
    // A number in use by a campaign cannot be deleted.
    const again = await owner("PATCH", `/api/v1/campaigns/${created.body.id}`, { sessionIds: [a1.id, b.id] });
    expect(again.body.sessionIds).toEqual([a1.id, b.id]);
    expect((await owner("DELETE", `/api/v1/sessions/${b.id}`)).status).toBe(409);
    expect((await owner("DELETE", `/api/v1/campaigns/${created.body.id}`)).status).toBe(204);
  });
});
