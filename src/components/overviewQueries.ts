/**
 * The overview's four queries, in one place: the page reads them, and sign-up seeds them with the
 * empty answers a brand-new workspace is known to have, so a first visit shows the empty state at
 * once instead of four "Loading…" cards (the page still refreshes them in the background).
 */
import type { QueryClient } from "@tanstack/react-query";
import type { useTRPC } from "~/trpc/react";

type Trpc = ReturnType<typeof useTRPC>;

export function overviewQueries(trpc: Trpc) {
  return {
    sessions: { ...trpc.whatsappSession.list.queryOptions(), refetchInterval: 5000 },
    running: { ...trpc.campaign.list.queryOptions({ status: ["Running", "Paused"], limit: 20 }), refetchInterval: 1500 },
    scheduled: { ...trpc.campaign.upcoming.queryOptions({ limit: 5 }), refetchInterval: 3000 },
    recent: { ...trpc.campaign.list.queryOptions({ status: ["Completed", "Failed", "Cancelled"], limit: 5 }), refetchInterval: 5000 },
  } as const;
}

/** Only for a workspace created this moment (sign-up without an invite): it has no number and no campaign. */
export function seedNewWorkspaceOverview(queryClient: QueryClient, trpc: Trpc, me: { email: string | null; workspaceId: string }): void {
  const queries = overviewQueries(trpc);
  queryClient.setQueryData(trpc.auth.me.queryKey(), me);
  queryClient.setQueryData(queries.sessions.queryKey, []);
  queryClient.setQueryData(queries.running.queryKey, { items: [], nextCursor: null });
  queryClient.setQueryData(queries.scheduled.queryKey, []);
  queryClient.setQueryData(queries.recent.queryKey, { items: [], nextCursor: null });
}
