import { useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, type ReactNode, useEffect, useId, useRef, useState } from "react";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { queryKeys, sharedAuditQueryOptions } from "../../hooks/queries";
import type { SharedAuditConfig } from "../../ipc/bindings/SharedAuditConfig";
import type { SharedAuditView } from "../../ipc/bindings/SharedAuditView";
import { errorMessage, saveSharedAudit } from "../../ipc/ipc";
import { formatDateTime, plural, visible } from "../../lib/format";

type Draft = { url: string; tls: boolean; ca: string };

function draftOf(c: SharedAuditConfig | null): Draft {
  return { url: c?.url ?? "", tls: c?.tls ?? true, ca: c?.ca_certificate ?? "" };
}

const URL_HINT = "postgres://USER@HOST:PORT/DATABASE";

/** What the URL field says is wrong before asking the back end (null: nothing). */
export function sharedUrlError(url: string): string | null {
  const u = url.trim();
  if (u === "") return `The store's address: ${URL_HINT}.`;
  if (!/^postgres(ql)?:\/\//i.test(u)) return `A PostgreSQL URL: ${URL_HINT}.`;
  return null;
}

/** Where the store is and how replication to it goes. */
function Status({ view }: { view: SharedAuditView }) {
  const { config, status } = view;
  if (!config) {
    return (
      <div className="shared-audit-status" data-testid="shared-audit-status">
        <p>
          <strong>Not shared.</strong> This machine's audit log stays on this machine.
        </p>
      </div>
    );
  }
  return (
    <div className="shared-audit-status" data-testid="shared-audit-status">
      {status?.last_error && (
        <div className="form-error" role="alert" data-testid="shared-audit-last-error">
          <strong>Replication is failing:</strong> {visible(status.last_error)}
          <span className="muted"> The events wait in this machine's audit log.</span>
        </div>
      )}
      <dl className="shared-audit-facts">
        <dt className="shared-audit-fact">Store</dt>
        <dd className="shared-audit-value">
          <code data-testid="shared-audit-store">{visible(config.url)}</code>
        </dd>
        <dt className="shared-audit-fact">TLS</dt>
        <dd className="shared-audit-value" data-testid="shared-audit-tls-state">
          {config.tls ? "on" : "off"}
          {config.tls && config.ca_certificate && (
            <>
              {" "}
              (also trusting <code>{visible(config.ca_certificate)}</code>)
            </>
          )}
        </dd>
        <dt className="shared-audit-fact">Replication</dt>
        <dd className="shared-audit-value" data-testid="shared-audit-replication">
          {status ? (
            <>
              {status.pending === 0
                ? "up to date"
                : `${plural(status.pending, "event")} waiting to be sent`}
              {" · last success "}
              {status.last_success ? formatDateTime(status.last_success) : "never"}
              {status.sent > 0 && ` · ${plural(status.sent, "event")} sent in the last run`}
            </>
          ) : (
            "has not run yet"
          )}
        </dd>
      </dl>
    </div>
  );
}

function SharedAuditForm({ view }: { view: SharedAuditView }) {
  const qc = useQueryClient();
  const ids = useId();
  const passwordRef = useRef<HTMLInputElement>(null);
  const urlRef = useRef<HTMLInputElement>(null);
  const configured = view.config !== null;
  /** Only the fields the user changed: the rest follow the stored configuration. */
  const [edits, setEdits] = useState<Partial<Draft>>({});
  const [urlError, setUrlError] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [stopping, setStopping] = useState(false);
  const alive = useRef(true);
  useEffect(() => {
    alive.current = true;
    return () => {
      alive.current = false;
    };
  }, []);

  useEffect(() => {
    if (!saved) return;
    const t = setTimeout(() => setSaved(null), 6_000);
    return () => clearTimeout(t);
  }, [saved]);

  const draft: Draft = { ...draftOf(view.config), ...edits };
  const set = <K extends keyof Draft>(key: K, value: Draft[K]) => {
    setEdits((e) => ({ ...e, [key]: value }));
    setSaved(null);
    setError(null);
    if (key === "url") setUrlError(null);
  };

  const store = async (config: SharedAuditConfig | null, password: string | null) => {
    setBusy(true);
    setError(null);
    setSaved(null);
    try {
      const result = await saveSharedAudit(config, password);
      qc.setQueryData(queryKeys.sharedAudit, result);
      void qc.invalidateQueries({ queryKey: queryKeys.sharedEventsAll });
      if (!alive.current) return;
      if (passwordRef.current) passwordRef.current.value = "";
      setEdits({});
      setSaved(config ? "Connected and saved" : "Sharing stopped");
    } catch (err) {
      if (alive.current) setError(errorMessage(err));
    } finally {
      if (alive.current) setBusy(false);
    }
  };

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    if (busy) return;
    const why = sharedUrlError(draft.url);
    setUrlError(why);
    if (why) {
      urlRef.current?.focus();
      return;
    }
    const password = passwordRef.current?.value ?? "";
    void store(
      { url: draft.url.trim(), tls: draft.tls, ca_certificate: draft.ca.trim() || null },
      password === "" ? null : password,
    );
  };

  const id = (name: string) => `${ids}-${name}`;
  const described = (name: string, err: string | null) =>
    [`${id(name)}-help`, err ? `${id(name)}-err` : ""].filter(Boolean).join(" ");

  return (
    <form
      className="shared-audit-form"
      onSubmit={onSubmit}
      noValidate
      aria-label="Team audit store"
    >
      <div className="form-field">
        <label htmlFor={id("url")}>Store URL</label>
        <input
          ref={urlRef}
          id={id("url")}
          type="text"
          data-testid="shared-audit-url"
          value={draft.url}
          placeholder="postgres://vigil_operator@audit.example.org:5432/vigil"
          aria-invalid={urlError !== null}
          aria-describedby={described("url", urlError)}
          onChange={(e) => set("url", e.target.value)}
          spellCheck={false}
          autoComplete="off"
        />
        <span className="field-help" id={`${id("url")}-help`}>
          A PostgreSQL database, {URL_HINT}, without the password.
        </span>
        {urlError && (
          <span className="field-error" id={`${id("url")}-err`} role="alert">
            {urlError}
          </span>
        )}
      </div>
      <div className="form-field check-field">
        <label htmlFor={id("tls")} className="toggle">
          <input
            id={id("tls")}
            type="checkbox"
            data-testid="shared-audit-tls"
            checked={draft.tls}
            aria-describedby={`${id("tls")}-help`}
            onChange={(e) => set("tls", e.target.checked)}
          />
          <span>TLS</span>
        </label>
        <span className="field-help" id={`${id("tls")}-help`}>
          Verified against the system's roots and the CA file below. Off only for a server on this
          machine or a trusted network.
        </span>
      </div>
      <div className="form-field">
        <label htmlFor={id("ca")}>CA certificate (optional)</label>
        <input
          id={id("ca")}
          type="text"
          data-testid="shared-audit-ca"
          value={draft.ca}
          placeholder="/etc/ssl/audit-ca.pem"
          aria-describedby={`${id("ca")}-help`}
          onChange={(e) => set("ca", e.target.value)}
          spellCheck={false}
          autoComplete="off"
        />
        <span className="field-help" id={`${id("ca")}-help`}>
          A PEM file of the CA to trust besides the system's roots.
        </span>
      </div>
      <div className="form-field">
        <label htmlFor={id("password")}>Password</label>
        <input
          ref={passwordRef}
          id={id("password")}
          type="password"
          data-testid="shared-audit-password"
          placeholder={configured ? "Stored in the keychain" : undefined}
          aria-describedby={`${id("password")}-help`}
          autoComplete="new-password"
          spellCheck={false}
          onChange={() => setError(null)}
        />
        <span className="field-help" id={`${id("password")}-help`}>
          Kept in the system keychain, never in the configuration file.
          {configured ? " Leave empty to keep the stored one." : ""}
        </span>
      </div>
      {error !== null && (
        <div className="form-error" role="alert" data-testid="shared-audit-error">
          {visible(error)}
        </div>
      )}
      <div className="settings-actions">
        <button
          type="submit"
          className="button primary"
          data-testid="shared-audit-save"
          disabled={busy}
          title="Connects to the store first; nothing is kept unless that works"
        >
          {busy ? "Connecting…" : configured ? "Save" : "Start sharing"}
        </button>
        {configured && (
          <button
            type="button"
            className="button danger-outline"
            data-testid="shared-audit-stop"
            disabled={busy}
            onClick={() => setStopping(true)}
          >
            Stop sharing
          </button>
        )}
        {saved && (
          <span className="settings-ok" role="status" data-testid="shared-audit-saved">
            {saved}
          </span>
        )}
      </div>
      {stopping && (
        <ConfirmDialog
          title="Stop sharing the audit log"
          message="This machine stops sending its audit events to the team's store; what was sent stays there."
          detail="The store's password is removed from the keychain."
          confirmLabel="Stop sharing"
          onConfirm={() => {
            setStopping(false);
            void store(null, null);
          }}
          onCancel={() => setStopping(false)}
          testId="shared-audit-stop-confirm"
          confirmTestId="shared-audit-stop-go"
        />
      )}
    </form>
  );
}

