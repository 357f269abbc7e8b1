import { type Dispatch, type SetStateAction, useCallback, useRef, useState } from "react";
import type { RowModifiers } from "../../hooks/useGridKeyboard";

/** Where a range of rows starts and how many. */
export type RangeQuery = { offset: number; limit: number };

export type RowSelectionOptions<Row, Item, Base> = {
  /** The list the rows come from; a range that arrives after the list changed is dropped. */
  base: Base;
  /** Changes with the list (filter, view): the selection and positions start over. */
  listKey: string;
  /** The selection key of a row. */
  keyOf: (row: Row) => string;
  /** What the selection keeps of a row. */
  toItem: (row: Row) => Item;
  /** Rows `offset`… of the list, for a Shift range. */
  fetchRows: (query: Base & RangeQuery) => Promise<{ rows: Row[] }>;
  /** Most rows one range picks. */
  cap: number;
  onRangeError: (err: unknown) => void;
};

export type RowSelection<Row, Item, Base> = {
  selection: ReadonlyMap<string, Item>;
  setSelection: Dispatch<SetStateAction<ReadonlyMap<string, Item>>>;
  /** Where a Shift range starts (the last row clicked). */
  anchor: number | null;
  setAnchor: Dispatch<SetStateAction<number | null>>;
  /** The keyboard's row (-1: none). */
  focusIndex: number;
  setFocusIndex: Dispatch<SetStateAction<number>>;
  /**
   * A row picked by click or key: alone, toggled (`toggle`), or the rows from the anchor to
   * it (`range`, added to the selection with `toggle`; fetched, the rows may not be loaded).
   */
  onRowClick: (index: number, row: Row, mods: RowModifiers) => void;
  /** Drops the selection and the anchor. */
  clear: () => void;
  /** True while `base` is still the list shown (for answers that arrive later). */
  isCurrent: (base: Base) => boolean;
};

const NONE: ReadonlyMap<string, never> = new Map<string, never>();

/** The selection of a list's rows by click, Ctrl/Cmd+click and Shift+click (or keys). */
export function useRowSelection<Row, Item, Base>(
  options: RowSelectionOptions<Row, Item, Base>,
): RowSelection<Row, Item, Base> {
  const { base, listKey, keyOf, toItem, fetchRows, cap, onRangeError } = options;
  const [selection, setSelection] = useState<ReadonlyMap<string, Item>>(NONE);
  const [anchor, setAnchor] = useState<number | null>(null);
  const [focusIndex, setFocusIndex] = useState(-1);
  const baseRef = useRef(base);
  baseRef.current = base;

  // A new list: selection and positions refer to the old one.
  const [prevListKey, setPrevListKey] = useState(listKey);
  if (prevListKey !== listKey) {
    setPrevListKey(listKey);
    setSelection(NONE);
    setAnchor(null);
    setFocusIndex(-1);
  }

  const onRowClick = useCallback(
    (index: number, row: Row, mods: RowModifiers) => {
      const key = keyOf(row);
      setFocusIndex(index);
      if (mods.range && anchor !== null) {
        const forBase = base;
        const lo = Math.max(0, Math.min(anchor, index));
        const hi = Math.min(Math.max(anchor, index), lo + cap - 1);
        fetchRows({ ...forBase, offset: lo, limit: hi - lo + 1 }).then((page) => {
          if (baseRef.current !== forBase) return;
          setSelection((prev) => {
            const next = new Map(mods.toggle ? prev : []);
            for (const r of page.rows) next.set(keyOf(r), toItem(r));
            return next;
          });
        }, onRangeError);
        return;
      }
      setAnchor(index);
      if (mods.toggle) {
        setSelection((prev) => {
          const next = new Map(prev);
          if (next.has(key)) next.delete(key);
          else next.set(key, toItem(row));
          return next;
        });
      } else {
        setSelection(new Map([[key, toItem(row)]]));
      }
    },
    [anchor, base, keyOf, toItem, fetchRows, cap, onRangeError],
  );

  const clear = useCallback(() => {
    setSelection(NONE);
    setAnchor(null);
  }, []);

  const isCurrent = useCallback((b: Base) => baseRef.current === b, []);

  return {
    selection,
    setSelection,
    anchor,
    setAnchor,
    focusIndex,
    setFocusIndex,
    onRowClick,
    clear,
    isCurrent,
  };
}
