import { z } from "zod";
import { numberPolicyPatchSchema } from "../../services/safeSending/policy";
import { sessionNameSchema } from "../../services/whatsappSessions";
import { strictInput } from "../strictInput";
import { protectedProcedure, router } from "../trpc";

const byId = z.object({ id: z.uuid({ error: "Not a WhatsApp number id" }) });
const byIdOnly = strictInput(byId);

/** What a number reads back with but no caller writes (the runner and WAHA set these). */
const SESSION_READ_ONLY: Record<string, string> = {
  status: "status is WAHA's: scan the QR code, or log out",
  todayLimit: "todayLimit is worked out from dailyLimit and the warm-up: set those",
  warmupSchedule: "warmupSchedule follows from dailyLimit: set dailyLimit and warmup",
  firstSentAt: "firstSentAt is read-only: the number's first send sets it",
  restrictedUntil: "restrictedUntil is read-only: WhatsApp's restriction sets it",
  restrictionReason: "restrictionReason is read-only: WhatsApp's restriction sets it",
  serverHealth: "serverHealth is read-only: the server's health check sets it",
  statusText: "statusText is read-only: it follows the number's server",
  wahaSessionName: "wahaSessionName is read-only: the server names the WAHA session",
};
/** serverId is set at creation only: a number cannot move between WAHA servers. */
const SESSION_UPDATE_READ_ONLY: Record<string, string> = {
  ...SESSION_READ_ONLY,
  serverId: "serverId is fixed at creation: a number cannot move to another WAHA server; create a new number there",
};

export const whatsappSessionRouter = router({
  list: protectedProcedure.query(({ ctx }) => ctx.services.sessions.list(ctx.workspaceId)),
  get: protectedProcedure.input(byIdOnly).query(({ ctx, input }) => ctx.services.sessions.get(ctx.workspaceId, input.id)),
  create: protectedProcedure
    .input(
      strictInput(
        numberPolicyPatchSchema.extend({
          name: sessionNameSchema,
          /**
           * A registered, healthy WAHA server of the workspace (issue 15); null = the default server;
           * absent = the least-loaded healthy server.
           */
          serverId: z.uuid({ error: "serverId must be a WAHA server id from GET /api/v1/waha-servers" }).nullable().optional(),
        }),
        SESSION_READ_ONLY,
      ),
    )
    .mutation(({ ctx, input: { name, serverId, ...policy } }) => ctx.services.sessions.create(ctx.workspaceId, name, policy, serverId)),
  /** The number's sending policy (issue 13): any subset of its fields. */
  update: protectedProcedure
    .input(strictInput(byId.extend(numberPolicyPatchSchema.shape), SESSION_UPDATE_READ_ONLY))
    .mutation(({ ctx, input: { id, ...policy } }) => ctx.services.sessions.updatePolicy(ctx.workspaceId, id, policy)),
  qr: protectedProcedure.input(byIdOnly).query(({ ctx, input }) => ctx.services.sessions.qr(ctx.workspaceId, input.id)),
  requestPairingCode: protectedProcedure
    .input(strictInput(byId.extend({ phoneNumber: z.string().regex(/^\+?[0-9 ()-]{6,20}$/, "Write the phone number with its country code") })))
    .mutation(({ ctx, input }) => ctx.services.sessions.requestPairingCode(ctx.workspaceId, input.id, input.phoneNumber)),
  logout: protectedProcedure.input(byIdOnly).mutation(({ ctx, input }) => ctx.services.sessions.logout(ctx.workspaceId, input.id)),
  delete: protectedProcedure.input(byIdOnly).mutation(async ({ ctx, input }) => {
    await ctx.services.sessions.delete(ctx.workspaceId, input.id);
    return { ok: true };
  }),
  simulateScan: protectedProcedure
    .input(byIdOnly)
    .mutation(({ ctx, input }) => ctx.services.sessions.simulateScan(ctx.workspaceId, input.id)),
  /** Sandbox only: a contact's reply to this number (issue 14). */
  simulateReply: protectedProcedure
    .input(strictInput(byId.extend({ from: z.string().trim().regex(/^\+\d{6,15}$/, "from is a phone in E.164, e.g. +14155550123"), text: z.string().max(4096) })))
    .mutation(({ ctx, input }) => ctx.services.sessions.simulateReply(ctx.workspaceId, input.id, input.from, input.text)),
});
