/**
 * Request bodies: read under the route's size limit (src/server/http/limits.ts: 1 MB for JSON, more
 * for CSV), decoded as UTF-8, parsed as JSON when asked, with the nesting depth checked first. A body
 * over the limit is left unread: the 413 goes out at once and the server drops the rest
 * (src/server/http/requestBody.ts).
 */
import type { IncomingMessage } from "node:http";
import { jsonNestingExceeds, tooDeepMessage } from "../http/jsonDepth";
import { BODY_LIMIT_BYTES, describeBytes, MAX_JSON_DEPTH } from "../http/limits";
import { BodyTooLargeError, declaresMoreThan, readBoundedBody } from "../http/requestBody";
import { RestError } from "./errors";

export async function readBodyText(req: IncomingMessage, limitBytes: number = BODY_LIMIT_BYTES.json): Promise<string> {
  try {
    return (await readBoundedBody(req, limitBytes)).toString("utf8");
  } catch (error) {
    if (error instanceof BodyTooLargeError) throw tooLarge(limitBytes);
    throw error;
  }
}

/** Before anything else (even the API key): a `Content-Length` over the limit is refused unread. */
export function refuseDeclaredOverLimit(req: IncomingMessage, limitBytes: number): void {
  if (declaresMoreThan(req, limitBytes)) throw tooLarge(limitBytes);
}

function tooLarge(limitBytes: number): RestError {
  return new RestError("payload_too_large", `The request body is larger than ${describeBytes(limitBytes)}, the limit of this endpoint`);
}

/** An empty body reads as `undefined`; anything else must be JSON. */
export function parseJson(text: string): unknown {
  if (!text.trim()) return undefined;
  if (jsonNestingExceeds(text, MAX_JSON_DEPTH)) throw new RestError("bad_request", tooDeepMessage(MAX_JSON_DEPTH));
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
