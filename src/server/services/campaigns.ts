/**
 * Campaign CRUD and the user's controls (reschedule, edit, pause, resume, cancel, delete).
 * Sending itself is the runner's; when it starts is the scheduler's. Every state change here is a
 * conditional UPDATE, so a click that races the scheduler finds the campaign as it really is.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { and, asc, eq, gt, inArray, isNull, sql } from "drizzle-orm";
import { z } from "zod";
import { type Db, queryRows } from "../db/client";
import {
  type CampaignAudience,
  type CampaignRecurrence,
  type Campaign,
  type SendWindow,
  campaignRecipients,
  campaignSessions,
  campaignStatus,
  campaigns,
  contactListMembers,
  contactLists,
  contacts,
  mediaItems,
  recipientStatus,
  templates,
  whatsappSessions,
} from "../db/schema";
import { campaignAudienceSchema, normaliseAudience, reachesSomeone } from "./campaignAudience";
import { listCampaignEvents, recordCampaignEvent } from "./campaignEvents";
import { cancelCampaign, pauseCampaign, resumeCampaign } from "./campaignLifecycle";
import { type CampaignCounts, campaignProgress } from "./campaignProgress";
import { isActive, USER_ACTIONS, userMay } from "./campaignStatuses";
import { normalisePhone } from "./contactImport";
import { CompiledMessage } from "./personalization";
import { toChatId, type WahaApiClient } from "./waha/client";
import type { SlotWakeups } from "../db/notifications";
import { AppError, conflict, notFound, unprocessable } from "./errors";
import { afterCursor, newestFirst, pageInput, toPage } from "./pagination";
import { sendWindowSchema } from "./safeSending/sendWindow";
import { assertMessageText, MAX_MESSAGE_LENGTH } from "./templates";
import { recurrenceSchema } from "./recurrence/rule";
import { scheduledRuns, seriesOverview } from "./recurrence/campaignSeries";
import { editedRecurrence, seriesStart } from "./recurrence/seriesInput";

/** What the campaign service needs of the scheduler (SchedulerService implements it). */
export interface CampaignScheduling {
  scheduleCampaignJob(campaign: { id: string; scheduledAt: Date }): Promise<void>;
  cancelCampaignJob(campaignId: string): Promise<void>;
  startCampaignNow(campaignId: string, options?: { resume?: boolean }): Promise<void>;
  /** A recurring campaign was created or changed: its next run is (re)made and armed (issue 15). */
  planSeries(seriesId: string): Promise<void>;
}

const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;
const isoWithOffset = z
  .string()
  // What the OpenAPI document shows (rest/inputSchemas.ts): the format the refinement enforces.
  .meta({ format: "date-time", pattern: ISO_WITH_OFFSET.source, examples: ["2026-12-01T09:30:00+01:00"] })
  .refine((value) => ISO_WITH_OFFSET.test(value), {
    message: "Use ISO-8601 with a time zone offset, e.g. 2026-12-01T09:30:00+01:00 or 2026-12-01T08:30:00Z",
  })
  .transform((value) => new Date(value))
  .refine((date) => !Number.isNaN(date.getTime()), { message: "Not a real date and time" });
/** The most numbers one campaign sends from. */
export const MAX_NUMBERS = 50;
const delay = z.coerce.number().int("Use whole milliseconds").min(0, "Cannot be negative").max(3_600_000, "At most one hour");

export const campaignFields = z.object({
  name: z.string().trim().min(1, "Give the campaign a name").max(120, "Keep the name under 120 characters"),
  listId: z.uuid({ error: "Choose a contact list" }),
  /** Issue 15: more lists and/or tags, minus excluded tags; with it, listId may be left out. */
  audience: campaignAudienceSchema.nullish(),
  templateId: z.uuid({ error: "Not a template id" }).nullish(),
  text: z.string().min(1, "Write the message text").max(MAX_MESSAGE_LENGTH).nullish(),
  mediaId: z.uuid({ error: "Not a media id" }).nullish(),
  sessionId: z.uuid({ error: "Not a WhatsApp number id" }).nullish(),
  /** Issue 15: send from several numbers (the first is `sessionId`'s place); one number is the same as `sessionId`. */
  sessionIds: z
    .array(z.uuid({ error: "Not a WhatsApp number id" }), { error: "sessionIds is a list of WhatsApp number ids" })
    .min(1, "sessionIds needs at least one number")
    .max(MAX_NUMBERS, `sessionIds may hold at most ${MAX_NUMBERS} numbers`)
    .refine((ids) => new Set(ids).size === ids.length, { message: "sessionIds lists a number twice" })
    .nullish(),
  /** `balanced` (default): whichever number is free sends the next recipient; `sticky`: a contact keeps the number that messaged them before. */
  numberAssignment: z.enum(["sticky", "balanced"], { error: 'numberAssignment is "sticky" or "balanced"' }).optional(),
  /** A number that drops mid-run gives its recipients to the others (default: they wait for it). */
  reassignOnDrop: z.boolean({ error: "reassignOnDrop is true or false" }).optional(),
  scheduledAt: isoWithOffset,
  delayMinMs: delay.optional(),
  delayMaxMs: delay.optional(),
  /** Issue 13: when it may send (null = any time), batches with pauses, and the latest it may start. */
  sendWindow: sendWindowSchema.nullish(),
  batchSize: z.number().int("batchSize is a whole number of messages").min(1, "batchSize must be at least 1").max(100_000, "batchSize must be at most 100000").nullish(),
  batchPauseMs: z
    .number()
    .int("Use whole milliseconds")
    .min(1_000, "batchPauseMs must be at least 1000 (one second)")
    .max(86_400_000, "batchPauseMs must be at most 86400000 (one day)")
    .nullish(),
  latestStart: isoWithOffset.nullish(),
  /** Issue 15: repeat it; each occurrence is a run (a campaign of its own, `seriesId` → this one). */
  recurrence: recurrenceSchema.nullish(),
});
/**
 * A campaign is created `Scheduled` (the default: everything is checked and its time armed) or saved
 * as a `Draft` (issue 16): a draft needs only its name (and a number when there are several); its
 * list, text or template and time may wait, and whatever it gives is checked to exist. `schedule`
 * checks everything a scheduled campaign needs.
 */
