import {
  type FormEvent,
  type KeyboardEvent,
  useEffect,
  useId,
  useMemo,
  useRef,
  useState,
} from "react";
import { FormField } from "../../components/FormField";
import type { ConnectorKind } from "../../ipc/bindings/ConnectorKind";
import type { KindInfo } from "../../ipc/bindings/KindInfo";
import type { TenantCheck } from "../../ipc/bindings/TenantCheck";
import type { TenantConfig } from "../../ipc/bindings/TenantConfig";
import type { TenantView } from "../../ipc/bindings/TenantView";
import { errorCode, errorMessage, saveTenant, testTenant } from "../../ipc/ipc";
import { alertDefaults } from "../../lib/alertDefaults";
import {
  type AlertErrors,
  type AlertNumber,
  type AlertToggle,
  alertsFromDraft,
  completeAlerts,
  draftFromAlerts,
  NUMBER_RULE,
  sameAlerts,
  validateAlerts,
} from "../../lib/alertRules";
import { trapTab } from "../../lib/focusTrap";
import {
  configFromDraft,
  type DraftErrors,
  type DraftField,
  draftFromConfig,
  emptyDraft,
  isPlainHttpToRemote,
  type TenantDraft,
  tenantFieldError,
  timeZoneNames,
  validateDraft,
} from "../../lib/tenants";
import { AlertRulesSection } from "../alerts/AlertRulesSection";
import { type CheckState, TenantCheckPanel } from "./TenantCheckPanel";

export type TenantFormProps = {
  /** The tenant being edited; null adds a new one. */
  editing: TenantView | null;
  kinds: readonly KindInfo[] | undefined;
  kindsError: unknown;
  /** The poll interval a new tenant starts with (Settings); undefined: not loaded yet. */
  defaultPollSecs?: number | undefined;
  onCancel: () => void;
  onSaved: (saved: TenantView, added: boolean) => void;
};

function saveErrorHint(code: string | undefined): string | null {
  switch (code) {
    case "secret_store":
      return "The system keychain is unavailable or locked: unlock it (or sign in to your desktop session) and save again.";
    case "conflict":
      return "Another tenant already uses this name.";
    case "config":
      return "Vigil did not change the configuration file.";
    default:
      return null;
  }
}

