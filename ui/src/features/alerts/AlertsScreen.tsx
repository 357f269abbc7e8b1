import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Fragment, useMemo, useState } from "react";
import { ActionResult, type Notice } from "../../components/ActionResult";
import { TenantSelect } from "../../components/TenantSelect";
import { alertListQueryOptions, invalidateAlerts, summaryQueryOptions } from "../../hooks/queries";
import { useDebouncedValue } from "../../hooks/useDebouncedValue";
import type { AlertFilter } from "../../ipc/bindings/AlertFilter";
import type { Delivery } from "../../ipc/bindings/Delivery";
import type { StoredAlert } from "../../ipc/bindings/StoredAlert";
import { acknowledgeAlerts, errorMessage, snoozeRule } from "../../ipc/ipc";
import { ruleLabel, severityLabel } from "../../lib/alerts";
import { DASH, formatDateTime, plural, visible } from "../../lib/format";
import { PersonPanel } from "../people/PersonPanel";

export const ALERTS_LIMIT = 2_000;
export const SNOOZE_MINUTES = 60;
const SEARCH_DEBOUNCE_MS = 150;

export type AlertsScreenProps = {
  /** Show one session in the Sessions view (search = its id, tenant filter = its tenant). */
  onShowSession: (tenant: string, sessionId: string) => void;
};

/** "2026-12-07 01:37:39" as two unbreakable parts: the cell may put the time under the date. */
function DateTime({ iso }: { iso: string }) {
  const text = formatDateTime(iso);
  const space = text.indexOf(" ");
  if (space < 0) return <>{text}</>;
  return (
    <>
      <span className="nowrap">{text.slice(0, space)}</span>{" "}
      <span className="nowrap">{text.slice(space + 1)}</span>
    </>
  );
}

/** An address that may wrap after each ':' (an IPv6 address on two lines, not one wide one). */
export function WrappedIp({ ip }: { ip: string }) {
  const parts = ip.split(":");
  return (
    <span className="wrapped-ip" title={ip} data-testid="alert-ip">
      {parts.map((p, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: the parts of one fixed string
        <Fragment key={i}>
          {p}
          {i < parts.length - 1 && (
            <>
              :<wbr />
            </>
          )}
        </Fragment>
      ))}
    </span>
  );
}

