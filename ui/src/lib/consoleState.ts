import limits from "../ipc/bindings/limits.json";
import type { SessionFilter } from "../ipc/bindings/SessionFilter";
import type { SortColumn } from "../ipc/bindings/SortColumn";
import type { UserSortColumn } from "../ipc/bindings/UserSortColumn";
import type { WindowLimits } from "../ipc/bindings/WindowLimits";

/** The session console shows one row per session, or one row per user. */
export type Mode = "sessions" | "users";

/** A yes/no filter that can also be off. */
export type Flag = "" | "yes" | "no";

export const TEXT_KEYS = [
  "username",
  "user",
  "name",
  "department",
  "organisation",
  "ip",
  "user_agent",
  "server_name",
  "session_id",
  "user_id",
] as const;
export type TextKey = (typeof TEXT_KEYS)[number];

export const TIME_KEYS = [
  "created_from",
  "created_to",
  "last_activity_from",
  "last_activity_to",
  "expires_from",
  "expires_to",
] as const;
export type TimeKey = (typeof TIME_KEYS)[number];

export const FLAG_KEYS = ["protected", "disabled", "current"] as const;
export type FlagKey = (typeof FLAG_KEYS)[number];

export const LIST_KEYS = ["tenants", "session_types", "login_types"] as const;
export type ListKey = (typeof LIST_KEYS)[number];

/**
 * What the filter controls hold, as typed: texts untrimmed, times as the local
 * `YYYY-MM-DDTHH:MM[:SS]` of a datetime-local input.
 */
export type ConsoleFilter = { search: string; superuser_only: boolean } & Record<
  TextKey | TimeKey,
  string
> &
  Record<FlagKey, Flag> &
  Record<ListKey, string[]>;

export type SessionSort = { sort: SortColumn; descending: boolean };
export type UserSort = { sort: UserSortColumn; descending: boolean };

export type ConsoleState = {
  mode: Mode;
  filter: ConsoleFilter;
  /** null: the saved layout's sort. */
  sort: SessionSort | null;
  userSort: UserSort | null;
};

export const EMPTY_FILTER: ConsoleFilter = {
  search: "",
  superuser_only: false,
  username: "",
  user: "",
  name: "",
  department: "",
  organisation: "",
  ip: "",
  user_agent: "",
  server_name: "",
  session_id: "",
  user_id: "",
  created_from: "",
  created_to: "",
  last_activity_from: "",
  last_activity_to: "",
  expires_from: "",
  expires_to: "",
  protected: "",
  disabled: "",
  current: "",
  tenants: [],
  session_types: [],
  login_types: [],
};

export const EMPTY_STATE: ConsoleState = {
  mode: "sessions",
  filter: EMPTY_FILTER,
  sort: null,
  userSort: null,
};

/** The back end rejects longer filter texts. */
export const MAX_FILTER_TEXT = (limits as WindowLimits).max_filter_text;

export const SORT_COLUMNS: readonly SortColumn[] = [
  "tenant",
  "username",
  "display_name",
  "department",
  "organisation",
  "ip",
  "user_agent",
  "session_type",
  "login_type",
  "server_name",
  "created_at",
  "last_activity_at",
  "expires_at",
  "idle_timeout",
  "superuser",
  "id",
];

export const USER_SORT_COLUMNS: readonly UserSortColumn[] = [
  "tenant",
  "username",
  "display_name",
  "department",
  "organisation",
  "sessions",
  "ips",
  "last_login",
  "last_activity",
  "last_ip",
  "superuser",
];

// Short, stable names in the URL hash.
const TEXT_PARAM: Record<TextKey, string> = {
  username: "username",
  user: "user",
  name: "name",
  department: "dept",
  organisation: "org",
  ip: "ip",
  user_agent: "ua",
  server_name: "server",
  session_id: "sid",
  user_id: "uid",
};
const LIST_PARAM: Record<ListKey, string> = {
  tenants: "tenant",
  session_types: "type",
  login_types: "login",
};

/** Local datetime-local text → RFC 3339 UTC ("2025-01-01T08:00:00Z"); null when not a time. */
export function toUtc(local: string): string | null {
  const text = local.trim();
  if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?)?$/.test(text)) return null;
  const t = new Date(text.includes("T") ? text : `${text}T00:00`).getTime();
  if (Number.isNaN(t)) return null;
  return new Date(t).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** Problems the UI can see before asking the back end, by filter field. */
export function filterErrors(
  f: ConsoleFilter,
): Partial<Record<TextKey | TimeKey | "search", string>> {
  const errors: Partial<Record<TextKey | TimeKey | "search", string>> = {};
  for (const key of ["search", ...TEXT_KEYS] as const) {
    if (f[key].trim().length > MAX_FILTER_TEXT)
      errors[key] = `At most ${MAX_FILTER_TEXT} characters.`;
  }
  for (const key of TIME_KEYS) {
    if (f[key].trim() !== "" && toUtc(f[key]) === null) errors[key] = "Not a valid date and time.";
  }
  return errors;
}

