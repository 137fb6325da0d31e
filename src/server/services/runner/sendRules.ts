/**
 * What may hold a run back before a send (issue 13), as the run sees it: the number's policy
 * (limits, warm-up, typing, check-exists), the campaign's send window and batches. The limits
 * themselves are enforced in the database where the send slot is taken (wc_send_step, migration
 * 0005): this file only computes what that statement needs (the number's local day and hour, the
 * effective daily limit) and says until when a campaign waits, in the words of the rules the ETA steps
 * through (safeSending/holdBack.ts: `limitHold`, `batchPauseHold`, `closedWindowHold`). Calendar math
 * is in safeSending/.
 *
 * The policy is read when the run starts and again every POLICY_REFRESH_MS, for every number of the
 * process in one statement (runner/numberStates.ts), so an owner's change applies to a running
 * campaign within that time, without a statement per message.
 */
import type { Campaign } from "~/server/db/schema";
import type { NumberStates } from "./numberStates";
import { localDayBounds, localHourBounds } from "../safeSending/calendar";
import { type Hold, batchPauseHold, closedWindowHold, limitHold, windowWords } from "../safeSending/holdBack";
import { type NumberPolicy, effectiveDailyLimit } from "../safeSending/policy";
import { currentWindowInterval, nextWindowOpening } from "../safeSending/sendWindow";
import type { HeldBy, SendLimits } from "./sendSlot";

/**
 * Why a campaign waits (campaigns.waiting_reason), until when, and what the page's words need
 * (safeSending/waiting.ts `describeWaiting`): the limit ("40"), the window's hours ("09:00–20:00"),
 * the batch size ("50"), or the other campaign's name.
 */
export type Waiting = Hold;

export interface NumberState {
  name: string;
  policy: NumberPolicy;
  firstSentAt: Date | null;
}

/** One run's view of its number's rules and its campaign's window and batches. */
export class SendRules {
  private state: NumberState;
  private day: { start: Date; end: Date } | null = null;
  private hour: { start: Date; end: Date } | null = null;
  /** The campaign's window (not recipient-local): open until, or closed until. */
  private windowOpenUntil: Date | null = null;
  /** Recipient-local windows, per zone: open until `until` (open) or closed until it. */
  private readonly zones = new Map<string, { open: boolean; until: Date }>();
  /** Messages this campaign sent (a restarted run counts those before it) and when its last one went. */
  private campaignSent: number;
  private campaignLastSentAt: Date | null = null;

  constructor(
    private readonly numbers: NumberStates,
    private readonly sessionId: string,
    initial: NumberState,
    private readonly campaign: Pick<Campaign, "sendWindow" | "batchSize" | "batchPauseMs" | "name">,
    private readonly now: () => Date,
    /** The zones of the campaign's recipients, with a recipient-local window (fixed when the rows were created). */
    private readonly recipientZones: string[],
    /** Messages this campaign sent so far: a restarted run goes on with the batch it was in. */
    alreadySent: number,
  ) {
    this.state = initial;
    this.campaignSent = alreadySent;
  }

  get policy(): NumberPolicy {
    return this.state.policy;
  }

  get numberName(): string {
    return this.state.name;
  }

  /** The policy as last read for every number of the process (an owner may have changed it). */
  async refresh(): Promise<void> {
    const fresh = await this.numbers.current(this.sessionId);
    if (!fresh) return;
    if (fresh.policy.timeZone !== this.state.policy.timeZone) this.day = this.hour = null;
    this.state = fresh;
  }

  /** The day and hour the next message counts in, and the limits that apply now. */
  limits(): SendLimits {
    const now = this.now();
    const zone = this.state.policy.timeZone;
    if (!this.day || now >= this.day.end || now < this.day.start) this.day = localDayBounds(now, zone);
    if (!this.hour || now >= this.hour.end || now < this.hour.start) this.hour = localHourBounds(now, zone);
    return {
      dayStart: this.day.start,
      // The warm-up counts from the number's first message; one not yet sent is on its first day.
      dailyLimit: effectiveDailyLimit(this.state.policy, this.state.firstSentAt ?? now, now),
      hourStart: this.hour.start,
      hourlyLimit: this.state.policy.hourlyLimit,
    };
  }

  /** Until when a limit the database reported holds the campaign back, in words. */
  heldWaiting(held: Exclude<HeldBy, "restricted">, limits: SendLimits): Waiting {
    const limit = held === "daily_limit" ? limits.dailyLimit : limits.hourlyLimit;
    return limitHold(held, limit ?? 0, this.now(), this.state.policy.timeZone);
  }

  /** The campaign's own reasons to wait before taking a recipient: a batch pause, or its window closed. */
  gate(): Waiting | null {
    const now = this.now();
    const batchPause = batchPauseHold({ ...this.campaign, campaignSent: this.campaignSent, campaignLastSentAt: this.campaignLastSentAt }, now);
    if (batchPause) return batchPause;
    const window = this.campaign.sendWindow;
    if (!window || window.recipientLocal) return null;
    if (this.windowOpenUntil && now < this.windowOpenUntil) return null;
    const open = currentWindowInterval(window, now);
    if (open) {
      this.windowOpenUntil = open.end;
      return null;
    }
    this.windowOpenUntil = null;
    return closedWindowHold(window, now);
  }

  /** Recipient-local windows: the zones open now (null: no such window, take anyone). */
  openZones(): string[] | null {
    const window = this.campaign.sendWindow;
    if (!window?.recipientLocal) return null;
    const now = this.now();
    const open: string[] = [];
    for (const zone of this.recipientZones) {
      let known = this.zones.get(zone);
      if (!known || now >= known.until) {
        const interval = currentWindowInterval(window, now, zone);
        known = interval ? { open: true, until: interval.end } : { open: false, until: nextWindowOpening(window, now, zone) };
        this.zones.set(zone, known);
      }
      if (known.open) open.push(zone);
    }
    return open;
  }

  /** Every recipient's window is closed: wait for the first to open. */
  recipientWindowWaiting(): Waiting | null {
    const window = this.campaign.sendWindow;
    if (!window?.recipientLocal) return null;
    this.openZones();
    let until: Date | null = null;
    for (const known of this.zones.values()) if (!known.open && (until === null || known.until < until)) until = known.until;
    if (!until) return null;
    return { reason: "send_window", until, detail: windowWords(window) };
  }

  /** A message of this campaign went out: a full batch starts its pause from now. */
  countSent(): void {
    this.campaignSent += 1;
    this.campaignLastSentAt = this.now();
  }
}
