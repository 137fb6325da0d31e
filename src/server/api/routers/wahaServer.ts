import { z } from "zod";
import { wahaServerApiKeySchema, wahaServerNameSchema, wahaServerUrlSchema } from "../../services/wahaServers";
import { strictInput } from "../strictInput";
import { protectedProcedure, router } from "../trpc";

const byId = z.object({ id: z.uuid({ error: "Not a WAHA server id" }) });
const byIdOnly = strictInput(byId);

/** What a server reads back with but no caller writes. */
const SERVER_READ_ONLY: Record<string, string> = {
  hasApiKey: "hasApiKey is read-only: send apiKey (or null to remove it)",
  health: "health is read-only: the server is checked on a timer",
  healthDetail: "healthDetail is read-only: the server is checked on a timer",
  healthCheckedAt: "healthCheckedAt is read-only: the server is checked on a timer",
  numbers: "numbers is read-only: create numbers with POST /api/v1/sessions {serverId}",
};

export const wahaServerRouter = router({
  list: protectedProcedure.query(({ ctx }) => ctx.services.wahaServers.list(ctx.workspaceId)),
  get: protectedProcedure.input(byIdOnly).query(({ ctx, input }) => ctx.services.wahaServers.get(ctx.workspaceId, input.id)),
  create: protectedProcedure
    .input(strictInput(z.object({ name: wahaServerNameSchema, url: wahaServerUrlSchema, apiKey: wahaServerApiKeySchema.optional() }), SERVER_READ_ONLY))
    .mutation(({ ctx, input }) => ctx.services.wahaServers.create(ctx.workspaceId, input)),
  /** Any subset of name, url, apiKey (null removes the key); the server is checked again at once. */
  update: protectedProcedure
    .input(
      strictInput(
        byId.extend({ name: wahaServerNameSchema.optional(), url: wahaServerUrlSchema.optional(), apiKey: wahaServerApiKeySchema.optional() }),
        SERVER_READ_ONLY,
      ),
    )
    .mutation(({ ctx, input: { id, ...changes } }) => ctx.services.wahaServers.update(ctx.workspaceId, id, changes)),
  delete: protectedProcedure.input(byIdOnly).mutation(async ({ ctx, input }) => {
    await ctx.services.wahaServers.delete(ctx.workspaceId, input.id);
    return { ok: true };
  }),
});
