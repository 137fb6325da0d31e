/**
 * Template images (issue 16): a template may carry an image; a campaign using it sends that image
 * with each message unless the campaign gives its own `mediaId` (the override). The image is fixed
 * on the campaign when it starts, like its texts; an image a template shows cannot be deleted.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backends } from "../helpers/db";
import { createTestUser, startTestApp, type TestApp } from "../helpers/app";
import { waitFor } from "../helpers/waitFor";
import { inMs, type Json, restClient, type RestClient } from "./helpers";

/** The smallest PNG header the media library recognises (as in resources.test.ts). */
const PNG = Buffer.from("89504e470d0a1a0a0000000d4948445200000001000000010806000000", "hex");

describe.each(backends)("[%s] template images", (kind) => {
  let app: TestApp;
  let apiKey: string;
  let api: RestClient;
  let stranger: RestClient;
  let listId: string;
  let sessionName: string;

  const upload = async (key: string, filename: string) => {
    const response = await fetch(`${app.url}/api/v1/media?filename=${filename}`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "image/png" },
      body: new Uint8Array(PNG),
    });
    return (await response.json()) as Json;
  };

  const runToCompletion = async (body: Record<string, unknown>) => {
    const created = await api("POST", "/api/v1/campaigns", { listId, scheduledAt: inMs(1200), delayMinMs: 0, delayMaxMs: 0, ...body });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return waitFor(
      "the campaign to complete",
      async () => {
        const campaign = await api("GET", `/api/v1/campaigns/${created.body.id}`);
        return campaign.body.status === "Completed" ? campaign.body : null;
      },
      { timeoutMs: 20_000, intervalMs: 200 },
    );
  };

  beforeAll(async () => {
    app = await startTestApp(kind, { WAHA_URL: "" });
    apiKey = (await createTestUser(app)).apiKey;
    api = restClient(app, apiKey);
    stranger = restClient(app, (await createTestUser(app)).apiKey);
    const session = await api("POST", "/api/v1/sessions", { name: "Main" });
    sessionName = session.body.wahaSessionName;
    await api("POST", `/api/v1/sessions/${session.body.id}/simulate-scan`);
    listId = (await api("POST", "/api/v1/lists", { name: "Images" })).body.id;
    await api("POST", `/api/v1/lists/${listId}/contacts`, [{ phone: "+4915123460001", first_name: "Ada" }]);
  });
  afterAll(async () => {
    await app?.close();
  });

  it("sends the template's image, and a campaign's own image instead when it has one", async () => {
    const templateImage = await upload(apiKey, "template.png");
    const ownImage = await upload(apiKey, "own.png");
    const template = await api("POST", "/api/v1/templates", { name: "With image", body: "Hi {{first_name}}!", mediaId: templateImage.id });
    expect(template.status, JSON.stringify(template.body)).toBe(201);
    expect(template.body.mediaId).toBe(templateImage.id);

    const before = app.services.fakeWaha!.messages().length;
    const viaTemplate = await runToCompletion({ name: "Template image", templateId: template.body.id });
    expect(viaTemplate.counts).toMatchObject({ sent: 1 });
    // Fixed on the campaign when it started.
    expect(viaTemplate.mediaId).toBe(templateImage.id);
    const overridden = await runToCompletion({ name: "Own image", templateId: template.body.id, mediaId: ownImage.id });
    expect(overridden.counts).toMatchObject({ sent: 1 });

    const sent = app.services.fakeWaha!.messages().slice(before);
    expect(sent.map((m) => ({ session: m.session, hasFile: m.hasFile, fileName: m.fileName, caption: m.caption }))).toEqual([
      { session: sessionName, hasFile: true, fileName: "template.png", caption: "Hi Ada!" },
      { session: sessionName, hasFile: true, fileName: "own.png", caption: "Hi Ada!" },
    ]);

    // Taking the image off the template: a text message again.
    const cleared = await api("PATCH", `/api/v1/templates/${template.body.id}`, { mediaId: null });
    expect(cleared.body.mediaId).toBeNull();
    await runToCompletion({ name: "No image", templateId: template.body.id });
    const last = app.services.fakeWaha!.messages().at(-1)!;
    expect(last).toMatchObject({ hasFile: false, text: "Hi Ada!" });
  });

  it("refuses another workspace's image on a template, and deleting an image a template shows", async () => {
    const theirs = await upload((await createTestUser(app)).apiKey, "theirs.png");
    const foreign = await api("POST", "/api/v1/templates", { name: "Foreign", body: "Hello", mediaId: theirs.id });
    expect(foreign.status).toBe(422);
    expect(foreign.body.error).toMatchObject({ field: "mediaId" });
    const notUuid = await api("POST", "/api/v1/templates", { name: "Bad", body: "Hello", mediaId: "nope" });
    expect(notUuid.status).toBe(400);

    const image = await upload(apiKey, "kept.png");
    const template = await api("POST", "/api/v1/templates", { name: "Keeps it", body: "Hello", mediaId: image.id });
    const refused = await api("DELETE", `/api/v1/media/${image.id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toBe('Template "Keeps it" shows this image: remove it from the template first');
    expect((await stranger("GET", `/api/v1/templates/${template.body.id}`)).status).toBe(404);
    const cleared = await api("PATCH", `/api/v1/templates/${template.body.id}`, { mediaId: null });
    expect(cleared.status, JSON.stringify(cleared.body)).toBe(200);
    const deleted = await api("DELETE", `/api/v1/media/${image.id}`);
    expect(deleted.status, JSON.stringify(deleted.body)).toBe(204);
  });
});
