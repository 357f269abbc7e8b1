import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import type { ContainItem } from "../../ipc/bindings/ContainItem";
import type { ContainOptions } from "../../ipc/bindings/ContainOptions";
import { errorMessage } from "../../ipc/ipc";
import { plural, visible } from "../../lib/format";
import { ALL_STEPS, itemsByTenant, outcomeLabel, outcomeReason, stepLabel } from "./people";
import { containPlanQueryOptions } from "./queries";

/** The steps that can be left out (ending the sessions always happens). */
const OPTIONAL_STEPS: { key: keyof ContainOptions; label: string; testId: string }[] = [
  { key: "disable", label: "Disable the accounts", testId: "contain-opt-disable" },
  { key: "revoke_grants", label: "Revoke tokens & grants", testId: "contain-opt-revoke" },
  {
    key: "require_password_change",
    label: "Require a new password",
    testId: "contain-opt-password",
  },
];

export type ContainDialogProps = {
  personKey: string;
  /** How to name the person in the title. */
  name: string;
  onConfirm: (options: ContainOptions) => void;
  onCancel: () => void;
};

function PlanItem({ item }: { item: ContainItem }) {
  const state = item.outcome.state;
  const reason = outcomeReason(item.outcome);
  return (
    <li
      className={`contain-item state-${state}`}
      data-testid="contain-plan-item"
      data-state={state}
      data-step={item.step}
    >
      <span className={`badge contain-badge state-${state}`}>{outcomeLabel(item.outcome)}</span>{" "}
      <strong>{stepLabel(item.step)}</strong> <span className="muted">of</span>{" "}
      {visible(item.username)}
      {state === "planned" && item.effect && <span>: {visible(item.effect)}</span>}
      {reason !== null && <span className="contain-reason">: {visible(reason)}</span>}
    </li>
  );
}

/**
 * "Contain everywhere", confirmed: what will happen per tenant and step, asked of the
 * back end (nothing is sent until confirmed). Leaving a step out asks again.
 */
export function ContainDialog({ personKey, name, onConfirm, onCancel }: ContainDialogProps) {
  const [options, setOptions] = useState<ContainOptions>(ALL_STEPS);
  const q = useQuery({
    ...containPlanQueryOptions(personKey, options),
    placeholderData: keepPreviousData,
  });
  const plan = q.data?.plan;
  const planned = plan?.items.filter((i) => i.outcome.state === "planned").length ?? 0;
  const tenants = plan ? itemsByTenant(plan.items) : [];
  const ready = plan !== undefined && !q.isPlaceholderData && !q.isFetching;

  let message: string;
  if (q.isError) message = `Could not work out the plan: ${errorMessage(q.error)}`;
  else if (!plan) message = "Working out what would happen…";
  else if (planned === 0) message = "Nothing can be done for this person: no step is offered.";
  else
    message = `Send ${plural(planned, "step")} to ${plural(tenants.length, "tenant")}? Nothing has been sent yet.`;

  return (
    <ConfirmDialog
      title={`Contain ${name} everywhere`}
      message={message}
      detail="Per tenant: disable the account first, then end every session, revoke tokens and grants, and require a new password — where the tenant can. Each step is audited."
      confirmLabel={planned > 0 ? `Contain (${plural(planned, "step")})` : "Contain"}
      busy={!ready || planned === 0}
      onConfirm={() => onConfirm(options)}
      onCancel={onCancel}
      testId="contain-confirm"
      confirmTestId="contain-go"
      wide
    >
      <fieldset className="contain-options">
        <legend className="sr-only">Steps</legend>
        <label className="toggle">
          <input type="checkbox" checked disabled />
          <span>End every session (always)</span>
        </label>
        {OPTIONAL_STEPS.map((s) => (
          <label key={s.key} className="toggle">
            <input
              type="checkbox"
              data-testid={s.testId}
              checked={options[s.key]}
              onChange={(e) => setOptions((o) => ({ ...o, [s.key]: e.target.checked }))}
            />
            <span>{s.label}</span>
          </label>
        ))}
      </fieldset>
      {q.isFetching && (
        <p className="muted" role="status">
          Checking…
        </p>
      )}
      {plan && plan.unchecked_tenants.length > 0 && (
        <p className="person-warning" role="alert" data-testid="contain-unchecked">
          Not checked: the person could not be looked up in{" "}
          {plan.unchecked_tenants.map((t) => `tenant ${t}`).join(", ")}. An account there is not
          contained.
        </p>
      )}
      {plan && (
        <div className="contain-plan" data-testid="contain-plan">
          {tenants.length === 0 && <p className="muted">No account to act on.</p>}
          {tenants.map(([tenant, items]) => (
            <section key={tenant} className="contain-tenant" data-tenant={tenant}>
              <h3>Tenant {tenant}</h3>
              <ul>
                {items.map((i) => (
                  <PlanItem key={`${i.user_id}\u0000${i.step}`} item={i} />
                ))}
              </ul>
            </section>
          ))}
        </div>
      )}
    </ConfirmDialog>
  );
}
