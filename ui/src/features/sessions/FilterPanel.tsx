import { useId, useState } from "react";
import { DateTimeInput } from "../../components/DateTimeInput";
import { Popover } from "../../components/Popover";
import type { Facets } from "../../ipc/bindings/Facets";
import type { FacetValue } from "../../ipc/bindings/FacetValue";
import type {
  ConsoleFilter,
  Flag,
  FlagKey,
  ListKey,
  TextKey,
  TimeKey,
} from "../../lib/consoleState";
import { formatCount } from "../../lib/format";

export type FilterErrors = Partial<Record<keyof ConsoleFilter, string>>;

const TEXT_FIELDS: readonly { key: TextKey; label: string; placeholder: string }[] = [
  { key: "username", label: "User name", placeholder: "contains…" },
  { key: "user", label: "User (exact)", placeholder: "exact user name" },
  { key: "name", label: "Name", placeholder: "display, first or last" },
  { key: "department", label: "Department", placeholder: "contains…" },
  { key: "organisation", label: "Organisation", placeholder: "contains…" },
  { key: "ip", label: "IP or CIDR", placeholder: "10.0.0.0/8, 2001:db8::/32" },
  { key: "user_agent", label: "Browser / OS", placeholder: "user agent contains…" },
  { key: "server_name", label: "Server", placeholder: "contains…" },
  { key: "session_id", label: "Session ID", placeholder: "contains…" },
  { key: "user_id", label: "User ID (exact)", placeholder: "exact user id" },
];

const LIST_FIELDS: readonly { key: ListKey; label: string; facet: keyof Facets }[] = [
  { key: "tenants", label: "Tenants", facet: "tenants" },
  { key: "session_types", label: "Session type", facet: "session_types" },
  { key: "login_types", label: "Login type", facet: "login_types" },
];

const FLAG_FIELDS: readonly { key: FlagKey; label: string }[] = [
  { key: "protected", label: "Protected" },
  { key: "disabled", label: "Disabled" },
  { key: "current", label: "Own session" },
];

const TIME_FIELDS: readonly { label: string; from: TimeKey; to: TimeKey }[] = [
  { label: "Login time", from: "created_from", to: "created_to" },
  { label: "Last activity", from: "last_activity_from", to: "last_activity_to" },
  { label: "Expires", from: "expires_from", to: "expires_to" },
];

export type FilterPanelProps = {
  filter: ConsoleFilter;
  onChange: (patch: Partial<ConsoleFilter>) => void;
  errors: FilterErrors;
  facets: Facets | undefined;
  /** Tenant names known from the summary (offered even before facets arrive). */
  tenantNames: readonly string[];
};

/** Lists longer than this get a search box (a thousand tenants is a real fleet). */
export const FIND_FROM = 20;
/** At most this many options are in the panel at once; typing narrows them. */
export const OPTIONS_SHOWN = 100;

function ListFilter(props: {
  id: string;
  label: string;
  testId: string;
  values: readonly string[];
  options: readonly FacetValue[];
  onChange: (values: string[]) => void;
}) {
  const { values, options } = props;
  const [find, setFind] = useState("");
  const chosen = new Set(values);
  const offered = new Set(options.map((o) => o.value));
  // Chosen values stay offered even when no session has them right now.
  const all = [
    ...options,
    ...values.filter((v) => !offered.has(v)).map((v) => ({ value: v, count: 0 })),
  ];
  const findable = all.length > FIND_FROM;
  const needle = find.trim().toLowerCase();
  const matching = needle === "" ? all : all.filter((o) => o.value.toLowerCase().includes(needle));
  // The chosen ones first, so that unticking one never needs a search.
  const ordered = findable
    ? [
        ...matching.filter((o) => chosen.has(o.value)),
        ...matching.filter((o) => !chosen.has(o.value)),
      ]
    : matching;
  const shown = ordered.slice(0, OPTIONS_SHOWN);
  const summary =
    values.length === 0 ? "any" : values.length === 1 ? values[0] : `${values.length} selected`;
  return (
    <div className="filter-field">
      <span className="filter-label" id={props.id}>
        {props.label}
      </span>
      <Popover
        label={
          <>
            <span className="multi-value">{summary}</span> <span aria-hidden="true">▾</span>
          </>
        }
        ariaLabel={`${props.label}: ${summary}`}
        buttonClass={`filter-multi${values.length > 0 ? " active" : ""}`}
        testId={props.testId}
      >
        <fieldset className="multi-options" aria-labelledby={props.id}>
          {findable && (
            <input
              type="search"
              className="filter-input multi-find"
              data-testid={`${props.testId}-find`}
              aria-label={`Find ${props.label.toLowerCase()}`}
              placeholder={`Find among ${formatCount(all.length)}…`}
              value={find}
              spellCheck={false}
              autoComplete="off"
              onChange={(e) => setFind(e.target.value)}
            />
          )}
          {all.length === 0 && <span className="muted">No values yet</span>}
          {all.length > 0 && matching.length === 0 && (
            <span className="muted">No {props.label.toLowerCase()} match</span>
          )}
          {shown.map((o) => (
            <label key={o.value} className="multi-option">
              <input
                type="checkbox"
                data-testid={`${props.testId}-option`}
                data-value={o.value}
                checked={chosen.has(o.value)}
                onChange={(e) =>
                  props.onChange(
                    e.target.checked ? [...values, o.value] : values.filter((v) => v !== o.value),
                  )
                }
              />
              <span className="multi-option-value">{o.value}</span>
              <span className="muted">{formatCount(o.count)}</span>
            </label>
          ))}
          {ordered.length > shown.length && (
            <span className="muted" data-testid={`${props.testId}-more`}>
              {formatCount(ordered.length - shown.length)} more: type to narrow
            </span>
          )}
          {values.length > 0 && (
            <button type="button" className="link-button" onClick={() => props.onChange([])}>
              Any {props.label.toLowerCase()}
            </button>
          )}
        </fieldset>
      </Popover>
    </div>
  );
}

