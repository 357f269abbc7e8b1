import type { UnlistenFn } from "@tauri-apps/api/event";
import { useEffect, useRef } from "react";

/** A subscription as `ipc.ts` offers it (`onSessionsChanged`, …): resolves to the unsubscribe. */
export type Subscribe<Args extends unknown[]> = (
  cb: (...payload: Args) => void,
) => Promise<UnlistenFn>;

/**
 * Listens to a Tauri event while the component is mounted. `subscribe` is one of the typed
 * `on…` wrappers of `ipc.ts`; `handler` may change on every render (the latest one runs).
 *
 * The unsubscribe function arrives asynchronously: if the component unmounts first, it is
 * called as soon as it arrives, and no event reaches the handler after unmounting. Outside
 * Tauri (a plain browser) the subscription fails quietly: there are no live updates.
 */
export function useTauriEvent<Args extends unknown[]>(
  subscribe: Subscribe<Args>,
  handler: (...payload: Args) => void,
): void {
  const latest = useRef(handler);
  latest.current = handler;
  useEffect(() => {
    let disposed = false;
    let unlisten: UnlistenFn | null = null;
    subscribe((...payload) => {
      if (!disposed) latest.current(...payload);
    }).then(
      (fn) => {
        if (disposed) fn();
        else unlisten = fn;
      },
      () => {
        // Not running inside Tauri: no live updates.
      },
    );
    return () => {
      disposed = true;
      unlisten?.();
    };
  }, [subscribe]);
}
