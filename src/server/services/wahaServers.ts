/**
 * The WAHA servers a workspace registers (issue 15): name, URL and API key (sealed at rest, never
 * returned), and each server's health, checked on a timer with one cheap call (GET /api/sessions).
 *
 * Each registered server signs its webhooks with a key of its own, made here at registration and
 * sealed like the API key; it is never shown (the app configures it on every session it creates
 * there, and `npm run cli -- sign-webhooks` on older ones). A webhook for a number on server S is
 * verified with S's key only (`webhookKeyForSession`); the operator's default server keeps
 * WAHA_WEBHOOK_SECRET.
 *
 * A number's health follows its server's: while S is unreachable its numbers read "server
 * unreachable" (their last WAHA status kept), and the campaigns running on them pause as
 * `waha_unavailable`, the reason the auto-resume path watches (runner/autoResume.ts); when S
 * answers again their next check is made due at once, and they resume by themselves.
 *
 * Placement (`placeNumber`): a number created without a server goes to the least-loaded healthy
 * server of its workspace (fewest of the workspace's numbers; ties: the default server first, then by
 * name, then registration), the operator's default server counting as one.
 */
import { randomBytes } from "node:crypto";
import { and, asc, count, eq, inArray, isNull, or, sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../db/client";
import { campaigns, wahaServers, whatsappSessions } from "../db/schema";
import { childLogger } from "../logger";
import { recordCampaignEvent } from "./campaignEvents";
import { AppError, badRequest, conflict, isUniqueViolation, notFound, unprocessable } from "./errors";
import { AUTO_RESUME_REASONS, PAUSE_REASONS, systemPause } from "./runner/pauses";
import type { WahaClientRegistry } from "./waha/clientRegistry";
import { WahaError } from "./waha/errors";
import type { SecretBox } from "./waha/secretBox";

const log = childLogger("waha-servers");

type WahaServer = typeof wahaServers.$inferSelect;

export const wahaServerNameSchema = z.string().trim().min(1, "Give the server a name, e.g. WAHA 1").max(60, "Keep the name under 60 characters");
export const wahaServerUrlSchema = z
  .url({ protocol: /^https?$/, error: "url must be the WAHA server's http(s) address, e.g. http://waha-1:3000" })
  .max(500, "Keep the URL under 500 characters");
/** null or "" = the server takes no key. */
export const wahaServerApiKeySchema = z.string().max(500, "Keep the API key under 500 characters").nullable();

export type WahaServerHealth = "unknown" | "healthy" | "unreachable" | "unauthorized";

/** A server as the API and the page show it: never its key, only whether it has one. */
export interface WahaServerView {
  id: string;
  name: string;
  url: string;
  hasApiKey: boolean;
  health: WahaServerHealth;
  healthDetail: string | null;
  healthCheckedAt: Date | null;
  numbers: number;
  createdAt: Date;
}

function view(row: WahaServer, numbers: number): WahaServerView {
  return {
    id: row.id,
    name: row.name,
    url: row.url,
    hasApiKey: row.apiKeyEncrypted !== null,
    health: row.healthStatus as WahaServerHealth,
    healthDetail: row.healthDetail,
    healthCheckedAt: row.healthCheckedAt,
    numbers,
    createdAt: row.createdAt,
  };
}

export class WahaServerService {
  private timer: NodeJS.Timeout | null = null;

  /** Opened webhook keys by server id, with the sealed text they came from (a changed row is re-opened). */
  private readonly webhookKeys = new Map<string, { sealed: string; key: string }>();
  /** WAHA session name → its server id (null = the default server): fixed for a row's life, so kept (bounded). */
  private readonly serverOfSession = new Map<string, string | null>();

  constructor(
    private readonly db: Db,
    /** Null when no ENCRYPTION_KEY / AUTH_SECRET / WAHA_WEBHOOK_SECRET is set: keys cannot be stored. */
    private readonly secretBox: SecretBox | null,
    private readonly clients: WahaClientRegistry,
    private readonly options: {
      healthIntervalMs: number;
      /** The operator's default server (WAHA_URL or the sandbox's fake) exists: it takes numbers too. */
      defaultServer?: { name: string; healthy: () => boolean } | null;
    },
  ) {}

  async create(workspaceId: string, input: { name: string; url: string; apiKey?: string | null }): Promise<WahaServerView> {
    const apiKeyEncrypted = this.seal(input.apiKey);
    // Its own webhook key, never shown; without a secret box (sandbox, no secret set) it cannot be
    // stored and the server's webhooks use the process's key (webhookKey).
    const webhookSecretEncrypted = this.secretBox ? this.secretBox.seal(newWebhookKey()) : null;
    try {
      const [row] = await this.db
        .insert(wahaServers)
        .values({ workspaceId, name: input.name, url: normaliseUrl(input.url), apiKeyEncrypted, webhookSecretEncrypted })
        .returning();
      return view(await this.check(row!), 0);
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict(`A WAHA server named "${input.name}" already exists`, "name");
      throw error;
    }
  }

  async list(workspaceId: string): Promise<WahaServerView[]> {
    const rows = await this.db.select().from(wahaServers).where(eq(wahaServers.workspaceId, workspaceId)).orderBy(asc(wahaServers.createdAt));
    const counts = await this.numberCounts(workspaceId);
    return rows.map((row) => view(row, counts.get(row.id) ?? 0));
  }

  async get(workspaceId: string, id: string): Promise<WahaServerView> {
    const row = await this.row(workspaceId, id);
    return view(row, (await this.numberCounts(workspaceId)).get(id) ?? 0);
  }

  /** The registered server, scoped to the workspace: 404 for anyone else's. */
  async row(workspaceId: string, id: string): Promise<WahaServer> {
    const [row] = await this.db.select().from(wahaServers).where(and(eq(wahaServers.id, id), eq(wahaServers.workspaceId, workspaceId)));
    if (!row) throw notFound("WAHA server");
    return row;
  }

  async update(workspaceId: string, id: string, changes: { name?: string; url?: string; apiKey?: string | null }): Promise<WahaServerView> {
    await this.row(workspaceId, id);
    const set: Partial<typeof wahaServers.$inferInsert> = {};
    if (changes.name !== undefined) set.name = changes.name;
    if (changes.url !== undefined) set.url = normaliseUrl(changes.url);
    if (changes.apiKey !== undefined) set.apiKeyEncrypted = this.seal(changes.apiKey);
    let row: WahaServer = await this.row(workspaceId, id);
    if (Object.keys(set).length > 0) {
      try {
        [row] = (await this.db
          .update(wahaServers)
          .set({ ...set, healthStatus: "unknown", healthDetail: null, healthCheckedAt: null })
          .where(and(eq(wahaServers.id, id), eq(wahaServers.workspaceId, workspaceId)))
          .returning()) as [WahaServer];
      } catch (error) {
        if (isUniqueViolation(error)) throw conflict(`A WAHA server named "${changes.name}" already exists`, "name");
        throw error;
      }
      row = await this.check(row);
    }
    return view(row, (await this.numberCounts(workspaceId)).get(id) ?? 0);
  }

  /** Refused while numbers live on it: they would lose their server. */
  async delete(workspaceId: string, id: string): Promise<void> {
    await this.row(workspaceId, id);
    const numbers = (await this.numberCounts(workspaceId)).get(id) ?? 0;
    if (numbers > 0) throw conflict(`${numbers} WhatsApp number(s) are on this WAHA server: delete them first`);
    try {
      await this.db.delete(wahaServers).where(and(eq(wahaServers.id, id), eq(wahaServers.workspaceId, workspaceId)));
    } catch (error) {
      // A number created on it between the count and the delete: the foreign key refuses (restrict).
      if (error instanceof Error && /foreign key|violates/i.test(error.message + String((error as { cause?: unknown }).cause ?? ""))) {
        throw conflict("A WhatsApp number was just created on this WAHA server: delete it first");
      }
      throw error;
    }
    this.clients.forget(id);
    this.webhookKeys.delete(id);
  }

  /**
   * The key a registered server's webhooks are signed with; null = the default key (no secret box to
   * keep one, or the server is gone). A server registered before keys existed gets one on first use.
   */
  async webhookKey(serverId: string): Promise<string | null> {
    if (!this.secretBox) return null;
    // A server's key never changes once made (no rotation): no read per webhook.
    const cached = this.webhookKeys.get(serverId);
    if (cached) return cached.key;
    const [row] = await this.db.select({ sealed: wahaServers.webhookSecretEncrypted }).from(wahaServers).where(eq(wahaServers.id, serverId));
    if (!row) return null;
    let sealed = row.sealed;
    if (sealed === null) {
      // Conditional: two processes making one at once agree on whichever was stored first.
      await this.db
        .update(wahaServers)
        .set({ webhookSecretEncrypted: this.secretBox.seal(newWebhookKey()) })
        .where(and(eq(wahaServers.id, serverId), isNull(wahaServers.webhookSecretEncrypted)));
      [{ sealed }] = (await this.db.select({ sealed: wahaServers.webhookSecretEncrypted }).from(wahaServers).where(eq(wahaServers.id, serverId))) as [{ sealed: string | null }];
      if (sealed === null) return null;
    }
    const known = this.webhookKeys.get(serverId);
    if (known?.sealed === sealed) return known.key;
    const key = this.secretBox.open(sealed);
    this.webhookKeys.set(serverId, { sealed, key });
    return key;
  }

  /**
   * The key a webhook about this WAHA session must be signed with: its server's when the number is
   * on a registered server, else null (the default key: the default server's numbers, and names we
   * do not know, which the handler ignores once verified).
   */
  async webhookKeyForSession(wahaSessionName: string): Promise<string | null> {
    let serverId = this.serverOfSession.get(wahaSessionName);
    if (serverId === undefined) {
      const [row] = await this.db
        .select({ serverId: whatsappSessions.serverId })
        .from(whatsappSessions)
        .where(eq(whatsappSessions.wahaSessionName, wahaSessionName));
      if (!row) return null;
      serverId = row.serverId;
      if (this.serverOfSession.size >= 50_000) this.serverOfSession.clear();
      this.serverOfSession.set(wahaSessionName, serverId);
    }
    return serverId === null ? null : this.webhookKey(serverId);
  }

  /**
   * Where a new number goes when its owner names no server: the healthy server with the fewest of the
   * workspace's numbers; the default server (when there is one) is a candidate too and wins ties,
   * then registered servers by name and registration. null = the default server. None healthy: 503.
   */
  async placeNumber(workspaceId: string): Promise<string | null> {
    const rows = await this.db.select().from(wahaServers).where(eq(wahaServers.workspaceId, workspaceId));
    const counts = await this.numberCounts(workspaceId);
    const candidates = placementCandidates(
      rows.map((row) => ({ id: row.id, name: row.name, createdAt: row.createdAt, health: row.healthStatus as WahaServerHealth, numbers: counts.get(row.id) ?? 0 })),
      this.options.defaultServer ? { healthy: this.options.defaultServer.healthy(), numbers: counts.get(DEFAULT_SERVER_KEY) ?? 0 } : null,
    );
    const chosen = candidates[0];
    if (chosen === undefined) {
      const down = rows.map((row) => `${row.name} (${row.healthStatus})`);
      if (this.options.defaultServer) down.unshift(`${this.options.defaultServer.name} (unreachable)`);
      throw new AppError(
        "UNAVAILABLE",
        `No healthy WAHA server to place the number on${down.length > 0 ? `: ${down.join(", ")}` : ""}. Register a server, or wait until one answers again`,
        "serverId",
        { retryAfterSeconds: Math.max(1, Math.round(this.options.healthIntervalMs / 1000)) },
      );
    }
    return chosen;
  }

  /**
   * A server named for a new number must be the workspace's (422 naming serverId, as any id in a body
   * that names nothing: another workspace's server is as unknown as a deleted one) and healthy (409 naming it).
   */
  async assertUsable(workspaceId: string, serverId: string): Promise<void> {
    const [row] = await this.db.select().from(wahaServers).where(and(eq(wahaServers.id, serverId), eq(wahaServers.workspaceId, workspaceId)));
    if (!row) throw unknownServer();
    if (row.healthStatus !== "healthy") {
      throw conflict(
        `WAHA server "${row.name}" is ${row.healthStatus}${row.healthDetail ? ` (${row.healthDetail})` : ""}: choose a healthy server, or leave serverId out to place the number on the least-loaded healthy one`,
        "serverId",
      );
    }
  }

  /** The decrypted target for the client registry; null when the server is gone. */
  async target(serverId: string): Promise<{ id: string; url: string; apiKey: string | null } | null> {
    const [row] = await this.db.select().from(wahaServers).where(eq(wahaServers.id, serverId));
    if (!row) return null;
    return { id: row.id, url: row.url, apiKey: this.openKey(row) };
  }

  /** Checks every registered server once, one after another (a few per workspace: cheap). */
  async checkAll(): Promise<void> {
    const rows = await this.db.select().from(wahaServers);
    for (const row of rows) await this.check(row);
  }

  startHealthChecks(): void {
    if (this.timer) return;
    let running = false;
    this.timer = setInterval(() => {
      if (running) return; // a slow server never piles up checks
      running = true;
      this.checkAll()
        .catch((error: unknown) => log.warn({ err: error instanceof Error ? error.message : String(error) }, "WAHA server health check failed"))
        .finally(() => (running = false));
    }, this.options.healthIntervalMs);
    this.timer.unref();
  }

  stopHealthChecks(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One GET /api/sessions with the server's key: answered = healthy, 401/403 = unauthorized, else unreachable. */
  private async check(row: WahaServer): Promise<WahaServer> {
    const updated = await this.probe(row);
    if (updated.healthStatus === "unreachable") await this.pauseCampaignsOn(updated);
    else if (updated.healthStatus === "healthy" && row.healthStatus !== "healthy") await this.checkPausedCampaignsNow(updated);
    return updated;
  }

  /**
   * The server does not answer: every campaign Running from one of its numbers pauses as
   * `waha_unavailable` (first auto-resume check AUTO_RESUME_FIRST_CHECK_MS later), as the run itself
   * would at its next send; its runner sees the lease gone and stops after the send in flight.
   * Repeated at each failed check, so a campaign started meanwhile pauses too. A campaign over
   * several numbers (campaign_sessions) is left to its run: its other numbers go on, and the run
   * treats this one as a dropped number.
   */
  private async pauseCampaignsOn(server: WahaServer): Promise<void> {
    const onServer = this.db.select({ id: whatsappSessions.id }).from(whatsappSessions).where(eq(whatsappSessions.serverId, server.id));
    const detail = `WAHA server "${server.name}" is unreachable${server.healthDetail ? ` (${server.healthDetail})` : ""}`;
    const rows = await this.db
      .update(campaigns)
      .set(systemPause(PAUSE_REASONS.wahaUnavailable, detail, "soon"))
      .where(
        and(
          eq(campaigns.status, "Running"),
          inArray(campaigns.sessionId, onServer),
          sql`not exists (select 1 from campaign_sessions cs where cs.campaign_id = ${campaigns.id})`,
        ),
      )
      .returning({ id: campaigns.id });
    for (const paused of rows) {
      log.info({ campaignId: paused.id, serverId: server.id }, "campaign paused: its number's WAHA server is unreachable");
      await recordCampaignEvent(this.db, { campaignId: paused.id, kind: "paused", reason: PAUSE_REASONS.wahaUnavailable, detail });
    }
  }

  /** The server answers again: its numbers' outage-paused campaigns are checked (and resumed) at the next auto-resume tick. */
  private async checkPausedCampaignsNow(server: WahaServer): Promise<void> {
    const onServer = this.db.select({ id: whatsappSessions.id }).from(whatsappSessions).where(eq(whatsappSessions.serverId, server.id));
    await this.db
      .update(campaigns)
      .set({ autoResumeAt: sql`now()` })
      .where(
        and(
          eq(campaigns.status, "Paused"),
          inArray(campaigns.pauseReason, [...AUTO_RESUME_REASONS]),
          isNull(campaigns.autoResumeStoppedAt),
          // Its number, or one of its numbers (a campaign over several): the check decides.
          or(
            inArray(campaigns.sessionId, onServer),
            sql`exists (select 1 from campaign_sessions cs join whatsapp_sessions n on n.id = cs.session_id where cs.campaign_id = ${campaigns.id} and n.server_id = ${server.id})`,
          ),
        ),
      );
  }

  private async probe(row: WahaServer): Promise<WahaServer> {
    let health: WahaServerHealth = "healthy";
    let detail: string | null = null;
    try {
      const apiKey = this.openKey(row);
      await this.clients.forTarget({ id: row.id, url: row.url, apiKey }).listSessions();
    } catch (error) {
      const kind = error instanceof WahaError ? error.kind : null;
      health = kind === "unauthorized" ? "unauthorized" : "unreachable";
      detail = (error instanceof Error ? error.message : String(error)).slice(0, 300);
    }
    const [updated] = await this.db
      .update(wahaServers)
      .set({ healthStatus: health, healthDetail: detail, healthCheckedAt: new Date() })
      .where(eq(wahaServers.id, row.id))
      .returning();
    return updated ?? row;
  }

  private seal(apiKey: string | null | undefined): string | null {
    if (apiKey === undefined || apiKey === null || apiKey.trim() === "") return null;
    if (!this.secretBox) {
      throw badRequest(
        "API keys are stored encrypted and this server has no secret to encrypt them with: set ENCRYPTION_KEY (or AUTH_SECRET) to at least 16 random characters, e.g. `openssl rand -hex 32`, and restart",
        "apiKey",
      );
    }
    return this.secretBox.seal(apiKey.trim());
  }

  private openKey(row: WahaServer): string | null {
    if (row.apiKeyEncrypted === null) return null;
    if (!this.secretBox) throw new Error("The WAHA server's API key is stored encrypted but no ENCRYPTION_KEY / AUTH_SECRET is set");
    return this.secretBox.open(row.apiKeyEncrypted);
  }

  private async numberCounts(workspaceId: string): Promise<Map<string, number>> {
    const rows = await this.db
      .select({ serverId: whatsappSessions.serverId, numbers: count() })
      .from(whatsappSessions)
      .where(eq(whatsappSessions.workspaceId, workspaceId))
      .groupBy(whatsappSessions.serverId);
    return new Map(rows.map((r) => [r.serverId ?? DEFAULT_SERVER_KEY, Number(r.numbers)]));
  }
}

/** An id in a request body that names no server of the workspace. */
export function unknownServer(): AppError {
  return unprocessable("serverId names no WAHA server of this workspace: see GET /api/v1/waha-servers", "serverId");
}

/** The default server's entry in the number counts (a registered server's key is its uuid). */
const DEFAULT_SERVER_KEY = "default";

export interface PlacementServer {
  id: string;
  name: string;
  createdAt: Date;
  health: WahaServerHealth;
  numbers: number;
}

/**
 * The placement rule, pure: healthy servers only, fewest numbers first; on a tie the default server
 * (when there is one) first, then by name, then by registration. Returns server ids in that order,
 * null standing for the default server.
 */
export function placementCandidates(servers: PlacementServer[], defaultServer: { healthy: boolean; numbers: number } | null): (string | null)[] {
  const candidates: { id: string | null; name: string; createdAt: number; numbers: number }[] = servers
    .filter((server) => server.health === "healthy")
    .map((server) => ({ id: server.id, name: server.name, createdAt: server.createdAt.getTime(), numbers: server.numbers }));
  if (defaultServer?.healthy) candidates.push({ id: null, name: "", createdAt: -Infinity, numbers: defaultServer.numbers });
  candidates.sort(
    (a, b) =>
      a.numbers - b.numbers ||
      (a.id === null ? -1 : b.id === null ? 1 : 0) ||
      a.name.localeCompare(b.name) ||
      a.createdAt - b.createdAt,
  );
  return candidates.map((candidate) => candidate.id);
}

function newWebhookKey(): string {
  return randomBytes(32).toString("hex");
}

function normaliseUrl(url: string): string {
  return url.replace(/\/+$/, "");
}
