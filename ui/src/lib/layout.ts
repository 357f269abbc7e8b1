import type { SessionSort } from "./consoleState";
import { SORT_COLUMNS } from "./consoleState";

/** How the session table looks: kept in localStorage so it survives a restart. */
export type TableLayout = {
  /** Column ids in display order (every known column, shown or not). */
  order: string[];
  /** Column ids not shown. */
  hidden: string[];
  /** Widths in px of columns the user resized. */
  sizing: Record<string, number>;
  /** The sort to start with when the URL has none. */
  sort: SessionSort | null;
};

export const LAYOUT_KEY = "vigil.sessions.layout.v1";
export const MIN_COLUMN_WIDTH = 40;
export const MAX_COLUMN_WIDTH = 800;

export function defaultLayout(columns: readonly { id: string; visible: boolean }[]): TableLayout {
  return {
    order: columns.map((c) => c.id),
    hidden: columns.filter((c) => !c.visible).map((c) => c.id),
    sizing: {},
    sort: null,
  };
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
}

/**
 * The stored layout merged with the columns this build knows: unknown ids are dropped,
 * new columns are appended with their default visibility; anything unreadable gives the default.
 */
export function readLayout(
  raw: string | null,
  columns: readonly { id: string; visible: boolean }[],
): TableLayout {
  const fallback = defaultLayout(columns);
  if (raw === null) return fallback;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return fallback;
  }
  if (typeof parsed !== "object" || parsed === null) return fallback;
  const v = parsed as Record<string, unknown>;
  const known = new Set(columns.map((c) => c.id));
  const order = strings(v.order).filter((id) => known.has(id));
  const stored = new Set(order);
  for (const c of columns) if (!stored.has(c.id)) order.push(c.id);
  const seen = new Set(strings(v.order));
  const hidden = strings(v.hidden).filter((id) => known.has(id));
  for (const c of columns) if (!seen.has(c.id) && !c.visible) hidden.push(c.id);
  const sizing: Record<string, number> = {};
  if (typeof v.sizing === "object" && v.sizing !== null) {
    for (const [id, w] of Object.entries(v.sizing as Record<string, unknown>)) {
      if (known.has(id) && typeof w === "number" && Number.isFinite(w)) {
        sizing[id] = Math.round(Math.min(MAX_COLUMN_WIDTH, Math.max(MIN_COLUMN_WIDTH, w)));
      }
    }
  }
  let sort: SessionSort | null = null;
  if (typeof v.sort === "object" && v.sort !== null) {
    const s = v.sort as Record<string, unknown>;
    const col = SORT_COLUMNS.find((c) => c === s.sort);
    if (col) sort = { sort: col, descending: s.descending === true };
  }
  return { order: [...new Set(order)], hidden: [...new Set(hidden)], sizing, sort };
}

export function loadLayout(columns: readonly { id: string; visible: boolean }[]): TableLayout {
  let raw: string | null = null;
  try {
    raw = window.localStorage.getItem(LAYOUT_KEY);
  } catch {
    // Storage unavailable: the default layout.
  }
  return readLayout(raw, columns);
}

export function saveLayout(layout: TableLayout): void {
  try {
    window.localStorage.setItem(LAYOUT_KEY, JSON.stringify(layout));
  } catch {
    // Storage full or unavailable: the layout lasts until the window closes.
  }
}

export function clearLayout(): void {
  try {
    window.localStorage.removeItem(LAYOUT_KEY);
  } catch {
    // Nothing stored.
  }
}
