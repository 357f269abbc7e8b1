//! Connector for the open Vigil Session API v1 (`docs/session-api.openapi.yaml`).
//!
//! First poll: every page of users and sessions (cursor pagination), remembering the
//! change-feed watermark of the first sessions page. Later polls: the `since` change feed
//! only, so a poll of 100k sessions costs the changes, plus a conditional GET of users
//! (`If-None-Match`) that is a cheap 304 while no account changed.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use async_trait::async_trait;
use reqwest::Method;
use tokio::sync::Mutex;

use super::http::{self, Fetched, HttpClient, is_not_found};
use super::{Connector, EndOutcome, PollUpdate};
use crate::error::{Error, ErrorCode, Result};
use crate::model::{
    Capabilities, ConnectorKind, Interner, Session, TenantCheck, TenantSpec, Text, User,
};
use crate::secret::SecretString;
use vigil_session_api::{
    self as api, ApiSession, ApiUser, ChangePage, SessionPage, UserPage, UserResult,
};

/// A listing that needs more pages than this is treated as a looping server.
const MAX_PAGES: usize = 10_000;
/// Pages read ahead of decoding.
const READ_AHEAD: usize = 4;
/// A change feed that keeps saying `has_more` this often is drained on the next poll.
const MAX_CHANGE_PAGES_PER_POLL: usize = 200;

pub struct VigilConnector {
    tenant: Arc<str>,
    http: HttpClient,
    token: SecretString,
    page_limit: usize,
    state: Mutex<SyncState>,
}

/// The user directory by id (tenant-supplied keys: a seeded hasher).
type Users = HashMap<Text, User, foldhash::fast::RandomState>;

#[derive(Default)]
struct SyncState {
    watermark: Option<String>,
    users: Users,
    users_etag: Option<String>,
}

impl VigilConnector {
    pub fn new(spec: &TenantSpec, token: SecretString) -> Result<Self> {
        Ok(Self {
            tenant: Arc::from(spec.name.as_str()),
            http: HttpClient::for_spec(&spec.base_url, spec)?,
            token,
            page_limit: api::DEFAULT_PAGE_LIMIT,
            state: Mutex::new(SyncState::default()),
        })
    }

    /// Page size for listings (tests use small pages to exercise pagination).
    pub fn with_page_limit(mut self, limit: usize) -> Self {
        self.page_limit = limit.clamp(1, api::MAX_PAGE_LIMIT);
        self
    }

    /// `GET /v1/info`: identity, clock and permissions of the credential.
    pub async fn info(&self) -> Result<api::Info> {
        match self.http.get_json("v1/info", &self.token, None).await {
            Ok(Fetched::Fresh { value, .. }) => Ok(value),
            Ok(Fetched::NotModified) => Err(Error::malformed("304 without a conditional request")),
            Err(e) => Err(e),
        }
    }

    /// Every page of a cursor-paginated listing. A reader task requests the pages one
    /// after another on one connection, each as soon as the previous one's cursor is read,
    /// and hands each body to a blocking thread to decode: pages decode in parallel with
    /// each other and with the transfer. `None` for a 304 on the first page.
    async fn fetch_pages<P, T>(
        &self,
        path: &str,
        etag: Option<&str>,
        mut take_items: impl FnMut(&mut P) -> Vec<T>,
    ) -> Result<Option<(Vec<T>, Option<String>, P)>>
    where
        P: serde::de::DeserializeOwned + Send + 'static,
    {
        #[derive(serde::Deserialize)]
        struct Next {
            next_cursor: Option<String>,
        }
        let first_url = format!("{path}?limit={}", self.page_limit);
        let (first, first_etag) = match self.http.get_bytes(&first_url, &self.token, etag).await? {
            Fetched::NotModified => return Ok(None),
            Fetched::Fresh { value, etag } => (value, etag),
        };
        let (tx, mut rx) = tokio::sync::mpsc::channel(READ_AHEAD);
        let (http, token, limit, path_owned) = (
            self.http.clone(),
            self.token.clone(),
            self.page_limit,
            path.to_owned(),
        );
        let budget = super::budget::current();
        let reader = tokio_util::task::AbortOnDropHandle::new(tokio::spawn(super::budget::within(
            budget,
            async move {
                let path = path_owned;
                let mut body = first;
                let mut seen_cursors = HashSet::new();
                for page in 1.. {
                    let next = http::decode_slice::<Next>(&body)?.next_cursor;
                    let decode =
                        tokio::task::spawn_blocking(move || http::decode_slice::<P>(&body));
                    if tx.send(decode).await.is_err() {
                        return Ok(()); // the listing was given up
                    }
                    let Some(c) = next else { return Ok(()) };
                    if !seen_cursors.insert(c.clone()) {
                        return Err(Error::malformed(format!(
                            "{path}: pagination loops (cursor repeated)"
                        )));
                    }
                    if page >= MAX_PAGES {
                        return Err(Error::malformed(format!(
                            "{path}: more than {MAX_PAGES} pages"
                        )));
                    }
                    let url = format!("{path}?limit={limit}&cursor={}", encode(&c));
                    body = match http.get_bytes(&url, &token, None).await? {
                        Fetched::Fresh { value, .. } => value,
                        Fetched::NotModified => {
                            return Err(Error::malformed("304 without a conditional request"));
                        }
                    };
                }
                Ok(())
            },
        )));
        let mut head: Option<P> = None;
        let mut items = Vec::new();
        while let Some(decode) = rx.recv().await {
            let mut page: P = decode
                .await
                .map_err(|e| Error::internal(format!("decoding a page failed: {e}")))??;
            let taken = take_items(&mut page);
            super::budget::charge_items(taken.len())?;
            items.extend(taken);
            // The first page's own fields (its watermark) without its items.
            head.get_or_insert(page);
        }
        reader
            .await
            .map_err(|e| Error::internal(format!("page requests failed: {e}")))??;
        let head = head.ok_or_else(|| Error::internal("a listing without a first page"))?;
        Ok(Some((items, first_etag, head)))
    }

