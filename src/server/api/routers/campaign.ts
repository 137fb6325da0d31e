/**
 * Campaigns. `create` schedules the new campaign; `update` re-schedules when `scheduledAt` changes;
 * `delete` cancels (nothing more is sent) before deleting; there is no `runManually`: the scheduler
 * alone starts campaigns (shared/seed/job-scheduling-plan.md).
 */
import { campaignReplies } from "../../services/replies/conversation";
import { z } from "zod";
import { duplicateCampaign, retryFailedRecipients } from "../../services/campaignFollowUps";
import {
  campaignFields,
  createCampaignInput,
  listCampaignsInput,
  listRecipientsInput,
  scheduleCampaignInput,
  updateCampaignInput,
} from "../../services/campaigns";
import { strictInput } from "../strictInput";
import { protectedProcedure, router } from "../trpc";

const byId = z.object({ id: z.uuid({ error: "Not a campaign id" }) });
const byIdOnly = strictInput(byId);
/** Retry failed and duplicate: the campaign, and optionally when the new one starts. */
const followUpInput = strictInput(byId.extend({ scheduledAt: campaignFields.shape.scheduledAt.optional() }));

/** What a campaign reads back with but no caller writes: each refused with where to go instead. */
const CAMPAIGN_READ_ONLY: Record<string, string> = {
  status: "status cannot be set here; use /schedule, /pause, /resume or /cancel",
  defaultName:
    "defaultName is gone: write the fallback in the text's placeholder instead, e.g. {{first_name|friend}} (used when a contact has no first name)",
  startedAt: "startedAt is read-only: the campaign's run sets it",
  completedAt: "completedAt is read-only: the campaign's run sets it",
  counts: "counts are read-only: they count the recipients",
  pauseReason: "pauseReason is read-only; use /pause to pause",
  missedReason: "missedReason is read-only: the scheduler sets it when latestStart passes",
  waiting: "waiting is read-only: it says what holds the campaign back (limits, window, batch pause)",
  waitingReason: "waitingReason is read-only: it says what holds the campaign back",
  waitingUntil: "waitingUntil is read-only: it says when the campaign goes on",
  waitingDetail: "waitingDetail is read-only",
  seriesId: "seriesId is read-only: the runs of a recurring campaign are made by the scheduler (send recurrence to make one)",
  occurrenceAt: "occurrenceAt is read-only: it is the occurrence a recurring campaign's run was made for",
};

export const campaignRouter = router({
  list: protectedProcedure
    .input(strictInput(listCampaignsInput))
    .query(({ ctx, input }) => ctx.services.campaigns.list(ctx.workspaceId, input)),
  upcoming: protectedProcedure
    .input(strictInput(z.object({ limit: z.number().int().min(1).max(50).default(10) })))
    .query(({ ctx, input }) => ctx.services.campaigns.upcoming(ctx.workspaceId, input.limit)),
  get: protectedProcedure.input(byIdOnly).query(({ ctx, input }) => ctx.services.campaigns.get(ctx.workspaceId, input.id)),
  create: protectedProcedure
    .input(strictInput(createCampaignInput, CAMPAIGN_READ_ONLY))
    .mutation(({ ctx, input }) => ctx.services.campaigns.create(ctx.workspaceId, input)),
  update: protectedProcedure
    .input(strictInput(byId.extend(updateCampaignInput.shape), CAMPAIGN_READ_ONLY))
    .mutation(({ ctx, input: { id, ...changes } }) => ctx.services.campaigns.update(ctx.workspaceId, id, changes)),
  delete: protectedProcedure.input(byIdOnly).mutation(async ({ ctx, input }) => {
    await ctx.services.campaigns.delete(ctx.workspaceId, input.id);
    return { ok: true };
  }),
  schedule: protectedProcedure
    .input(strictInput(byId.extend(scheduleCampaignInput.shape)))
    .mutation(({ ctx, input: { id, ...when } }) => ctx.services.campaigns.schedule(ctx.workspaceId, id, when)),
  pause: protectedProcedure.input(byIdOnly).mutation(({ ctx, input }) => ctx.services.campaigns.pause(ctx.workspaceId, input.id)),
  resume: protectedProcedure.input(byIdOnly).mutation(({ ctx, input }) => ctx.services.campaigns.resume(ctx.workspaceId, input.id)),
  cancel: protectedProcedure.input(byIdOnly).mutation(({ ctx, input }) => ctx.services.campaigns.cancel(ctx.workspaceId, input.id)),
  recipients: protectedProcedure
    .input(strictInput(byId.extend(listRecipientsInput.shape)))
    .query(({ ctx, input: { id, ...page } }) => ctx.services.campaigns.recipients(ctx.workspaceId, id, page)),
  sendTest: protectedProcedure
    .input(
      strictInput(
        byId.extend({
          phone: z.string().trim().min(4, "Write your phone number with its country code").max(30),
          defaultCountry: z.string().trim().toUpperCase().regex(/^[A-Z]{2}$/).optional(),
        }),
      ),
    )
    .mutation(({ ctx, input }) => ctx.services.campaigns.sendTest(ctx.workspaceId, input.id, input.phone, input.defaultCountry)),
  events: protectedProcedure.input(byIdOnly).query(({ ctx, input }) => ctx.services.campaigns.events(ctx.workspaceId, input.id)),
  /** Issue 15: the campaign's numbers, each with how many it sent. */
  numbers: protectedProcedure.input(byIdOnly).query(({ ctx, input }) => ctx.services.campaigns.numberStats(ctx.workspaceId, input.id)),
  /** Issue 15: a recurring campaign's runs (newest first, with counts) and its next 5 occurrences. */
  series: protectedProcedure.input(byIdOnly).query(({ ctx, input }) => ctx.services.campaigns.series(ctx.workspaceId, input.id)),
  /** Issue 14: a new campaign, linked by retryOf, of only the failed recipients (their texts as sent); starts now or at scheduledAt. */
  retryFailed: protectedProcedure.input(followUpInput).mutation(async ({ ctx, input }) => {
    const retryId = await retryFailedRecipients(ctx.services.db, ctx.services.scheduler, ctx.workspaceId, input.id, input.scheduledAt);
    return ctx.services.campaigns.get(ctx.workspaceId, retryId);
  }),
  /** Issue 14: a copy of the campaign's settings, a Draft (or Scheduled at scheduledAt). */
  duplicate: protectedProcedure.input(followUpInput).mutation(async ({ ctx, input }) => {
    const scheduleDraft = (copyId: string, scheduledAt: Date) => ctx.services.campaigns.schedule(ctx.workspaceId, copyId, { scheduledAt });
    const copyId = await duplicateCampaign(ctx.services.db, scheduleDraft, ctx.workspaceId, input.id, input.scheduledAt);
    return ctx.services.campaigns.get(ctx.workspaceId, copyId);
  }),
  /** Issue 14: who replied, when, what; the replied count and rate. */
  replies: protectedProcedure.input(byIdOnly).query(({ ctx, input }) => campaignReplies(ctx.services.db, ctx.workspaceId, input.id)),
  timeline: protectedProcedure
    .input(byIdOnly)
    .query(({ ctx, input }) => ctx.services.campaigns.sendTimeline(ctx.workspaceId, input.id)),
});
