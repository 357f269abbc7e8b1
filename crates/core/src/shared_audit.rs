//! One audit for the team: every operator's audit events, replicated from their local
//! `vigil.db` (written first, as always: intent before request) to a shared PostgreSQL
//! table (`[audit.shared]` in the config file).
//!
//! The local events table is append-only with increasing ids, so it is its own outbox:
//! the replication cursor (the last event id sent) lives in the local database, each
//! batch is one transaction, and `(machine_id, local_id)` is unique in the shared table,
//! so a batch re-sent after a crash or an outage is not duplicated.
//!
//! The shared table is append-only for operators: they get INSERT and SELECT only
//! (through the `vigil_operator` role), triggers refuse UPDATE, DELETE and TRUNCATE, and a
//! trigger chains every row to the previous one with SHA-256 (`prev_hash`, `hash`) under
//! an advisory lock, with the database's own idea of who inserted it (`db_user`) and
//! when. [`verify`] recomputes the chain: a row removed or changed (even by the table's
//! owner with the triggers off) is found and named.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::audit::{AuditLog, EventRow};
use crate::error::{Error, ErrorCode, Result};
use crate::secret::SecretString;

/// The keychain service of the shared store's password (account [`SECRET_ACCOUNT`]).
pub const SECRET_SERVICE: &str = "app.vigil.desktop.audit";
pub const SECRET_ACCOUNT: &str = "shared";

/// How many events one replication transaction carries.
const BATCH: u32 = 500;

/// How long connecting and each statement may take.
const TIMEOUT: Duration = Duration::from_secs(15);

/// `[audit.shared]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default, deny_unknown_fields)]
#[ts(export)]
pub struct SharedAuditConfig {
    /// `postgres://USER@HOST:PORT/DATABASE`, without the password (it is in the keychain).
    pub url: String,
    /// TLS to the server, verified against the system's roots and `ca_certificate`.
    /// Off only for a server on this machine or a trusted network.
    pub tls: bool,
    pub ca_certificate: Option<String>,
}

impl Default for SharedAuditConfig {
    fn default() -> Self {
        Self {
            url: String::new(),
            tls: true,
            ca_certificate: None,
        }
    }
}

impl SharedAuditConfig {
    pub fn validate(&self) -> Result<()> {
        let cfg: tokio_postgres::Config = self
            .url
            .parse()
            .map_err(|e| Error::config(format!("url: not a PostgreSQL URL ({e})")))?;
        if cfg.get_password().is_some() {
            return Err(Error::config(
                "url: the password does not belong in the file; it is kept in the keychain",
            ));
        }
        if cfg.get_user().is_none() || cfg.get_dbname().is_none() || cfg.get_hosts().is_empty() {
            return Err(Error::config(
                "url: needs a user, a host and a database (postgres://USER@HOST:PORT/DATABASE)",
            ));
        }
        Ok(())
    }
}

/// The schema: the table, the chain and the append-only triggers, the `vigil_operator`
/// role (INSERT and SELECT only). Applied by [`init`] as the table's owner; idempotent.
pub const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS vigil_audit (
    seq bigint PRIMARY KEY,
    machine_id text NOT NULL,
    local_id bigint NOT NULL,
    operator text NOT NULL,
    db_user text NOT NULL,
    machine text NOT NULL,
    action_id text NOT NULL,
    requested_at text NOT NULL,
    tenant text NOT NULL,
    action text NOT NULL,
    target text NOT NULL,
    target_user text,
    state text NOT NULL,
    at text NOT NULL,
    http_status integer,
    result_code text,
    message text,
    received_at text NOT NULL,
    prev_hash text NOT NULL,
    hash text NOT NULL,
    UNIQUE (machine_id, local_id)
);
CREATE OR REPLACE FUNCTION vigil_audit_field(v text) RETURNS text LANGUAGE sql IMMUTABLE AS
$$ SELECT CASE WHEN v IS NULL THEN '-;' ELSE octet_length(v)::text || ':' || v || ';' END $$;
CREATE OR REPLACE FUNCTION vigil_audit_chain() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE last_seq bigint; last_hash text;
BEGIN
    PERFORM pg_advisory_xact_lock(7346121);
    SELECT seq, hash INTO last_seq, last_hash FROM public.vigil_audit ORDER BY seq DESC LIMIT 1;
    NEW.seq := coalesce(last_seq, 0) + 1;
    NEW.prev_hash := coalesce(last_hash, repeat('0', 64));
    NEW.db_user := session_user;
    NEW.received_at := to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');
    NEW.hash := encode(sha256(convert_to(
        public.vigil_audit_field(NEW.prev_hash) || public.vigil_audit_field(NEW.seq::text) ||
        public.vigil_audit_field(NEW.machine_id) || public.vigil_audit_field(NEW.local_id::text) ||
        public.vigil_audit_field(NEW.operator) || public.vigil_audit_field(NEW.db_user) ||
        public.vigil_audit_field(NEW.machine) || public.vigil_audit_field(NEW.action_id) ||
        public.vigil_audit_field(NEW.requested_at) || public.vigil_audit_field(NEW.tenant) ||
        public.vigil_audit_field(NEW.action) || public.vigil_audit_field(NEW.target) ||
        public.vigil_audit_field(NEW.target_user) || public.vigil_audit_field(NEW.state) ||
        public.vigil_audit_field(NEW.at) || public.vigil_audit_field(NEW.http_status::text) ||
        public.vigil_audit_field(NEW.result_code) || public.vigil_audit_field(NEW.message) ||
        public.vigil_audit_field(NEW.received_at), 'UTF8')), 'hex');
    RETURN NEW;
