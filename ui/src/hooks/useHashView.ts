import { useCallback, useEffect, useState } from "react";

export const VIEWS = ["sessions", "tenants", "audit", "alerts"] as const;
export type View = (typeof VIEWS)[number];

/** `#/tenants` → "tenants"; anything unknown → "sessions". */
export function viewFromHash(hash: string): View {
  const name = hash.replace(/^#\/?/, "");
  return (VIEWS as readonly string[]).includes(name) ? (name as View) : "sessions";
}

export function hashFor(view: View): string {
  return `#/${view}`;
}

/** The current view, kept in `location.hash` (back/forward and reloads keep it). */
export function useHashView(): [View, (view: View) => void] {
  const [view, setViewState] = useState<View>(() => viewFromHash(window.location.hash));

  useEffect(() => {
    const onHash = () => setViewState(viewFromHash(window.location.hash));
    window.addEventListener("hashchange", onHash);
    // Normalise a missing or unknown hash without adding a history entry.
    const want = hashFor(viewFromHash(window.location.hash));
    if (window.location.hash !== want) window.history.replaceState(null, "", want);
    return () => window.removeEventListener("hashchange", onHash);
  }, []);

  const setView = useCallback((next: View) => {
    setViewState(next);
    const want = hashFor(next);
    if (window.location.hash !== want) window.location.hash = want;
  }, []);

  return [view, setView];
}
