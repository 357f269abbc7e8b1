// The session console's constants and pure helpers (no React).
import type { Notice } from "../../components/ActionResult";
import { SESSION_COLUMNS } from "../../components/sessionColumns";
import type { BaseQuery } from "../../hooks/queries";
import type { ActionReport } from "../../ipc/bindings/ActionReport";
import type { Counts } from "../../ipc/bindings/Counts";
import limits from "../../ipc/bindings/limits.json";
import type { SessionFilter } from "../../ipc/bindings/SessionFilter";
import type { WindowLimits } from "../../ipc/bindings/WindowLimits";
import {
  type ConsoleFilter,
  FLAG_KEYS,
  type Mode,
  type SessionSort,
  TEXT_KEYS,
  TIME_KEYS,
  type UserSort,
} from "../../lib/consoleState";
import { formatCount, plural } from "../../lib/format";
import type { Selection } from "../../lib/selection";

/** Most rows one select-all / range selection picks (the most one action takes). */
export const SELECT_CAP = (limits as WindowLimits).max_targets;
/** The largest window the back end serves in one call. */
export const MAX_WINDOW = (limits as WindowLimits).max_window;

export const DEFAULT_SORT: SessionSort = { sort: "last_activity_at", descending: true };
export const DEFAULT_USER_SORT: UserSort = { sort: "last_login", descending: true };

export const NO_COUNTS: Counts = { active_users: 0, active_sessions: 0, superusers_online: 0 };

/** What to do about a failed load, by its error code. */
export function hintFor(code: string | undefined): string {
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

/** The banner part that follows an action's items through the audit log. */
export function lifecycleOf(report: ActionReport): Pick<Notice, "action"> {
  if (!report.action_id) return {};
  const accepted = report.items.filter((i) => i.ok && !i.already_gone).length;
  return { action: { id: report.action_id, accepted } };
}

/** Column filters besides the search, the tenant and the SuperUser switch (shown in the header). */
export function panelFilterCount(f: ConsoleFilter): number {
  let n = 0;
  for (const key of TEXT_KEYS) if (f[key].trim() !== "") n += 1;
  for (const key of TIME_KEYS) if (f[key].trim() !== "") n += 1;
  for (const key of FLAG_KEYS) if (f[key] !== "") n += 1;
  if (f.session_types.length > 0) n += 1;
  if (f.login_types.length > 0) n += 1;
  return n;
}

export function hasAnyFilter(f: SessionFilter): boolean {
  return Object.keys(f).length > 0;
}

/** Columns whose header shows a filter mark. */
export function filteredColumns(f: ConsoleFilter): Set<string> {
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
export function filterOf(base: BaseQuery): SessionFilter {
  const { sort: _sort, descending: _descending, ...filter } = base;
  return filter;
}

/** Sessions about to be ended, waiting for the confirmation. */
export type PendingEnd = {
  sel: Selection;
  /** Why some of the selection is left out (tenants that cannot end one session). */
  left?: string | undefined;
};

/** What to say about sessions of tenants whose API cannot end a single session. */
export function leftOutNote(count: number, tenants: readonly string[]): string {
  const names = tenants.join(", ");
  return `${plural(count, "session")} of ${names} left out: ${
    tenants.length === 1 ? "its" : "their"
  } API cannot end a single session. Use Force logout to end all of a user's sessions there.`;
}

/** The row count in the toolbar: "12 of 2,013 sessions", "3 users · 5 sessions", … */
export function rowCountText(p: {
  mode: Mode;
  pending: boolean;
  /** The load failed and nothing is shown. */
  failed: boolean;
  total: number;
  userTotal: number;
  /** Sessions of the users listed (the Users view). */
  userSessions: number;
  filtersActive: boolean;
  /** The scope's counts (the cards'), when known. */
  counts: Counts | undefined;
}): string {
  const noun = p.mode === "sessions" ? "session" : "user";
  if (p.pending) return "Loading…";
  if (p.failed) return `– ${noun}s`;
  const sessionsInScope = p.counts?.active_sessions;
  const usersInScope = p.counts?.active_users;
  if (p.mode === "sessions") {
    return p.filtersActive && sessionsInScope !== undefined
      ? `${formatCount(p.total)} of ${plural(sessionsInScope, "session")}`
      : plural(p.total, "session");
  }
  const users =
    p.filtersActive && usersInScope !== undefined
      ? `${formatCount(p.userTotal)} of ${plural(usersInScope, "user")}`
      : plural(p.userTotal, "user");
  return `${users} · ${plural(p.userSessions, "session")}`;
}
