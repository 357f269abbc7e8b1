import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import {
  type ReactNode,
  useCallback,
  useDeferredValue,
  useEffect,
  useMemo,
  useRef,
  useState,
} from "react";
import { ActionResult, type Notice } from "./components/ActionResult";
import { Cards } from "./components/Cards";
import { ColumnChooser } from "./components/ColumnChooser";
import { ConfirmDialog } from "./components/ConfirmDialog";
import { type ExportToast, ExportToasts } from "./components/ExportToasts";
import { type FilterErrors, FilterPanel } from "./components/FilterPanel";
import { Header } from "./components/Header";
import { HistoryPanel } from "./components/HistoryPanel";
import { type RowModifiers, SessionTable } from "./components/SessionTable";
import { StatusBar } from "./components/StatusBar";
import { SESSION_COLUMNS } from "./components/sessionColumns";
import { toSelectedUser, UserTable } from "./components/UserTable";
import { PersonGroups } from "./features/people/PersonGroups";
import { PersonPanel } from "./features/people/PersonPanel";
import { personQueryOf } from "./features/people/people";
import {
  appStatusQueryOptions,
  type BaseQuery,
  type BaseUserQuery,
  facetsQueryOptions,
  invalidateAll,
  kindsQueryOptions,
  openAlertsByTenantQueryOptions,
  pageQueryOptions,
  queryKeys,
  summaryQueryOptions,
  tenantsQueryOptions,
  userPageQueryOptions,
} from "./hooks/queries";
import type { ActionReport } from "./ipc/bindings/ActionReport";
import type { Counts } from "./ipc/bindings/Counts";
import type { ExportFormat } from "./ipc/bindings/ExportFormat";
import type { Session } from "./ipc/bindings/Session";
import type { SessionFilter } from "./ipc/bindings/SessionFilter";
import type { UserRow } from "./ipc/bindings/UserRow";
import {
  act,
  endSessions,
  errorCode,
  errorMessage,
  exportSessions,
  querySessions,
  queryUsers,
  refresh,
  sessionRefs,
  setPaused,
} from "./ipc/ipc";
import {
  type ConsoleFilter,
  type ConsoleState,
  EMPTY_FILTER,
  FLAG_KEYS,
  fieldOfError,
  filterErrors,
  formatConsole,
  type Mode,
  parseConsole,
  type SessionSort,
  TEXT_KEYS,
  TIME_KEYS,
  toSessionFilter,
  type UserSort,
} from "./lib/consoleState";
import { formatCount, plural } from "./lib/format";
import { clearLayout, defaultLayout, loadLayout, saveLayout, type TableLayout } from "./lib/layout";
import {
  describeEnd,
  EMPTY_SELECTION,
  endButtonLabel,
  fromRef,
  type SelectedSession,
  type Selection,
  sessionKey,
  summarizeReport,
  toRefs,
  toSelected,
} from "./lib/selection";
import {
  planForUsers,
  protectedNote,
  type SelectedUser,
  summarizeUserReport,
  type UserActionKind,
  type UserActionPlan,
  userKey,
  userRefs,
  usersOf,
} from "./lib/userActions";

/** Most rows one select-all / range selection picks (the most one action takes). */
export const SELECT_CAP = 10_000;
/** The largest window the back end serves in one call. */
const MAX_WINDOW = 10_000;

export const DEFAULT_SORT: SessionSort = { sort: "last_activity_at", descending: true };
export const DEFAULT_USER_SORT: UserSort = { sort: "last_login", descending: true };

const NO_COUNTS: Counts = { active_users: 0, active_sessions: 0, superusers_online: 0 };
const LAYOUT_SAVE_MS = 250;

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
    case "unsupported":
      return "The tenant's connector cannot do this; the Tenants screen lists what it can.";
    default:
      return "Press Refresh to try again; if it persists, check Vigil's log.";
  }
}

export function isTextEntry(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable || target instanceof HTMLTextAreaElement) return true;
  if (target instanceof HTMLSelectElement) return true;
  if (target instanceof HTMLInputElement) {
    return !["checkbox", "radio", "button", "submit", "reset"].includes(target.type);
  }
  return false;
}

/** True while a modal dialog (confirmation, help, tenant form) is open. */
export function modalOpen(): boolean {
  return document.querySelector('[aria-modal="true"]') !== null;
}

/** The banner part that follows an action's items through the audit log. */
function lifecycleOf(report: ActionReport): Pick<Notice, "action"> {
  if (!report.action_id) return {};
  const accepted = report.items.filter((i) => i.ok && !i.already_gone).length;
  return { action: { id: report.action_id, accepted } };
}