END $$;
CREATE OR REPLACE FUNCTION vigil_audit_refuse() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'the shared audit is append-only'; END $$;
DROP TRIGGER IF EXISTS vigil_audit_chain ON vigil_audit;
CREATE TRIGGER vigil_audit_chain BEFORE INSERT ON vigil_audit
    FOR EACH ROW EXECUTE FUNCTION vigil_audit_chain();
DROP TRIGGER IF EXISTS vigil_audit_no_change ON vigil_audit;
CREATE TRIGGER vigil_audit_no_change BEFORE UPDATE OR DELETE ON vigil_audit
    FOR EACH ROW EXECUTE FUNCTION vigil_audit_refuse();
DROP TRIGGER IF EXISTS vigil_audit_no_truncate ON vigil_audit;
CREATE TRIGGER vigil_audit_no_truncate BEFORE TRUNCATE ON vigil_audit
    FOR EACH STATEMENT EXECUTE FUNCTION vigil_audit_refuse();
REVOKE ALL ON vigil_audit FROM PUBLIC;
DO $$ BEGIN CREATE ROLE vigil_operator NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
REVOKE ALL ON vigil_audit FROM vigil_operator;
GRANT SELECT, INSERT ON vigil_audit TO vigil_operator;
"#;

/// The hash the chain trigger computes for a row, recomputed here.
fn row_hash(fields: &[Option<&str>]) -> String {
    let mut canon = String::new();
    for f in fields {
        match f {
            None => canon.push_str("-;"),
            Some(v) => {
                canon.push_str(&v.len().to_string());
                canon.push(':');
                canon.push_str(v);
                canon.push(';');
            }
        }
    }
    let d = ring::digest::digest(&ring::digest::SHA256, canon.as_bytes());
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

fn pg_err(what: &str) -> impl Fn(tokio_postgres::Error) -> Error + '_ {
    move |e| {
        let detail = e
            .as_db_error()
            .map(|d| format!("{} ({})", d.message(), d.code().code()))
            .unwrap_or_else(|| e.to_string());
        let code = match e.code() {
            Some(c) if *c == tokio_postgres::error::SqlState::INVALID_PASSWORD => {
                ErrorCode::Unauthorized
            }
            Some(c) if *c == tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE => {
                ErrorCode::Forbidden
            }
            _ => ErrorCode::Unreachable,
        };
        Error::new(
            code,
            format!("shared audit: {what}: {}", crate::text::visible(&detail)),
        )
    }
}

/// A connection to the shared store (the connection task runs on the current runtime).
pub async fn connect(
    cfg: &SharedAuditConfig,
    password: Option<&SecretString>,
) -> Result<tokio_postgres::Client> {
    let mut pg: tokio_postgres::Config = cfg
        .url
        .parse()
        .map_err(|e| Error::config(format!("[audit.shared] url: {e}")))?;
    if let Some(p) = password {
        pg.password(p.expose());
    }
    pg.connect_timeout(TIMEOUT);
    pg.application_name("vigil");
    let fut = async {
        if cfg.tls {
            let tls = tokio_postgres_rustls::MakeRustlsConnect::new(tls_config(cfg)?);
            let (client, conn) = pg.connect(tls).await.map_err(pg_err("connecting"))?;
            tokio::spawn(async move {
                if let Err(e) = conn.await {
                    tracing::debug!(error = %e, "shared audit connection ended");
                }
            });
            Ok(client)
        } else {
            let (client, conn) = pg
                .connect(tokio_postgres::NoTls)
                .await
                .map_err(pg_err("connecting"))?;
            tokio::spawn(async move {
                if let Err(e) = conn.await {
                    tracing::debug!(error = %e, "shared audit connection ended");
                }
            });
            Ok(client)
        }
    };
    tokio::time::timeout(TIMEOUT, fut).await.map_err(|_| {
        Error::new(
            ErrorCode::Timeout,
            "shared audit: connecting: no answer within 15 s",
        )
    })?
}

