"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";
import { useTRPC } from "~/trpc/react";

/** Log in or sign up; a logged-in visitor goes straight to the overview. */
export default function LoginPage() {
  const trpc = useTRPC();
  const router = useRouter();
  const me = useQuery(trpc.auth.me.queryOptions());
  const [mode, setMode] = useState<"logIn" | "signUp">("logIn");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const logIn = useMutation(trpc.auth.logIn.mutationOptions({ onSuccess: () => router.push("/overview") }));
  const signUp = useMutation(trpc.auth.signUp.mutationOptions({ onSuccess: () => router.push("/overview") }));
  const action = mode === "logIn" ? logIn : signUp;

  useEffect(() => {
    if (me.data) router.replace("/overview");
  }, [me.data, router]);

  return (
    <main className="mx-auto mt-16 max-w-sm px-4">
      <h1 className="mb-1 text-2xl font-semibold">waha-campaigns</h1>
      <p className="mb-6 text-sm text-slate-600">Scheduled WhatsApp campaigns from your own number.</p>
      <form
        className="space-y-3 rounded-lg border bg-white p-5 shadow-sm"
        onSubmit={(event) => {
          event.preventDefault();
          action.mutate({ email, password });
        }}
      >
        <label className="block text-sm">
          Email
          <input
            name="email"
            type="email"
            required
            autoComplete="email"
            className="mt-1 w-full rounded border px-3 py-2"
            value={email}
            onChange={(event) => setEmail(event.target.value)}
          />
        </label>
        <label className="block text-sm">
          Password
          <input
            name="password"
            type="password"
            required
            minLength={8}
            autoComplete={mode === "logIn" ? "current-password" : "new-password"}
            className="mt-1 w-full rounded border px-3 py-2"
            value={password}
            onChange={(event) => setPassword(event.target.value)}
          />
        </label>
        {action.error && (
          <p role="alert" className="text-sm text-red-700">
            {action.error.message}
          </p>
        )}
        <button
          type="submit"
          disabled={action.isPending}
          className="w-full rounded bg-emerald-700 px-3 py-2 font-medium text-white disabled:opacity-60"
        >
          {mode === "logIn" ? "Log in" : "Create account"}
        </button>
        <button
          type="button"
          className="w-full text-sm text-emerald-800 underline"
          onClick={() => setMode(mode === "logIn" ? "signUp" : "logIn")}
        >
          {mode === "logIn" ? "No account yet? Sign up" : "Have an account? Log in"}
        </button>
      </form>
    </main>
  );
}
