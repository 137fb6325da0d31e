/**
 * What one request may cost, in one place (issue 12). Every body is bounded before it is read:
 * past its limit the answer is 413, from `Content-Length` or while streaming; past the depth limit 400.
 */
const MB = 1024 * 1024;

export const BODY_LIMIT_BYTES = {
  /** Any JSON body: tRPC calls, REST JSON, webhooks, anything sent to a page. */
  json: 1 * MB,
  /** CSV imports: a little over the 10 MB the import itself allows, so its own message reaches the caller. */
  csv: 11 * MB,
  /** An image upload: 5 MB of image as base64 (tRPC `media.upload`), with room for the JSON around it. */
  media: 8 * MB,
} as const;

/** Nesting of arrays and objects in any JSON input; the app's own inputs stay under 10. */
export const MAX_JSON_DEPTH = 32;

/** Calls in one tRPC `?batch=1` request (the dashboard's batch link sends at most as many). */
export const MAX_TRPC_BATCH = 10;

/**
 * After a refused body, at most this much more is read and dropped (so that the client, still
 * sending, gets to read the 413 instead of a reset connection); past it the connection is cut.
 */
export const DISCARD_CAP_BYTES = 16 * MB;

/**
 * Past the cap, the server closes its side (FIN, after the answer) and drops what still arrives for at
 * most this long, so that the client reads the answer before the connection is cut (a reset while
 * the answer is still unread in the client's buffer would lose it).
 */
export const DISCARD_LINGER_MS = 2_000;

export function describeBytes(bytes: number): string {
  return bytes >= MB ? `${Math.round(bytes / MB)} MB` : `${Math.round(bytes / 1024)} KB`;
}
