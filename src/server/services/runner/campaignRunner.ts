/**
 * CampaignRunnerService: sends every recipient of a campaign exactly once, at the campaign's pace,
 * through any crash (shared/DESIGN.md §3, §4). The database decides who runs and who sends:
 *
 * - claim: one conditional UPDATE takes the campaign under a lease (runner/claim.ts), renewed while
 *   the run lasts; whoever loses the claim, or later the lease, sends nothing more;
 * - recipients: rows created once, in one transaction (runner/recipients.ts);
 * - the send loop, one code path whatever the pace: take the next recipient (the number's send slot
 *   and the next pending row, moved to `sending` with a message id fixed before the call), deliver it
 *   (runner/delivery.ts: retries and look-ups), settle it; settling and the next take are one
 *   statement (runner/sendSlot.ts). Waiting for a busy number or for its delay sleeps until the time
 *   the database gives, and wakes early when the slot is freed (db/notifications.ts);
 * - recovery: rows found `sending` are settled by asking WAHA for the message (runner/lookup.ts),
 *   only once we hold the number's slot, i.e. once no send can still be in flight for them.
 */
import { readFile } from "node:fs/promises";
import { hostname } from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { and, eq, isNull, sql } from "drizzle-orm";
import type { Logger } from "pino";
import type { Db } from "~/server/db/client";
import { type Campaign, type CampaignStatus, campaignRecipients, campaigns, mediaItems, templates, whatsappSessions } from "~/server/db/schema";
import { queryRows } from "~/server/db/client";
import { childLogger, maskPhone } from "~/server/logger";
import { type WahaApiClient, WahaError, type WahaSessionInfo } from "../waha/client";
import {
  claimCampaign,
  completeCampaign,
  failRun,
  markMissed,
  pauseRun,
  readCampaignStatus,
} from "./claim";
import { type Delivery, type RetryPolicy, backoffMs, deliver, maxBackoffMs } from "./delivery";
import { PAUSE_REASONS, type PauseReason, pauseReasonFor } from "./pauses";
import { countsOf } from "../campaignProgress";
import { MessageIdPool } from "./messageIds";
import { CampaignConfigurationError, materializeRecipients } from "./recipients";
import { assignStickyNumbers, campaignNumbers, hasWorkFor, releaseDroppedNumber } from "./numberAssignment";
import { LeaseRenewer } from "./leaseRenewal";
import { settleInterruptedSends } from "./recovery";
import { listSendingRecipients } from "./sendSlot";
import { type SendingRecipient, type SlotKey, type StepResult, sendStep, slotHolderFor } from "./sendSlot";
import { SendRules, type Waiting } from "./sendRules";
import { NumberStates } from "./numberStates";
import { recordWaiting } from "./waiting";
import { type Restriction, pauseNumber, restrictionFromWaha } from "./restrictions";
import { splitDelayForTyping } from "../safeSending/typing";
import { pollingWakeups, type SlotWakeups } from "~/server/db/notifications";

export type { CampaignStatus } from "~/server/db/schema";

export interface CampaignRunnerOptions {
  /**
   * Lease holder id; default `${hostname}:${pid}:${random}`. Each run stores `${holderId}/${runToken}`.
   * A process's presence id (`p:...`, runner/presence.ts) lets others take its campaigns over at once when it dies.
   */
  holderId?: string;
  /** Default 30_000, renewed every third of it while running. */
  leaseMs?: number;
  /** Folder holding media files (media_items.storage_path is relative to it). Default `./data/media` (the composition root passes DATA_DIR's). */
  mediaDir?: string;
  logger?: Logger;
  /** Transient WAHA errors: attempts per message (first try included) and the first backoff. Default 3 / 500 ms. */
  sendRetry?: { attempts: number; baseDelayMs: number };
  /**
   * The longest one WAHA call of a send can last, including any time WAHA may still act on it after we
   * gave up. A number's send slot outlives it, so another runner never sends while a call may be open.
   * Default: the client's timeout + 5 s.
   */
  sendTimeoutMs?: number;
  /** Wakes a run waiting for a busy number when its slot is freed; without it, such waits poll every 50 ms. */
  slotWakeups?: SlotWakeups;
  /**
   * The clock the sending rules read (the number's local day and hour, send windows, batch pauses);
   * tests move it to simulate the next day. The database's clock still paces the send slot.
   */
  now?: () => Date;
  /** The longest sleep before looking at the campaign again while it waits (a limit, a window). Default 5 s. */
  maxWaitMs?: number;
  /** How long another campaign's send may hold the number before this campaign reads `waiting: number_busy`. Default 10 s. */
  numberBusyAfterMs?: number;
  /** The client of the WAHA server holding the campaign's number (issue 15); default: the constructor's client for every number. */
  clientForSession?: (sessionId: string) => Promise<WahaApiClient>;
}

export interface RunOutcome {
  claimed: boolean;
  /** Status after the run; null if the campaign does not exist (or was deleted while running). */
  status: CampaignStatus | null;
}

