/**
 * The safe-sending surfaces over REST (issue 13): a number's policy (safe defaults at creation,
 * PATCH /api/v1/sessions/{id}, unknown fields 400, bad values 4xx naming the field) and a campaign's
 * sendWindow / batchSize / batchPauseMs / latestStart (stored, read back, validated with clear messages).
 * The engine's behaviour (what is sent, when) is proven in the *.integration tests beside this file.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { backends } from "../helpers/db";
import { createTestUser, startTestApp, type TestApp } from "../helpers/app";
import { inMs, type Json, restClient, type RestClient } from "../rest/helpers";

function expectError(answer: { status: number; body: Json }, status: number, field: string | null, words: string) {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  if (field) expect(answer.body.error.field).toBe(field);
  expect(answer.body.error.message).toContain(words);
}

describe.each(backends)("[%s] safe-sending settings over REST", (kind) => {
  let app: TestApp;
  let alice: RestClient;
  let bob: RestClient;

  beforeAll(async () => {
    app = await startTestApp(kind);
  });
  beforeEach(async () => {
    alice = restClient(app, (await createTestUser(app)).apiKey);
    bob = restClient(app, (await createTestUser(app)).apiKey);
  });
  afterAll(async () => {
    await app?.close();
  });

  async function createNumber(body: Json = { name: "Sales" }): Promise<Json> {
    const created = await alice("POST", "/api/v1/sessions", body);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return created.body;
  }

  async function campaignInput(): Promise<Json> {
    await createNumber();
    const list = await alice("POST", "/api/v1/lists", { name: "Customers" });
    await alice("POST", `/api/v1/lists/${list.body.id}/contacts`, [{ phone: "+4915123456731" }]);
    return { name: "Spring", listId: list.body.id, text: "Hello", scheduledAt: inMs(3_600_000), delayMinMs: 0, delayMaxMs: 0 };
  }

  it("a number created by a person starts with the safe defaults and shows its warm-up", async () => {
    const number = await createNumber();
    expect(number).toMatchObject({
      timeZone: "UTC",
      dailyLimit: 200,
      hourlyLimit: 80,
      warmup: true,
      typing: true,
      checkExists: true,
      maxConsecutiveFailures: 5,
      todayLimit: 20,
      warmupSchedule: [20, 40, 80, 150, 200],
      firstSentAt: null,
      restrictedUntil: null,
    });
    const created = await createNumber({ name: "Support", timeZone: "Asia/Kolkata" });
    expect(created.timeZone).toBe("Asia/Kolkata");
  });

  it("PATCH changes any part of the policy, reads back the same, and GET agrees", async () => {
    const number = await createNumber();
    const patched = await alice("PATCH", `/api/v1/sessions/${number.id}`, {
      dailyLimit: 40,
      hourlyLimit: null,
      timeZone: "America/Sao_Paulo",
      typing: false,
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body).toMatchObject({
      id: number.id,
      dailyLimit: 40,
      hourlyLimit: null,
      timeZone: "America/Sao_Paulo",
      typing: false,
      warmup: true,
      checkExists: true,
      warmupSchedule: [20, 40],
      todayLimit: 20,
    });
    const warmupOff = await alice("PATCH", `/api/v1/sessions/${number.id}`, { warmup: false });
    expect(warmupOff.body).toMatchObject({ warmup: false, warmupSchedule: null, todayLimit: 40 });
    const read = await alice("GET", `/api/v1/sessions/${number.id}`);
    expect(read.body).toMatchObject({ dailyLimit: 40, hourlyLimit: null, timeZone: "America/Sao_Paulo", warmup: false, typing: false });
  });

  it("refuses unknown and read-only fields with 400, and bad values naming the field", async () => {
    const number = await createNumber();
    const path = `/api/v1/sessions/${number.id}`;
    expectError(await alice("PATCH", path, { dailyLimt: 10 }), 400, null, "dailyLimt");
    expectError(await alice("PATCH", path, { todayLimit: 10 }), 400, null, "dailyLimit");
    expectError(await alice("PATCH", path, { status: "WORKING" }), 400, null, "status");
    expectError(await alice("PATCH", path, { dailyLimit: 0 }), 400, "dailyLimit", "at least 1");
    expectError(await alice("PATCH", path, { hourlyLimit: 2.5 }), 400, "hourlyLimit", "whole number");
    expectError(await alice("PATCH", path, { timeZone: "Berlin" }), 400, "timeZone", "IANA");
    expectError(await alice("PATCH", path, { warmup: "yes" }), 400, "warmup", "");
    // Nothing of it was stored.
    expect((await alice("GET", path)).body).toMatchObject({ dailyLimit: 200, hourlyLimit: 80, timeZone: "UTC", warmup: true });
  });

  it("another workspace's number is 404 and stays as it was", async () => {
    const number = await createNumber();
    const answer = await bob("PATCH", `/api/v1/sessions/${number.id}`, { dailyLimit: 1 });
    expect(answer.status).toBe(404);
    expect((await alice("GET", `/api/v1/sessions/${number.id}`)).body.dailyLimit).toBe(200);
  });

  it("a campaign stores its send window, batches and latest start, and PATCH changes them", async () => {
    const input = await campaignInput();
    const latestStart = new Date(Date.now() + 2 * 3_600_000).toISOString();
    const sendWindow = { start: "22:00", end: "06:00", timeZone: "Europe/Berlin", days: [1, 2, 3, 4, 5], recipientLocal: true };
    const created = await alice("POST", "/api/v1/campaigns", { ...input, sendWindow, batchSize: 50, batchPauseMs: 600_000, latestStart });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ sendWindow, batchSize: 50, batchPauseMs: 600_000, latestStart, missedReason: null });

    const patched = await alice("PATCH", `/api/v1/campaigns/${created.body.id}`, { sendWindow: null, batchSize: null, batchPauseMs: null });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body).toMatchObject({ sendWindow: null, batchSize: null, batchPauseMs: null, latestStart });
    expect((await alice("GET", `/api/v1/campaigns/${created.body.id}`)).body.sendWindow).toBeNull();
  });

  it("refuses bad campaign options with a message that says what to fix", async () => {
    const input = await campaignInput();
    const post = (extra: Json) => alice("POST", "/api/v1/campaigns", { ...input, ...extra });
    const window = { start: "09:00", end: "20:00", timeZone: "Europe/Berlin" };
    expectError(await post({ sendWindow: { ...window, start: "9am" } }), 400, "sendWindow.start", "HH:MM");
    expectError(await post({ sendWindow: { ...window, timeZone: "Mars/Base" } }), 400, "sendWindow.timeZone", "IANA");
    expectError(await post({ sendWindow: { ...window, days: [0, 8] } }), 400, null, "ISO weekdays");
    expectError(await post({ sendWindow: { ...window, end: "09:00" } }), 400, null, "must differ");
    expectError(await post({ sendWindow: { ...window, colour: "red" } }), 400, null, "colour");
    expectError(await post({ batchSize: 50 }), 422, "batchPauseMs", "together");
    expectError(await post({ batchPauseMs: 60_000 }), 422, "batchSize", "together");
    expectError(await post({ batchSize: 0, batchPauseMs: 60_000 }), 400, "batchSize", "at least 1");
    expectError(await post({ batchSize: 10, batchPauseMs: 10 }), 400, "batchPauseMs", "at least 1000");
    expectError(await post({ latestStart: inMs(60_000) }), 422, "latestStart", "scheduledAt");
    expectError(await post({ latestStart: "tomorrow" }), 400, "latestStart", "ISO-8601");
    expectError(await post({ waitingReason: "daily_limit" }), 400, null, "read-only");
    // None of them was created.
    expect((await alice("GET", "/api/v1/campaigns")).body.items).toEqual([]);
  });

  it("the OpenAPI document describes the policy route and the new fields", async () => {
    const doc = (await alice("GET", "/api/v1/openapi.json")).body;
    const resolve = (schema: Json): Json => (schema.$ref ? doc.components.schemas[schema.$ref.split("/").pop()] : schema);
    const patch = doc.paths["/api/v1/sessions/{id}"].patch;
    expect(patch.operationId).toBe("updateSession");
    const body = resolve(patch.requestBody.content["application/json"].schema);
    expect(Object.keys(body.properties)).toEqual(
      expect.arrayContaining(["timeZone", "dailyLimit", "hourlyLimit", "warmup", "typing", "checkExists", "maxConsecutiveFailures"]),
    );
    const create = resolve(doc.paths["/api/v1/campaigns"].post.requestBody.content["application/json"].schema);
    expect(Object.keys(create.properties)).toEqual(expect.arrayContaining(["sendWindow", "batchSize", "batchPauseMs", "latestStart"]));
    expect(Object.keys(doc.components.schemas.Session.properties)).toEqual(expect.arrayContaining(["dailyLimit", "warmupSchedule", "todayLimit"]));
  });
});
