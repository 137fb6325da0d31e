/**
 * Issue 12, part A: request limits and transport. Each attack of the issue is sent to a running
 * app; the tests assert what the attacker sees (status, body, headers), that the server's memory
 * stays bounded, and that nothing was written (rows in the database).
 */
import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authSessions, mediaItems, users } from "~/server/db/schema";
import { jsonNestingExceeds } from "~/server/http/jsonDepth";
import { createHttpServer } from "~/server/http/server";
import { createTestUser, startTestApp, type TestApp } from "../helpers/app";
import { backends } from "../helpers/db";
import {
  type AppProcess,
  deeplyNestedJson,
  rawRequest,
  type RawAnswer,
  residentBytes,
  startAppProcess,
  streamLargeBody,
  trpcMutation,
} from "./transportHelpers";

const MB = 1024 * 1024;
const PASSWORD = "correct horse battery";
const MALFORMED_COOKIE = "wc_session=%E0%A4%A";

function expectRefusal(answer: { status: number | null; json?: unknown; body?: string }, status: number, code: string) {
  // A raw answer's body is parsed only after its status is checked: an empty or cut body then fails
  // with what the client got, not with a bare JSON SyntaxError.
  const got = "json" in answer ? JSON.stringify(answer.json) : JSON.stringify(answer.body);
  expect(answer.status, got).toBe(status);
  expect("json" in answer || answer.body !== "", `status ${answer.status} came with an empty body`).toBe(true);
  const body = "json" in answer ? answer.json : JSON.parse(answer.body ?? "null");
  expect(body).toEqual({ error: { code, message: expect.any(String) } });
}

describe("the nesting depth of JSON text", () => {
  it("counts arrays and objects, not brackets inside strings or escaped quotes", () => {
    expect(jsonNestingExceeds(deeplyNestedJson(32), 32)).toBe(false);
    expect(jsonNestingExceeds(deeplyNestedJson(33), 32)).toBe(true);
    // Five levels: { { [ { [
    expect(jsonNestingExceeds(`{"a":{"b":[1,{"c":[]}]}}`, 5)).toBe(false);
    expect(jsonNestingExceeds(`{"a":{"b":[1,{"c":[]}]}}`, 4)).toBe(true);
    expect(jsonNestingExceeds(JSON.stringify({ text: "[".repeat(100) }), 1)).toBe(false);
    expect(jsonNestingExceeds(JSON.stringify({ text: `\\"${"{".repeat(100)}` }), 1)).toBe(false);
    expect(jsonNestingExceeds(`["\\\\",${deeplyNestedJson(5)}]`, 5)).toBe(true);
  });
});

describe("a real app process under 4 parallel 100 MB bodies", () => {
  let app: AppProcess;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "waha-campaigns-abuse-"));

  beforeAll(async () => {
    app = await startAppProcess(dataDir);
    // Warm up the paths under test, so their code is loaded before the baseline is read.
    await trpcMutation(app.url, "auth.logIn", { email: "nobody@example.com", password: "x" });
    await rawRequest(`${app.url}/api/v1/health`, {});
  }, 60_000);

  afterAll(async () => {
    await app?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Runs the four attacks in parallel while sampling the server's resident memory. */
  async function attack(declareLength: boolean) {
    const baseline = residentBytes(app.pid);
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, residentBytes(app.pid))), 10);
    try {
      const answers = await Promise.all(
        Array.from({ length: 4 }, () =>
          streamLargeBody(`${app.url}/api/trpc/auth.logIn`, {
            totalBytes: 100 * MB,
            declareLength,
            prefix: '{"json":{"email":"nobody@example.com","password":"',
          }),
        ),
      );
      peak = Math.max(peak, residentBytes(app.pid));
      return { answers, growthBytes: peak - baseline };
    } finally {
      clearInterval(sampler);
    }
  }

  it("with Content-Length: each is 413 before it is read, the connection is cut, RSS grows < 50 MB", async () => {
    const { answers, growthBytes } = await attack(true);
    for (const answer of answers) {
      expectRefusal(answer, 413, "payload_too_large");
      // The server stopped reading long before the end: it cut the connection.
      expect(answer.sentBytes).toBeLessThan(100 * MB);
    }
    expect(growthBytes).toBeLessThan(50 * MB);
    expect((await rawRequest(`${app.url}/api/v1/health`, {})).status).toBe(200);
  }, 60_000);

  it("chunked, without a length: each is 413 once 1 MB has streamed in, RSS grows < 50 MB", async () => {
    const { answers, growthBytes } = await attack(false);
    for (const answer of answers) {
      expectRefusal(answer, 413, "payload_too_large");
      expect(answer.sentBytes).toBeLessThan(100 * MB);
    }
    expect(growthBytes).toBeLessThan(50 * MB);
    expect((await rawRequest(`${app.url}/api/v1/health`, {})).status).toBe(200);
  }, 60_000);
});