/** Column filters besides the search, the tenant and the SuperUser switch (shown in the header). */
function panelFilterCount(f: ConsoleFilter): number {
  let n = 0;
  for (const key of TEXT_KEYS) if (f[key].trim() !== "") n += 1;
  for (const key of TIME_KEYS) if (f[key].trim() !== "") n += 1;
  for (const key of FLAG_KEYS) if (f[key] !== "") n += 1;
  if (f.session_types.length > 0) n += 1;
  if (f.login_types.length > 0) n += 1;
  return n;
}

function hasAnyFilter(f: SessionFilter): boolean {
  return Object.keys(f).length > 0;
}

/** Columns whose header shows a filter mark. */
function filteredColumns(f: ConsoleFilter): Set<string> {
  const out = new Set<string>();
  for (const c of SESSION_COLUMNS) {
    const active = (c.filters ?? []).some((key) => {
      const v = f[key];
      return Array.isArray(v) ? v.length > 0 : typeof v === "boolean" ? v : v.trim() !== "";
    });
    if (active) out.add(c.id);
  }
  return out;
}

/** The query part of a base query: what "select all filtered" and the per-user view share. */
function filterOf(base: BaseQuery): SessionFilter {
  const { sort: _sort, descending: _descending, ...filter } = base;
  return filter;
}

type PendingEnd = {
  sel: Selection;
  /** Why some of the selection is left out (tenants that cannot end one session). */
  left?: string;
};

/** What to say about sessions of tenants whose API cannot end a single session. */
export function leftOutNote(count: number, tenants: readonly string[]): string {
  const names = tenants.join(", ");
  return `${plural(count, "session")} of ${names} left out: ${
    tenants.length === 1 ? "its" : "their"
  } API cannot end a single session. Use Force logout to end all of a user's sessions there.`;
}

export type SessionsViewProps = {
  /** The console's state as URL query text (from the hash). */
  params: string;
  onParams: (params: string) => void;
  onOpenAlerts: () => void;
};