fn tls_config(cfg: &SharedAuditConfig) -> Result<tokio_rustls::rustls::ClientConfig> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    let mut roots = tokio_rustls::rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = cfg.ca_certificate.as_deref().filter(|p| !p.is_empty()) {
        let pem = std::fs::read(path)
            .map_err(|e| Error::config(format!("[audit.shared] ca_certificate {path}: {e}")))?;
        for c in CertificateDer::pem_slice_iter(&pem) {
            let c = c.map_err(|e| Error::config(format!("[audit.shared] ca_certificate: {e}")))?;
            roots
                .add(c)
                .map_err(|e| Error::config(format!("[audit.shared] ca_certificate: {e}")))?;
        }
    }
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    Ok(
        tokio_rustls::rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::internal(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// Creates (or brings up to date) the shared table as its owner, and lets `operators`
/// (existing login roles) append to and read it.
pub async fn init(client: &tokio_postgres::Client, operators: &[String]) -> Result<()> {
    client
        .batch_execute(SCHEMA)
        .await
        .map_err(pg_err("creating the schema"))?;
    for op in operators {
        if op.is_empty()
            || !op
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(Error::invalid_input(format!(
                "operator role '{}': letters, digits, '_' and '-' only",
                crate::text::visible(op)
            )));
        }
        client
            .batch_execute(&format!("GRANT vigil_operator TO \"{op}\""))
            .await
            .map_err(pg_err("granting the operator role"))?;
    }
    Ok(())
}

/// This database's id in the shared store (made once, kept in `vigil.db`).
pub fn machine_id(audit: &AuditLog) -> Result<String> {
    if let Some(id) = audit.meta("machine_id")? {
        return Ok(id);
    }
    let bytes: [u8; 16] = rand::random();
    let id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    audit.set_meta("machine_id", &id)?;
    Ok(id)
}

const CURSOR: &str = "shared_audit_cursor";

fn cursor(audit: &AuditLog) -> Result<i64> {
    Ok(audit
        .meta(CURSOR)?
        .and_then(|c| c.parse().ok())
        .unwrap_or(0))
}

/// PostgreSQL text cannot hold NUL; a tenant's text could.
fn pg_text(s: &str) -> String {
    s.replace('\0', "\u{fffd}")
}

/// What one replication did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ReplicaStatus {
    /// Events sent in the last run.
    pub sent: u64,
    /// Events still waiting to be sent.
    pub pending: u64,
    pub last_success: Option<DateTime<Utc>>,
    /// Why the last run failed (the local audit goes on; the events wait).
    pub last_error: Option<String>,
}

