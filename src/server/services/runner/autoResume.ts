/**
 * Outages pass by themselves. A campaign the system paused because WAHA was unreachable or its
 * number was not WORKING is resumed, without a person, once the cause clears:
 * - each such pause has its next check in the row (`auto_resume_at`), 5 s after the pause, then
 *   7.5, 11, 17, 25, 38, 57 and 60 s apart while the cause lasts (shared by every process, so a
 *   fleet of processes does not probe WAHA more often);
 * - a check asks WAHA for the number's session: WORKING resumes the campaign; an answer with another
 *   status keeps it paused as `session_not_working`; no answer keeps it `waha_unavailable`;
 * - a `session.status` webhook or the periodic read of every number's status (which also keeps the
 *   app's view of each number current when WAHA lost its webhook configuration) resumes at once;
 * - a pause older than the owner's limit (default 24 h) stops trying, says so, and waits for a person.
 * A pause a person made never resumes here: every statement is conditional on an auto-resume reason.
 *
 * Resuming is one conditional UPDATE (Paused for such a reason -> Running without a lease) followed
 * by starting the campaign; the runner's claim then takes it as any unheld Running campaign, and if
 * this process dies in between, the sweep takes it over.
 */
import { type SQL, and, eq, inArray, isNull, lte, sql } from "drizzle-orm";
import type { Logger } from "pino";
import type { Db } from "~/server/db/client";
import { campaigns, whatsappSessions } from "~/server/db/schema";
import { childLogger } from "~/server/logger";
import { recordCampaignEvent } from "../campaignEvents";
import { WahaError } from "../waha/errors";
import type { WahaApiClient, WahaSessionInfo } from "../waha/client";
import { NOT_PAUSED } from "./claim";
import { resumeEndedRestrictions } from "./restrictions";
import { AUTO_RESUME_FIRST_CHECK_MS, AUTO_RESUME_GROWTH, AUTO_RESUME_MAX_CHECK_MS, AUTO_RESUME_REASONS, PAUSE_REASONS, pauseReasonFor } from "./pauses";

export interface AutoResumeOptions {
  /** How often due checks are looked for (one indexed query when nothing is paused). Default 1 s. */
  tickMs?: number;
  /** How often every number's status is read from WAHA (webhooks may be lost). Default 30 s. */
  sessionProbeMs?: number;
  /** A pause the system made that lasts longer than this stops resuming by itself. Default 24 h. */
  giveUpAfterMs?: number;
  /**
   * Issue 15: the client of the WAHA server a number is on (null = the default server, the
   * constructor's client). Without it every number is asked on the default server.
   */
  clientForServer?: (serverId: string | null) => Promise<WahaApiClient>;
  logger?: Logger;
}

/**
 * Campaigns waiting for one of these numbers: a campaign over several numbers (issue 15) waits for
 * the numbers its remaining recipients are kept for (the others go on while it runs); one with a
 * single number waits for it.
 */
const waitsFor = (sessionIds: string[]): SQL => {
  const ids = sql.join(
    sessionIds.map((id) => sql`${id}::uuid`),
    sql`, `,
  );
  return sql`(case when exists (select 1 from campaign_sessions s where s.campaign_id = ${campaigns.id})
     then exists (select 1 from campaign_recipients r where r.campaign_id = ${campaigns.id} and r.status = 'pending' and r.session_id in (${ids}))
     else ${campaigns.sessionId} in (${ids}) end)`;
};

const autoReasons = () => inArray(campaigns.pauseReason, [...AUTO_RESUME_REASONS]);
/** Paused by the system for a cause it watches, and still trying. */
const resumableByItself = () => and(eq(campaigns.status, "Paused"), autoReasons(), isNull(campaigns.autoResumeStoppedAt));

export class AutoResumeService {
  private readonly tickMs: number;
  private readonly sessionProbeMs: number;
  private readonly giveUpAfterMs: number;
  private readonly logger: Logger;
  private readonly clientForServer: (serverId: string | null) => Promise<WahaApiClient>;
  private timer: NodeJS.Timeout | null = null;
  private current: Promise<void> | null = null;
  private lastSessionProbeAt = 0;
  private stopped = false;

