/**
 * WhatsApp numbers: each is a WAHA session. The row remembers the last status WAHA reported;
 * reads refresh it from WAHA when WAHA answers and fall back to the stored one when it does not.
 */
import { randomBytes } from "node:crypto";
import { and, eq, inArray, isNull, lte, or, sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../db/client";
import { campaigns, wahaServers, type WhatsappSession, whatsappSessions } from "../db/schema";
import { ACTIVE_STATUSES } from "./campaignStatuses";
import { childLogger } from "../logger";
import { conflict, isUniqueViolation, notFound, unprocessable } from "./errors";
import { type WahaApiClient, WahaError } from "./waha/client";
import type { WahaClientRegistry } from "./waha/clientRegistry";
import { type WahaServerHealth, unknownServer } from "./wahaServers";
import { assertNumberQuota, DEFAULT_QUOTAS, type QuotaDefaults } from "./quotas";
import { effectiveDailyLimit, type NumberPolicy, SAFE_DEFAULT_POLICY, warmupSchedule } from "./safeSending/policy";
import { NUMBER_WEBHOOK_EVENTS } from "./webhookKeys";

/** Simulated scans and replies go through the sandbox's own fake WAHA, which holds only the numbers placed on it. */
const SANDBOX_ONLY_FOR_OWN_NUMBERS =
  "This number is on a WAHA server you registered, not on the sandbox's built-in one: scan its QR code with the phone (simulated scans and replies exist only for the sandbox's numbers)";

export const sessionNameSchema = z
  .string()
  .trim()
  .min(1, "Give the number a name, e.g. Sales")
  .max(60, "Keep the name under 60 characters");

const log = childLogger("whatsapp-sessions");

/**
 * Every session we create asks for NOWEB's message store. Without it a NOWEB WAHA cannot say whether
 * it has a message, so recovery after a crash could only call the recipient `unknown`
 * (runner/lookup.ts); with it, WAHA answers "found" or "not found" as the other engines do. It must be
 * set at creation: WAHA reads it when the session starts and it must not change after the QR scan.
 * `fullSync: false`: we only need our own messages, not the phone's whole history.
 *
 * Sent whatever the engine, without asking WAHA for it first (`GET /api/server/version`): only the
 * NOWEB engine reads `config.noweb`, WEBJS and GOWS keep it as part of the session's config and ignore
 * it, so it is harmless there and costs no extra call or failure mode; and a session stays right if
 * the server is later switched to NOWEB.
 */
const NOWEB_STORE = { enabled: true, fullSync: false } as const;
/*
 * Likewise `config.webjs.tagsEventsOn: true` (issue 14): without it a WEBJS session sends no
 * `message.ack`, so nothing would ever read delivered or read. Only WEBJS reads `config.webjs`; WAHA
 * warns it costs WEBJS some performance, the price of knowing whether messages arrived.
 */

/** A number as the API and the pages show it: its status and its sending policy (issue 13). */
export interface SessionView extends NumberPolicy {
  id: string;
  name: string;
  wahaSessionName: string;
  /** The registered WAHA server holding it; null = the operator's default server. */
  serverId: string | null;
  /** Its registered server's health (issue 15); null on the default server (see GET /api/v1/health). */
  serverHealth: WahaServerHealth | null;
  /** The last status WAHA reported: kept while its server is unreachable (then `statusText` says so). */
  status: string;
  /** Set when the number's state is its server's: "server unreachable", "server refuses the API key". */
  statusText: string | null;
  phoneNumber: string | null;
  pushName: string | null;
  /** Today's daily cap: `dailyLimit`, or the warm-up's step for today; null = no cap. */
  todayLimit: number | null;
  /** The warm-up's daily caps, each for WARMUP_STEP_DAYS days (null at the end = no cap); null when warm-up is off. */
  warmupSchedule: (number | null)[] | null;
  firstSentAt: Date | null;
  /** WhatsApp restricts the number (capping, timelock): its campaigns wait until then. */
  restrictedUntil: Date | null;
  restrictionReason: string | null;
  createdAt: Date;
}

function policyOf(row: WhatsappSession): NumberPolicy {
  return {
    timeZone: row.timeZone,
    dailyLimit: row.dailyLimit,
    hourlyLimit: row.hourlyLimit,
    warmup: row.warmup,
    typing: row.typing,
    checkExists: row.checkExists,
    maxConsecutiveFailures: row.maxConsecutiveFailures,
  };
}

/** The health of the server a number is on, as read with the number; null = the default server. */
type ServerHealthOf = (serverId: string | null) => WahaServerHealth | null;

const STATUS_TEXT: Partial<Record<WahaServerHealth, string>> = {
  unreachable: "server unreachable",
  unauthorized: "server refuses the API key",
};

function view(row: WhatsappSession, serverHealth: WahaServerHealth | null, now = new Date()): SessionView {
  const policy = policyOf(row);
  return {
    id: row.id,
    name: row.name,
    wahaSessionName: row.wahaSessionName,
    serverId: row.serverId,
    serverHealth,
    status: row.status,
    statusText: serverHealth ? (STATUS_TEXT[serverHealth] ?? null) : null,
    phoneNumber: row.phoneNumber,
    pushName: row.pushName,
    ...policy,
    todayLimit: effectiveDailyLimit(policy, row.firstSentAt, now),
    warmupSchedule: policy.warmup ? warmupSchedule(policy.dailyLimit) : null,
    firstSentAt: row.firstSentAt,
    restrictedUntil: row.restrictedUntil,
    restrictionReason: row.restrictionReason,
    createdAt: row.createdAt,
  };
}

/** WAHA session names: lower-case letters, digits, dashes; unique on the server. */
function wahaNameFor(name: string): string {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 30);
  return `wc-${slug || "number"}-${randomBytes(3).toString("hex")}`;
}

