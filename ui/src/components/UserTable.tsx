import { keepPreviousData, useQueries, useQuery } from "@tanstack/react-query";
import { useVirtualizer } from "@tanstack/react-virtual";
import {
  type KeyboardEvent,
  type MouseEvent,
  type ReactNode,
  useCallback,
  useEffect,
  useRef,
} from "react";
import { PersonIcon } from "../features/people/PersonIcon";
import {
  type BaseQuery,
  type BaseUserQuery,
  PAGE_SIZE,
  USER_SESSIONS_LIMIT,
  userPageQueryOptions,
  userSessionsQueryOptions,
} from "../hooks/queries";
import type { Session } from "../ipc/bindings/Session";
import type { UserPage } from "../ipc/bindings/UserPage";
import type { UserRow } from "../ipc/bindings/UserRow";
import type { UserSortColumn } from "../ipc/bindings/UserSortColumn";
import { errorMessage } from "../ipc/ipc";
import type { UserSort } from "../lib/consoleState";
import { DASH, formatCount, formatDateTime, visible } from "../lib/format";
import type { SelectedUser } from "../lib/userActions";
import { userKey } from "../lib/userActions";
import type { RowModifiers } from "./SessionTable";
import { SESSION_COLUMNS, UserBadges } from "./sessionColumns";

export const USER_ROW_HEIGHT = 32;
const HEADER_HEIGHT = 34;
const SUB_HEADER_HEIGHT = 28;
const SUB_ROW_HEIGHT = 28;
/** Sub-rows shown before the expanded panel scrolls. */
const SUB_ROWS_SHOWN = 8;

/** The height of a user row, expanded (its sessions below it) or not. */
export function userRowHeight(row: UserRow | undefined, expanded: boolean): number {
  if (!row || !expanded) return USER_ROW_HEIGHT;
  const n = Math.max(1, Math.min(row.sessions, SUB_ROWS_SHOWN, USER_SESSIONS_LIMIT));
  return USER_ROW_HEIGHT + SUB_HEADER_HEIGHT + n * SUB_ROW_HEIGHT + 10;
}

type UserColumn = {
  id: string;
  label: string;
  sort?: UserSortColumn;
  descFirst?: boolean;
  width: number;
  /** The header's name for screen readers when it shows no label. */
  srLabel?: string;
  cell: (u: UserRow, ctx: RowCtx) => ReactNode;
};

type RowCtx = {
  expanded: boolean;
  onToggleExpand: () => void;
  onForceLogout: (skipConfirm: boolean) => void;
  onOpenPerson: (() => void) | undefined;
  stale: string | undefined;
};

function text(v: string | null): ReactNode {
  return v?.trim() ? <span title={visible(v)}>{visible(v)}</span> : DASH;
}

function time(iso: string | null): ReactNode {
  return iso ? <time dateTime={iso}>{formatDateTime(iso)}</time> : DASH;
}

/** Opens the person panel for a user row (also used by the grouped view). */
export function PersonButton({ user, onOpen }: { user: UserRow; onOpen: () => void }) {
  return (
    <button
      type="button"
      className="icon-button person-button"
      data-testid="open-person"
      tabIndex={-1}
      aria-label={`Person: every account of ${user.username} (tenant ${user.tenant})`}
      title="Person: this user's accounts and sessions in every tenant"
      onClick={(e) => {
        e.stopPropagation();
        onOpen();
      }}
    >
      <PersonIcon />
    </button>
  );
}