/// Sends every event not yet in the shared store, in batches; returns how many went.
/// Stops at the first failure, leaving the rest for the next run.
pub async fn replicate(audit: &AuditLog, client: &mut tokio_postgres::Client) -> Result<u64> {
    let machine = crate::routing::transport::hostname();
    let local = audit.clone();
    let id = tokio::task::spawn_blocking(move || machine_id(&local))
        .await
        .map_err(|e| Error::internal(e.to_string()))??;
    let mut sent = 0u64;
    loop {
        let local = audit.clone();
        let (after, rows): (i64, Vec<EventRow>) = tokio::task::spawn_blocking(move || {
            let after = cursor(&local)?;
            Ok::<_, Error>((after, local.events_after(after, BATCH)?))
        })
        .await
        .map_err(|e| Error::internal(e.to_string()))??;
        let Some(last) = rows.last().map(|r| r.id) else {
            return Ok(sent);
        };
        let tx = client
            .transaction()
            .await
            .map_err(pg_err("starting a batch"))?;
        let stmt = tx
            .prepare(
                "INSERT INTO vigil_audit (machine_id, local_id, operator, machine, action_id, requested_at, tenant, action, target, target_user, state, at, http_status, result_code, message)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
                 ON CONFLICT (machine_id, local_id) DO NOTHING",
            )
            .await
            .map_err(pg_err("preparing the insert"))?;
        let machine = pg_text(&machine);
        for r in &rows {
            let status: Option<i32> = r.http_status.and_then(|s| i32::try_from(s).ok());
            let (actor, action_id, tenant, target) = (
                pg_text(&r.actor),
                pg_text(&r.action_id),
                pg_text(&r.tenant),
                pg_text(&r.target),
            );
            let (target_user, result_code, message) = (
                r.target_user.as_deref().map(pg_text),
                r.result_code.as_deref().map(pg_text),
                r.message.as_deref().map(pg_text),
            );
            let params: [&(dyn tokio_postgres::types::ToSql + Sync); 15] = [
                &id,
                &r.id,
                &actor,
                &machine,
                &action_id,
                &r.requested_at,
                &tenant,
                &r.action,
                &target,
                &target_user,
                &r.state,
                &r.at,
                &status,
                &result_code,
                &message,
            ];
            let fut = tx.execute(&stmt, &params);
            tokio::time::timeout(TIMEOUT, fut)
                .await
                .map_err(|_| {
                    Error::new(ErrorCode::Timeout, "shared audit: an insert took over 15 s")
                })?
                .map_err(pg_err("appending an event"))?;
        }
        tokio::time::timeout(TIMEOUT, tx.commit())
            .await
            .map_err(|_| Error::new(ErrorCode::Timeout, "shared audit: a commit took over 15 s"))?
            .map_err(pg_err("committing a batch"))?;
        // Committed: move the cursor. A crash before this line re-sends the batch, which
        // the unique (machine_id, local_id) absorbs.
        let local = audit.clone();
        tokio::task::spawn_blocking(move || local.set_meta(CURSOR, &last.to_string()))
            .await
            .map_err(|e| Error::internal(e.to_string()))??;
        sent += rows.len() as u64;
        let _ = after;
    }
}

/// How many local events wait for the shared store.
pub fn pending(audit: &AuditLog) -> Result<u64> {
    audit.events_count_after(cursor(audit)?)
}

/// Keeps the shared store up to date until cancelled: every few seconds, when events
/// wait, connect and send them. Failures are kept in `status` (and logged once per
/// cause); the local audit goes on and nothing is lost.
pub async fn run_replicator(
    audit: AuditLog,
    cfg: SharedAuditConfig,
    password: Option<SecretString>,
    status: Arc<RwLock<ReplicaStatus>>,
    every: Duration,
    cancel: tokio_util::sync::CancellationToken,
) {
    let mut client: Option<tokio_postgres::Client> = None;
    loop {
        let local = audit.clone();
        let waiting = tokio::task::spawn_blocking(move || pending(&local))
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or(0);
        if waiting > 0 {
            if client
                .as_ref()
                .is_none_or(tokio_postgres::Client::is_closed)
            {
                client = match connect(&cfg, password.as_ref()).await {
                    Ok(c) => Some(c),
                    Err(e) => {
                        set_failed(&status, waiting, &e);
                        None
                    }
                };
            }
            if let Some(c) = client.as_mut() {
                match replicate(&audit, c).await {
                    Ok(n) => {
                        if let Ok(mut s) = status.write() {
                            *s = ReplicaStatus {
                                sent: n,
                                pending: waiting.saturating_sub(n),
                                last_success: Some(Utc::now()),
                                last_error: None,
                            };
                        }
                    }
                    Err(e) => {
                        set_failed(&status, waiting, &e);
                        client = None;
                    }
                }
            }
        } else if let Ok(mut s) = status.write() {
            s.pending = 0;
        }
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(every) => {}
        }
    }
}

fn set_failed(status: &Arc<RwLock<ReplicaStatus>>, waiting: u64, e: &Error) {
    if let Ok(mut s) = status.write() {
        if s.last_error.as_deref() != Some(e.message.as_str()) {
            tracing::warn!(error = %e, pending = waiting, "shared audit not reachable; events wait in the local audit");
        }
        s.pending = waiting;
        s.last_error = Some(e.message.clone());
    }
}