export function SessionsView({ params, onParams, onOpenAlerts }: SessionsViewProps) {
  const qc = useQueryClient();

  // ---- console state: filter, sort and mode live in the URL hash -------------------------
  const state = useMemo(() => parseConsole(params), [params]);
  const stateRef = useRef(state);
  stateRef.current = state;
  const update = useCallback(
    (fn: (s: ConsoleState) => ConsoleState) => {
      const next = fn(stateRef.current);
      stateRef.current = next;
      onParams(formatConsole(next));
    },
    [onParams],
  );
  const setFilter = useCallback(
    (patch: Partial<ConsoleFilter>) => update((s) => ({ ...s, filter: { ...s.filter, ...patch } })),
    [update],
  );
  const setMode = useCallback((mode: Mode) => update((s) => ({ ...s, mode })), [update]);
  const mode = state.mode;
  const f = state.filter;

  // ---- layout (columns, widths, sort) is remembered across restarts ----------------------
  const [layout, setLayout] = useState<TableLayout>(() => loadLayout(SESSION_COLUMNS));
  useEffect(() => {
    const t = setTimeout(() => saveLayout(layout), LAYOUT_SAVE_MS);
    return () => clearTimeout(t);
  }, [layout]);
  const resetLayout = useCallback(() => {
    clearLayout();
    setLayout(defaultLayout(SESSION_COLUMNS));
    update((s) => ({ ...s, sort: null }));
  }, [update]);

  const sort = state.sort ?? layout.sort ?? DEFAULT_SORT;
  const userSort = state.userSort ?? DEFAULT_USER_SORT;
  const onSort = useCallback(
    (next: SessionSort) => {
      update((s) => ({ ...s, sort: next }));
      setLayout((l) => ({ ...l, sort: next }));
    },
    [update],
  );
  const onUserSort = useCallback(
    (next: UserSort) => update((s) => ({ ...s, userSort: next })),
    [update],
  );

  // ---- the query: deferred, invalid fields left out --------------------------------------
  const clientErrors = useMemo(() => filterErrors(f), [f]);
  const filterJson = JSON.stringify(toSessionFilter(f));
  // No wait before querying: the store answers a filter over 100k sessions in a few
  // milliseconds, and a timer would only add latency (the target is 50 ms from keystroke
  // to rows). Deferred, the input echoes the keystroke at once and the query follows in a
  // render React abandons if the next keystroke comes first.
  const deferredJson = useDeferredValue(filterJson);
  const filter = useMemo(() => JSON.parse(deferredJson) as SessionFilter, [deferredJson]);
  const base = useMemo<BaseQuery>(
    () => ({
      ...filter,
      superuser_only: filter.superuser_only ?? false,
      sort: sort.sort,
      descending: sort.descending,
    }),
    [filter, sort.sort, sort.descending],
  );
  const userBase = useMemo<BaseUserQuery>(
    () => ({
      ...filter,
      superuser_only: filter.superuser_only ?? false,
      sort: userSort.sort,
      descending: userSort.descending,
    }),
    [filter, userSort.sort, userSort.descending],
  );
  const baseRef = useRef(base);
  baseRef.current = base;
  const userBaseRef = useRef(userBase);
  userBaseRef.current = userBase;

  const [filtersOpen, setFiltersOpen] = useState(() => panelFilterCount(f) > 0);

  // ---- selection -------------------------------------------------------------------------
  const [selection, setSelection] = useState<Selection>(EMPTY_SELECTION);
  /** Set by "select all filtered": the filter it stands for (its users are resolved on demand). */
  const [bulk, setBulk] = useState<{ filter: SessionFilter; total: number } | null>(null);
  const [userSelection, setUserSelection] = useState<ReadonlyMap<string, SelectedUser>>(
    () => new Map(),
  );
  const [anchor, setAnchor] = useState<number | null>(null);
  const [focusIndex, setFocusIndex] = useState(-1);
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(() => new Set());

  // A new filter or view means a new list: selection and positions refer to the old one.
  const listKey = `${deferredJson}\u0000${mode}`;
  const [prevListKey, setPrevListKey] = useState(listKey);
  if (prevListKey !== listKey) {
    setPrevListKey(listKey);
    setSelection(EMPTY_SELECTION);
    setBulk(null);
    setUserSelection(new Map());
    setAnchor(null);
    setFocusIndex(-1);
  }

  const [notice, setNotice] = useState<Notice | null>(null);
  const [pendingEnd, setPendingEnd] = useState<PendingEnd | null>(null);
  const [pendingPlan, setPendingPlan] = useState<UserActionPlan | null>(null);
  const [historyOpen, setHistoryOpen] = useState(false);
  /** The person panel's query (null: closed). */
  const [personQuery, setPersonQuery] = useState<string | null>(null);
  const [groupByPerson, setGroupByPerson] = useState(false);
  const openPerson = useCallback(
    (u: Pick<UserRow, "email" | "username">) => setPersonQuery(personQueryOf(u)),
    [],
  );
  const [toasts, setToasts] = useState<ExportToast[]>([]);
  const toastKey = useRef(0);
  const dismissToast = useCallback(
    (key: number) => setToasts((prev) => prev.filter((t) => t.key !== key)),
    [],
  );

  // ---- data ------------------------------------------------------------------------------
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

  const fetchSessionRange = useCallback(
    async (from: number, to: number): Promise<Session[]> => {
      const lo = Math.max(0, Math.min(from, to));
      const hi = Math.min(Math.max(from, to), lo + SELECT_CAP - 1);
      const page = await querySessions({ ...base, offset: lo, limit: hi - lo + 1 });
      return page.rows;
    },
    [base],
  );
  const fetchUserRange = useCallback(
    async (from: number, to: number): Promise<UserRow[]> => {
      const lo = Math.max(0, Math.min(from, to));
      const hi = Math.min(Math.max(from, to), lo + SELECT_CAP - 1);
      const page = await queryUsers({ ...userBase, offset: lo, limit: hi - lo + 1 });
      return page.rows;
    },
    [userBase],
  );

  const onRowClick = useCallback(
    (index: number, s: Session, mods: RowModifiers) => {
      const key = sessionKey(s.tenant, s.id);
      setFocusIndex(index);
      setBulk(null);
      if (mods.range && anchor !== null) {
        const forBase = base;
        fetchSessionRange(anchor, index).then(
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
    [anchor, base, fetchSessionRange],
  );

  const onUserRowClick = useCallback(
    (index: number, row: UserRow, mods: RowModifiers) => {
      const key = userKey(row.tenant, row.user_id);
      setFocusIndex(index);
      if (mods.range && anchor !== null) {
        const forBase = userBase;
        fetchUserRange(anchor, index).then(
          (rows) => {
            if (userBaseRef.current !== forBase) return;
            setUserSelection((prev) => {
              const next = new Map(mods.toggle ? prev : []);
              for (const r of rows) next.set(userKey(r.tenant, r.user_id), toSelectedUser(r));
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
        setUserSelection((prev) => {
          const next = new Map(prev);
          if (next.has(key)) next.delete(key);
          else next.set(key, toSelectedUser(row));
          return next;
        });
      } else {
        setUserSelection(new Map([[key, toSelectedUser(row)]]));
      }
    },
    [anchor, userBase, fetchUserRange],
  );

  const [selecting, setSelecting] = useState(false);
  const selectAll = useCallback(async () => {
    setSelecting(true);
    try {
      if (mode === "users") {
        const forBase = userBase;
        const page = await queryUsers({ ...forBase, offset: 0, limit: SELECT_CAP });
        if (userBaseRef.current !== forBase) return;
        setUserSelection(
          new Map(page.rows.map((r) => [userKey(r.tenant, r.user_id), toSelectedUser(r)])),
        );
        if (page.total > page.rows.length) {
          setNotice({
            tone: "warning",
            title: `Selected the first ${formatCount(page.rows.length)} of ${plural(page.total, "user")}`,
            details: ["One action takes at most that many: narrow the filter to select the rest."],
          });
        }
        return;
      }
      const forBase = base;
      const only = filterOf(forBase);
      // The refs, and the admin's own sessions among them (so ending them still asks).
      const [refs, own] = await Promise.all([
        sessionRefs(only),
        querySessions({ ...forBase, current: true, offset: 0, limit: 100 }),
      ]);
      if (baseRef.current !== forBase) return;
      const next = new Map<string, SelectedSession>();
      for (const r of refs.refs) next.set(sessionKey(r.tenant, r.session_id), fromRef(r));
      for (const s of own.rows) {
        const key = sessionKey(s.tenant, s.id);
        if (next.has(key)) next.set(key, toSelected(s));
      }
      setSelection(next);
      setBulk({ filter: only, total: refs.total });
      setAnchor(null);
      if (refs.total > refs.refs.length) {
        setNotice({
          tone: "warning",
          title: `Selected the first ${formatCount(refs.refs.length)} of ${plural(refs.total, "session")}`,
          details: ["One action takes at most that many: narrow the filter to select the rest."],
        });
      }
    } catch (err) {
      setNotice({ tone: "error", title: `Could not select all: ${errorMessage(err)}` });
    } finally {
      setSelecting(false);
    }
  }, [mode, base, userBase]);

  const clearSelection = useCallback(() => {
    setSelection(EMPTY_SELECTION);
    setUserSelection(new Map());
    setBulk(null);
    setAnchor(null);
  }, []);

  const selectedCount = mode === "sessions" ? selection.size : userSelection.size;
  const allSelected = selectedCount > 0 && selectedCount >= Math.min(rowsTotal, SELECT_CAP);
  const onToggleAll = useCallback(() => {
    if (selectedCount > 0) clearSelection();
    else void selectAll();
  }, [selectedCount, clearSelection, selectAll]);

  const toggleExpand = useCallback((row: UserRow) => {
    const key = userKey(row.tenant, row.user_id);
    setExpanded((prev) => {
      const next = new Set(prev);
      if (next.has(key)) next.delete(key);
      else next.add(key);
      return next;
    });
  }, []);

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
      setPendingEnd(null);
      if (sel.size === 0) return;
      setNotice({ tone: "info", title: `Ending ${plural(sel.size, "session")}…` });
      endMutation.mutate({ sel });
    },
    [endMutation],
  );

  const requestEndOf = useCallback(
    (sel: Selection, skipConfirm: boolean) => {
      if (sel.size === 0 || endMutation.isPending) return;
      const allowed = new Map([...sel].filter(([, s]) => !cannotEnd.has(s.tenant)));
      const skipped = [...new Set([...sel.values()].map((s) => s.tenant))].filter((t) =>
        cannotEnd.has(t),
      );
      const left = skipped.length > 0 ? leftOutNote(sel.size - allowed.size, skipped) : undefined;
      if (allowed.size === 0) {
        setNotice({ tone: "error", title: left ?? "Nothing to end" });
        return;
      }
      // Keep the selection itself when nothing is left out (the dialog checks identity).
      const target = skipped.length === 0 ? sel : allowed;
      if (skipConfirm) {
        runEnd(target);
        if (left) setNotice({ tone: "info", title: left });
      } else setPendingEnd({ sel: target, left });
    },
    [endMutation.isPending, runEnd, cannotEnd],
  );

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
          for (const [k, s] of prev) {
            if (s.user_id === null || done.has(userKey(s.tenant, s.user_id))) next.delete(k);
          }
          return next;
        });
        setBulk(null);
        setUserSelection((prev) => {
          const next = new Map(prev);
          for (const k of done) next.delete(k);
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
      setPendingPlan(null);
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

  // What a force logout does in each tenant, said in the confirmation.
  const tenantsQ = useQuery(tenantsQueryOptions());
  const kindsQ = useQuery(kindsQueryOptions());
  const logoutEffects = useMemo(() => {
    const byKind = new Map((kindsQ.data ?? []).map((k) => [k.kind, k.logout_effect]));
    const out = new Map<string, string>();
    for (const t of tenantsQ.data ?? []) {
      const effect = byKind.get(t.config.kind);
      if (effect) out.set(t.config.name, effect);
    }
    return out;
  }, [tenantsQ.data, kindsQ.data]);

  const planFor = useCallback(
    (kind: UserActionKind, users: readonly SelectedUser[], skipConfirm: boolean) => {
      const plan = planForUsers(kind, users, logoutEffects);
      if (skipConfirm) runUserAction(plan);
      else setPendingPlan(plan);
    },
    [runUserAction, logoutEffects],
  );

  /** The users the selection stands for (a "select all filtered" selection asks the back end). */
  const selectedUsers = useCallback(async (): Promise<SelectedUser[]> => {
    if (mode === "users") return [...userSelection.values()];
    if (!bulk) return usersOf(selection.values());
    const page = await queryUsers({
      ...bulk.filter,
      sort: "username",
      descending: false,
      offset: 0,
      limit: SELECT_CAP,
    });
    return page.rows.map(toSelectedUser);
  }, [mode, userSelection, bulk, selection]);

  const busy = endMutation.isPending || userMutation.isPending;
  const requestUserAction = useCallback(
    (kind: UserActionKind, skipConfirm: boolean) => {
      if (selectedCount === 0 || busy) return;
      // Known at once unless the selection is "all filtered" (then the back end knows them).
      if (mode === "users" || !bulk) {
        planFor(
          kind,
          mode === "users" ? [...userSelection.values()] : usersOf(selection.values()),
          skipConfirm,
        );
        return;
      }
      selectedUsers().then(
        (users) => planFor(kind, users, skipConfirm),
        (err: unknown) =>
          setNotice({ tone: "error", title: `Could not resolve the users: ${errorMessage(err)}` }),
      );
    },
    [selectedCount, busy, mode, bulk, userSelection, selection, selectedUsers, planFor],
  );

  const requestEnd = useCallback(
    (skipConfirm: boolean) => {
      if (mode === "users") requestUserAction("logout", skipConfirm);
      else requestEndOf(selection, skipConfirm);
    },
    [mode, requestUserAction, requestEndOf, selection],
  );

  const refreshMutation = useMutation({
    mutationFn: refresh,
    onSuccess: () => void invalidateAll(qc),
    onError: (err) => setNotice({ tone: "error", title: `Refresh failed: ${errorMessage(err)}` }),
  });
  const doRefresh = useCallback(() => {
    if (!refreshMutation.isPending) refreshMutation.mutate();
  }, [refreshMutation]);

  // Polling can be paused here or from the tray (`app://status` refetches the status).
  const statusQ = useQuery(appStatusQueryOptions());
  const pauseMutation = useMutation({
    mutationFn: (paused: boolean) => setPaused(paused),
    onSettled: () => qc.invalidateQueries({ queryKey: queryKeys.appStatus }),
    onError: (err, paused) =>
      setNotice({
        tone: "error",
        title: `Could not ${paused ? "pause" : "resume"} polling: ${errorMessage(err)}`,
      }),
  });

  const exportMutation = useMutation({
    mutationFn: (format: ExportFormat) =>
      exportSessions({ ...baseRef.current, offset: 0, limit: MAX_WINDOW }, format),
    onSuccess: (result, format) => {
      toastKey.current += 1;
      const key = toastKey.current;
      setToasts((prev) => [
        ...prev.slice(-2),
        {
          key,
          text: `Exported ${plural(result.rows, "session")} as ${format.toUpperCase()}`,
          path: result.path,
        },
      ]);
    },
    onError: (err) => setNotice({ tone: "error", title: `Export failed: ${errorMessage(err)}` }),
  });

  const clearFilters = useCallback(() => {
    update((s) => ({ ...s, filter: EMPTY_FILTER }));
  }, [update]);

  // ---- keyboard --------------------------------------------------------------------------
  const searchRef = useRef<HTMLInputElement>(null);
  const dialogOpen =
    pendingEnd !== null || pendingPlan !== null || historyOpen || personQuery !== null;
  const shortcuts = useRef({
    requestEnd,
    selectAll,
    doRefresh,
    clearSelection,
    clearFilters,
    setMode,
    mode,
    dialogOpen,
  });
  shortcuts.current = {
    requestEnd,
    selectAll,
    doRefresh,
    clearSelection,
    clearFilters,
    setMode,
    mode,
    dialogOpen,
  };
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const k = shortcuts.current;
      const mod = e.ctrlKey || e.metaKey;
      if (e.key === "F5" || (mod && !e.shiftKey && e.key.toLowerCase() === "r")) {
        e.preventDefault(); // never reload the webview
        if (!k.dialogOpen && !modalOpen()) k.doRefresh();
        return;
      }
      if (k.dialogOpen || modalOpen() || e.defaultPrevented) return;
      if (mod && e.shiftKey && e.key.toLowerCase() === "x") {
        e.preventDefault();
        k.clearFilters();
        return;
      }
      if (isTextEntry(e.target)) return;
      if (e.key === "Delete") {
        e.preventDefault();
        k.requestEnd(false);
      } else if (mod && e.key.toLowerCase() === "a") {
        e.preventDefault();
        void k.selectAll();
      } else if (e.key === "Escape") {
        k.clearSelection();
      } else if (mod || e.altKey) {
        return;
      } else if (e.key === "/") {
        e.preventDefault();
        searchRef.current?.focus();
      } else if (e.key === "u" || e.key === "U") {
        e.preventDefault();
        k.setMode(k.mode === "users" ? "sessions" : "users");
      } else if (e.key === "f" || e.key === "F") {
        e.preventDefault();
        setFiltersOpen((o) => !o);
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

  // ---- derived view data -----------------------------------------------------------------
  const summaryTenants = summaryQ.data?.tenants;
  const tenantNames = useMemo(() => {
    const names = (summaryTenants ?? []).map((t) => t.health.tenant);
    for (const t of f.tenants) if (!names.includes(t)) names.push(t);
    return names;
  }, [summaryTenants, f.tenants]);
  const stale = useMemo(() => {
    const m = new Map<string, string>();
    for (const t of summaryTenants ?? []) {
      if (t.health.stale)
        m.set(t.health.tenant, t.health.error?.message ?? "no successful poll yet");
    }
    return m;
  }, [summaryTenants]);
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

  const toggleTenant = useCallback(
    (name: string) => {
      const cur = stateRef.current.filter.tenants;
      setFilter({ tenants: cur.length === 1 && cur[0] === name ? [] : [name] });
    },
    [setFilter],
  );

  const filtered = useMemo(() => filteredColumns(f), [f]);
  const typedFilterActive = hasAnyFilter(toSessionFilter(f));
  const filtersActive = typedFilterActive || hasAnyFilter(filter);
  const panelCount = panelFilterCount(f);

  const noun = mode === "sessions" ? "session" : "user";
  const sessionsInScope = cardCounts?.active_sessions;
  const usersInScope = cardCounts?.active_users;
  let countText: string;
  if (active.isPending) countText = "Loading…";
  else if (active.isError && !active.data) countText = `– ${noun}s`;
  else if (mode === "sessions") {
    countText =
      filtersActive && sessionsInScope !== undefined
        ? `${formatCount(total)} of ${plural(sessionsInScope, "session")}`
        : plural(total, "session");
  } else {
    const sessions = userHead.data?.sessions ?? 0;
    const users =
      filtersActive && usersInScope !== undefined
        ? `${formatCount(userTotal)} of ${plural(usersInScope, "user")}`
        : plural(userTotal, "user");
    countText = `${users} · ${plural(sessions, "session")}`;
  }

  const selectedSessions = [...selection.values()];
  const includesOwn = selectedSessions.some((s) => s.current);
  const onlyUser: SelectedUser | undefined = useMemo(() => {
    const users =
      mode === "users" ? [...userSelection.values()] : bulk ? [] : usersOf(selection.values());
    return users.length === 1 ? users[0] : undefined;
  }, [mode, userSelection, selection, bulk]);

  // ---- render ----------------------------------------------------------------------------
  let main: ReactNode;
  if (active.isPending) {
    main = (
      <div className="state" data-testid="loading-state" role="status">
        <span className="spinner" aria-hidden="true" />{" "}
        {mode === "sessions" ? "Loading sessions…" : "Loading users…"}
      </div>
    );
  } else if (active.isError && !active.data) {
    main =
      serverError !== null ? (
        <div className="state error" data-testid="filter-error-state" role="alert">
          <strong>This filter is not valid</strong>
          <p className="error-message">{serverError}</p>
          <p className="muted">Correct the highlighted filter, or clear the filters.</p>
          <button type="button" className="button" onClick={clearFilters}>
            Clear filters
          </button>
        </div>
      ) : (
        <div className="state error" data-testid="error-state" role="alert">
          <strong>Could not load {mode === "sessions" ? "sessions" : "users"}</strong>
          <p className="error-message">{errorMessage(active.error)}</p>
          <p className="muted">{hintFor(errorCode(active.error))}</p>
          <button type="button" className="button" onClick={() => void active.refetch()}>
            Try again
          </button>
        </div>
      );
  } else if (rowsTotal === 0) {
    main = (
      <div className="state" data-testid="empty-state">
        {filtersActive ? (
          <>
            <strong>No {mode === "sessions" ? "sessions" : "users"} match your filters</strong>
            <p className="muted">Loosen or clear the filters to see more.</p>
            <button type="button" className="button" onClick={clearFilters}>
              Clear filters
            </button>
          </>
        ) : (
          <>
            <strong>No active sessions</strong>
            <p className="muted">
              Vigil polls every tenant continuously; new sessions appear here. Add tenants on the
              Tenants screen (Ctrl/Cmd+2).
            </p>
          </>
        )}
      </div>
    );
  } else if (mode === "sessions") {
    main = (
      <SessionTable
        base={base}
        total={total}
        selection={selection}
        allSelected={allSelected}
        focusIndex={focusIndex}
        onFocusIndex={setFocusIndex}
        sort={sort}
        onSort={onSort}
        layout={layout}
        onLayout={setLayout}
        filtered={filtered}
        stale={stale}
        signInLog={signInLog}
        onRowClick={onRowClick}
        onToggleAll={onToggleAll}
        onOpenPerson={openPerson}
      />
    );
  } else if (groupByPerson) {
    main = (
      <PersonGroups
        base={userBase}
        total={userTotal}
        selection={userSelection}
        stale={stale}
        onRowClick={onUserRowClick}
        onForceLogout={(row, skip) => planFor("logout", [toSelectedUser(row)], skip)}
        onOpenPerson={setPersonQuery}
      />
    );
  } else {
    main = (
      <UserTable
        base={userBase}
        sessionBase={base}
        total={userTotal}
        selection={userSelection}
        allSelected={allSelected}
        onToggleAll={onToggleAll}
        focusIndex={focusIndex}
        onFocusIndex={setFocusIndex}
        sort={userSort}
        onSort={onUserSort}
        expanded={expanded}
        onToggleExpand={toggleExpand}
        stale={stale}
        onRowClick={onUserRowClick}
        onForceLogout={(row, skip) => planFor("logout", [toSelectedUser(row)], skip)}
        onEndSession={(s, skip) =>
          requestEndOf(new Map([[sessionKey(s.tenant, s.id), toSelected(s)]]), skip)
        }
        onOpenPerson={openPerson}
      />
    );
  }

  return (
    <div className="app">
      <Header
        search={f.search}
        searchRef={searchRef}
        searchError={errors.search}
        onSearch={(search) => setFilter({ search })}
        tenants={tenantNames}
        selectedTenants={f.tenants}
        onTenants={(tenants) => setFilter({ tenants })}
        superuserOnly={f.superuser_only}
        onSuperuserOnly={(superuser_only) => setFilter({ superuser_only })}
        onRefresh={doRefresh}
        refreshing={refreshMutation.isPending}
        paused={statusQ.data?.paused}
        onPaused={(paused) => pauseMutation.mutate(paused)}
        pausing={pauseMutation.isPending}
        onFindPerson={setPersonQuery}
      />
      <Cards
        counts={cardCounts}
        openAlerts={scopeAlerts}
        scope={scope}
        superuserOnly={f.superuser_only}
        onToggleSuperusers={() =>
          setFilter({ superuser_only: !stateRef.current.filter.superuser_only })
        }
        mode={mode}
        onMode={setMode}
        onOpenAlerts={onOpenAlerts}
        tenants={summaryTenants}
        alertsByTenant={alertsByTenant}
        onTenant={toggleTenant}
      />
      {summaryQ.isError && (
        <div className="inline-error" role="alert" data-testid="summary-error">
          Could not load the summary: {errorMessage(summaryQ.error)}
        </div>
      )}
      <div className="toolbar view-toolbar">
        <fieldset className="segmented" aria-label="Rows">
          <button
            type="button"
            data-testid="mode-sessions"
            aria-pressed={mode === "sessions"}
            aria-keyshortcuts="U"
            title="One row per session (U)"
            onClick={() => setMode("sessions")}
          >
            Sessions
          </button>
          <button
            type="button"
            data-testid="mode-users"
            aria-pressed={mode === "users"}
            aria-keyshortcuts="U"
            title="One row per user, grouped (U)"
            onClick={() => setMode("users")}
          >
            Users
          </button>
        </fieldset>
        {mode === "users" && (
          <label className="toggle" title="Group the loaded users by person (e-mail address)">
            <input
              type="checkbox"
              data-testid="group-by-person"
              checked={groupByPerson}
              onChange={(e) => setGroupByPerson(e.target.checked)}
            />
            <span>Group by person</span>
          </label>
        )}
        <span className="row-count" data-testid="row-count" aria-live="polite">
          {countText}
        </span>
        {active.isError && active.data && serverError === null && (
          <span className="inline-error" role="alert">
            Showing last known data: {errorMessage(active.error)}
          </span>
        )}
        {serverError !== null && serverField === null && (
          <span className="inline-error" role="alert" data-testid="filter-error">
            {serverError}
          </span>
        )}
        <span className="spacer" />
        <button
          type="button"
          className={`button${panelCount > 0 ? " has-filters" : ""}`}
          data-testid="toggle-filters"
          aria-expanded={filtersOpen}
          aria-keyshortcuts="F"
          title="Show or hide the column filters (F)"
          onClick={() => setFiltersOpen((o) => !o)}
        >
          Filters{panelCount > 0 ? ` (${panelCount})` : ""}
        </button>
        <button
          type="button"
          className="button"
          data-testid="clear-filters"
          disabled={!typedFilterActive}
          aria-keyshortcuts="Control+Shift+X Meta+Shift+X"
          title="Clear every filter (Ctrl/Cmd+Shift+X)"
          onClick={clearFilters}
        >
          Clear filters
        </button>
        {mode === "sessions" && (
          <ColumnChooser layout={layout} onLayout={setLayout} onReset={resetLayout} />
        )}
        <button
          type="button"
          className="button"
          data-testid="export-csv"
          disabled={exportMutation.isPending}
          title="Write every filtered session, in this order, to a CSV file in Downloads"
          onClick={() => exportMutation.mutate("csv")}
        >
          Export CSV
        </button>
        <button
          type="button"
          className="button"
          data-testid="export-json"
          disabled={exportMutation.isPending}
          title="Write every filtered session, in this order, to a JSON file in Downloads"
          onClick={() => exportMutation.mutate("json")}
        >
          Export JSON
        </button>
      </div>
      {filtersOpen && (
        <FilterPanel
          filter={f}
          onChange={setFilter}
          errors={errors}
          facets={facetsQ.data}
          tenantNames={tenantNames}
        />
      )}
      <div className="toolbar action-toolbar">
        <button
          type="button"
          className="button"
          data-testid="select-all-filtered"
          disabled={rowsTotal === 0 || selecting}
          aria-keyshortcuts="Control+A Meta+A"
          title={`Select every filtered ${noun} (Ctrl/Cmd+A), at most ${formatCount(SELECT_CAP)}`}
          onClick={() => void selectAll()}
        >
          Select all {rowsTotal > 0 ? formatCount(Math.min(rowsTotal, SELECT_CAP)) : ""} filtered
        </button>
        <span className="selection-info" data-testid="selection-count" aria-live="polite">
          {selectedCount > 0 ? (
            <>
              {plural(selectedCount, noun)} selected
              {bulk && mode === "sessions" && bulk.total > selection.size
                ? ` (of ${formatCount(bulk.total)} filtered)`
                : ""}
              <button type="button" className="link-button" onClick={clearSelection}>
                Clear
              </button>
            </>
          ) : (
            <span className="muted">Nothing selected</span>
          )}
        </span>
        <span className="spacer" />
        {mode === "sessions" && (
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
        )}
        <button
          type="button"
          className="button danger"
          data-testid="action-logout"
          disabled={selectedCount === 0 || busy}
          onClick={(e) => requestUserAction("logout", e.ctrlKey || e.metaKey)}
          title="End every session of the selected users. Ctrl/Cmd+click skips the confirmation."
        >
          Force logout
        </button>
        <button
          type="button"
          className="button danger"
          data-testid="action-disable"
          disabled={selectedCount === 0 || busy}
          onClick={(e) => requestUserAction("disable", e.ctrlKey || e.metaKey)}
          title="End every session of the selected users and disable their accounts (not protected ones). Ctrl/Cmd+click skips the confirmation."
        >
          End &amp; Disable
        </button>
        <button
          type="button"
          className="button danger"
          data-testid="action-contain"
          disabled={selectedCount === 0 || busy}
          onClick={(e) => requestUserAction("contain", e.ctrlKey || e.metaKey)}
          title="Incident playbook: force logout, then disable the selected users (not protected ones). Ctrl/Cmd+click skips the confirmation."
        >
          Contain
        </button>
        <button
          type="button"
          className="button"
          data-testid="action-enable"
          disabled={selectedCount === 0 || busy}
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
          title="Login history of the selected user (select exactly one user)"
        >
          History
        </button>
      </div>
      {notice && <ActionResult notice={notice} onDismiss={() => setNotice(null)} />}
      <main className="main">{main}</main>
      <StatusBar
        tenants={summaryTenants}
        selected={scope.length === 1 ? (scope[0] ?? null) : null}
        onSelect={toggleTenant}
      />
      {pendingEnd && (
        <ConfirmDialog
          title="End sessions"
          message={describeEnd([...pendingEnd.sel.values()])}
          detail={[
            [...pendingEnd.sel.values()].some((s) => s.current) ||
            (pendingEnd.sel === selection && includesOwn)
              ? "This includes your own session: you will be signed out of that tenant."
              : "Users are signed out immediately and must log in again.",
            pendingEnd.left,
          ]
            .filter(Boolean)
            .join(" ")}
          confirmLabel={endButtonLabel(pendingEnd.sel.size)}
          busy={endMutation.isPending}
          onConfirm={() => runEnd(pendingEnd.sel)}
          onCancel={() => setPendingEnd(null)}
        />
      )}
      {pendingPlan && (
        <ConfirmDialog
          title={pendingPlan.title}
          message={pendingPlan.message}
          detail={pendingPlan.detail}
          confirmLabel={pendingPlan.confirmLabel}
          busy={userMutation.isPending || pendingPlan.users.length === 0}
          onConfirm={() => runUserAction(pendingPlan)}
          onCancel={() => setPendingPlan(null)}
        />
      )}
      {historyOpen && onlyUser && (
        <HistoryPanel
          tenant={onlyUser.tenant}
          username={onlyUser.username}
          onClose={() => setHistoryOpen(false)}
        />
      )}
      {personQuery !== null && (
        <PersonPanel key={personQuery} query={personQuery} onClose={() => setPersonQuery(null)} />
      )}
      <ExportToasts toasts={toasts} onDismiss={dismissToast} />
    </div>
  );
}
