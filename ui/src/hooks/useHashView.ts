import { useCallback, useEffect, useRef, useState } from "react";

export const VIEWS = ["sessions", "tenants", "audit", "alerts", "settings"] as const;
export type View = (typeof VIEWS)[number];

/** Where the window is: the view and, for the session console, its filter/sort/mode params. */
export type Route = { view: View; params: string };

/** `#/tenants` → tenants; `#/sessions?q=alice` → sessions + `q=alice`; unknown → sessions. */
export function routeFromHash(hash: string): Route {
  const body = hash.replace(/^#\/?/, "");
  const q = body.indexOf("?");
  const name = q < 0 ? body : body.slice(0, q);
  const view = (VIEWS as readonly string[]).includes(name) ? (name as View) : "sessions";
  // Only the session console keeps state in the hash.
  const params = view === "sessions" && q >= 0 && name === view ? body.slice(q + 1) : "";
  return { view, params };
}

export function viewFromHash(hash: string): View {
  return routeFromHash(hash).view;
}

export function hashFor(view: View, params = ""): string {
  return params === "" ? `#/${view}` : `#/${view}?${params}`;
}

export type HashRoute = {
  view: View;
  /** The session console's state as URL query text. */
  params: string;
  /**
   * Switches views (a history entry). Without `params`, the session console comes back
   * with the state it had when it was left.
   */
  navigate: (view: View, params?: string) => void;
  /** Replaces the console's state in place (no history entry per keystroke). */
  replaceParams: (params: string) => void;
};

/** The current view and console state, kept in `location.hash`: reloads and back/forward keep them. */
export function useHashRoute(): HashRoute {
  const [route, setRoute] = useState<Route>(() => routeFromHash(window.location.hash));
  const lastSessionParams = useRef(route.view === "sessions" ? route.params : "");

  useEffect(() => {
    const onHash = () => {
      const next = routeFromHash(window.location.hash);
      if (next.view === "sessions") lastSessionParams.current = next.params;
      setRoute(next);
    };
    window.addEventListener("hashchange", onHash);
    // Normalise a missing or unknown hash without adding a history entry.
    const current = routeFromHash(window.location.hash);
    const want = hashFor(current.view, current.params);
    if (window.location.hash !== want) window.history.replaceState(null, "", want);
    return () => window.removeEventListener("hashchange", onHash);
  }, []);

  const navigate = useCallback((view: View, params?: string) => {
    const p = view === "sessions" ? (params ?? lastSessionParams.current) : "";
    if (view === "sessions") lastSessionParams.current = p;
    setRoute({ view, params: p });
    const want = hashFor(view, p);
    if (window.location.hash !== want) window.location.hash = want;
  }, []);

  const replaceParams = useCallback((params: string) => {
    lastSessionParams.current = params;
    setRoute((prev) => (prev.params === params ? prev : { ...prev, params }));
    const want = hashFor("sessions", params);
    if (window.location.hash !== want) window.history.replaceState(null, "", want);
  }, []);

  return { view: route.view, params: route.params, navigate, replaceParams };
}

/** The current view (see `useHashRoute` for the console's state). */
export function useHashView(): [View, (view: View) => void] {
  const { view, navigate } = useHashRoute();
  return [view, navigate];
}
