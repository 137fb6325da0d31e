/**
 * Signing the webhooks of numbers made before the key was set. A number created on a real WAHA
 * before WAHA_WEBHOOK_SECRET (or AUTH_SECRET) existed has a webhook without `hmac.key`: WAHA posts
 * its events unsigned and this app refuses them (wahaWebhooks.ts). `signNumberWebhooks` reads each
 * number's session config from WAHA and, where this app's webhook lacks the key (or has another
 * one) or an event the app reads (`message` came with issue 14), writes the config back with them,
 * everything else kept. Run by `npm run cli --
 * sign-webhooks`, on purpose rather than at every start: WAHA may restart a session to apply a new
 * config, and the owner should choose when.
 *
 * Issue 15: a number on a registered WAHA server is signed with that server's own key, through that
 * server's client (`servers`); numbers on the default server with WAHA_WEBHOOK_SECRET.
 */
import type { Env } from "~/env";
import type { Db } from "~/server/db/client";
import { whatsappSessions } from "~/server/db/schema";
import { asRecord } from "./waha/parse";
import { WahaApiClient } from "./waha/client";
import { WahaClientRegistry } from "./waha/clientRegistry";
import { WahaError } from "./waha/errors";
import { SecretBox } from "./waha/secretBox";
import { WahaServerService } from "./wahaServers";

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

/** A registered server's client and webhook key (null key = none could be kept: the default key). */
export interface ServerWebhookTargets {
  clientFor(serverId: string): Promise<WahaApiClient>;
  webhookKey(serverId: string): Promise<string | null>;
}

/** For the CLI: the registered servers' clients and keys, read as the web process reads them (same secret). */
export function serverWebhookTargets(
  db: Db,
  waha: WahaApiClient,
  config: Pick<Env, "ENCRYPTION_KEY" | "AUTH_SECRET" | "WAHA_WEBHOOK_SECRET" | "WAHA_TIMEOUT_MS">,
): ServerWebhookTargets & { close(): void } {
  const secret = config.ENCRYPTION_KEY ?? config.AUTH_SECRET ?? config.WAHA_WEBHOOK_SECRET ?? null;
  const clients = new WahaClientRegistry(
    waha,
    (target) => new WahaApiClient({ ...target, timeoutMs: config.WAHA_TIMEOUT_MS }),
    (serverId) => servers.target(serverId),
  );
  const servers: WahaServerService = new WahaServerService(db, secret ? new SecretBox(secret) : null, clients, { healthIntervalMs: 60_000 });
  return {
    clientFor: (serverId) => clients.forServer(serverId),
    webhookKey: (serverId) => servers.webhookKey(serverId),
    close: () => clients.close(),
  };
}

/**
 * Every number's webhook to `webhookUrl` signed with its server's key: `hmacKey` on the default
 * server (`waha`), each registered server's own through `servers`; numbers one at a time (each may restart).
 */
export async function signNumberWebhooks(
  db: Db,
  waha: WahaApiClient,
  settings: { webhookUrl: string; hmacKey: string },
  servers?: ServerWebhookTargets,
): Promise<NumberWebhookKeyResult[]> {
  const numbers = await db
    .select({ name: whatsappSessions.name, wahaSessionName: whatsappSessions.wahaSessionName, serverId: whatsappSessions.serverId })
    .from(whatsappSessions)
    .orderBy(whatsappSessions.createdAt);
  const results: NumberWebhookKeyResult[] = [];
  for (const { serverId, ...number } of numbers) {
    try {
      const onServer = serverId !== null && servers !== undefined;
      const client = onServer ? await servers.clientFor(serverId) : waha;
      const hmacKey = (onServer ? await servers.webhookKey(serverId) : null) ?? settings.hmacKey;
      results.push({ ...number, outcome: await signOne(client, number.wahaSessionName, { webhookUrl: settings.webhookUrl, hmacKey }) });
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