export const createCampaignInput = campaignFields.extend({
  status: z
    .enum(["Draft", "Scheduled"], { error: 'status is "Draft" (save it to schedule later) or "Scheduled" (the default)' })
    .optional(),
  listId: campaignFields.shape.listId.nullish(),
  scheduledAt: isoWithOffset.optional(),
});
export type CreateCampaignInput = z.output<typeof createCampaignInput>;
/** `scheduledAt: null` takes a draft's planned time away, `listId: null` its list (a scheduled campaign keeps both). */
export const updateCampaignInput = campaignFields.partial().extend({ listId: campaignFields.shape.listId.nullish(), scheduledAt: isoWithOffset.nullish() });
export type UpdateCampaignInput = z.output<typeof updateCampaignInput>;
/** Schedule a draft: at `scheduledAt`, or at the time the draft was saved with. */
export const scheduleCampaignInput = z.object({ scheduledAt: isoWithOffset.optional() });
export type ScheduleCampaignInput = z.output<typeof scheduleCampaignInput>;

export const listCampaignsInput = pageInput.extend({
  status: z.array(z.enum(campaignStatus.enumValues)).optional(),
});
export const listRecipientsInput = pageInput.extend({
  status: z.enum(recipientStatus.enumValues).optional(),
  cursor: z.string().regex(/^\d{1,9}$/, "The cursor is not one this API returned: start again without it").optional(),
});

export type { CampaignCounts } from "./campaignProgress";
import type { CampaignProgress } from "./campaignProgress";

export type CampaignView = Omit<Campaign, "leaseHolder" | "leaseExpiresAt"> & {
  /** The numbers it sends from, in order; the first is `sessionId` (issue 15). */
  sessionIds: string[];
  counts: CampaignCounts;
  etaSeconds: number | null;
  /** Held back by a limit, a window, a batch pause or a busy number (campaignProgress.ts). */
  waiting: CampaignProgress["waiting"];
};

/** A campaign must be set a little ahead: the scheduler refuses an instant already past. */
const MIN_LEAD_MS = 1000;

export class CampaignService {
  constructor(
    private readonly db: Db,
    private readonly scheduling: CampaignScheduling,
    private readonly defaults: { delayMinMs: number; delayMaxMs: number },
    /** Sends tests through WAHA; `slotWakeups` lets a cancel wake as soon as a send in flight ends. */
    private readonly sender: {
      waha: WahaApiClient;
      mediaDir: string;
      slotWakeups?: SlotWakeups;
      /** The client of the WAHA server a number is on (issue 15); without it, `waha`. */
      clientForSession?: (sessionId: string) => Promise<WahaApiClient>;
    } | null = null,
  ) {}

  /**
   * "Send a test to my own number": the campaign's message, personalised for its first contact,
   * sent now to `phone`. Not a recipient: it changes nothing about the campaign.
   */
  async sendTest(workspaceId: string, campaignId: string, phone: string, defaultCountry?: string) {
    if (!this.sender) throw conflict("Test sends are not available in this process");
    const campaign = await this.row(workspaceId, campaignId);
    const target = normalisePhone(phone, defaultCountry);
    if ("reason" in target) throw unprocessable(target.reason, "phone");
    const [session] = await this.db.select().from(whatsappSessions).where(eq(whatsappSessions.id, campaign.sessionId));
    let body = campaign.messageText ?? "";
    // The campaign's own image, else its template's (issue 16).
    let mediaId = campaign.mediaId;
    if (campaign.templateId) {
      const [template] = await this.db.select().from(templates).where(eq(templates.id, campaign.templateId));
      if (!template) throw unprocessable("The campaign's template was deleted: choose another one", "templateId");
      body = template.body;
      mediaId ??= template.mediaId;
    }
    const [sample] = campaign.listId
      ? await this.db
          .select({ id: contacts.id, phone: contacts.phone, firstName: contacts.firstName, attributes: contacts.attributes })
          .from(contactListMembers)
          .innerJoin(contacts, eq(contacts.id, contactListMembers.contactId))
          .where(eq(contactListMembers.listId, campaign.listId))
          .orderBy(asc(contacts.phone))
          .limit(1)
      : [];
    // The variant that first contact will get (the same seed as materialisation).
    const text = new CompiledMessage(body).render(sample ?? { phone: target.phone, firstName: null, attributes: {} }, {
      recipientKey: sample?.id ?? target.phone,
    });
    const chatId = toChatId(target.phone);
    const { mediaDir } = this.sender;
    // Through the number's own WAHA server (issue 15).
    const waha = this.sender.clientForSession ? await this.sender.clientForSession(campaign.sessionId) : this.sender.waha;
    if (mediaId) {
      const [media] = await this.db.select().from(mediaItems).where(eq(mediaItems.id, mediaId));
      if (!media) throw unprocessable("The campaign's image was deleted: choose another one", "mediaId");
      const data = await readFile(path.join(mediaDir, media.storagePath));
      const sent = await waha.sendImage({
        session: session!.wahaSessionName,
        chatId,
        caption: text,
        file: { data: data.toString("base64"), mimetype: media.mimetype, filename: media.filename },
      });
      return { messageId: sent.messageId, text, to: target.phone };
    }
    const sent = await waha.sendText({ session: session!.wahaSessionName, chatId, text });
    return { messageId: sent.messageId, text, to: target.phone };
  }

