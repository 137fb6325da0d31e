import { z } from "zod";
import { createApiKey, listApiKeys, revokeApiKey } from "../../services/auth";
import { strictInput } from "../strictInput";
import { protectedProcedure, router } from "../trpc";

export const apiKeyRouter = router({
  list: protectedProcedure.query(({ ctx }) => listApiKeys(ctx.services.db, ctx.workspaceId)),
  /** The key is in this answer only; it is stored hashed. */
  create: protectedProcedure
    .input(strictInput(z.object({ name: z.string().trim().min(1, "Name the key, e.g. Zapier").max(60) })))
    .mutation(({ ctx, input }) =>
      createApiKey(ctx.services.db, { workspaceId: ctx.workspaceId, userId: ctx.caller.userId, name: input.name }),
    ),
  revoke: protectedProcedure
    .input(strictInput(z.object({ id: z.uuid() })))
    .mutation(async ({ ctx, input }) => {
      await revokeApiKey(ctx.services.db, ctx.workspaceId, input.id);
      return { ok: true };
    }),
});