export class WhatsappSessionService {
  constructor(
    private readonly db: Db,
    private readonly waha: WahaApiClient,
    private readonly options: {
      /** One client per registered WAHA server (issue 15); without it every number is on `waha`. */
      clients?: WahaClientRegistry;
      /** Registered servers (issue 15): placement, a chosen server's health, each server's webhook key. */
      servers?: {
        placeNumber(workspaceId: string): Promise<string | null>;
        assertUsable(workspaceId: string, serverId: string): Promise<void>;
        webhookKey(serverId: string): Promise<string | null>;
      };
      /** The in-process fake WAHA's URL when running in sandbox mode; null with a real WAHA. */
      sandboxUrl: string | null;
      webhookUrl?: string | null;
      webhookHmacKey?: string | null;
      /** QUOTA_* (the number quota is checked on create); DEFAULT_QUOTAS when not given. */
      quotas?: QuotaDefaults;
    } = { sandboxUrl: null },
  ) {}

  /** Where WAHA should post events for sessions created from now on (known once the server listens). */
  setWebhookUrl(url: string | null): void {
    this.options.webhookUrl = url;
  }

  /**
   * A number created by a person starts with SAFE_DEFAULT_POLICY (the columns' own defaults are
   * neutral, for rows made elsewhere); `policy` overrides any of it, e.g. the owner's time zone.
   * `serverId`: a registered server of the workspace (refused unless healthy), null = the default
   * server, undefined = placed on the least-loaded healthy server (wahaServers.ts `placeNumber`; a
   * workspace that registered none keeps the default server).
   */
  async create(workspaceId: string, name: string, policy: Partial<NumberPolicy> = {}, requestedServerId?: string | null): Promise<SessionView> {
    const wahaSessionName = wahaNameFor(name);
    const servers = this.options.servers;
    let serverId: string | null = requestedServerId ?? null;
    if (requestedServerId === undefined && servers && (await this.hasRegisteredServers(workspaceId))) {
      serverId = await servers.placeNumber(workspaceId);
    } else if (serverId !== null) {
      if (servers) await servers.assertUsable(workspaceId, serverId);
      else await this.assertServerInWorkspace(workspaceId, serverId);
    }
    // The number's server signs its webhooks with its own key (the default server: WAHA_WEBHOOK_SECRET).
    const hmacKey = (serverId !== null ? await servers?.webhookKey(serverId) : null) ?? this.options.webhookHmacKey ?? undefined;
    let row: WhatsappSession;
    try {
      // Each number is a session on the owner's WAHA server: counted and added under the workspace's lock.
      [row] = (await this.db.transaction(async (tx) => {
        await assertNumberQuota(tx, workspaceId, this.options.quotas ?? DEFAULT_QUOTAS);
        return tx
          .insert(whatsappSessions)
          .values({ workspaceId, name, wahaSessionName, serverId, status: "STARTING", ...SAFE_DEFAULT_POLICY, ...policy })
          .returning();
      })) as [WhatsappSession];
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict(`A number named "${name}" already exists`, "name");
      throw error;
    }
    try {
      const webhooks = this.options.webhookUrl
        ? [
            {
              url: this.options.webhookUrl,
              events: NUMBER_WEBHOOK_EVENTS,
              hmacKey,
            },
          ]
        : undefined;
      const askedAt = new Date();
      const info = await (await this.clientFor(row)).createSession(wahaSessionName, { start: true, webhooks, nowebStore: NOWEB_STORE, webjsTagsEvents: true });
      // WAHA's first session.status webhook may land before its answer: the answer never overwrites it.
      return view(await this.saveStatus(row.id, info.status, info.me ?? null, askedAt), serverId === null ? null : "healthy");
    } catch (error) {
      // Nothing half-made: without the WAHA session, the row would be a number that can never connect.
      await this.db.delete(whatsappSessions).where(eq(whatsappSessions.id, row.id));
      log.warn({ err: error instanceof WahaError ? error.message : String(error) }, "WAHA refused to create a session");
      // WAHA unreachable is a 503 worth retrying, WAHA refusing a 422: the API boundary tells which.
      throw error;
    }
  }