  constructor(
    private readonly db: Db,
    private readonly wahaApiClient: WahaApiClient,
    /** Starts a campaign that is Running without a lease (the scheduler's `startCampaignNow`). */
    private readonly startCampaign: (campaignId: string) => Promise<void>,
    options: AutoResumeOptions = {},
  ) {
    this.tickMs = Math.max(50, options.tickMs ?? 1_000);
    this.sessionProbeMs = Math.max(100, options.sessionProbeMs ?? 30_000);
    this.giveUpAfterMs = Math.max(0, options.giveUpAfterMs ?? 24 * 3_600_000);
    this.logger = options.logger ?? childLogger("auto-resume");
    const fallback = async () => wahaApiClient;
    this.clientForServer = options.clientForServer ?? fallback;
  }

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.current;
  }

  /** One pass: give up on pauses that lasted too long, check the causes that are due, read every number's status when it is time. */
  async tick(): Promise<void> {
    if (this.current) return this.current;
    this.current = this.pass().finally(() => {
      this.current = null;
    });
    return this.current;
  }

  /** A `session.status` webhook: a number back to WORKING resumes its campaigns paused for an outage, now. */
  async sessionReported(wahaSessionName: string, status: string): Promise<void> {
    if (status !== "WORKING") return;
    const named = await this.db.select({ id: whatsappSessions.id }).from(whatsappSessions).where(eq(whatsappSessions.wahaSessionName, wahaSessionName));
    if (named.length === 0) return;
    await this.resume(waitsFor(named.map((row) => row.id)), "the number reported WORKING (webhook)");
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.tick()
        .catch((error: unknown) => this.logger.error({ err: error }, "auto-resume pass failed; trying again"))
        .finally(() => this.schedule());
    }, this.tickMs);
    this.timer.unref();
  }

  private async pass(): Promise<void> {
    await this.giveUpOnLongPauses();
    await this.checkDueCauses();
    await this.resumeEndedRestrictions();
    if (Date.now() - this.lastSessionProbeAt >= this.sessionProbeMs) {
      this.lastSessionProbeAt = Date.now();
      await this.probeAllSessions();
    }
  }

  /** A number's restriction with a known end (runner/restrictions.ts): its campaigns resume then. */
  private async resumeEndedRestrictions(): Promise<void> {
    if (this.stopped) return;
    for (const id of await resumeEndedRestrictions(this.db)) {
      this.logger.info({ campaignId: id }, "campaign resumed: the number's restriction ended");
      await this.startCampaign(id).catch((error: unknown) => this.logger.error({ campaignId: id, err: error }, "resumed campaign could not be started; the sweep will"));
    }
  }

  private async giveUpOnLongPauses(): Promise<void> {
    const rows = await this.db
      .update(campaigns)
      .set({ autoResumeStoppedAt: sql`now()`, autoResumeAt: null, updatedAt: sql`now()` })
      .where(and(resumableByItself(), lte(campaigns.pausedAt, sql`now() - ${this.giveUpAfterMs}::float8 * interval '1 millisecond'`)))
      .returning({ id: campaigns.id, pauseReason: campaigns.pauseReason });
    const hours = Math.round((this.giveUpAfterMs / 3_600_000) * 10) / 10;
    for (const row of rows) {
      this.logger.warn({ campaignId: row.id, reason: row.pauseReason }, "campaign paused too long; no longer resuming it by itself");
      await recordCampaignEvent(this.db, {
        campaignId: row.id,
        kind: "auto_resume_stopped",
        reason: row.pauseReason,
        detail: `Paused by the system for more than ${hours} h: no longer trying by itself. Press Resume once the cause is fixed.`,
      });
    }
  }

  private async checkDueCauses(): Promise<void> {
    // The number whose return the campaign waits for: for a campaign over several numbers, the one
    // holding its remaining recipients (issue 15; one index probe), else its first. A send left
    // `sending` counts as remaining: only its own number can settle it, and asking the first number
    // (WORKING) instead resumed a run that paused again at once, every tick.
    const awaited = sql<string>`coalesce((select r.session_id from campaign_recipients r
        where r.campaign_id = ${campaigns.id} and r.status in ('pending', 'sending') and r.session_id is not null
          and exists (select 1 from campaign_sessions s where s.campaign_id = r.campaign_id)
        order by r.session_id limit 1), ${campaigns.sessionId})`;
    const due = await this.db
      .select({ id: campaigns.id, sessionId: whatsappSessions.id, wahaSessionName: whatsappSessions.wahaSessionName, serverId: whatsappSessions.serverId })
      .from(campaigns)
      .innerJoin(whatsappSessions, sql`${whatsappSessions.id} = ${awaited}`)
      .where(and(resumableByItself(), lte(campaigns.autoResumeAt, sql`now()`)));
    const bySession = new Map<string, typeof due>();
    for (const row of due) {
      const rows = bySession.get(row.sessionId);
      if (rows) rows.push(row);
      else bySession.set(row.sessionId, [row]);
    }
    for (const [sessionId, rows] of bySession) {
      if (this.stopped) return;
      const ids = rows.map((row) => row.id);
      const name = rows[0]!.wahaSessionName;
      let info: WahaSessionInfo;
      try {
        // Asked on the number's own WAHA server (issue 15).
        info = await (await this.clientForServer(rows[0]!.serverId)).getSession(name);
      } catch (error) {
        if (!(error instanceof WahaError)) throw error;
        const needsPerson = pauseReasonFor(error);
        if (needsPerson && needsPerson !== PAUSE_REASONS.sessionNotWorking) await this.needsPerson(ids, needsPerson, error.message);
        else await this.checkLater(ids, PAUSE_REASONS.wahaUnavailable, error.message);
        continue;
      }
      await this.saveSessionStatus(sessionId, info.status);
      if (info.status === "WORKING") await this.resume(inArray(campaigns.id, ids), "WAHA answers and the number is WORKING again");
      else await this.checkLater(ids, PAUSE_REASONS.sessionNotWorking, `WhatsApp session "${name}" is ${info.rawStatus ?? info.status}`);
    }
  }

  /**
   * Reads every number's status, one call per WAHA server (issue 15: each server is asked about its
   * own numbers only); numbers found WORKING resume their paused campaigns.
   */
  private async probeAllSessions(): Promise<void> {
    const known = await this.db
      .select({ id: whatsappSessions.id, name: whatsappSessions.wahaSessionName, status: whatsappSessions.status, serverId: whatsappSessions.serverId })
      .from(whatsappSessions);
    const statusByServerAndName = new Map<string, string>();
    // The servers at once: one that does not answer costs its own timeout, not the others' turn.
    const lists = await Promise.all(
      [...new Set(known.map((session) => session.serverId))].map(async (serverId) => {
        try {
          return { serverId, listed: await (await this.clientForServer(serverId)).listSessions() };
        } catch (error) {
          if (!(error instanceof WahaError)) throw error;
          this.logger.debug({ err: error.message, serverId }, "could not read the numbers' status from WAHA");
          return { serverId, listed: [] as WahaSessionInfo[] };
        }
      }),
    );
    for (const { serverId, listed } of lists) {
      for (const session of listed) statusByServerAndName.set(`${serverId ?? ""}\n${session.name}`, session.status);
    }
    const working: string[] = [];
    for (const session of known) {
      const status = statusByServerAndName.get(`${session.serverId ?? ""}\n${session.name}`);
      if (!status) continue;
      if (status !== session.status) await this.saveSessionStatus(session.id, status);
      if (status === "WORKING") working.push(session.id);
    }
    if (working.length > 0) await this.resume(waitsFor(working), "the number is WORKING again (status check)");
  }

  private async saveSessionStatus(sessionId: string, status: string): Promise<void> {
    await this.db.update(whatsappSessions).set({ status, statusCheckedAt: new Date() }).where(eq(whatsappSessions.id, sessionId));
  }

  /** The cause is still there: the next check waits half as long again (at most a minute). */
  private async checkLater(ids: string[], reason: string, lastError: string): Promise<void> {
    const every = sql`least(${AUTO_RESUME_MAX_CHECK_MS}::int, round(coalesce(${campaigns.autoResumeEveryMs}, ${AUTO_RESUME_FIRST_CHECK_MS}::int) * ${AUTO_RESUME_GROWTH}::float8)::int)`;
    await this.db
      .update(campaigns)
      .set({ pauseReason: reason, lastError, autoResumeEveryMs: every, autoResumeAt: sql`now() + ${every} * interval '1 millisecond'` })
      .where(and(inArray(campaigns.id, ids), resumableByItself()));
  }

  /** WAHA answered that the session is gone or the key is wrong: only a person can fix that. */
  private async needsPerson(ids: string[], reason: string, lastError: string): Promise<void> {
    const rows = await this.db
      .update(campaigns)
      .set({ pauseReason: reason, lastError, autoResumeAt: null, autoResumeEveryMs: null, updatedAt: sql`now()` })
      .where(and(inArray(campaigns.id, ids), resumableByItself()))
      .returning({ id: campaigns.id });
    for (const row of rows) await recordCampaignEvent(this.db, { campaignId: row.id, kind: "paused", reason, detail: lastError });
  }

  /** The campaigns `which` selects that are paused for a cause the app watches: Running without a lease, then started. */
  private async resume(which: SQL, how: string): Promise<number> {
    if (this.stopped) return 0;
    const rows = await this.db
      .update(campaigns)
      .set({ ...NOT_PAUSED, status: "Running", leaseHolder: null, leaseExpiresAt: null, lastError: null, updatedAt: sql`now()` })
      .where(and(which, resumableByItself()))
      .returning({ id: campaigns.id });
    for (const row of rows) {
      this.logger.info({ campaignId: row.id, how }, "campaign resumed by itself");
      await recordCampaignEvent(this.db, { campaignId: row.id, kind: "resumed", reason: "auto", detail: how });
      // If this fails (or the process dies here), the sweep takes over the unheld Running campaign.
      await this.startCampaign(row.id).catch((error: unknown) => this.logger.error({ campaignId: row.id, err: error }, "resumed campaign could not be started; the sweep will"));
    }
    return rows.length;
  }
}