/// One event of the shared audit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SharedEvent {
    pub seq: i64,
    /// `user@host` as the operator's machine says.
    pub operator: String,
    /// The database role that inserted it, as the database says.
    pub db_user: String,
    pub machine: String,
    pub action_id: String,
    pub tenant: String,
    pub action: String,
    pub target: String,
    pub target_user: Option<String>,
    pub state: String,
    pub at: String,
    pub http_status: Option<i32>,
    pub message: Option<String>,
    pub received_at: String,
}

/// The newest shared events (of one tenant, matching a search), newest first.
pub async fn list(
    client: &tokio_postgres::Client,
    tenant: Option<&str>,
    search: Option<&str>,
    limit: u32,
) -> Result<Vec<SharedEvent>> {
    let search = search.filter(|s| !s.is_empty()).map(|s| format!("%{s}%"));
    let rows = client
        .query(
            "SELECT seq, operator, db_user, machine, action_id, tenant, action, target, target_user, state, at, http_status, message, received_at
             FROM vigil_audit
             WHERE ($1::text IS NULL OR tenant = $1)
               AND ($2::text IS NULL OR target ILIKE $2 OR target_user ILIKE $2 OR operator ILIKE $2 OR message ILIKE $2)
             ORDER BY seq DESC LIMIT $3",
            &[&tenant, &search, &i64::from(limit.min(100_000))],
        )
        .await
        .map_err(pg_err("reading"))?;
    Ok(rows
        .iter()
        .map(|r| SharedEvent {
            seq: r.get(0),
            operator: r.get(1),
            db_user: r.get(2),
            machine: r.get(3),
            action_id: r.get(4),
            tenant: r.get(5),
            action: r.get(6),
            target: r.get(7),
            target_user: r.get(8),
            state: r.get(9),
            at: r.get(10),
            http_status: r.get(11),
            message: r.get(12),
            received_at: r.get(13),
        })
        .collect())
}

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Verified {
    pub rows: u64,
    /// The hash of the last row: write it down, and a later `verify` that shows it again
    /// proves nothing before it changed.
    pub head: String,
}

/// Recomputes the chain from the first row; the error names the first row that is
/// missing, changed or out of place.
pub async fn verify(client: &tokio_postgres::Client) -> Result<Verified> {
    use futures::TryStreamExt;
    let stream = client
        .query_raw(
            "SELECT seq, machine_id, local_id, operator, db_user, machine, action_id, requested_at, tenant, action, target, target_user, state, at, http_status, result_code, message, received_at, prev_hash, hash
             FROM vigil_audit ORDER BY seq",
            std::iter::empty::<i32>(),
        )
        .await
        .map_err(pg_err("reading"))?;
    futures::pin_mut!(stream);
    let mut prev = "0".repeat(64);
    let mut expected_seq = 1i64;
    let mut rows = 0u64;
    let broken = |seq: i64, what: String| {
        Error::new(
            ErrorCode::Conflict,
            format!("shared audit: the chain is broken at row {seq}: {what}"),
        )
    };
    while let Some(r) = stream.try_next().await.map_err(pg_err("reading"))? {
        let seq: i64 = r.get(0);
        if seq != expected_seq {
            return Err(broken(
                seq,
                format!("row {expected_seq} is missing (the rows before it are intact)"),
            ));
        }
        let prev_hash: String = r.get(18);
        let hash: String = r.get(19);
        if prev_hash != prev {
            return Err(broken(seq, "it does not follow the row before it".into()));
        }
        let local_id: i64 = r.get(2);
        let status: Option<i32> = r.get(14);
        let text = |i: usize| -> Option<String> { r.get(i) };
        let seq_s = seq.to_string();
        let local_s = local_id.to_string();
        let status_s = status.map(|s| s.to_string());
        let cols: Vec<Option<String>> = (1..=17)
            .map(|i| match i {
                2 | 14 => None,
                i => text(i),
            })
            .collect();
        let f = |i: usize| cols[i - 1].as_deref();
        let fields = [
            Some(prev_hash.as_str()),
            Some(seq_s.as_str()),
            f(1),
            Some(local_s.as_str()),
            f(3),
            f(4),
            f(5),
            f(6),
            f(7),
            f(8),
            f(9),
            f(10),
            f(11),
            f(12),
            f(13),
            status_s.as_deref(),
            f(15),
            f(16),
            f(17),
        ];
        if row_hash(&fields) != hash {
            return Err(broken(
                seq,
                "its content was changed after it was written".into(),
            ));
        }
        prev = hash;
        expected_seq += 1;
        rows += 1;
    }
    Ok(Verified { rows, head: prev })
}
