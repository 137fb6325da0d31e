import { z } from "zod";
import { sessionNameSchema } from "../../services/whatsappSessions";
import { strictInput } from "../strictInput";
import { protectedProcedure, router } from "../trpc";

const byId = z.object({ id: z.uuid({ error: "Not a WhatsApp number id" }) });
const byIdOnly = strictInput(byId);

export const whatsappSessionRouter = router({
  list: protectedProcedure.query(({ ctx }) => ctx.services.sessions.list(ctx.workspaceId)),
  get: protectedProcedure.input(byIdOnly).query(({ ctx, input }) => ctx.services.sessions.get(ctx.workspaceId, input.id)),
  create: protectedProcedure
    .input(strictInput(z.object({ name: sessionNameSchema })))
    .mutation(({ ctx, input }) => ctx.services.sessions.create(ctx.workspaceId, input.name)),
  qr: protectedProcedure.input(byIdOnly).query(({ ctx, input }) => ctx.services.sessions.qr(ctx.workspaceId, input.id)),
  requestPairingCode: protectedProcedure
    .input(strictInput(byId.extend({ phoneNumber: z.string().regex(/^\+?[0-9 ()-]{6,20}$/, "Write the phone number with its country code") })))
    .mutation(({ ctx, input }) => ctx.services.sessions.requestPairingCode(ctx.workspaceId, input.id, input.phoneNumber)),
  logout: protectedProcedure.input(byIdOnly).mutation(({ ctx, input }) => ctx.services.sessions.logout(ctx.workspaceId, input.id)),
  simulateScan: protectedProcedure
    .input(byIdOnly)
    .mutation(({ ctx, input }) => ctx.services.sessions.simulateScan(ctx.workspaceId, input.id)),
});