/** A filter for every column: texts, IP/CIDR, value lists from the facets, flags, time ranges. */
export function FilterPanel({ filter, onChange, errors, facets, tenantNames }: FilterPanelProps) {
  const id = useId();
  const options = (key: keyof Facets): FacetValue[] => {
    const fromFacets = facets?.[key] ?? [];
    if (key !== "tenants") return fromFacets;
    const known = new Set(fromFacets.map((f) => f.value));
    return [
      ...fromFacets,
      ...tenantNames.filter((t) => !known.has(t)).map((t) => ({ value: t, count: 0 })),
    ];
  };
  return (
    <section className="filter-panel" aria-label="Column filters" data-testid="filter-panel">
      {LIST_FIELDS.map((f) => (
        <ListFilter
          key={f.key}
          id={`${id}-${f.key}`}
          label={f.label}
          testId={`filter-${f.key}`}
          values={filter[f.key]}
          options={options(f.facet)}
          onChange={(values) => onChange({ [f.key]: values })}
        />
      ))}
      {TEXT_FIELDS.map((f) => {
        const error = errors[f.key];
        const inputId = `${id}-${f.key}`;
        return (
          <div key={f.key} className={`filter-field${f.key === "ip" ? " filter-ip" : ""}`}>
            <label className="filter-label" htmlFor={inputId}>
              {f.label}
            </label>
            <input
              id={inputId}
              type="search"
              className={`filter-input${filter[f.key].trim() !== "" ? " active" : ""}`}
              data-testid={`filter-${f.key}`}
              placeholder={f.placeholder}
              value={filter[f.key]}
              aria-invalid={error ? true : undefined}
              aria-describedby={error ? `${inputId}-error` : undefined}
              spellCheck={false}
              autoComplete="off"
              onChange={(e) => onChange({ [f.key]: e.target.value })}
              onKeyDown={(e) => {
                if (e.key === "Escape" && filter[f.key] !== "") {
                  e.preventDefault();
                  e.stopPropagation();
                  onChange({ [f.key]: "" });
                }
              }}
            />
            {error && (
              <span
                id={`${inputId}-error`}
                className="field-error"
                role="alert"
                data-testid={`filter-${f.key}-error`}
              >
                {error}
              </span>
            )}
          </div>
        );
      })}
      {FLAG_FIELDS.map((f) => (
        <div key={f.key} className="filter-field">
          <label className="filter-label" htmlFor={`${id}-${f.key}`}>
            {f.label}
          </label>
          <select
            id={`${id}-${f.key}`}
            className={`filter-input${filter[f.key] !== "" ? " active" : ""}`}
            data-testid={`filter-${f.key}`}
            value={filter[f.key]}
            onChange={(e) => onChange({ [f.key]: e.target.value as Flag })}
          >
            <option value="">Any</option>
            <option value="yes">Yes</option>
            <option value="no">No</option>
          </select>
        </div>
      ))}
      {TIME_FIELDS.map((f) => (
        <fieldset key={f.from} className="filter-field filter-range">
          <legend className="filter-label">{f.label}</legend>
          {([f.from, f.to] as const).map((key, i) => {
            const error = errors[key];
            const label = `${f.label} ${i === 0 ? "from" : "to"}`;
            return (
              <span key={key} className="range-part">
                <DateTimeInput
                  step={1}
                  className="filter-input"
                  data-testid={`filter-${key}`}
                  aria-label={label}
                  title={i === 0 ? `${f.label} at or after` : `${f.label} before`}
                  value={filter[key]}
                  aria-invalid={error ? true : undefined}
                  aria-describedby={error ? `${id}-${key}-error` : undefined}
                  onChange={(value) => onChange({ [key]: value })}
                />
                {error && (
                  <span
                    id={`${id}-${key}-error`}
                    className="field-error"
                    role="alert"
                    data-testid={`filter-${key}-error`}
                  >
                    {error}
                  </span>
                )}
              </span>
            );
          })}
        </fieldset>
      ))}
    </section>
  );
}
