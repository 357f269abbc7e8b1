import type { ContainReport } from "../../ipc/bindings/ContainReport";
import { visible } from "../../lib/format";
import { itemsByTenant, outcomeLabel, outcomeReason, stepLabel, summarizeContain } from "./people";

export type ContainResultProps = {
  action: "contain" | "reenable";
  report: ContainReport;
  onDismiss: () => void;
};

/** What containing (or re-enabling) a person did, item by item. */
export function ContainResult({ action, report, onDismiss }: ContainResultProps) {
  const summary = summarizeContain(report, action === "contain" ? "Contained" : "Re-enabled");
  const urgent = summary.tone !== "success";
  return (
    <div
      className={`action-result ${summary.tone} contain-result`}
      data-testid="contain-result"
      data-action={action}
      role={urgent ? "alert" : "status"}
    >
      <div className="action-result-body">
        <strong data-testid="contain-summary">{summary.title}</strong>
        {report.unchecked_tenants.length > 0 && (
          <p className="person-warning">
            Not checked: {report.unchecked_tenants.map((t) => `tenant ${t}`).join(", ")} could not
            be searched; an account there was not touched.
          </p>
        )}
        {itemsByTenant(report.items).map(([tenant, items]) => (
          <div key={tenant} className="contain-tenant" data-tenant={tenant}>
            <h3>Tenant {tenant}</h3>
            <ul>
              {items.map((i) => {
                const reason = outcomeReason(i.outcome);
                return (
                  <li
                    key={`${i.user_id}\u0000${i.step}`}
                    className={`contain-item state-${i.outcome.state}`}
                    data-testid="contain-item"
                    data-state={i.outcome.state}
                    data-step={i.step}
                    data-tenant={i.tenant}
                  >
                    <span className={`badge contain-badge state-${i.outcome.state}`}>
                      {outcomeLabel(i.outcome)}
                    </span>{" "}
                    <strong>{stepLabel(i.step)}</strong> <span className="muted">of</span>{" "}
                    {visible(i.username)}
                    {reason !== null && <span className="contain-reason">: {visible(reason)}</span>}
                  </li>
                );
              })}
            </ul>
          </div>
        ))}
      </div>
      <button type="button" className="icon-button" aria-label="Dismiss" onClick={onDismiss}>
        ×
      </button>
    </div>
  );
}
