import {
  type ColumnSizingState,
  createColumnHelper,
  flexRender,
  getCoreRowModel,
  type RowData,
  type Updater,
  useReactTable,
  type VisibilityState,
} from "@tanstack/react-table";
import { useCallback, useMemo, useRef } from "react";
import { PersonButton } from "../features/people/PersonButton";
import { type BaseQuery, pageQueryOptions } from "../hooks/queries";
import { type RowModifiers, useGridKeyboard } from "../hooks/useGridKeyboard";
import { useVirtualPages } from "../hooks/useVirtualPages";
import type { Session } from "../ipc/bindings/Session";
import type { SessionSort } from "../lib/consoleState";
import { MAX_COLUMN_WIDTH, MIN_COLUMN_WIDTH, type TableLayout } from "../lib/layout";
import { type Selection, sessionKey } from "../lib/selection";
import { FilterIcon } from "./icons";
import {
  type CellContext,
  columnById,
  SESSION_COLUMNS,
  type SessionColumn,
} from "./sessionColumns";

export const ROW_HEIGHT = 32;
export const HEADER_HEIGHT = 34;

/** One virtual row: its index in the filtered list and, once its page is loaded, the session. */
export type RowSlot = { index: number; session: Session | undefined };

declare module "@tanstack/react-table" {
  interface TableMeta<TData extends RowData> {
    isSelected: (s: Session) => boolean;
    toggleRow: (index: number, s: Session) => void;
    cellContext: CellContext;
    /** Opens the person panel for this session's user. */
    openPerson?: ((s: Session) => void) | undefined;
  }
}

const col = createColumnHelper<RowSlot>();

const SELECT_COLUMN = col.display({
  id: "select",
  header: "",
  size: 34,
  enableResizing: false,
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
});

/** The person behind the row's account: every account of theirs in every tenant. */
const PERSON_COLUMN = col.display({
  id: "person",
  header: "",
  size: 30,
  enableResizing: false,
  cell: ({ row, table }) => {
    const s = row.original.session;
    const open = table.options.meta?.openPerson;
    if (!s || !open) return null;
    return <PersonButton user={s} onOpen={() => open(s)} />;
  },
});

function columnDef(spec: SessionColumn) {
  return col.display({
    id: spec.id,
    header: spec.label,
    size: spec.width,
    minSize: MIN_COLUMN_WIDTH,
    maxSize: MAX_COLUMN_WIDTH,
    cell: ({ row, table }) => {
      const s = row.original.session;
      if (!s) return <span className="skeleton" />;
      const ctx = table.options.meta?.cellContext ?? { stale: new Map() };
      return spec.cell(s, ctx);
    },
  });
}

const COLUMNS = [SELECT_COLUMN, PERSON_COLUMN, ...SESSION_COLUMNS.map(columnDef)];

/** The direction a column shows for the current sort, or false when it is not the sort. */
export function columnSortState(spec: SessionColumn, sort: SessionSort): "asc" | "desc" | false {
  if (!spec.sort || spec.sort !== sort.sort) return false;
  const desc = spec.invert ? !sort.descending : sort.descending;
  return desc ? "desc" : "asc";
}

/** The sort after clicking a column's header: flip it, or start in the column's first direction. */
export function nextSort(spec: SessionColumn, sort: SessionSort): SessionSort | null {
  if (!spec.sort) return null;
  const shown = columnSortState(spec, sort);
  const wantDesc = shown === false ? (spec.descFirst ?? false) : shown === "asc";
  return { sort: spec.sort, descending: spec.invert ? !wantDesc : wantDesc };
}

const RESIZE_STEP = 16;

function sameSlots(a: readonly RowSlot[], b: readonly RowSlot[]): boolean {
  return (
    a.length === b.length &&
    a.every((x, i) => x.index === b[i]?.index && x.session === b[i]?.session)
  );
}

export type SessionTableProps = {
  base: BaseQuery;
  total: number;
  selection: Selection;
  allSelected: boolean;
  focusIndex: number;
  onFocusIndex: (index: number) => void;
  sort: SessionSort;
  onSort: (sort: SessionSort) => void;
  layout: TableLayout;
  onLayout: (layout: TableLayout) => void;
  /** Column ids with an active filter (their header shows it). */
  filtered: ReadonlySet<string>;
  /** Tenants whose rows are stale → why. */
  stale: ReadonlyMap<string, string>;
  /** Tenants whose sessions come from a sign-in log. */
  signInLog?: ReadonlySet<string>;
  onRowClick: (index: number, session: Session, mods: RowModifiers) => void;
  onToggleAll: () => void;
  /** Opens the person panel for a row's user (no person column without it). */
  onOpenPerson?: (s: Session) => void;
};

