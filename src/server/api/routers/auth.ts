import { z } from "zod";
import { credentialsSchema, logIn, logOut, newAccountFields, openSession, passwordIsNotEmail, signUp } from "../../services/auth";
import { createInvite, listOpenInvites, revokeInvite } from "../../services/auth/invites";
import { AppError } from "../../services/errors";
import { strictInput } from "../strictInput";
import { protectedProcedure, publicProcedure, router } from "../trpc";

// Strict like every other input: a misspelt field ("passwrod", "invite_token") is a 400 naming it.
const signUpInput = passwordIsNotEmail(strictInput(newAccountFields));
const logInInput = strictInput(credentialsSchema);

export const authRouter = router({
  /** What the sign-up page shows before anyone logs in: whether sign-up is open, needs an invite, or is closed. */
  // Public: the log-in page shows the sign-up offer and the sandbox banner before anyone logs in.
  signupMode: publicProcedure.query(({ ctx }) => ({ mode: ctx.services.signupMode, sandbox: ctx.services.sandbox })),
  signUp: publicProcedure.input(signUpInput).mutation(async ({ ctx, input }) => {
    const deps = { passwords: ctx.services.passwords, throttle: ctx.services.authThrottle, clientIp: ctx.clientIp ?? null };
    const user = await signUp(ctx.services.db, input, { ...deps, mode: ctx.services.signupMode });
    const session = await openSession(ctx.services.db, user);
    ctx.cookies?.set(session.token, session.expiresAt);
    return session.user;
  }),
  logIn: publicProcedure.input(logInInput).mutation(async ({ ctx, input }) => {
    const session = await logIn(ctx.services.db, input, {
      passwords: ctx.services.passwords,
      throttle: ctx.services.authThrottle,
      clientIp: ctx.clientIp ?? null,
    });
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
  /** An invite link's token, shown once; whoever signs up with it joins the caller's workspace. */
  createInvite: protectedProcedure
    .input(strictInput(z.object({ email: z.email({ error: "Enter a valid email address, or leave it empty" }).trim().toLowerCase().optional() })))
    .mutation(async ({ ctx, input }) => {
      if (ctx.services.signupMode === "closed") {
        throw new AppError("CONFLICT", "Sign-up is closed on this server (SIGNUP=closed): set SIGNUP=invite to let invited people join");
      }
      return createInvite(ctx.services.db, { workspaceId: ctx.workspaceId, userId: ctx.caller.userId, email: input.email ?? null });
    }),
  listInvites: protectedProcedure.query(({ ctx }) => listOpenInvites(ctx.services.db, ctx.workspaceId)),
  revokeInvite: protectedProcedure
    .input(strictInput(z.object({ id: z.uuid({ error: "Not an invite id" }) })))
    .mutation(async ({ ctx, input }) => {
      await revokeInvite(ctx.services.db, ctx.workspaceId, input.id);
      return { ok: true };
    }),
});
