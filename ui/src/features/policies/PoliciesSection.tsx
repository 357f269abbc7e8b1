import { useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useEffect, useId, useRef, useState } from "react";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { invalidateAll } from "../../hooks/queries";
import type { PolicyConfig } from "../../ipc/bindings/PolicyConfig";
import type { PolicyItem } from "../../ipc/bindings/PolicyItem";
import type { PolicyRun } from "../../ipc/bindings/PolicyRun";
import type { Selection } from "../../ipc/bindings/Selection";
import { errorMessage, policyPreview, policyRun } from "../../ipc/ipc";
import { DASH, formatCount, formatDateTime, plural, visible } from "../../lib/format";
import {
  describePolicy,
  draftError,
  EMPTY_DRAFT,
  type PolicyDraft,
  policiesQueryOptions,
  policyOfDraft,
  runCounts,
} from "./policies";

/** Items listed per list; the counts always say how many there are. */
const LISTED = 200;

type Busy = { what: "preview" | "run"; source: string } | null;

type Previewed = { policy: PolicyConfig; selection: Selection; source: string };

/** A confirmation asked for: run `policy`, whose dry run just now listed `count` sessions. */
type PendingRun = { policy: PolicyConfig; count: number; source: string };

type Ran = { run: PolicyRun; confirmed: number; source: string };

const FIELDS: { key: keyof PolicyDraft; label: string; testId: string; placeholder: string }[] = [
  { key: "idleOver", label: "Idle over", testId: "policy-idle-over", placeholder: "8h" },
  { key: "olderThan", label: "Older than", testId: "policy-older-than", placeholder: "30d" },
  { key: "tenants", label: "Tenants", testId: "policy-tenants", placeholder: "prod, staging" },
  { key: "tags", label: "Tags", testId: "policy-tags", placeholder: "production" },
  { key: "except", label: "Except users", testId: "policy-except", placeholder: "alice, b@x.org" },
  { key: "name", label: "Name (audit log)", testId: "policy-name", placeholder: "ad hoc" },
];