  async create(workspaceId: string, input: CreateCampaignInput): Promise<CampaignView> {
    const { status, recurrence, ...fields } = input;
    if (status === "Draft") {
      const values = await this.resolveDraft(workspaceId, fields);
      const { sessionIds, ...row } = values;
      const [draft] = await this.db.insert(campaigns).values({ workspaceId, status: "Draft", ...row, recurrence: recurrence ?? null }).returning();
      await this.setNumbers(draft!.id, sessionIds);
      return this.get(workspaceId, draft!.id);
    }
    if (recurrence) return this.createSeries(workspaceId, fields, recurrence);
    const { sessionIds, ...values } = await this.resolve(workspaceId, complete(fields), null);
    const [campaign] = await this.db
      .insert(campaigns)
      .values({ workspaceId, status: "Scheduled", ...values })
      .returning();
    try {
      await this.setNumbers(campaign!.id, sessionIds);
      await this.scheduling.scheduleCampaignJob(timed(campaign!));
    } catch (error) {
      // No half-created campaign: one that cannot be scheduled is not kept. What the caller is told
      // (a time in the past: 422 scheduledAt; the scheduler stopping: 503) is the API boundary's.
      await this.db.delete(campaigns).where(eq(campaigns.id, campaign!.id));
      throw error;
    }
    return this.get(workspaceId, campaign!.id);
  }

  /**
   * A recurring campaign (issue 15): the series row, `Recurring` and never run itself, whose
   * `scheduledAt` reads as its next run; the scheduler makes that run (a copy of it) and arms it.
   */
  private async createSeries(workspaceId: string, fields: Omit<CreateCampaignInput, "status" | "recurrence">, recurrence: CampaignRecurrence): Promise<CampaignView> {
    const first = seriesStart(recurrence, fields, Date.now() + MIN_LEAD_MS);
    const { sessionIds, ...values } = await this.resolve(workspaceId, complete({ ...fields, scheduledAt: first }), null);
    const [series] = await this.db.insert(campaigns).values({ workspaceId, status: "Recurring", recurrence, ...values }).returning();
    try {
      await this.setNumbers(series!.id, sessionIds);
      await this.scheduling.planSeries(series!.id);
    } catch (error) {
      await this.db.delete(campaigns).where(eq(campaigns.id, series!.id));
      throw error;
    }
    return this.get(workspaceId, series!.id);
  }

  /** A recurring campaign's runs (newest first, with counts) and its next 5 occurrences in its zone. */
  async series(workspaceId: string, campaignId: string) {
    const campaign = await this.row(workspaceId, campaignId);
    return seriesOverview(this.db, campaign, new Date());
  }

