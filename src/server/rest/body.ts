/**
 * Request bodies: read with a size limit, decoded as UTF-8, parsed as JSON when asked. A body over
 * the limit is drained (up to a hard cap) before the 413 goes out, so the client reads the answer
 * instead of a reset connection.
 */
import type { IncomingMessage } from "node:http";
import { RestError } from "./errors";

/** A little over the 10 MB CSV import limit, so the import's own message reaches the caller. */
export const MAX_BODY_BYTES = 11 * 1024 * 1024;
/** Past this much, the connection is cut rather than drained. */
const DRAIN_CAP_BYTES = 64 * 1024 * 1024;

export async function readBodyText(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<string> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > DRAIN_CAP_BYTES) {
    req.destroy();
    throw tooLarge(limit);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let overLimit = false;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > DRAIN_CAP_BYTES) {
      req.destroy();
      throw tooLarge(limit);
    }
    if (size > limit) overLimit = true;
    if (!overLimit) chunks.push(chunk);
  }
  if (overLimit) throw tooLarge(limit);
  return Buffer.concat(chunks).toString("utf8");
}

function tooLarge(limit: number): RestError {
  return new RestError("payload_too_large", `The request body is larger than ${Math.round(limit / 1024 / 1024)} MB`);
}

/** An empty body reads as `undefined`; anything else must be JSON. */
export function parseJson(text: string): unknown {
  if (!text.trim()) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new RestError(
      "bad_request",
      `The request body is not valid JSON (${(error as Error).message}); send it with Content-Type: application/json`,
    );
  }
}

export function isJsonContentType(req: IncomingMessage): boolean {
  const type = req.headers["content-type"]?.split(";")[0]?.trim().toLowerCase() ?? "";
  return type === "application/json" || type.endsWith("+json");
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
