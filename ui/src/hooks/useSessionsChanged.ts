import { type QueryClient, useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { onSessionsChanged } from "../ipc/ipc";
import { throttle } from "../lib/throttle";
import { invalidateAll } from "./queries";

/** Throttled invalidation interval: at most ~2 invalidations per second. */
export const INVALIDATE_INTERVAL_MS = 500;

/** On `sessions://changed`, invalidate the session and summary queries (throttled). */
export function useSessionsChangedInvalidation(client?: QueryClient): void {
  const fallback = useQueryClient();
  const qc = client ?? fallback;
  useEffect(() => {
    const t = throttle(() => void invalidateAll(qc), INVALIDATE_INTERVAL_MS);
    let disposed = false;
    let unlisten: (() => void) | null = null;
    onSessionsChanged(() => t.call()).then(
      (fn) => {
        if (disposed) fn();
        else unlisten = fn;
      },
      () => {
        // Not running inside Tauri (e.g. plain browser): no live updates.
      },
    );
    return () => {
      disposed = true;
      unlisten?.();
      t.cancel();
    };
  }, [qc]);
}
