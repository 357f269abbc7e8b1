import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { auditListQueryOptions, summaryQueryOptions } from "../../hooks/queries";
import { useDebouncedValue } from "../../hooks/useDebouncedValue";
import type { ActionKind } from "../../ipc/bindings/ActionKind";
import type { AuditEntry } from "../../ipc/bindings/AuditEntry";
import type { AuditFilter } from "../../ipc/bindings/AuditFilter";
import { errorMessage } from "../../ipc/ipc";
import { buildAuditCsv, buildAuditJson, downloadText, exportBaseName } from "../../lib/auditExport";
import { DASH, formatDateTime, plural, visible } from "../../lib/format";

export const AUDIT_LIMIT = 5_000;
const SEARCH_DEBOUNCE_MS = 150;

export const SINCE_OPTIONS = [
  { value: "1h", label: "Last hour", ms: 3_600_000 },
  { value: "24h", label: "Last 24 hours", ms: 86_400_000 },
  { value: "7d", label: "Last 7 days", ms: 7 * 86_400_000 },
  { value: "all", label: "All time", ms: null },
] as const;
export type SinceValue = (typeof SINCE_OPTIONS)[number]["value"];

/** RFC 3339 start of a relative range, or null for all time. */
export function sinceFor(value: SinceValue, now: number = Date.now()): string | null {
  const ms = SINCE_OPTIONS.find((o) => o.value === value)?.ms ?? null;
  return ms === null ? null : new Date(now - ms).toISOString();
}

const ACTION_LABELS: Record<ActionKind, string> = {
  end_session: "End session",
  logout: "Force logout",
  disable: "End & Disable",
  disable_only: "Disable",
  enable: "Re-enable",
  revoke_grants: "Revoke tokens & grants",
  require_password_change: "Require new password",
};

export function actionLabel(kind: ActionKind): string {
  return ACTION_LABELS[kind] ?? kind;
}

function resultText(e: AuditEntry): string {
  const parts = [e.result_code, e.message].filter((p): p is string => !!p);
  return parts.length > 0 ? visible(parts.join(": ")) : DASH;
}

/** The audit log: every requested action item with its latest state. */
export function AuditScreen() {
  const [search, setSearch] = useState("");
  const [tenant, setTenant] = useState<string | null>(null);
  const [since, setSince] = useState<SinceValue>("24h");
  const debounced = useDebouncedValue(search.trim(), SEARCH_DEBOUNCE_MS);

  const key = useMemo(() => ({ search: debounced, tenant, since }), [debounced, tenant, since]);
  const q = useQuery({
    ...auditListQueryOptions(
      key,
      (): AuditFilter => ({
        since: sinceFor(since),
        tenant,
        search: debounced === "" ? null : debounced,
        action_id: null,
        limit: AUDIT_LIMIT,
      }),
    ),
    placeholderData: keepPreviousData,
  });
  const summaryQ = useQuery(summaryQueryOptions());
  const tenants = useMemo(() => {
    const names = (summaryQ.data?.tenants ?? []).map((t) => t.health.tenant);
    if (tenant !== null && !names.includes(tenant)) names.push(tenant);
    return names;
  }, [summaryQ.data, tenant]);

  const entries = q.data ?? [];
  const exportAs = (format: "csv" | "json") => {
    const name = `${exportBaseName()}.${format}`;
    if (format === "csv") downloadText(name, buildAuditCsv(entries), "text/csv;charset=utf-8");
    else downloadText(name, buildAuditJson(entries), "application/json");
  };

  return (
    <div className="tenants-screen audit-screen">
      <div className="tenants-header">
        <div className="tenants-title">
          <h2>Audit log</h2>
        </div>
        <input
          type="search"
          className="audit-search"
          data-testid="audit-search"
          aria-label="Search the audit log"
          placeholder="Search target, user, actor, message…"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Escape" && search !== "") {
              e.preventDefault();
              setSearch("");
            }
          }}
          spellCheck={false}
          autoComplete="off"
        />
        <select
          className="tenant-filter"
          data-testid="audit-tenant"
          aria-label="Tenant"
          value={tenant ?? ""}
          onChange={(e) => setTenant(e.target.value === "" ? null : e.target.value)}
        >
          <option value="">All tenants</option>
          {tenants.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
        <select
          className="tenant-filter"
          data-testid="audit-since"
          aria-label="Time range"
          value={since}
          onChange={(e) => setSince(e.target.value as SinceValue)}
        >
          {SINCE_OPTIONS.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
        <span className="spacer" />
        <span className="row-count muted" data-testid="audit-count" aria-live="polite">
          {q.data ? plural(entries.length, "entry", "entries") : ""}
        </span>
        <button
          type="button"
          className="button"
          data-testid="audit-export-csv"
          disabled={entries.length === 0}
          onClick={() => exportAs("csv")}
        >
          Export CSV
        </button>
        <button
          type="button"
          className="button"
          data-testid="audit-export-json"
          disabled={entries.length === 0}
          onClick={() => exportAs("json")}
        >
          Export JSON
        </button>
      </div>
      {q.isError && (
        <div className="inline-error audit-error" role="alert" data-testid="audit-error">
          Could not load the audit log: {errorMessage(q.error)}
        </div>
      )}
      <div className="tenants-body">
        {q.isPending && !q.isError && (
          <div className="state" role="status">
            <span className="spinner" aria-hidden="true" /> Loading the audit log…
          </div>
        )}
        {q.data && entries.length === 0 && (
          <div className="state" data-testid="audit-empty">
            <strong>No audited actions match</strong>
          </div>
        )}
        {entries.length > 0 && (
          <table className="data-table audit-table">
            <thead>
              <tr>
                <th>Requested</th>
                <th>Actor</th>
                <th>Tenant</th>
                <th>Action</th>
                <th>Target</th>
                <th>State</th>
                <th>HTTP</th>
                <th>Result / message</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((e) => (
                <tr key={e.id} data-testid="audit-row" data-audit-id={e.id}>
                  <td className="nowrap" title={e.requested_at}>
                    {formatDateTime(e.requested_at)}
                  </td>
                  <td>{e.actor}</td>
                  <td>{e.tenant}</td>
                  <td>{actionLabel(e.action)}</td>
                  <td>
                    {e.target_user && <strong>{visible(e.target_user)} </strong>}
                    <span className="mono muted">{visible(e.target)}</span>
                  </td>
                  <td>
                    <span
                      className={`badge state-badge state-${e.state}`}
                      data-testid="audit-state"
                      title={`Updated ${formatDateTime(e.updated_at)}`}
                    >
                      {e.state}
                    </span>
                  </td>
                  <td className="mono">{e.http_status ?? DASH}</td>
                  <td>{resultText(e)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </div>
  );
}
