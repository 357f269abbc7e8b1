import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useEffect, useMemo, useRef, useState } from "react";
import { TenantSelect } from "../../components/TenantSelect";
import {
  auditListQueryOptions,
  sharedAuditQueryOptions,
  sharedEventsQueryOptions,
  summaryQueryOptions,
} from "../../hooks/queries";
import { useDebouncedValue } from "../../hooks/useDebouncedValue";
import type { ActionKind } from "../../ipc/bindings/ActionKind";
import type { AuditEntry } from "../../ipc/bindings/AuditEntry";
import type { AuditFilter } from "../../ipc/bindings/AuditFilter";
import type { SharedEvent } from "../../ipc/bindings/SharedEvent";
import type { Verified } from "../../ipc/bindings/Verified";
import { errorMessage, verifySharedAudit } from "../../ipc/ipc";
import { buildAuditCsv, buildAuditJson, downloadText, exportBaseName } from "../../lib/auditExport";
import { DASH, formatDateTime, parseTime, plural, visible } from "../../lib/format";

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

/** Whose audit the screen lists: this machine's own log or the team's shared store. */
export type AuditScope = "local" | "team";

/** "Intact: 1,204 rows (head 3f9a0c12…)". */
export function verifiedText(v: Verified): string {
  return `Intact: ${plural(v.rows, "row")} (head ${v.head.slice(0, 8)}…)`;
}

/** A state as a class name part (the store's text is not trusted to be one). */
function stateClass(state: string): string {
  return /^[a-z_]+$/.test(state) ? ` state-${state}` : "";
}

type VerifyState =
  | { status: "pending" }
  | { status: "ok"; verified: Verified }
  | { status: "error"; message: string };

type TeamProps = {
  tenant: string | null;
  search: string | null;
  since: SinceValue;
  onCount: (text: string) => void;
  onOpenSettings: (() => void) | undefined;
};

/** The whole team's audit events from the shared store, and a check of its hash chain. */
function TeamAudit({ tenant, search, since, onCount, onOpenSettings }: TeamProps) {
  const viewQ = useQuery(sharedAuditQueryOptions());
  const configured = viewQ.data?.config != null;
  const eventsQ = useQuery({
    ...sharedEventsQueryOptions(tenant, search),
    enabled: configured,
    placeholderData: keepPreviousData,
  });
  const [verify, setVerify] = useState<VerifyState | null>(null);
  const alive = useRef(true);
  useEffect(() => {
    alive.current = true;
    return () => {
      alive.current = false;
    };
  }, []);

  // The store has no time filter: the range applies to the newest events it sends.
  const events = useMemo(() => {
    const from = parseTime(sinceFor(since));
    const all = eventsQ.data ?? [];
    return from === null ? all : all.filter((e) => (parseTime(e.at) ?? 0) >= from);
  }, [eventsQ.data, since]);

  const countText = configured && eventsQ.data ? plural(events.length, "event") : "";
  useEffect(() => onCount(countText), [countText, onCount]);

  const runVerify = async () => {
    setVerify({ status: "pending" });
    try {
      const verified = await verifySharedAudit();
      if (alive.current) setVerify({ status: "ok", verified });
    } catch (err) {
      if (alive.current) setVerify({ status: "error", message: errorMessage(err) });
    }
  };

  if (viewQ.isError && !viewQ.data) {
    return (
      <div className="inline-error audit-error" role="alert" data-testid="audit-team-error">
        Could not read the team audit settings: {errorMessage(viewQ.error)}
      </div>
    );
  }
  if (!viewQ.data) {
    return (
      <div className="tenants-body">
        <div className="state" role="status">
          <span className="spinner" aria-hidden="true" /> Loading the team audit…
        </div>
      </div>
    );
  }
  if (!configured) {
    return (
      <div className="tenants-body">
        <div className="state" data-testid="audit-team-unconfigured">
          <strong>No team audit store is configured</strong>
          <p>
            Set one up in <strong>Settings → Team audit</strong>: every operator's actions then show
            here, from every machine.
          </p>
          {onOpenSettings && (
            <button
              type="button"
              className="button"
              data-testid="audit-open-settings"
              onClick={onOpenSettings}
            >
              Open Settings
            </button>
          )}
        </div>
      </div>
    );
  }

  const replica = viewQ.data.status;
  return (
    <>
      <div className="audit-team-bar">
        <button
          type="button"
          className="button"
          data-testid="audit-verify"
          disabled={verify?.status === "pending"}
          onClick={() => void runVerify()}
          title="Recomputes the store's hash chain: any row changed or removed breaks it"
        >
          {verify?.status === "pending" ? "Verifying…" : "Verify chain"}
        </button>
        {verify?.status === "ok" && (
          <span
            className="settings-ok"
            role="status"
            data-testid="audit-verify-result"
            title={`Head ${verify.verified.head}: note it down; a later check showing it again proves nothing before it changed.`}
          >
            {verifiedText(verify.verified)}
          </span>
        )}
        {verify?.status === "error" && (
          <span className="field-error" role="alert" data-testid="audit-verify-result">
            {visible(verify.message)}
          </span>
        )}
        {replica?.last_error && (
          <span className="field-error" data-testid="audit-team-replica-error">
            This machine's events are not reaching the store: {visible(replica.last_error)}
          </span>
        )}
      </div>
      {eventsQ.isError && (
        <div className="inline-error audit-error" role="alert" data-testid="audit-team-error">
          Could not load the team's audit: {errorMessage(eventsQ.error)}
        </div>
      )}
      <div className="tenants-body">
        {eventsQ.isPending && !eventsQ.isError && (
          <div className="state" role="status">
            <span className="spinner" aria-hidden="true" /> Loading the team's audit…
          </div>
        )}
        {eventsQ.data && events.length === 0 && (
          <div className="state" data-testid="audit-empty">
            <strong>No audited actions match</strong>
          </div>
        )}
        {events.length > 0 && <TeamTable events={events} />}
      </div>
    </>
  );
}

