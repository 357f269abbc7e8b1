import { useQuery, useQueryClient } from "@tanstack/react-query";
import { type ReactNode, useEffect, useState } from "react";
import { ActionResult, type Notice } from "../../components/ActionResult";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import {
  appStatusQueryOptions,
  invalidateAll,
  kindsQueryOptions,
  settingsQueryOptions,
  tenantsQueryOptions,
} from "../../hooks/queries";
import { useNow } from "../../hooks/useNow";
import type { KindInfo } from "../../ipc/bindings/KindInfo";
import type { TenantView } from "../../ipc/bindings/TenantView";
import { errorMessage, removeTenant, testTenant } from "../../ipc/ipc";
import { formatAgo, plural, visible } from "../../lib/format";
import { groupTenants } from "../../lib/tenants";
import { type CheckState, TenantCheckPanel } from "./TenantCheckPanel";
import { TenantForm } from "./TenantForm";

export type TenantsScreenProps = {
  /** Shows the session view filtered to one tenant. */
  onShowSessions?: (tenant: string) => void;
};

type FormState = { mode: "add" } | { mode: "edit"; tenant: TenantView };

function Health({ view, now }: { view: TenantView; now: number }) {
  const h = view.health;
  if (!h) return <span className="muted">not polled yet</span>;
  const ago = formatAgo(h.last_poll_at, now);
  return (
    <span className="tenant-health">
      {h.error ? (
        <span className="tenant-error" title={`${h.error.code}: ${visible(h.error.message)}`}>
          {visible(h.error.message)}
        </span>
      ) : (
        <span>
          {ago ? `polled ${ago}` : "not polled yet"}
          {h.latency_ms !== null ? ` · ${h.latency_ms} ms` : ""}
        </span>
      )}
      {h.stale && <span className="badge badge-stale">stale</span>}
      {h.warning && (
        <span
          className="badge badge-stale"
          data-testid="incomplete-marker"
          title={`Incomplete: ${visible(h.warning)}`}
        >
          incomplete
        </span>
      )}
    </span>
  );
}

type RowProps = {
  view: TenantView;
  kinds: readonly KindInfo[] | undefined;
  now: number;
  check: CheckState | undefined;
  onTest: () => void;
  onEdit: () => void;
  onRemove: () => void;
  onShowSessions: (() => void) | undefined;
};

function TenantRow({
  view,
  kinds,
  now,
  check,
  onTest,
  onEdit,
  onRemove,
  onShowSessions,
}: RowProps) {
  const c = view.config;
  const kindLabel = kinds?.find((k) => k.kind === c.kind)?.label ?? c.kind;
  const state = view.health?.error ? "error" : view.health?.stale ? "stale" : "ok";
  return (
    <li className={`tenant-row ${state}`} data-testid="tenant-row" data-tenant={c.name}>
      <div className="tenant-row-main">
        <div className="tenant-ident">
          <div className="tenant-line">
            <span className="tenant-dot" aria-hidden="true" />
            <strong className="tenant-name" title={c.name}>
              {c.name}
            </strong>
            {view.builtin && <span className="badge badge-builtin">built-in</span>}
          </div>
          <span className="tenant-kind muted" data-testid="tenant-row-kind">
            {kindLabel}
          </span>
        </div>
        <div className="tenant-where">
          <span className="tenant-url" title={c.url}>
            {c.url}
          </span>
          <span className="tenant-meta">
            <span title="Timezone">{c.timezone ?? "tenant timezone"}</span>
            <span title="Poll interval" data-testid="tenant-interval">
              every {c.poll_interval_secs} s
            </span>
          </span>
        </div>
        <Health view={view} now={now} />
        <div className="tenant-counts">
          {view.counts ? (
            <>
              <span>
                {onShowSessions ? (
                  <button
                    type="button"
                    className="link-button"
                    onClick={onShowSessions}
                    title="Show this tenant's sessions"
                  >
                    {plural(view.counts.active_sessions, "session")}
                  </button>
                ) : (
                  plural(view.counts.active_sessions, "session")
                )}{" "}
                · {plural(view.counts.active_users, "user")}
              </span>
              {view.counts.superusers_online > 0 && (
                <span
                  className="badge badge-super"
                  data-testid="tenant-superusers"
                  title="SuperUsers signed in now"
                >
                  {plural(view.counts.superusers_online, "SuperUser")} online
                </span>
              )}
            </>
          ) : (
            <span className="muted">–</span>
          )}
        </div>
        <span className="tenant-actions">
          <button
            type="button"
            className="button small"
            data-testid="tenant-test"
            onClick={onTest}
            disabled={check?.status === "pending"}
          >
            Test
          </button>
          {!view.builtin && (
            <>
              <button
                type="button"
                className="button small"
                data-testid="tenant-edit"
                onClick={onEdit}
              >
                Edit
              </button>
              <button
                type="button"
                className="button small danger-outline"
                data-testid="tenant-remove"
                onClick={onRemove}
              >
                Remove
              </button>
            </>
          )}
        </span>
      </div>
      {check && <TenantCheckPanel state={check} />}
    </li>
  );
}

