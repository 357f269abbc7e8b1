import { useQueryClient } from "@tanstack/react-query";
import type { Alert } from "../ipc/bindings/Alert";
import { onNewAlert } from "../ipc/ipc";
import { invalidateAlerts } from "./queries";
import { INVALIDATE_INTERVAL_MS } from "./useSessionsChanged";
import { useTauriEvent } from "./useTauriEvent";
import { useThrottled } from "./useThrottled";

/** On `alerts://new`: refetch the alert queries (throttled) and hand the alert to `onAlert`. */
export function useNewAlerts(onAlert: (alert: Alert) => void): void {
  const qc = useQueryClient();
  const invalidate = useThrottled(() => void invalidateAlerts(qc), INVALIDATE_INTERVAL_MS);
  useTauriEvent(onNewAlert, (alert) => {
    invalidate();
    onAlert(alert);
  });
}
