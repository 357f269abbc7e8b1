import { useQuery, useQueryClient } from "@tanstack/react-query";
import { type ReactNode, useEffect, useId, useRef, useState } from "react";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { alertsConfigQueryOptions, queryKeys, routeSecretsQueryOptions } from "../../hooks/queries";
import type { AlertsFile } from "../../ipc/bindings/AlertsFile";
import type { RouteConfig } from "../../ipc/bindings/RouteConfig";
import { errorMessage, setRouteSecret, testRoute } from "../../ipc/ipc";
import { visible } from "../../lib/format";
import { RouteForm, saveRoutes } from "./RouteForm";
import {
  describeRate,
  describeScope,
  describeSeverity,
  describeTarget,
  kindLabel,
  secretNeeded,
} from "./routes";

type TestState = { status: "pending" } | { status: "ok" } | { status: "error"; message: string };

type Notice = { tone: "success" | "warning"; text: string };

/** The form's order of fields; each kind shows the ones it uses (KIND_FIELDS). */
type RowProps = {
  route: RouteConfig;
  /** null: not known (the keychain could not be read or is still being read). */
  hasSecret: boolean | null;
  test: TestState | undefined;
  disabled: boolean;
  onTest: () => void;
  onEdit: () => void;
  onRemove: () => void;
};

function SecretState({ route, hasSecret }: { route: RouteConfig; hasSecret: boolean | null }) {
  if (hasSecret === null) return null;
  if (hasSecret) return <span data-testid="route-secret-state">key in keychain</span>;
  return (
    <span
      data-testid="route-secret-state"
      className={secretNeeded(route.kind) ? "route-warning" : undefined}
    >
      no secret{secretNeeded(route.kind) ? " (it cannot send without its webhook URL)" : ""}
    </span>
  );
}

function RouteRow({ route, hasSecret, test, disabled, onTest, onEdit, onRemove }: RowProps) {
  const target = describeTarget(route);
  return (
    <li className="route-row" data-testid="route-row" data-route={route.name}>
      <div className="route-row-main">
        <div className="route-row-text">
          <span className="route-title">
            <strong>{visible(route.name)}</strong>{" "}
            <span className="badge" data-testid="route-kind">
              {kindLabel(route.kind)}
            </span>{" "}
            {route.enabled ? (
              <span className="muted" data-testid="route-enabled">
                enabled
              </span>
            ) : (
              <span className="badge badge-stale" data-testid="route-enabled">
                disabled
              </span>
            )}
          </span>
          <span className="muted route-meta">
            {describeSeverity(route.min_severity)} · {describeScope(route)} ·{" "}
            {describeRate(route.max_per_minute)}
            {hasSecret !== null && " · "}
            <SecretState route={route} hasSecret={hasSecret} />
          </span>
          {target && (
            <span className="mono muted route-target" title={visible(target)}>
              {visible(target)}
            </span>
          )}
        </div>
        <span className="settings-actions route-actions">
          <button
            type="button"
            className="button small"
            data-testid="route-test"
            disabled={test?.status === "pending"}
            onClick={onTest}
            title="Sends a test alert on this route now, with its stored secret"
          >
            {test?.status === "pending" ? "Sending…" : "Send test alert"}
          </button>
          <button
            type="button"
            className="button small"
            data-testid="route-edit"
            disabled={disabled}
            onClick={onEdit}
          >
            Edit
          </button>
          <button
            type="button"
            className="button small danger-outline"
            data-testid="route-remove"
            disabled={disabled}
            onClick={onRemove}
          >
            Remove
          </button>
        </span>
      </div>
      {test?.status === "ok" && (
        <div className="route-test-result ok" role="status" data-testid="route-test-result">
          Delivered
        </div>
      )}
      {test?.status === "error" && (
        <div className="route-test-result error" role="alert" data-testid="route-test-result">
          {visible(test.message)}
        </div>
      )}
    </li>
  );
}