const DEFAULT_LEASE_MS = 30_000;
const DEFAULT_CLIENT_TIMEOUT_MS = 30_000;
/** On top of the send call while the slot is held: the statements around it (at least 250 ms, at most 2 s). */
const slotMarginMs = (sendTimeoutMs: number) => Math.min(2_000, Math.max(250, sendTimeoutMs));
/** The longest sleep before looking at the campaign again (a missed wake-up costs at most this). */
const MAX_WAIT_MS = 5_000;
/** Having left the slot to another campaign on the same number, this long before taking a turn again. */
const TURN_YIELD_MS = 15;
/**
 * Another campaign holding the number this long is worth telling the owner (`waiting: number_busy`);
 * campaigns taking turns on a number, or one short send, are not (and cost no statement).
 */
const DEFAULT_NUMBER_BUSY_AFTER_MS = 10_000;
/** How often a sending run asks WAHA about the number's new-chat cap (one call, none per message). */
const RESTRICTION_CHECK_MS = 60_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

export class CampaignRunnerService {
  private readonly holderId: string;
  private readonly leaseMs: number;
  private readonly mediaDir: string;
  private readonly logger: Logger;
  private readonly retry: RetryPolicy;
  private readonly sendTimeoutMs: number;
  private readonly slotWakeups: SlotWakeups;
  private readonly now: () => Date;
  private readonly maxWaitMs: number;
  private readonly numberBusyAfterMs: number;
  private readonly leases: LeaseRenewer;
  private readonly numbers: NumberStates;
  /**
   * How many runs of each campaign this instance has in progress: a second start returns at once; a
   * resume may start one while the paused run still winds down (that run then finds its lease gone).
   */
  private readonly active = new Map<string, number>();
  private readonly clientForSession: ((sessionId: string) => Promise<WahaApiClient>) | null;