/** Team audit: the shared, hash-chained audit store every operator's machine sends to. */
export function SharedAuditSection() {
  const ids = useId();
  const q = useQuery(sharedAuditQueryOptions());

  let body: ReactNode;
  if (q.data) {
    body = (
      <>
        <Status view={q.data} />
        <SharedAuditForm view={q.data} />
      </>
    );
  } else if (q.isError) {
    body = (
      <div className="form-error" role="alert" data-testid="shared-audit-load-error">
        Could not read the team audit settings: {errorMessage(q.error)}{" "}
        <button type="button" className="button small" onClick={() => void q.refetch()}>
          Try again
        </button>
      </div>
    );
  } else {
    body = (
      <p className="muted" role="status">
        <span className="spinner" aria-hidden="true" /> Loading the team audit settings…
      </p>
    );
  }

  return (
    <section
      className="settings-section shared-audit-section"
      data-testid="shared-audit-section"
      aria-labelledby={`${ids}-title`}
    >
      <h3 id={`${ids}-title`}>Team audit</h3>
      <p className="field-help">
        Every action's audit events also go to one PostgreSQL store the whole team shares,
        hash-chained and append-only; the Audit view's "Whole team" lists them. When the store is
        down, the events wait on this machine.
      </p>
      {body}
    </section>
  );
}
