import { useQuery } from "@tanstack/react-query";
import { type KeyboardEvent, useEffect, useId, useRef } from "react";
import { historyQueryOptions } from "../../hooks/queries";
import type { HistoryEntry } from "../../ipc/bindings/HistoryEntry";
import { errorMessage } from "../../ipc/ipc";
import { trapTab } from "../../lib/focusTrap";
import { DASH, formatDateTime, visible } from "../../lib/format";
import { parseUserAgent } from "../../lib/userAgent";

/** "ended by Vigil", "expired", "signed out / ended elsewhere", or "active". */
export function endedByLabel(e: Pick<HistoryEntry, "ended_at" | "ended_by">): string {
  switch (e.ended_by) {
    case "vigil":
      return "ended by Vigil";
    case "expired":
      return "expired";
    case "ended":
      return "signed out / ended elsewhere";
    case null:
      return e.ended_at ? "ended" : "active";
    default:
      return e.ended_by;
  }
}

export type HistoryPanelProps = {
  tenant: string;
  username: string;
  onClose: () => void;
};

/** The login history of one user: a modal side panel. */
export function HistoryPanel({ tenant, username, onClose }: HistoryPanelProps) {
  const q = useQuery(historyQueryOptions(tenant, username));
  const ref = useRef<HTMLDivElement>(null);
  const closeRef = useRef<HTMLButtonElement>(null);
  const titleId = useId();

  useEffect(() => {
    const previous = document.activeElement as HTMLElement | null;
    closeRef.current?.focus();
    return () => previous?.focus?.();
  }, []);

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      onClose();
      return;
    }
    trapTab(e, ref.current);
  };

  return (
    <div className="backdrop side">
      <div
        ref={ref}
        className="dialog history-panel"
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        data-testid="history-panel"
        onKeyDown={onKeyDown}
      >
        <div className="history-head">
          <h2 id={titleId}>
            Login history of {username} <span className="muted">(tenant {tenant})</span>
          </h2>
          <button
            ref={closeRef}
            type="button"
            className="icon-button"
            aria-label="Close"
            onClick={onClose}
          >
            ×
          </button>
        </div>
        {q.isPending && (
          <p className="muted" role="status">
            Loading…
          </p>
        )}
        {q.isError && (
          <p className="inline-error" role="alert">
            Could not load the history: {errorMessage(q.error)}
          </p>
        )}
        {q.data?.length === 0 && <p className="muted">No sessions recorded for this user.</p>}
        {q.data && q.data.length > 0 && (
          <div className="table-scroll">
            <table className="data-table">
              <thead>
                <tr>
                  <th>First seen</th>
                  <th>Last seen</th>
                  <th>IP</th>
                  <th>Browser / OS</th>
                  <th>Ended at</th>
                  <th>Ended by</th>
                </tr>
              </thead>
              <tbody>
                {q.data.map((e) => (
                  <tr key={`${e.tenant}\u0000${e.session_id}`} data-testid="history-row">
                    <td>{formatDateTime(e.first_seen)}</td>
                    <td>{formatDateTime(e.last_seen)}</td>
                    <td className="mono">{e.ip ? visible(e.ip) : DASH}</td>
                    <td title={e.user_agent ? visible(e.user_agent) : undefined}>
                      {visible(parseUserAgent(e.user_agent).label)}
                    </td>
                    <td>{formatDateTime(e.ended_at)}</td>
                    <td>{endedByLabel(e)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
    </div>
  );
}
