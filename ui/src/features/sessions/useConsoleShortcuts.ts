import { type RefObject, useEffect, useRef } from "react";
import type { Mode } from "../../lib/consoleState";
import { isTextEntry, modalOpen } from "../../lib/keyboard";

export type ConsoleShortcuts = {
  /** Delete: end the selected sessions (the Users view: force logout). */
  requestEnd: (skipConfirm: boolean) => void;
  /** Ctrl/Cmd+A */
  selectAll: () => Promise<void>;
  /** F5, Ctrl/Cmd+R (never a reload of the webview) */
  doRefresh: () => void;
  /** Escape */
  clearSelection: () => void;
  /** Ctrl/Cmd+Shift+X */
  clearFilters: () => void;
  /** U switches between the Sessions and the Users view. */
  setMode: (mode: Mode) => void;
  mode: Mode;
  /** F */
  toggleFilters: () => void;
  /** `/` focuses the search. */
  searchRef: RefObject<HTMLInputElement | null>;
  /** One of the console's own dialogs or panels is open: the keys are theirs. */
  dialogOpen: boolean;
};

/** The console's keyboard shortcuts (the help overlay lists them). */
export function useConsoleShortcuts(shortcuts: ConsoleShortcuts): void {
  const latest = useRef(shortcuts);
  latest.current = shortcuts;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const k = latest.current;
      const mod = e.ctrlKey || e.metaKey;
      if (e.key === "F5" || (mod && !e.shiftKey && e.key.toLowerCase() === "r")) {
        e.preventDefault(); // never reload the webview
        if (!k.dialogOpen && !modalOpen()) k.doRefresh();
        return;
      }
      if (k.dialogOpen || modalOpen() || e.defaultPrevented) return;
      if (mod && e.shiftKey && e.key.toLowerCase() === "x") {
        e.preventDefault();
        k.clearFilters();
        return;
      }
      if (isTextEntry(e.target)) return;
      if (e.key === "Delete") {
        e.preventDefault();
        k.requestEnd(false);
      } else if (mod && e.key.toLowerCase() === "a") {
        e.preventDefault();
        void k.selectAll();
      } else if (e.key === "Escape") {
        k.clearSelection();
      } else if (mod || e.altKey) {
        return;
      } else if (e.key === "/") {
        e.preventDefault();
        k.searchRef.current?.focus();
      } else if (e.key === "u" || e.key === "U") {
        e.preventDefault();
        k.setMode(k.mode === "users" ? "sessions" : "users");
      } else if (e.key === "f" || e.key === "F") {
        e.preventDefault();
        k.toggleFilters();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);
}
