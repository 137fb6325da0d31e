import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { classifyNetworkError } from "~/server/services/waha/errors";
import { WahaApiClient, WahaError, toChatId, type WahaErrorKind } from "~/server/services/waha/client";
import { expectWahaError as expectWahaErrorOfKind } from "./helpers";

/**
 * The client's own HTTP transport (node:http with a keep-alive agent): connections reused, bodies
 * as JSON with content-length, redirects not followed, one timeout for the whole exchange, resets
 * classified, a stale keep-alive connection retried for a GET only, never for a send.
 */

const API_KEY = "sekret-API-key-transport-42";
const CHAT = toChatId("+14155550123");

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** 1 for the first request on its connection, 2 for the second... */
  nthOnConnection: number;
  connection: number;
}

type Handler = (seen: Seen, req: IncomingMessage, res: ServerResponse) => void;

interface RawServer {
  url: string;
  seen: Seen[];
  connections: number;
  sockets: Set<Socket>;
  close(): Promise<void>;
}

/** A server that hands the handler the raw request and response, counting connections and requests per connection. */
async function startRawServer(handler: Handler): Promise<RawServer> {
  const seen: Seen[] = [];
  const sockets = new Set<Socket>();
  const perSocket = new WeakMap<Socket, { id: number; count: number }>();
  let connections = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const info = perSocket.get(req.socket)!;
      info.count += 1;
      const entry = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8"), nthOnConnection: info.count, connection: info.id };
      seen.push(entry);
      handler(entry, req, res);
    });
  });
  server.on("connection", (socket: Socket) => {
    connections += 1;
    perSocket.set(socket, { id: connections, count: 0 });
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    get connections() {
      return connections;
    },
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(payload) });
  res.end(payload);
}

/** A call that must fail with a WahaError of `kind`; the API key never appears in it. */
const expectWahaError = (promise: Promise<unknown>, kind: WahaErrorKind) => expectWahaErrorOfKind(promise, kind, API_KEY);

const session = (name: string) => ({ name, status: "WORKING", me: null, engine: { engine: "NOWEB" } });