const USER_COLUMNS: readonly UserColumn[] = [
  {
    id: "expand",
    label: "",
    width: 30,
    cell: (u, ctx) => (
      <button
        type="button"
        className="icon-button expand-button"
        data-testid="expand-user"
        aria-expanded={ctx.expanded}
        aria-label={`${ctx.expanded ? "Hide" : "Show"} sessions of ${u.username} (tenant ${u.tenant})`}
        tabIndex={-1}
        onClick={(e) => {
          e.stopPropagation();
          ctx.onToggleExpand();
        }}
      >
        {ctx.expanded ? "▾" : "▸"}
      </button>
    ),
  },
  {
    id: "person",
    label: "",
    srLabel: "Person",
    width: 30,
    cell: (u, ctx) =>
      ctx.onOpenPerson ? <PersonButton user={u} onOpen={ctx.onOpenPerson} /> : null,
  },
  {
    id: "tenant",
    label: "Tenant",
    sort: "tenant",
    width: 110,
    cell: (u, ctx) => (
      <span className="tenant-cell">
        <span title={u.tenant}>{u.tenant}</span>
        {ctx.stale !== undefined && (
          <span
            className="badge badge-stale"
            data-testid="stale-marker"
            title={`Stale: the last poll of ${u.tenant} failed (${ctx.stale})`}
          >
            stale
          </span>
        )}
      </span>
    ),
  },
  {
    id: "username",
    label: "User",
    sort: "username",
    width: 200,
    cell: (u) => (
      <span className="user-cell">
        <span className="username" title={visible(u.username)}>
          {visible(u.username)}
        </span>
        <UserBadges
          superuser={u.superuser}
          protected={u.protected}
          disabled={u.disabled}
          current={u.current}
        />
      </span>
    ),
  },
  {
    id: "name",
    label: "Name",
    sort: "display_name",
    width: 160,
    cell: (u) => text(u.display_name),
  },
  {
    id: "department",
    label: "Department",
    sort: "department",
    width: 110,
    cell: (u) => text(u.department),
  },
  {
    id: "organisation",
    label: "Organisation",
    sort: "organisation",
    width: 110,
    cell: (u) => text(u.organisation),
  },
  {
    id: "sessions",
    label: "Active sessions",
    sort: "sessions",
    descFirst: true,
    width: 120,
    cell: (u, ctx) => (
      <button
        type="button"
        className="link-button count-link"
        data-testid="user-sessions-count"
        aria-expanded={ctx.expanded}
        title={`${ctx.expanded ? "Hide" : "Show"} the sessions of ${u.username}`}
        tabIndex={-1}
        onClick={(e) => {
          e.stopPropagation();
          ctx.onToggleExpand();
        }}
      >
        {formatCount(u.sessions)}
      </button>
    ),
  },
  {
    id: "ips",
    label: "IPs",
    sort: "ips",
    descFirst: true,
    width: 60,
    cell: (u) => (
      <span className={u.ips > 1 ? "warn" : undefined} title="Distinct IP addresses">
        {formatCount(u.ips)}
      </span>
    ),
  },
  {
    id: "last_login",
    label: "Last login",
    sort: "last_login",
    descFirst: true,
    width: 164,
    cell: (u) => time(u.last_login),
  },
  { id: "last_ip", label: "Last IP", sort: "last_ip", width: 120, cell: (u) => text(u.last_ip) },
  {
    id: "last_activity",
    label: "Last activity",
    sort: "last_activity",
    descFirst: true,
    width: 164,
    cell: (u) => time(u.last_activity_at),
  },
  {
    id: "action",
    label: "Action",
    width: 110,
    cell: (u, ctx) => (
      <button
        type="button"
        className="button danger small"
        data-testid="user-force-logout"
        tabIndex={-1}
        title={`End every session of ${u.username}. Ctrl/Cmd+click skips the confirmation.`}
        onClick={(e) => {
          e.stopPropagation();
          ctx.onForceLogout(e.ctrlKey || e.metaKey);
        }}
      >
        Force logout
      </button>
    ),
  },
];

const ROW_WIDTH = 34 + USER_COLUMNS.reduce((n, c) => n + c.width, 0);

export function toSelectedUser(u: UserRow): SelectedUser {
  return {
    tenant: u.tenant,
    user_id: u.user_id,
    username: u.username,
    protected: u.protected,
    sessions: u.sessions,
  };
}

const SUB_COLUMNS = ["ip", "user_agent", "session_type", "login_type", "created_at"] as const;
const SUB_EXTRA = ["last_activity_at", "time_left", "server_name", "current"] as const;

