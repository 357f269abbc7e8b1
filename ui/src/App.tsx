import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type ReactNode, useCallback, useEffect, useMemo, useRef, useState } from "react";
import { ActionResult, type Notice } from "./components/ActionResult";
import { AlertsScreen } from "./components/AlertsScreen";
import { AlertToasts, pushToast, type Toast } from "./components/AlertToasts";
import { AuditScreen } from "./components/AuditScreen";
import { Cards } from "./components/Cards";
import { ConfirmDialog } from "./components/ConfirmDialog";
import { Header } from "./components/Header";
import { HistoryPanel } from "./components/HistoryPanel";
import { type RowModifiers, SessionTable } from "./components/SessionTable";
import { StatusBar } from "./components/StatusBar";
import { TenantsScreen } from "./components/TenantsScreen";
import {
  type BaseQuery,
  invalidateAll,
  openAlertCountQueryOptions,
  PAGE_SIZE,
  pageQueryOptions,
  summaryQueryOptions,
} from "./hooks/queries";
import { useDebouncedValue } from "./hooks/useDebouncedValue";
import { useHashView, type View } from "./hooks/useHashView";
import { useNewAlerts } from "./hooks/useNewAlerts";
import { useSessionsChangedInvalidation } from "./hooks/useSessionsChanged";
import type { ActionReport } from "./ipc/bindings/ActionReport";
import type { Counts } from "./ipc/bindings/Counts";
import type { Session } from "./ipc/bindings/Session";
import type { SortColumn } from "./ipc/bindings/SortColumn";
import { act, endSessions, errorCode, errorMessage, querySessions, refresh } from "./ipc/ipc";
import { formatCount, plural } from "./lib/format";
import {
  describeEnd,
  EMPTY_SELECTION,
  endButtonLabel,
  type SelectedSession,
  type Selection,
  sessionKey,
  summarizeReport,
  toRefs,
  toSelected,
} from "./lib/selection";
import {
  planUserAction,
  protectedNote,
  type SelectedUser,
  summarizeUserReport,
  type UserActionKind,
  type UserActionPlan,
  userKey,
  userRefs,
  usersOf,
} from "./lib/userActions";

export const SEARCH_DEBOUNCE_MS = 150;
/** Most sessions one select-all / range selection will pick. */
export const SELECT_CAP = 10_000;
const SELECT_BATCH = 1_000;

const DEFAULT_SORT: { sort: SortColumn; descending: boolean } = {
  sort: "last_activity_at",
  descending: true,
};

const NO_COUNTS: Counts = { active_users: 0, active_sessions: 0, superusers_online: 0 };

function hintFor(code: string | undefined): string {
  switch (code) {
    case "unauthorized":
    case "forbidden":
      return "Check the tenant's credentials and permissions in the configuration.";
    case "unreachable":
    case "timeout":
      return "Check the network connection to the tenant, then press Refresh.";
    case "config":
      return "Fix the configuration file and restart Vigil.";
    case "secret_store":
      return "The system keychain is unavailable or locked: unlock it, then press Refresh.";
    case "rate_limited":
      return "The tenant is rate limiting Vigil; it will retry shortly.";
    default:
      return "Press Refresh to try again; if it persists, check Vigil's log.";
  }
}

function isTextEntry(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable || target instanceof HTMLTextAreaElement) return true;
  if (target instanceof HTMLInputElement) {
    return !["checkbox", "radio", "button", "submit", "reset"].includes(target.type);
  }
  return false;
}

/** True while a modal dialog (confirmation, tenant form) is open. */
function modalOpen(): boolean {
  return document.querySelector('[aria-modal="true"]') !== null;
}

const NAV: { view: View; label: string; key: string }[] = [
  { view: "sessions", label: "Sessions", key: "1" },
  { view: "tenants", label: "Tenants", key: "2" },
  { view: "audit", label: "Audit", key: "3" },
  { view: "alerts", label: "Alerts", key: "4" },
];

