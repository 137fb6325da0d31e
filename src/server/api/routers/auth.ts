import { createUser, credentialsSchema, logIn, logOut } from "../../services/auth";
import { protectedProcedure, publicProcedure, router } from "../trpc";

export const authRouter = router({
  signUp: publicProcedure.input(credentialsSchema).mutation(async ({ ctx, input }) => {
    await createUser(ctx.services.db, input);
    const session = await logIn(ctx.services.db, input);
    ctx.cookies?.set(session.token, session.expiresAt);
    return session.user;
  }),
  logIn: publicProcedure.input(credentialsSchema).mutation(async ({ ctx, input }) => {
    const session = await logIn(ctx.services.db, input);
    ctx.cookies?.set(session.token, session.expiresAt);
    return session.user;
  }),
  logOut: publicProcedure.mutation(async ({ ctx }) => {
    if (ctx.cookies?.token) await logOut(ctx.services.db, ctx.cookies.token);
    ctx.cookies?.clear();
    return { ok: true };
  }),
  me: publicProcedure.query(({ ctx }) => {
    if (!ctx.caller) return null;
    return { email: ctx.caller.email, workspaceId: ctx.caller.workspaceId };
  }),
  /** What every page shows: sandbox mode and the scheduler driver. Never secrets. */
  appInfo: protectedProcedure.query(({ ctx }) => {
    return {
      sandbox: ctx.services.sandbox,
      schedulerDriver: ctx.services.config.SCHEDULER_DRIVER,
      defaultDelayMinMs: ctx.services.config.SEND_DELAY_MIN_MS,
      defaultDelayMaxMs: ctx.services.config.SEND_DELAY_MAX_MS,
    };
  }),
});
