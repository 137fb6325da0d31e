/**
 * The SSRF guard: a webhook URL that is, or resolves to, a loopback, private, link-local or other
 * non-public address is a 400 naming the address (unless WEBHOOK_ALLOW_PRIVATE=true), and so is a
 * scheme other than http(s). At delivery time the same check runs in the connection's own lookup.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertDeliverableUrl, privateAddressReason } from "~/server/services/outgoingWebhooks/addressPolicy";
import { postWebhook } from "~/server/services/outgoingWebhooks/post";
import { createTestUser, startTestApp, type TestApp } from "../helpers/app";
import { createReceiver } from "./receiver";

describe("[pglite] outgoing webhooks: SSRF", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp("pglite");
  });
  afterAll(async () => {
    await app?.close();
  });

  it.each([
    ["http://127.0.0.1:8080/hook", /127\.0\.0\.1/],
    ["http://10.1.2.3/hook", /10\.1\.2\.3/],
    ["http://169.254.169.254/latest/meta-data", /169\.254\.169\.254/],
    ["http://[::1]:3000/hook", /::1/],
    ["http://[::ffff:127.0.0.1]/hook", /127\.0\.0\.1/],
    ["http://[fd00::1]/hook", /fd00::1/],
    ["http://192.168.1.10/hook", /192\.168\.1\.10/],
    ["http://0.0.0.0/hook", /0\.0\.0\.0/],
    ["http://localhost:3000/hook", /localhost resolves to/],
    ["ftp://example.com/hook", /http/],
    ["not a url", /absolute http/],
  ])("POST /api/v1/webhooks with %s is a 400 naming why", async (url, message) => {
    const user = await createTestUser(app);
    const response = await fetch(`${app.url}/api/v1/webhooks`, {
      method: "POST",
      headers: { authorization: `Bearer ${user.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ url, events: ["recipient.sent"] }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { code: string; message: string; field?: string } };
    expect(body.error.field).toBe("url");
    expect(body.error.message).toMatch(message);
    expect((await user.trpc.webhook.list()).length).toBe(0);
  });

  it("a public address is accepted, an unknown event is a 400, the secret is shown once", async () => {
    const user = await createTestUser(app);
    const post = (body: unknown) =>
      fetch(`${app.url}/api/v1/webhooks`, {
        method: "POST",
        headers: { authorization: `Bearer ${user.apiKey}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const unknownEvent = await post({ url: "https://93.184.215.14/hook", events: ["recipient.exploded"] });
    expect(unknownEvent.status).toBe(400);
    const created = await post({ url: "https://93.184.215.14/hook", events: ["recipient.sent", "campaign.completed"] });
    expect(created.status).toBe(201);
    const body = (await created.json()) as { id: string; secret: string; events: string[] };
    expect(body.events).toEqual(["recipient.sent", "campaign.completed"]);
    expect(JSON.stringify(await user.trpc.webhook.list())).not.toContain(body.secret);
  });

  it("classifies addresses: private ones in every notation, public ones not", () => {
    for (const address of ["127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.0.1", "169.254.169.254", "100.64.0.1", "224.0.0.1", "0.0.0.0", "::1", "::", "fe80::1", "fc00::1", "ff02::1", "::ffff:10.0.0.1", "::ffff:7f00:1", "64:ff9b::a00:1"]) {
      expect(privateAddressReason(address), address).not.toBeNull();
    }
    for (const address of ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"]) {
      expect(privateAddressReason(address), address).toBeNull();
    }
  });

  it("a host whose DNS answers a private address is refused; WEBHOOK_ALLOW_PRIVATE lets it through", async () => {
    const rebinding = async () => [{ address: "93.184.215.14", family: 4 }, { address: "10.0.0.7", family: 4 }];
    await expect(assertDeliverableUrl(new URL("https://hooks.example.com/x"), { allowPrivate: false, resolve: rebinding })).rejects.toThrow(/10\.0\.0\.7/);
    await expect(assertDeliverableUrl(new URL("https://hooks.example.com/x"), { allowPrivate: true, resolve: rebinding })).resolves.toBeUndefined();
  });

  it("at delivery time too: a loopback receiver is not called unless private addresses are allowed", async () => {
    const receiver = await createReceiver();
    await receiver.start();
    try {
      const byName = receiver.url.replace("127.0.0.1", "localhost");
      const refusedByName = await postWebhook(byName, "{}", {}, { timeoutMs: 2_000, allowPrivate: false });
      const refusedByAddress = await postWebhook(receiver.url, "{}", {}, { timeoutMs: 2_000, allowPrivate: false });
      expect(refusedByName).toMatchObject({ ok: false, status: null });
      expect(refusedByAddress).toMatchObject({ ok: false, status: null });
      expect(receiver.received).toHaveLength(0);
      expect(await postWebhook(receiver.url, "{}", {}, { timeoutMs: 2_000, allowPrivate: true })).toEqual({ ok: true, status: 200 });
      // By name, through the guarded lookup, when private addresses are allowed.
      expect(await postWebhook(byName, "{}", {}, { timeoutMs: 2_000, allowPrivate: true })).toEqual({ ok: true, status: 200 });
      expect(receiver.received).toHaveLength(2);
    } finally {
      await receiver.stop();
    }
  });
});