    /// Refreshes the user directory if it changed. Returns the users that changed, when
    /// `report` (a full listing annotates every session anyway and needs no list).
    async fn refresh_users(
        &self,
        state: &mut SyncState,
        force: bool,
        report: bool,
    ) -> Result<Vec<User>> {
        let etag = if force {
            None
        } else {
            state.users_etag.clone()
        };
        let mut interner = Interner::default();
        let fetched = self
            .fetch_pages::<UserPage, User>("v1/users", etag.as_deref(), |p| {
                std::mem::take(&mut p.users)
                    .into_iter()
                    .map(|u| user_of(u, &mut interner))
                    .collect()
            })
            .await
            .map_err(|e| e.context("listing users"))?;
        let Some((users, etag, _)) = fetched else {
            return Ok(Vec::new());
        };
        let mut changed = Vec::new();
        let mut fresh = Users::with_capacity_and_hasher(users.len(), Default::default());
        for user in users {
            if report && state.users.get(&user.id) != Some(&user) {
                changed.push(user.clone());
            }
            fresh.insert(user.id.clone(), user);
        }
        state.users = fresh;
        state.users_etag = etag;
        Ok(changed)
    }

    async fn full_listing(&self, state: &mut SyncState) -> Result<PollUpdate> {
        // The directory and the sessions at once: two connections, decoded side by side.
        // Each page becomes sessions as it arrives, its repeated texts shared, so the
        // wire's own strings never pile up for the whole listing.
        let mut interner = Interner::default();
        let (users, fetched) = tokio::join!(
            self.refresh_users(state, true, false),
            self.fetch_pages::<SessionPage, Session>("v1/sessions", None, |p| {
                std::mem::take(&mut p.sessions)
                    .into_iter()
                    .map(|s| self.session_of(s, &mut interner))
                    .collect()
            })
        );
        drop(interner);
        users?;
        let fetched = fetched.map_err(|e| e.context("listing sessions"))?;
        let Some((mut sessions, _, head)) = fetched else {
            return Err(Error::malformed("304 without a conditional request"));
        };
        // Keyset pagination cannot repeat a session; a broken server might, and the store
        // keeps the last copy.
        let mut unknown_users = false;
        for s in &mut sessions {
            unknown_users |= !annotate(s, &state.users);
        }
        if unknown_users {
            // A user signed up while we paged; fetch the directory again and re-annotate.
            self.refresh_users(state, true, false).await?;
            for s in &mut sessions {
                annotate(s, &state.users);
            }
        }
        state.watermark = Some(head.watermark);
        Ok(PollUpdate::Full(sessions))
    }

