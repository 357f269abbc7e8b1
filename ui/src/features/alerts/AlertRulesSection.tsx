import type { ReactNode, Ref } from "react";
import {
  ALERT_RANGES,
  type AlertErrors,
  type AlertNumber,
  type AlertsDraft,
  type AlertToggle,
  alertsSummary,
  numberInUse,
  TOGGLE_RULE,
} from "../../lib/alertRules";
import { ruleLabel } from "../../lib/alerts";

/** Each number's `data-testid`: `alerts-<suffix>`, its error `alerts-<suffix>-error`. */
const NUMBER_TEST_IDS: Record<AlertNumber, string> = {
  max_travel_kmh: "max-travel-kmh",
  max_session_age_hours: "max-session-age-hours",
  max_concurrent_sessions: "max-concurrent-sessions",
  digest_over: "digest-over",
  max_per_minute: "max-per-minute",
};

type NumberSpec = { name: AlertNumber; label: string; unit: string; hint?: string };

type RuleSpec = {
  toggle: AlertToggle;
  label: string;
  hint: ReactNode;
  number?: NumberSpec;
};

const RULES: RuleSpec[] = [
  {
    toggle: "superuser_sign_in",
    label: ruleLabel("superuser_sign_in"),
    hint: "A user with SuperUser rights signs in.",
  },
  {
    toggle: "odd_hours",
    label: ruleLabel("odd_hours"),
    hint: "A sign-in outside working hours, by the timezone, working hours and holidays above.",
  },
  {
    toggle: "multiple_networks",
    label: ruleLabel("multiple_networks"),
    hint: "One user has sessions from several networks at once.",
  },
  {
    toggle: "impossible_travel",
    label: ruleLabel("impossible_travel"),
    hint: "Two places of one user too far apart for the time between; needs a GeoIP database in Settings.",
    number: { name: "max_travel_kmh", label: "Fastest travel", unit: "km/h" },
  },
  {
    toggle: "new_ip",
    label: ruleLabel("new_ip"),
    hint: "A user signs in from an address not seen for them before.",
  },
  {
    toggle: "tenant_problems",
    label: ruleLabel("tenant_problem"),
    hint: "The tenant is unreachable, rejects the credential or rate-limits Vigil.",
  },
  {
    toggle: "long_sessions",
    label: ruleLabel("long_session"),
    hint: "A session stays open too long.",
    number: { name: "max_session_age_hours", label: "Older than", unit: "hours" },
  },
  {
    toggle: "too_many_sessions",
    label: ruleLabel("too_many_sessions"),
    hint: "One user holds too many sessions at once.",
    number: { name: "max_concurrent_sessions", label: "More than", unit: "per user" },
  },
];

export type AlertRulesSectionProps = {
  /** Prefix for element ids (the form's useId). */
  idPrefix: string;
  draft: AlertsDraft;
  errors: AlertErrors;
  onToggle: (name: AlertToggle, on: boolean) => void;
  onNumber: (name: AlertNumber, text: string) => void;
  onReset: () => void;
  /** The <details>, so that the form can open it to show a mistake. */
  detailsRef?: Ref<HTMLDetailsElement>;
};

/** The tenant's alert rule settings, a closed section of the tenant form. */
export function AlertRulesSection({
  idPrefix,
  draft,
  errors,
  onToggle,
  onNumber,
  onReset,
  detailsRef,
}: AlertRulesSectionProps) {
  const id = (suffix: string) => `${idPrefix}-alerts-${suffix}`;

  const numberField = ({ name, label, unit, hint }: NumberSpec) => {
    const inputId = id(name);
    const err = errors[name];
    const { min, max } = ALERT_RANGES[name];
    const describedBy = [
      `${inputId}-unit`,
      hint ? `${inputId}-help` : "",
      err ? `${inputId}-err` : "",
    ]
      .filter(Boolean)
      .join(" ");
    return (
      <div className="alert-number">
        <span className="alert-number-line">
          <label htmlFor={inputId}>{label}</label>
          <input
            id={inputId}
            type="number"
            min={min}
            max={max}
            step={1}
            inputMode="numeric"
            data-field={`alerts:${name}`}
            data-testid={`alerts-${NUMBER_TEST_IDS[name]}`}
            value={draft[name]}
            disabled={!numberInUse(draft, name)}
            aria-invalid={err !== undefined}
            aria-describedby={describedBy}
            onChange={(e) => onNumber(name, e.target.value)}
          />
          <span id={`${inputId}-unit`}>
            {unit}
            <span className="sr-only">
              {" "}
              ({min}–{max.toLocaleString("en")})
            </span>
          </span>
        </span>
        {hint && (
          <span className="field-help" id={`${inputId}-help`}>
            {hint}
          </span>
        )}
        {err && (
          <span
            className="field-error"
            id={`${inputId}-err`}
            role="alert"
            data-testid={`alerts-${NUMBER_TEST_IDS[name]}-error`}
          >
            {err}
          </span>
        )}
      </div>
    );
  };

  const toggleField = (toggle: AlertToggle, label: string, hint: ReactNode, extra?: ReactNode) => {
    const inputId = id(toggle);
    const rule = TOGGLE_RULE[toggle];
    const muted = rule !== undefined && draft.muted.includes(rule);
    return (
      <div className="form-field check-field alert-rule" key={toggle}>
        <label htmlFor={inputId} className="toggle">
          <input
            id={inputId}
            type="checkbox"
            data-testid={`alerts-${toggle}`}
            checked={draft[toggle]}
            aria-describedby={`${inputId}-help`}
            onChange={(e) => onToggle(toggle, e.target.checked)}
          />
          <span>{label}</span>
        </label>
        <span className="field-help" id={`${inputId}-help`}>
          {hint}
          {muted && (
            <span className="alert-muted" data-testid={`alerts-muted-${rule}`}>
              {" "}
              Muted for this tenant in the configuration file.
            </span>
          )}
        </span>
        {extra}
      </div>
    );
  };

  return (
    <details className="alert-rules" data-testid="alerts-section" ref={detailsRef}>
      <summary data-testid="alerts-summary">{alertsSummary(draft)}</summary>
      <div className="alert-rules-body">
        <fieldset>
          <legend>Alert when</legend>
          {RULES.map((r) =>
            toggleField(r.toggle, r.label, r.hint, r.number && numberField(r.number)),
          )}
        </fieldset>
        <fieldset>
          <legend>How many</legend>
          {toggleField(
            "alert_on_existing",
            "Alert on sessions found at start",
            "Off: sessions already open when Vigil starts do not alert.",
          )}
          {numberField({
            name: "digest_over",
            label: "Digest above",
            unit: "alerts per poll",
            hint: "More alerts of one rule in one poll arrive as a single digest.",
          })}
          {numberField({
            name: "max_per_minute",
            label: "Announce at most",
            unit: "per minute",
            hint: "Further alerts wait in the Alerts view; one summary says how many.",
          })}
        </fieldset>
        <div className="alert-rules-actions">
          <button type="button" className="button" data-testid="alerts-reset" onClick={onReset}>
            Reset to defaults
          </button>
          {draft.muted.length > 0 && (
            <span className="field-help">
              Muted rules ({draft.muted.map(ruleLabel).join(", ")}) stay as the configuration file
              has them.
            </span>
          )}
        </div>
      </div>
    </details>
  );
}
