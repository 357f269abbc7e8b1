// The add/edit form of an alert route: the fields of its kind and a write-only secret.
import { useQueryClient } from "@tanstack/react-query";
import { type FormEvent, type ReactNode, useEffect, useId, useRef, useState } from "react";
import { FormField } from "../../components/FormField";
import { queryKeys } from "../../hooks/queries";
import type { AlertsFile } from "../../ipc/bindings/AlertsFile";
import type { RouteConfig } from "../../ipc/bindings/RouteConfig";
import type { RouteKind } from "../../ipc/bindings/RouteKind";
import type { Severity } from "../../ipc/bindings/Severity";
import type { SmtpSecurity } from "../../ipc/bindings/SmtpSecurity";
import type { SyslogFormat } from "../../ipc/bindings/SyslogFormat";
import type { SyslogTransport } from "../../ipc/bindings/SyslogTransport";
import { errorMessage, saveAlertsConfig, setRouteSecret } from "../../ipc/ipc";
import { visible } from "../../lib/format";
import {
  draftOf,
  FACILITIES,
  FORMATS,
  KIND_FIELDS,
  KINDS,
  kindLabel,
  MIN_SEVERITIES,
  newRoute,
  type RouteDraft,
  type RouteErrors,
  type RouteField,
  routeOf,
  SECURITIES,
  secretLabel,
  secretNeeded,
  type TextField,
  TRANSPORTS,
  validateRoute,
} from "./routes";

const FIELD_ORDER: readonly RouteField[] = [
  "url",
  "smtp_host",
  "smtp_port",
  "security",
  "username",
  "from",
  "to",
  "host",
  "port",
  "transport",
  "format",
  "facility",
  "ca_certificate",
];

/** Where the first mistake is looked for, top to bottom. */
const FOCUS_ORDER: readonly (RouteField | "secret")[] = [
  "name",
  "max_per_minute",
  ...FIELD_ORDER,
  "secret",
];

/** Saves `routes` as the whole `[alerts]`, the rest of it as last stored. */
export async function saveRoutes(
  current: AlertsFile,
  routes: RouteConfig[],
  store: (file: AlertsFile) => void,
): Promise<AlertsFile> {
  const stored = await saveAlertsConfig({ ...current, routes });
  store(stored);
  return stored;
}

export type FormProps = {
  /** The route being edited; null adds one. */
  original: RouteConfig | null;
  /** The names of the routes with a stored secret. */
  withSecret: readonly string[];
  onCancel: () => void;
  onSaved: (route: RouteConfig) => void;
};