  /** Edit or reschedule; only before the campaign starts (afterwards its texts are fixed). */
  async update(workspaceId: string, campaignId: string, input: UpdateCampaignInput): Promise<CampaignView> {
    const current = await this.row(workspaceId, campaignId);
    if (!userMay("edit", current.status)) {
      throw new AppError(
        "CONFLICT",
        `The campaign is ${current.status}: only a campaign that has not started can be edited`,
      );
    }
    const recurrence = editedRecurrence(current, input, Date.now() + MIN_LEAD_MS);
    const merged = {
      name: input.name ?? current.name,
      listId: input.listId !== undefined ? input.listId : current.listId,
      audience: input.audience !== undefined ? input.audience : current.audience,
      templateId: input.templateId !== undefined ? input.templateId : current.templateId,
      text: input.text !== undefined ? input.text : current.messageText,
      mediaId: input.mediaId !== undefined ? input.mediaId : current.mediaId,
      sessionId: input.sessionIds && !input.sessionId ? null : (input.sessionId ?? current.sessionId),
      // A new sessionId alone means that one number; neither keeps the campaign's numbers.
      sessionIds: input.sessionIds ?? (input.sessionId ? null : await this.numbersOf(current)),
      numberAssignment: input.numberAssignment ?? current.numberAssignment,
      reassignOnDrop: input.reassignOnDrop ?? current.reassignOnDrop,
      scheduledAt: input.scheduledAt !== undefined ? input.scheduledAt : current.scheduledAt,
      delayMinMs: input.delayMinMs ?? current.delayMinMs,
      delayMaxMs: input.delayMaxMs ?? current.delayMaxMs,
      sendWindow: input.sendWindow !== undefined ? input.sendWindow : current.sendWindow,
      batchSize: input.batchSize !== undefined ? input.batchSize : current.batchSize,
      batchPauseMs: input.batchPauseMs !== undefined ? input.batchPauseMs : current.batchPauseMs,
      latestStart: input.latestStart !== undefined ? input.latestStart : current.latestStart,
    };
    // Switching from template to text (or back) clears the other.
    if (input.text && input.templateId === undefined) merged.templateId = null;
    if (input.templateId && input.text === undefined) merged.text = null;
    // A draft stays a draft (checked as one); a scheduled campaign is checked in full.
    const { sessionIds, ...values } =
      current.status === "Draft" ? await this.resolveDraft(workspaceId, merged) : await this.resolve(workspaceId, complete(merged), current);
    const [updated] = await this.db
      .update(campaigns)
      .set({ ...values, recurrence })
      .where(and(eq(campaigns.id, campaignId), eq(campaigns.workspaceId, workspaceId), inArray(campaigns.status, USER_ACTIONS.edit.from)))
      .returning();
    if (!updated) throw conflict("The campaign started while you were editing it: it can no longer be edited");
    await this.setNumbers(campaignId, sessionIds);
    // A series' next run is made again from its new settings (issue 15).
    if (updated.status === "Recurring") await this.scheduling.planSeries(campaignId);
    else if (updated.status !== "Draft" && timed(updated).scheduledAt.getTime() !== current.scheduledAt?.getTime()) {
      await this.scheduling.cancelCampaignJob(campaignId);
      await this.scheduling.scheduleCampaignJob(timed(updated));
    }
    return this.get(workspaceId, campaignId);
  }

  /**
   * A draft becomes `Scheduled`: everything a scheduled campaign needs is checked now (a list, a text
   * or a template with known placeholders, a time ahead), then its time is armed. 409 unless Draft.
   */
  async schedule(workspaceId: string, campaignId: string, input: ScheduleCampaignInput): Promise<CampaignView> {
    const current = await this.row(workspaceId, campaignId);
    if (!userMay("schedule", current.status)) {
      throw conflict(
        `The campaign is ${current.status}: only a draft can be scheduled` +
          (current.status === "Scheduled" ? " (change its time with PATCH scheduledAt)" : ""),
      );
    }
    const values = await this.resolve(
      workspaceId,
      complete({
        name: current.name,
        listId: current.listId,
        audience: current.audience,
        templateId: current.templateId,
        text: current.messageText,
        mediaId: current.mediaId,
        sessionId: current.sessionId,
        sessionIds: await this.numbersOf(current),
        numberAssignment: current.numberAssignment,
        reassignOnDrop: current.reassignOnDrop,
        scheduledAt: current.recurrence
          ? seriesStart(current.recurrence, { scheduledAt: input.scheduledAt, latestStart: current.latestStart }, Date.now() + MIN_LEAD_MS)
          : (input.scheduledAt ?? current.scheduledAt),
        delayMinMs: current.delayMinMs,
        delayMaxMs: current.delayMaxMs,
        sendWindow: current.sendWindow,
        batchSize: current.batchSize,
        batchPauseMs: current.batchPauseMs,
        latestStart: current.latestStart,
      }),
      null,
    );
    const { sessionIds: _numbers, ...scheduledValues } = values;
    const [scheduled] = await this.db
      .update(campaigns)
      .set({ ...scheduledValues, status: current.recurrence ? "Recurring" : "Scheduled" })
      .where(and(eq(campaigns.id, campaignId), eq(campaigns.workspaceId, workspaceId), eq(campaigns.status, "Draft")))
      .returning();
    if (!scheduled) throw conflict("The campaign changed while you scheduled it: reload it and try again");
    try {
      // A draft with a recurrence becomes a recurring campaign: its first run is made and armed.
      if (scheduled.status === "Recurring") await this.scheduling.planSeries(campaignId);
      else await this.scheduling.scheduleCampaignJob(timed(scheduled));
    } catch (error) {
      // Not armed: it goes back to being the draft it was, as create deletes what it cannot schedule.
      await this.db
        .update(campaigns)
        .set({ status: "Draft", scheduledAt: current.scheduledAt })
        .where(and(eq(campaigns.id, campaignId), eq(campaigns.status, scheduled.status)));
      throw error;
    }
    return this.get(workspaceId, campaignId);
  }

  async pause(workspaceId: string, campaignId: string): Promise<CampaignView> {
    const campaign = await this.row(workspaceId, campaignId);
    await pauseCampaign(this.db, campaignId, "paused_by_user");
    if (campaign.status === "Scheduled") await this.scheduling.cancelCampaignJob(campaignId);
    return this.get(workspaceId, campaignId);
  }

