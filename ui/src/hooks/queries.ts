import { type QueryClient, queryOptions } from "@tanstack/react-query";
import type { AlertFilter } from "../ipc/bindings/AlertFilter";
import type { AuditEntry } from "../ipc/bindings/AuditEntry";
import type { AuditFilter } from "../ipc/bindings/AuditFilter";
import type { SessionQuery } from "../ipc/bindings/SessionQuery";
import type { UserQuery } from "../ipc/bindings/UserQuery";
import {
  alertsConfig,
  appStatus,
  auditEntries,
  connectorKinds,
  getSettings,
  listAlerts,
  listTenants,
  querySessions,
  queryUsers,
  routesWithSecret,
  sessionFacets,
  sessionHistory,
  sharedAudit,
  sharedAuditEvents,
  summary,
} from "../ipc/ipc";

export const PAGE_SIZE = 100;

/** The part of a SessionQuery that defines the filtered, sorted list. */
export type BaseQuery = Omit<SessionQuery, "offset" | "limit">;

/** The part of a UserQuery that defines the filtered, sorted list of users. */
export type BaseUserQuery = Omit<UserQuery, "offset" | "limit">;

/** Sessions one user row shows when expanded (more are reachable through the Sessions view). */
export const USER_SESSIONS_LIMIT = 200;

export const queryKeys = {
  sessions: ["sessions"] as const,
  page: (base: BaseQuery, page: number) => ["sessions", base, page] as const,
  userPage: (base: BaseUserQuery, page: number) => ["sessions", "users", base, page] as const,
  userSessions: (tenant: string, userId: string, base: BaseQuery) =>
    ["sessions", "of-user", tenant, userId, base] as const,
  facets: ["sessions", "facets"] as const,
  summary: ["summary"] as const,
  tenants: ["tenants"] as const,
  kinds: ["connector-kinds"] as const,
  appStatus: ["app-status"] as const,
  settings: ["settings"] as const,
  audit: ["audit"] as const,
  auditAction: (actionId: string) => ["audit", "action", actionId] as const,
  auditList: (key: unknown) => ["audit", "list", key] as const,
  alerts: ["alerts"] as const,
  alertsOpenCount: ["alerts", "open-count"] as const,
  alertsList: (filter: AlertFilter) => ["alerts", "list", filter] as const,
  history: (tenant: string | null, username: string | null) =>
    ["history", tenant, username] as const,
  alertsConfig: ["alerts-config"] as const,
  routeSecrets: ["alerts-config", "secrets"] as const,
  sharedAudit: ["shared-audit"] as const,
  sharedEventsAll: ["shared-audit", "events"] as const,
  sharedEvents: (tenant: string | null, search: string | null) =>
    ["shared-audit", "events", tenant, search] as const,
};

/** How often the lifecycle of an action is re-read while items are still only accepted. */
export const LIFECYCLE_POLL_MS = 2_000;

/** True while any item of an action still waits for its outcome. */
export function awaitingOutcome(entries: readonly AuditEntry[] | undefined): boolean {
  return entries?.some((e) => e.state === "accepted" || e.state === "requested") ?? false;
}

/** The audit entries of one action; polled every 2 s while something is still accepted. */
export function actionAuditQueryOptions(actionId: string) {
  const filter: AuditFilter = {
    since: null,
    tenant: null,
    search: null,
    action_id: actionId,
    limit: null,
  };
  return queryOptions({
    queryKey: queryKeys.auditAction(actionId),
    queryFn: () => auditEntries(filter),
    staleTime: 0,
    refetchInterval: (q) =>
      q.state.status !== "error" && (q.state.data === undefined || awaitingOutcome(q.state.data))
        ? LIFECYCLE_POLL_MS
        : false,
  });
}

/** The audit screen's list; `build` makes the filter when fetching (relative `since`). */
export function auditListQueryOptions(key: unknown, build: () => AuditFilter) {
  return queryOptions({
    queryKey: queryKeys.auditList(key),
    queryFn: () => auditEntries(build()),
  });
}

const OPEN_ALERTS: AlertFilter = { open_only: true, tenant: null, search: null, limit: null };

/** Open (unacknowledged) alerts per tenant: the nav badge and the cards count them. */
export function openAlertsByTenantQueryOptions() {
  return queryOptions({
    queryKey: queryKeys.alertsOpenCount,
    queryFn: async (): Promise<Record<string, number>> => {
      const byTenant: Record<string, number> = {};
      for (const a of await listAlerts(OPEN_ALERTS)) {
        byTenant[a.alert.tenant] = (byTenant[a.alert.tenant] ?? 0) + 1;
      }
      return byTenant;
    },
  });
}

