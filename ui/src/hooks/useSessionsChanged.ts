import { type QueryClient, useQueryClient } from "@tanstack/react-query";
import { onAppStatus, onSessionsChanged } from "../ipc/ipc";
import { invalidateAll, invalidateAppStatus } from "./queries";
import { useTauriEvent } from "./useTauriEvent";
import { useThrottled } from "./useThrottled";

/** Throttled invalidation interval: at most ~2 invalidations per second. */
export const INVALIDATE_INTERVAL_MS = 500;

/** On `sessions://changed`, invalidate the session and summary queries (throttled). */
export function useSessionsChangedInvalidation(client?: QueryClient): void {
  const fallback = useQueryClient();
  const qc = client ?? fallback;
  const invalidate = useThrottled(() => void invalidateAll(qc), INVALIDATE_INTERVAL_MS);
  useTauriEvent(onSessionsChanged, invalidate);
}

/** On `app://status` (pause state or settings changed, also from the tray), refetch both. */
export function useAppStatusInvalidation(client?: QueryClient): void {
  const fallback = useQueryClient();
  const qc = client ?? fallback;
  useTauriEvent(onAppStatus, () => void invalidateAppStatus(qc));
}
