import { useQuery } from "@tanstack/react-query";
import { actionAuditQueryOptions, awaitingOutcome } from "../hooks/queries";
import type { AuditEntry } from "../ipc/bindings/AuditEntry";
import type { ItemState } from "../ipc/bindings/ItemState";
import { errorMessage } from "../ipc/ipc";
import { formatCount } from "../lib/format";

const ORDER: readonly ItemState[] = ["requested", "accepted", "confirmed", "reappeared", "failed"];

/** "3 accepted · confirming…", "3 confirmed", "2 confirmed · 1 reappeared". */
export function lifecycleText(entries: readonly AuditEntry[]): string {
  const counts = new Map<ItemState, number>();
  for (const e of entries) counts.set(e.state, (counts.get(e.state) ?? 0) + 1);
  const parts = ORDER.filter((s) => counts.has(s)).map(
    (s) => `${formatCount(counts.get(s) ?? 0)} ${s}`,
  );
  if (awaitingOutcome(entries)) parts.push("confirming…");
  return parts.join(" · ");
}

export type ActionLifecycleProps = {
  actionId: string;
  /** Items the action report accepted: shown until the audit log answers. */
  accepted: number;
};

/** Live state of one action's items, re-read from the audit log. */
export function ActionLifecycle({ actionId, accepted }: ActionLifecycleProps) {
  const q = useQuery(actionAuditQueryOptions(actionId));
  const entries = q.data;
  const text =
    entries && entries.length > 0
      ? lifecycleText(entries)
      : accepted > 0
        ? `${formatCount(accepted)} accepted · confirming…`
        : null;
  const problems = (entries ?? []).filter((e) => e.state === "reappeared" || e.state === "failed");
  return (
    <div className="action-lifecycle">
      {text && (
        <span data-testid="action-lifecycle" aria-live="polite">
          {text}
        </span>
      )}
      {q.isError && (
        <span className="muted"> (could not read the audit log: {errorMessage(q.error)})</span>
      )}
      {problems.length > 0 && (
        <ul data-testid="action-lifecycle-problems">
          {problems.slice(0, 20).map((e) => (
            <li key={e.id}>
              {e.target_user ?? e.target} (tenant {e.tenant}):{" "}
              {e.state === "reappeared"
                ? `reappeared${e.message ? ` – ${e.message}` : ""}`
                : (e.message ?? "failed")}
            </li>
          ))}
          {problems.length > 20 && <li>…and {problems.length - 20} more</li>}
        </ul>
      )}
    </div>
  );
}
