import { type QueryClient, useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { onAppStatus, onSessionsChanged } from "../ipc/ipc";
import { throttle } from "../lib/throttle";
import { invalidateAll, invalidateAppStatus } from "./queries";

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

/** On `app://status` (pause state or settings changed, also from the tray), refetch both. */
export function useAppStatusInvalidation(client?: QueryClient): void {
  const fallback = useQueryClient();
  const qc = client ?? fallback;
  useEffect(() => {
    let disposed = false;
    let unlisten: (() => void) | null = null;
    onAppStatus(() => void invalidateAppStatus(qc)).then(
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
  }, [qc]);
}
