/**
 * One HTTP server per process: `/api/trpc` (the dashboard's API), `/api/v1` (REST), and everything
 * else to Next.js (pages only). Server logic runs in this process's one module graph, so the
 * database, the scheduler and the fake WAHA exist once (Next bundles never open them).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AppServices } from "../app";
import { childLogger } from "../logger";
import { handleRest } from "../rest/handler";
import { toRestError } from "../rest/errors";
import { sendOptOutConfirmation } from "../services/optOut/confirmation";
import { handleWahaWebhook } from "../services/wahaWebhooks";
import { BODY_LIMIT_BYTES, describeBytes } from "./limits";
import { isHttps } from "./proxy";
import { handleRecipientsCsvDownload, RECIPIENTS_CSV_PATH } from "./recipientsCsv";
import { BodyTooLargeError, declaresMoreThan, discardUnreadBodyAfterAnswer, readBoundedBody } from "./requestBody";
import { setSecurityHeaders } from "./securityHeaders";
import { handleTrpc, TRPC_PREFIX } from "./trpcEndpoint";

const log = childLogger("http");

export type PageHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export interface HttpServerOptions {
  /** Pages come from Next's dev server (npm run dev), which needs eval and a WebSocket. */
  devPages?: boolean;
}

export function createHttpServer(services: AppServices, pages: PageHandler | null, options: HttpServerOptions = {}): Server {
  return createServer((req, res) => {
    const isApi = (req.url ?? "/").startsWith("/api/");
    setSecurityHeaders(res, { kind: isApi ? "api" : "page", https: isHttps(req, services.config), devPages: options.devPages ?? false });
    discardUnreadBodyAfterAnswer(req, res);
    handle(services, pages, req, res).catch((error: unknown) => {
      log.error({ err: error, url: req.url }, "request failed");
      if (!res.headersSent) {
        res.statusCode = 500;
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ error: { code: "internal", message: "Something went wrong on our side" } }));
      } else {
        res.end();
      }
    });
  });
}

async function handle(services: AppServices, pages: PageHandler | null, req: IncomingMessage, res: ServerResponse) {
  const url = new URL(req.url ?? "/", "http://localhost");
  if (url.pathname.startsWith(TRPC_PREFIX)) {
    await handleTrpc(services, req, res, url);
    return;
  }
  if (url.pathname === "/api/webhooks/waha" && req.method === "POST") {
    await receiveWebhook(services, req, res);
    return;
  }
  const csvDownload = req.method === "GET" ? RECIPIENTS_CSV_PATH.exec(url.pathname) : null;
  if (csvDownload) {
    await handleRecipientsCsvDownload(services, req, res, csvDownload[1]!);
    return;
  }
  if (url.pathname.startsWith("/api/v1/") || url.pathname === "/api/v1") {
    await handleRest(services, req, res, url);
    return;
  }
  if (!pages) {
    res.statusCode = 404;
    res.end("Not found");
    return;
  }
  // Pages take no bodies worth more than a form's.
  if (refuseDeclaredOverLimit(req, res, BODY_LIMIT_BYTES.json)) return;
  await pages(req, res);
}

/** 413 before a byte is read when `Content-Length` already says too much; true when it answered. */
function refuseDeclaredOverLimit(req: IncomingMessage, res: ServerResponse, limitBytes: number): boolean {
  if (!declaresMoreThan(req, limitBytes)) return false;
  answerTooLarge(res, limitBytes);
  return true;
}

function answerTooLarge(res: ServerResponse, limitBytes: number) {
  res.statusCode = 413;
  res.setHeader("content-type", "application/json; charset=utf-8");
  res.end(JSON.stringify({ error: { code: "payload_too_large", message: `The request body is larger than ${describeBytes(limitBytes)}` } }));
}

async function receiveWebhook(services: AppServices, req: IncomingMessage, res: ServerResponse) {
  let rawBody: Buffer;
  try {
    rawBody = await readBoundedBody(req, BODY_LIMIT_BYTES.json);
  } catch (error) {
    if (!(error instanceof BodyTooLargeError)) throw error;
    // Declared or streamed past the limit: answered before the rest is read (then dropped, up to a cap).
    answerTooLarge(res, BODY_LIMIT_BYTES.json);
    return;
  }
  res.setHeader("content-type", "application/json");
  try {
    const outcome = await handleWahaWebhook(services.db, {
      // The signature is checked over these exact bytes, before anything decodes them.
      rawBody,
      signature: firstHeader(req.headers["x-webhook-hmac"]),
      algorithm: firstHeader(req.headers["x-webhook-hmac-algorithm"]),
      hmacKey: services.webhookSecret,
      // Issue 15: a number on a registered WAHA server is verified with that server's key only.
      keyForSession: (session) => services.wahaServers.webhookKeyForSession(session),
      onSessionStatus: (session, status) => services.autoResume.sessionReported(session, status),
      onOptedOut: async (optOut) => sendOptOutConfirmation(services.db, await services.sessions.clientForNumber(optOut.sessionId), optOut),
    });
    res.statusCode = 200;
    res.end(JSON.stringify({ ok: true, outcome }));
  } catch (error) {
    // A refused event is 4xx (WAHA gives up on it); a failure of ours is 5xx, nothing was recorded,
    // and WAHA's retry is applied.
    const restError = toRestError(error);
    if (restError.status >= 500) log.error({ err: error }, "webhook event could not be applied");
    res.statusCode = restError.status;
    res.end(JSON.stringify(restError.toBody()));
  }
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
