import { ActionLifecycle } from "./ActionLifecycle";

export type Notice = {
  tone: "success" | "warning" | "error" | "info";
  title: string;
  details?: string[];
  /** The action whose lifecycle (accepted → confirmed) the banner follows. */
  action?: { id: string; accepted: number };
};

export function ActionResult({ notice, onDismiss }: { notice: Notice; onDismiss: () => void }) {
  const urgent = notice.tone === "error" || notice.tone === "warning";
  return (
    <div
      className={`action-result ${notice.tone}`}
      data-testid="action-result"
      role={urgent ? "alert" : "status"}
    >
      <div className="action-result-body">
        <strong>{notice.title}</strong>
        {notice.action && (
          <ActionLifecycle actionId={notice.action.id} accepted={notice.action.accepted} />
        )}
        {notice.details && notice.details.length > 0 && (
          <ul>
            {notice.details.slice(0, 20).map((d) => (
              <li key={d}>{d}</li>
            ))}
            {notice.details.length > 20 && <li>…and {notice.details.length - 20} more</li>}
          </ul>
        )}
      </div>
      <button type="button" className="icon-button" aria-label="Dismiss" onClick={onDismiss}>
        ×
      </button>
    </div>
  );
}