    async fn changes(&self, state: &mut SyncState, since: String) -> Result<PollUpdate> {
        let users = self.refresh_users(state, false, true).await?;
        let mut upserted: HashMap<String, ApiSession> = HashMap::new();
        let mut ended: HashSet<String> = HashSet::new();
        let mut watermark = since;
        for _ in 0..MAX_CHANGE_PAGES_PER_POLL {
            let path = format!(
                "v1/sessions/changes?since={}&limit={}",
                encode(&watermark),
                self.page_limit
            );
            let page: ChangePage = match self.http.get_json(&path, &self.token, None).await {
                Ok(Fetched::Fresh { value, .. }) => value,
                Ok(Fetched::NotModified) => {
                    return Err(Error::malformed("304 without a conditional request"));
                }
                Err(e) if e.http_status == Some(410) => {
                    // The server no longer has our position: start over with a full listing.
                    tracing::info!(tenant = %self.tenant, "change feed position expired; full resync");
                    return self.full_listing(state).await;
                }
                Err(e) => return Err(e.context("reading the change feed")),
            };
            super::budget::charge_items(page.upserted.len().saturating_add(page.ended.len()))?;
            for s in page.upserted {
                ended.remove(&s.id);
                upserted.insert(s.id.clone(), s);
            }
            for e in page.ended {
                upserted.remove(&e.id);
                ended.insert(e.id);
            }
            let advanced = page.watermark != watermark;
            watermark = page.watermark;
            if !page.has_more || !advanced {
                break;
            }
        }
        if upserted
            .values()
            .any(|s| !state.users.contains_key(&*s.user_id))
        {
            let more = self.refresh_users(state, true, true).await?;
            return self.finish_delta(state, watermark, upserted, ended, merge_users(users, more));
        }
        self.finish_delta(state, watermark, upserted, ended, users)
    }

    fn finish_delta(
        &self,
        state: &mut SyncState,
        watermark: String,
        upserted: HashMap<String, ApiSession>,
        ended: HashSet<String>,
        users: Vec<User>,
    ) -> Result<PollUpdate> {
        let mut interner = Interner::default();
        let upserted = upserted
            .into_values()
            .map(|s| {
                let mut session = self.session_of(s, &mut interner);
                annotate(&mut session, &state.users);
                session
            })
            .collect();
        state.watermark = Some(watermark);
        Ok(PollUpdate::Delta {
            upserted,
            ended: ended.into_iter().collect(),
            users,
        })
    }

    /// The session as the wire has it, its repeated texts shared through `interner`;
    /// the user's details come from the directory (`annotate`).
    fn session_of(&self, s: ApiSession, interner: &mut Interner) -> Session {
        Session {
            tenant: Arc::clone(&self.tenant),
            id: s.id.into(),
            user_id: interner.text(&s.user_id),
            username: interner.text(&s.username),
            email: None,
            display_name: None,
            first_name: None,
            last_name: None,
            department: None,
            organisation: None,
            superuser: false,
            protected: false,
            disabled: false,
            current: s.current,
            ip: s.ip,
            user_agent: interner.owned(s.user_agent),
            location: None,
            session_type: interner.owned(s.session_type),
            login_type: interner.owned(s.login_type),
            server_name: interner.owned(s.server_name),
            created_at: s.created_at,
            last_activity_at: s.last_activity_at,
            expires_at: s.expires_at,
            idle_timeout_seconds: s.idle_timeout_seconds,
        }
    }

    async fn user_action(
        &self,
        user_id: &str,
        verb: &str,
        body: serde_json::Value,
    ) -> Result<User> {
        let path = format!("v1/users/{}/{verb}", encode(user_id));
        let res: UserResult = self
            .http
            .call_json(Method::POST, &path, &self.token, Some(&body))
            .await?;
        // The directory cache is left alone: the next poll sees the change and carries it
        // to the store, which re-annotates the user's sessions.
        Ok(user_from_api(res.user))
    }
}

/// The session annotated with its user; false when the directory does not know them.
fn annotate(session: &mut Session, users: &Users) -> bool {
    match users.get(&*session.user_id) {
        Some(u) => {
            session.annotate(u);
            true
        }
        None => false,
    }
}

fn merge_users(mut a: Vec<User>, b: Vec<User>) -> Vec<User> {
    let seen: HashSet<Text> = a.iter().map(|u| u.id.clone()).collect();
    a.extend(b.into_iter().filter(|u| !seen.contains(&u.id)));
    a
}

fn user_from_api(u: ApiUser) -> User {
    user_of(u, &mut Interner::default())
}

/// The user as the wire has them; names, departments and organisations, which many users
/// share, through `interner`.
fn user_of(u: ApiUser, interner: &mut Interner) -> User {
    User {
        id: u.id.into(),
        username: u.username.into(),
        email: u.email.map(Into::into),
        display_name: u.display_name.map(Into::into),
        first_name: interner.owned(u.first_name),
        last_name: interner.owned(u.last_name),
        department: interner.owned(u.department),
        organisation: interner.owned(u.organisation),
        superuser: u.superuser,
        protected: u.protected,
        disabled: u.disabled,
    }
}

/// Percent-encodes a path segment or query value.
fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[async_trait]
impl Connector for VigilConnector {
    fn tenant(&self) -> &Arc<str> {
        &self.tenant
    }

