import { useCallback, useEffect, useState } from "react";
import { SESSION_COLUMNS } from "../../components/sessionColumns";
import type { ConsoleState } from "../../lib/consoleState";
import {
  clearLayout,
  defaultLayout,
  loadLayout,
  saveLayout,
  type TableLayout,
} from "../../lib/layout";

const LAYOUT_SAVE_MS = 250;

/**
 * The Sessions table's columns (order, shown, widths) and sort, remembered across restarts.
 * `update` changes the console's state: a reset also drops the sort the URL holds.
 */
export function useColumnLayout(update: (fn: (s: ConsoleState) => ConsoleState) => void) {
  const [layout, setLayout] = useState<TableLayout>(() => loadLayout(SESSION_COLUMNS));
  useEffect(() => {
    const t = setTimeout(() => saveLayout(layout), LAYOUT_SAVE_MS);
    return () => clearTimeout(t);
  }, [layout]);
  const resetLayout = useCallback(() => {
    clearLayout();
    setLayout(defaultLayout(SESSION_COLUMNS));
    update((s) => ({ ...s, sort: null }));
  }, [update]);
  return { layout, setLayout, resetLayout };
}
