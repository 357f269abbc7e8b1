import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { type Dispatch, type SetStateAction, useMemo, useState } from "react";
import {
  type BaseQuery,
  type BaseUserQuery,
  facetsQueryOptions,
  openAlertsByTenantQueryOptions,
  pageQueryOptions,
  summaryQueryOptions,
  userPageQueryOptions,
} from "../../hooks/queries";
import type { Counts } from "../../ipc/bindings/Counts";
import { errorCode, errorMessage } from "../../ipc/ipc";
import { type ConsoleFilter, fieldOfError, type Mode } from "../../lib/consoleState";
import { NO_COUNTS, rowCountText } from "./console";
import type { FilterErrors } from "./FilterPanel";

export type ConsoleDataOptions = {
  mode: Mode;
  /** The filter as typed. */
  f: ConsoleFilter;
  base: BaseQuery;
  userBase: BaseUserQuery;
  clientErrors: FilterErrors;
  filtersActive: boolean;
  setFiltersOpen: Dispatch<SetStateAction<boolean>>;
};

/**
 * What the console shows: the summary (cards, status bar), the first page of the current
 * view (its total), the filter's errors, and what the tenants' health says about the rows.
 */
export function useConsoleData(o: ConsoleDataOptions) {
  const { mode, f, base, userBase, clientErrors, setFiltersOpen } = o;

  const summaryQ = useQuery(summaryQueryOptions());
  /** Tenants whose API cannot end one session (Entra ID, Google): only force logout. */
  const cannotEnd = useMemo(
    () =>
      new Set(
        (summaryQ.data?.tenants ?? [])
          .filter((t) => t.health.capabilities?.end_session === false)
          .map((t) => t.health.tenant),
      ),
    [summaryQ.data],
  );
  const facetsQ = useQuery(facetsQueryOptions());
  const alertsQ = useQuery(openAlertsByTenantQueryOptions());
  const head = useQuery({
    ...pageQueryOptions(base, 0),
    placeholderData: keepPreviousData,
    enabled: mode === "sessions",
  });
  const userHead = useQuery({
    ...userPageQueryOptions(userBase, 0),
    placeholderData: keepPreviousData,
    enabled: mode === "users",
  });
  const active = mode === "sessions" ? head : userHead;
  const total = head.data?.total ?? 0;
  const userTotal = userHead.data?.total ?? 0;
  const rowsTotal = mode === "sessions" ? total : userTotal;

  // A filter the back end rejected: its message goes under the field.
  const serverError =
    active.isError && errorCode(active.error) === "invalid_input"
      ? errorMessage(active.error)
      : null;
  const serverField = serverError === null ? null : fieldOfError(serverError);
  const errors: FilterErrors = useMemo(
    () => ({
      ...clientErrors,
      ...(serverField && serverError ? { [serverField]: serverError } : {}),
    }),
    [clientErrors, serverField, serverError],
  );
  const panelField =
    serverField !== null &&
    serverField !== "search" &&
    serverField !== "tenants" &&
    serverField !== "superuser_only";
  // Open the panel once when a column filter's error appears (it can still be closed).
  const [shownError, setShownError] = useState<string | null>(null);
  const panelError = panelField ? serverError : null;
  if (panelError !== shownError) {
    setShownError(panelError);
    if (panelError !== null) setFiltersOpen(true);
  }

  // ---- derived from the summary ----------------------------------------------------------
  const summaryTenants = summaryQ.data?.tenants;
  const tenantNames = useMemo(() => {
    const names = (summaryTenants ?? []).map((t) => t.health.tenant);
    for (const t of f.tenants) if (!names.includes(t)) names.push(t);
    return names;
  }, [summaryTenants, f.tenants]);
  /** Tenants whose rows are stale → why. */
  const stale = useMemo(() => {
    const m = new Map<string, string>();
    for (const t of summaryTenants ?? []) {
      if (t.health.stale)
        m.set(t.health.tenant, t.health.error?.message ?? "no successful poll yet");
    }
    return m;
  }, [summaryTenants]);
  /** Tenants whose sessions come from a sign-in log. */
  const signInLog = useMemo(
    () =>
      new Set(
        (summaryTenants ?? [])
          .filter((t) => t.health.capabilities?.sign_in_log)
          .map((t) => t.health.tenant),
      ),
    [summaryTenants],
  );

  const scope = f.tenants;
  const cardCounts: Counts | undefined = useMemo(() => {
    if (scope.length === 0) return summaryQ.data?.total;
    if (!summaryTenants) return undefined;
    const picked = summaryTenants.filter((t) => scope.includes(t.health.tenant));
    return picked.reduce(
      (sum, t) => ({
        active_users: sum.active_users + t.counts.active_users,
        active_sessions: sum.active_sessions + t.counts.active_sessions,
        superusers_online: sum.superusers_online + t.counts.superusers_online,
      }),
      NO_COUNTS,
    );
  }, [scope, summaryQ.data, summaryTenants]);
  const alertsByTenant = alertsQ.data;
  const scopeAlerts =
    alertsByTenant === undefined
      ? undefined
      : Object.entries(alertsByTenant)
          .filter(([t]) => scope.length === 0 || scope.includes(t))
          .reduce((n, [, c]) => n + c, 0);

  const countText = rowCountText({
    mode,
    pending: active.isPending,
    failed: active.isError && !active.data,
    total,
    userTotal,
    userSessions: userHead.data?.sessions ?? 0,
    filtersActive: o.filtersActive,
    counts: cardCounts,
  });

  return {
    summaryQ,
    summaryTenants,
    facets: facetsQ.data,
    /** The first page of the current view: loading, failed, or its total. */
    active,
    total,
    userTotal,
    rowsTotal,
    serverError,
    serverField,
    errors,
    cannotEnd,
    tenantNames,
    stale,
    signInLog,
    scope,
    cardCounts,
    alertsByTenant,
    scopeAlerts,
    countText,
  };
}

export type ConsoleData = ReturnType<typeof useConsoleData>;
