/**
 * How a delivery is signed: `X-Webhook-Signature: sha256=<hex>`, the HMAC-SHA256 with the endpoint's
 * secret of `<X-Webhook-Timestamp>.<raw body>`. The timestamp (Unix seconds) is signed too, so a
 * receiver can refuse old replays; the event id (`X-Webhook-Id`, also the body's `id`) lets it drop
 * duplicates. docs/rest-api.md shows how to verify.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

export function signWebhookBody(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
}

/** What a receiver does (and the tests): constant-time comparison of the expected signature. */
export function verifyWebhookSignature(secret: string, timestamp: string, body: string, signature: string): boolean {
  const expected = Buffer.from(signWebhookBody(secret, Number(timestamp), body));
  const given = Buffer.from(signature);
  return /^\d+$/.test(timestamp) && expected.length === given.length && timingSafeEqual(expected, given);
}