function TeamTable({ events }: { events: readonly SharedEvent[] }) {
  return (
    <table className="data-table audit-table">
      <thead>
        <tr>
          <th>Time</th>
          <th>Operator</th>
          <th>Machine</th>
          <th>Tenant</th>
          <th>Action</th>
          <th>Target</th>
          <th>Outcome</th>
          <th>Message</th>
        </tr>
      </thead>
      <tbody>
        {events.map((e) => (
          <tr key={e.seq} data-testid="audit-team-row" data-seq={e.seq}>
            <td className="nowrap" title={`${e.at} (received ${e.received_at})`}>
              {formatDateTime(e.at)}
            </td>
            <td title={`Database role: ${visible(e.db_user)}`}>
              {visible(e.operator)}
              <div className="muted small-text" data-testid="audit-db-user">
                as {visible(e.db_user)}
              </div>
            </td>
            <td>{visible(e.machine)}</td>
            <td>{visible(e.tenant)}</td>
            <td>{visible(actionLabel(e.action as ActionKind))}</td>
            <td>
              {e.target_user && <strong>{visible(e.target_user)} </strong>}
              <span className="mono muted">{visible(e.target)}</span>
            </td>
            <td>
              <span className={`badge state-badge${stateClass(e.state)}`}>{visible(e.state)}</span>
            </td>
            <td>
              {e.http_status !== null && <span className="mono muted">HTTP {e.http_status} </span>}
              {e.message ? visible(e.message) : e.http_status === null ? DASH : ""}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export type AuditScreenProps = {
  /** Shows the Settings screen (where the team audit store is set up). */
  onOpenSettings?: () => void;
};

/** The audit log: every requested action item with its latest state, here or team-wide. */
export function AuditScreen({ onOpenSettings }: AuditScreenProps = {}) {
  const [scope, setScope] = useState<AuditScope>("local");
  const [search, setSearch] = useState("");
  const [tenant, setTenant] = useState<string | null>(null);
  const [since, setSince] = useState<SinceValue>("24h");
  const [teamCount, setTeamCount] = useState("");
  const debounced = useDebouncedValue(search.trim(), SEARCH_DEBOUNCE_MS);
  const team = scope === "team";

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
    enabled: !team,
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
        <fieldset className="segmented" aria-label="Whose audit">
          <button
            type="button"
            data-testid="audit-scope-local"
            aria-pressed={!team}
            onClick={() => setScope("local")}
            title="The actions taken on this machine"
          >
            This machine
          </button>
          <button
            type="button"
            data-testid="audit-scope-team"
            aria-pressed={team}
            onClick={() => setScope("team")}
            title="Every operator's actions, from the team's shared audit store"
          >
            Whole team
          </button>
        </fieldset>
        <input
          type="search"
          className="audit-search"
          data-testid="audit-search"
          aria-label="Search the audit log"
          placeholder={
            team ? "Search operator, target, message…" : "Search target, user, actor, message…"
          }
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
        <TenantSelect
          testId="audit-tenant"
          tenants={tenants}
          tenant={tenant}
          onChange={setTenant}
        />
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
          {team ? teamCount : q.data ? plural(entries.length, "entry", "entries") : ""}
        </span>
        {!team && (
          <>
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
          </>
        )}
      </div>
      {team && (
        <TeamAudit
          tenant={tenant}
          search={debounced === "" ? null : debounced}
          since={since}
          onCount={setTeamCount}
          onOpenSettings={onOpenSettings}
        />
      )}
      {!team && q.isError && (
        <div className="inline-error audit-error" role="alert" data-testid="audit-error">
          Could not load the audit log: {errorMessage(q.error)}
        </div>
      )}
      {!team && (
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
      )}
    </div>
  );
}
