import { createHmac, randomBytes } from "node:crypto";

/**
 * WAHA-shaped webhook delivery: one POST per event and configured URL, JSON body
 * `{id, timestamp, session, metadata?, engine, event, payload, me?, environment}`, signed with
 * `X-Webhook-Hmac` (hex HMAC-SHA512 of the raw body) when the webhook has `hmac.key`.
 * Fire and forget: a receiver that is down or slow never affects the fake's answers.
 */

export interface WebhookTarget {
  url: string;
  events: unknown[];
  hmac?: { key?: string | null } | null;
  customHeaders?: { name: string; value: string }[] | null;
}

export interface WahaEnvironment {
  version: string;
  engine: string;
  tier: string;
  browser: string;
  platform: string;
  worker: { id: string | null };
}

export interface WebhookEventInput {
  session: string;
  event: string;
  payload: unknown;
  engine: string;
  me?: { id: string; pushName: string } | null;
  metadata?: unknown;
}

const CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz";

/** Lower-case ULID, as WAHA's event ids (`evt_<ulid>`). */
export function ulid(now = Date.now()): string {
  let time = "";
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32]! + time;
    t = Math.floor(t / 32);
  }
  const random = randomBytes(16);
  let tail = "";
  for (let i = 0; i < 16; i++) tail += CROCKFORD[random[i]! % 32];
  return time + tail;
}

export function signBody(body: string, key: string): string {
  return createHmac("sha512", key).update(body).digest("hex");
}

export class WebhookSender {
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly environment: WahaEnvironment) {}

  /** Delivers `input` to every target subscribed to its event (or to "*"). */
  emit(targets: WebhookTarget[] | undefined, input: WebhookEventInput): void {
    if (!targets || targets.length === 0) return;
    const subscribed = targets.filter(
      (target) => typeof target.url === "string" && Array.isArray(target.events) && (target.events.includes(input.event) || target.events.includes("*")),
    );
    if (subscribed.length === 0) return;
    const timestamp = Date.now();
    const event = {
      id: `evt_${ulid(timestamp)}`,
      timestamp,
      session: input.session,
      ...(input.metadata !== undefined ? { metadata: input.metadata } : {}),
      engine: input.engine,
      event: input.event,
      payload: input.payload,
      ...(input.me ? { me: input.me } : {}),
      environment: { ...this.environment, engine: input.engine },
    };
    const body = JSON.stringify(event);
    for (const target of subscribed) this.post(target, body, event.id, timestamp);
  }

  /** Resolves when every delivery started so far has finished (tests, shutdown). */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private post(target: WebhookTarget, body: string, requestId: string, timestamp: number): void {
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "x-webhook-request-id": requestId,
      "x-webhook-timestamp": String(timestamp),
    };
    for (const header of target.customHeaders ?? []) {
      if (header && typeof header.name === "string" && typeof header.value === "string") headers[header.name.toLowerCase()] = header.value;
    }
    const key = target.hmac?.key;
    if (typeof key === "string" && key.length > 0) {
      headers["x-webhook-hmac"] = signBody(body, key);
      headers["x-webhook-hmac-algorithm"] = "sha512";
    }
    const delivery = fetch(target.url, { method: "POST", headers, body, signal: AbortSignal.timeout(5_000) })
      .then(async (response) => {
        await response.arrayBuffer().catch(() => undefined);
      })
      .catch(() => undefined)
      .finally(() => this.pending.delete(delivery));
    this.pending.add(delivery);
  }
}