  async list(workspaceId: string): Promise<SessionView[]> {
    const rows = await this.db
      .select()
      .from(whatsappSessions)
      .where(eq(whatsappSessions.workspaceId, workspaceId))
      .orderBy(whatsappSessions.createdAt);
    const healthOf = await this.serverHealth(workspaceId);
    return Promise.all(rows.map((row) => this.refresh(row, healthOf)));
  }

  async get(workspaceId: string, sessionId: string): Promise<SessionView> {
    return this.refresh(await this.row(workspaceId, sessionId), await this.serverHealth(workspaceId));
  }

  async row(workspaceId: string, sessionId: string): Promise<WhatsappSession> {
    const [row] = await this.db
      .select()
      .from(whatsappSessions)
      .where(and(eq(whatsappSessions.id, sessionId), eq(whatsappSessions.workspaceId, workspaceId)));
    if (!row) throw notFound("WhatsApp number");
    return row;
  }

  /** Changes the number's sending policy (any subset of it); takes effect at its next send. */
  async updatePolicy(workspaceId: string, sessionId: string, changes: Partial<NumberPolicy>): Promise<SessionView> {
    await this.row(workspaceId, sessionId);
    if (Object.keys(changes).length === 0) return this.get(workspaceId, sessionId);
    const [row] = await this.db
      .update(whatsappSessions)
      .set(changes)
      .where(and(eq(whatsappSessions.id, sessionId), eq(whatsappSessions.workspaceId, workspaceId)))
      .returning();
    if (!row) throw notFound("WhatsApp number");
    return this.refresh(row, await this.serverHealth(workspaceId));
  }

  /** The QR code to scan while the session waits for one (PNG as a data URL). */
  async qr(workspaceId: string, sessionId: string): Promise<{ status: string; qrDataUrl: string | null }> {
    const session = await this.get(workspaceId, sessionId);
    if (session.status !== "SCAN_QR_CODE") return { status: session.status, qrDataUrl: null };
    const image = await (await this.clientFor(session)).getQrImage(session.wahaSessionName);
    return { status: session.status, qrDataUrl: `data:${image.mimetype};base64,${image.data}` };
  }

