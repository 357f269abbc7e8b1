import { type QueryClient, queryOptions } from "@tanstack/react-query";
import type { SessionQuery } from "../ipc/bindings/SessionQuery";
import { querySessions, summary } from "../ipc/ipc";

export const PAGE_SIZE = 100;

/** The part of a SessionQuery that defines the filtered, sorted list. */
export type BaseQuery = Omit<SessionQuery, "offset" | "limit">;

export const queryKeys = {
  sessions: ["sessions"] as const,
  page: (base: BaseQuery, page: number) => ["sessions", base, page] as const,
  summary: ["summary"] as const,
};

export function pageQueryOptions(base: BaseQuery, page: number) {
  return queryOptions({
    queryKey: queryKeys.page(base, page),
    queryFn: () => querySessions({ ...base, offset: page * PAGE_SIZE, limit: PAGE_SIZE }),
  });
}

export function summaryQueryOptions() {
  return queryOptions({ queryKey: queryKeys.summary, queryFn: summary });
}

export function invalidateAll(qc: QueryClient): Promise<void> {
  return Promise.all([
    qc.invalidateQueries({ queryKey: queryKeys.sessions }),
    qc.invalidateQueries({ queryKey: queryKeys.summary }),
  ]).then(() => undefined);
}