  async resume(workspaceId: string, campaignId: string): Promise<CampaignView> {
    const campaign = await this.row(workspaceId, campaignId);
    if (!userMay("resume", campaign.status)) {
      throw conflict(`The campaign is ${campaign.status}: only a paused campaign can be resumed`);
    }
    // The state changes first, so the answer is the campaign's real state (Scheduled or Running).
    const resumed = await resumeCampaign(this.db, campaignId);
    await recordCampaignEvent(this.db, { campaignId, kind: "resumed", reason: "user", detail: `was paused: ${campaign.pauseReason ?? "unknown reason"}` });
    if (resumed.status === "Scheduled") await this.scheduling.scheduleCampaignJob(timed(resumed));
    else await this.scheduling.startCampaignNow(campaignId);
    return this.get(workspaceId, campaignId);
  }

  /** Returns once nothing more can be sent for this campaign. */
  async cancel(workspaceId: string, campaignId: string): Promise<CampaignView> {
    const campaign = await this.row(workspaceId, campaignId);
    if (campaign.status === "Scheduled") await this.scheduling.cancelCampaignJob(campaignId);
    await cancelCampaign(this.db, campaignId, this.sender?.slotWakeups);
    if (campaign.status === "Recurring") await this.cancelNextRuns(campaignId);
    return this.get(workspaceId, campaignId);
  }

  /**
   * A cancelled series makes no more runs (its row is no longer `Recurring`, so none is created after
   * this) and its next run is cancelled; a run already going goes on (cancel it on its own page).
   */
  private async cancelNextRuns(seriesId: string): Promise<void> {
    for (const runId of await scheduledRuns(this.db, seriesId)) {
      await this.scheduling.cancelCampaignJob(runId);
      // It may have started meanwhile: then it is a run going on, as above.
      await cancelCampaign(this.db, runId, this.sender?.slotWakeups).catch(() => undefined);
    }
  }

  /** A campaign still active is cancelled first (nothing more is sent), then deleted. */
  async delete(workspaceId: string, campaignId: string): Promise<void> {
    const campaign = await this.row(workspaceId, campaignId);
    if (campaign.status === "Scheduled") await this.scheduling.cancelCampaignJob(campaignId);
    if (isActive(campaign.status)) await cancelCampaign(this.db, campaignId, this.sender?.slotWakeups);
    if (campaign.status === "Recurring") {
      // Its runs go with it (foreign key), so none may still send.
      await this.cancelNextRuns(campaignId);
      const going = await this.db
        .select({ id: campaigns.id })
        .from(campaigns)
        .where(and(eq(campaigns.seriesId, campaignId), inArray(campaigns.status, ["Running", "Paused"])));
      for (const run of going) await cancelCampaign(this.db, run.id, this.sender?.slotWakeups).catch(() => undefined);
    }
    await this.db.delete(campaigns).where(and(eq(campaigns.id, campaignId), eq(campaigns.workspaceId, workspaceId)));
  }

  async get(workspaceId: string, campaignId: string): Promise<CampaignView> {
    const campaign = await this.row(workspaceId, campaignId);
    const [view] = await this.withCounts([campaign]);
    return view!;
  }

  async list(workspaceId: string, input: z.output<typeof listCampaignsInput>) {
    const rows = await this.db
      .select()
      .from(campaigns)
      .where(
        and(
          eq(campaigns.workspaceId, workspaceId),
          // A recurring campaign's runs are listed on its own page, not here (issue 15).
          isNull(campaigns.seriesId),
          input.status?.length ? inArray(campaigns.status, input.status) : undefined,
          afterCursor(input.cursor, campaigns.createdAt, campaigns.id),
        ),
      )
      .orderBy(...newestFirst(campaigns.createdAt, campaigns.id))
      .limit(input.limit + 1);
    const page = toPage(rows, input.limit);
    return { items: await this.withCounts(page.items), nextCursor: page.nextCursor };
  }

  /** The next campaigns to go out, soonest first (the overview). */
  async upcoming(workspaceId: string, limit: number): Promise<CampaignView[]> {
    const rows = await this.db
      .select()
      .from(campaigns)
      .where(and(eq(campaigns.workspaceId, workspaceId), eq(campaigns.status, "Scheduled")))
      .orderBy(asc(campaigns.scheduledAt))
      .limit(limit);
    return this.withCounts(rows);
  }