export function SessionTable(props: SessionTableProps) {
  const { base, total, selection, focusIndex, onFocusIndex, onRowClick, layout, onLayout } = props;
  const scrollRef = useRef<HTMLDivElement>(null);

  // Rows of pages seen before count too (a Shift+End range, the row above a page's first).
  const {
    virtualizer,
    items,
    lastKnownRowAt: getRow,
  } = useVirtualPages({
    total,
    scrollRef,
    headerHeight: HEADER_HEIGHT,
    estimateSize: () => ROW_HEIGHT,
    pageQuery: (p) => pageQueryOptions(base, p),
  });

  // The same slots as last render keep the same array, so the table's row model is not rebuilt.
  const fresh: RowSlot[] = items.map((v) => ({ index: v.index, session: getRow(v.index) }));
  const lastData = useRef<RowSlot[]>([]);
  const data = sameSlots(lastData.current, fresh) ? lastData.current : fresh;
  lastData.current = data;

  const isSelected = useCallback(
    (s: Session) => selection.has(sessionKey(s.tenant, s.id)),
    [selection],
  );
  const toggleRow = useCallback(
    (index: number, s: Session) => onRowClick(index, s, { toggle: true, range: false }),
    [onRowClick],
  );

  const columnOrder = useMemo(() => ["select", "person", ...layout.order], [layout.order]);
  const hasPerson = props.onOpenPerson !== undefined;
  const columnVisibility: VisibilityState = useMemo(
    () => ({
      ...Object.fromEntries(layout.hidden.map((id) => [id, false])),
      person: hasPerson,
    }),
    [layout.hidden, hasPerson],
  );
  const layoutRef = useRef(layout);
  layoutRef.current = layout;
  const onColumnSizingChange = useCallback(
    (updater: Updater<ColumnSizingState>) => {
      const current = layoutRef.current;
      const sizing = typeof updater === "function" ? updater(current.sizing) : updater;
      onLayout({ ...current, sizing });
    },
    [onLayout],
  );

  const table = useReactTable({
    data,
    columns: COLUMNS,
    getCoreRowModel: getCoreRowModel(),
    getRowId: (r) => String(r.index),
    columnResizeMode: "onChange",
    // No pagination or expansion here: their auto-resets would queue a state update after
    // every new row model, and that update re-renders into a new row model, forever.
    autoResetAll: false,
    state: { columnOrder, columnVisibility, columnSizing: layout.sizing },
    onColumnSizingChange,
    meta: {
      isSelected,
      toggleRow,
      cellContext: { stale: props.stale, signInLog: props.signInLog },
      openPerson: props.onOpenPerson,
    },
  });

  const { onKeyDown, onRowMouse } = useGridKeyboard({
    total,
    focusIndex,
    onFocusIndex,
    rowAt: getRow,
    onRowClick,
    scrollRef,
    rowHeight: ROW_HEIGHT,
    virtualizer,
  });

  const resizeBy = (id: string, delta: number) => {
    const column = table.getColumn(id);
    if (!column) return;
    const width = Math.min(MAX_COLUMN_WIDTH, Math.max(MIN_COLUMN_WIDTH, column.getSize() + delta));
    onLayout({ ...layoutRef.current, sizing: { ...layoutRef.current.sizing, [id]: width } });
  };

  const focusedRendered = items.some((v) => v.index === focusIndex);
  const rows = table.getRowModel().rows;
  const headerGroup = table.getHeaderGroups()[0];
  const rowWidth = table.getTotalSize();
  const groupByTenant = props.sort.sort === "tenant";

  return (
    <div
      ref={scrollRef}
      className="grid-scroll"
      role="grid"
      aria-label="Active sessions"
      aria-rowcount={total + 1}
      aria-colcount={headerGroup?.headers.length}
      aria-multiselectable="true"
      aria-activedescendant={focusedRendered ? `session-row-${focusIndex}` : undefined}
      tabIndex={0}
      onKeyDown={onKeyDown}
    >
      <div
        className="grid-row grid-header"
        role="row"
        aria-rowindex={1}
        style={{ width: rowWidth }}
      >
        {headerGroup?.headers.map((h) => {
          const width = h.getSize();
          if (h.column.id === "select") {
            return (
              <div key={h.id} className="cell cell-select" role="columnheader" style={{ width }}>
                <input
                  type="checkbox"
                  aria-label="Select all filtered sessions"
                  data-testid="select-all-checkbox"
                  checked={props.allSelected}
                  ref={(el) => {
                    if (el) el.indeterminate = selection.size > 0 && !props.allSelected;
                  }}
                  onChange={props.onToggleAll}
                />
              </div>
            );
          }
          if (h.column.id === "person") {
            return (
              <div key={h.id} className="cell cell-person" role="columnheader" style={{ width }}>
                <span className="sr-only">Person</span>
              </div>
            );
          }
          const spec = columnById(h.column.id);
          if (!spec) return null;
          const sorted = columnSortState(spec, props.sort);
          const next = nextSort(spec, props.sort);
          const isFiltered = props.filtered.has(spec.id);
          return (
            <div
              key={h.id}
              className={`cell cell-${spec.id}${isFiltered ? " filtered" : ""}`}
              role="columnheader"
              data-testid={`header-${spec.id}`}
              aria-sort={
                sorted === "asc" ? "ascending" : sorted === "desc" ? "descending" : undefined
              }
              style={{ width }}
            >
              {next ? (
                <button
                  type="button"
                  className="sort-button"
                  data-testid={`sort-${spec.id}`}
                  onClick={() => props.onSort(next)}
                  title={`Sort by ${spec.label}`}
                >
                  {spec.label}
                  <span className="sort-indicator" aria-hidden="true">
                    {sorted === "asc" ? "▲" : sorted === "desc" ? "▼" : ""}
                  </span>
                </button>
              ) : (
                <span className="header-label">{spec.label}</span>
              )}
              {isFiltered && (
                <span className="filter-mark" title="Filtered">
                  <FilterIcon size={10} />
                  <span className="sr-only">(filtered)</span>
                </span>
              )}
              <div
                role="separator"
                aria-orientation="vertical"
                aria-label={`Resize ${spec.label} column`}
                aria-valuenow={width}
                aria-valuemin={MIN_COLUMN_WIDTH}
                aria-valuemax={MAX_COLUMN_WIDTH}
                tabIndex={0}
                className={`resizer${h.column.getIsResizing() ? " resizing" : ""}`}
                data-testid={`resize-${spec.id}`}
                onMouseDown={h.getResizeHandler()}
                onTouchStart={h.getResizeHandler()}
                onDoubleClick={() => {
                  const { [spec.id]: _, ...rest } = layoutRef.current.sizing;
                  onLayout({ ...layoutRef.current, sizing: rest });
                }}
                onClick={(e) => e.stopPropagation()}
                onKeyDown={(e) => {
                  if (e.key === "ArrowLeft" || e.key === "ArrowRight") {
                    e.preventDefault();
                    resizeBy(spec.id, e.key === "ArrowLeft" ? -RESIZE_STEP : RESIZE_STEP);
                  }
                }}
              />
            </div>
          );
        })}
      </div>
      <div className="grid-body" style={{ height: virtualizer.getTotalSize(), width: rowWidth }}>
        {rows.map((row, i) => {
          const v = items[i];
          if (!v) return null;
          const s = row.original.session;
          const selected = s ? isSelected(s) : false;
          const prev = v.index > 0 ? getRow(v.index - 1) : undefined;
          const groupStart =
            groupByTenant &&
            s !== undefined &&
            (v.index === 0 || (prev && prev.tenant !== s.tenant));
          const stale = s ? props.stale.has(s.tenant) : false;
          const cls = [
            "grid-row",
            selected ? "selected" : "",
            v.index === focusIndex ? "focused" : "",
            s ? "" : "loading",
            s?.superuser ? "super" : "",
            stale ? "stale" : "",
            groupStart ? "group-start" : "",
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
              data-stale={stale ? "true" : undefined}
              data-group-start={groupStart ? s?.tenant : undefined}
              style={{
                height: ROW_HEIGHT,
                width: rowWidth,
                transform: `translateY(${v.start - HEADER_HEIGHT}px)`,
              }}
              onClick={(e) => onRowMouse(e, v.index, s)}
            >
              {row.getVisibleCells().map((cell) => (
                <div
                  key={cell.id}
                  className={`cell cell-${cell.column.id}`}
                  role="gridcell"
                  style={{ width: cell.column.getSize() }}
                >
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
