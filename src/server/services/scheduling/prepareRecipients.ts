/**
 * Recipients made ahead (issue 15, big campaigns): a `Scheduled` campaign due within `aheadMs` gets its
 * recipient rows before its time, so its run finds them and sends at once (50,000 rows take seconds to
 * make on the embedded database; see docs/performance.md). The scheduler calls `prepareSoon` right
 * after arming a campaign and `prepareDue` from each sweep (every 30 s).
 *
 * The rule when the audience or the campaign changes after the rows were made:
 * - the campaign's message (or its template's body), audience or zone rule edited: the rows are made
 *   again, by the next sweep, or at the start (`recipients_prepared_for` no longer matches);
 * - a contact who joined the audience, or left it (or opted out): each sweep until the start (every
 *   30 s; not in the last minute, plus 0.1 s per 1,000 rows) adds the missing members at the end and deletes the pending rows of those
 *   who left (`reconcileAudience` in `runner/recipients.ts`); for a campaign of up to 5,000 the run
 *   does it once more before its first send. Above 5,000 it does not (the queries cost O(audience) and,
 *   on PGlite, hold the event loop: +2.65 s on the first message for 50,000), so a change in the last
 *   minute or two before such a start is not seen — except an opt-out, always caught at send time (wc_send_step).
 *
 * Several processes may prepare one campaign at once (each sweeps): the rows are unique per
 * (campaign, contact) and inserted with ON CONFLICT DO NOTHING, so the second only repeats work. The
 * run, once it has claimed the campaign, stops a preparation in progress (each INSERT checks the
 * campaign is still `Scheduled` and unprepared) and makes what is missing itself.
 */
import { and, eq, gt, isNotNull, isNull, lte, or } from "drizzle-orm";
import type { Logger } from "pino";
import type { Db } from "~/server/db/client";
import { campaigns } from "~/server/db/schema";
import { reachesSomeone } from "../campaignAudience";
import { countsOf } from "../campaignProgress";
import {
  CampaignConfigurationError,
  discardUnsentRecipients,
  loadMessageBody,
  markPreparedAhead,
  reconcileAudience,
  recipientsFingerprint,
  writeRecipients,
} from "../runner/recipients";

/** Campaigns due within this get their rows ahead: longer than a sweep's period, short enough that few edits come after. */
export const PREPARE_AHEAD_MS = 5 * 60_000;

/**
 * A sweep does not bring rows up to date for a campaign due sooner than this: a minute, plus 0.1 s per
 * 1,000 rows (the two whole-audience statements took about 20 s for 1,000,000 on a loaded machine, and
 * one still running at the start made the first message 17.9 s late).
 */
export function reconcileMarginMs(rows: number): number {
  return 60_000 + rows / 10;
}

export type PrepareOutcome = "prepared" | "current" | "skipped";

export class RecipientPreparer {
  /** One preparation per campaign in this process; a second request waits for it. */
  private readonly inFlight = new Map<string, Promise<PrepareOutcome>>();
  /** The preparations asked for by `prepareSoon`, in order. */
  private background: Promise<void> = Promise.resolve();
  private readonly aheadMs: number;

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    options: { aheadMs?: number } = {},
  ) {
    this.aheadMs = options.aheadMs ?? PREPARE_AHEAD_MS;
  }

  /**
   * After scheduling: prepares in the background when the campaign is due within `aheadMs`, one
   * campaign at a time: `initialize()` arms every due campaign at once, and a thousand preparations
   * in parallel took the connections the starts needed (start precision p99 55 ms -> 742 ms).
   */
  prepareSoon(campaign: { id: string; scheduledAt: Date }, now = Date.now()): void {
    if (campaign.scheduledAt.getTime() - now > this.aheadMs) return;
    this.background = this.background
      .then(() => this.prepare(campaign.id))
      .then(
        () => undefined,
        (error: unknown) => this.log.warn({ campaignId: campaign.id, err: error }, "recipients not prepared ahead"),
      );
  }

  /** From the sweep: every future campaign due within `aheadMs` that has no rows, or rows for an older version of it. */
  async prepareDue(now = new Date()): Promise<number> {
    const due = await this.db
      .select({ id: campaigns.id })
      .from(campaigns)
      .where(
        and(
          eq(campaigns.status, "Scheduled"),
          gt(campaigns.scheduledAt, now),
          lte(campaigns.scheduledAt, new Date(now.getTime() + this.aheadMs)),
          or(isNull(campaigns.recipientsMaterializedAt), isNotNull(campaigns.recipientsPreparedFor)),
        ),
      )
      .orderBy(campaigns.scheduledAt);
    let prepared = 0;
    for (const { id } of due) {
      try {
        if ((await this.prepare(id)) === "prepared") prepared++;
      } catch (error) {
        this.log.warn({ campaignId: id, err: error }, "recipients not prepared ahead");
      }
    }
    return prepared;
  }

  prepare(campaignId: string): Promise<PrepareOutcome> {
    const running = this.inFlight.get(campaignId);
    if (running) return running;
    const started = this.prepareOnce(campaignId).finally(() => this.inFlight.delete(campaignId));
    this.inFlight.set(campaignId, started);
    return started;
  }

  private async prepareOnce(campaignId: string): Promise<PrepareOutcome> {
    const [campaign] = await this.db.select().from(campaigns).where(eq(campaigns.id, campaignId));
    if (!campaign || campaign.status !== "Scheduled" || !reachesSomeone(campaign.listId, campaign.audience)) return "skipped";
    let body: string;
    try {
      body = await loadMessageBody(this.db, campaign);
    } catch (error) {
      // The run fails it with the reason at its time.
      if (error instanceof CampaignConfigurationError) return "skipped";
      throw error;
    }
    const fingerprint = recipientsFingerprint(campaign, body);
    if (campaign.recipientsMaterializedAt !== null) {
      if (campaign.recipientsPreparedFor === null) return "current";
      if (campaign.recipientsPreparedFor === fingerprint) {
        // Not close to the start: on PGlite these queries hold the event loop, and must be over by then.
        const rows = (await countsOf(this.db, campaignId)).total;
        if (campaign.scheduledAt && campaign.scheduledAt.getTime() - Date.now() > reconcileMarginMs(rows)) {
          await reconcileAudience(this.db, campaign, body, { kind: "ahead" });
        }
        return "current";
      }
      // Edited since: unmark first, so a start meanwhile makes them itself.
      const unmarked = await this.db
        .update(campaigns)
        .set({ recipientsMaterializedAt: null, recipientsPreparedFor: null })
        .where(and(eq(campaigns.id, campaignId), eq(campaigns.status, "Scheduled"), isNotNull(campaigns.recipientsPreparedFor)))
        .returning({ id: campaigns.id });
      if (unmarked.length === 0) return "skipped";
      await discardUnsentRecipients(this.db, campaignId, { kind: "ahead" });
    }
    // Rows of a preparation cut short (or running in another process) are kept: the inserts skip them.
    const startedAt = Date.now();
    const created = await writeRecipients(this.db, campaign, body, { kind: "ahead" }, "all");
    if (!(await markPreparedAhead(this.db, campaignId, fingerprint))) return "skipped";
    this.log.info({ campaignId, recipients: created, durationMs: Date.now() - startedAt }, "recipients prepared ahead");
    return "prepared";
  }
}
