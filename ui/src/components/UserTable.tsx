import { useEffect, useRef } from "react";
import type { BaseQuery, BaseUserQuery } from "../hooks/queries";
import { userPageQueryOptions } from "../hooks/queries";
import { type RowModifiers, useGridKeyboard } from "../hooks/useGridKeyboard";
import { useVirtualPages } from "../hooks/useVirtualPages";
import type { Session } from "../ipc/bindings/Session";
import type { UserRow } from "../ipc/bindings/UserRow";
import type { UserSortColumn } from "../ipc/bindings/UserSortColumn";
import type { UserSort } from "../lib/consoleState";
import { type SelectedUser, userKey } from "../lib/userActions";
import { UserSessions } from "./UserSessions";
import {
  ROW_WIDTH,
  type RowCtx,
  USER_COLUMNS,
  USER_ROW_HEIGHT,
  userRowHeight,
} from "./userColumns";

const HEADER_HEIGHT = 34;

export type UserTableProps = {
  base: BaseUserQuery;
  /** The same filter with the Sessions view's sort, for the expanded rows. */
  sessionBase: BaseQuery;
  total: number;
  selection: ReadonlyMap<string, SelectedUser>;
  allSelected: boolean;
  onToggleAll: () => void;
  focusIndex: number;
  onFocusIndex: (index: number) => void;
  sort: UserSort;
  onSort: (sort: UserSort) => void;
  expanded: ReadonlySet<string>;
  onToggleExpand: (row: UserRow) => void;
  stale: ReadonlyMap<string, string>;
  onRowClick: (index: number, row: UserRow, mods: RowModifiers) => void;
  onForceLogout: (row: UserRow, skipConfirm: boolean) => void;
  onEndSession: (s: Session, skipConfirm: boolean) => void;
  /** Opens the person panel for a row's user. */
  onOpenPerson?: (row: UserRow) => void;
};

