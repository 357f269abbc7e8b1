import { useEffect } from "react";

/** How long an export toast stays. */
export const EXPORT_TOAST_MS = 12_000;

export type ExportToast = { key: number; text: string; path: string };

function Item({ toast, onDismiss }: { toast: ExportToast; onDismiss: (key: number) => void }) {
  useEffect(() => {
    const t = setTimeout(() => onDismiss(toast.key), EXPORT_TOAST_MS);
    return () => clearTimeout(t);
  }, [toast.key, onDismiss]);
  return (
    <div className="export-toast" data-testid="export-toast" role="status">
      <div className="export-toast-body">
        <strong>{toast.text}</strong>
        <code className="export-path" data-testid="export-path" title={toast.path}>
          {toast.path}
        </code>
      </div>
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

/** Where finished exports are announced: bottom left, out of the alert toasts' way. */
export function ExportToasts({
  toasts,
  onDismiss,
}: {
  toasts: readonly ExportToast[];
  onDismiss: (key: number) => void;
}) {
  return (
    <section className="export-toasts" aria-label="Exports" aria-live="polite">
      {toasts.map((t) => (
        <Item key={t.key} toast={t} onDismiss={onDismiss} />
      ))}
    </section>
  );
}
