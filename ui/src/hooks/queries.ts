import { type QueryClient, queryOptions } from "@tanstack/react-query";
import type { SessionQuery } from "../ipc/bindings/SessionQuery";
import { appStatus, connectorKinds, listTenants, querySessions, summary } from "../ipc/ipc";

export const PAGE_SIZE = 100;

/** The part of a SessionQuery that defines the filtered, sorted list. */
export type BaseQuery = Omit<SessionQuery, "offset" | "limit">;

export const queryKeys = {
  sessions: ["sessions"] as const,
  page: (base: BaseQuery, page: number) => ["sessions", base, page] as const,
  summary: ["summary"] as const,
  tenants: ["tenants"] as const,
  kinds: ["connector-kinds"] as const,
  appStatus: ["app-status"] as const,
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

export function tenantsQueryOptions() {
  return queryOptions({ queryKey: queryKeys.tenants, queryFn: listTenants });
}

/** The connector kinds do not change while the app runs. */
export function kindsQueryOptions() {
  return queryOptions({ queryKey: queryKeys.kinds, queryFn: connectorKinds, staleTime: Infinity });
}

export function appStatusQueryOptions() {
  return queryOptions({ queryKey: queryKeys.appStatus, queryFn: appStatus });
}

/** Everything that `sessions://changed` may have made stale (tenants come and go too). */
export function invalidateAll(qc: QueryClient): Promise<void> {
  return Promise.all([
    qc.invalidateQueries({ queryKey: queryKeys.sessions }),
    qc.invalidateQueries({ queryKey: queryKeys.summary }),
    qc.invalidateQueries({ queryKey: queryKeys.tenants }),
    qc.invalidateQueries({ queryKey: queryKeys.appStatus }),
  ]).then(() => undefined);
}
