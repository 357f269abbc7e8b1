import { type KeyboardEvent, type MouseEvent, type RefObject, useEffect } from "react";

/** How a row was picked: Ctrl/Cmd (toggle it) and Shift (extend from the anchor). */
export type RowModifiers = { toggle: boolean; range: boolean };

export type GridKeyboardOptions<Row> = {
  /** Rows in the whole list. */
  total: number;
  /** The focused row (-1: none). */
  focusIndex: number;
  onFocusIndex: (index: number) => void;
  /** The row at an index, when loaded. */
  rowAt: (index: number) => Row | undefined;
  onRowClick: (index: number, row: Row, mods: RowModifiers) => void;
  /** The grid's scroll container: its height makes a page for PageUp/PageDown. */
  scrollRef: RefObject<HTMLElement | null>;
  rowHeight: number;
  /** Scrolls the focused row into view. */
  virtualizer: { scrollToIndex: (index: number) => void };
  /** Keys a grid adds (→/← to expand a row): true when the key was handled. */
  onOtherKey?: (key: string, row: Row | undefined) => boolean;
};

export type GridKeyboard<Row> = {
  /** For the grid element: ↑/↓, PageUp/PageDown, Home/End move the focus (Shift extends the
   * selection), Space toggles the focused row, Enter selects it alone. */
  onKeyDown: (e: KeyboardEvent<HTMLElement>) => void;
  /** For a row's click: focus it and select it (Ctrl/Cmd toggles, Shift extends). */
  onRowMouse: (e: MouseEvent, index: number, row: Row | undefined) => void;
};

/** The row navigation of a virtual grid whose rows are selected with `onRowClick`. */
export function useGridKeyboard<Row>(options: GridKeyboardOptions<Row>): GridKeyboard<Row> {
  const { total, focusIndex, onFocusIndex, rowAt, onRowClick, virtualizer } = options;

  useEffect(() => {
    if (focusIndex >= 0 && focusIndex < total) virtualizer.scrollToIndex(focusIndex);
  }, [focusIndex, total, virtualizer]);

  const moveFocus = (next: number, extend: boolean) => {
    if (total === 0) return;
    const i = Math.max(0, Math.min(total - 1, next));
    onFocusIndex(i);
    if (extend) {
      const row = rowAt(i);
      if (row) onRowClick(i, row, { toggle: false, range: true });
    }
  };

  const onKeyDown = (e: KeyboardEvent<HTMLElement>) => {
    if (e.target !== e.currentTarget) return; // keys on header controls are theirs
    const pageRows = Math.max(
      1,
      Math.floor((options.scrollRef.current?.clientHeight ?? 600) / options.rowHeight) - 2,
    );
    const cur = focusIndex < 0 ? -1 : focusIndex;
    const row = cur >= 0 ? rowAt(cur) : undefined;
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
      case "Enter":
        if (row) onRowClick(cur, row, { toggle: e.key === " ", range: false });
        break;
      default:
        if (!options.onOtherKey?.(e.key, row)) return;
    }
    e.preventDefault();
  };

  const onRowMouse = (e: MouseEvent, index: number, row: Row | undefined) => {
    if (!row) return;
    if (e.shiftKey) e.preventDefault(); // no text selection on shift+click
    onFocusIndex(index);
    onRowClick(index, row, { toggle: e.ctrlKey || e.metaKey, range: e.shiftKey });
  };

  return { onKeyDown, onRowMouse };
}