const NAV_ICONS: Record<View, string> = { sessions: "☰", tenants: "⚙", audit: "✎", alerts: "⚠" };

/** The window: a rail to switch views (Ctrl/Cmd+1…4), the view kept in the URL hash. */
export function App() {
  const qc = useQueryClient();
  const [view, setView] = useHashView();
  // Lives here so that "show this tenant's sessions" from the Tenants screen can set it.
  const [tenant, setTenant] = useState<string | null>(null);
  // The search the Sessions view starts with ("show session" from the alert centre).
  const [searchSeed, setSearchSeed] = useState<string | null>(null);
  if (view !== "sessions" && searchSeed !== null) setSearchSeed(null);
  // Live updates for every view: sessions, summary and tenants.
  useSessionsChangedInvalidation(qc);

  // Open alerts for the rail badge; new alerts refetch it and pop up a toast.
  const openAlerts = useQuery(openAlertCountQueryOptions());
  const [toasts, setToasts] = useState<Toast[]>([]);
  const toastKey = useRef(0);
  useNewAlerts((alert) => {
    toastKey.current += 1;
    const key = toastKey.current;
    setToasts((prev) => pushToast(prev, { key, alert }));
  });
  const dismissToast = useCallback(
    (key: number) => setToasts((prev) => prev.filter((t) => t.key !== key)),
    [],
  );
  const openAlertCentre = useCallback(() => setView("alerts"), [setView]);

  const state = useRef({ view, setView });
  state.current = { view, setView };
  useEffect(() => {
    const pollNow = () => {
      const done = () => void invalidateAll(qc);
      refresh().then(done, done);
    };
    const onKey = (e: KeyboardEvent) => {
      const mod = e.ctrlKey || e.metaKey;
      const target = mod && !e.shiftKey && !e.altKey && NAV.find((n) => n.key === e.key);
      if (target) {
        e.preventDefault();
        if (!modalOpen()) state.current.setView(target.view);
        return;
      }
      // The session view handles its own refresh keys; elsewhere too, never reload the webview.
      if (state.current.view === "sessions") return;
      if (e.key === "F5" || (mod && !e.shiftKey && e.key.toLowerCase() === "r")) {
        e.preventDefault();
        if (!modalOpen()) pollNow();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [qc]);

  const isMac = typeof navigator !== "undefined" && /Mac|iPhone|iPad/.test(navigator.platform);
  return (
    <div className="shell">
      <nav className="rail" aria-label="Views">
        <div className="rail-tabs" role="tablist" aria-orientation="vertical">
          {NAV.map((n) => (
            <button
              key={n.view}
              type="button"
              role="tab"
              className={`rail-tab${view === n.view ? " active" : ""}`}
              data-testid={`nav-${n.view}`}
              aria-selected={view === n.view}
              aria-keyshortcuts={`Control+${n.key} Meta+${n.key}`}
              title={`${n.label} (${isMac ? "⌘" : "Ctrl+"}${n.key})`}
              onClick={() => setView(n.view)}
            >
              <span className="rail-icon" aria-hidden="true">
                {NAV_ICONS[n.view]}
              </span>
              {n.label}
              {n.view === "alerts" && openAlerts.data !== undefined && openAlerts.data > 0 && (
                <span
                  className="rail-badge"
                  data-testid="alerts-open-count"
                  title={`${plural(openAlerts.data, "open alert")}`}
                >
                  {openAlerts.data > 999 ? "999+" : formatCount(openAlerts.data)}
                </span>
              )}
            </button>
          ))}
        </div>
      </nav>
      {view === "sessions" ? (
        <SessionsView tenant={tenant} onTenant={setTenant} initialSearch={searchSeed ?? ""} />
      ) : view === "audit" ? (
        <AuditScreen />
      ) : view === "alerts" ? (
        <AlertsScreen
          onShowSession={(alertTenant, sessionId) => {
            setTenant(alertTenant);
            setSearchSeed(sessionId);
            setView("sessions");
          }}
        />
      ) : (
        <TenantsScreen
          onShowSessions={(name) => {
            setTenant(name);
            setView("sessions");
          }}
        />
      )}
      <AlertToasts toasts={toasts} onOpen={openAlertCentre} onDismiss={dismissToast} />
    </div>
  );
}

/** The banner part that follows an action's items through the audit log. */
function lifecycleOf(report: ActionReport): Pick<Notice, "action"> {
  if (!report.action_id) return {};
  const accepted = report.items.filter((i) => i.ok && !i.already_gone).length;
  return { action: { id: report.action_id, accepted } };
}

export type SessionsViewProps = {
  /** Only this tenant's sessions; null for all tenants. */
  tenant: string | null;
  onTenant: (tenant: string | null) => void;
  /** The search text to start with (read on mount only). */
  initialSearch?: string;
};

export function SessionsView({ tenant, onTenant, initialSearch = "" }: SessionsViewProps) {
  const qc = useQueryClient();
  const [search, setSearch] = useState(initialSearch);
  const [superuserOnly, setSuperuserOnly] = useState(false);
  const [sort, setSort] = useState(DEFAULT_SORT);
  const [selection, setSelection] = useState<Selection>(EMPTY_SELECTION);
  const [anchor, setAnchor] = useState<number | null>(null);
  const [focusIndex, setFocusIndex] = useState(-1);
  const [endConfirmOpen, setConfirmOpen] = useState(false);
  const [userConfirm, setUserConfirm] = useState<UserActionKind | null>(null);
  const [historyOpen, setHistoryOpen] = useState(false);
  const [notice, setNotice] = useState<Notice | null>(null);

  const debouncedSearch = useDebouncedValue(search.trim(), SEARCH_DEBOUNCE_MS);
  const base = useMemo<BaseQuery>(
    () => ({
      ...(debouncedSearch === "" ? {} : { search: debouncedSearch }),
      ...(tenant === null ? {} : { tenants: [tenant] }),
      superuser_only: superuserOnly,
      sort: sort.sort,
      descending: sort.descending,
    }),
    [debouncedSearch, tenant, superuserOnly, sort],
  );
  const baseRef = useRef(base);
  baseRef.current = base;

  // A new filter means a new list: selection and positions refer to the old one.
  const filterKey = `${debouncedSearch}\u0000${superuserOnly}\u0000${tenant ?? ""}`;
  const [prevFilterKey, setPrevFilterKey] = useState(filterKey);
  if (prevFilterKey !== filterKey) {
    setPrevFilterKey(filterKey);
    setSelection(EMPTY_SELECTION);
    setAnchor(null);
    setFocusIndex(-1);
  }

  const summaryQ = useQuery(summaryQueryOptions());
  const head = useQuery({ ...pageQueryOptions(base, 0), placeholderData: keepPreviousData });
  const total = head.data?.total ?? 0;

  // ---- selection -------------------------------------------------------------------------
  const fetchRows = useCallback(
    async (from: number, to: number): Promise<Session[]> => {
      const lo = Math.max(0, Math.min(from, to));
      const hi = Math.min(Math.max(from, to), lo + SELECT_CAP - 1);
      const out: Session[] = [];
      for (let p = Math.floor(lo / PAGE_SIZE); p <= Math.floor(hi / PAGE_SIZE); p++) {
        const page = await qc.ensureQueryData(pageQueryOptions(base, p));
        page.rows.forEach((row, i) => {
          const idx = page.offset + i;
          if (idx >= lo && idx <= hi) out.push(row);
        });
        if (page.rows.length === 0) break;
      }
      return out;
    },
    [qc, base],
  );

  const onRowClick = useCallback(
    (index: number, s: Session, mods: RowModifiers) => {
      const key = sessionKey(s.tenant, s.id);
      setFocusIndex(index);
      if (mods.range && anchor !== null) {
        const forBase = base;
        fetchRows(anchor, index).then(
          (rows) => {
            if (baseRef.current !== forBase) return;
            setSelection((prev) => {
              const next = new Map(mods.toggle ? prev : []);
              for (const r of rows) next.set(sessionKey(r.tenant, r.id), toSelected(r));
              return next;
            });
          },
          (err: unknown) =>
            setNotice({ tone: "error", title: `Could not select range: ${errorMessage(err)}` }),
        );
        return;
      }
      setAnchor(index);
      if (mods.toggle) {
        setSelection((prev) => {
          const next = new Map(prev);
          if (next.has(key)) next.delete(key);
          else next.set(key, toSelected(s));
          return next;
        });
      } else {
        setSelection(new Map([[key, toSelected(s)]]));
      }
    },
    [anchor, base, fetchRows],
  );

  const selectAll = useCallback(async () => {
    if (total === 0) return;
    const forBase = base;
    const want = Math.min(total, SELECT_CAP);
    const next = new Map<string, SelectedSession>();
    try {
      let offset = 0;
      while (next.size < want) {
        const page = await querySessions({ ...forBase, offset, limit: SELECT_BATCH });
        for (const r of page.rows) {
          if (next.size >= want) break;
          next.set(sessionKey(r.tenant, r.id), toSelected(r));
        }
        offset += page.rows.length;
        if (page.rows.length === 0 || offset >= page.total) break;
      }
    } catch (err) {
      setNotice({ tone: "error", title: `Could not select all sessions: ${errorMessage(err)}` });
      return;
    }
    if (baseRef.current !== forBase) return;
    setSelection(next);
    if (total > SELECT_CAP) {
      setNotice({
        tone: "warning",
        title: `Selected the first ${formatCount(SELECT_CAP)} of ${plural(total, "session")}`,
        details: ["Narrow the search to select the rest."],
      });
    }
  }, [base, total]);

  const clearSelection = useCallback(() => {
    setSelection(EMPTY_SELECTION);
    setAnchor(null);
  }, []);

  const allSelected = selection.size > 0 && selection.size >= Math.min(total, SELECT_CAP);
  const onToggleAll = useCallback(() => {
    if (selection.size > 0) clearSelection();
    else void selectAll();
  }, [selection.size, clearSelection, selectAll]);

  // ---- actions ---------------------------------------------------------------------------
  const endMutation = useMutation({
    mutationFn: ({ sel }: { sel: Selection }) => endSessions(toRefs(sel)),
    onSuccess: (report, { sel }) => {
      const outcome = summarizeReport(report, sel);
      setSelection((prev) => {
        const next = new Map(prev);
        for (const k of outcome.doneKeys) next.delete(k);
        return next;
      });
      setNotice({
        tone: outcome.tone,
        title: outcome.title,
        details: outcome.failures,
        ...lifecycleOf(report),
      });
    },
    onError: (err) => {
      setNotice({ tone: "error", title: `Could not end sessions: ${errorMessage(err)}` });
    },
    onSettled: () => {
      void invalidateAll(qc);
    },
  });

  const runEnd = useCallback(
    (sel: Selection) => {
      setConfirmOpen(false);
      if (sel.size === 0) return;
      setNotice({ tone: "info", title: `Ending ${plural(sel.size, "session")}…` });
      endMutation.mutate({ sel });
    },
    [endMutation],
  );

  const requestEnd = useCallback(
    (skipConfirm: boolean) => {
      if (selection.size === 0 || endMutation.isPending) return;
      if (skipConfirm) runEnd(selection);
      else setConfirmOpen(true);
    },
    [selection, endMutation.isPending, runEnd],
  );

  // ---- user actions (force logout, end & disable, re-enable) --------------------------------
  const userMutation = useMutation({
    mutationFn: async ({ plan }: { plan: UserActionPlan }): Promise<ActionReport> => {
      const refs = userRefs(plan.users);
      if (plan.kind !== "contain") return act(plan.kind, refs);
      // The playbook: force logout first, then disable; both steps are audited.
      const logout = await act("logout", refs);
      const disable = await act("disable_only", refs);
      return { action_id: logout.action_id, items: [...logout.items, ...disable.items] };
    },
    onSuccess: (report, { plan }) => {
      const outcome = summarizeUserReport(plan.kind, report, plan.users);
      if (plan.kind !== "enable") {
        // Their sessions are being ended: they no longer need to stay selected.
        const done = new Set(outcome.doneUsers);
        setSelection((prev) => {
          const next = new Map(prev);
          for (const [k, s] of prev) if (done.has(userKey(s.tenant, s.user_id))) next.delete(k);
          return next;
        });
      }
      const details = [...outcome.failures];
      if (plan.excluded.length > 0) details.push(protectedNote(plan.excluded));
      setNotice({
        tone: plan.excluded.length > 0 && outcome.tone === "success" ? "warning" : outcome.tone,
        title: outcome.title,
        details,
        ...lifecycleOf(report),
      });
    },
    onError: (err, { plan }) => {
      setNotice({ tone: "error", title: `${plan.title} failed: ${errorMessage(err)}` });
    },
    onSettled: () => {
      void invalidateAll(qc);
    },
  });

  const runUserAction = useCallback(
    (plan: UserActionPlan) => {
      setUserConfirm(null);
      if (plan.users.length === 0) {
        setNotice({
          tone: "error",
          title: "Nothing to disable",
          details: plan.excluded.length > 0 ? [protectedNote(plan.excluded)] : [],
        });
        return;
      }
      setNotice({ tone: "info", title: `${plan.title}: sending…` });
      userMutation.mutate({ plan });
    },
    [userMutation],
  );

  const requestUserAction = useCallback(
    (kind: UserActionKind, skipConfirm: boolean) => {
      if (selection.size === 0 || userMutation.isPending) return;
      if (skipConfirm) runUserAction(planUserAction(kind, selection.values()));
      else setUserConfirm(kind);
    },
    [selection, userMutation.isPending, runUserAction],
  );

  const refreshMutation = useMutation({
    mutationFn: refresh,
    onSuccess: () => void invalidateAll(qc),
    onError: (err) => setNotice({ tone: "error", title: `Refresh failed: ${errorMessage(err)}` }),
  });
  const doRefresh = useCallback(() => {
    if (!refreshMutation.isPending) refreshMutation.mutate();
  }, [refreshMutation]);

  // ---- global shortcuts ------------------------------------------------------------------
  const confirmOpen = endConfirmOpen || userConfirm !== null || historyOpen;
  const shortcuts = useRef({ requestEnd, selectAll, doRefresh, clearSelection, confirmOpen });
  shortcuts.current = { requestEnd, selectAll, doRefresh, clearSelection, confirmOpen };
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const k = shortcuts.current;
      const mod = e.ctrlKey || e.metaKey;
      if (e.key === "F5" || (mod && !e.shiftKey && e.key.toLowerCase() === "r")) {
        e.preventDefault(); // never reload the webview
        if (!k.confirmOpen) k.doRefresh();
        return;
      }
      if (k.confirmOpen || e.defaultPrevented || isTextEntry(e.target)) return;
      if (e.key === "Delete") {
        e.preventDefault();
        k.requestEnd(false);
      } else if (mod && e.key.toLowerCase() === "a") {
        e.preventDefault();
        void k.selectAll();
      } else if (e.key === "Escape") {
        k.clearSelection();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  useEffect(() => {
    // Banners that follow an action's lifecycle stay until dismissed.
    if (!notice || notice.tone === "error" || notice.tone === "warning" || notice.action) return;
    const t = setTimeout(() => setNotice((n) => (n === notice ? null : n)), 8_000);
    return () => clearTimeout(t);
  }, [notice]);

  const onSort = useCallback((s: SortColumn, descending: boolean) => {
    setSort({ sort: s, descending });
  }, []);

  const filtersActive =
    debouncedSearch !== "" || superuserOnly || search.trim() !== "" || tenant !== null;
  const clearFilters = () => {
    setSearch("");
    setSuperuserOnly(false);
    onTenant(null);
  };

  // Tenants to filter by: those in the summary, plus the selected one while it has no health yet.
  const summaryTenants = summaryQ.data?.tenants;
  const tenantNames = useMemo(() => {
    const names = (summaryTenants ?? []).map((t) => t.health.tenant);
    if (tenant !== null && !names.includes(tenant)) names.push(tenant);
    return names;
  }, [summaryTenants, tenant]);
  const cardCounts =
    tenant === null
      ? summaryQ.data?.total
      : summaryTenants
        ? (summaryTenants.find((t) => t.health.tenant === tenant)?.counts ?? NO_COUNTS)
        : undefined;

  const selected = [...selection.values()];
  const includesOwn = selected.some((s) => s.current);
  const selectedUsers: SelectedUser[] = useMemo(() => usersOf(selection.values()), [selection]);
  const onlyUser = selectedUsers.length === 1 ? selectedUsers[0] : undefined;
  const userPlan = userConfirm ? planUserAction(userConfirm, selection.values()) : null;
  const busy = endMutation.isPending || userMutation.isPending;

  // ---- render ----------------------------------------------------------------------------
  let main: ReactNode;
  if (head.isPending) {
    main = (
      <div className="state" data-testid="loading-state" role="status">
        <span className="spinner" aria-hidden="true" /> Loading sessions…
      </div>
    );
  } else if (head.isError && !head.data) {
    const code = errorCode(head.error);
    main = (
      <div className="state error" data-testid="error-state" role="alert">
        <strong>Could not load sessions</strong>
        <p className="error-message">{errorMessage(head.error)}</p>
        <p className="muted">{hintFor(code)}</p>
        <button type="button" className="button" onClick={() => void head.refetch()}>
          Try again
        </button>
      </div>
    );
  } else if (total === 0) {
    main = (
      <div className="state" data-testid="empty-state">
        {filtersActive ? (
          <>
            <strong>No sessions match your filters</strong>
            <button type="button" className="button" onClick={clearFilters}>
              Clear filters
            </button>
          </>
        ) : (
          <>
            <strong>No active sessions</strong>
            <p className="muted">
              Vigil polls every tenant continuously; new sessions appear here.
            </p>
          </>
        )}
      </div>
    );
  } else {
    main = (
      <SessionTable
        base={base}
        total={total}
        selection={selection}
        allSelected={allSelected}
        focusIndex={focusIndex}
        onFocusIndex={setFocusIndex}
        onSort={onSort}
        onRowClick={onRowClick}
        onToggleAll={onToggleAll}
      />
    );
  }

  return (
    <div className="app">
      <Header
        search={search}
        onSearch={setSearch}
        tenants={tenantNames}
        tenant={tenant}
        onTenant={onTenant}
        superuserOnly={superuserOnly}
        onSuperuserOnly={setSuperuserOnly}
        onRefresh={doRefresh}
        refreshing={refreshMutation.isPending}
      />
      <Cards
        counts={cardCounts}
        scope={tenant}
        superuserOnly={superuserOnly}
        onToggleSuperusers={() => setSuperuserOnly((v) => !v)}
      />
      {summaryQ.isError && (
        <div className="inline-error" role="alert" data-testid="summary-error">
          Could not load the summary: {errorMessage(summaryQ.error)}
        </div>
      )}
      <div className="toolbar">
        <span className="row-count" data-testid="row-count" aria-live="polite">
          {head.isPending ? "Loading…" : plural(total, "session")}
        </span>
        {head.isError && head.data && (
          <span className="inline-error" role="alert">
            Showing last known data: {errorMessage(head.error)}
          </span>
        )}
        <span className="spacer" />
        {selection.size > 0 && (
          <span className="selection-info" data-testid="selection-count">
            {formatCount(selection.size)} selected
            <button type="button" className="link-button" onClick={clearSelection}>
              Clear
            </button>
          </span>
        )}
        <button
          type="button"
          className="button danger"
          data-testid="end-sessions"
          disabled={selection.size === 0 || endMutation.isPending}
          onClick={(e) => requestEnd(e.ctrlKey || e.metaKey)}
          title="End the selected sessions (Delete). Ctrl/Cmd+click skips the confirmation."
          aria-keyshortcuts="Delete"
        >
          {endButtonLabel(selection.size)}
        </button>
        <button
          type="button"
          className="button danger"
          data-testid="action-logout"
          disabled={selection.size === 0 || busy}
          onClick={(e) => requestUserAction("logout", e.ctrlKey || e.metaKey)}
          title="End every session of the selected users. Ctrl/Cmd+click skips the confirmation."
        >
          Force logout
        </button>
        <button
          type="button"
          className="button danger"
          data-testid="action-disable"
          disabled={selection.size === 0 || busy}
          onClick={(e) => requestUserAction("disable", e.ctrlKey || e.metaKey)}
          title="End every session of the selected users and disable their accounts (not protected ones). Ctrl/Cmd+click skips the confirmation."
        >
          End &amp; Disable
        </button>
        <button
          type="button"
          className="button danger"
          data-testid="action-contain"
          disabled={selection.size === 0 || busy}
          onClick={(e) => requestUserAction("contain", e.ctrlKey || e.metaKey)}
          title="Incident playbook: force logout, then disable the selected users (not protected ones). Ctrl/Cmd+click skips the confirmation."
        >
          Contain
        </button>
        <button
          type="button"
          className="button"
          data-testid="action-enable"
          disabled={selection.size === 0 || busy}
          onClick={(e) => requestUserAction("enable", e.ctrlKey || e.metaKey)}
          title="Re-enable the selected users' accounts. Ctrl/Cmd+click skips the confirmation."
        >
          Re-enable
        </button>
        <button
          type="button"
          className="button"
          data-testid="action-history"
          disabled={!onlyUser}
          onClick={() => setHistoryOpen(true)}
          title="Login history of the selected user (select sessions of exactly one user)"
        >
          History
        </button>
      </div>
      {notice && <ActionResult notice={notice} onDismiss={() => setNotice(null)} />}
      <main className="main">{main}</main>
      <StatusBar
        tenants={summaryQ.data?.tenants}
        selected={tenant}
        onSelect={(name) => onTenant(name === tenant ? null : name)}
      />
      {endConfirmOpen && selection.size > 0 && (
        <ConfirmDialog
          title="End sessions"
          message={describeEnd(selected)}
          detail={
            includesOwn
              ? "This includes your own session: you will be signed out of that tenant."
              : "Users are signed out immediately and must log in again."
          }
          confirmLabel={endButtonLabel(selection.size)}
          busy={endMutation.isPending}
          onConfirm={() => runEnd(selection)}
          onCancel={() => setConfirmOpen(false)}
        />
      )}
      {userPlan && selection.size > 0 && (
        <ConfirmDialog
          title={userPlan.title}
          message={userPlan.message}
          detail={userPlan.detail}
          confirmLabel={userPlan.confirmLabel}
          busy={userMutation.isPending || userPlan.users.length === 0}
          onConfirm={() => runUserAction(userPlan)}
          onCancel={() => setUserConfirm(null)}
        />
      )}
      {historyOpen && onlyUser && (
        <HistoryPanel
          tenant={onlyUser.tenant}
          username={onlyUser.username}
          onClose={() => setHistoryOpen(false)}
        />
      )}
    </div>
  );
}
