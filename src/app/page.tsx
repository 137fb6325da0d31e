"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";
import { Banners } from "~/components/Banners";
import { seedNewWorkspaceOverview } from "~/components/overviewQueries";
import { noteLoggingOut, safeReturnPath } from "~/components/returnPath";
import { useTRPC } from "~/trpc/react";

/**
 * Log in or sign up; a logged-in visitor goes straight to the overview. An invite link (`/?invite=…`)
 * opens the sign-up form, and the account joins the inviter's workspace. Sign-up is offered as the
 * server allows it (SIGNUP: open, invite, closed).
 */
/** `/?next=/campaigns/…`: back to the page whose session ended, when it is a path on this site. */
function returnPath(): string {
  return safeReturnPath(new URLSearchParams(window.location.search).get("next"), window.location.origin);
}

export default function LoginPage() {
  const trpc = useTRPC();
  const router = useRouter();
  const me = useQuery(trpc.auth.me.queryOptions());
  const server = useQuery(trpc.auth.signupMode.queryOptions()).data;
  const signupMode = server?.mode ?? "open";
  const [mode, setMode] = useState<"logIn" | "signUp">("logIn");
  const [inviteToken, setInviteToken] = useState<string | null>(null);
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const queryClient = useQueryClient();
  // The cached "not logged in" answer must not send the next page back here.
  const enter = () => {
    queryClient.removeQueries({ queryKey: trpc.auth.me.queryKey() });
    router.push(returnPath());
  };
  const logIn = useMutation(trpc.auth.logIn.mutationOptions({ onSuccess: enter }));
  const signUp = useMutation(
    trpc.auth.signUp.mutationOptions({
      onSuccess: (user) => {
        if (inviteToken) return enter();
        // A workspace created this moment: the overview can show its empty state at once.
        seedNewWorkspaceOverview(queryClient, trpc, { email: user.email, workspaceId: user.workspaceId });
        router.push(returnPath());
      },
    }),
  );
  const action = mode === "logIn" ? logIn : signUp;

  useEffect(() => {
    if (me.data) router.replace(returnPath());
  }, [me.data, router]);
  useEffect(() => {
    // Arrived here: a 401 from now on is a session ending again, not this tab's own log-out.
    noteLoggingOut(false);
    const invite = new URLSearchParams(window.location.search).get("invite");
    if (invite) {
      setInviteToken(invite);
      setMode("signUp");
    }
  }, []);
  const canSignUp = signupMode === "open" || (signupMode === "invite" && inviteToken !== null);

  const input =
    "mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm shadow-sm focus:border-emerald-600 focus:outline-none focus:ring-2 focus:ring-emerald-600/20";
  return (
    <>
    {server ? <Banners sandbox={server.sandbox} /> : null}
    <main className="flex min-h-screen items-start justify-center px-4 pt-16 sm:pt-24">
      <div className="w-full max-w-sm">
        <div className="mb-6 flex items-center gap-3">
          <span aria-hidden="true" className="inline-flex h-10 w-10 items-center justify-center rounded-lg bg-emerald-700 text-lg font-semibold text-white">
            W
          </span>
          <div>
            <h1 className="text-2xl font-semibold text-slate-900">waha-campaigns</h1>
            <p className="text-sm text-slate-600">Scheduled WhatsApp campaigns from your own number.</p>
          </div>
        </div>
        <form
          className="space-y-4 rounded-lg border border-slate-200 bg-white p-6 shadow-sm"
          onSubmit={(event) => {
            event.preventDefault();
            if (mode === "logIn") logIn.mutate({ email, password });
            else signUp.mutate({ email, password, ...(inviteToken ? { inviteToken } : {}) });
          }}
        >
          <h2 className="text-lg font-semibold">{mode === "logIn" ? "Log in" : inviteToken ? "Join your team" : "Create your account"}</h2>
          {mode === "signUp" && inviteToken ? (
            <p className="text-sm text-slate-600" data-testid="auth-invite">You were invited: your account joins the workspace of whoever sent the link.</p>
          ) : null}
          <label className="block text-sm font-medium text-slate-700">
            Email
            <input
              name="email"
              type="email"
              required
              autoComplete="email"
              data-testid="auth-email"
              className={input}
              value={email}
              onChange={(event) => setEmail(event.target.value)}
            />
          </label>
          <label className="block text-sm font-medium text-slate-700">
            Password
            <input
              name="password"
              type="password"
              required
              minLength={8}
              autoComplete={mode === "logIn" ? "current-password" : "new-password"}
              data-testid="auth-password"
              className={input}
              value={password}
              onChange={(event) => setPassword(event.target.value)}
            />
            {mode === "signUp" ? (
              <span className="mt-1 block text-xs font-normal text-slate-500">At least 8 characters, and not a common password (a few unrelated words work well).</span>
            ) : null}
          </label>
          {action.error && (
            <p role="alert" className="rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">
              {action.error.message}
            </p>
          )}
          <button
            type="submit"
            disabled={action.isPending}
            data-testid="auth-submit"
            className="w-full rounded-md bg-emerald-700 px-3 py-2 text-sm font-medium text-white hover:bg-emerald-800 disabled:opacity-60"
          >
            {action.isPending ? "One moment…" : mode === "logIn" ? "Log in" : "Create account"}
          </button>
          {canSignUp || mode === "signUp" ? (
            <button
              type="button"
              data-testid="auth-toggle"
              className="w-full text-sm text-emerald-800 underline"
              onClick={() => {
                action.reset();
                setMode(mode === "logIn" ? "signUp" : "logIn");
              }}
            >
              {mode === "logIn" ? "No account yet? Sign up" : "Have an account? Log in"}
            </button>
          ) : (
            <p className="text-center text-sm text-slate-600" data-testid="auth-signup-closed">
              {signupMode === "invite"
                ? "New accounts need an invite: ask a member of your team for an invite link."
                : "Sign-up is closed on this server: ask its administrator for an account."}
            </p>
          )}
        </form>
        <p className="mt-4 text-xs text-slate-500">
          Send only to people who asked to hear from you: WhatsApp bans numbers that send unsolicited bulk messages.
        </p>
      </div>
    </main>
    </>
  );
}