describe.each(backends)("[%s] attacks on the transport", (kind) => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp(kind, {}, { initializeScheduler: false });
  });

  afterAll(async () => {
    await app?.close();
  });

  const countRows = async (table: typeof users | typeof authSessions | typeof mediaItems) =>
    (await app.services.db.select({ n: count() }).from(table))[0]!.n;
  const sessionsOf = async (userId: string) =>
    (await app.services.db.select({ n: count() }).from(authSessions).where(eq(authSessions.userId, userId)))[0]!.n;

  /** A user logged in through tRPC, as the dashboard does: the cookie header to send back. */
  async function loggedIn() {
    const user = await createTestUser(app);
    const answer = await trpcMutation(app.url, "auth.logIn", { email: user.email, password: PASSWORD });
    expect(answer.status, answer.text).toBe(200);
    const cookie = answer.headers.getSetCookie()[0]!.split(";")[0]!;
    return { user, cookie };
  }

  const me = (cookie: string): Promise<RawAnswer> => rawRequest(`${app.url}/api/trpc/auth.me`, { headers: { cookie } });

  describe("body limits", () => {
    it("a tRPC body over 1 MB is 413, from Content-Length or while streaming, and signs nobody up", async () => {
      const before = await countRows(users);
      const padding = "x".repeat(2 * MB);
      const declared = await trpcMutation(app.url, "auth.signUp", { email: `big-${Date.now()}@example.com`, password: `${PASSWORD}${padding}` });
      expectRefusal(declared, 413, "payload_too_large");
      const streamed = await streamLargeBody(`${app.url}/api/trpc/auth.signUp`, {
        totalBytes: 2 * MB,
        declareLength: false,
        prefix: `{"json":{"email":"streamed-${Date.now()}@example.com","password":"`,
      });
      expectRefusal(streamed, 413, "payload_too_large");
      expect(await countRows(users)).toBe(before);
    });

    it("a REST JSON body over 1 MB is 413 before the API key is even checked; a CSV import may be larger", async () => {
      const user = await createTestUser(app);
      const list = await rawRequest(`${app.url}/api/v1/lists`, {
        method: "POST",
        headers: { authorization: `Bearer ${user.apiKey}`, "content-type": "application/json" },
        body: JSON.stringify({ name: "Customers" }),
      });
      expect(list.status, list.text).toBe(201);
      const tooLarge = await rawRequest(`${app.url}/api/v1/lists`, {
        method: "POST",
        headers: { authorization: "Bearer not-a-key", "content-type": "application/json" },
        body: JSON.stringify({ name: "x".repeat(2 * MB) }),
      });
      expectRefusal(tooLarge, 413, "payload_too_large");
      // 2 MB of CSV is under the CSV limit: it reaches the import, which reads it.
      const csv = `phone,first_name,note\n${Array.from({ length: 1_000 }, (_, index) => `+49151${String(20_000_000 + index)},Lena,${"n".repeat(1_600)}`).join("\n")}\n`;
      expect(csv.length).toBeGreaterThan(1.5 * MB);
      const imported = await rawRequest(`${app.url}/api/v1/lists/${list.json.id}/import`, {
        method: "POST",
        headers: { authorization: `Bearer ${user.apiKey}`, "content-type": "text/csv" },
        body: csv,
      });
      expect(imported.status, imported.text.slice(0, 500)).toBe(200);
    });

    it("a webhook body over 1 MB is 413 with the error body, declared or streamed", async () => {
      for (const declareLength of [true, false]) {
        const answer = await streamLargeBody(`${app.url}/api/webhooks/waha`, { totalBytes: 100 * MB, declareLength });
        expectRefusal(answer, 413, "payload_too_large");
        expect(answer.sentBytes).toBeLessThan(100 * MB);
      }
    });

    it("a body nobody reads (no API key: 401) is dropped only up to a cap, then the connection is cut", async () => {
      const answer = await streamLargeBody(`${app.url}/api/v1/lists`, { totalBytes: 100 * MB, declareLength: false, headers: { authorization: "Bearer not-a-key" } });
      expectRefusal(answer, 401, "unauthorized");
      expect(answer.sentBytes).toBeLessThan(100 * MB);
    });

    it("an image upload alone gets the media limit (3 MB passes), and past it is 413 with nothing stored", async () => {
      const { user, cookie } = await loggedIn();
      const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(3 * MB, 1)]);
      const uploaded = await trpcMutation(app.url, "media.upload", { filename: "big.png", dataBase64: png.toString("base64") }, { cookie });
      expect(uploaded.status, uploaded.text.slice(0, 500)).toBe(200);
      const stored = await app.services.db.select({ n: count() }).from(mediaItems).where(eq(mediaItems.workspaceId, user.workspaceId));
      expect(stored[0]!.n).toBe(1);
      const huge = await trpcMutation(app.url, "media.upload", { filename: "huge.png", dataBase64: "A".repeat(9 * MB) }, { cookie });
      expectRefusal(huge, 413, "payload_too_large");
      // The larger limit is for an upload alone: in a batch, 1 MB holds.
      const batched = await rawRequest(`${app.url}/api/trpc/media.upload,media.upload?batch=1`, {
        method: "POST",
        headers: { "content-type": "application/json", cookie },
        body: JSON.stringify({ 0: { json: { filename: "a.png", dataBase64: png.toString("base64") } } }),
      });
      expectRefusal(batched, 413, "payload_too_large");
      const after = await app.services.db.select({ n: count() }).from(mediaItems).where(eq(mediaItems.workspaceId, user.workspaceId));
      expect(after[0]!.n).toBe(1);
    });
  });

  describe("batches and nesting", () => {
    it("a batch of more than 10 calls is 400 and none of them runs (200 password guesses become none)", async () => {
      const user = await createTestUser(app);
      const guesses = Array.from({ length: 200 }, (_, index) => ({ json: { email: user.email, password: index === 199 ? PASSWORD : `guess-${index}` } }));
      const answer = await rawRequest(`${app.url}/api/trpc/${Array(200).fill("auth.logIn").join(",")}?batch=1`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(Object.fromEntries(guesses.map((input, index) => [index, input]))),
      });
      expectRefusal(answer, 400, "bad_request");
      expect(answer.json.error.message).toMatch(/at most 10 calls/);
      expect(await sessionsOf(user.id)).toBe(0);
      // A batch within the cap works as before.
      const two = await rawRequest(`${app.url}/api/trpc/auth.logIn,auth.logIn?batch=1`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ 0: { json: { email: user.email, password: PASSWORD } }, 1: { json: { email: user.email, password: PASSWORD } } }),
      });
      expect(two.status, two.text).toBe(200);
      expect(await sessionsOf(user.id)).toBe(2);
    });

    it("JSON nested 5,000 deep is 400 on tRPC (body and query input) and REST, never a 500, and writes nothing", async () => {
      const user = await createTestUser(app);
      const before = await countRows(users);
      const deep = deeplyNestedJson(5_000);
      const trpcBody = await rawRequest(`${app.url}/api/trpc/auth.signUp`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: `{"json":{"email":"deep@example.com","password":${deep}}}`,
      });
      expectRefusal(trpcBody, 400, "bad_request");
      expect(trpcBody.json.error.message).toMatch(/nested more than 32 levels/);
      const trpcQuery = await rawRequest(`${app.url}/api/trpc/auth.me?input=${deep}`, {});
      expectRefusal(trpcQuery, 400, "bad_request");
      const rest = await rawRequest(`${app.url}/api/v1/lists`, {
        method: "POST",
        headers: { authorization: `Bearer ${user.apiKey}`, "content-type": "application/json" },
        body: `{"name":"deep","extra":${deep}}`,
      });
      expectRefusal(rest, 400, "bad_request");
      const lists = await rawRequest(`${app.url}/api/v1/lists`, { headers: { authorization: `Bearer ${user.apiKey}` } });
      expect(lists.json.items ?? lists.json).toEqual([]);
      expect(await countRows(users)).toBe(before);
    });
  });

  describe("cross-site requests", () => {
    it("tRPC takes JSON only: a cross-site form's logOut (form-data, urlencoded, text/plain) is 415 and the session stays", async () => {
      const { user, cookie } = await loggedIn();
      const forms: Array<[string, BodyInit]> = [
        ["multipart/form-data", (() => {
          const form = new FormData();
          form.set("x", "1");
          return form;
        })()],
        ["application/x-www-form-urlencoded", "x=1"],
        ["text/plain", '{"json":null}'],
      ];
      for (const [type, body] of forms) {
        // FormData sets its own multipart content type (with the boundary).
        const headers: Record<string, string> = type === "multipart/form-data" ? { cookie } : { cookie, "content-type": type };
        const answer = await rawRequest(`${app.url}/api/trpc/auth.logOut`, { method: "POST", headers, body });
        expectRefusal(answer, 415, "unsupported_media_type");
      }
      expect(await sessionsOf(user.id)).toBe(1);
      expect((await me(cookie)).json.result.data.json).toMatchObject({ email: user.email });
    });

    it("a mutation from another origin is 403 and changes nothing; the app's own origin logs out", async () => {
      const { user, cookie } = await loggedIn();
      const evil = await trpcMutation(app.url, "auth.logOut", undefined, { cookie, origin: "https://evil.example" });
      expectRefusal(evil, 403, "forbidden");
      const nullOrigin = await trpcMutation(app.url, "auth.logOut", undefined, { cookie, origin: "null" });
      expectRefusal(nullOrigin, 403, "forbidden");
      const crossSite = await trpcMutation(app.url, "auth.logOut", undefined, { cookie, "sec-fetch-site": "cross-site" });
      expectRefusal(crossSite, 403, "forbidden");
      const sameSite = await trpcMutation(app.url, "auth.logOut", undefined, { cookie, "sec-fetch-site": "same-site" });
      expectRefusal(sameSite, 403, "forbidden");
      expect(await sessionsOf(user.id)).toBe(1);
      const own = await trpcMutation(app.url, "auth.logOut", undefined, { cookie, origin: app.url, "sec-fetch-site": "same-origin" });
      expect(own.status, own.text).toBe(200);
      expect(await sessionsOf(user.id)).toBe(0);
    });
  });

  describe("cookies", () => {
    it("a malformed or foreign session cookie is no session, never a 500", async () => {
      const user = await createTestUser(app);
      for (const cookie of [MALFORMED_COOKIE, "wc_session=not a token", "wc_session=%00%00", `wc_session=${"a".repeat(4000)}`]) {
        const anonymous = await me(cookie);
        expect(anonymous.status, anonymous.text).toBe(200);
        expect(anonymous.json.result.data.json).toBeNull();
        const protectedCall = await rawRequest(`${app.url}/api/trpc/auth.appInfo`, { headers: { cookie } });
        expect(protectedCall.status).toBe(401);
      }
      // Logging in over a broken cookie works and replaces it.
      const answer = await trpcMutation(app.url, "auth.logIn", { email: user.email, password: PASSWORD }, { cookie: MALFORMED_COOKIE });
      expect(answer.status, answer.text).toBe(200);
      expect(await sessionsOf(user.id)).toBe(1);
    });

    it("the cookie is Secure and HSTS is sent when the request is https; X-Forwarded-Proto counts only with TRUSTED_PROXY", async () => {
      const user = await createTestUser(app);
      // Directly reachable (TRUSTED_PROXY unset): a client's X-Forwarded-Proto is not believed.
      const direct = await trpcMutation(app.url, "auth.logIn", { email: user.email, password: PASSWORD }, { "x-forwarded-proto": "https" });
      expect(direct.status).toBe(200);
      expect(direct.headers.getSetCookie()[0]).not.toMatch(/;\s*Secure/i);
      expect(direct.headers.get("strict-transport-security")).toBeNull();

      // Behind a trusted proxy, the proxy's word decides, whatever its case or list form.
      const behindProxy = createHttpServer({ ...app.services, config: { ...app.services.config, TRUSTED_PROXY: true } }, null);
      await new Promise<void>((resolve) => behindProxy.listen(0, "127.0.0.1", resolve));
      try {
        const proxyUrl = `http://127.0.0.1:${(behindProxy.address() as AddressInfo).port}`;
        for (const proto of ["https", "HTTPS", "https, http"]) {
          const answer = await trpcMutation(proxyUrl, "auth.logIn", { email: user.email, password: PASSWORD }, { "x-forwarded-proto": proto });
          expect(answer.status).toBe(200);
          expect(answer.headers.getSetCookie()[0]).toMatch(/; Secure$/);
          expect(answer.headers.get("strict-transport-security")).toMatch(/^max-age=\d+/);
        }
        const plain = await trpcMutation(proxyUrl, "auth.logIn", { email: user.email, password: PASSWORD }, { "x-forwarded-proto": "http" });
        expect(plain.headers.getSetCookie()[0]).not.toMatch(/;\s*Secure/i);
        expect(plain.headers.get("strict-transport-security")).toBeNull();
      } finally {
        await new Promise<void>((resolve) => behindProxy.close(() => resolve()));
        behindProxy.closeAllConnections();
      }
    });
  });

  describe("security headers", () => {
    it("every API answer, refusals included, forbids framing and sniffing, keeps no Referer and is not cached", async () => {
      const answers = [
        await rawRequest(`${app.url}/api/v1/health`, {}),
        await rawRequest(`${app.url}/api/v1/nothing-here`, {}),
        await me(""),
        await trpcMutation(app.url, "auth.logOut", undefined, { origin: "https://evil.example" }),
        await trpcMutation(app.url, "auth.logIn", { email: "x@example.com", password: "x".repeat(2 * MB) }),
      ];
      expect(answers.map((answer) => answer.status)).toEqual([200, 404, 200, 403, 413]);
      for (const answer of answers) {
        expect(answer.headers.get("content-security-policy")).toMatch(/frame-ancestors 'none'/);
        expect(answer.headers.get("content-security-policy")).toMatch(/default-src 'none'/);
        expect(answer.headers.get("x-frame-options")).toBe("DENY");
        expect(answer.headers.get("x-content-type-options")).toBe("nosniff");
        expect(answer.headers.get("referrer-policy")).toBe("no-referrer");
        expect(answer.headers.get("cache-control")).toBe("no-store");
        expect(answer.headers.get("strict-transport-security")).toBeNull();
      }
    });

    it("pages get a policy that lets Next.js's inline scripts run but frames nothing and loads only from the app", async () => {
      const withPages = createHttpServer(app.services, async (_req, res) => {
        res.setHeader("content-type", "text/html");
        res.end("<!doctype html><title>page</title>");
      });
      await new Promise<void>((resolve) => withPages.listen(0, "127.0.0.1", resolve));
      try {
        const pagesUrl = `http://127.0.0.1:${(withPages.address() as AddressInfo).port}`;
        const page = await rawRequest(`${pagesUrl}/campaigns`, {});
        expect(page.status).toBe(200);
        const csp = page.headers.get("content-security-policy")!;
        expect(csp).toMatch(/frame-ancestors 'none'/);
        expect(csp).toMatch(/default-src 'self'/);
        expect(csp).toMatch(/script-src 'self' 'unsafe-inline'(;|$)/);
        expect(csp).toMatch(/object-src 'none'/);
        expect(page.headers.get("x-content-type-options")).toBe("nosniff");
        expect(page.headers.get("referrer-policy")).toBe("no-referrer");
        // A big body sent to a page is refused unread as well.
        const posted = await rawRequest(`${pagesUrl}/campaigns`, { method: "POST", headers: { "content-type": "text/plain" }, body: "x".repeat(2 * MB) });
        expectRefusal(posted, 413, "payload_too_large");
      } finally {
        await new Promise<void>((resolve) => withPages.close(() => resolve()));
        withPages.closeAllConnections();
      }
    });
  });
});
