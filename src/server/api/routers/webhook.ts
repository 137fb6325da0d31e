import { z } from "zod";
import { WEBHOOK_EVENT_TYPES } from "../../services/outgoingWebhooks/events";
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  listWebhookDeliveries,
  listWebhookEndpoints,
} from "../../services/outgoingWebhooks/endpoints";
import { strictInput } from "../strictInput";
import { protectedProcedure, router } from "../trpc";

/** Outgoing webhooks: a workspace's endpoints and their delivery log (services/outgoingWebhooks/). */
export const webhookRouter = router({
  list: protectedProcedure.query(({ ctx }) => listWebhookEndpoints(ctx.services.db, ctx.workspaceId)),
  /** The secret is in this answer only: every delivery is signed with it (X-Webhook-Signature). */
  create: protectedProcedure
    .input(
      strictInput(
        z.object({
          url: z.string().trim().min(1, "Give the URL to post events to, e.g. https://example.com/hooks/waha").max(2000),
          events: z
            .array(z.enum(WEBHOOK_EVENT_TYPES, { error: `must be one of ${WEBHOOK_EVENT_TYPES.join(", ")}` }))
            .min(1, `Subscribe to at least one event: ${WEBHOOK_EVENT_TYPES.join(", ")}`)
            .max(WEBHOOK_EVENT_TYPES.length * 2),
        }),
      ),
    )
    .mutation(({ ctx, input }) =>
      createWebhookEndpoint(ctx.services.db, ctx.workspaceId, input, { allowPrivate: ctx.services.config.WEBHOOK_ALLOW_PRIVATE }),
    ),
  delete: protectedProcedure
    .input(strictInput(z.object({ id: z.uuid() })))
    .mutation(async ({ ctx, input }) => {
      await deleteWebhookEndpoint(ctx.services.db, ctx.workspaceId, input.id);
      return { ok: true };
    }),
  /** The delivery log of one endpoint, newest first. */
  deliveries: protectedProcedure
    .input(
      strictInput(
        z.object({
          id: z.uuid(),
          limit: z.number().int().min(1).max(200).default(50),
          before: z.number().int().min(1).optional(),
        }),
      ),
    )
    .query(({ ctx, input }) =>
      listWebhookDeliveries(ctx.services.db, ctx.workspaceId, input.id, { limit: input.limit, ...(input.before ? { before: input.before } : {}) }),
    ),
});