    fn kind(&self) -> ConnectorKind {
        ConnectorKind::Vigil
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            list_sessions: true,
            end_session: true,
            end_user_sessions: true,
            disable_user: true,
            enable_user: true,
            superuser_detection: true,
            change_feed: true,
            sign_in_log: false,
            revoke_grants: false,
            require_password_change: false,
        }
    }

    async fn poll(&self) -> Result<PollUpdate> {
        let mut state = self.state.lock().await;
        match state.watermark.clone() {
            Some(w) => self.changes(&mut state, w).await,
            None => self.full_listing(&mut state).await,
        }
    }

    async fn reset(&self) {
        let mut state = self.state.lock().await;
        state.watermark = None;
        state.users_etag = None;
    }

    async fn end_session(&self, session_id: &str) -> Result<EndOutcome> {
        let path = format!("v1/sessions/{}", encode(session_id));
        match self
            .http
            .call(Method::DELETE, &path, &self.token, None)
            .await
        {
            Ok(_) => Ok(EndOutcome::Ended),
            Err(e) if is_not_found(&e) => Ok(EndOutcome::AlreadyGone),
            Err(e) => Err(e),
        }
    }

    async fn end_user_sessions(&self, user_id: &str) -> Result<u64> {
        let path = format!("v1/users/{}/sessions", encode(user_id));
        let res: api::EndedCount = self
            .http
            .call_json(Method::DELETE, &path, &self.token, None)
            .await?;
        Ok(res.ended)
    }

    async fn set_disabled(&self, user_id: &str, disabled: bool) -> Result<User> {
        match disabled {
            true => self.disable_user(user_id, false).await,
            false => {
                self.user_action(user_id, "enable", serde_json::json!({}))
                    .await
            }
        }
    }

    /// One request: the API disables and ends the sessions together.
    async fn disable_user(&self, user_id: &str, end_sessions: bool) -> Result<User> {
        self.user_action(
            user_id,
            "disable",
            serde_json::json!({ "end_sessions": end_sessions }),
        )
        .await
    }

    async fn check(&self) -> TenantCheck {
        let sent = chrono::Utc::now();
        let started = std::time::Instant::now();
        let result = self.info().await;
        let latency = started.elapsed();
        let latency_ms = Some(u64::try_from(latency.as_millis()).unwrap_or(u64::MAX));
        match result {
            Ok(info) => {
                // Compare with the local time halfway through the round trip.
                let midpoint = sent + chrono::Duration::from_std(latency / 2).unwrap_or_default();
                TenantCheck {
                    reachable: true,
                    authenticated: true,
                    latency_ms,
                    clock_offset_ms: Some((info.server_time - midpoint).num_milliseconds()),
                    server_time: Some(info.server_time),
                    timezone: info.timezone,
                    permissions: info.permissions,
                    capabilities: Some(self.capabilities()),
                    error: None,
                }
            }
            Err(e) => TenantCheck {
                // An HTTP answer, even a refusal, means the tenant is reachable.
                reachable: e.http_status.is_some(),
                authenticated: false,
                latency_ms: e.http_status.map(|_| latency_ms).unwrap_or_default(),
                error: Some(e.payload()),
                ..TenantCheck::default()
            },
        }
    }

    async fn find_user(&self, username: &str) -> Result<Option<User>> {
        let path = format!("v1/users?username={}", encode(username));
        match self
            .http
            .get_json::<UserPage>(&path, &self.token, None)
            .await?
        {
            Fetched::Fresh { value, .. } => Ok(value
                .users
                .into_iter()
                .find(|u| u.username == username)
                .map(user_from_api)),
            Fetched::NotModified => Err(Error::new(
                ErrorCode::MalformedResponse,
                "304 without a conditional request",
            )),
        }
    }
}

/// What the tenant form and `vigil tenant add --help` say of this kind.
pub(super) fn info() -> super::KindInfo {
    super::KindInfo {
        kind: crate::model::ConnectorKind::Vigil,
        label: "Vigil Session API".into(),
        description: "In-house systems that implement the open Vigil Session API (docs/session-api.openapi.yaml), \
                      and the demo tenant (`vigil demo serve`)."
            .into(),
        url_hint: "https://sessions.example.com".into(),
        secret_label: "API token".into(),
        options: Vec::new(),
        logout_effect: "ends every session of the user".into(),
        revoke_effect: "".into(),
        password_effect: "".into(),
    }
}

pub(super) fn build(
    spec: &crate::model::TenantSpec,
    secret: crate::secret::SecretString,
) -> crate::error::Result<std::sync::Arc<dyn super::Connector>> {
    Ok(std::sync::Arc::new(VigilConnector::new(spec, secret)?))
}
