/**
 * Signing the webhooks of numbers made before the key was set. A number created on a real WAHA
 * before WAHA_WEBHOOK_SECRET (or AUTH_SECRET) existed has a webhook without `hmac.key`: WAHA posts
 * its events unsigned and this app refuses them (wahaWebhooks.ts). `signNumberWebhooks` reads each
 * number's session config from WAHA and, where this app's webhook lacks the key (or has another
 * one) or an event the app reads (`message` came with issue 14), writes the config back with them,
 * everything else kept. Run by `npm run cli --
 * sign-webhooks`, on purpose rather than at every start: WAHA may restart a session to apply a new
 * config, and the owner should choose when.
 */
import type { Env } from "~/env";
import type { Db } from "~/server/db/client";
import { whatsappSessions } from "~/server/db/schema";
import { asRecord } from "./waha/parse";
import type { WahaApiClient } from "./waha/client";
import { WahaError } from "./waha/errors";

/** The events a number's webhook asks for (the same as at creation, whatsappSessions.ts). */
export const NUMBER_WEBHOOK_EVENTS = ["session.status", "message.ack", "message"];

/** The key WAHA signs webhooks with, for a real WAHA: WAHA_WEBHOOK_SECRET, else AUTH_SECRET. */
export function configuredWebhookKey(config: Pick<Env, "WAHA_WEBHOOK_SECRET" | "AUTH_SECRET">): string | null {
  return config.WAHA_WEBHOOK_SECRET ?? config.AUTH_SECRET ?? null;
}

export type WebhookKeyOutcome =
  /** This app's webhook already had the key: nothing written. */
  | "unchanged"
  /** This app's webhook had no key, or another one: now it has this one. */
  | "signed"
  /** This app's webhook had the key but not every event the app reads (e.g. `message`, issue 14): now it has them. */
  | "subscribed"
  /** No webhook pointed at this app: one was added, signed. */
  | "added"
  /** WAHA has no such session (deleted there): nothing to sign. */
  | "missing"
  | "failed";

export interface NumberWebhookKeyResult {
  name: string;
  wahaSessionName: string;
  outcome: WebhookKeyOutcome;
  /** For "failed": what WAHA said. */
  error?: string;
}

/** Every number's webhook to `webhookUrl` signed with `hmacKey`; numbers one at a time (each may restart). */
export async function signNumberWebhooks(
  db: Db,
  waha: WahaApiClient,
  settings: { webhookUrl: string; hmacKey: string },
): Promise<NumberWebhookKeyResult[]> {
  const numbers = await db
    .select({ name: whatsappSessions.name, wahaSessionName: whatsappSessions.wahaSessionName })
    .from(whatsappSessions)
    .orderBy(whatsappSessions.createdAt);
  const results: NumberWebhookKeyResult[] = [];
  for (const number of numbers) {
    try {
      results.push({ ...number, outcome: await signOne(waha, number.wahaSessionName, settings) });
    } catch (error) {
      if (error instanceof WahaError && error.httpStatus === 404) results.push({ ...number, outcome: "missing" });
      else results.push({ ...number, outcome: "failed", error: error instanceof Error ? error.message : String(error) });
    }
  }
  return results;
}

async function signOne(waha: WahaApiClient, session: string, settings: { webhookUrl: string; hmacKey: string }): Promise<WebhookKeyOutcome> {
  const config = (await waha.getSessionConfig(session)) ?? {};
  const webhooks = Array.isArray(config.webhooks) ? (config.webhooks as unknown[]) : [];
  const ours = webhooks.findIndex((hook) => asRecord(hook)?.url === settings.webhookUrl);
  if (ours >= 0) {
    const hook = asRecord(webhooks[ours])!;
    const events = Array.isArray(hook.events) ? (hook.events as unknown[]) : [];
    // A number made before the app read an event (e.g. `message`, issue 14) is subscribed to it too.
    const missing = events.includes("*") ? [] : NUMBER_WEBHOOK_EVENTS.filter((event) => !events.includes(event));
    const keyed = asRecord(hook.hmac)?.key === settings.hmacKey;
    if (keyed && missing.length === 0) return "unchanged";
    const fixed = { ...hook, events: [...events, ...missing], hmac: { ...asRecord(hook.hmac), key: settings.hmacKey } };
    await waha.updateSessionConfig(session, { ...config, webhooks: webhooks.map((other, index) => (index === ours ? fixed : other)) });
    return keyed ? "subscribed" : "signed";
  }
  const added = { url: settings.webhookUrl, events: NUMBER_WEBHOOK_EVENTS, hmac: { key: settings.hmacKey } };
  await waha.updateSessionConfig(session, { ...config, webhooks: [...webhooks, added] });
  return "added";
}
