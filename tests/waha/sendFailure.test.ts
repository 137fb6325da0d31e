/**
 * What a failed send means for its recipient (classifySendFailure, waha/errors.ts), each class
 * provoked through the real client over HTTP: only WAHA's own 4xx about the chat or the content
 * fails a recipient; a send that provably never reached WAHA leaves it pending; one that may have
 * reached WAHA is looked up.
 */
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { classifySendFailure, type SendFailureClass } from "~/server/services/waha/errors";
import { WahaApiClient, WahaError, toChatId } from "~/server/services/waha/client";
import { startFakeWaha } from "../../tools/fake-waha/server";
import { json, startTestServer, type TestServer } from "./helpers";

const CHAT = toChatId("+14155550123");

/** A raw TCP server whose sockets are all destroyed on cleanup (a paused or half-open socket never ends by itself). */
async function rawTcpServer(onSocket: (socket: net.Socket) => void): Promise<number> {
  const sockets = new Set<net.Socket>();
  const tcp = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => undefined);
    onSocket(socket);
  });
  await new Promise<void>((resolve) => tcp.listen(0, "127.0.0.1", resolve));
  cleanups.push(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => tcp.close(() => resolve()));
  });
  return (tcp.address() as net.AddressInfo).port;
}
let server: TestServer | null = null;
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  await server?.close();
  server = null;
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function sendFailure(baseUrl: string, options: { timeoutMs?: number } = {}): Promise<{ error: WahaError; verdict: SendFailureClass }> {
  const client = new WahaApiClient({ baseUrl, timeoutMs: options.timeoutMs ?? 2_000 });
  try {
    await client.sendText({ session: "default", chatId: CHAT, text: "hello" });
  } catch (error) {
    expect(error).toBeInstanceOf(WahaError);
    return { error: error as WahaError, verdict: classifySendFailure(error as WahaError) };
  } finally {
    client.close();
  }
  throw new Error("the send succeeded");
}

async function answering(status: number, contentType: string, body: string): Promise<string> {
  server = await startTestServer((_request, res) => {
    res.writeHead(status, { "content-type": contentType });
    res.end(body);
  });
  return server.url;
}

describe("classifySendFailure: never reached WAHA -> not_sent (the recipient stays pending, uncounted)", () => {
  it("connection refused", async () => {
    const gone = await startFakeWaha();
    const url = gone.url;
    await gone.close();
    const { error, verdict } = await sendFailure(url);
    expect(verdict).toBe("not_sent");
    expect(error.message).toMatch(/connection refused/);
  });

  it("no such host (DNS)", async () => {
    const { verdict } = await sendFailure("http://waha.invalid:3000");
    expect(verdict).toBe("not_sent");
  });

  it("a TLS failure before the request was written", async () => {
    // A plain TCP server: the TLS handshake fails before any byte of the request leaves.
    const port = await rawTcpServer((socket) => socket.end("not tls\r\n"));
    const { verdict } = await sendFailure(`https://127.0.0.1:${port}`);
    expect(verdict).toBe("not_sent");
  });

  it("a timeout before the whole request was written (WAHA never read it)", async () => {
    // A server that accepts the connection but never reads: a 24 MB image cannot all leave.
    const port = await rawTcpServer((socket) => socket.pause());
    const client = new WahaApiClient({ baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 300 });
    cleanups.push(async () => client.close());
    const file = { data: Buffer.alloc(24 * 1024 * 1024).toString("base64"), mimetype: "image/png", filename: "big.png" };
    const error = await client.sendImage({ session: "default", chatId: CHAT, file }).then(
      () => null,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(WahaError);
    expect((error as WahaError).message).toMatch(/did not answer within 300 ms/);
    expect(classifySendFailure(error as WahaError)).toBe("not_sent");
  });

  it("a proxy's 503 page: the proxy never forwarded the request", async () => {
    const { error, verdict } = await sendFailure(await answering(503, "text/html", "<html><h1>503 Service Temporarily Unavailable</h1></html>"));
    expect(verdict).toBe("not_sent");
    expect(error.message).toMatch(/proxy in front of WAHA answered HTTP 503/);
  });

  it("a proxy's 502 page", async () => {
    expect((await sendFailure(await answering(502, "text/html", "<html>Bad Gateway</html>"))).verdict).toBe("not_sent");
  });

  it("429: refused up front", async () => {
    expect((await sendFailure(await answering(429, "application/json", '{"message":"Too Many Requests"}'))).verdict).toBe("not_sent");
  });
});

describe("classifySendFailure: may have reached WAHA -> outcome_unknown (looked up, never resent blindly)", () => {
  it("a timeout after the request was written", async () => {
    server = await startTestServer(() => undefined); // reads the request, never answers
    const { error, verdict } = await sendFailure(server.url, { timeoutMs: 200 });
    expect(verdict).toBe("outcome_unknown");
    expect(error.message).toMatch(/did not answer within 200 ms/);
    expect(server.requests).toHaveLength(1);
  });

  it("WAHA's own 500 (JSON)", async () => {
    const { verdict } = await sendFailure(await answering(500, "application/json", '{"statusCode":500,"message":"Session closed"}'));
    expect(verdict).toBe("outcome_unknown");
  });

  it("WAHA's own 503 (JSON) and a gateway timeout (504)", async () => {
    expect((await sendFailure(await answering(503, "application/json", '{"statusCode":503,"message":"busy"}'))).verdict).toBe("outcome_unknown");
    await server?.close();
    expect((await sendFailure(await answering(504, "text/html", "<html>Gateway Timeout</html>"))).verdict).toBe("outcome_unknown");
  });
});

describe("classifySendFailure: WAHA's answer about the session or the message", () => {
  it("422 not WORKING, 404 no session, 401 wrong key -> session (pause, recipient pending)", async () => {
    server = await startTestServer((_request, res) =>
      json(res, 422, { error: "Session status is not as expected", session: "default", status: "STARTING", expected: ["WORKING"] }),
    );
    expect((await sendFailure(server.url)).verdict).toBe("session");
    await server.close();
    server = await startTestServer((_request, res) => json(res, 404, { statusCode: 404, message: "We didn't find a session with name 'default'", error: "Not Found" }));
    expect((await sendFailure(server.url)).verdict).toBe("session");
    await server.close();
    server = await startTestServer((_request, res) => json(res, 401, { message: "Unauthorized", statusCode: 401 }));
    expect((await sendFailure(server.url)).verdict).toBe("session");
  });

  it("400 about the chat or the content -> rejected (the only answer that fails a recipient)", async () => {
    const { error, verdict } = await sendFailure(await answering(400, "application/json", '{"statusCode":400,"message":["chatId must be a valid chat id"],"error":"Bad Request"}'));
    expect(verdict).toBe("rejected");
    expect(error.httpStatus).toBe(400);
  });
});
