/**
 * Campaigns. `create` schedules the new campaign; `update` re-schedules when `scheduledAt` changes;
 * `delete` cancels (nothing more is sent) before deleting; there is no `runManually`: the scheduler
 * alone starts campaigns (shared/seed/job-scheduling-plan.md).
 */
import { z } from "zod";
import {
  createCampaignInput,
  listCampaignsInput,
  listRecipientsInput,
  updateCampaignInput,
} from "../../services/campaigns";
import { strictInput } from "../strictInput";
import { protectedProcedure, router } from "../trpc";

const byId = z.object({ id: z.uuid({ error: "Not a campaign id" }) });
const byIdOnly = strictInput(byId);

/** What a campaign reads back with but no caller writes: each refused with where to go instead. */
const CAMPAIGN_READ_ONLY: Record<string, string> = {
  status: "status cannot be set; use /pause, /resume or /cancel",
  startedAt: "startedAt is read-only: the campaign's run sets it",
  completedAt: "completedAt is read-only: the campaign's run sets it",
  counts: "counts are read-only: they count the recipients",
  pauseReason: "pauseReason is read-only; use /pause to pause",
  missedReason: "missedReason is read-only: the scheduler sets it when latestStart passes",
  waiting: "waiting is read-only: it says what holds the campaign back (limits, window, batch pause)",
  waitingReason: "waitingReason is read-only: it says what holds the campaign back",
  waitingUntil: "waitingUntil is read-only: it says when the campaign goes on",
  waitingDetail: "waitingDetail is read-only",
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
  timeline: protectedProcedure
    .input(byIdOnly)
    .query(({ ctx, input }) => ctx.services.campaigns.sendTimeline(ctx.workspaceId, input.id)),
});
