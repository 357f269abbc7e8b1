import type { ReactNode } from "react";
import { PersonButton } from "../features/people/PersonButton";
import { USER_SESSIONS_LIMIT } from "../hooks/queries";
import type { UserRow } from "../ipc/bindings/UserRow";
import type { UserSortColumn } from "../ipc/bindings/UserSortColumn";
import { DASH, formatCount, formatDateTime, visible } from "../lib/format";
import { UserBadges } from "./sessionColumns";

export const USER_ROW_HEIGHT = 32;
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

export type UserColumn = {
  id: string;
  label: string;
  sort?: UserSortColumn;
  descFirst?: boolean;
  width: number;
  /** The header's name for screen readers when it shows no label. */
  srLabel?: string;
  cell: (u: UserRow, ctx: RowCtx) => ReactNode;
};

/** What a user row's cells need besides the row. */
export type RowCtx = {
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

/** The Users view's columns (after the checkbox). */
export const USER_COLUMNS: readonly UserColumn[] = [
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

/** A user row's width: the checkbox and every column. */
export const ROW_WIDTH = 34 + USER_COLUMNS.reduce((n, c) => n + c.width, 0);
