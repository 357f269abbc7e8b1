import { useEffect } from "react";
import type { Alert } from "../../ipc/bindings/Alert";
import { visible } from "../../lib/format";

/** How long a toast stays, and how many are stacked at most (the oldest goes first). */
export const TOAST_MS = 6_000;
export const MAX_TOASTS = 3;

export type Toast = { key: number; alert: Alert };

/** Adds a toast, keeping only the newest `MAX_TOASTS`. */
export function pushToast(toasts: readonly Toast[], toast: Toast): Toast[] {
  return [...toasts, toast].slice(-MAX_TOASTS);
}

function ToastItem({
  toast,
  onOpen,
  onDismiss,
}: {
  toast: Toast;
  onOpen: () => void;
  onDismiss: (key: number) => void;
}) {
  useEffect(() => {
    const t = setTimeout(() => onDismiss(toast.key), TOAST_MS);
    return () => clearTimeout(t);
  }, [toast.key, onDismiss]);
  const { alert } = toast;
  return (
    <div className={`alert-toast sev-${alert.severity}`} data-testid="alert-toast">
      <button
        type="button"
        className="alert-toast-body"
        title="Open the alert centre"
        onClick={() => {
          onDismiss(toast.key);
          onOpen();
        }}
      >
        <span className={`badge severity-badge sev-${alert.severity}`}>{alert.severity}</span>{" "}
        {visible(alert.message)}
      </button>
      <button
        type="button"
        className="icon-button"
        aria-label="Dismiss"
        onClick={() => onDismiss(toast.key)}
      >
        ×
      </button>
    </div>
  );
}

/** Small non-blocking notices for new alerts, bottom right; clicking one opens the alert centre. */
export function AlertToasts({
  toasts,
  onOpen,
  onDismiss,
}: {
  toasts: readonly Toast[];
  onOpen: () => void;
  onDismiss: (key: number) => void;
}) {
  return (
    <section className="alert-toasts" aria-label="New alerts" aria-live="polite">
      {toasts.map((t) => (
        <ToastItem key={t.key} toast={t} onOpen={onOpen} onDismiss={onDismiss} />
      ))}
    </section>
  );
}