  constructor(
    private readonly db: Db,
    private readonly wahaApiClient: WahaApiClient,
    options: CampaignRunnerOptions = {},
  ) {
    this.holderId = options.holderId ?? `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
    this.leaseMs = Math.max(100, options.leaseMs ?? DEFAULT_LEASE_MS);
    this.mediaDir = path.resolve(options.mediaDir ?? path.join("data", "media"));
    this.logger = options.logger ?? childLogger("campaign-runner");
    this.retry = {
      attempts: Math.max(1, Math.floor(options.sendRetry?.attempts ?? 3)),
      baseDelayMs: Math.max(0, options.sendRetry?.baseDelayMs ?? 500),
    };
    // The slot always outlives a call (a stand-in client may not say its timeout).
    const clientTimeout: unknown = wahaApiClient.timeoutMs;
    this.sendTimeoutMs = options.sendTimeoutMs ?? (typeof clientTimeout === "number" ? clientTimeout : DEFAULT_CLIENT_TIMEOUT_MS) + 5_000;
    this.slotWakeups = options.slotWakeups ?? pollingWakeups;
    this.now = options.now ?? (() => new Date());
    this.maxWaitMs = Math.max(10, options.maxWaitMs ?? MAX_WAIT_MS);
    this.numberBusyAfterMs = Math.max(0, options.numberBusyAfterMs ?? DEFAULT_NUMBER_BUSY_AFTER_MS);
    this.clientForSession = options.clientForSession ?? null;
    this.leases = new LeaseRenewer(db, this.leaseMs, this.logger);
    this.numbers = new NumberStates(db);
  }

  /**
   * Claims and runs: Scheduled (scheduledAt <= now) -> Running, or a Running campaign whose lease
   * expired; with { resume: true } also Paused -> Running. Not claimable: returns { claimed: false }
   * without sending. Resolves when the run ends: Completed, Paused, Failed, or the campaign was taken
   * from it (cancelled, paused, deleted, lease lost).
   */
  async runCampaign(campaignId: string, options: { resume?: boolean } = {}): Promise<RunOutcome> {
    if (this.active.has(campaignId) && !options.resume) return { claimed: false, status: await readCampaignStatus(this.db, campaignId) };
    const previousStatus = await readCampaignStatus(this.db, campaignId);
    if (previousStatus === null) return { claimed: false, status: null };
    if (previousStatus !== "Scheduled" && previousStatus !== "Running" && !(options.resume && previousStatus === "Paused")) {
      return { claimed: false, status: previousStatus };
    }
    this.active.set(campaignId, (this.active.get(campaignId) ?? 0) + 1);
    // One lease token per run: a run that was paused and resumed elsewhere (even in this process, with
    // the same holderId) sees the lease is no longer its own and stops.
    const holder = `${this.holderId}/${randomBytes(3).toString("hex")}`;
    try {
      const campaign = await claimCampaign(this.db, { campaignId, holder, leaseMs: this.leaseMs, resume: options.resume ?? false });
      if (!campaign) {
        // Not claimable: a due campaign past its latestStart becomes Missed here (every start comes through here).
        if (previousStatus === "Scheduled" && (await markMissed(this.db, campaignId))) {
          this.logger.warn({ campaignId, status: "Missed" }, "campaign missed its latest start; it will not be sent");
          return { claimed: false, status: "Missed" };
        }
        return { claimed: false, status: await readCampaignStatus(this.db, campaignId) };
      }
      const log = this.logger.child({ campaignId });
      log.info({ status: "Running", previousStatus, holder, resumed: previousStatus !== "Scheduled" }, "campaign running");
      const settings: RunSettings = {
        holder,
        leaseMs: this.leaseMs,
        leases: this.leases,
        numbers: this.numbers,
        mediaDir: this.mediaDir,
        retry: this.retry,
        slotTtlMs: this.sendTimeoutMs + maxBackoffMs(this.retry) + slotMarginMs(this.sendTimeoutMs),
        slotWakeups: this.slotWakeups,
        now: this.now,
        maxWaitMs: this.maxWaitMs,
        numberBusyAfterMs: this.numberBusyAfterMs,
      };
      // A number on a registered WAHA server sends through that server's client (read once per run).
      const clientFor = (sessionId: string) => (this.clientForSession ? this.clientForSession(sessionId) : Promise.resolve(this.wahaApiClient));
      const numbers = await campaignNumbers(this.db, campaign);
      if (numbers.length > 1) return { claimed: true, status: await new MultiNumberRun(this.db, clientFor, campaign, numbers, log, settings).execute() };
      const lease = new Lease(campaign.id, settings);
      lease.start();
      try {
        const run = new CampaignRun(this.db, await clientFor(campaign.sessionId), campaign, log, settings, { sessionId: campaign.sessionId, lease, lane: false });
        return { claimed: true, status: await run.execute() };
      } finally {
        lease.stop();
      }
    } finally {
      const runs = (this.active.get(campaignId) ?? 1) - 1;
      if (runs > 0) this.active.set(campaignId, runs);
      else this.active.delete(campaignId);
    }
  }
}

interface RunSettings {
  holder: string;
  leaseMs: number;
  leases: LeaseRenewer;
  numbers: NumberStates;
  mediaDir: string;
  retry: RetryPolicy;
  slotTtlMs: number;
  slotWakeups: SlotWakeups;
  now: () => Date;
  maxWaitMs: number;
  numberBusyAfterMs: number;
}

type Step = { done: true; status: CampaignStatus | null } | { done: false };

/** The campaign's lease, renewed with every other lease of this service (runner/leaseRenewal.ts) while the run lasts; `lost` once another holds it. */
class Lease {
  lost = false;
  private release: (() => void) | null = null;

  constructor(
    private readonly campaignId: string,
    private readonly settings: RunSettings,
  ) {}

  start(): void {
    this.release = this.settings.leases.hold(this.campaignId, this.settings.holder, () => {
      this.lost = true;
    });
  }

  stop(): void {
    this.release?.();
    this.release = null;
  }
}

/** Which number a CampaignRun sends from; `lane`: one of several numbers of the campaign (issue 15). */
interface RunNumber {
  sessionId: string;
  lease: Lease;
  lane: boolean;
}

/** Why a lane stopped sending while the campaign goes on. */
interface Drop {
  reason: PauseReason;
  error: string;
}

/** Lanes that ended with work left and nothing sent pass again after this long. */
const LANE_RETRY_MS = 200;

/**
 * A campaign over several numbers (issue 15): one lease, one send loop ("lane") per number, run
 * concurrently, each with its own slot, pace, limits and windows. A lane ends when no work is left
 * for its number, or drops when its number cannot send (not WORKING, restricted, failing): the
 * others go on. When every lane has ended: Completed when no recipient is pending or sending;
 * lanes pass again when work remains for a live number (rows given back); Paused (as a
 * single-number campaign would be) when all that remains waits for dropped numbers.
 */
class MultiNumberRun {
  constructor(
    private readonly db: Db,
    private readonly clientFor: (sessionId: string) => Promise<WahaApiClient>,
    private readonly campaign: Campaign,
    private readonly numbers: string[],
    private readonly log: Logger,
    private readonly settings: RunSettings,
  ) {}

  async execute(): Promise<CampaignStatus | null> {
    const lease = new Lease(this.campaign.id, this.settings);
    lease.start();
    try {
      try {
        const created = await materializeRecipients(this.db, this.campaign, this.settings.holder);
        if (created !== null) this.log.debug({ recipients: created }, "recipients created");
        if (this.campaign.numberAssignment === "sticky") {
          const assigned = await assignStickyNumbers(this.db, this.campaign.id, this.numbers);
          if (assigned > 0) this.log.debug({ assigned }, "recipients kept on the number that messaged them before");
        }
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (await failRun(this.db, this.campaign.id, this.settings.holder, message)) {
          this.log.error({ status: "Failed", err: error }, "campaign failed");
          return "Failed";
        }
        throw error;
      }
      const drops = new Map<string, Drop>();
      for (;;) {
        const alive = this.numbers.filter((sessionId) => !drops.has(sessionId));
        const lanes = await Promise.all(
          alive.map(
            async (sessionId) =>
              new CampaignRun(this.db, await this.clientFor(sessionId), this.campaign, this.log.child({ sessionId }), this.settings, { sessionId, lease, lane: true }),
          ),
        );
        const ended = await Promise.all(lanes.map((lane) => lane.execute()));
        for (const lane of lanes) if (lane.dropped) drops.set(lane.sessionId, lane.dropped);
        const [row] = await this.db
          .select({ status: campaigns.status, leaseHolder: campaigns.leaseHolder })
          .from(campaigns)
          .where(eq(campaigns.id, this.campaign.id));
        if (lease.lost || !row || row.status !== "Running" || row.leaseHolder !== this.settings.holder || ended.some((status) => status !== "Running")) {
          return row?.status ?? null;
        }
        if (await completeCampaign(this.db, this.campaign.id, this.settings.holder)) {
          this.log.info({ status: "Completed", ...(await countsOf(this.db, this.campaign.id)) }, "campaign completed");
          return "Completed";
        }
        const live = this.numbers.filter((sessionId) => !drops.has(sessionId));
        if (live.length > 0 && (await hasWorkFor(this.db, this.campaign.id, live))) {
          await sleep(LANE_RETRY_MS);
          continue;
        }
        // All that remains waits for dropped numbers (or a send of theirs to settle): pause as one number would.
        const drop = [...drops.values()][0] ?? { reason: PAUSE_REASONS.sessionNotWorking, error: "the campaign's numbers cannot send now" };
        if (await pauseRun(this.db, this.campaign.id, this.settings.holder, drop.reason, drop.error)) {
          this.log.info({ status: "Paused", reason: drop.reason, dropped: drops.size }, "campaign paused: its remaining recipients wait for numbers that cannot send");
          return "Paused";
        }
        return readCampaignStatus(this.db, this.campaign.id);
      }
    } finally {
      lease.stop();
    }
  }
}

/** A delivered recipient waiting to be recorded (with the next take, or alone). */
interface Settlement {
  recipient: SendingRecipient;
  delivery: Delivery;
  nextDelayMs: number | null;
}

/** The row to record: retries moved its attempt token on. */
const settledRow = (settlement: Settlement) => ({ id: settlement.recipient.id, attempts: settlement.delivery.attempts });

/** One claimed run of one campaign. */
class CampaignRun {
  /** A lane that stopped because its number cannot send (the campaign goes on with its other numbers). */
  dropped: Drop | null = null;
  readonly sessionId: string;
  private key!: SlotKey;
  private session!: string;
  /** Whether this run holds its number in the service's NumberStates (released when the run ends). */
  private numberHeld = false;
  private media: { data: string; mimetype: string; filename: string } | null = null;
  private rules!: SendRules;
  /** What the campaign row says it waits for (written only when it changes). */
  private waiting: Waiting | null = null;
  /** Since when another campaign's send has held the number (for `number_busy`). */
  private busySinceMs: number | null = null;
  /** The typing before the next send: the part of the last delay given to it (typing on). */
  private typingMs: number | null = null;
  /** When WAHA's capping was last asked (the run's start counts). */
  private restrictionCheckedAtMs = Date.now();
  /** The session's reachout timelock as WAHA last said (GOWS). */
  private timelock: WahaSessionInfo["reachoutTimelock"] = null;

  constructor(
    private readonly db: Db,
    private readonly client: WahaApiClient,
    private readonly campaign: Campaign,
    private readonly log: Logger,
    private readonly settings: RunSettings,
    private readonly number: RunNumber,
  ) {
    this.sessionId = number.sessionId;
  }

  private get leaseLost(): boolean {
    return this.number.lease.lost;
  }

  /**
   * Resolves when the run ends: a status; for a lane, "Running" when it ended (no work left for its
   * number, or dropped) while the campaign is still this run's.
   */
  async execute(): Promise<CampaignStatus | null> {
    try {
      return await this.run();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      // Our own bug or bad data: Failed, with the reason. If even that cannot be written (the database
      // is gone), rethrow: the lease expires and a later run takes over where this one stopped.
      const failed = await failRun(this.db, this.campaign.id, this.settings.holder, message).catch(() => {
        throw error;
      });
      if (failed) {
        this.log.error({ status: "Failed", err: error }, "campaign failed");
        return "Failed";
      }
      return this.stopped();
    } finally {
      if (this.numberHeld) this.settings.numbers.release(this.sessionId);
    }
  }

  private async run(): Promise<CampaignStatus | null> {
    const number = await this.settings.numbers.hold(this.sessionId);
    this.numberHeld = true;
    const [session] = await this.db
      .select({ id: whatsappSessions.id, wahaSessionName: whatsappSessions.wahaSessionName })
      .from(whatsappSessions)
      .where(eq(whatsappSessions.id, this.sessionId));
    if (!session || !number) throw new CampaignConfigurationError("the campaign's WhatsApp session no longer exists");
    this.session = session.wahaSessionName;
    this.key = {
      campaignId: this.campaign.id,
      sessionId: session.id,
      holder: this.settings.holder,
      slotHolder: slotHolderFor(this.settings.holder, this.campaign.id),
      slotTtlMs: this.settings.slotTtlMs,
      // Recovery and the give-backs settle through the same step: they count in the number's day too.
      limits: () => this.rules.limits(),
    };

    if (!this.number.lane) {
      const created = await materializeRecipients(this.db, this.campaign, this.settings.holder);
      if (created !== null) this.log.debug({ recipients: created }, "recipients created");
    }
    this.media = await this.loadMedia();
    this.rules = new SendRules(
      this.settings.numbers,
      session.id,
      number,
      this.campaign,
      this.settings.now,
      this.campaign.sendWindow?.recipientLocal ? await this.recipientZones() : [],
      this.campaign.batchSize ? (await countsOf(this.db, this.campaign.id)).sent : 0,
    );

    const health = await this.checkSession();
    if (health) return this.pause(health.reason, health.error);
    const restriction = await this.checkRestriction();
    if (restriction) return this.pauseTheNumber(restriction);

    const recovered = await this.recoverSending();
    if (recovered.done) return recovered.status;

    // Fast campaigns fetch message ids ahead, a batch at a time; slow ones one per message.
    const ids = new MessageIdPool(this.client, this.session, this.campaign.delayMaxMs <= 20 ? 16 : 1);
    /** The last delivered recipient, recorded by the next take. */
    let previous: Settlement | null = null;
    for (;;) {
      // 0. The campaign's own reasons to wait (a batch pause, its window closed): record the
      //    previous recipient, free the number for others, and wait without a statement per check.
      await this.rules.refresh();
      const capped = await this.recheckRestriction();
      if (capped) {
        if (previous) await this.step(previous);
        return this.pauseTheNumber(capped);
      }
      const gate = this.rules.gate();
      if (gate) {
        if (previous) {
          const settled = await this.step(previous);
          previous = null;
          if (!settled.leaseOk) return this.stopped();
          const failing = this.failingNumber(settled);
          if (failing) return this.pauseTheNumber(failing);
        }
        // A lane whose own window is closed ends once the others have left it nothing to send.
        if (this.number.lane && !(await hasWorkFor(this.db, this.campaign.id, [this.sessionId]))) {
          const finished = await this.finish();
          if (finished.done) return finished.status;
          continue;
        }
        if (!(await this.waitAs(gate))) return this.stopped();
        continue;
      }

      // 1. Take the next recipient (recording the previous one in the same statement).
      const peeked = await this.nextMessageId(ids);
      if (!peeked.ok) {
        if (previous) await this.step(previous);
        return peeked.status;
      }
      const openZones = this.rules.openZones();
      const take = await this.step(previous, peeked.id, openZones);
      previous = null;
      if (!take.leaseOk) return this.stopped();
      const failing = this.failingNumber(take);
      if (failing) {
        // The same statement took the next recipient: give it back untouched before stopping.
        if (take.recipient) {
          await sendStep(this.db, this.key, {
            settle: { recipient: take.recipient, outcome: { status: "pending", uncounted: true } },
            release: { nextDelayMs: null },
            take: "none",
            limits: this.rules.limits(),
          });
        }
        return this.pauseTheNumber(failing);
      }
      const recipient = take.recipient;
      if (!recipient) {
        const held = await this.heldBack(take, openZones);
        if (held === "stopped") return this.stopped();
        if (held && typeof held === "object") return held.status;
        if (held) continue;
        if (!take.hasPending && !take.slotTaken) {
          const finished = await this.finish();
          if (finished.done) return finished.status;
        } else {
          await this.waitForTurn(take);
        }
        continue;
      }
      ids.consume(peeked.id);
      this.busySinceMs = null;
      if (this.waiting) {
        this.waiting = null;
        await recordWaiting(this.db, this.campaign.id, this.settings.holder, null);
      }

      // 2. Deliver it.
      const delivery = await this.deliverTo(recipient);
      if (delivery.outcome && delivery.outcome.status !== "sent") {
        this.log.debug({ recipientId: recipient.id, phone: maskPhone(recipient.phone), status: delivery.outcome.status }, "recipient not sent");
      }

      // 3. Settle it: with the next take, unless the run stops here. With typing on, the next
      //    message's typing is part of the delay (the idle part is the number's wait).
      let nextDelayMs: number | null = null;
      if (delivery.mayHaveSent) {
        this.rules.countSent();
        const delay = this.randomDelayMs();
        if (this.rules.policy.typing) {
          const split = splitDelayForTyping(delay, recipient.renderedText);
          nextDelayMs = split.idleMs;
          this.typingMs = split.typingMs;
        } else {
          nextDelayMs = delay;
        }
      }
      previous = { recipient, delivery, nextDelayMs };
      if (delivery.pause || this.leaseLost) {
        await this.step(previous);
        previous = null;
        if (delivery.pause?.reason === PAUSE_REASONS.numberRestricted) {
          // WhatsApp's 463 does not say until when: WAHA's timelock or capping may.
          const until = delivery.pause.until ?? (await this.restrictionEnd());
          return this.pauseTheNumber({ reason: PAUSE_REASONS.numberRestricted, until, detail: delivery.pause.error });
        }
        if (delivery.pause) return this.pause(delivery.pause.reason, delivery.pause.error);
        if (this.leaseLost) return this.stopped();
      }
    }
  }

  /**
   * Nothing taken: a limit, a restriction, closed recipient windows or another campaign's long send
   * may be why. Returns true when it waited for such a reason, "stopped" when the campaign is no
   * longer ours, a status when the run ends (paused), false when none applies.
   */
  private async heldBack(take: StepResult, openZones: string[] | null): Promise<boolean | "stopped" | { status: CampaignStatus | null }> {
    if (!take.hasPending) return false;
    if (take.held === "restricted") {
      const detail = (await this.restrictionDetail()) ?? "WhatsApp restricts this number";
      return { status: await this.pauseTheNumber({ reason: PAUSE_REASONS.numberRestricted, until: take.heldUntil, detail }) };
    }
    if (take.held) return (await this.waitAs(this.rules.heldWaiting(take.held, this.rules.limits()))) || "stopped";
    if (openZones !== null && !take.slotBusy && take.waitMs <= 0) {
      const closed = this.rules.recipientWindowWaiting();
      if (closed) return (await this.waitAs(closed)) || "stopped";
    }
    if (take.slotBusy) {
      // Another campaign's send (or its retries) holds the number: say so once it lasts.
      const nowMs = Date.now();
      this.busySinceMs ??= nowMs;
      if (nowMs - this.busySinceMs >= this.settings.numberBusyAfterMs && this.waiting?.reason !== "number_busy") {
        const other = await this.slotHolderName();
        if (other) {
          this.waiting = { reason: "number_busy", until: new Date(this.settings.now().getTime() + take.waitMs), detail: other };
          await recordWaiting(this.db, this.campaign.id, this.settings.holder, this.waiting);
        }
      }
    } else {
      this.busySinceMs = null;
    }
    return false;
  }

  /** Records why the campaign waits (when that changed) and sleeps towards `until`; false when the campaign is no longer ours. */
  private async waitAs(waiting: Waiting): Promise<boolean> {
    if (this.leaseLost) return false;
    if (!this.waiting || this.waiting.reason !== waiting.reason || this.waiting.until.getTime() !== waiting.until.getTime()) {
      this.waiting = waiting;
      await recordWaiting(this.db, this.campaign.id, this.settings.holder, waiting);
      this.log.info({ waiting: waiting.reason, until: waiting.until.toISOString() }, "campaign waiting");
    }
    // Sleep in short stretches: a pause, a cancel, a policy change or the clock moving is seen within maxWaitMs.
    await sleep(Math.min(Math.max(waiting.until.getTime() - this.settings.now().getTime(), TURN_YIELD_MS), this.settings.maxWaitMs));
    if (this.leaseLost) return false;
    return (await readCampaignStatus(this.db, this.campaign.id)) === "Running";
  }

  /** The name of the campaign holding the number's slot (not this one), if any. */
  private async slotHolderName(): Promise<string | null> {
    const rows = await queryRows<{ name: string }>(
      this.db,
      sql`select c.name from whatsapp_sessions w join campaigns c on w.send_slot_holder like '%|' || c.id::text
           where w.id = ${this.key.sessionId} and c.id <> ${this.campaign.id} limit 1`,
    );
    return rows[0]?.name ?? null;
  }

  /** The zones of the recipients still to send, for a recipient-local window. */
  private async recipientZones(): Promise<string[]> {
    const rows = await this.db
      .selectDistinct({ zone: campaignRecipients.timeZone })
      .from(campaignRecipients)
      .where(and(eq(campaignRecipients.campaignId, this.campaign.id), eq(campaignRecipients.status, "pending")));
    return rows.map((row) => row.zone).filter((zone): zone is string => zone !== null);
  }

  /** The number's sends failed too many times in a row (the policy's maxConsecutiveFailures): stop it. */
  private failingNumber(step: StepResult): Restriction | null {
    const max = this.rules.policy.maxConsecutiveFailures;
    if (max === null || max <= 0 || step.consecutiveFailures === null || step.consecutiveFailures < max) return null;
    return {
      reason: PAUSE_REASONS.tooManyFailures,
      until: null,
      detail: `${step.consecutiveFailures} sends in a row failed on ${this.rules.numberName} while it was connected; check the number before resuming`,
    };
  }

  /** Pauses every campaign running on the number (this one included) for a restriction. */
  private async pauseTheNumber(restriction: Restriction): Promise<CampaignStatus | null> {
    const paused = await pauseNumber(this.db, this.key.sessionId, restriction);
    if (this.number.lane) return this.pause(restriction.reason, restriction.detail);
    this.log.warn({ status: "Paused", reason: restriction.reason, until: restriction.until?.toISOString() ?? null, campaigns: paused.length }, "number's campaigns paused");
    return paused.includes(this.campaign.id) ? "Paused" : this.stopped();
  }

  /** What the number's row says of its restriction. */
  private async restrictionDetail(): Promise<string | null> {
    const [row] = await this.db
      .select({ reason: whatsappSessions.restrictionReason })
      .from(whatsappSessions)
      .where(eq(whatsappSessions.id, this.key.sessionId));
    return row?.reason ?? null;
  }

  /** WAHA's capping, asked again every RESTRICTION_CHECK_MS while the run sends (GOWS reports it; others answer 501, ignored). */
  private async recheckRestriction(): Promise<Restriction | null> {
    if (Date.now() - this.restrictionCheckedAtMs < RESTRICTION_CHECK_MS) return null;
    this.restrictionCheckedAtMs = Date.now();
    return this.checkRestriction();
  }

  /** When WAHA says the number's restriction ends (its session's timelock, its capping cycle); null when it does not say. */
  private async restrictionEnd(): Promise<Date | null> {
    try {
      this.timelock = (await this.client.getSession(this.session)).reachoutTimelock ?? null;
    } catch (error) {
      if (!(error instanceof WahaError)) throw error;
    }
    return (await this.checkRestriction())?.until ?? null;
  }

  /** WAHA's own word on the number: a reachout timelock or the new-chat cap stops it before any send. */
  private async checkRestriction(): Promise<Restriction | null> {
    if (typeof this.client.getCapping !== "function") return null;
    try {
      const capping = await this.client.getCapping(this.session);
      return restrictionFromWaha({ capping, timelock: this.timelock }, new Date());
    } catch (error) {
      if (!(error instanceof WahaError)) throw error;
      // An engine or a WAHA without the endpoint: what the session said (its timelock) is all we know.
      return restrictionFromWaha({ capping: null, timelock: this.timelock }, new Date());
    }
  }

  /**
   * One statement: record the previous recipient (if any) and free or keep the slot with its delay;
   * then take the next recipient with `messageId`, or nothing when `messageId` is undefined (the run
   * pauses or stops here).
   */
  private step(previous: Settlement | null, messageId?: string | null, openZones: string[] | null = null): Promise<StepResult> {
    return sendStep(this.db, this.key, {
      settle: previous?.delivery.outcome ? { recipient: settledRow(previous), outcome: previous.delivery.outcome } : null,
      release: previous ? { nextDelayMs: previous.nextDelayMs } : null,
      take: messageId === undefined ? "none" : "recipient",
      messageId: messageId ?? null,
      limits: this.rules.limits(),
      openZones,
    });
  }

  /** Sends through WAHA; anything but WAHA's answer (a database error, a bug) leaves the outcome unknown. */
  private async deliverTo(recipient: SendingRecipient): Promise<Delivery> {
    const policy = this.rules.policy;
    // The first message of a run types for its share of a delay too.
    const typingMs = policy.typing ? (this.typingMs ?? splitDelayForTyping(this.randomDelayMs(), recipient.renderedText).typingMs) : null;
    this.typingMs = null;
    try {
      return await deliver(
        {
          db: this.db,
          client: this.client,
          session: this.session,
          key: this.key,
          retry: this.settings.retry,
          media: this.media,
          sleep,
          checkExists: policy.checkExists,
          typingMs,
        },
        recipient,
        Date.now(),
      );
    } catch (error) {
      const reason = `interrupted by an unexpected error: ${error instanceof Error ? error.message : String(error)}`;
      await sendStep(this.db, this.key, {
        settle: { recipient, outcome: { status: "unknown", error: reason } },
        release: { nextDelayMs: this.randomDelayMs() },
        take: "none",
      }).catch(() => undefined);
      throw error;
    }
  }

  /**
   * Nothing taken: sleep until the time the database gave (the number's delay, or a busy slot's
   * expiry), waking early when the slot is freed; having just left the slot to another campaign on
   * this number, give it a moment to take it.
   */
  private async waitForTurn(take: StepResult): Promise<void> {
    if (take.slotBusy) {
      // Look again when `number_busy` becomes due, so it is said at its threshold, not at the next 5 s look.
      const noticeInMs =
        this.busySinceMs === null || this.waiting?.reason === "number_busy" ? Infinity : this.busySinceMs + this.settings.numberBusyAfterMs - Date.now();
      await this.settings.slotWakeups.waitForRelease(this.key.sessionId, Math.min(take.waitMs, MAX_WAIT_MS, noticeInMs > 0 ? noticeInMs : Infinity));
    } else {
      await sleep(Math.min(Math.max(take.waitMs, TURN_YIELD_MS), MAX_WAIT_MS));
    }
  }

  /** The message id for the next send; when WAHA cannot give one (session not working, WAHA down), the campaign pauses. */
  private async nextMessageId(ids: MessageIdPool): Promise<{ ok: true; id: string | null } | { ok: false; status: CampaignStatus | null }> {
    try {
      return { ok: true, id: await this.withRetry(() => ids.peek()) };
    } catch (error) {
      if (!(error instanceof WahaError)) throw error;
      return { ok: false, status: await this.pauseForWahaError(error) };
    }
  }

  /**
   * A lane's number cannot send: it stops, the campaign goes on with the others. Its pending
   * recipients wait for it, or with reassignOnDrop go back to the pool (only `pending` rows: one in
   * flight is settled by recovery, never resent blindly).
   */
  private async drop(drop: Drop): Promise<CampaignStatus | null> {
    if (this.leaseLost) return this.stopped();
    this.dropped = drop;
    const released = this.campaign.reassignOnDrop ? await releaseDroppedNumber(this.db, this.campaign.id, this.sessionId) : 0;
    this.log.warn({ reason: drop.reason, error: drop.error, released }, "number dropped from the campaign's run; its other numbers go on");
    return "Running";
  }

  /** A lane with nothing pending for its number: settle what it left `sending`, then end (the campaign run decides). */
  private async finishLane(): Promise<Step> {
    if (this.leaseLost) return { done: true, status: await this.stopped() };
    if ((await listSendingRecipients(this.db, this.campaign.id, this.sessionId)).length === 0) return { done: true, status: "Running" };
    const recovered = await this.recoverSending();
    if (recovered.done) return recovered;
    return { done: false };
  }

  /** Nothing pending: complete, or settle what is still `sending`, or notice the campaign is not ours. */
  private async finish(): Promise<Step> {
    if (this.number.lane) return this.finishLane();
    if (await completeCampaign(this.db, this.campaign.id, this.settings.holder)) {
      const counts = await countsOf(this.db, this.campaign.id);
      this.log.info({ status: "Completed", ...counts }, "campaign completed");
      return { done: true, status: "Completed" };
    }
    const [row] = await this.db
      .select({ status: campaigns.status, leaseHolder: campaigns.leaseHolder })
      .from(campaigns)
      .where(eq(campaigns.id, this.campaign.id));
    if (!row || row.status !== "Running" || row.leaseHolder !== this.settings.holder) return { done: true, status: await this.stopped() };
    const recovered = await this.recoverSending();
    if (recovered.done) return recovered;
    // A runner that lost the campaign may still be finishing a send: wait for it to free the number.
    await this.settings.slotWakeups.waitForRelease(this.key.sessionId, MAX_WAIT_MS);
    return { done: false };
  }

  /** Settles recipients left `sending` by an earlier run (runner/recovery.ts). */
  private async recoverSending(): Promise<Step> {
    const result = await settleInterruptedSends({
      db: this.db,
      client: this.client,
      session: this.session,
      key: this.key,
      retry: this.settings.retry,
      log: this.log,
      leaseLost: () => this.leaseLost,
      sleep,
      maxWaitMs: MAX_WAIT_MS,
      slotWakeups: this.settings.slotWakeups,
    });
    if (result.kind === "lost") return { done: true, status: await this.stopped() };
    if (result.kind === "pause") return { done: true, status: await this.pause(result.reason, result.error) };
    return { done: false };
  }

  private async checkSession(): Promise<{ reason: PauseReason; error: string } | null> {
    try {
      const info = await this.withRetry(() => this.client.getSession(this.session));
      this.timelock = info.reachoutTimelock ?? null;
      if (info.status === "WORKING") return null;
      return { reason: PAUSE_REASONS.sessionNotWorking, error: `WhatsApp session "${this.session}" is ${info.rawStatus ?? info.status}` };
    } catch (error) {
      if (!(error instanceof WahaError)) throw error;
      return { reason: pauseReasonFor(error) ?? PAUSE_REASONS.wahaUnavailable, error: error.message };
    }
  }

  private async loadMedia(): Promise<{ data: string; mimetype: string; filename: string } | null> {
    let mediaId = this.campaign.mediaId;
    if (!mediaId && this.campaign.templateId) {
      // The template's image, unless the campaign has its own (issue 16). Fixed on the campaign at its
      // start, like its texts: editing or deleting the template later changes nothing it sends.
      const [pinned] = await this.db
        .update(campaigns)
        .set({ mediaId: sql`(select ${templates.mediaId} from ${templates} where ${templates.id} = ${this.campaign.templateId})` })
        .where(and(eq(campaigns.id, this.campaign.id), isNull(campaigns.mediaId)))
        .returning({ mediaId: campaigns.mediaId });
      // Null when a resumed run finds it already fixed: read it back.
      mediaId = pinned
        ? pinned.mediaId
        : ((await this.db.select({ mediaId: campaigns.mediaId }).from(campaigns).where(eq(campaigns.id, this.campaign.id)))[0]?.mediaId ?? null);
    }
    if (!mediaId) return null;
    const [item] = await this.db
      .select()
      .from(mediaItems)
      .where(and(eq(mediaItems.id, mediaId), eq(mediaItems.workspaceId, this.campaign.workspaceId)));
    if (!item) throw new CampaignConfigurationError("the campaign's image no longer exists");
    const file = path.resolve(this.settings.mediaDir, item.storagePath);
    if (!file.startsWith(this.settings.mediaDir + path.sep)) throw new CampaignConfigurationError("the campaign's image path is outside the media folder");
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch {
      throw new CampaignConfigurationError(`the campaign's image file "${item.filename}" cannot be read`);
    }
    return { data: bytes.toString("base64"), mimetype: item.mimetype, filename: item.filename };
  }

  /** Retries a WAHA call that failed transiently (never used for sends: see deliver()). */
  private async withRetry<T>(call: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (error) {
        if (!(error instanceof WahaError) || !error.retryable || attempt >= this.settings.retry.attempts) throw error;
        await sleep(backoffMs(this.settings.retry, attempt));
      }
    }
  }

  private async pauseForWahaError(error: WahaError): Promise<CampaignStatus | null> {
    return this.pause(pauseReasonFor(error) ?? PAUSE_REASONS.wahaUnavailable, error.message);
  }

  private async pause(reason: PauseReason, error: string): Promise<CampaignStatus | null> {
    if (this.number.lane) return this.drop({ reason, error });
    if (await pauseRun(this.db, this.campaign.id, this.settings.holder, reason, error)) {
      this.log.info({ status: "Paused", reason }, "campaign paused");
      return "Paused";
    }
    return this.stopped();
  }

  /** The campaign was taken from this run (paused, cancelled, deleted, or its lease went to another runner). */
  private async stopped(): Promise<CampaignStatus | null> {
    const status = await readCampaignStatus(this.db, this.campaign.id);
    this.log.info({ status }, "run stopped: the campaign is no longer this run's");
    return status;
  }

  private randomDelayMs(): number {
    const low = Math.max(0, Math.min(this.campaign.delayMinMs, this.campaign.delayMaxMs));
    const high = Math.max(low, this.campaign.delayMaxMs);
    return low + Math.floor(Math.random() * (high - low + 1));
  }
}