function ItemTable(props: { items: readonly PolicyItem[]; testId: string; label: string }) {
  const shown = props.items.slice(0, LISTED);
  return (
    <>
      <table className="data-table policy-items" aria-label={props.label}>
        <thead>
          <tr>
            <th>Tenant</th>
            <th>User</th>
            <th>Last activity</th>
            <th>Signed in</th>
            <th>Why</th>
          </tr>
        </thead>
        <tbody>
          {shown.map((i) => (
            <tr
              key={`${i.tenant}\u0000${i.session_id}`}
              data-testid={props.testId}
              data-tenant={i.tenant}
              data-session-id={i.session_id}
            >
              <td>{i.tenant}</td>
              <td>{visible(i.username)}</td>
              <td className="nowrap">{formatDateTime(i.last_activity_at)}</td>
              <td className="nowrap">{formatDateTime(i.created_at)}</td>
              <td>{visible(i.reason)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {props.items.length > shown.length && (
        <p className="muted">
          …and {formatCount(props.items.length - shown.length)} more (the first{" "}
          {formatCount(LISTED)} are listed).
        </p>
      )}
    </>
  );
}

function SelectionView({ selection }: { selection: Selection }) {
  return (
    <div className="policy-selection" data-testid="policy-selection">
      <p data-testid="policy-selection-summary">
        <strong>{visible(selection.policy)}</strong>: would end{" "}
        <strong>{plural(selection.end.length, "session")}</strong>, spares{" "}
        {plural(selection.spared.length, "session")}
        {selection.tenants.length > 0
          ? ` (tenants ${selection.tenants.join(", ")})`
          : " (no tenant in scope)"}
        {selection.at ? `, as of ${formatDateTime(selection.at)}` : ""}. Nothing has been sent.
      </p>
      <h4>Would end ({formatCount(selection.end.length)})</h4>
      {selection.end.length === 0 ? (
        <p className="muted">Nothing.</p>
      ) : (
        <ItemTable items={selection.end} testId="policy-end-item" label="Sessions it would end" />
      )}
      <h4>Spared ({formatCount(selection.spared.length)})</h4>
      {selection.spared.length === 0 ? (
        <p className="muted">Nothing.</p>
      ) : (
        <ItemTable
          items={selection.spared}
          testId="policy-spared-item"
          label="Sessions it spares"
        />
      )}
    </div>
  );
}

function RunResult({ ran }: { ran: Ran }) {
  const { ended, failed } = runCounts(ran.run.report);
  const failures = ran.run.report.items.filter((i) => !i.ok && !i.already_gone);
  const selected = ran.run.selection.end.length;
  return (
    <div
      className={`action-result ${failed > 0 ? "warning" : "success"}`}
      data-testid="policy-run-result"
      role={failed > 0 ? "alert" : "status"}
    >
      <div className="action-result-body">
        <strong>
          {visible(ran.run.selection.policy)}: ended {plural(ended, "session")}
          {failed > 0 ? `, ${formatCount(failed)} failed` : ""}
        </strong>
        {selected !== ran.confirmed && (
          <p className="muted">
            The run selected {plural(selected, "session")} (the dry run before it listed{" "}
            {formatCount(ran.confirmed)}): sessions changed in between.
          </p>
        )}
        {failures.length > 0 && (
          <ul>
            {failures.slice(0, 20).map((i) => (
              <li key={`${i.target.tenant}\u0000${i.target.session_id}`}>
                {i.target.tenant} · {visible(i.target.session_id)}:{" "}
                {visible(i.error?.message ?? "failed")}
              </li>
            ))}
            {failures.length > 20 && <li>…and {failures.length - 20} more</li>}
          </ul>
        )}
      </div>
    </div>
  );
}

/** Session policies: a form and the config file's policies, each with a dry run and a run. */
export function PoliciesSection() {
  const qc = useQueryClient();
  const ids = useId();
  const policiesQ = useQuery(policiesQueryOptions());
  const [draft, setDraft] = useState<PolicyDraft>(EMPTY_DRAFT);
  const [busy, setBusy] = useState<Busy>(null);
  const [error, setError] = useState<string | null>(null);
  const [previewed, setPreviewed] = useState<Previewed | null>(null);
  const [pending, setPending] = useState<PendingRun | null>(null);
  const [ran, setRan] = useState<Ran | null>(null);
  const alive = useRef(true);
  useEffect(() => {
    alive.current = true;
    return () => {
      alive.current = false;
    };
  }, []);

  const set = (key: keyof PolicyDraft, value: string) => {
    setDraft((d) => ({ ...d, [key]: value }));
    setError(null);
  };

  /** The form's policy, or null (with the reason shown) when it is not complete. */
  const formPolicy = (): PolicyConfig | null => {
    const why = draftError(draft);
    if (why) {
      setError(why);
      return null;
    }
    return policyOfDraft(draft);
  };

  const preview = async (policy: PolicyConfig, source: string): Promise<Selection | null> => {
    setError(null);
    setRan(null);
    setBusy({ what: "preview", source });
    try {
      const selection = await policyPreview(policy);
      if (alive.current) setPreviewed({ policy, selection, source });
      return selection;
    } catch (err) {
      if (alive.current) setError(`Dry run failed: ${errorMessage(err)}`);
      return null;
    } finally {
      if (alive.current) setBusy(null);
    }
  };

  /** A fresh dry run, then the confirmation stating its exact count. */
  const askRun = async (policy: PolicyConfig, source: string) => {
    const selection = await preview(policy, source);
    if (!selection || !alive.current) return;
    if (selection.end.length === 0) {
      setError("Nothing to end: the dry run lists no session.");
      return;
    }
    setPending({ policy, count: selection.end.length, source });
  };

  const run = async (p: PendingRun) => {
    setPending(null);
    setError(null);
    setBusy({ what: "run", source: p.source });
    try {
      const result = await policyRun(p.policy);
      if (alive.current) {
        setRan({ run: result, confirmed: p.count, source: p.source });
        setPreviewed(null);
      }
    } catch (err) {
      if (alive.current) setError(`Run failed: ${errorMessage(err)}`);
    } finally {
      if (alive.current) setBusy(null);
      void invalidateAll(qc);
    }
  };

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    const p = formPolicy();
    if (p) void preview(p, "form");
  };

  const configured = policiesQ.data ?? [];

  return (
    <section
      className="settings-section policies-section"
      data-testid="policies-section"
      aria-labelledby={`${ids}-title`}
    >
      <h3 id={`${ids}-title`}>Session policies</h3>
      <p className="field-help">
        End sessions that are idle or old across tenants. A dry run lists exactly what would end and
        what is spared (Vigil's own, protected and SuperUser sessions, and the exception list);
        nothing is sent until you run it. Every run is audited.
      </p>
      <form className="policy-form" onSubmit={onSubmit} noValidate aria-label="Session policy">
        <div className="policy-fields">
          {FIELDS.map((f) => (
            <div key={f.key} className="form-field">
              <label htmlFor={`${ids}-${f.key}`}>{f.label}</label>
              <input
                id={`${ids}-${f.key}`}
                type="text"
                data-testid={f.testId}
                value={draft[f.key]}
                placeholder={f.placeholder}
                onChange={(e) => set(f.key, e.target.value)}
                spellCheck={false}
                autoComplete="off"
              />
            </div>
          ))}
        </div>
        <span className="field-help">
          Spans like 30m, 8h, 30d or 2w. Lists are comma separated; no tenants and no tags: every
          tenant.
        </span>
        <div className="settings-actions">
          <button
            type="submit"
            className="button"
            data-testid="policy-dry-run"
            disabled={busy !== null}
          >
            {busy?.what === "preview" && busy.source === "form" ? "Checking…" : "Dry run"}
          </button>
          <button
            type="button"
            className="button danger"
            data-testid="policy-run"
            disabled={busy !== null}
            title="A fresh dry run, then a confirmation with its exact count"
            onClick={() => {
              const p = formPolicy();
              if (p) void askRun(p, "form");
            }}
          >
            {busy?.what === "run" && busy.source === "form" ? "Running…" : "Run now"}
          </button>
        </div>
      </form>
      {error && (
        <div className="field-error" role="alert" data-testid="policy-error">
          {error}
        </div>
      )}
      {ran && <RunResult ran={ran} />}
      {previewed && <SelectionView selection={previewed.selection} />}
      <h4>In the configuration file</h4>
      {policiesQ.isError && (
        <p className="field-error" role="alert">
          Could not read the policies: {errorMessage(policiesQ.error)}
        </p>
      )}
      {policiesQ.data && configured.length === 0 && (
        <p className="muted" data-testid="config-policies-empty">
          None: <code>[[policies]]</code> tables in the configuration file add them.
        </p>
      )}
      {configured.length > 0 && (
        <ul className="config-policies">
          {configured.map((p) => {
            const source = `config:${JSON.stringify(p)}`;
            return (
              <li key={source} data-testid="config-policy" data-name={p.name}>
                <span>
                  <strong>{p.name ? visible(p.name) : DASH}</strong>{" "}
                  <span className="muted">{describePolicy(p)}</span>
                </span>
                <span className="settings-actions">
                  <button
                    type="button"
                    className="button small"
                    data-testid="config-policy-dry-run"
                    disabled={busy !== null}
                    onClick={() => void preview(p, source)}
                  >
                    {busy?.what === "preview" && busy.source === source ? "Checking…" : "Dry run"}
                  </button>
                  <button
                    type="button"
                    className="button danger small"
                    data-testid="config-policy-run"
                    disabled={busy !== null}
                    onClick={() => void askRun(p, source)}
                  >
                    {busy?.what === "run" && busy.source === source ? "Running…" : "Run now"}
                  </button>
                </span>
              </li>
            );
          })}
        </ul>
      )}
      {pending && (
        <ConfirmDialog
          title={`Run policy ${visible(pending.policy.name)}`}
          message={`End exactly ${plural(pending.count, "session")} now?`}
          detail="The sessions its dry run just listed: the run selects them again and the action guards apply (Vigil's own and protected sessions are never ended). Audited."
          confirmLabel={`End ${plural(pending.count, "session")}`}
          onConfirm={() => void run(pending)}
          onCancel={() => setPending(null)}
          testId="policy-run-confirm"
          confirmTestId="policy-run-go"
        />
      )}
    </section>
  );
}
