import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type KeyboardEvent, useEffect, useId, useRef, useState } from "react";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { invalidateAll } from "../../hooks/queries";
import { useNow } from "../../hooks/useNow";
import type { Assignment } from "../../ipc/bindings/Assignment";
import type { Candidate } from "../../ipc/bindings/Candidate";
import type { ContainOptions } from "../../ipc/bindings/ContainOptions";
import type { ContainReport } from "../../ipc/bindings/ContainReport";
import type { Person } from "../../ipc/bindings/Person";
import type { PersonAccount } from "../../ipc/bindings/PersonAccount";
import { assignAccount, containPerson, errorMessage, reenablePerson } from "../../ipc/ipc";
import { trapTab } from "../../lib/focusTrap";
import { DASH, formatDateTime, formatDuration, parseTime, plural, visible } from "../../lib/format";
import { parseUserAgent } from "../../lib/userAgent";
import { actionLabel } from "../audit/AuditScreen";
import { ContainDialog } from "./ContainDialog";
import { ContainResult } from "./ContainResult";
import { linkedByLabel } from "./people";
import {
  findPersonQueryOptions,
  invalidatePeople,
  PERSON_AUDIT_SHOWN,
  personAuditQueryOptions,
} from "./queries";

export type PersonPanelProps = {
  /** What to look the person up by: an e-mail address, a user name, a person key. */
  query: string;
  onClose: () => void;
};

type Done = { action: "contain" | "reenable"; report: ContainReport };

function ago(iso: string | null, now: number): string {
  const t = parseTime(iso);
  return t === null ? DASH : formatDuration(now - t);
}

function AccountBadges({ account }: { account: PersonAccount }) {
  const u = account.user;
  return (
    <span className="person-badges">
      {u.disabled && (
        <span className="badge badge-disabled" data-testid="account-disabled">
          DISABLED
        </span>
      )}
      {u.superuser && (
        <span className="badge badge-super" title="SuperUser">
          SuperUser
        </span>
      )}
      {u.protected && (
        <span className="badge badge-protected" title="Protected: can be ended, not disabled">
          protected
        </span>
      )}
      {account.own && (
        <span
          className="badge badge-you"
          title="The account Vigil signs in with on this tenant: never disabled by Vigil"
        >
          Vigil's own account
        </span>
      )}
    </span>
  );
}