/** Add/Edit tenant dialog. The secret lives only in the password input, never in state. */
export function TenantForm({
  editing,
  kinds,
  kindsError,
  defaultPollSecs,
  onCancel,
  onSaved,
}: TenantFormProps) {
  const isEdit = editing !== null;
  const originalKind: ConnectorKind | null = editing?.config.kind ?? null;
  const [draft, setDraft] = useState<TenantDraft>(() => {
    if (editing) return draftFromConfig(editing.config);
    const d = emptyDraft(kinds?.[0]?.kind ?? "");
    return defaultPollSecs === undefined ? d : { ...d, pollInterval: String(defaultPollSecs) };
  });
  const [errors, setErrors] = useState<DraftErrors>({});
  // Alert rules start from what the tenant has, else the defaults. They are sent only when
  // the tenant had them or they changed: otherwise the file is left without the table.
  const hadAlerts = editing?.config.alerts != null;
  const [alertsBase] = useState(() => completeAlerts(editing?.config.alerts));
  const [alerts, setAlerts] = useState(() => draftFromAlerts(alertsBase));
  const [alertErrors, setAlertErrors] = useState<AlertErrors>({});
  const alertsRef = useRef<HTMLDetailsElement>(null);
  const [formError, setFormError] = useState<unknown>(null);
  const [check, setCheck] = useState<CheckState | null>(null);
  const secretRef = useRef<HTMLInputElement>(null);
  const dialogRef = useRef<HTMLDivElement>(null);
  const firstRef = useRef<HTMLSelectElement>(null);
  const titleId = useId();
  const ids = useId();
  const zones = useMemo(timeZoneNames, []);

  // Kinds may arrive after the form opened.
  useEffect(() => {
    if (!draft.kind && kinds?.[0]) setDraft((d) => ({ ...d, kind: kinds[0]?.kind ?? "" }));
  }, [kinds, draft.kind]);

  // So may the settings: a new tenant's untouched interval takes their default.
  const pollTouched = useRef(isEdit || defaultPollSecs !== undefined);
  useEffect(() => {
    if (pollTouched.current || defaultPollSecs === undefined) return;
    pollTouched.current = true;
    setDraft((d) => ({ ...d, pollInterval: String(defaultPollSecs) }));
  }, [defaultPollSecs]);

  useEffect(() => {
    const previous = document.activeElement as HTMLElement | null;
    const first = firstRef.current;
    if (first && !first.disabled) first.focus();
    else dialogRef.current?.focus(); // kinds still loading: keep Esc and Tab inside
    return () => previous?.focus?.();
  }, []);

  const kind = kinds?.find((k) => k.kind === draft.kind);

  const update = (patch: Partial<TenantDraft>, field?: DraftField) => {
    setDraft((d) => ({ ...d, ...patch }));
    setCheck(null); // a result for another draft would mislead
    if (field && errors[field]) setErrors(({ [field]: _, ...rest }) => rest);
  };
  const setOption = (key: string, value: string) =>
    update({ options: { ...draft.options, [key]: value } }, `option:${key}`);

  const clearAlertError = (name: AlertNumber) => {
    if (alertErrors[name]) setAlertErrors(({ [name]: _, ...rest }) => rest);
  };
  const setAlertToggle = (name: AlertToggle, on: boolean) => {
    setAlerts((a) => ({ ...a, [name]: on }));
    setCheck(null);
    // A number whose rule is switched off is not used, so neither is its mistake.
    const number = (Object.keys(NUMBER_RULE) as AlertNumber[]).find((n) => NUMBER_RULE[n] === name);
    if (number && !on) clearAlertError(number);
  };
  const setAlertNumber = (name: AlertNumber, text: string) => {
    setAlerts((a) => ({ ...a, [name]: text }));
    setCheck(null);
    clearAlertError(name);
  };
  const resetAlerts = () => {
    // Muted rules have no control here: they stay as the tenant has them.
    setAlerts((a) => ({ ...draftFromAlerts(alertDefaults()), muted: a.muted }));
    setAlertErrors({});
    setCheck(null);
  };

  /** Validates; on mistakes shows them, focuses the first and returns null. */
  const prepare = (forSave: boolean): { config: TenantConfig; secret: string | null } | null => {
    const secret = secretRef.current?.value ?? "";
    const found = validateDraft(draft, kind, {
      secretTyped: secret !== "",
      secretRequired: forSave && !isEdit,
    });
    const foundAlerts = validateAlerts(alerts);
    setErrors(found);
    setAlertErrors(foundAlerts);
    const first = Object.keys(found)[0] ?? Object.keys(foundAlerts).map((n) => `alerts:${n}`)[0];
    if (first) {
      // Mistakes in the alert rules must be visible, even when another field has focus.
      if (Object.keys(foundAlerts).length > 0 && alertsRef.current) alertsRef.current.open = true;
      const el = dialogRef.current?.querySelector<HTMLElement>(`[data-field="${first}"]`);
      el?.focus();
      return null;
    }
    const config = configFromDraft(draft, kind, originalKind);
    const settings = alertsFromDraft(alerts, alertsBase);
    if (hadAlerts || !sameAlerts(settings, alertsBase)) config.alerts = settings;
    return { config, secret: secret || null };
  };

  /** Shows a rejected field under its input; false when the error names none the form has. */
  const showFieldError = (err: unknown): boolean => {
    const onField = errorCode(err) === "invalid_input" ? tenantFieldError(errorMessage(err)) : null;
    if (!onField) return false;
    setErrors((e) => ({ ...e, [onField.field]: onField.why }));
    dialogRef.current?.querySelector<HTMLElement>(`[data-field="${onField.field}"]`)?.focus();
    return true;
  };

  // Plain async calls rather than mutations: a mutation would keep the secret in its
  // variables (in the mutation cache) after the dialog closed.
  const [busy, setBusy] = useState(false);
  const [testing, setTesting] = useState(false);
  const alive = useRef(true);
  useEffect(() => {
    alive.current = true;
    return () => {
      alive.current = false;
    };
  }, []);

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    if (busy) return;
    setFormError(null);
    const v = prepare(true);
    if (!v) return;
    setBusy(true);
    try {
      const saved = await saveTenant(v.config, v.secret, editing?.config.name ?? null);
      if (secretRef.current) secretRef.current.value = "";
      if (alive.current) setBusy(false);
      onSaved(saved, !isEdit);
    } catch (err) {
      if (!alive.current) return;
      setBusy(false);
      if (!showFieldError(err)) setFormError(err);
    }
  };

  const onTest = async () => {
    if (testing) return;
    setFormError(null);
    const v = prepare(false);
    if (!v) return;
    setTesting(true);
    setCheck({ status: "pending" });
    try {
      const result: TenantCheck = await testTenant(v.config, v.secret);
      if (alive.current) setCheck({ status: "done", check: result });
    } catch (error) {
      if (!alive.current) return;
      setCheck(showFieldError(error) ? null : { status: "failed", error });
    } finally {
      if (alive.current) setTesting(false);
    }
  };

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      if (!busy) onCancel();
      return;
    }
    trapTab(e, dialogRef.current);
  };

  /** The id and error of a field, for its FormField. */
  const wiring = (name: DraftField) => ({
    id: `${ids}-${name}`,
    field: name,
    error: errors[name],
    errorTestId: "tenant-field-error",
    announceError: false,
  });

  const required = (
    <abbr className="required" title="required">
      *
    </abbr>
  );
  const hint = saveErrorHint(errorCode(formError));

  return (
    <div className="backdrop">
      <div
        ref={dialogRef}
        className="dialog dialog-wide"
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        data-testid="tenant-form"
        tabIndex={-1}
        onKeyDown={onKeyDown}
      >
        <h2 id={titleId}>{isEdit ? `Edit tenant ${editing.config.name}` : "Add tenant"}</h2>
        <form className="tenant-form" onSubmit={(e) => void onSubmit(e)} noValidate>
          <FormField
            {...wiring("kind")}
            label={<>Kind {required}</>}
            hint={
              kindsError ? (
                <span className="tenant-error">
                  Could not load the connector kinds: {errorMessage(kindsError)}
                </span>
              ) : (
                kind?.description
              )
            }
          >
            {(p) => (
              <select
                {...p}
                ref={firstRef}
                data-testid="tenant-kind"
                value={draft.kind}
                disabled={!kinds || kinds.length === 0}
                onChange={(e) => update({ kind: e.target.value as ConnectorKind }, "kind")}
              >
                {!kinds && <option value="">{kindsError ? "Unavailable" : "Loading…"}</option>}
                {kinds?.map((k) => (
                  <option key={k.kind} value={k.kind}>
                    {k.label}
                  </option>
                ))}
              </select>
            )}
          </FormField>
          <FormField
            {...wiring("name")}
            label={<>Name {required}</>}
            hint="Letters, digits, dots, dashes and underscores; shown in the Tenant column."
          >
            {(p) => (
              <input
                {...p}
                data-testid="tenant-name"
                value={draft.name}
                onChange={(e) => update({ name: e.target.value }, "name")}
                spellCheck={false}
                autoComplete="off"
                maxLength={64}
              />
            )}
          </FormField>
          <FormField {...wiring("url")} label={<>URL {required}</>}>
            {(p) => (
              <input
                {...p}
                type="url"
                data-testid="tenant-url"
                value={draft.url}
                placeholder={kind?.url_hint ?? "https://"}
                onChange={(e) => update({ url: e.target.value }, "url")}
                spellCheck={false}
                autoComplete="off"
              />
            )}
          </FormField>
          {kind?.options.map((f) => (
            <FormField
              key={`option:${f.key}`}
              {...wiring(`option:${f.key}`)}
              label={
                <>
                  {f.label} {f.required && required}
                </>
              }
              hint={f.help || undefined}
            >
              {(p) => (
                <input
                  {...p}
                  data-testid={`tenant-option-${f.key}`}
                  value={draft.options[f.key] ?? ""}
                  required={f.required}
                  onChange={(e) => setOption(f.key, e.target.value)}
                  spellCheck={false}
                  autoComplete="off"
                />
              )}
            </FormField>
          ))}
          {isPlainHttpToRemote(draft.url) && (
            <div className="form-field check-field">
              <label htmlFor={`${ids}-plain-http`} className="toggle">
                <input
                  id={`${ids}-plain-http`}
                  type="checkbox"
                  data-testid="tenant-allow-plain-http"
                  checked={draft.allowPlainHttp}
                  aria-describedby={draft.allowPlainHttp ? `${ids}-plain-http-warn` : undefined}
                  onChange={(e) => update({ allowPlainHttp: e.target.checked }, "url")}
                />
                <span>Allow plain HTTP (the credential crosses the network unencrypted)</span>
              </label>
              {draft.allowPlainHttp && (
                <span
                  className="field-help check-warn"
                  id={`${ids}-plain-http-warn`}
                  data-testid="tenant-plain-http-warning"
                >
                  ⚠ Anyone on the network path to this host can read the admin credential. Use
                  https:// unless the network is yours alone.
                </span>
              )}
            </div>
          )}
          <FormField
            {...wiring("caCertificate")}
            label="CA certificate (PEM file)"
            hint="Only for a tenant whose certificate comes from a private CA. Full path of a PEM file; the system's trusted roots are always used."
          >
            {(p) => (
              <input
                {...p}
                data-testid="tenant-ca-certificate"
                value={draft.caCertificate}
                onChange={(e) => update({ caCertificate: e.target.value }, "caCertificate")}
                spellCheck={false}
                autoComplete="off"
              />
            )}
          </FormField>
          <FormField
            {...wiring("secret")}
            label={
              <>
                {kind?.secret_label ?? "Secret"} {!isEdit && required}
              </>
            }
            hint={
              isEdit
                ? "Stored in the system keychain. Leave empty to keep the stored secret."
                : "Stored in the system keychain, never in the configuration file."
            }
          >
            {(p) => (
              <input
                {...p}
                ref={secretRef}
                type="password"
                data-testid="tenant-secret"
                defaultValue=""
                placeholder={isEdit ? "Leave empty to keep the stored secret" : undefined}
                onChange={() => {
                  setCheck(null);
                  if (errors.secret) setErrors(({ secret: _, ...rest }) => rest);
                }}
                autoComplete="new-password"
                spellCheck={false}
              />
            )}
          </FormField>
          <div className="form-row">
            <FormField
              {...wiring("timezone")}
              label="Timezone"
              hint="Empty: the tenant's own timezone."
            >
              {(p) => (
                <>
                  <input
                    {...p}
                    data-testid="tenant-timezone"
                    value={draft.timezone}
                    list={zones.length > 0 ? `${ids}-zones` : undefined}
                    placeholder="e.g. Europe/Berlin"
                    onChange={(e) => update({ timezone: e.target.value }, "timezone")}
                    spellCheck={false}
                    autoComplete="off"
                  />
                  {zones.length > 0 && (
                    <datalist id={`${ids}-zones`}>
                      {zones.map((z) => (
                        <option key={z} value={z} />
                      ))}
                    </datalist>
                  )}
                </>
              )}
            </FormField>
            <FormField {...wiring("pollInterval")} label="Poll interval (seconds)">
              {(p) => (
                <input
                  {...p}
                  type="number"
                  min={1}
                  step={1}
                  data-testid="tenant-poll-interval"
                  value={draft.pollInterval}
                  onChange={(e) => {
                    pollTouched.current = true;
                    update({ pollInterval: e.target.value }, "pollInterval");
                  }}
                />
              )}
            </FormField>
          </div>
          <FormField
            {...wiring("hours")}
            label="Working hours"
            hint="Ranges separated by “;”, e.g. mon-fri 08:00-18:00; sat 09:00-12:00"
          >
            {(p) => (
              <input
                {...p}
                data-testid="tenant-hours"
                value={draft.hours}
                placeholder="mon-fri 08:00-18:00"
                onChange={(e) => update({ hours: e.target.value }, "hours")}
                spellCheck={false}
                autoComplete="off"
              />
            )}
          </FormField>
          <FormField
            {...wiring("holidays")}
            label="Holidays"
            hint="Dates (YYYY-MM-DD), separated by commas."
          >
            {(p) => (
              <input
                {...p}
                data-testid="tenant-holidays"
                value={draft.holidays}
                placeholder="2025-12-25, 2025-12-26"
                onChange={(e) => update({ holidays: e.target.value }, "holidays")}
                spellCheck={false}
                autoComplete="off"
              />
            )}
          </FormField>
          <div className="form-field">
            <label htmlFor={`${ids}-tags`}>Tags</label>
            <input
              id={`${ids}-tags`}
              data-testid="tenant-tags"
              value={draft.tags}
              placeholder="production, eu"
              onChange={(e) => update({ tags: e.target.value })}
              spellCheck={false}
              autoComplete="off"
            />
            <span className="field-help">Separated by commas; the Tenants list groups by tag.</span>
          </div>

          <AlertRulesSection
            idPrefix={ids}
            draft={alerts}
            errors={alertErrors}
            onToggle={setAlertToggle}
            onNumber={setAlertNumber}
            onReset={resetAlerts}
            detailsRef={alertsRef}
          />

          {check && <TenantCheckPanel state={check} />}
          {formError !== null && (
            <div className="form-error" data-testid="tenant-form-error" role="alert">
              {errorMessage(formError)}
              {hint && <span className="muted"> {hint}</span>}
            </div>
          )}

          <div className="dialog-actions">
            <button
              type="button"
              className="button"
              data-testid="tenant-form-test"
              onClick={() => void onTest()}
              disabled={testing || !kind}
              title="Connect with these settings without saving them"
            >
              {testing ? "Testing…" : "Test connection"}
            </button>
            <span className="spacer" />
            <button type="button" className="button" onClick={onCancel} disabled={busy}>
              Cancel
            </button>
            <button
              type="submit"
              className="button primary"
              data-testid="tenant-save"
              disabled={busy || !kind}
            >
              {busy ? "Saving…" : isEdit ? "Save" : "Add tenant"}
            </button>
          </div>
        </form>
      </div>
    </div>
  );
}
