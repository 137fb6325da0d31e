/**
 * `/api/trpc`: the dashboard's API, over tRPC's node adapter, behind the transport checks that tRPC
 * itself does not make (issue 12):
 * - JSON only: tRPC would also take `multipart/form-data`, which any site's plain HTML form can
 *   send with the visitor's cookie (it logged users out); JSON needs a CORS preflight we never grant.
 * - Mutations (POST) from another origin are refused (`Origin`, `Sec-Fetch-Site`).
 * - At most MAX_TRPC_BATCH calls per `?batch=1` request (one request once tried 200 passwords).
 * - The body is read here under its limit (1 MB; one `media.upload` alone gets the media limit),
 *   its nesting depth checked, and only then handed to tRPC as text.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { nodeHTTPRequestHandler } from "@trpc/server/adapters/node-http";
import type { AppServices } from "../app";
import { appRouter } from "../api/root";
import type { TrpcContext } from "../api/trpc";
import { childLogger } from "../logger";
import { callerFromSessionToken } from "../services/auth";
import { cookieJar } from "./cookies";
import { jsonNestingExceeds, tooDeepMessage } from "./jsonDepth";
import { BODY_LIMIT_BYTES, describeBytes, MAX_JSON_DEPTH, MAX_TRPC_BATCH } from "./limits";
import { AppError } from "../services/errors";
import { clientAddress, type ProxyTrust } from "./proxy";
import { BodyTooLargeError, readBoundedBody } from "./requestBody";

const log = childLogger("trpc");

export const TRPC_PREFIX = "/api/trpc/";

/** The one procedure whose input is large: an image as base64. */
const UPLOAD_PROCEDURE = "media.upload";

class TransportRefusal extends Error {
  constructor(
    public readonly status: number,
    public readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function handleTrpc(services: AppServices, req: IncomingMessage, res: ServerResponse, url: URL) {
  const path = url.pathname.slice(TRPC_PREFIX.length);
  try {
    const paths = url.searchParams.get("batch") === "1" ? path.split(",") : [path];
    if (paths.length > MAX_TRPC_BATCH) {
      throw new TransportRefusal(400, "bad_request", `A batch may hold at most ${MAX_TRPC_BATCH} calls; this one has ${paths.length}`);
    }
    if (req.method === "POST") await takeMutationBody(req, paths, services.config);
    const input = url.searchParams.get("input");
    if (input !== null && jsonNestingExceeds(input, MAX_JSON_DEPTH)) {
      throw new TransportRefusal(400, "bad_request", tooDeepMessage(MAX_JSON_DEPTH));
    }
  } catch (error) {
    if (!(error instanceof TransportRefusal)) throw error;
    res.statusCode = error.status;
    res.setHeader("content-type", "application/json; charset=utf-8");
    res.end(JSON.stringify({ error: { code: error.code, message: error.message } }));
    return;
  }
  await nodeHTTPRequestHandler({
    router: appRouter,
    req,
    res,
    path,
    maxBatchSize: MAX_TRPC_BATCH,
    createContext: async ({ req: request, res: response }): Promise<TrpcContext> => {
      const cookies = cookieJar(request, response, services.config);
      const caller = cookies.token ? await callerFromSessionToken(services.db, cookies.token) : null;
      return { services, caller, cookies, clientIp: clientAddress(request, services.config) };
    },
    // A throttled log-in (429) or a busy password hasher (503) says when to come back.
    responseMeta: ({ errors }) => {
      const seconds = errors.map((error) => (error.cause instanceof AppError ? error.cause.retryAfterSeconds : null)).find((s) => s !== null);
      return seconds ? { headers: { "retry-after": String(seconds) } } : {};
    },
    onError: ({ error, path: procedurePath }) => {
      if (error.code === "INTERNAL_SERVER_ERROR") log.error({ err: error.cause ?? error, path: procedurePath }, "tRPC procedure failed");
    },
  });
}

/** Checks a POST's origin and type, reads its body under the limit and leaves it on `req.body` for tRPC. */
async function takeMutationBody(req: IncomingMessage, paths: string[], trust: ProxyTrust) {
  const crossSite = crossSiteRefusal(req, trust);
  if (crossSite) throw new TransportRefusal(403, "forbidden", crossSite);
  const type = req.headers["content-type"]?.split(";")[0]?.trim().toLowerCase();
  if (type !== "application/json") {
    throw new TransportRefusal(415, "unsupported_media_type", "The tRPC API takes JSON only: send the body with Content-Type: application/json");
  }
  const limit = paths.length === 1 && paths[0] === UPLOAD_PROCEDURE ? BODY_LIMIT_BYTES.media : BODY_LIMIT_BYTES.json;
  let body: Buffer;
  try {
    body = await readBoundedBody(req, limit);
  } catch (error) {
    if (!(error instanceof BodyTooLargeError)) throw error;
    throw new TransportRefusal(413, "payload_too_large", `The request body is larger than ${describeBytes(limit)}, the limit of this call`);
  }
  const text = body.toString("utf8");
  if (jsonNestingExceeds(text, MAX_JSON_DEPTH)) throw new TransportRefusal(400, "bad_request", tooDeepMessage(MAX_JSON_DEPTH));
  // tRPC's adapter reads a string `req.body` instead of the (already consumed) stream.
  (req as IncomingMessage & { body?: unknown }).body = text;
}

function firstHeader(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Why a POST is refused as cross-site, or null. A browser names the page's origin in `Origin` and
 * says `Sec-Fetch-Site: same-origin` for the app's own pages; either one matching is enough (a
 * reverse proxy may rewrite `Host`). Without both headers the caller is no browser: no cookie of a
 * visitor can be abused, so nothing to refuse.
 */
function crossSiteRefusal(req: IncomingMessage, trust: ProxyTrust): string | null {
  const fetchSite = firstHeader(req, "sec-fetch-site")?.toLowerCase();
  const origin = firstHeader(req, "origin");
  if (fetchSite === "same-origin") return null;
  if (origin !== undefined) {
    return originIsOurs(origin, req, trust) ? null : `Calls from ${origin} are refused: this API answers the app's own pages only`;
  }
  if (fetchSite !== undefined && fetchSite !== "none") return `Cross-site calls (Sec-Fetch-Site: ${fetchSite}) are refused: this API answers the app's own pages only`;
  return null;
}

function originIsOurs(origin: string, req: IncomingMessage, trust: ProxyTrust): boolean {
  const forwardedHost = trust.TRUSTED_PROXY ? firstHeader(req, "x-forwarded-host")?.split(",")[0]?.trim() : undefined;
  const host = forwardedHost ?? req.headers.host;
  if (!host) return false;
  try {
    return new URL(origin).host.toLowerCase() === host.toLowerCase();
  } catch {
    // "null" (a sandboxed frame, a file) or garbage.
    return false;
  }
}