/** Alert routes: where alerts go besides this window, each with its keychain secret. */
export function RoutesSection() {
  const qc = useQueryClient();
  const ids = useId();
  const configQ = useQuery(alertsConfigQueryOptions());
  const secretsQ = useQuery(routeSecretsQueryOptions());
  /** The open form: `original` null adds a route. */
  const [form, setForm] = useState<{ original: RouteConfig | null } | null>(null);
  const [removing, setRemoving] = useState<RouteConfig | null>(null);
  const [removeBusy, setRemoveBusy] = useState(false);
  const [tests, setTests] = useState<ReadonlyMap<string, TestState>>(new Map());
  const [notice, setNotice] = useState<Notice | null>(null);
  const [error, setError] = useState<string | null>(null);
  const alive = useRef(true);
  useEffect(() => {
    alive.current = true;
    return () => {
      alive.current = false;
    };
  }, []);

  useEffect(() => {
    if (notice?.tone !== "success") return;
    const t = setTimeout(() => setNotice((n) => (n === notice ? null : n)), 6_000);
    return () => clearTimeout(t);
  }, [notice]);

  const setTest = (name: string, state: TestState | null) =>
    setTests((prev) => {
      const next = new Map(prev);
      if (state) next.set(name, state);
      else next.delete(name);
      return next;
    });

  const runTest = async (route: RouteConfig) => {
    setTest(route.name, { status: "pending" });
    try {
      await testRoute(route);
      if (alive.current) setTest(route.name, { status: "ok" });
    } catch (err) {
      if (alive.current) setTest(route.name, { status: "error", message: errorMessage(err) });
    }
  };

  const remove = async (route: RouteConfig) => {
    const current = qc.getQueryData<AlertsFile>(queryKeys.alertsConfig);
    if (!current) return;
    setRemoveBusy(true);
    setError(null);
    try {
      await saveRoutes(
        current,
        current.routes.filter((r) => r.name !== route.name),
        (f) => qc.setQueryData(queryKeys.alertsConfig, f),
      );
    } catch (err) {
      if (alive.current) {
        setRemoving(null);
        setRemoveBusy(false);
        setError(`Could not remove route ${route.name}: ${errorMessage(err)}`);
      }
      return;
    }
    if (form?.original?.name === route.name) setForm(null);
    setTest(route.name, null);
    let warning: string | null = null;
    try {
      await setRouteSecret(route.name, null);
    } catch (err) {
      warning = `Route ${route.name} removed; its secret is still in the keychain: ${errorMessage(err)}`;
    } finally {
      void qc.invalidateQueries({ queryKey: queryKeys.routeSecrets });
    }
    if (!alive.current) return;
    setRemoving(null);
    setRemoveBusy(false);
    setNotice(
      warning
        ? { tone: "warning", text: warning }
        : { tone: "success", text: `Route ${route.name} removed` },
    );
  };

  const routes = configQ.data?.routes ?? [];
  const withSecret = secretsQ.data ?? [];

  let body: ReactNode;
  if (configQ.isError && !configQ.data) {
    body = (
      <div className="form-error" role="alert" data-testid="routes-load-error">
        Could not read the alert routes: {errorMessage(configQ.error)}{" "}
        <button type="button" className="button small" onClick={() => void configQ.refetch()}>
          Try again
        </button>
      </div>
    );
  } else if (!configQ.data) {
    body = (
      <p className="muted" role="status">
        <span className="spinner" aria-hidden="true" /> Loading the alert routes…
      </p>
    );
  } else {
    body = (
      <>
        {routes.length === 0 ? (
          <p className="muted" data-testid="routes-empty">
            No routes: alerts stay in this window and its notifications.
          </p>
        ) : (
          <ul className="route-list" aria-label="Alert routes">
            {routes.map((r) => (
              <RouteRow
                key={r.name}
                route={r}
                hasSecret={secretsQ.data ? withSecret.includes(r.name) : null}
                test={tests.get(r.name)}
                disabled={form !== null || removeBusy}
                onTest={() => void runTest(r)}
                onEdit={() => {
                  setNotice(null);
                  setForm({ original: r });
                }}
                onRemove={() => setRemoving(r)}
              />
            ))}
          </ul>
        )}
        {secretsQ.isError && (
          <p className="field-error" role="alert">
            Could not read the keychain: {errorMessage(secretsQ.error)}
          </p>
        )}
        {form ? (
          <RouteForm
            key={form.original?.name ?? "\u0000new"}
            original={form.original}
            withSecret={withSecret}
            onCancel={() => setForm(null)}
            onSaved={(route) => {
              setForm(null);
              setTest(route.name, null);
              if (form.original && form.original.name !== route.name) {
                setTest(form.original.name, null);
              }
              setNotice({ tone: "success", text: `Route ${route.name} saved` });
            }}
          />
        ) : (
          <div className="settings-actions">
            <button
              type="button"
              className="button"
              data-testid="route-add"
              disabled={removeBusy}
              onClick={() => {
                setNotice(null);
                setForm({ original: null });
              }}
            >
              Add route
            </button>
          </div>
        )}
      </>
    );
  }

  return (
    <section
      className="settings-section routes-section"
      data-testid="routes-section"
      aria-labelledby={`${ids}-title`}
    >
      <h3 id={`${ids}-title`}>Alert routes</h3>
      <p className="field-help">
        Besides this window, alerts can go to a webhook, Slack, Microsoft Teams, e-mail or syslog (a
        SIEM), each route with its own severity, tenants and rate limit. Signing keys, webhook URLs
        and passwords are kept in the system keychain, never in the configuration file.
      </p>
      {body}
      {error && (
        <div className="field-error" role="alert" data-testid="routes-error">
          {visible(error)}
        </div>
      )}
      {notice && (
        <span
          className={notice.tone === "success" ? "settings-ok" : "route-warning"}
          role={notice.tone === "success" ? "status" : "alert"}
          data-testid="routes-notice"
        >
          {visible(notice.text)}
        </span>
      )}
      {removing && (
        <ConfirmDialog
          title={`Remove route ${visible(removing.name)}`}
          message="Alerts stop going this way; its secret is removed from the keychain too."
          confirmLabel="Remove"
          busy={removeBusy}
          onConfirm={() => void remove(removing)}
          onCancel={() => setRemoving(null)}
          testId="route-remove-confirm"
          confirmTestId="route-remove-go"
        />
      )}
    </section>
  );
}
