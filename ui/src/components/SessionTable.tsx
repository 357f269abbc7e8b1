import { keepPreviousData, useQueries } from "@tanstack/react-query";
import {
  type CellContext,
  createColumnHelper,
  flexRender,
  getCoreRowModel,
  type RowData,
  type SortingState,
  type Updater,
  useReactTable,
} from "@tanstack/react-table";
import { useVirtualizer } from "@tanstack/react-virtual";
import {
  type KeyboardEvent,
  type MouseEvent,
  useCallback,
  useEffect,
  useMemo,
  useRef,
} from "react";
import { type BaseQuery, PAGE_SIZE, pageQueryOptions } from "../hooks/queries";
import { useNow } from "../hooks/useNow";
import type { Session } from "../ipc/bindings/Session";
import type { SessionPage } from "../ipc/bindings/SessionPage";
import type { SortColumn } from "../ipc/bindings/SortColumn";
import { DASH, effectiveExpiry, formatDateTime, formatTimeLeft, personName } from "../lib/format";
import { type Selection, sessionKey } from "../lib/selection";
import { parseUserAgent } from "../lib/userAgent";

export const ROW_HEIGHT = 32;
export const HEADER_HEIGHT = 34;

/** One virtual row: its index in the filtered list and, once its page is loaded, the session. */
export type RowSlot = { index: number; session: Session | undefined };

export type RowModifiers = { toggle: boolean; range: boolean };

declare module "@tanstack/react-table" {
  interface TableMeta<TData extends RowData> {
    isSelected: (s: Session) => boolean;
    toggleRow: (index: number, s: Session) => void;
    now: number;
  }
}

const col = createColumnHelper<RowSlot>();

function text(value: string | null | undefined) {
  return value?.trim() ? value : DASH;
}

function cellText(get: (s: Session) => string | null) {
  return ({ row }: CellContext<RowSlot, unknown>) => {
    const s = row.original.session;
    if (!s) return <span className="skeleton" />;
    const v = text(get(s));
    return <span title={v === DASH ? undefined : v}>{v}</span>;
  };
}

function sortable(
  id: SortColumn,
  header: string,
  get: (s: Session) => string | null,
  descFirst = false,
) {
  return col.accessor((r) => (r.session ? get(r.session) : null), {
    id,
    header,
    enableSorting: true,
    sortDescFirst: descFirst,
    cell: cellText(get),
  });
}

function timeCell(get: (s: Session) => string | null) {
  return ({ row }: CellContext<RowSlot, unknown>) => {
    const s = row.original.session;
    if (!s) return <span className="skeleton" />;
    const iso = get(s);
    return iso ? <time dateTime={iso}>{formatDateTime(iso)}</time> : DASH;
  };
}

const COLUMNS = [
  col.display({
    id: "select",
    header: "",
    cell: ({ row, table }) => {
      const s = row.original.session;
      if (!s) return null;
      const meta = table.options.meta;
      return (
        <input
          type="checkbox"
          tabIndex={-1}
          aria-label={`Select session of ${s.username} (tenant ${s.tenant})`}
          checked={meta?.isSelected(s) ?? false}
          onClick={(e) => e.stopPropagation()}
          onChange={() => meta?.toggleRow(row.original.index, s)}
        />
      );
    },
  }),
  sortable("tenant", "Tenant", (s) => s.tenant),
  col.accessor((r) => r.session?.username ?? null, {
    id: "username" satisfies SortColumn,
    header: "User",
    sortDescFirst: false,
    cell: ({ row }) => {
      const s = row.original.session;
      if (!s) return <span className="skeleton" />;
      return (
        <span className="user-cell">
          <span className="username" title={s.username}>
            {s.username}
          </span>
          {s.superuser && (
            <span className="badge badge-super" title="SuperUser">
              SUPER
            </span>
          )}
          {s.protected && <span className="badge badge-protected">protected</span>}
          {s.disabled && <span className="badge badge-disabled">disabled</span>}
          {s.current && (
            <span className="badge badge-you" title="This is your own session">
              you
            </span>
          )}
        </span>
      );
    },
  }),
  sortable("display_name", "Name", (s) => personName(s)),
  sortable("department", "Department", (s) => s.department),
  sortable("organisation", "Organisation", (s) => s.organisation),
  sortable("ip", "IP", (s) => s.ip),
  sortable("session_type", "Type", (s) => s.session_type),
  sortable("login_type", "Login", (s) => s.login_type),
  col.display({
    id: "browser",
    header: "Browser/OS",
    cell: ({ row }) => {
      const s = row.original.session;
      if (!s) return <span className="skeleton" />;
      const ua = parseUserAgent(s.user_agent);
      return <span title={s.user_agent ?? undefined}>{ua.label}</span>;
    },
  }),
  col.accessor((r) => r.session?.created_at ?? null, {
    id: "created_at" satisfies SortColumn,
    header: "Login time",
    sortDescFirst: true,
    cell: timeCell((s) => s.created_at),
  }),
  col.accessor((r) => r.session?.last_activity_at ?? null, {
    id: "last_activity_at" satisfies SortColumn,
    header: "Last activity",
    sortDescFirst: true,
    cell: timeCell((s) => s.last_activity_at),
  }),
  col.accessor((r) => r.session?.expires_at ?? null, {
    id: "expires_at" satisfies SortColumn,
    header: "Expires",
    sortDescFirst: false,
    cell: ({ row, table }) => {
      const s = row.original.session;
      if (!s) return <span className="skeleton" />;
      const at = effectiveExpiry(s);
      if (at === null) return DASH;
      const iso = new Date(at).toISOString();
      const now = table.options.meta?.now ?? Date.now();
      const left = formatTimeLeft(at, now);
      return (
        <time
          dateTime={iso}
          title={formatDateTime(iso)}
          className={left === "expired" ? "expired" : undefined}
        >
          <span className="muted">{formatDateTime(iso).slice(5, 16)}</span> {left}
        </time>
      );
    },
  }),
];