describe("WahaApiClient transport", () => {
  let server: RawServer | undefined;
  const clients: WahaApiClient[] = [];
  const client = (options: Partial<ConstructorParameters<typeof WahaApiClient>[0]> = {}) => {
    const made = new WahaApiClient({ baseUrl: server!.url, apiKey: API_KEY, timeoutMs: 2_000, ...options });
    clients.push(made);
    return made;
  };

  afterEach(async () => {
    for (const made of clients.splice(0)) made.close();
    await server?.close();
    server = undefined;
  });

  it("reuses one keep-alive connection for sequential calls, and close() ends it", async () => {
    server = await startRawServer((seen, _req, res) => sendJson(res, 200, session("default")));
    const waha = client();
    for (let i = 0; i < 5; i++) await waha.getSession("default");
    expect(server.connections).toBe(1);
    expect(server.seen.map((entry) => entry.nthOnConnection)).toEqual([1, 2, 3, 4, 5]);
    expect(server.seen[0]!.headers.connection).toBe("keep-alive");
    waha.close();
    await expect.poll(() => server!.sockets.size).toBe(0);
  });

  it("sends JSON bodies with content-length (not chunked), content-length 0 for an empty POST, and the base URL's path", async () => {
    server = await startRawServer((seen, _req, res) => sendJson(res, 201, { id: "3EB0AA" }));
    const waha = client({ baseUrl: `${server.url}/waha/` });
    await waha.sendText({ session: "default", chatId: CHAT, text: "héllo ✓" });
    await waha.startSession("default");
    const [send, start] = server.seen;
    expect(send).toMatchObject({ method: "POST", url: "/waha/api/sendText" });
    expect(send!.headers["content-type"]).toBe("application/json");
    expect(send!.headers["transfer-encoding"]).toBeUndefined();
    expect(Number(send!.headers["content-length"])).toBe(Buffer.byteLength(send!.body));
    expect(JSON.parse(send!.body)).toEqual({ session: "default", chatId: CHAT, text: "héllo ✓" });
    expect(send!.headers["x-api-key"]).toBe(API_KEY);
    expect(start).toMatchObject({ method: "POST", url: "/waha/api/sessions/default/start", body: "" });
    expect(start!.headers["content-length"]).toBe("0");
    expect(start!.headers["content-type"]).toBeUndefined();
  });

  it("does not follow a redirect: a 3xx is an unexpected answer", async () => {
    server = await startRawServer((seen, _req, res) => {
      if (seen.url.startsWith("/elsewhere")) return sendJson(res, 200, [session("default")]);
      res.writeHead(302, { location: "/elsewhere" });
      res.end();
    });
    const error = await expectWahaError(client().listSessions(), "unexpected");
    expect(error).toMatchObject({ httpStatus: 302, outcomeUnknown: false });
    expect(error.message).toBe("WAHA listSessions failed: unexpected redirect (HTTP 302)");
    expect(server.seen.map((entry) => entry.url)).toEqual(["/api/sessions?all=true"]);
  });

  it("the timeout covers the answer's body, not only its headers", async () => {
    server = await startRawServer((_seen, _req, res) => {
      res.writeHead(201, { "content-type": "application/json" });
      res.write('{"id":'); // ...and the rest never comes
    });
    const started = Date.now();
    const error = await expectWahaError(client({ timeoutMs: 150 }).sendText({ session: "default", chatId: CHAT, text: "x" }), "transient");
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(error.message).toBe("WAHA sendText failed: WAHA did not answer within 150 ms");
    expect(error.outcomeUnknown).toBe(true);
  });

  it("the timeout covers waiting for a free connection", async () => {
    server = await startRawServer((seen, _req, res) => {
      if (seen.url.includes("slow")) setTimeout(() => sendJson(res, 200, session("slow")), 400);
      // 50 ms: once the slow call gives its connection up, the queued one must not win the race on a busy
      // machine; were its timeout counted from getting a connection, it would still be answered in time.
      else setTimeout(() => sendJson(res, 200, session("quick")), 50);
    });
    const waha = client({ timeoutMs: 150, maxSockets: 1 });
    const slow = expectWahaError(waha.getSession("slow"), "transient");
    const queued = await expectWahaError(waha.getSession("quick"), "transient");
    expect(queued.message).toBe("WAHA getSession failed: WAHA did not answer within 150 ms");
    await slow;
  });

  it("a connection reset after the send arrived: transient, outcome unknown, and not sent again", async () => {
    server = await startRawServer((_seen, req) => req.socket.destroy());
    const error = await expectWahaError(client().sendText({ session: "default", chatId: CHAT, text: "x" }), "transient");
    expect(error.outcomeUnknown).toBe(true);
    expect(error.message).toMatch(/^WAHA sendText failed: network error talking to http:\/\/127\.0\.0\.1:\d+ \(ECONNRESET\)$/);
    expect(server.seen).toHaveLength(1);
  });

  it("a connection dropped in the middle of the answer's body: transient, outcome unknown", async () => {
    server = await startRawServer((_seen, req, res) => {
      res.writeHead(201, { "content-type": "application/json", "content-length": "100" });
      res.write('{"id":"3EB0', () => req.socket.destroy());
    });
    const error = await expectWahaError(client().sendText({ session: "default", chatId: CHAT, text: "x" }), "transient");
    expect(error.outcomeUnknown).toBe(true);
    expect(error.message).toMatch(/\(ECONNRESET\)$/);
  });

  it("a garbled (non-HTTP) answer is a transient network failure, outcome unknown", async () => {
    server = await startRawServer((_seen, req) => req.socket.end("SMTP ready\r\n\r\n"));
    const error = await expectWahaError(client().sendText({ session: "default", chatId: CHAT, text: "x" }), "transient");
    expect(error.outcomeUnknown).toBe(true);
  });

  describe("a keep-alive connection WAHA closed just as we reused it", () => {
    /** Answers the first request of each connection; a later one on the same connection is dropped unanswered. */
    const closesReusedConnections: Handler = (seen, req, res) => {
      if (seen.nthOnConnection > 1) return void req.socket.destroy();
      if (seen.method === "POST") sendJson(res, 201, { id: `3EB0${seen.connection}` });
      else sendJson(res, 200, session("default"));
    };

    it("a GET is sent again once, on a new connection", async () => {
      server = await startRawServer(closesReusedConnections);
      const waha = client();
      await waha.getSession("default");
      expect(await waha.getSession("default")).toMatchObject({ name: "default", status: "WORKING" });
      expect(server.seen.map((entry) => [entry.connection, entry.nthOnConnection])).toEqual([
        [1, 1],
        [1, 2], // dropped
        [2, 1], // the retry
      ]);
    });

    it("a GET is retried at most once", async () => {
      let answered = 0;
      server = await startRawServer((_seen, req, res) => {
        if (answered++ === 0) sendJson(res, 200, session("default"));
        else req.socket.destroy();
      });
      const waha = client();
      await waha.getSession("default");
      const error = await expectWahaError(waha.getSession("default"), "transient");
      expect(error.outcomeUnknown).toBe(true);
      expect(server.seen).toHaveLength(3);
    });

    it("a send (POST) is never sent twice: transient, outcome unknown", async () => {
      server = await startRawServer(closesReusedConnections);
      const waha = client();
      await waha.sendText({ session: "default", chatId: CHAT, text: "first" });
      const error = await expectWahaError(waha.sendText({ session: "default", chatId: CHAT, text: "second" }), "transient");
      expect(error.outcomeUnknown).toBe(true);
      expect(server.seen.filter((entry) => entry.body.includes("second"))).toHaveLength(1);
    });

    it("a connection closed while idle is simply not reused: the next send goes through", async () => {
      // Like a proxy that drops idle connections after 50 ms, without a Keep-Alive hint.
      server = await startRawServer((seen, req, res) => {
        sendJson(res, 201, { id: `3EB0${seen.connection}${seen.nthOnConnection}` });
        res.on("finish", () => setTimeout(() => req.socket.end(), 50));
      });
      const waha = client();
      await waha.sendText({ session: "default", chatId: CHAT, text: "one" });
      await new Promise((resolve) => setTimeout(resolve, 200));
      await waha.sendText({ session: "default", chatId: CHAT, text: "two" });
      expect(server.connections).toBe(2);
    });
  });

  it("refuses a base URL that is not http(s) or carries credentials, at configuration", () => {
    for (const baseUrl of ["ftp://waha.local", "http://user:pass@waha.local"]) {
      let caught: unknown;
      try {
        new WahaApiClient({ baseUrl });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(WahaError);
      expect((caught as WahaError).operation).toBe("configure");
      expect((caught as WahaError).message).not.toContain("pass");
    }
  });

  it("exposes its timeout", () => {
    expect(new WahaApiClient({ baseUrl: "http://waha.local", timeoutMs: 1_234 }).timeoutMs).toBe(1_234);
    expect(new WahaApiClient({ baseUrl: "http://waha.local" }).timeoutMs).toBe(30_000);
  });
});

describe("classifyNetworkError with node:http's errors", () => {
  const nodeError = (message: string, code: string) => Object.assign(new Error(message), { code });

  it.each([
    ["connect ECONNREFUSED 127.0.0.1:1", nodeError("connect ECONNREFUSED 127.0.0.1:1", "ECONNREFUSED"), { transient: true, code: "ECONNREFUSED", outcomeUnknown: false }],
    ["every address refused (AggregateError)", Object.assign(new AggregateError([nodeError("connect ECONNREFUSED ::1:1", "ECONNREFUSED")], ""), {}), { transient: true, code: "ECONNREFUSED", outcomeUnknown: false }],
    ["read ECONNRESET", nodeError("read ECONNRESET", "ECONNRESET"), { transient: true, code: "ECONNRESET", outcomeUnknown: true }],
    ["socket hang up", nodeError("socket hang up", "ECONNRESET"), { transient: true, code: "ECONNRESET", outcomeUnknown: true }],
    ["write EPIPE", nodeError("write EPIPE", "EPIPE"), { transient: true, code: "EPIPE", outcomeUnknown: true }],
    ["the client's timeout", new DOMException("timed out", "TimeoutError"), { transient: true, code: "TIMEOUT", outcomeUnknown: true }],
    ["getaddrinfo ENOTFOUND", nodeError("getaddrinfo ENOTFOUND waha", "ENOTFOUND"), { transient: true, code: "ENOTFOUND", outcomeUnknown: false }],
    ["getaddrinfo EAI_AGAIN", nodeError("getaddrinfo EAI_AGAIN waha", "EAI_AGAIN"), { transient: true, code: "EAI_AGAIN", outcomeUnknown: false }],
  ])("%s", (_name, error, expected) => {
    expect(classifyNetworkError(error, { network: true })).toEqual(expected);
    expect(classifyNetworkError(error)).toEqual(expected);
  });

  it("a connection failure with a code it does not list is still transient (outcome unknown); a failure to build the request is not", () => {
    const tls = nodeError("self-signed certificate", "DEPTH_ZERO_SELF_SIGNED_CERT");
    expect(classifyNetworkError(tls, { network: true })).toEqual({ transient: true, code: "DEPTH_ZERO_SELF_SIGNED_CERT", outcomeUnknown: true });
    const badHeader = Object.assign(new TypeError('Invalid character in header content ["x-api-key"]'), { code: "ERR_INVALID_CHAR" });
    expect(classifyNetworkError(badHeader)).toEqual({ transient: false, code: "ERR_INVALID_CHAR", outcomeUnknown: true });
  });
});