/** Add/Edit a route. The secret lives only in its password input, never in state. */
export function RouteForm(props: FormProps) {
  const qc = useQueryClient();
  const ids = useId();
  const formRef = useRef<HTMLFormElement>(null);
  const secretRef = useRef<HTMLInputElement>(null);
  /** The route as stored: after a save whose secret failed, the form edits what was saved. */
  const [original, setOriginal] = useState<RouteConfig | null>(props.original);
  const [draft, setDraft] = useState<RouteDraft>(() => draftOf(props.original ?? newRoute()));
  const [errors, setErrors] = useState<RouteErrors>({});
  const [clearSecret, setClearSecret] = useState(false);
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const alive = useRef(true);
  useEffect(() => {
    alive.current = true;
    return () => {
      alive.current = false;
    };
  }, []);

  useEffect(() => {
    formRef.current?.querySelector<HTMLElement>('[data-field="name"]')?.focus();
  }, []);

  const hadSecret = original !== null && props.withSecret.includes(original.name);
  const kindChanged = original !== null && original.kind !== draft.kind;
  const label = secretLabel(draft.kind);
  const used = KIND_FIELDS[draft.kind];

  const set = (field: RouteField, value: string | boolean) => {
    setDraft((d) => ({ ...d, [field]: value }));
    if (errors[field]) setErrors(({ [field]: _, ...rest }) => rest);
    setFormError(null);
  };

  const focusField = (field: string) =>
    formRef.current?.querySelector<HTMLElement>(`[data-field="${field}"]`)?.focus();

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    if (busy) return;
    const current = qc.getQueryData<AlertsFile>(queryKeys.alertsConfig);
    if (!current) return;
    const others = current.routes.filter((r) => r.name !== original?.name).map((r) => r.name);
    const found = validateRoute(draft, others);
    const typed = label === null ? "" : (secretRef.current?.value ?? "");
    const route = routeOf(draft, original ?? newRoute());
    const renamed = original !== null && original.name !== route.name;
    // The secret is kept under the route's name and cannot be read back to move it.
    if (renamed && hadSecret && !kindChanged && !clearSecret && label !== null && typed === "") {
      found.secret =
        "The secret is kept under the route's name: type it again to rename the route.";
    }
    if (secretNeeded(draft.kind) && typed === "" && (!hadSecret || kindChanged || clearSecret)) {
      found.secret = `A ${kindLabel(draft.kind)} route needs its incoming webhook URL.`;
    }
    setErrors(found);
    const first = FOCUS_ORDER.find((f) => found[f] !== undefined);
    if (first) {
      focusField(first);
      return;
    }
    setFormError(null);
    setBusy(true);
    try {
      const routes = [...current.routes];
      const at = original ? routes.findIndex((r) => r.name === original.name) : -1;
      if (at >= 0) routes[at] = route;
      else routes.push(route);
      try {
        await saveRoutes(current, routes, (f) => qc.setQueryData(queryKeys.alertsConfig, f));
      } catch (err) {
        if (alive.current) setFormError(errorMessage(err));
        return;
      }
      try {
        if (typed !== "") await setRouteSecret(route.name, typed);
        const forget =
          hadSecret && (renamed || (typed === "" && (clearSecret || kindChanged || !label)));
        if (original && forget) await setRouteSecret(original.name, null);
        if (secretRef.current) secretRef.current.value = "";
      } catch (err) {
        if (!alive.current) return;
        setOriginal(route);
        setClearSecret(false);
        setFormError(`The route was saved, but its secret was not: ${errorMessage(err)}`);
        return;
      } finally {
        void qc.invalidateQueries({ queryKey: queryKeys.routeSecrets });
      }
      if (alive.current) props.onSaved(route);
    } finally {
      if (alive.current) setBusy(false);
    }
  };

  /** The id, test id and error of a field, for its FormField. */
  const wiring = (name: RouteField | "secret") => ({
    id: `${ids}-${name}`,
    field: name,
    testId: name === "secret" ? "route-secret" : `route-field-${name}`,
    error: errors[name],
  });

  const textField = (name: TextField, text: string, placeholder?: string, help?: ReactNode) => (
    <FormField key={name} {...wiring(name)} label={text} hint={help}>
      {(p) => (
        <input
          {...p}
          type="text"
          value={draft[name]}
          placeholder={placeholder}
          onChange={(e) => set(name, e.target.value)}
          spellCheck={false}
          autoComplete="off"
        />
      )}
    </FormField>
  );

  const choice = <T extends string>(
    name: "kind" | "min_severity" | "security" | "transport" | "format" | "facility",
    text: string,
    options: readonly { value: T; label: string }[],
    help?: ReactNode,
  ) => (
    <FormField key={name} {...wiring(name)} label={text} hint={help}>
      {(p) => (
        <select {...p} value={draft[name]} onChange={(e) => set(name, e.target.value)}>
          {options.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      )}
    </FormField>
  );

  const kindField = (f: RouteField): ReactNode => {
    switch (f) {
      case "url":
        return textField(
          "url",
          "URL",
          "https://siem.example.org/hooks/vigil",
          "Alerts are POSTed here as JSON. https, or http to this machine only; no credentials in it.",
        );
      case "smtp_host":
        return textField("smtp_host", "SMTP server", "smtp.example.org");
      case "smtp_port":
        return textField("smtp_port", "SMTP port", "by security: 587 or 465");
      case "security":
        return choice<SmtpSecurity>("security", "Security", SECURITIES);
      case "username":
        return textField("username", "SMTP user", "vigil@example.org", "Empty: no login.");
      case "from":
        return textField("from", "From", "Vigil <vigil@example.org>");
      case "to":
        return textField("to", "To", "soc@example.org, oncall@example.org", "Comma separated.");
      case "host":
        return textField("host", "Collector host", "siem.example.org");
      case "port":
        return textField("port", "Port", "514, 6514 for TLS");
      case "transport":
        return choice<SyslogTransport>("transport", "Transport", TRANSPORTS);
      case "format":
        return choice<SyslogFormat>("format", "Format", FORMATS);
      case "facility":
        return choice(
          "facility",
          "Facility",
          FACILITIES.map((f) => ({ value: f, label: f })),
        );
      case "ca_certificate":
        return textField(
          "ca_certificate",
          "CA certificate (optional)",
          "/etc/ssl/private-ca.pem",
          "A PEM file to trust for this route's TLS besides the system's roots.",
        );
      default:
        return null;
    }
  };

  let secretHelp = "Stored in the system keychain, never in the configuration file.";
  if (hadSecret && !kindChanged) secretHelp += " Leave empty to keep the stored one.";
  if (hadSecret && kindChanged) secretHelp += " Changing the kind forgets the stored one.";
  if (draft.kind === "webhook") secretHelp += " With a key, every POST is signed (HMAC-SHA256).";

  return (
    <form
      ref={formRef}
      className="route-form"
      data-testid="route-form"
      onSubmit={(e) => void onSubmit(e)}
      noValidate
      aria-label={original ? `Edit route ${visible(original.name)}` : "New alert route"}
    >
      <h4>{original ? `Edit route ${visible(original.name)}` : "New route"}</h4>
      <div className="route-fields">
        {textField("name", "Name", "soc-webhook")}
        {choice<RouteKind>("kind", "Kind", KINDS)}
        {choice<Severity>("min_severity", "Send", MIN_SEVERITIES)}
        {textField("max_per_minute", "At most per minute", "20", "Above it, one digest.")}
        {textField("tenants", "Tenants", "prod, staging")}
        {textField("tags", "Tags", "production", "Comma separated; both empty: every tenant.")}
        {FIELD_ORDER.filter((f) => used.includes(f)).map(kindField)}
        {label !== null && (
          <FormField {...wiring("secret")} label={label} hint={secretHelp}>
            {(p) => (
              <input
                {...p}
                ref={secretRef}
                type="password"
                placeholder={hadSecret && !kindChanged ? "Stored in the keychain" : undefined}
                autoComplete="new-password"
                spellCheck={false}
                disabled={clearSecret}
                onChange={() => {
                  if (errors.secret) setErrors(({ secret: _, ...rest }) => rest);
                }}
              />
            )}
          </FormField>
        )}
      </div>
      <FormField
        {...wiring("enabled")}
        label="Enabled"
        hint="Off: the route is kept but sends nothing."
        check
      >
        {(p) => (
          <input
            {...p}
            type="checkbox"
            checked={draft.enabled}
            onChange={(e) => set("enabled", e.target.checked)}
          />
        )}
      </FormField>
      {hadSecret && !kindChanged && label !== null && (
        <label className="toggle">
          <input
            type="checkbox"
            data-testid="route-secret-clear"
            checked={clearSecret}
            onChange={(e) => setClearSecret(e.target.checked)}
          />
          <span>Remove the stored secret</span>
        </label>
      )}
      {formError && (
        <div className="form-error" role="alert" data-testid="route-error">
          {visible(formError)}
        </div>
      )}
      <div className="settings-actions">
        <button type="submit" className="button primary" data-testid="route-save" disabled={busy}>
          {busy ? "Saving…" : "Save route"}
        </button>
        <button
          type="button"
          className="button"
          data-testid="route-cancel"
          disabled={busy}
          onClick={props.onCancel}
        >
          Cancel
        </button>
      </div>
    </form>
  );
}