  async recipients(workspaceId: string, campaignId: string, input: z.output<typeof listRecipientsInput>) {
    await this.row(workspaceId, campaignId);
    const rows = await this.db
      .select({
        id: campaignRecipients.id,
        position: campaignRecipients.position,
        phone: campaignRecipients.phone,
        contactId: campaignRecipients.contactId,
        renderedText: campaignRecipients.renderedText,
        status: campaignRecipients.status,
        attempts: campaignRecipients.attempts,
        lastError: campaignRecipients.lastError,
        sentAt: campaignRecipients.sentAt,
        ack: campaignRecipients.ack,
        wahaMessageId: campaignRecipients.wahaMessageId,
        skipReason: campaignRecipients.skipReason,
        ackAt: campaignRecipients.ackAt,
        repliedAt: campaignRecipients.repliedAt,
      })
      .from(campaignRecipients)
      .where(
        and(
          eq(campaignRecipients.campaignId, campaignId),
          input.status ? eq(campaignRecipients.status, input.status) : undefined,
          input.cursor ? gt(campaignRecipients.position, Number(input.cursor)) : undefined,
        ),
      )
      .orderBy(asc(campaignRecipients.position))
      .limit(input.limit + 1);
    const items = rows.slice(0, input.limit);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > input.limit && last ? String(last.position) : null };
  }

  /** Pauses and resumes, newest first, for the detail page. */
  async events(workspaceId: string, campaignId: string) {
    await this.row(workspaceId, campaignId);
    return listCampaignEvents(this.db, campaignId);
  }

  /** Sends over time, per minute, for the detail page's chart. */
  async sendTimeline(workspaceId: string, campaignId: string) {
    await this.row(workspaceId, campaignId);
    const rows = await queryRows<{ minute: string; sent: number }>(this.db, sql`
      select date_trunc('minute', ${campaignRecipients.sentAt}) as minute, count(*)::int as sent
      from ${campaignRecipients}
      where ${campaignRecipients.campaignId} = ${campaignId} and ${campaignRecipients.sentAt} is not null
      group by 1 order by 1`);
    return rows.map((row) => ({ minute: new Date(row.minute).toISOString(), sent: Number(row.sent) }));
  }

  async row(workspaceId: string, campaignId: string): Promise<Campaign> {
    const [campaign] = await this.db
      .select()
      .from(campaigns)
      .where(and(eq(campaigns.id, campaignId), eq(campaigns.workspaceId, workspaceId)));
    if (!campaign) throw notFound("Campaign");
    return campaign;
  }

  /** The campaigns with their progress (campaignProgress.ts: the same counts the runner reports). */
  private async withCounts(rows: Campaign[]): Promise<CampaignView[]> {
    const progress = await campaignProgress(this.db, rows);
    const numbers = new Map<string, string[]>();
    if (rows.length > 0) {
      const more = await this.db
        .select({ campaignId: campaignSessions.campaignId, sessionId: campaignSessions.sessionId })
        .from(campaignSessions)
        .where(inArray(campaignSessions.campaignId, rows.map((row) => row.id)))
        .orderBy(asc(campaignSessions.campaignId), asc(campaignSessions.position));
      for (const row of more) numbers.set(row.campaignId, [...(numbers.get(row.campaignId) ?? []), row.sessionId]);
    }
    return rows.map(({ leaseHolder: _holder, leaseExpiresAt: _expires, ...campaign }) => ({
      ...campaign,
      sessionIds: numbers.get(campaign.id) ?? [campaign.sessionId],
      ...progress.get(campaign.id)!,
    }));
  }

  /** The campaign's numbers (campaign_sessions when several, else its one `sessionId`). */
  private async numbersOf(campaign: Campaign): Promise<string[]> {
    const rows = await this.db
      .select({ sessionId: campaignSessions.sessionId })
      .from(campaignSessions)
      .where(eq(campaignSessions.campaignId, campaign.id))
      .orderBy(asc(campaignSessions.position));
    return rows.length > 0 ? rows.map((row) => row.sessionId) : [campaign.sessionId];
  }

  /** Stores the numbers: rows in campaign_sessions only when there are several (one number lives in campaigns.session_id). */
  private async setNumbers(campaignId: string, sessionIds: string[]): Promise<void> {
    await this.db.delete(campaignSessions).where(eq(campaignSessions.campaignId, campaignId));
    if (sessionIds.length > 1) {
      await this.db.insert(campaignSessions).values(sessionIds.map((sessionId, position) => ({ campaignId, sessionId, position })));
    }
  }

  /**
   * Per number of the campaign: how many it sent (one grouped query over the campaign's recipients;
   * rows sent before issue 15 count as the first number's), for the campaign page.
   */
  async numberStats(workspaceId: string, campaignId: string) {
    const campaign = await this.row(workspaceId, campaignId);
    const ids = await this.numbersOf(campaign);
    const sessions = await this.db
      .select({ id: whatsappSessions.id, name: whatsappSessions.name, phoneNumber: whatsappSessions.phoneNumber, status: whatsappSessions.status })
      .from(whatsappSessions)
      .where(inArray(whatsappSessions.id, ids));
    const counts = await queryRows<{ session_id: string; sent: number; sending: number; assigned: number }>(
      this.db,
      sql`select coalesce(r.session_id, ${campaign.sessionId}::uuid)::text as session_id,
                 count(*) filter (where r.status = 'sent')::int as sent,
                 count(*) filter (where r.status = 'sending')::int as sending,
                 count(*) filter (where r.status = 'pending' and r.session_id is not null)::int as assigned
            from ${campaignRecipients} r
           where r.campaign_id = ${campaignId} and (r.session_id is not null or r.status in ('sent', 'sending'))
           group by 1`,
    );
    const byId = new Map(counts.map((row) => [row.session_id, row]));
    return ids.map((id) => {
      const session = sessions.find((row) => row.id === id);
      const count = byId.get(id);
      return {
        sessionId: id,
        name: session?.name ?? null,
        phoneNumber: session?.phoneNumber ?? null,
        status: session?.status ?? null,
        sent: Number(count?.sent ?? 0),
        sending: Number(count?.sending ?? 0),
        waiting: Number(count?.assigned ?? 0),
      };
    });
  }

  /**
   * A draft: what it gives must exist in the workspace and agree with itself (delays, batches, not a
   * template and a text both); what it leaves out waits for `schedule`.
   */
  private async resolveDraft(workspaceId: string, input: DraftFields) {
    if (input.templateId && input.text) throw unprocessable("Give either a template or a message text, not both", "text");
    const { delayMinMs, delayMaxMs } = this.checkPacing(input);
    if (input.listId) await this.checkList(workspaceId, input.listId);
    const audience = await this.checkAudience(workspaceId, input.audience);
    if (input.templateId) await this.checkTemplate(workspaceId, input.templateId);
    if (input.mediaId) await this.checkMedia(workspaceId, input.mediaId);
    return {
      name: input.name,
      listId: input.listId ?? null,
      audience,
      templateId: input.templateId ?? null,
      messageText: input.templateId ? null : (input.text ?? null),
      mediaId: input.mediaId ?? null,
      ...(await this.resolveNumbers(workspaceId, input)),
      scheduledAt: input.scheduledAt ?? null,
      delayMinMs,
      delayMaxMs,
      sendWindow: input.sendWindow ?? null,
      batchSize: input.batchSize ?? null,
      batchPauseMs: input.batchPauseMs ?? null,
      latestStart: input.latestStart ?? null,
    };
  }

  /** Delays and batches that agree with each other (defaults filled in), or a 422 naming the field. */
  private checkPacing(input: Pick<DraftFields, "delayMinMs" | "delayMaxMs" | "batchSize" | "batchPauseMs" | "latestStart" | "scheduledAt">) {
    const delayMinMs = input.delayMinMs ?? this.defaults.delayMinMs;
    const delayMaxMs = input.delayMaxMs ?? Math.max(this.defaults.delayMaxMs, delayMinMs);
    if (delayMaxMs < delayMinMs) throw unprocessable("The longest delay must not be shorter than the shortest", "delayMaxMs");
    if (Boolean(input.batchSize) !== Boolean(input.batchPauseMs)) {
      throw unprocessable(
        "Give batchSize and batchPauseMs together (after batchSize messages, pause batchPauseMs), or neither",
        input.batchSize ? "batchPauseMs" : "batchSize",
      );
    }
    if (input.latestStart && input.scheduledAt && input.latestStart.getTime() < input.scheduledAt.getTime()) {
      throw unprocessable("latestStart must not be before scheduledAt: it is the latest the campaign may still start", "latestStart");
    }
    return { delayMinMs, delayMaxMs };
  }

  /** The audience's lists must be the workspace's; answers it normalised (null when empty). */
  private async checkAudience(workspaceId: string, input: CampaignAudience | null | undefined): Promise<CampaignAudience | null> {
    const audience = normaliseAudience(input);
    for (const listId of audience?.listIds ?? []) {
      const [list] = await this.db
        .select({ id: contactLists.id })
        .from(contactLists)
        .where(and(eq(contactLists.id, listId), eq(contactLists.workspaceId, workspaceId)));
      if (!list) throw unprocessable(`The contact list ${listId} in audience.listIds does not exist`, "audience.listIds");
    }
    return audience;
  }

  private async checkList(workspaceId: string, listId: string) {
    const [list] = await this.db
      .select({ id: contactLists.id })
      .from(contactLists)
      .where(and(eq(contactLists.id, listId), eq(contactLists.workspaceId, workspaceId)));
    if (!list) throw unprocessable("That contact list does not exist", "listId");
  }

  private async checkTemplate(workspaceId: string, templateId: string) {
    const [template] = await this.db
      .select({ id: templates.id })
      .from(templates)
      .where(and(eq(templates.id, templateId), eq(templates.workspaceId, workspaceId)));
    if (!template) throw unprocessable("That template does not exist", "templateId");
  }

  private async checkMedia(workspaceId: string, mediaId: string) {
    const [media] = await this.db
      .select({ id: mediaItems.id })
      .from(mediaItems)
      .where(and(eq(mediaItems.id, mediaId), eq(mediaItems.workspaceId, workspaceId)));
    if (!media) throw unprocessable("That image does not exist", "mediaId");
  }

  /** The number to send from: the one given, or the workspace's only one. */
  private async resolveSession(workspaceId: string, sessionId: string | null | undefined): Promise<string> {
    const sessions = await this.db
      .select({ id: whatsappSessions.id })
      .from(whatsappSessions)
      .where(and(eq(whatsappSessions.workspaceId, workspaceId), sessionId ? eq(whatsappSessions.id, sessionId) : undefined));
    if (sessionId && sessions.length === 0) throw unprocessable("That WhatsApp number does not exist", "sessionId");
    if (sessions.length === 0) throw unprocessable("Connect a WhatsApp number first", "sessionId");
    if (sessions.length > 1) throw unprocessable("You have several WhatsApp numbers: choose the one to send from", "sessionId");
    return sessions[0]!.id;
  }

  /**
   * The numbers to send from (issue 15): `sessionIds` (each the workspace's, no duplicates, 1..50),
   * else the one `sessionId` (or the workspace's only number). The first is `campaigns.session_id`.
   */
  private async resolveNumbers(
    workspaceId: string,
    input: { sessionId?: string | null; sessionIds?: string[] | null; numberAssignment?: "sticky" | "balanced"; reassignOnDrop?: boolean },
  ) {
    const options = { numberAssignment: input.numberAssignment ?? "balanced", reassignOnDrop: input.reassignOnDrop ?? false } as const;
    const ids = input.sessionIds;
    if (!ids || ids.length === 0) {
      const sessionId = await this.resolveSession(workspaceId, input.sessionId);
      return { sessionId, sessionIds: [sessionId], ...options };
    }
    if (new Set(ids).size !== ids.length) throw unprocessable("sessionIds lists a number twice", "sessionIds");
    if (ids.length > MAX_NUMBERS) throw unprocessable(`sessionIds may hold at most ${MAX_NUMBERS} numbers`, "sessionIds");
    if (input.sessionId && !ids.includes(input.sessionId)) throw unprocessable("sessionId must be one of sessionIds (or leave it out)", "sessionId");
    const found = await this.db
      .select({ id: whatsappSessions.id })
      .from(whatsappSessions)
      .where(and(eq(whatsappSessions.workspaceId, workspaceId), inArray(whatsappSessions.id, ids)));
    const known = new Set(found.map((row) => row.id));
    const missing = ids.find((id) => !known.has(id));
    if (missing) throw unprocessable(`The WhatsApp number ${missing} in sessionIds does not exist`, "sessionIds");
    // sessionId, when given, goes first: it stays the campaign's first number.
    const ordered = input.sessionId ? [input.sessionId, ...ids.filter((id) => id !== input.sessionId)] : ids;
    return { sessionId: ordered[0]!, sessionIds: ordered, ...options };
  }

  /** Checks every reference belongs to the workspace, and fills defaults. */
  private async resolve(
    workspaceId: string,
    input: {
      name: string;
      listId: string | null;
      audience?: CampaignAudience | null;
      templateId?: string | null;
      text?: string | null;
      mediaId?: string | null;
      sessionId?: string | null;
      sessionIds?: string[] | null;
      numberAssignment?: "sticky" | "balanced";
      reassignOnDrop?: boolean;
      scheduledAt: Date;
      delayMinMs?: number;
      delayMaxMs?: number;
      sendWindow?: SendWindow | null;
      batchSize?: number | null;
      batchPauseMs?: number | null;
      latestStart?: Date | null;
    },
    current: Campaign | null,
  ) {
    if (input.scheduledAt.getTime() < Date.now() + MIN_LEAD_MS && (!current || input.scheduledAt.getTime() !== current.scheduledAt?.getTime())) {
      throw unprocessable("The scheduled time has passed: choose a time in the future", "scheduledAt");
    }
    const hasTemplate = Boolean(input.templateId);
    const hasText = Boolean(input.text);
    if (hasTemplate && hasText) throw unprocessable("Give either a template or a message text, not both", "text");
    if (!hasTemplate && !hasText) throw unprocessable("Choose a template or write the message text", "text");
    const { delayMinMs, delayMaxMs } = this.checkPacing(input);
    if (input.listId) await this.checkList(workspaceId, input.listId);
    const audience = await this.checkAudience(workspaceId, input.audience);
    if (input.templateId) await this.checkTemplate(workspaceId, input.templateId);
    else await assertMessageText(this.db, workspaceId, input.text!, "text");
    if (input.mediaId) await this.checkMedia(workspaceId, input.mediaId);
    const numbers = await this.resolveNumbers(workspaceId, input);
    return {
      name: input.name,
      listId: input.listId,
      audience,
      templateId: input.templateId ?? null,
      messageText: input.templateId ? null : (input.text ?? null),
      mediaId: input.mediaId ?? null,
      ...numbers,
      scheduledAt: input.scheduledAt,
      delayMinMs,
      delayMaxMs,
      sendWindow: input.sendWindow ?? null,
      batchSize: input.batchSize ?? null,
      batchPauseMs: input.batchPauseMs ?? null,
      latestStart: input.latestStart ?? null,
    };
  }
}

/** What the scheduler arms: every campaign but a Draft has its time (CHECK campaigns_time_unless_draft). */
function timed(campaign: Campaign): { id: string; scheduledAt: Date } {
  if (!campaign.scheduledAt) throw new Error(`Campaign ${campaign.id} is ${campaign.status} without a scheduled time`);
  return { id: campaign.id, scheduledAt: campaign.scheduledAt };
}

/** A campaign's fields as a draft may hold them: anything but its name may still be missing. */
type DraftFields = Omit<CreateCampaignInput, "status" | "listId" | "scheduledAt"> & { listId?: string | null; scheduledAt?: Date | null };

/** What scheduling needs that a draft may lack: a list and a time (422 naming the missing one). */
function complete<T extends DraftFields>(input: T): T & { listId: string | null; scheduledAt: Date } {
  if (!reachesSomeone(input.listId, input.audience)) throw unprocessable("Choose a contact list (listId), or lists or tags in audience", "listId");
  if (!input.scheduledAt) {
    throw unprocessable('Choose when to send it: scheduledAt (or save it as a draft with status "Draft")', "scheduledAt");
  }
  return { ...input, listId: input.listId ?? null, scheduledAt: input.scheduledAt };
}