const SORT_COLUMNS: ReadonlySet<string> = new Set<SortColumn>([
  "tenant",
  "username",
  "display_name",
  "department",
  "organisation",
  "ip",
  "session_type",
  "login_type",
  "created_at",
  "last_activity_at",
  "expires_at",
]);

function isSortColumn(id: string): id is SortColumn {
  return SORT_COLUMNS.has(id);
}

export type SessionTableProps = {
  base: BaseQuery;
  total: number;
  selection: Selection;
  allSelected: boolean;
  focusIndex: number;
  onFocusIndex: (index: number) => void;
  onSort: (sort: SortColumn, descending: boolean) => void;
  onRowClick: (index: number, session: Session, mods: RowModifiers) => void;
  onToggleAll: () => void;
};

export function SessionTable(props: SessionTableProps) {
  const { base, total, selection, focusIndex, onFocusIndex, onRowClick, onSort } = props;
  const scrollRef = useRef<HTMLDivElement>(null);
  const now = useNow(15_000);

  const virtualizer = useVirtualizer({
    count: total,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
    scrollMargin: HEADER_HEIGHT,
    scrollPaddingStart: HEADER_HEIGHT,
    initialRect: { width: 1280, height: 600 },
  });
  const items = virtualizer.getVirtualItems();
  const first = items[0];
  const last = items[items.length - 1];
  const firstPage = first ? Math.floor(first.index / PAGE_SIZE) : 0;
  const lastPage = last ? Math.floor(last.index / PAGE_SIZE) : -1;

  // Last data seen per page index: shown while a page for a new query loads, so nothing jumps.
  const fallback = useRef(new Map<number, SessionPage>());
  const pageNums: number[] = [];
  for (let p = firstPage; p <= lastPage; p++) pageNums.push(p);
  const pages = useQueries({
    queries: pageNums.map((p) => ({
      ...pageQueryOptions(base, p),
      placeholderData: (prev: SessionPage | undefined) =>
        keepPreviousData(prev) ?? fallback.current.get(p),
    })),
  });
  pages.forEach((q, i) => {
    const p = pageNums[i];
    if (p !== undefined && q.data && !q.isPlaceholderData) fallback.current.set(p, q.data);
  });

  const getRow = useCallback(
    (index: number): Session | undefined => {
      const page = pages[Math.floor(index / PAGE_SIZE) - firstPage]?.data;
      return page ? page.rows[index - page.offset] : undefined;
    },
    [pages, firstPage],
  );

  const data: RowSlot[] = items.map((v) => ({ index: v.index, session: getRow(v.index) }));
  const sorting: SortingState = useMemo(
    () => [{ id: base.sort, desc: base.descending }],
    [base.sort, base.descending],
  );
  const onSortingChange = useCallback(
    (updater: Updater<SortingState>) => {
      const next = typeof updater === "function" ? updater(sorting) : updater;
      const s = next[0];
      if (s && isSortColumn(s.id)) onSort(s.id, s.desc);
    },
    [sorting, onSort],
  );

  const isSelected = useCallback(
    (s: Session) => selection.has(sessionKey(s.tenant, s.id)),
    [selection],
  );
  const toggleRow = useCallback(
    (index: number, s: Session) => onRowClick(index, s, { toggle: true, range: false }),
    [onRowClick],
  );

  const table = useReactTable({
    data,
    columns: COLUMNS,
    getCoreRowModel: getCoreRowModel(),
    getRowId: (r) => String(r.index),
    manualSorting: true,
    enableMultiSort: false,
    enableSortingRemoval: false,
    state: { sorting },
    onSortingChange,
    meta: { isSelected, toggleRow, now },
  });

  useEffect(() => {
    if (focusIndex >= 0 && focusIndex < total) virtualizer.scrollToIndex(focusIndex);
  }, [focusIndex, total, virtualizer]);

  const moveFocus = (next: number, extend: boolean) => {
    if (total === 0) return;
    const i = Math.max(0, Math.min(total - 1, next));
    onFocusIndex(i);
    if (extend) {
      const s = getRow(i);
      if (s) onRowClick(i, s, { toggle: false, range: true });
    }
  };

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const pageRows = Math.max(
      1,
      Math.floor((scrollRef.current?.clientHeight ?? 600) / ROW_HEIGHT) - 2,
    );
    const cur = focusIndex < 0 ? -1 : focusIndex;
    switch (e.key) {
      case "ArrowDown":
        moveFocus(cur + 1, e.shiftKey);
        break;
      case "ArrowUp":
        moveFocus(cur < 0 ? 0 : cur - 1, e.shiftKey);
        break;
      case "PageDown":
        moveFocus(cur + pageRows, e.shiftKey);
        break;
      case "PageUp":
        moveFocus(cur - pageRows, e.shiftKey);
        break;
      case "Home":
        moveFocus(0, e.shiftKey);
        break;
      case "End":
        moveFocus(total - 1, e.shiftKey);
        break;
      case " ":
      case "Enter": {
        const s = cur >= 0 ? getRow(cur) : undefined;
        if (s) onRowClick(cur, s, { toggle: e.key === " ", range: false });
        break;
      }
      default:
        return;
    }
    e.preventDefault();
  };

  const onRowMouse = (e: MouseEvent, index: number, s: Session | undefined) => {
    if (!s) return;
    if (e.shiftKey) e.preventDefault(); // no text selection on shift+click
    onFocusIndex(index);
    onRowClick(index, s, { toggle: e.ctrlKey || e.metaKey, range: e.shiftKey });
  };

  const focusedRendered = items.some((v) => v.index === focusIndex);
  const rows = table.getRowModel().rows;
  const headerGroup = table.getHeaderGroups()[0];

  return (
    <div
      ref={scrollRef}
      className="grid-scroll"
      role="grid"
      aria-label="Active sessions"
      aria-rowcount={total + 1}
      aria-multiselectable="true"
      aria-activedescendant={focusedRendered ? `session-row-${focusIndex}` : undefined}
      tabIndex={0}
      onKeyDown={onKeyDown}
    >
      <div className="grid-row grid-header" role="row" aria-rowindex={1}>
        {headerGroup?.headers.map((h) => {
          const sorted = h.column.getIsSorted();
          if (h.column.id === "select") {
            return (
              <div key={h.id} className="cell cell-select" role="columnheader">
                <input
                  type="checkbox"
                  aria-label="Select all sessions"
                  checked={props.allSelected}
                  ref={(el) => {
                    if (el) el.indeterminate = selection.size > 0 && !props.allSelected;
                  }}
                  onChange={props.onToggleAll}
                />
              </div>
            );
          }
          return (
            <div
              key={h.id}
              className={`cell cell-${h.column.id}`}
              role="columnheader"
              aria-sort={
                sorted === "asc" ? "ascending" : sorted === "desc" ? "descending" : undefined
              }
            >
              {h.column.getCanSort() ? (
                <button
                  type="button"
                  className="sort-button"
                  onClick={h.column.getToggleSortingHandler()}
                  title={`Sort by ${String(h.column.columnDef.header)}`}
                >
                  {flexRender(h.column.columnDef.header, h.getContext())}
                  <span className="sort-indicator" aria-hidden="true">
                    {sorted === "asc" ? "▲" : sorted === "desc" ? "▼" : ""}
                  </span>
                </button>
              ) : (
                flexRender(h.column.columnDef.header, h.getContext())
              )}
            </div>
          );
        })}
      </div>
      <div className="grid-body" style={{ height: virtualizer.getTotalSize() }}>
        {rows.map((row, i) => {
          const v = items[i];
          if (!v) return null;
          const s = row.original.session;
          const selected = s ? isSelected(s) : false;
          const cls = [
            "grid-row",
            selected ? "selected" : "",
            v.index === focusIndex ? "focused" : "",
            s ? "" : "loading",
            s?.superuser ? "super" : "",
          ]
            .filter(Boolean)
            .join(" ");
          return (
            <div
              key={v.key}
              id={`session-row-${v.index}`}
              className={cls}
              role="row"
              aria-rowindex={v.index + 2}
              aria-selected={s ? selected : undefined}
              data-testid={s ? "session-row" : "session-row-loading"}
              data-session-id={s?.id}
              data-tenant={s?.tenant}
              style={{ height: ROW_HEIGHT, transform: `translateY(${v.start - HEADER_HEIGHT}px)` }}
              onClick={(e) => onRowMouse(e, v.index, s)}
            >
              {row.getVisibleCells().map((cell) => (
                <div key={cell.id} className={`cell cell-${cell.column.id}`} role="gridcell">
                  {flexRender(cell.column.columnDef.cell, cell.getContext())}
                </div>
              ))}
            </div>
          );
        })}
      </div>
    </div>
  );
}
