import { useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, type ReactNode, useEffect, useId, useRef, useState } from "react";
import { FormField } from "../../components/FormField";
import { SaveBar } from "../../components/SaveBar";
import { appStatusQueryOptions, queryKeys, settingsQueryOptions } from "../../hooks/queries";
import type { AppSettings } from "../../ipc/bindings/AppSettings";
import type { Severity } from "../../ipc/bindings/Severity";
import type { Theme } from "../../ipc/bindings/Theme";
import { errorCode, errorMessage, saveSettings } from "../../ipc/ipc";
import { applyTheme } from "../../lib/theme";
import { SharedAuditSection } from "../audit/SharedAuditSection";
import { PoliciesSection } from "../policies/PoliciesSection";
import { RoutesSection } from "../routes/RoutesSection";
import { TuningSection } from "../routes/TuningSection";
import { Support } from "./SupportSection";
import {
  type Draft,
  draftOf,
  type Errors,
  FIELDS,
  type Field,
  fieldError,
  RANGES,
  SEVERITIES,
  saveErrorHint,
  settingsOf,
  TEST_IDS,
  THEMES,
  validate,
} from "./settingsDraft";

type FormProps = {
  stored: AppSettings;
};

function SettingsForm({ stored }: FormProps) {
  const qc = useQueryClient();
  const ids = useId();
  const formRef = useRef<HTMLFormElement>(null);
  /** Only the fields the user changed: the rest follow the stored settings. */
  const [edits, setEdits] = useState<Partial<Draft>>({});
  const [errors, setErrors] = useState<Errors>({});
  const [formError, setFormError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  const alive = useRef(true);
  useEffect(() => {
    alive.current = true;
    return () => {
      alive.current = false;
    };
  }, []);

  const base = draftOf(stored);
  const draft: Draft = { ...base, ...edits };
  const dirty = FIELDS.some((f) => draft[f] !== base[f]);

  // The theme shows at once; leaving without saving brings back the stored one.
  useEffect(() => {
    applyTheme(draft.theme);
  }, [draft.theme]);
  useEffect(
    () => () => {
      const theme = qc.getQueryData<AppSettings>(queryKeys.settings)?.theme;
      applyTheme(theme ?? "system");
    },
    [qc],
  );

  useEffect(() => {
    if (!saved) return;
    const t = setTimeout(() => setSaved(false), 6_000);
    return () => clearTimeout(t);
  }, [saved]);

  const set = <K extends Field>(field: K, value: Draft[K]) => {
    setEdits((e) => ({ ...e, [field]: value }));
    setSaved(false);
    if (errors[field]) setErrors(({ [field]: _, ...rest }) => rest);
  };

  const focusField = (field: Field) =>
    formRef.current?.querySelector<HTMLElement>(`[data-field="${field}"]`)?.focus();

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    if (busy || !dirty) return;
    setFormError(null);
    setSaved(false);
    const found = validate(draft);
    setErrors(found);
    const first = FIELDS.find((f) => found[f] !== undefined);
    if (first) {
      focusField(first);
      return;
    }
    setBusy(true);
    try {
      const result = await saveSettings(settingsOf(draft));
      qc.setQueryData(queryKeys.settings, result);
      if (!alive.current) return;
      setEdits({});
      setSaved(true);
    } catch (err) {
      if (!alive.current) return;
      const onField = errorCode(err) === "invalid_input" ? fieldError(errorMessage(err)) : null;
      if (onField) {
        setErrors({ [onField.field]: onField.why });
        focusField(onField.field);
      } else {
        setFormError(err);
        // The back end may have stored the settings before failing (start at login).
        void qc.invalidateQueries({ queryKey: queryKeys.settings });
      }
    } finally {
      if (alive.current) setBusy(false);
    }
  };

  const onRevert = () => {
    setEdits({});
    setErrors({});
    setFormError(null);
    setSaved(false);
  };

  /** The id, test ids and error of a field, for its FormField. */
  const wiring = (name: Field) => ({
    id: `${ids}-${name}`,
    field: name,
    testId: `settings-${TEST_IDS[name]}`,
    error: errors[name],
    errorTestId: `settings-${TEST_IDS[name]}-error`,
  });

  const hint = saveErrorHint(errorCode(formError));

  return (
    <form
      ref={formRef}
      className="settings-form"
      onSubmit={(e) => void onSubmit(e)}
      noValidate
      aria-label="App settings"
    >
      <section className="settings-section" aria-labelledby={`${ids}-polling`}>
        <h3 id={`${ids}-polling`}>Polling and history</h3>
        <FormField
          {...wiring("default_poll_interval_secs")}
          label="Default poll interval (seconds)"
          hint="Offered for new tenants; each tenant keeps its own interval."
        >
          {(p) => (
            <input
              {...p}
              type="number"
              min={RANGES.default_poll_interval_secs.min}
              max={RANGES.default_poll_interval_secs.max}
              step={1}
              inputMode="numeric"
              value={draft.default_poll_interval_secs}
              onChange={(e) => set("default_poll_interval_secs", e.target.value)}
            />
          )}
        </FormField>
        <FormField
          {...wiring("history_retention_days")}
          label="Keep session history (days)"
          hint="Older login history is deleted. The audit log is never pruned."
        >
          {(p) => (
            <input
              {...p}
              type="number"
              min={RANGES.history_retention_days.min}
              max={RANGES.history_retention_days.max}
              step={1}
              inputMode="numeric"
              value={draft.history_retention_days}
              onChange={(e) => set("history_retention_days", e.target.value)}
            />
          )}
        </FormField>
        <FormField
          {...wiring("geoip_database")}
          label="GeoIP database"
          hint="Full path of a MaxMind .mmdb city database (GeoLite2 or GeoIP2), used for session locations and impossible-travel alerts. Empty: none."
        >
          {(p) => (
            <input
              {...p}
              type="text"
              value={draft.geoip_database}
              placeholder="/path/to/GeoLite2-City.mmdb"
              onChange={(e) => set("geoip_database", e.target.value)}
              spellCheck={false}
              autoComplete="off"
            />
          )}
        </FormField>
      </section>

      <section className="settings-section" aria-labelledby={`${ids}-notify`}>
        <h3 id={`${ids}-notify`}>Notifications</h3>
        <FormField
          {...wiring("notifications")}
          label="Notify about new alerts"
          hint="System notifications; the Alerts view always lists every alert."
          check
        >
          {(p) => (
            <input
              {...p}
              type="checkbox"
              checked={draft.notifications}
              onChange={(e) => set("notifications", e.target.checked)}
            />
          )}
        </FormField>
        <FormField
          {...wiring("notify_min_severity")}
          label="Notify for"
          hint="The lowest alert severity that notifies."
        >
          {(p) => (
            <select
              {...p}
              value={draft.notify_min_severity}
              disabled={!draft.notifications}
              onChange={(e) => set("notify_min_severity", e.target.value as Severity)}
            >
              {SEVERITIES.map((s) => (
                <option key={s.value} value={s.value}>
                  {s.label}
                </option>
              ))}
            </select>
          )}
        </FormField>
      </section>

      <section className="settings-section" aria-labelledby={`${ids}-look`}>
        <h3 id={`${ids}-look`}>Appearance</h3>
        <FormField
          {...wiring("theme")}
          label="Theme"
          hint="System follows the light or dark mode of the operating system."
        >
          {(p) => (
            <select
              {...p}
              value={draft.theme}
              onChange={(e) => set("theme", e.target.value as Theme)}
            >
              {THEMES.map((t) => (
                <option key={t.value} value={t.value}>
                  {t.label}
                </option>
              ))}
            </select>
          )}
        </FormField>
      </section>

      <section className="settings-section" aria-labelledby={`${ids}-startup`}>
        <h3 id={`${ids}-startup`}>Start and tray</h3>
        <FormField
          {...wiring("start_at_login")}
          label="Start Vigil when I log in"
          hint="Vigil starts hidden in the tray."
          check
        >
          {(p) => (
            <input
              {...p}
              type="checkbox"
              checked={draft.start_at_login}
              onChange={(e) => set("start_at_login", e.target.checked)}
            />
          )}
        </FormField>
        <FormField
          {...wiring("keep_running_in_tray")}
          label="Keep running in the tray"
          hint="Closing the window keeps Vigil watching in the tray; Quit is in the tray menu."
          check
        >
          {(p) => (
            <input
              {...p}
              type="checkbox"
              checked={draft.keep_running_in_tray}
              onChange={(e) => set("keep_running_in_tray", e.target.checked)}
            />
          )}
        </FormField>
      </section>

      {formError !== null && (
        <div className="form-error" role="alert" data-testid="settings-error">
          {errorMessage(formError)}
          {hint && <span className="muted"> {hint}</span>}
        </div>
      )}

      <SaveBar
        label="Save"
        savedText="Settings saved"
        testIdPrefix="settings"
        dirty={dirty}
        busy={busy}
        saved={saved}
        onRevert={onRevert}
      />
    </form>
  );
}