  async requestPairingCode(workspaceId: string, sessionId: string, phoneNumber: string) {
    const session = await this.row(workspaceId, sessionId);
    return (await this.clientFor(session)).requestPairingCode(session.wahaSessionName, phoneNumber.replace(/[^0-9]/g, ""));
  }

  async logout(workspaceId: string, sessionId: string): Promise<SessionView> {
    const session = await this.row(workspaceId, sessionId);
    await (await this.clientFor(session)).logoutSession(session.wahaSessionName);
    return this.refresh(session, await this.serverHealth(workspaceId));
  }

  /**
   * Deletes the number: deleted on WAHA (which stops and logs it out), then the row. Refused while
   * a campaign that has not ended sends from it, and while finished campaigns still name it (their
   * history would lose its number). WAHA unreachable or refusing our key leaves everything as it
   * was; a session WAHA no longer has is no reason to keep the row.
   */
  async delete(workspaceId: string, sessionId: string): Promise<void> {
    const session = await this.row(workspaceId, sessionId);
    const [campaignUse] = await this.db
      .select({
        active: sql<string | null>`min(${campaigns.name}) filter (where ${inArray(campaigns.status, ACTIVE_STATUSES)})`,
        total: sql<number>`count(*)::int`,
      })
      .from(campaigns)
      // Its first number, or one of several (issue 15: campaign_sessions).
      .where(sql`${campaigns.sessionId} = ${sessionId} or ${campaigns.id} in (select campaign_id from campaign_sessions where session_id = ${sessionId})`);
    if (campaignUse?.active) {
      throw conflict(`Campaign "${campaignUse.active}" still sends from this number: cancel it or let it finish first`);
    }
    if ((campaignUse?.total ?? 0) > 0) {
      throw conflict(`${campaignUse!.total} finished campaign(s) were sent from this number: delete them first`);
    }
    try {
      await (await this.clientFor(session)).deleteSession(session.wahaSessionName);
    } catch (error) {
      // WAHA down, or refusing our key: the session may still be live there, so the row stays.
      if (error instanceof WahaError && (error.kind === "transient" || error.kind === "unauthorized")) throw error;
      log.info({ session: session.wahaSessionName, err: error instanceof Error ? error.message : String(error) }, "WAHA refused to delete a session; deleting the number anyway");
    }
    await this.db.delete(whatsappSessions).where(and(eq(whatsappSessions.id, sessionId), eq(whatsappSessions.workspaceId, workspaceId)));
  }