export function TenantsScreen({ onShowSessions }: TenantsScreenProps) {
  const qc = useQueryClient();
  const now = useNow(1000);
  const tenantsQ = useQuery(tenantsQueryOptions());
  const kindsQ = useQuery(kindsQueryOptions());
  const statusQ = useQuery(appStatusQueryOptions());
  const settingsQ = useQuery(settingsQueryOptions());
  const [form, setForm] = useState<FormState | null>(null);
  const [removing, setRemoving] = useState<TenantView | null>(null);
  const [removeBusy, setRemoveBusy] = useState(false);
  const [checks, setChecks] = useState<ReadonlyMap<string, CheckState>>(new Map());
  const [notice, setNotice] = useState<Notice | null>(null);

  useEffect(() => {
    if (!notice || notice.tone === "error" || notice.tone === "warning") return;
    const t = setTimeout(() => setNotice((n) => (n === notice ? null : n)), 8_000);
    return () => clearTimeout(t);
  }, [notice]);

  const setCheck = (name: string, state: CheckState) =>
    setChecks((prev) => new Map(prev).set(name, state));

  const runTest = async (view: TenantView) => {
    const name = view.config.name;
    setCheck(name, { status: "pending" });
    try {
      setCheck(name, { status: "done", check: await testTenant(view.config, null) });
    } catch (error) {
      setCheck(name, { status: "failed", error });
    }
  };

  const confirmRemove = async () => {
    if (!removing) return;
    const name = removing.config.name;
    setRemoveBusy(true);
    try {
      await removeTenant(name);
      setNotice({ tone: "success", title: `Removed tenant ${name}` });
      setChecks((prev) => {
        const next = new Map(prev);
        next.delete(name);
        return next;
      });
    } catch (err) {
      setNotice({ tone: "error", title: `Could not remove ${name}: ${errorMessage(err)}` });
    } finally {
      setRemoveBusy(false);
      setRemoving(null);
      void invalidateAll(qc);
    }
  };

  const onSaved = (saved: TenantView, added: boolean) => {
    const previous = form?.mode === "edit" ? form.tenant.config.name : null;
    setForm(null);
    setChecks((prev) => {
      const next = new Map(prev);
      next.delete(saved.config.name);
      if (previous) next.delete(previous);
      return next;
    });
    setNotice({
      tone: "success",
      title: added
        ? `Added tenant ${saved.config.name}`
        : previous && previous !== saved.config.name
          ? `Renamed tenant ${previous} to ${saved.config.name}`
          : `Saved tenant ${saved.config.name}`,
    });
    void invalidateAll(qc);
  };

  const status = statusQ.data;
  const groups = tenantsQ.data ? groupTenants(tenantsQ.data) : [];

  let body: ReactNode;
  if (tenantsQ.isPending) {
    body = (
      <div className="state" role="status">
        <span className="spinner" aria-hidden="true" /> Loading tenants…
      </div>
    );
  } else if (tenantsQ.isError && !tenantsQ.data) {
    body = (
      <div className="state error" role="alert" data-testid="tenants-error">
        <strong>Could not load the tenants</strong>
        <p className="error-message">{errorMessage(tenantsQ.error)}</p>
        <button type="button" className="button" onClick={() => void tenantsQ.refetch()}>
          Try again
        </button>
      </div>
    );
  } else if (groups.length === 0) {
    body = (
      <div className="state" data-testid="tenants-empty">
        <strong>No tenants configured</strong>
        <p className="muted">Add a tenant to start watching its sessions.</p>
      </div>
    );
  } else {
    body = groups.map((g) => (
      <section
        key={g.name}
        className="tenant-group"
        data-testid="tenant-group"
        data-group={g.name}
        aria-label={`Tenants: ${g.name}`}
      >
        <h3>
          {g.name} <span className="muted">{g.tenants.length}</span>
        </h3>
        <ul className="tenant-list">
          {g.tenants.map((t) => (
            <TenantRow
              key={t.config.name}
              view={t}
              kinds={kindsQ.data}
              now={now}
              check={checks.get(t.config.name)}
              onTest={() => void runTest(t)}
              onEdit={() => setForm({ mode: "edit", tenant: t })}
              onRemove={() => setRemoving(t)}
              onShowSessions={onShowSessions ? () => onShowSessions(t.config.name) : undefined}
            />
          ))}
        </ul>
      </section>
    ));
  }

  return (
    <div className="tenants-screen" data-testid="tenants-screen">
      <div className="tenants-header">
        <div className="tenants-title">
          <h2>Tenants</h2>
          {status && (
            <span className="config-path muted">
              Configuration:{" "}
              <code data-testid="config-path" title="Configuration file">
                {status.config_path}
              </code>
            </span>
          )}
        </div>
        <span className="spacer" />
        <button
          type="button"
          className="button primary"
          data-testid="add-tenant"
          onClick={() => setForm({ mode: "add" })}
        >
          + Add tenant
        </button>
      </div>
      {status?.config_error && (
        <div className="config-error" data-testid="config-error" role="alert">
          <strong>The configuration file has an error:</strong> {status.config_error.message}
          <p>Vigil did not change the file; fix it and restart.</p>
        </div>
      )}
      {statusQ.isError && (
        <div className="inline-error" role="alert">
          Could not read the app status: {errorMessage(statusQ.error)}
        </div>
      )}
      {tenantsQ.isError && tenantsQ.data && (
        <div className="inline-error" role="alert">
          Showing last known tenants: {errorMessage(tenantsQ.error)}
        </div>
      )}
      {notice && <ActionResult notice={notice} onDismiss={() => setNotice(null)} />}
      <div className="tenants-body">{body}</div>
      {form && (
        <TenantForm
          editing={form.mode === "edit" ? form.tenant : null}
          kinds={kindsQ.data}
          kindsError={kindsQ.isError ? kindsQ.error : null}
          defaultPollSecs={settingsQ.data?.default_poll_interval_secs}
          onCancel={() => setForm(null)}
          onSaved={onSaved}
        />
      )}
      {removing && (
        <ConfirmDialog
          title="Remove tenant"
          message={`Remove tenant ${removing.config.name}?`}
          detail="Vigil stops watching it and removes it from the configuration file. Its secret is deleted from the system keychain too."
          confirmLabel={`Remove ${removing.config.name}`}
          busy={removeBusy}
          testId="tenant-remove-dialog"
          confirmTestId="tenant-remove-confirm"
          onConfirm={() => void confirmRemove()}
          onCancel={() => setRemoving(null)}
        />
      )}
    </div>
  );
}
