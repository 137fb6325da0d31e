/**
 * The WAHA servers a workspace registers (issue 15): name, URL and API key (sealed at rest, never
 * returned), and each server's health, checked on a timer with one cheap call (GET /api/sessions).
 */
import { and, asc, count, eq } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../db/client";
import { wahaServers, whatsappSessions } from "../db/schema";
import { childLogger } from "../logger";
import { badRequest, conflict, isUniqueViolation, notFound } from "./errors";
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

  constructor(
    private readonly db: Db,
    /** Null when no ENCRYPTION_KEY / AUTH_SECRET / WAHA_WEBHOOK_SECRET is set: keys cannot be stored. */
    private readonly secretBox: SecretBox | null,
    private readonly clients: WahaClientRegistry,
    private readonly options: { healthIntervalMs: number },
  ) {}

  async create(workspaceId: string, input: { name: string; url: string; apiKey?: string | null }): Promise<WahaServerView> {
    const apiKeyEncrypted = this.seal(input.apiKey);
    try {
      const [row] = await this.db
        .insert(wahaServers)
        .values({ workspaceId, name: input.name, url: normaliseUrl(input.url), apiKeyEncrypted })
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
    return new Map(rows.filter((r) => r.serverId !== null).map((r) => [r.serverId!, Number(r.numbers)]));
  }
}

function normaliseUrl(url: string): string {
  return url.replace(/\/+$/, "");
}