/** The app's own settings (not a tenant's) and support tools. */
export function SettingsScreen() {
  const settingsQ = useQuery(settingsQueryOptions());
  const statusQ = useQuery(appStatusQueryOptions());
  const titleId = useId();

  let body: ReactNode;
  if (settingsQ.data) {
    body = <SettingsForm stored={settingsQ.data} />;
  } else if (settingsQ.isError) {
    body = (
      <div className="state error" role="alert" data-testid="settings-load-error">
        <strong>Could not load the settings</strong>
        <p className="error-message">{errorMessage(settingsQ.error)}</p>
        <button type="button" className="button" onClick={() => void settingsQ.refetch()}>
          Try again
        </button>
      </div>
    );
  } else {
    body = (
      <div className="state" role="status">
        <span className="spinner" aria-hidden="true" /> Loading settings…
      </div>
    );
  }

  return (
    <div className="tenants-screen settings-screen" data-testid="settings-screen">
      <div className="tenants-header">
        <div className="tenants-title">
          <h2 id={titleId}>Settings</h2>
          {statusQ.data && (
            <span className="config-path muted">
              Stored in <code title="Configuration file">{statusQ.data.config_path}</code>
            </span>
          )}
        </div>
      </div>
      <section className="tenants-body settings-body" aria-labelledby={titleId}>
        {body}
        <PoliciesSection />
        <RoutesSection />
        <TuningSection />
        <SharedAuditSection />
        <Support logDir={statusQ.data?.log_dir} />
      </section>
    </div>
  );
}
