// "Exclude…" from an alert: silence this user's alerts in this tenant, for this alert's
// rules (or all), with a reason and an optional end, as an [[alerts.exclusions]] entry.
import { useQueryClient } from "@tanstack/react-query";
import { useId, useState } from "react";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { alertsConfigQueryOptions, queryKeys } from "../../hooks/queries";
import type { Alert } from "../../ipc/bindings/Alert";
import type { Exclusion } from "../../ipc/bindings/Exclusion";
import { errorMessage, saveAlertsConfig } from "../../ipc/ipc";
import { ruleLabel } from "../../lib/alerts";
import { visible } from "../../lib/format";

export type ExcludeDialogProps = {
  alert: Alert;
  /** Called with what was excluded, after it was saved. */
  onDone: (what: string) => void;
  onCancel: () => void;
};

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The exclusion the dialog adds. */
export function exclusionFor(
  alert: Alert,
  reason: string,
  until: string,
  allRules: boolean,
): Exclusion {
  return {
    user: alert.username ?? "",
    rules: allRules ? [] : [...alert.rules],
    tenants: [alert.tenant],
    tags: [],
    reason: reason.trim(),
    until,
  };
}

export function ExcludeDialog({ alert, onDone, onCancel }: ExcludeDialogProps) {
  const qc = useQueryClient();
  const ids = useId();
  const [reason, setReason] = useState("");
  const [until, setUntil] = useState("");
  const [allRules, setAllRules] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const user = visible(alert.username ?? "");
  const rules = alert.rules.map(ruleLabel).join(", ");

  const confirm = async () => {
    if (reason.trim() === "") {
      setError("Say why: the reason is shown on every alert it silences.");
      return;
    }
    if (until !== "" && !DATE.test(until)) {
      setError("Until: a date (YYYY-MM-DD), or empty for no end.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const current = await qc.fetchQuery(alertsConfigQueryOptions());
      const stored = await saveAlertsConfig({
        ...current,
        exclusions: [...current.exclusions, exclusionFor(alert, reason, until, allRules)],
      });
      qc.setQueryData(queryKeys.alertsConfig, stored);
      onDone(
        `${user} in ${visible(alert.tenant)}: ${allRules ? "every rule" : rules} excluded${
          until ? ` until ${until}` : ""
        }`,
      );
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <ConfirmDialog
      title={`Exclude ${user}`}
      message={`New alerts of ${user} in tenant ${visible(alert.tenant)} for ${
        allRules ? "every rule" : rules
      } are kept, marked suppressed, but neither announced nor sent on.`}
      confirmLabel="Exclude"
      busy={busy}
      onConfirm={() => void confirm()}
      onCancel={onCancel}
      testId="exclude-dialog"
      confirmTestId="exclude-confirm"
    >
      <div className="form-field">
        <label htmlFor={`${ids}-reason`}>Reason</label>
        <input
          id={`${ids}-reason`}
          data-testid="exclude-reason"
          value={reason}
          maxLength={500}
          placeholder="the backup job runs at night"
          onChange={(e) => setReason(e.target.value)}
        />
      </div>
      <div className="form-field">
        <label htmlFor={`${ids}-until`}>Until (optional)</label>
        <input
          id={`${ids}-until`}
          data-testid="exclude-until"
          type="date"
          value={until}
          onChange={(e) => setUntil(e.target.value)}
        />
      </div>
      <label className="checkbox">
        <input
          type="checkbox"
          data-testid="exclude-all-rules"
          checked={allRules}
          onChange={(e) => setAllRules(e.target.checked)}
        />{" "}
        Every rule, not only {rules}
      </label>
      {error && (
        <p className="field-error" role="alert" data-testid="exclude-error">
          {error}
        </p>
      )}
    </ConfirmDialog>
  );
}
