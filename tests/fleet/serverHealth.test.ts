import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeWaha, type FakeWaha } from "../../tools/fake-waha/server";
import { createTestUser, startTestApp, type TestApp } from "../helpers/app";
import { backends } from "../helpers/db";
import { waitFor } from "../helpers/waitFor";
import { inMs, restClient } from "../rest/helpers";

/**
 * Issue 15: a number's state follows its WAHA server's health. While the server is unreachable its
 * numbers read "server unreachable" (their last WAHA status kept) and the campaigns running on them
 * pause as waha_unavailable (not a failed send among them); when the server answers again they resume
 * by themselves, asked through that server's client, and every recipient gets the message once.
 * Judged over REST and by the messages the fake WAHA server received.
 */

const KEY_A = "server-a-secret-key-0001";
const RECIPIENTS = 8;

describe.each(backends)("[%s] a WAHA server going away and coming back", (kind) => {
  let app: TestApp;
  let fakeA: FakeWaha;

  beforeAll(async () => {
    fakeA = await startFakeWaha({ port: 0, apiKey: KEY_A });
    // The auto-resume path runs as in the web process (its ticks fast); the health timer is the test's to drive.
    app = await startTestApp(kind, {}, { autoResume: true, autoResumeTickMs: 100 });
  });
  afterAll(async () => {
    await app?.close();
    await fakeA?.close();
  });

  it("numbers read 'server unreachable', their campaign pauses as waha_unavailable, and resumes by itself to send each recipient once", async () => {
    const owner = restClient(app, (await createTestUser(app)).apiKey);
    const server = await owner("POST", "/api/v1/waha-servers", { name: "WAHA A", url: fakeA.url, apiKey: KEY_A });
    expect(server.body.health).toBe("healthy");
    const number = await owner("POST", "/api/v1/sessions", { name: "On A", serverId: server.body.id });
    expect(number.status).toBe(201);
    const wahaName = number.body.wahaSessionName as string;
    fakeA.setSessionStatus(wahaName, "WORKING", { id: "14155550120@c.us" });
    expect((await owner("GET", `/api/v1/sessions/${number.body.id}`)).body).toMatchObject({ status: "WORKING", serverHealth: "healthy", statusText: null });

    const list = await owner("POST", "/api/v1/lists", { name: "Eight" });
    const phones = Array.from({ length: RECIPIENTS }, (_, i) => `+49151234502${String(i).padStart(2, "0")}`);
    await owner("POST", `/api/v1/lists/${list.body.id}/contacts`, phones.map((phone) => ({ phone })));
    const campaign = await owner("POST", "/api/v1/campaigns", {
      name: "Through an outage",
      listId: list.body.id,
      text: "Hello",
      sessionId: number.body.id,
      scheduledAt: inMs(1500),
      delayMinMs: 400,
      delayMaxMs: 500,
    });
    expect(campaign.status, JSON.stringify(campaign.body)).toBe(201);
    const sentOnA = () => fakeA.messages().filter((message) => message.session === wahaName);
    await waitFor("two messages sent through server A", () => sentOnA().length >= 2, { timeoutMs: 20_000 });

    await fakeA.stopServing();
    await app.services.wahaServers.checkAll(); // the health timer's pass

    const paused = await waitFor(
      "the campaign paused for the outage",
      async () => {
        const answer = await owner("GET", `/api/v1/campaigns/${campaign.body.id}`);
        return answer.body.status === "Paused" ? answer.body : null;
      },
      { timeoutMs: 10_000, intervalMs: 50 },
    );
    expect(paused.pauseReason).toBe("waha_unavailable");
    expect(paused.counts.failed).toBe(0);

    // The server's state on the servers list, the number's on the numbers list: its last status kept.
    const seen = (await owner("GET", `/api/v1/waha-servers/${server.body.id}`)).body;
    expect(seen.health).toBe("unreachable");
    expect(seen.healthDetail).toBeTruthy();
    expect(seen.healthCheckedAt).toBeTruthy();
    const numbers = (await owner("GET", "/api/v1/sessions")).body.items;
    expect(numbers).toEqual([expect.objectContaining({ id: number.body.id, status: "WORKING", serverHealth: "unreachable", statusText: "server unreachable" })]);

    // Still down at the next check: still paused, nothing failed.
    await app.services.wahaServers.checkAll();
    const sentBeforeReturn = sentOnA().length;
    expect((await owner("GET", `/api/v1/campaigns/${campaign.body.id}`)).body).toMatchObject({ status: "Paused", counts: { failed: 0 } });

    await fakeA.serveAgain();
    await app.services.wahaServers.checkAll();
    expect((await owner("GET", `/api/v1/sessions/${number.body.id}`)).body).toMatchObject({ status: "WORKING", serverHealth: "healthy", statusText: null });

    const done = await waitFor(
      "the campaign resumed by itself and completed",
      async () => {
        const answer = await owner("GET", `/api/v1/campaigns/${campaign.body.id}`);
        return answer.body.status === "Completed" ? answer.body : null;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    expect(done.counts).toMatchObject({ total: RECIPIENTS, sent: RECIPIENTS, failed: 0 });
    const chats = sentOnA().map((message) => message.chatId);
    expect(chats.length).toBeGreaterThan(sentBeforeReturn);
    expect(chats).toHaveLength(RECIPIENTS);
    expect(new Set(chats).size).toBe(RECIPIENTS);
    // Nothing went to the default server for this number.
    expect(app.fakeWaha.messages().filter((message) => message.session === wahaName)).toEqual([]);

    const history = (await owner("GET", `/api/v1/campaigns/${campaign.body.id}/events`)).body;
    const kinds = (history.items ?? history).map((event: { kind: string; reason: string | null }) => `${event.kind}:${event.reason}`);
    expect(kinds).toContain("paused:waha_unavailable");
    expect(kinds).toContain("resumed:auto");
  });

  it("a campaign's test send from a number on server A goes through server A", async () => {
    const user = await createTestUser(app);
    const owner = restClient(app, user.apiKey);
    const server = await owner("POST", "/api/v1/waha-servers", { name: "WAHA A", url: fakeA.url, apiKey: KEY_A });
    const number = await owner("POST", "/api/v1/sessions", { name: "Tester on A", serverId: server.body.id });
    fakeA.setSessionStatus(number.body.wahaSessionName, "WORKING", { id: "14155550121@c.us" });
    const list = await owner("POST", "/api/v1/lists", { name: "One" });
    await owner("POST", `/api/v1/lists/${list.body.id}/contacts`, [{ phone: "+4915123450300" }]);
    const campaign = await owner("POST", "/api/v1/campaigns", {
      name: "Tested",
      listId: list.body.id,
      text: "Test me",
      sessionId: number.body.id,
      scheduledAt: inMs(3_600_000),
    });
    expect(campaign.status, JSON.stringify(campaign.body)).toBe(201);
    await user.trpc.campaign.sendTest({ id: campaign.body.id, phone: "+4915123450399" });
    const onA = fakeA.messages().filter((message) => message.session === number.body.wahaSessionName);
    expect(onA.map((message) => [message.chatId, message.text])).toEqual([["4915123450399@c.us", "Test me"]]);
    expect(app.fakeWaha.messages().filter((message) => message.session === number.body.wahaSessionName)).toEqual([]);
  });
});