/** The expanded part of a user row: that user's sessions (same filter and sort). */
function UserSessions(props: {
  user: UserRow;
  base: BaseQuery;
  stale: ReadonlyMap<string, string>;
  onEndSession: (s: Session, skipConfirm: boolean) => void;
}) {
  const { user } = props;
  const q = useQuery({
    ...userSessionsQueryOptions(user.tenant, user.user_id, props.base),
    placeholderData: keepPreviousData,
  });
  const cols = [...SUB_COLUMNS, ...SUB_EXTRA]
    .map((id) => SESSION_COLUMNS.find((c) => c.id === id))
    .filter((c) => c !== undefined);
  const ctx = { stale: props.stale };
  return (
    <div className="user-sessions" data-testid="user-sessions">
      {q.isPending ? (
        <span className="muted">Loading sessions…</span>
      ) : q.isError ? (
        <span className="inline-error" role="alert">
          Could not load the sessions: {errorMessage(q.error)}
        </span>
      ) : (
        <table aria-label={`Sessions of ${user.username} (tenant ${user.tenant})`}>
          <thead>
            <tr>
              {cols.map((c) => (
                <th key={c.id} scope="col" className="sub-cell">
                  {c.label}
                </th>
              ))}
              <th scope="col" className="sub-cell">
                <span className="sr-only">Action</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {q.data.rows.map((s) => (
              <tr key={s.id} data-testid="user-session-row" data-session-id={s.id}>
                {cols.map((c) => (
                  <td key={c.id} className={`sub-cell cell-${c.id}`}>
                    {c.cell(s, ctx)}
                  </td>
                ))}
                <td className="sub-cell">
                  <button
                    type="button"
                    className="button danger small"
                    data-testid="user-session-end"
                    title="End this session. Ctrl/Cmd+click skips the confirmation."
                    onClick={(e) => props.onEndSession(s, e.ctrlKey || e.metaKey)}
                  >
                    End
                  </button>
                </td>
              </tr>
            ))}
            {q.data.total > q.data.rows.length && (
              <tr>
                <td colSpan={cols.length + 1} className="muted">
                  Showing {formatCount(q.data.rows.length)} of {formatCount(q.data.total)}: the
                  Sessions view filtered to this user shows all.
                </td>
              </tr>
            )}
            {q.data.rows.length === 0 && (
              <tr>
                <td colSpan={cols.length + 1} className="muted">
                  No sessions left.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      )}
    </div>
  );
}

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

  const virtualizer = useVirtualizer({
    count: total,
    getScrollElement: () => scrollRef.current,
    estimateSize: (i) => heightOf.current(i),
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

  const fallback = useRef(new Map<number, UserPage>());
  const pageNums: number[] = [];
  for (let p = firstPage; p <= lastPage; p++) pageNums.push(p);
  const pages = useQueries({
    queries: pageNums.map((p) => ({
      ...userPageQueryOptions(base, p),
      placeholderData: (prev: UserPage | undefined) =>
        keepPreviousData(prev) ?? fallback.current.get(p),
    })),
  });
  pages.forEach((q, i) => {
    const p = pageNums[i];
    if (p !== undefined && q.data && !q.isPlaceholderData) fallback.current.set(p, q.data);
  });

  const getRow = useCallback(
    (index: number): UserRow | undefined => {
      const page = pages[Math.floor(index / PAGE_SIZE) - firstPage]?.data;
      return page ? page.rows[index - page.offset] : undefined;
    },
    [pages, firstPage],
  );
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

  useEffect(() => {
    if (focusIndex >= 0 && focusIndex < total) virtualizer.scrollToIndex(focusIndex);
  }, [focusIndex, total, virtualizer]);

  const moveFocus = (next: number, extend: boolean) => {
    if (total === 0) return;
    const i = Math.max(0, Math.min(total - 1, next));
    onFocusIndex(i);
    if (extend) {
      const row = getRow(i);
      if (row) onRowClick(i, row, { toggle: false, range: true });
    }
  };

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.target !== e.currentTarget) return;
    const pageRows = Math.max(
      1,
      Math.floor((scrollRef.current?.clientHeight ?? 600) / USER_ROW_HEIGHT) - 2,
    );
    const cur = focusIndex < 0 ? -1 : focusIndex;
    const row = cur >= 0 ? getRow(cur) : undefined;
    const isOpen = row ? expanded.has(userKey(row.tenant, row.user_id)) : false;
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
      case "ArrowRight":
        if (row && !isOpen) props.onToggleExpand(row);
        break;
      case "ArrowLeft":
        if (row && isOpen) props.onToggleExpand(row);
        break;
      case " ":
      case "Enter":
        if (row) onRowClick(cur, row, { toggle: e.key === " ", range: false });
        break;
      default:
        return;
    }
    e.preventDefault();
  };

  const onRowMouse = (e: MouseEvent, index: number, row: UserRow | undefined) => {
    if (!row) return;
    if (e.shiftKey) e.preventDefault();
    onFocusIndex(index);
    onRowClick(index, row, { toggle: e.ctrlKey || e.metaKey, range: e.shiftKey });
  };

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
