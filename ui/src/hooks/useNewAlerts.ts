import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef } from "react";
import type { Alert } from "../ipc/bindings/Alert";
import { onNewAlert } from "../ipc/ipc";
import { throttle } from "../lib/throttle";
import { invalidateAlerts } from "./queries";
import { INVALIDATE_INTERVAL_MS } from "./useSessionsChanged";

/** On `alerts://new`: refetch the alert queries (throttled) and hand the alert to `onAlert`. */
export function useNewAlerts(onAlert: (alert: Alert) => void): void {
  const qc = useQueryClient();
  const cb = useRef(onAlert);
  cb.current = onAlert;
  useEffect(() => {
    const t = throttle(() => void invalidateAlerts(qc), INVALIDATE_INTERVAL_MS);
    let disposed = false;
    let unlisten: (() => void) | null = null;
    onNewAlert((alert) => {
      t.call();
      cb.current(alert);
    }).then(
      (fn) => {
        if (disposed) fn();
        else unlisten = fn;
      },
      () => {
        // Not running inside Tauri (e.g. plain browser): no live alerts.
      },
    );
    return () => {
      disposed = true;
      unlisten?.();
      t.cancel();
    };
  }, [qc]);
}
