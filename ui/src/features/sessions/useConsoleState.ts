import { useCallback, useDeferredValue, useMemo, useRef, useState } from "react";
import type { BaseQuery, BaseUserQuery } from "../../hooks/queries";
import type { SessionFilter } from "../../ipc/bindings/SessionFilter";
import {
  type ConsoleFilter,
  type ConsoleState,
  EMPTY_FILTER,
  filterErrors,
  formatConsole,
  type Mode,
  parseConsole,
  type SessionSort,
  toSessionFilter,
  type UserSort,
} from "../../lib/consoleState";
import {
  DEFAULT_SORT,
  DEFAULT_USER_SORT,
  filteredColumns,
  hasAnyFilter,
  panelFilterCount,
} from "./console";
import { useColumnLayout } from "./useColumnLayout";

/**
 * The console's state: filter, sort and mode live in the URL hash (`params`), the columns'
 * layout in local storage; the query they make follows the typing deferred.
 */
export function useConsoleState(params: string, onParams: (params: string) => void) {
  // ---- filter, sort and mode live in the URL hash ----------------------------------------
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
  const { layout, setLayout, resetLayout } = useColumnLayout(update);

  const sort = state.sort ?? layout.sort ?? DEFAULT_SORT;
  const userSort = state.userSort ?? DEFAULT_USER_SORT;
  const onSort = useCallback(
    (next: SessionSort) => {
      update((s) => ({ ...s, sort: next }));
      setLayout((l) => ({ ...l, sort: next }));
    },
    [update, setLayout],
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

  /** A new filter or view means a new list: selection and positions refer to the old one. */
  const listKey = `${deferredJson}\u0000${mode}`;

  const [filtersOpen, setFiltersOpen] = useState(() => panelFilterCount(f) > 0);

  const clearFilters = useCallback(() => {
    update((s) => ({ ...s, filter: EMPTY_FILTER }));
  }, [update]);
  const toggleSuperusers = useCallback(
    () => setFilter({ superuser_only: !stateRef.current.filter.superuser_only }),
    [setFilter],
  );
  /** Shows only this tenant; again, every tenant. */
  const toggleTenant = useCallback(
    (name: string) => {
      const cur = stateRef.current.filter.tenants;
      setFilter({ tenants: cur.length === 1 && cur[0] === name ? [] : [name] });
    },
    [setFilter],
  );

  const filtered = useMemo(() => filteredColumns(f), [f]);
  const typedFilterActive = hasAnyFilter(toSessionFilter(f));

  return {
    mode,
    setMode,
    /** The filter as typed. */
    f,
    setFilter,
    clearFilters,
    toggleSuperusers,
    toggleTenant,
    layout,
    setLayout,
    resetLayout,
    sort,
    onSort,
    userSort,
    onUserSort,
    clientErrors,
    /** The filter as queried (deferred, invalid fields left out). */
    filter,
    base,
    userBase,
    /** The latest `base`, for answers that arrive later. */
    baseRef,
    listKey,
    filtersOpen,
    setFiltersOpen,
    /** Column ids whose header shows a filter mark. */
    filtered,
    /** A filter is typed (the Clear filters button). */
    typedFilterActive,
    /** A filter is typed or still applied (the empty state and the row count say so). */
    filtersActive: typedFilterActive || hasAnyFilter(filter),
    panelCount: panelFilterCount(f),
  };
}

export type ConsoleStateApi = ReturnType<typeof useConsoleState>;
