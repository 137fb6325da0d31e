/**
 * DELETE for lists, templates, numbers and images (409 while a campaign that still needs one uses
 * it), and the media routes: upload an image as the raw body, list the library, delete.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { backends } from "../helpers/db";
import { createTestUser, startTestApp, type TestApp } from "../helpers/app";
import { inMs, type Json, restClient, type RestClient } from "./helpers";

function expectError(answer: { status: number; body: Json }, status: number, code: string, field?: string) {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  expect(answer.body).toEqual({ error: { code, message: expect.any(String), ...(field ? { field } : {}) } });
}

/** The smallest PNG header the media library recognises (it checks the bytes, not the name). */
const PNG = Buffer.from("89504e470d0a1a0a0000000d4948445200000001000000010806000000", "hex");

async function upload(app: TestApp, apiKey: string, bytes: Buffer, contentType: string, query = "") {
  const response = await fetch(`${app.url}/api/v1/media${query}`, {
    method: "POST",
    headers: { authorization: `Bearer ${apiKey}`, "content-type": contentType },
    body: new Uint8Array(bytes),
  });
  return { status: response.status, body: (await response.json()) as Json };
}

describe.each(backends)("[%s] REST v1 deletes and media", (kind) => {
  let app: TestApp;
  let alice: RestClient;
  let bob: RestClient;
  let aliceKey: string;

  beforeAll(async () => {
    app = await startTestApp(kind);
  });
  beforeEach(async () => {
    const a = await createTestUser(app);
    aliceKey = a.apiKey;
    alice = restClient(app, a.apiKey);
    bob = restClient(app, (await createTestUser(app)).apiKey);
  });
  afterAll(async () => {
    await app?.close();
  });

  /** A number, a list of one, a template and an image, and a campaign using them all, an hour ahead. */
  async function campaignUsingEverything() {
    const session = await alice("POST", "/api/v1/sessions", { name: "Sales" });
    const list = await alice("POST", "/api/v1/lists", { name: "Customers" });
    await alice("POST", `/api/v1/lists/${list.body.id}/contacts`, [{ phone: "+4915123456731" }]);
    const template = await alice("POST", "/api/v1/templates", { name: "Welcome", body: "Hi {{first_name|there}}" });
    const image = await upload(app, aliceKey, PNG, "image/png", "?filename=logo.png");
    const campaign = await alice("POST", "/api/v1/campaigns", {
      name: "Spring sale",
      listId: list.body.id,
      templateId: template.body.id,
      mediaId: image.body.id,
      sessionId: session.body.id,
      scheduledAt: inMs(3600_000),
    });
    expect(campaign.status, JSON.stringify(campaign.body)).toBe(201);
    return { session: session.body, list: list.body.id as string, template: template.body.id as string, image: image.body.id as string, campaign: campaign.body.id as string };
  }

  it("POST /media takes the image as the body (201), GET /media pages the library, DELETE /media/{id} removes it", async () => {
    const created = await upload(app, aliceKey, PNG, "image/png", "?filename=logo.png");
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toEqual({ id: expect.any(String), filename: "logo.png", mimetype: "image/png", sizeBytes: PNG.length, createdAt: expect.any(String) });
    const unnamed = await upload(app, aliceKey, PNG, "image/png");
    expect(unnamed.body.filename).toBe("upload.png");
    const page = await alice("GET", "/api/v1/media?limit=1");
    expect(page.status).toBe(200);
    expect(page.body.items.map((item: Json) => item.id)).toEqual([unnamed.body.id]);
    const next = await alice("GET", `/api/v1/media?limit=1&cursor=${page.body.nextCursor}`);
    expect(next.body).toEqual({ items: [expect.objectContaining({ id: created.body.id })], nextCursor: null });
    expect((await bob("GET", "/api/v1/media")).body).toEqual({ items: [], nextCursor: null });
    expectError(await bob("DELETE", `/api/v1/media/${created.body.id}`), 404, "not_found");
    expect((await alice("DELETE", `/api/v1/media/${created.body.id}`)).status).toBe(204);
    expect((await alice("GET", "/api/v1/media")).body.items.map((item: Json) => item.id)).toEqual([unnamed.body.id]);
  });

  it("POST /media refuses what is not an image: 422 for other bytes, 400 for a JSON or form body, 400 for an empty one", async () => {
    expectError(await upload(app, aliceKey, Buffer.from("GIF89a not supported"), "image/gif"), 422, "unprocessable", "file");
    expectError(await upload(app, aliceKey, Buffer.from('{"dataBase64":"AAAA"}'), "application/json"), 400, "bad_request");
    expectError(await upload(app, aliceKey, Buffer.from("--x\r\n"), "multipart/form-data; boundary=x"), 400, "bad_request");
    expectError(await upload(app, aliceKey, Buffer.alloc(0), "image/png"), 400, "bad_request");
    expectError(await upload(app, aliceKey, PNG, "image/png", "?filename="), 400, "bad_request", "filename");
    expect((await alice("GET", "/api/v1/media")).body.items).toEqual([]);
  });

  it("DELETE lists, templates, numbers and images: 409 while a campaign that has not ended uses them, 204 once it has gone", async () => {
    const ids = await campaignUsingEverything();
    expectError(await alice("DELETE", `/api/v1/lists/${ids.list}`), 409, "conflict");
    expectError(await alice("DELETE", `/api/v1/templates/${ids.template}`), 409, "conflict");
    expectError(await alice("DELETE", `/api/v1/sessions/${ids.session.id}`), 409, "conflict");
    expectError(await alice("DELETE", `/api/v1/media/${ids.image}`), 409, "conflict");
    for (const path of [`/lists/${ids.list}`, `/templates/${ids.template}`, `/sessions/${ids.session.id}`, `/media/${ids.image}`]) {
      expectError(await bob("DELETE", `/api/v1${path}`), 404, "not_found");
    }
    expect((await alice("GET", `/api/v1/lists/${ids.list}`)).status).toBe(200);

    // Cancelled: the list, template and image may go; the number still names the campaign's history.
    expect((await alice("POST", `/api/v1/campaigns/${ids.campaign}/cancel`)).status).toBe(200);
    expect((await alice("DELETE", `/api/v1/lists/${ids.list}`)).status).toBe(204);
    expect((await alice("DELETE", `/api/v1/templates/${ids.template}`)).status).toBe(204);
    expect((await alice("DELETE", `/api/v1/media/${ids.image}`)).status).toBe(204);
    expectError(await alice("GET", `/api/v1/lists/${ids.list}`), 404, "not_found");
    expectError(await alice("GET", `/api/v1/templates/${ids.template}`), 404, "not_found");
    const kept = await alice("DELETE", `/api/v1/sessions/${ids.session.id}`);
    expectError(kept, 409, "conflict");
    expect(kept.body.error.message).toMatch(/finished campaign\(s\) were sent from this number: delete them first/);

    // Once the campaign is deleted, the number goes too, and its WAHA session with it.
    expect((await alice("DELETE", `/api/v1/campaigns/${ids.campaign}`)).status).toBe(204);
    expect(app.fakeWaha.sessionStatus(ids.session.wahaSessionName)).toBeDefined();
    expect((await alice("DELETE", `/api/v1/sessions/${ids.session.id}`)).status).toBe(204);
    expectError(await alice("GET", `/api/v1/sessions/${ids.session.id}`), 404, "not_found");
    const calls = app.fakeWaha.calls().filter((call) => call.session === ids.session.wahaSessionName);
    expect(calls.at(-1)).toMatchObject({ method: "DELETE", path: `/api/sessions/${ids.session.wahaSessionName}` });
    expect(app.fakeWaha.sessionStatus(ids.session.wahaSessionName)).toBeUndefined();
  });

  it("a method a path does not answer is 405 with Allow; HEAD answers as GET, without a body", async () => {
    const list = await alice("POST", "/api/v1/lists", { name: "Methods" });
    const put = await alice("PUT", `/api/v1/lists/${list.body.id}`, { name: "x" });
    expectError(put, 405, "method_not_allowed");
    expect(put.headers.get("allow")).toBe("GET, DELETE");
    const head = await fetch(`${app.url}/api/v1/lists/${list.body.id}`, { method: "HEAD", headers: { authorization: `Bearer ${aliceKey}` } });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await head.text()).toBe("");
    expect((await fetch(`${app.url}/api/v1/lists/${list.body.id}`, { method: "HEAD" })).status).toBe(401);
  });

  it("DELETE on a number WAHA no longer has still deletes it; a second DELETE is 404", async () => {
    const session = await alice("POST", "/api/v1/sessions", { name: "Gone" });
    app.fakeWaha.reset({ sessions: true });
    expect((await alice("DELETE", `/api/v1/sessions/${session.body.id}`)).status).toBe(204);
    expectError(await alice("DELETE", `/api/v1/sessions/${session.body.id}`), 404, "not_found");
    expectError(await alice("DELETE", "/api/v1/sessions/nope"), 400, "bad_request", "id");
  });
});