/** The alert centre: stored alerts, newest first, to acknowledge, snooze or follow up. */
export function AlertsScreen({ onShowSession }: AlertsScreenProps) {
  const qc = useQueryClient();
  const [openOnly, setOpenOnly] = useState(true);
  const [tenant, setTenant] = useState<string | null>(null);
  const [search, setSearch] = useState("");
  const [selected, setSelected] = useState<ReadonlySet<number>>(() => new Set());
  const [notice, setNotice] = useState<Notice | null>(null);
  /** The person panel's query: an alert's user name (null: closed). */
  const [person, setPerson] = useState<string | null>(null);
  const debounced = useDebouncedValue(search.trim(), SEARCH_DEBOUNCE_MS);

  const filter = useMemo<AlertFilter>(
    () => ({
      open_only: openOnly,
      tenant,
      search: debounced === "" ? null : debounced,
      limit: ALERTS_LIMIT,
    }),
    [openOnly, tenant, debounced],
  );
  // Another list: the selection referred to the old one.
  const [prevFilter, setPrevFilter] = useState(filter);
  if (prevFilter !== filter) {
    setPrevFilter(filter);
    setSelected(new Set());
  }

  const q = useQuery({ ...alertListQueryOptions(filter), placeholderData: keepPreviousData });
  const summaryQ = useQuery(summaryQueryOptions());
  const tenants = useMemo(() => {
    const names = (summaryQ.data?.tenants ?? []).map((t) => t.health.tenant);
    if (tenant !== null && !names.includes(tenant)) names.push(tenant);
    return names;
  }, [summaryQ.data, tenant]);

  const alerts = q.data ?? [];
  const open = alerts.filter((a) => !a.acknowledged);
  // Only rows still listed count (a refetch may have dropped acknowledged ones).
  const selectedIds = open.filter((a) => selected.has(a.id)).map((a) => a.id);
  const allSelected = open.length > 0 && selectedIds.length === open.length;

  const ackMutation = useMutation({
    mutationFn: (ids: number[]) => acknowledgeAlerts(ids),
    onSuccess: (_, ids) => {
      setSelected((prev) => {
        const next = new Set(prev);
        for (const id of ids) next.delete(id);
        return next;
      });
      setNotice({ tone: "success", title: `Acknowledged ${plural(ids.length, "alert")}` });
    },
    onError: (err) =>
      setNotice({ tone: "error", title: `Could not acknowledge: ${errorMessage(err)}` }),
    onSettled: () => void invalidateAlerts(qc),
  });

  const snoozeMutation = useMutation({
    mutationFn: (a: StoredAlert) => snoozeRule(a.alert.tenant, a.alert.rule, SNOOZE_MINUTES),
    onSuccess: (_, a) =>
      setNotice({
        tone: "success",
        title: `Snoozed “${ruleLabel(a.alert.rule)}” for tenant ${a.alert.tenant} for 1 h`,
      }),
    onError: (err) => setNotice({ tone: "error", title: `Could not snooze: ${errorMessage(err)}` }),
  });

  const toggle = (id: number) =>
    setSelected((prev) => {
      const next = new Set(prev);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  const toggleAll = () => setSelected(allSelected ? new Set() : new Set(open.map((a) => a.id)));

  return (
    <div className="tenants-screen alerts-screen" data-testid="alerts-screen">
      <div className="tenants-header">
        <div className="tenants-title">
          <h2>Alerts</h2>
        </div>
        <label className="toggle">
          <input
            type="checkbox"
            data-testid="alerts-open-only"
            checked={openOnly}
            onChange={(e) => setOpenOnly(e.target.checked)}
          />
          <span>Open only</span>
        </label>
        <TenantSelect
          testId="alerts-tenant"
          tenants={tenants}
          tenant={tenant}
          onChange={setTenant}
        />
        <input
          type="search"
          className="audit-search"
          data-testid="alerts-search"
          aria-label="Search alerts"
          placeholder="Search user, IP, message…"
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
        <span className="spacer" />
        <span className="row-count muted" data-testid="alerts-count" aria-live="polite">
          {q.data ? plural(alerts.length, "alert") : ""}
        </span>
        <button
          type="button"
          className="button"
          data-testid="alerts-ack"
          disabled={selectedIds.length === 0 || ackMutation.isPending}
          onClick={() => ackMutation.mutate(selectedIds)}
          title="Acknowledge the selected alerts"
        >
          {selectedIds.length > 1 ? `Acknowledge ${selectedIds.length}` : "Acknowledge"}
        </button>
      </div>
      {notice && <ActionResult notice={notice} onDismiss={() => setNotice(null)} />}
      {q.isError && (
        <div className="inline-error audit-error" role="alert" data-testid="alerts-error">
          Could not load the alerts: {errorMessage(q.error)}
        </div>
      )}
      <div className="tenants-body">
        {q.isPending && !q.isError && (
          <div className="state" role="status">
            <span className="spinner" aria-hidden="true" /> Loading alerts…
          </div>
        )}
        {q.data && alerts.length === 0 && (
          <div className="state" data-testid="alerts-empty">
            <strong>{openOnly ? "No open alerts" : "No alerts match"}</strong>
          </div>
        )}
        {alerts.length > 0 && (
          <table className="data-table alerts-table">
            <thead>
              <tr>
                <th className="cell-check">
                  <input
                    type="checkbox"
                    aria-label="Select all open alerts"
                    data-testid="alerts-select-all"
                    checked={allSelected}
                    disabled={open.length === 0}
                    onChange={toggleAll}
                  />
                </th>
                <th>Severity</th>
                <th>Time</th>
                <th>User / tenant</th>
                <th>Rules</th>
                <th>IP</th>
                <th className="cell-message">Message</th>
                <th className="cell-actions">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {alerts.map((s) => {
                const a = s.alert;
                return (
                  <tr
                    key={s.id}
                    className={s.acknowledged ? "acknowledged" : undefined}
                    data-testid="alert-row"
                    data-alert-id={s.id}
                    data-acknowledged={s.acknowledged}
                  >
                    <td className="cell-check">
                      <input
                        type="checkbox"
                        data-testid="alert-select"
                        aria-label={`Select alert ${s.id}`}
                        checked={!s.acknowledged && selected.has(s.id)}
                        disabled={s.acknowledged}
                        onChange={() => toggle(s.id)}
                      />
                    </td>
                    <td>
                      <span
                        className={`badge severity-badge sev-${a.severity}`}
                        data-testid="alert-severity"
                        data-severity={a.severity}
                      >
                        {severityLabel(a.severity)}
                      </span>
                    </td>
                    <td className="cell-time" title={a.at}>
                      <DateTime iso={a.at} />
                    </td>
                    <td className="cell-who">
                      <span
                        className="cell-clip"
                        title={a.username ? visible(a.username) : undefined}
                      >
                        {a.username ? visible(a.username) : DASH}
                      </span>
                      <span className="cell-clip muted" title={`Tenant ${visible(a.tenant)}`}>
                        {visible(a.tenant)}
                      </span>
                    </td>
                    <td>
                      <span className="rule-chips">
                        {a.rules.map((r) => (
                          <span
                            key={r}
                            className={`rule-chip${r === a.rule ? " rule-chip-main" : ""}`}
                            data-testid="alert-rule"
                            data-rule={r}
                          >
                            {ruleLabel(r)}
                          </span>
                        ))}
                        {a.count > 1 && <span className="muted">×{a.count}</span>}
                      </span>
                    </td>
                    <td className="mono cell-ip">
                      {a.ip ? <WrappedIp ip={visible(a.ip)} /> : DASH}
                    </td>
                    <td
                      className="cell-message"
                      title={a.user_agent ? visible(a.user_agent) : undefined}
                    >
                      {visible(a.message)}
                      {a.suppressed_by !== null && (
                        <div className="muted" data-testid="alert-suppressed">
                          Suppressed by {visible(a.suppressed_by)}
                        </div>
                      )}
                      {s.deliveries.length > 0 && (
                        <div className="alert-deliveries" data-testid="alert-deliveries">
                          {s.deliveries.map((d) => (
                            <span
                              key={d.id}
                              className={`chip delivery-${d.state}`}
                              title={d.last_error ? visible(d.last_error) : undefined}
                            >
                              {visible(d.route)}: {deliveryLabel(d)}
                            </span>
                          ))}
                        </div>
                      )}
                    </td>
                    <td className="cell-actions alert-actions">
                      <div className="alert-action-list">
                        {s.acknowledged ? (
                          <span className="muted">Acknowledged</span>
                        ) : (
                          <button
                            type="button"
                            className="link-button"
                            data-testid="alert-ack"
                            disabled={ackMutation.isPending}
                            onClick={() => ackMutation.mutate([s.id])}
                          >
                            Acknowledge
                          </button>
                        )}
                        <button
                          type="button"
                          className="link-button"
                          data-testid="alert-snooze"
                          disabled={snoozeMutation.isPending}
                          title={`No new “${ruleLabel(a.rule)}” alerts for tenant ${a.tenant} for 1 hour`}
                          onClick={() => snoozeMutation.mutate(s)}
                        >
                          Snooze 1 h
                        </button>
                        {a.username !== null && (
                          <button
                            type="button"
                            className="link-button"
                            data-testid="alert-person"
                            title={`${a.username}'s accounts and sessions in every tenant`}
                            onClick={() => setPerson(a.username)}
                          >
                            Person
                          </button>
                        )}
                        {a.session_id !== null && (
                          <button
                            type="button"
                            className="link-button"
                            data-testid="alert-show"
                            onClick={() => {
                              if (a.session_id !== null) onShowSession(a.tenant, a.session_id);
                            }}
                          >
                            Show session
                          </button>
                        )}
                      </div>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </div>
      {person !== null && (
        <PersonPanel key={person} query={person} onClose={() => setPerson(null)} />
      )}
    </div>
  );
}

/** A route's delivery of an alert, in a word or two. */
function deliveryLabel(d: Delivery): string {
  switch (d.state) {
    case "delivered":
      return d.carried_by === null ? "sent" : "sent in a digest";
    case "gave_up":
      return "gave up";
    case "queued":
      return d.attempts > 0 ? `retrying (${d.attempts} tries)` : "queued";
  }
}