/**
 * The filter to send: only what narrows, texts trimmed. Fields the UI already knows to be
 * invalid are left out (their error is shown next to them).
 */
export function toSessionFilter(f: ConsoleFilter): SessionFilter {
  const out: SessionFilter = {};
  const errors = filterErrors(f);
  const search = f.search.trim();
  if (search !== "" && !errors.search) out.search = search;
  if (f.superuser_only) out.superuser_only = true;
  for (const key of TEXT_KEYS) {
    const v = f[key].trim();
    if (v !== "" && !errors[key]) out[key] = v;
  }
  for (const key of LIST_KEYS) {
    if (f[key].length > 0) out[key] = [...f[key]];
  }
  for (const key of FLAG_KEYS) {
    if (f[key] !== "") out[key] = f[key] === "yes";
  }
  for (const key of TIME_KEYS) {
    const v = toUtc(f[key]);
    if (v !== null) out[key] = v;
  }
  return out;
}

/** How many filters narrow the list (the global search included). */
export function activeFilterCount(f: ConsoleFilter): number {
  let n = 0;
  if (f.search.trim() !== "") n += 1;
  if (f.superuser_only) n += 1;
  for (const key of TEXT_KEYS) if (f[key].trim() !== "") n += 1;
  for (const key of LIST_KEYS) if (f[key].length > 0) n += 1;
  for (const key of FLAG_KEYS) if (f[key] !== "") n += 1;
  for (const key of TIME_KEYS) if (f[key].trim() !== "") n += 1;
  return n;
}

function isFlag(v: string | null): v is Flag {
  return v === "yes" || v === "no";
}

/** The console state from the query part of the hash (`q=alice&tenant=demo&sort=ip`). */
export function parseConsole(params: string): ConsoleState {
  const p = new URLSearchParams(params);
  const filter: ConsoleFilter = { ...EMPTY_FILTER };
  filter.search = p.get("q") ?? "";
  filter.superuser_only = p.get("su") === "1";
  for (const key of TEXT_KEYS) filter[key] = p.get(TEXT_PARAM[key]) ?? "";
  for (const key of TIME_KEYS) filter[key] = p.get(key) ?? "";
  for (const key of LIST_KEYS) filter[key] = p.getAll(LIST_PARAM[key]).filter((v) => v !== "");
  for (const key of FLAG_KEYS) {
    const v = p.get(key);
    filter[key] = isFlag(v) ? v : "";
  }
  const sortName = p.get("sort");
  const sort = SORT_COLUMNS.find((c) => c === sortName);
  const userSortName = p.get("usort");
  const userSort = USER_SORT_COLUMNS.find((c) => c === userSortName);
  return {
    mode: p.get("mode") === "users" ? "users" : "sessions",
    filter,
    sort: sort ? { sort, descending: p.get("desc") === "1" } : null,
    userSort: userSort ? { sort: userSort, descending: p.get("udesc") === "1" } : null,
  };
}

/** The inverse of `parseConsole`; the empty state is the empty string. */
export function formatConsole(state: ConsoleState): string {
  const p = new URLSearchParams();
  const f = state.filter;
  if (state.mode === "users") p.set("mode", "users");
  if (f.search !== "") p.set("q", f.search);
  for (const key of LIST_KEYS) for (const v of f[key]) p.append(LIST_PARAM[key], v);
  if (f.superuser_only) p.set("su", "1");
  for (const key of TEXT_KEYS) if (f[key] !== "") p.set(TEXT_PARAM[key], f[key]);
  for (const key of FLAG_KEYS) if (f[key] !== "") p.set(key, f[key]);
  for (const key of TIME_KEYS) if (f[key] !== "") p.set(key, f[key]);
  if (state.sort) {
    p.set("sort", state.sort.sort);
    p.set("desc", state.sort.descending ? "1" : "0");
  }
  if (state.userSort) {
    p.set("usort", state.userSort.sort);
    p.set("udesc", state.userSort.descending ? "1" : "0");
  }
  return p.toString();
}

/** The hash params of the console showing only these filters (for links from other views). */
export function consoleParams(filter: Partial<ConsoleFilter>, mode: Mode = "sessions"): string {
  return formatConsole({ ...EMPTY_STATE, mode, filter: { ...EMPTY_FILTER, ...filter } });
}

/** The filter field an `invalid_input` message from the back end is about, if it names one. */
export function fieldOfError(message: string): keyof ConsoleFilter | null {
  const m = /^filter (\w+):/.exec(message);
  const name = m?.[1];
  if (name !== undefined) {
    if (name in EMPTY_FILTER) return name as keyof ConsoleFilter;
    if (name === "created" || name === "last_activity" || name === "expires") return `${name}_to`;
  }
  if (/\bIP\b|CIDR/i.test(message)) return "ip";
  return null;
}