/** The number of open (unacknowledged) alerts, for the nav badge. */
export function openAlertCountQueryOptions() {
  return queryOptions({
    ...openAlertsByTenantQueryOptions(),
    select: (byTenant: Record<string, number>) =>
      Object.values(byTenant).reduce((n, c) => n + c, 0),
  });
}

/** The alert centre's list. */
export function alertListQueryOptions(filter: AlertFilter) {
  return queryOptions({
    queryKey: queryKeys.alertsList(filter),
    queryFn: () => listAlerts(filter),
  });
}

/** Everything an acknowledgement or a new alert may have made stale. */
export function invalidateAlerts(qc: QueryClient): Promise<void> {
  return qc.invalidateQueries({ queryKey: queryKeys.alerts });
}

export function historyQueryOptions(tenant: string | null, username: string | null) {
  return queryOptions({
    queryKey: queryKeys.history(tenant, username),
    queryFn: () => sessionHistory(tenant, username),
  });
}

export function pageQueryOptions(base: BaseQuery, page: number) {
  return queryOptions({
    queryKey: queryKeys.page(base, page),
    queryFn: () => querySessions({ ...base, offset: page * PAGE_SIZE, limit: PAGE_SIZE }),
  });
}

export function userPageQueryOptions(base: BaseUserQuery, page: number) {
  return queryOptions({
    queryKey: queryKeys.userPage(base, page),
    queryFn: () => queryUsers({ ...base, offset: page * PAGE_SIZE, limit: PAGE_SIZE }),
  });
}

/**
 * One user's sessions for an expanded user row: the same filter and sort as the console,
 * narrowed to that user.
 */
export function userSessionsQueryOptions(tenant: string, userId: string, base: BaseQuery) {
  return queryOptions({
    queryKey: queryKeys.userSessions(tenant, userId, base),
    queryFn: () =>
      querySessions({
        ...base,
        tenants: [tenant],
        user_id: userId,
        offset: 0,
        limit: USER_SESSIONS_LIMIT,
      }),
  });
}

/** The values the enumerated filters offer. */
export function facetsQueryOptions() {
  return queryOptions({ queryKey: queryKeys.facets, queryFn: sessionFacets });
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

/** The app's settings; changed only by a save or `app://status`. */
export function settingsQueryOptions() {
  return queryOptions({ queryKey: queryKeys.settings, queryFn: getSettings, staleTime: Infinity });
}

/** What `app://status` may have made stale: the pause state and the settings. */
export function invalidateAppStatus(qc: QueryClient): Promise<void> {
  return Promise.all([
    qc.invalidateQueries({ queryKey: queryKeys.appStatus }),
    qc.invalidateQueries({ queryKey: queryKeys.settings }),
  ]).then(() => undefined);
}

/** `[alerts]`: routes and tuning; changed only by a save. */
export function alertsConfigQueryOptions() {
  return queryOptions({
    queryKey: queryKeys.alertsConfig,
    queryFn: alertsConfig,
    staleTime: Infinity,
  });
}

/** The routes with a secret in the keychain. */
export function routeSecretsQueryOptions() {
  return queryOptions({ queryKey: queryKeys.routeSecrets, queryFn: routesWithSecret });
}

/** How often the shared audit's replication status is read again while it is shown. */
export const SHARED_AUDIT_POLL_MS = 10_000;

/** The shared audit store and its replication status (re-read while shown). */
export function sharedAuditQueryOptions() {
  return queryOptions({
    queryKey: queryKeys.sharedAudit,
    queryFn: sharedAudit,
    refetchInterval: (q) => (q.state.status === "error" ? false : SHARED_AUDIT_POLL_MS),
  });
}

/** The whole team's audit events matching the tenant and search filters. */
export function sharedEventsQueryOptions(tenant: string | null, search: string | null) {
  return queryOptions({
    queryKey: queryKeys.sharedEvents(tenant, search),
    queryFn: () => sharedAuditEvents(tenant, search),
  });
}

/** Everything that `sessions://changed` may have made stale (tenants come and go too). */
export function invalidateAll(qc: QueryClient): Promise<void> {
  return Promise.all([
    qc.invalidateQueries({ queryKey: queryKeys.sessions }),
    qc.invalidateQueries({ queryKey: queryKeys.summary }),
    qc.invalidateQueries({ queryKey: queryKeys.tenants }),
    qc.invalidateQueries({ queryKey: queryKeys.appStatus }),
    qc.invalidateQueries({ queryKey: queryKeys.audit }),
    qc.invalidateQueries({ queryKey: ["history"] }),
  ]).then(() => undefined);
}