/** One row per (tenant, user); a row expands inline to the user's sessions. */
export function UserTable(props: UserTableProps) {
  const { base, total, selection, focusIndex, onFocusIndex, onRowClick, expanded } = props;
  const scrollRef = useRef<HTMLDivElement>(null);
  const heightOf = useRef<(index: number) => number>(() => USER_ROW_HEIGHT);

  const {
    virtualizer,
    items,
    rowAt: getRow,
  } = useVirtualPages({
    total,
    scrollRef,
    headerHeight: HEADER_HEIGHT,
    estimateSize: (i) => heightOf.current(i),
    pageQuery: (p) => userPageQueryOptions(base, p),
  });
  heightOf.current = (i) => {
    const row = getRow(i);
    return userRowHeight(row, row !== undefined && expanded.has(userKey(row.tenant, row.user_id)));
  };

  // Row heights change when a row expands or its data arrives: measure again.
  const shape = items
    .map((v) => {
      const row = getRow(v.index);
      return row && expanded.has(userKey(row.tenant, row.user_id))
        ? `${v.index}:${row.sessions}`
        : "";
    })
    .filter(Boolean)
    .join(",");
  const measured = useRef("");
  useEffect(() => {
    if (measured.current === shape) return;
    measured.current = shape;
    virtualizer.measure();
  }, [shape, virtualizer]);

  const { onKeyDown, onRowMouse } = useGridKeyboard({
    total,
    focusIndex,
    onFocusIndex,
    rowAt: getRow,
    onRowClick,
    scrollRef,
    rowHeight: USER_ROW_HEIGHT,
    virtualizer,
    // → shows the focused user's sessions, ← hides them.
    onOtherKey: (key, row) => {
      const isOpen = row ? expanded.has(userKey(row.tenant, row.user_id)) : false;
      if (key === "ArrowRight") {
        if (row && !isOpen) props.onToggleExpand(row);
      } else if (key === "ArrowLeft") {
        if (row && isOpen) props.onToggleExpand(row);
      } else return false;
      return true;
    },
  });

  const focusedRendered = items.some((v) => v.index === focusIndex);
  return (
    <div
      ref={scrollRef}
      className="grid-scroll"
      role="grid"
      aria-label="Active users"
      aria-rowcount={total + 1}
      aria-multiselectable="true"
      aria-activedescendant={focusedRendered ? `user-row-${focusIndex}` : undefined}
      tabIndex={0}
      onKeyDown={onKeyDown}
    >
      <div
        className="grid-row grid-header"
        role="row"
        aria-rowindex={1}
        style={{ width: ROW_WIDTH }}
      >
        <div className="cell cell-select" role="columnheader" style={{ width: 34 }}>
          <input
            type="checkbox"
            aria-label="Select all filtered users"
            data-testid="select-all-checkbox"
            checked={props.allSelected}
            ref={(el) => {
              if (el) el.indeterminate = selection.size > 0 && !props.allSelected;
            }}
            onChange={props.onToggleAll}
          />
        </div>
        {USER_COLUMNS.map((c) => {
          const sorted = c.sort && c.sort === props.sort.sort ? props.sort.descending : null;
          return (
            <div
              key={c.id}
              className={`cell cell-${c.id}`}
              role="columnheader"
              data-testid={`user-header-${c.id}`}
              aria-sort={sorted === null ? undefined : sorted ? "descending" : "ascending"}
              style={{ width: c.width }}
            >
              {c.sort ? (
                <button
                  type="button"
                  className="sort-button"
                  data-testid={`user-sort-${c.id}`}
                  title={`Sort by ${c.label}`}
                  onClick={() => {
                    const sort = c.sort as UserSortColumn;
                    props.onSort({
                      sort,
                      descending: sorted === null ? (c.descFirst ?? false) : !sorted,
                    });
                  }}
                >
                  {c.label}
                  <span className="sort-indicator" aria-hidden="true">
                    {sorted === null ? "" : sorted ? "▼" : "▲"}
                  </span>
                </button>
              ) : c.label ? (
                <span className="header-label">{c.label}</span>
              ) : (
                <span className="sr-only">{c.srLabel ?? "Expand"}</span>
              )}
            </div>
          );
        })}
      </div>
      <div className="grid-body" style={{ height: virtualizer.getTotalSize(), width: ROW_WIDTH }}>
        {items.map((v) => {
          const row = getRow(v.index);
          const key = row ? userKey(row.tenant, row.user_id) : "";
          const isOpen = row ? expanded.has(key) : false;
          const selected = row ? selection.has(key) : false;
          const staleWhy = row ? props.stale.get(row.tenant) : undefined;
          const cls = [
            "grid-row",
            selected ? "selected" : "",
            v.index === focusIndex ? "focused" : "",
            row ? "" : "loading",
            row?.superuser ? "super" : "",
            staleWhy !== undefined ? "stale" : "",
          ]
            .filter(Boolean)
            .join(" ");
          const ctx: RowCtx | undefined = row && {
            expanded: isOpen,
            onToggleExpand: () => props.onToggleExpand(row),
            onForceLogout: (skip) => props.onForceLogout(row, skip),
            onOpenPerson: props.onOpenPerson && (() => props.onOpenPerson?.(row)),
            stale: staleWhy,
          };
          return (
            <div
              key={v.key}
              className="user-slot"
              style={{ height: v.size, transform: `translateY(${v.start - HEADER_HEIGHT}px)` }}
            >
              <div
                id={`user-row-${v.index}`}
                className={cls}
                role="row"
                aria-rowindex={v.index + 2}
                aria-selected={row ? selected : undefined}
                aria-expanded={row ? isOpen : undefined}
                data-testid={row ? "user-row" : "user-row-loading"}
                data-tenant={row?.tenant}
                data-user-id={row?.user_id}
                data-username={row?.username}
                style={{ height: USER_ROW_HEIGHT, width: ROW_WIDTH }}
                onClick={(e) => onRowMouse(e, v.index, row)}
              >
                <div className="cell cell-select" role="gridcell" style={{ width: 34 }}>
                  {row && (
                    <input
                      type="checkbox"
                      tabIndex={-1}
                      aria-label={`Select user ${row.username} (tenant ${row.tenant})`}
                      checked={selected}
                      onClick={(e) => e.stopPropagation()}
                      onChange={() => onRowClick(v.index, row, { toggle: true, range: false })}
                    />
                  )}
                </div>
                {USER_COLUMNS.map((c) => (
                  <div
                    key={c.id}
                    className={`cell cell-${c.id}`}
                    role="gridcell"
                    style={{ width: c.width }}
                  >
                    {row && ctx ? c.cell(row, ctx) : <span className="skeleton" />}
                  </div>
                ))}
              </div>
              {row && isOpen && (
                <div className="user-detail" role="row">
                  <div role="gridcell" aria-colspan={USER_COLUMNS.length + 1}>
                    <UserSessions
                      user={row}
                      base={props.sessionBase}
                      stale={props.stale}
                      onEndSession={props.onEndSession}
                    />
                  </div>
                </div>
              )}
            </div>
          );
        })}
      </div>
    </div>
  );
}
