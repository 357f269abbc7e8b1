import { QueryClient } from "@tanstack/react-query";

export function createQueryClient(opts: { retry?: number | false } = {}): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        // Freshness is driven by `sessions://changed` events, not by timers.
        staleTime: 10_000,
        gcTime: 60_000,
        retry: opts.retry ?? 1,
        refetchOnWindowFocus: false,
      },
      mutations: { retry: false },
    },
  });
}
