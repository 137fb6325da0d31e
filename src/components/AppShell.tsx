"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { usePathname, useRouter } from "next/navigation";
import { useEffect, type ReactNode } from "react";
import { useTRPC } from "~/trpc/react";
import { Banners } from "./Banners";
import { isLoggingOut, logInPathReturningTo, noteLoggingOut } from "./returnPath";
import { ConfirmProvider } from "./ui/confirm";
import { ToastProvider } from "./ui/toast";

const NAV = [
  { href: "/overview", label: "Overview", testId: "nav-overview" },
  { href: "/numbers", label: "WhatsApp numbers", testId: "nav-numbers" },
  { href: "/contacts", label: "Contacts", testId: "nav-contacts" },
  { href: "/templates", label: "Templates", testId: "nav-templates" },
  { href: "/media", label: "Media", testId: "nav-media" },
  { href: "/campaigns", label: "Campaigns", testId: "nav-campaigns" },
  { href: "/api-keys", label: "API keys", testId: "nav-api-keys" },
  { href: "/webhooks", label: "Webhooks", testId: "nav-webhooks" },
];

/** The frame of every logged-in page: navigation, the sandbox banner and the ban-risk notice. */
export function AppShell({ children }: { children: ReactNode }) {
  const trpc = useTRPC();
  const router = useRouter();
  const pathname = usePathname();
  const queryClient = useQueryClient();
  const me = useQuery(trpc.auth.me.queryOptions());
  const appInfo = useQuery({ ...trpc.auth.appInfo.queryOptions(), enabled: Boolean(me.data), staleTime: 60_000 });
  const logOut = useMutation(
    trpc.auth.logOut.mutationOptions({
      onMutate: () => noteLoggingOut(true),
      onError: () => noteLoggingOut(false),
      onSuccess: () => {
        queryClient.clear();
        router.replace("/");
      },
    }),
  );

  useEffect(() => {
    // Only a fresh answer counts: a cached one may predate logging in.
    if (me.isSuccess && !me.isFetching && me.data === null) router.replace(isLoggingOut() ? "/" : logInPathReturningTo(window.location));
  }, [me.isSuccess, me.isFetching, me.data, router]);

  if (!me.data) {
    return (
      <p role="status" className="p-8 text-sm text-slate-500">
        {me.isError ? `Could not reach the server: ${me.error.message}` : "Loading…"}
      </p>
    );
  }

  return (
    <ToastProvider>
      <ConfirmProvider>
        <div className="min-h-screen md:flex">
          <aside className="border-b border-slate-200 bg-white md:sticky md:top-0 md:flex md:h-screen md:w-60 md:shrink-0 md:flex-col md:border-r md:border-b-0">
            <div className="flex items-center justify-between gap-2 px-4 py-3 md:block md:py-5">
              <Link href="/overview" className="flex items-center gap-2 font-semibold text-slate-900">
                <span aria-hidden="true" className="inline-flex h-7 w-7 items-center justify-center rounded-md bg-emerald-700 text-sm text-white">
                  W
                </span>
                waha-campaigns
              </Link>
              <button
                type="button"
                className="text-sm text-slate-600 underline md:hidden"
                onClick={() => logOut.mutate()}
                disabled={logOut.isPending}
              >
                Log out
              </button>
            </div>
            {/* On a phone the links wrap onto a second line: nothing hides off the edge. */}
            <nav aria-label="Main" className="md:flex-1">
              <ul className="flex flex-wrap gap-1 px-2 pb-2 md:flex-col md:flex-nowrap md:px-3 md:pb-0">
                {NAV.map((item) => {
                  const active = pathname === item.href || pathname.startsWith(`${item.href}/`);
                  return (
                    <li key={item.href} className="shrink-0">
                      <Link
                        href={item.href}
                        data-testid={item.testId}
                        aria-current={active ? "page" : undefined}
                        className={`block whitespace-nowrap rounded-md px-2 py-1 text-sm md:px-3 md:py-2 ${
                          active ? "bg-emerald-50 font-semibold text-emerald-900" : "text-slate-700 hover:bg-slate-100"
                        }`}
                      >
                        {item.label}
                      </Link>
                    </li>
                  );
                })}
              </ul>
            </nav>
            <div className="hidden border-t border-slate-100 px-4 py-4 text-sm md:block">
              <p className="truncate text-slate-600" title={me.data.email ?? undefined}>
                {me.data.email}
              </p>
              <button
                type="button"
                data-testid="log-out"
                className="mt-1 text-emerald-800 underline"
                onClick={() => logOut.mutate()}
                disabled={logOut.isPending}
              >
                {logOut.isPending ? "Logging out…" : "Log out"}
              </button>
            </div>
          </aside>
          <div className="min-w-0 flex-1">
            <Banners sandbox={Boolean(appInfo.data?.sandbox)} />
            <main className="mx-auto max-w-6xl px-4 py-5 sm:px-6 sm:py-6">{children}</main>
          </div>
        </div>
      </ConfirmProvider>
    </ToastProvider>
  );
}
