"use client";

import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { createTRPCClient, httpBatchLink, httpLink, splitLink, TRPCClientError } from "@trpc/client";
import { createTRPCContext } from "@trpc/tanstack-react-query";
import { useState } from "react";
import superjson from "superjson";
import type { AppRouter } from "~/server/api/root";
import { MAX_TRPC_BATCH } from "~/server/http/limits";
import { isLoggingOut, logInPathReturningTo } from "~/components/returnPath";

/**
 * A 401 means the session ended elsewhere (logged out in another tab, expired): polling on would
 * only pile "Log in first" over stale data. One full navigation to the log-in page stops every
 * query, and brings the reader back here afterwards.
 */
function leaveOnUnauthorized(error: unknown) {
  if (!(error instanceof TRPCClientError)) return;
  const data = error.data as { code?: string; httpStatus?: number } | undefined;
  if (data?.code !== "UNAUTHORIZED" && data?.httpStatus !== 401) return;
  if (typeof window === "undefined" || window.location.pathname === "/" || isLoggingOut()) return;
  window.location.replace(logInPathReturningTo(window.location));
}

export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();

export function Providers({ children }: { children: React.ReactNode }) {
  const [queryClient] = useState(
    () =>
      new QueryClient({
        queryCache: new QueryCache({ onError: leaveOnUnauthorized }),
        mutationCache: new MutationCache({ onError: leaveOnUnauthorized }),
        defaultOptions: {
          queries: {
            staleTime: 2_000,
            // A 401 will not heal by asking again.
            retry: (failures, error) => failures < 1 && !(error instanceof TRPCClientError && (error.data as { code?: string } | undefined)?.code === "UNAUTHORIZED"),
          },
        },
      }),
  );
  const [trpcClient] = useState(() =>
    createTRPCClient<AppRouter>({
      // The server refuses batches over MAX_TRPC_BATCH calls, and gives an image upload its larger
      // body limit only when it travels alone.
      links: [
        splitLink({
          condition: (op) => op.path === "media.upload",
          true: httpLink({ url: "/api/trpc", transformer: superjson }),
          false: httpBatchLink({ url: "/api/trpc", transformer: superjson, maxItems: MAX_TRPC_BATCH }),
        }),
      ],
    }),
  );
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
        {children}
      </TRPCProvider>
    </QueryClientProvider>
  );
}
