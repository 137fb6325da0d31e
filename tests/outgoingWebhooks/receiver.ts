/**
 * A webhook receiver on loopback for the outgoing webhooks' tests: records every request (headers and
 * raw body) and answers 200, optionally after a delay. It can be stopped and started again on the same
 * port, so a test can play a receiver that is down for a while and then comes back.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedWebhook {
  id: string;
  timestamp: string;
  signature: string;
  eventType: string;
  body: string;
  /** The parsed body: `{ id, type, createdAt, data }`. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
  /** Set by the test (e.g. which app process was running when it arrived). */
  tag: number;
}

export interface Receiver {
  port: number;
  url: string;
  received: ReceivedWebhook[];
  /** Tag given to requests from now on. */
  tag: number;
  /** Called after each answer has been written (the test may kill the sender right then). */
  onAnswered: ((webhook: ReceivedWebhook) => void) | null;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** A free port on loopback, for a receiver that is down at first. */
export async function freePort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function createReceiver(options: { port?: number; delayMs?: () => number } = {}): Promise<Receiver> {
  const port = options.port ?? (await freePort());
  let server: http.Server | null = null;
  const receiver: Receiver = {
    port,
    url: `http://127.0.0.1:${port}/hooks/waha-campaigns`,
    received: [],
    tag: 0,
    onAnswered: null,
    async start() {
      server = http.createServer((req, res) => {
        let body = "";
        req.setEncoding("utf8");
        req.on("data", (chunk: string) => (body += chunk));
        req.on("end", () => {
          const webhook: ReceivedWebhook = {
            id: String(req.headers["x-webhook-id"]),
            timestamp: String(req.headers["x-webhook-timestamp"]),
            signature: String(req.headers["x-webhook-signature"]),
            eventType: String(req.headers["x-webhook-event"]),
            body,
            json: JSON.parse(body),
            tag: receiver.tag,
          };
          receiver.received.push(webhook);
          const answer = () => {
            res.writeHead(200, { "content-type": "text/plain" });
            res.end("ok", () => receiver.onAnswered?.(webhook));
          };
          const delay = options.delayMs?.() ?? 0;
          if (delay > 0) setTimeout(answer, delay);
          else answer();
        });
      });
      await new Promise<void>((resolve) => server!.listen(port, "127.0.0.1", resolve));
    },
    async stop() {
      if (!server) return;
      const closing = new Promise<void>((resolve) => server!.close(() => resolve()));
      server.closeAllConnections();
      await closing;
      server = null;
    },
  };
  return receiver;
}