  /** Sandbox only: the fake WAHA plays the phone that scanned the QR code. */
  async simulateScan(workspaceId: string, sessionId: string): Promise<SessionView> {
    const session = await this.row(workspaceId, sessionId);
    if (!this.options.sandboxUrl) throw conflict("Simulated scans exist only in sandbox mode (no WAHA_URL set)");
    // The sandbox's fake plays the phone of its own numbers only: asked about another server's, it would make a stray session there and change nothing.
    if (session.serverId !== null) throw conflict(SANDBOX_ONLY_FOR_OWN_NUMBERS);
    const response = await fetch(
      new URL(`/__fake/sessions/${encodeURIComponent(session.wahaSessionName)}/status`, this.options.sandboxUrl),
      { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ status: "WORKING" }) },
    );
    if (!response.ok) throw unprocessable(`The sandbox WAHA refused the simulated scan (${response.status})`);
    return this.refresh(session, await this.serverHealth(workspaceId));
  }

  /**
   * Sandbox only (issue 14): a contact's message to this number, as the fake WAHA's `message`
   * webhook brings it back here; lets a newcomer try replies and STOP without a phone.
   */
  async simulateReply(workspaceId: string, sessionId: string, from: string, text: string): Promise<{ ok: true }> {
    const session = await this.row(workspaceId, sessionId);
    if (!this.options.sandboxUrl) throw conflict("Simulated replies exist only in sandbox mode (no WAHA_URL set)");
    if (session.serverId !== null) throw conflict(SANDBOX_ONLY_FOR_OWN_NUMBERS);
    const response = await fetch(new URL("/__fake/inbound", this.options.sandboxUrl), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ session: session.wahaSessionName, from, text }),
    });
    if (!response.ok) throw unprocessable(`The sandbox WAHA refused the simulated reply (${response.status}): ${(await response.text()).slice(0, 200)}`);
    return { ok: true };
  }

  /** The number's WAHA server's client (issue 15): the default one unless it is on a registered server. */
  private async clientFor(session: { serverId: string | null }): Promise<WahaApiClient> {
    return this.options.clients ? this.options.clients.forSession(session) : this.waha;
  }

  /**
   * The client for a number known by id, for work that is about a number but not a caller's request
   * (webhook-driven sends such as the opt-out confirmation): its server's, the default when unknown.
   */
  async clientForNumber(sessionId: string): Promise<WahaApiClient> {
    const [number] = await this.db.select({ serverId: whatsappSessions.serverId }).from(whatsappSessions).where(eq(whatsappSessions.id, sessionId));
    return this.clientFor({ serverId: number?.serverId ?? null });
  }

  private async hasRegisteredServers(workspaceId: string): Promise<boolean> {
    const [any] = await this.db.select({ id: wahaServers.id }).from(wahaServers).where(eq(wahaServers.workspaceId, workspaceId)).limit(1);
    return any !== undefined;
  }

  /** The workspace's registered servers' health, read once for a page of numbers. */
  private async serverHealth(workspaceId: string): Promise<ServerHealthOf> {
    const rows = await this.db
      .select({ id: wahaServers.id, health: wahaServers.healthStatus })
      .from(wahaServers)
      .where(eq(wahaServers.workspaceId, workspaceId));
    const health = new Map(rows.map((row) => [row.id, row.health as WahaServerHealth]));
    return (serverId) => (serverId === null ? null : (health.get(serverId) ?? "unknown"));
  }

  /** A server of another workspace is as unknown as one that does not exist: 422 naming serverId. */
  private async assertServerInWorkspace(workspaceId: string, serverId: string): Promise<void> {
    const [server] = await this.db
      .select({ id: wahaServers.id })
      .from(wahaServers)
      .where(and(eq(wahaServers.id, serverId), eq(wahaServers.workspaceId, workspaceId)));
    if (!server) throw unknownServer();
  }

  private async refresh(row: WhatsappSession, healthOf: ServerHealthOf): Promise<SessionView> {
    const serverHealth = healthOf(row.serverId);
    // Its server is known down or refusing our key: the last status, said to be the server's, without
    // waiting out a call per number (the health timer notices when the server is back).
    if (serverHealth === "unreachable" || serverHealth === "unauthorized") return view(row, serverHealth);
    try {
      const info = await (await this.clientFor(row)).getSession(row.wahaSessionName);
      if (info.status === row.status && (info.me?.id ?? null) === (row.phoneNumber ?? null)) return view(row, serverHealth);
      return view(await this.saveStatus(row.id, info.status, info.me ?? null), serverHealth);
    } catch (error) {
      if (error instanceof WahaError && error.kind === "session_not_found") {
        return view(await this.saveStatus(row.id, "STOPPED", null), serverHealth);
      }
      // WAHA unreachable: show what we knew last rather than fail the page.
      return view(row, serverHealth);
    }
  }

  /** `unlessNewerThan`: a status stored from a webhook raised after this instant is kept (and returned). */
  private async saveStatus(id: string, status: string, me: { id: string; pushName?: string } | null, unlessNewerThan?: Date) {
    const [row] = await this.db
      .update(whatsappSessions)
      .set({
        status,
        phoneNumber: me ? `+${me.id.replace(/@.*$/, "")}` : null,
        pushName: me?.pushName ?? null,
        statusCheckedAt: new Date(),
      })
      .where(
        unlessNewerThan
          ? and(eq(whatsappSessions.id, id), or(isNull(whatsappSessions.statusCheckedAt), lte(whatsappSessions.statusCheckedAt, unlessNewerThan)))
          : eq(whatsappSessions.id, id),
      )
      .returning();
    if (row) return row;
    const [kept] = await this.db.select().from(whatsappSessions).where(eq(whatsappSessions.id, id));
    return kept!;
  }
}