function Account({
  account,
  now,
  onAssign,
  busy,
}: {
  account: PersonAccount;
  now: number;
  /** Links made by hand: `own` takes the account out of this person. */
  onAssign: (to: Assignment) => void;
  busy: boolean;
}) {
  const u = account.user;
  return (
    <section
      className="person-account"
      data-testid="person-account"
      data-tenant={account.tenant}
      data-user-id={u.id}
      data-disabled={u.disabled ? "true" : "false"}
    >
      <div className="person-account-head">
        <strong>Tenant {account.tenant}</strong>
        <span className="muted">{account.kind ?? "not running in Vigil"}</span>
        <AccountBadges account={account} />
      </div>
      <dl className="person-facts">
        <dt>User</dt>
        <dd>{visible(u.username)}</dd>
        <dt>E-mail</dt>
        <dd>{u.email ? visible(u.email) : DASH}</dd>
        <dt>Linked by</dt>
        <dd data-testid="account-linked-by" data-linked-by={account.linked_by}>
          {linkedByLabel(account.linked_by)}
          {account.linked_by !== "unlinked" && (
            <button
              type="button"
              className="link-button"
              data-testid="account-unlink"
              disabled={busy}
              title="This account is someone else's: keep it apart (saved in the config file)"
              onClick={() => onAssign({ to: "own" })}
            >
              Not this person
            </button>
          )}
          {(account.linked_by === "manual" || account.linked_by === "unlinked") && (
            <button
              type="button"
              className="link-button"
              data-testid="account-auto"
              disabled={busy}
              title="Forget the hand-made link: join by e-mail address or user name again"
              onClick={() => onAssign({ to: "automatic" })}
            >
              Back to automatic
            </button>
          )}
        </dd>
      </dl>
      {account.sessions.length === 0 ? (
        <p className="muted">No active sessions.</p>
      ) : (
        <div className="table-scroll">
          <table
            className="data-table"
            aria-label={`Sessions of ${u.username} (tenant ${account.tenant})`}
          >
            <thead>
              <tr>
                <th>IP</th>
                <th>Location</th>
                <th>Browser / OS</th>
                <th>Age</th>
                <th>Idle</th>
              </tr>
            </thead>
            <tbody>
              {account.sessions.map((s) => (
                <tr key={s.id} data-testid="person-session" data-session-id={s.id}>
                  <td className="mono">{s.ip ? visible(s.ip) : DASH}</td>
                  <td>{s.location ? visible(s.location) : DASH}</td>
                  <td title={s.user_agent ? visible(s.user_agent) : undefined}>
                    {visible(parseUserAgent(s.user_agent).label)}
                  </td>
                  <td title={s.created_at ? formatDateTime(s.created_at) : undefined}>
                    {ago(s.created_at, now)}
                  </td>
                  <td title={s.last_activity_at ? formatDateTime(s.last_activity_at) : undefined}>
                    {ago(s.last_activity_at, now)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function PersonAudit({ person }: { person: Person }) {
  const accounts = person.accounts.map((a) => [a.tenant, a.user.username] as const);
  const q = useQuery({ ...personAuditQueryOptions(accounts), enabled: accounts.length > 0 });
  return (
    <section className="person-audit" aria-label="Recent actions">
      <h3>Recent actions</h3>
      {q.isPending && accounts.length > 0 && <p className="muted">Loading…</p>}
      {q.isError && (
        <p className="inline-error" role="alert">
          Could not read the audit log: {errorMessage(q.error)}
        </p>
      )}
      {q.data?.length === 0 && <p className="muted">No audited actions for these accounts.</p>}
      {q.data && q.data.length > 0 && (
        <table className="data-table">
          <thead>
            <tr>
              <th>Requested</th>
              <th>Tenant</th>
              <th>Action</th>
              <th>User</th>
              <th>State</th>
              <th>Actor</th>
            </tr>
          </thead>
          <tbody>
            {q.data.map((e) => (
              <tr key={e.id} data-testid="person-audit-row">
                <td className="nowrap">{formatDateTime(e.requested_at)}</td>
                <td>{e.tenant}</td>
                <td>{actionLabel(e.action)}</td>
                <td>{e.target_user ? visible(e.target_user) : DASH}</td>
                <td>
                  <span className={`badge state-badge state-${e.state}`}>{e.state}</span>
                </td>
                <td>{visible(e.actor)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {q.data && q.data.length >= PERSON_AUDIT_SHOWN && (
        <p className="muted">The latest {PERSON_AUDIT_SHOWN}: the Audit view has them all.</p>
      )}
    </section>
  );
}

/** Links another account to this person by hand (a name the address does not join). */
function LinkAccount(props: { busy: boolean; onLink: (tenant: string, user: string) => void }) {
  const [tenant, setTenant] = useState("");
  const [user, setUser] = useState("");
  const ready = tenant.trim() !== "" && user.trim() !== "";
  return (
    <form
      className="person-link"
      data-testid="person-link"
      onSubmit={(e) => {
        e.preventDefault();
        if (!ready) return;
        props.onLink(tenant.trim(), user.trim());
        setUser("");
      }}
    >
      <span className="muted">Link another account:</span>
      <input
        className="link-input"
        aria-label="Tenant"
        placeholder="tenant"
        data-testid="link-tenant"
        value={tenant}
        onChange={(e) => setTenant(e.target.value)}
      />
      <input
        className="link-input"
        aria-label="User name"
        placeholder="user name"
        data-testid="link-user"
        value={user}
        onChange={(e) => setUser(e.target.value)}
      />
      <button
        type="submit"
        className="button small"
        data-testid="link-submit"
        disabled={!ready || props.busy}
      >
        Link
      </button>
    </form>
  );
}

/** The person's recent sessions as Vigil saw them, ended ones with how they ended. */
function PersonHistory({ person }: { person: Person }) {
  if (person.history.length === 0) return null;
  return (
    <section className="person-history" aria-label="Recent sessions">
      <h3>Recent sessions</h3>
      <table className="data-table">
        <thead>
          <tr>
            <th>Tenant</th>
            <th>User</th>
            <th>IP</th>
            <th>First seen</th>
            <th>Last seen</th>
            <th>Ended</th>
          </tr>
        </thead>
        <tbody>
          {person.history.map((h) => (
            <tr key={`${h.tenant}\u0000${h.session_id}`} data-testid="person-history-row">
              <td>{h.tenant}</td>
              <td>{visible(h.username)}</td>
              <td>{h.ip ? visible(h.ip) : DASH}</td>
              <td className="nowrap">{formatDateTime(h.first_seen)}</td>
              <td className="nowrap">{formatDateTime(h.last_seen)}</td>
              <td>{h.ended_by ? visible(h.ended_by) : "active"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function Candidates(props: {
  query: string;
  candidates: readonly Candidate[];
  onPick: (key: string) => void;
}) {
  return (
    <div data-testid="person-ambiguous">
      <p>
        “{visible(props.query)}” matches {plural(props.candidates.length, "person", "people")}: pick
        one.
      </p>
      <ul className="person-candidates">
        {props.candidates.map((c) => (
          <li key={c.key}>
            <button
              type="button"
              className="person-candidate"
              data-testid="person-candidate"
              data-key={c.key}
              onClick={() => props.onPick(c.key)}
            >
              <strong>{visible(c.display_name ?? c.key)}</strong>{" "}
              <span className="muted">{visible(c.key)}</span>
              <span className="person-candidate-where">
                {c.usernames.map(visible).join(", ")} in{" "}
                {c.tenants.map((t) => `tenant ${t}`).join(", ")}
              </span>
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}

/**
 * One person across the tenants: their accounts, sessions and recent actions, with
 * "Contain everywhere" and "Re-enable everywhere". A modal side panel.
 */
export function PersonPanel({ query: initial, onClose }: PersonPanelProps) {
  const qc = useQueryClient();
  const [query, setQuery] = useState(initial.trim());
  /** Queries left by picking a candidate: Back returns to them. */
  const [trail, setTrail] = useState<string[]>([]);
  const [confirm, setConfirm] = useState<"contain" | "reenable" | null>(null);
  const [done, setDone] = useState<Done | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const now = useNow(30_000);
  const ref = useRef<HTMLDivElement>(null);
  const closeRef = useRef<HTMLButtonElement>(null);
  const titleId = useId();

  const findQ = useQuery({
    ...findPersonQueryOptions(query),
    enabled: query !== "",
    placeholderData: keepPreviousData,
  });
  const match = findQ.data;
  const person = match?.result === "found" ? match.person : null;
  const name = visible(person ? (person.display_name ?? person.key) : query);

  useEffect(() => {
    const previous = document.activeElement as HTMLElement | null;
    closeRef.current?.focus();
    return () => previous?.focus?.();
  }, []);

  /** After an action: look the person up again by key, and everything else refetches. */
  const reload = (key: string) => {
    setQuery(key);
    void invalidatePeople(qc);
    void invalidateAll(qc);
  };

  const containM = useMutation({
    mutationFn: (v: { key: string; options: ContainOptions }) => containPerson(v.key, v.options),
    onMutate: () => {
      setDone(null);
      setActionError(null);
    },
    onSuccess: (report) => setDone({ action: "contain", report }),
    onError: (err) => setActionError(`Could not contain: ${errorMessage(err)}`),
    onSettled: (_r, _e, v) => reload(v.key),
  });
  const reenableM = useMutation({
    mutationFn: (key: string) => reenablePerson(key),
    onMutate: () => {
      setDone(null);
      setActionError(null);
    },
    onSuccess: (report) => setDone({ action: "reenable", report }),
    onError: (err) => setActionError(`Could not re-enable: ${errorMessage(err)}`),
    onSettled: (_r, _e, key) => reload(key),
  });
  const assignM = useMutation({
    mutationFn: (v: { key: string; tenant: string; user: string; to: Assignment }) =>
      assignAccount(v.tenant, v.user, v.to),
    onMutate: () => setActionError(null),
    onError: (err) => setActionError(`Could not save the link: ${errorMessage(err)}`),
    onSettled: (_r, _e, v) => reload(v.key),
  });
  const busy = containM.isPending || reenableM.isPending || assignM.isPending;

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      onClose();
      return;
    }
    trapTab(e, ref.current);
  };

  const pick = (key: string) => {
    setTrail((t) => [...t, query]);
    setQuery(key);
  };
  const back = () => {
    const prev = trail[trail.length - 1];
    if (prev === undefined) return;
    setTrail((t) => t.slice(0, -1));
    setQuery(prev);
  };

  const tenants = person ? [...new Set(person.accounts.map((a) => a.tenant))] : [];

  return (
    <>
      <div className="backdrop side">
        <div
          ref={ref}
          className="dialog history-panel person-panel"
          role="dialog"
          aria-modal="true"
          aria-labelledby={titleId}
          data-testid="person-panel"
          onKeyDown={onKeyDown}
        >
          <div className="history-head">
            <h2 id={titleId}>
              Person {name}
              {findQ.isFetching && (
                <span className="muted" role="status">
                  {" "}
                  (loading…)
                </span>
              )}
            </h2>
            <button
              ref={closeRef}
              type="button"
              className="icon-button"
              aria-label="Close"
              onClick={onClose}
            >
              ×
            </button>
          </div>
          {trail.length > 0 && (
            <button type="button" className="link-button" onClick={back}>
              ← Back to the matches
            </button>
          )}
          {query === "" && <p className="muted">Enter an e-mail address or a user name.</p>}
          {findQ.isPending && query !== "" && (
            <p className="muted" role="status">
              Looking the person up in every tenant…
            </p>
          )}
          {findQ.isError && (
            <p className="inline-error" role="alert" data-testid="person-error">
              Could not look the person up: {errorMessage(findQ.error)}
            </p>
          )}
          {match?.result === "not_found" && (
            <p className="person-warning" data-testid="person-not-found">
              No person found for “{visible(query)}” in any tenant.
            </p>
          )}
          {match?.result === "ambiguous" && (
            <Candidates query={query} candidates={match.candidates} onPick={pick} />
          )}
          {person && (
            <>
              <dl className="person-facts">
                <dt>Key</dt>
                <dd>
                  <code data-testid="person-key">{visible(person.key)}</code>
                </dd>
                <dt>Name</dt>
                <dd data-testid="person-name">
                  {person.display_name ? visible(person.display_name) : DASH}
                </dd>
                <dt>E-mail</dt>
                <dd data-testid="person-emails">
                  {person.emails.length > 0 ? person.emails.map(visible).join(", ") : DASH}
                </dd>
                <dt>Accounts</dt>
                <dd>
                  {plural(person.accounts.length, "account")} in {plural(tenants.length, "tenant")},{" "}
                  {plural(
                    person.accounts.reduce((n, a) => n + a.sessions.length, 0),
                    "active session",
                  )}
                </dd>
              </dl>
              {person.lookup_errors.map((e) => (
                <p
                  key={e.tenant}
                  className="person-warning"
                  role="alert"
                  data-testid="person-lookup-error"
                  data-tenant={e.tenant}
                >
                  Tenant {e.tenant} could not be searched: {visible(e.error.message)}. The person
                  may have an account there.
                </p>
              ))}
              <div className="person-actions">
                <button
                  type="button"
                  className="button danger"
                  data-testid="contain-person"
                  disabled={busy || person.accounts.length === 0}
                  title="Disable every account, end every session, revoke tokens and require a new password, in every tenant (confirmed first)"
                  onClick={() => setConfirm("contain")}
                >
                  Contain everywhere
                </button>
                <button
                  type="button"
                  className="button"
                  data-testid="reenable-person"
                  disabled={busy || person.accounts.length === 0}
                  title="Re-enable every account of this person (confirmed first)"
                  onClick={() => setConfirm("reenable")}
                >
                  Re-enable everywhere
                </button>
                <button
                  type="button"
                  className="button"
                  data-testid="person-refresh"
                  disabled={busy || findQ.isFetching}
                  onClick={() => reload(person.key)}
                >
                  Refresh
                </button>
              </div>
              {containM.isPending && (
                <p className="muted" role="status" data-testid="contain-running">
                  <span className="spinner" aria-hidden="true" /> Containing {name}… waiting for the
                  tenants to confirm (up to 15 s).
                </p>
              )}
              {reenableM.isPending && (
                <p className="muted" role="status">
                  <span className="spinner" aria-hidden="true" /> Re-enabling…
                </p>
              )}
            </>
          )}
          {actionError && (
            <p className="inline-error" role="alert" data-testid="person-action-error">
              {actionError}
            </p>
          )}
          {done && (
            <ContainResult
              action={done.action}
              report={done.report}
              onDismiss={() => setDone(null)}
            />
          )}
          {person && (
            <>
              {person.accounts.map((a) => (
                <Account
                  key={`${a.tenant}\u0000${a.user.id}`}
                  account={a}
                  now={now}
                  busy={busy}
                  onAssign={(to) =>
                    assignM.mutate({ key: person.key, tenant: a.tenant, user: a.user.username, to })
                  }
                />
              ))}
              <LinkAccount
                busy={busy}
                onLink={(tenant, user) =>
                  assignM.mutate({
                    key: person.key,
                    tenant,
                    user,
                    to: { to: "person", person: person.key },
                  })
                }
              />
              <PersonHistory person={person} />
              <PersonAudit person={person} />
            </>
          )}
        </div>
      </div>
      {confirm === "contain" && person && (
        <ContainDialog
          personKey={person.key}
          name={name}
          onCancel={() => setConfirm(null)}
          onConfirm={(options) => {
            setConfirm(null);
            containM.mutate({ key: person.key, options });
          }}
        />
      )}
      {confirm === "reenable" && person && (
        <ConfirmDialog
          title={`Re-enable ${name} everywhere`}
          message={`Re-enable ${plural(person.accounts.length, "account")} of ${name} in ${tenants
            .map((t) => `tenant ${t}`)
            .join(", ")}?`}
          detail="They can sign in again. Sessions that were ended stay ended."
          confirmLabel="Re-enable everywhere"
          onConfirm={() => {
            setConfirm(null);
            reenableM.mutate(person.key);
          }}
          onCancel={() => setConfirm(null)}
          testId="reenable-confirm"
          confirmTestId="reenable-go"
        />
      )}
    </>
  );
}
