//! The Vigil Session API v1 over HTTP (axum), backed by a living [`Population`].

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use chrono::Utc;
use chrono_tz::Tz;
use serde::Deserialize;
use tokio_util::sync::CancellationToken;
use vigil_session_api::{
    self as api, DisableRequest, EndedCount, ErrorBody, ErrorDetail, Info, SessionPage,
    SignInRequest, UserPage, UserResult,
};

use crate::population::{DemoError, Population};

/// How the demo tenant is set up.
#[derive(Clone)]
pub struct DemoConfig {
    pub sessions: usize,
    pub seed: u64,
    /// The bearer token clients must present.
    pub token: String,
    pub timezone: Tz,
    pub name: String,
    /// How often the population moves.
    pub tick: Duration,
    /// Added to every request, to stand in for a distant or slow tenant.
    pub latency: Duration,
    /// Records every authenticated request (client address, path and query): benchmarks
    /// replay the same pages and count connections with it.
    pub request_log: Option<RequestLog>,
    /// When set, the tenant misbehaves as the switch says on the listing and the change
    /// feed (see [`crate::faults`]); `PUT /demo/v1/fault` flips it too.
    pub faults: Option<crate::faults::FaultSwitch>,
}

/// Requests a demo server answered: (client address, path and query).
pub type RequestLog = Arc<Mutex<Vec<(SocketAddr, String)>>>;

impl std::fmt::Debug for DemoConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoConfig")
            .field("sessions", &self.sessions)
            .field("seed", &self.seed)
            .field("token", &"<redacted>")
            .field("timezone", &self.timezone)
            .finish_non_exhaustive()
    }
}

impl Default for DemoConfig {
    fn default() -> Self {
        Self {
            sessions: 2_000,
            seed: 42,
            token: String::new(),
            timezone: chrono_tz::Europe::Berlin,
            name: "demo".to_owned(),
            tick: Duration::from_secs(1),
            latency: Duration::ZERO,
            request_log: None,
            faults: None,
        }
    }
}

#[derive(Clone)]
struct AppState {
    pop: Arc<Mutex<Population>>,
    token: Arc<str>,
    name: Arc<str>,
    latency: Duration,
    request_log: Option<RequestLog>,
    faults: Option<crate::faults::FaultSwitch>,
}

impl AppState {
    fn pop(&self) -> MutexGuard<'_, Population> {
        self.pop
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A running demo server.
pub struct RunningDemo {
    pub addr: SocketAddr,
    cancel: CancellationToken,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl RunningDemo {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops the server and the simulation.
    pub async fn stop(self) -> std::io::Result<()> {
        self.cancel.cancel();
        self.task.await.map_err(std::io::Error::other)?
    }

    pub fn cancel_token(&self) -> CancellationToken {
        self.cancel.clone()
    }
}

/// Binds `addr` and serves in a background task.
pub async fn start(addr: SocketAddr, config: DemoConfig) -> std::io::Result<RunningDemo> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let cancel = CancellationToken::new();
    let task = tokio::spawn(serve(listener, config, cancel.clone()));
    Ok(RunningDemo { addr, cancel, task })
}

/// Serves until `cancel` fires.
pub async fn serve(
    listener: tokio::net::TcpListener,
    config: DemoConfig,
    cancel: CancellationToken,
) -> std::io::Result<()> {
    if config.token.is_empty() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the demo token must not be empty",
        ));
    }
    let pop = Population::new(config.seed, config.sessions, config.timezone, Utc::now());
    let state = AppState {
        pop: Arc::new(Mutex::new(pop)),
        token: Arc::from(config.token.as_str()),
        name: Arc::from(config.name.as_str()),
        latency: config.latency,
        request_log: config.request_log.clone(),
        faults: config.faults.clone(),
    };
    let sim = tokio::spawn(simulate(state.clone(), config.tick, cancel.clone()));
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(cancel.clone().cancelled_owned())
        .await;
    cancel.cancel();
    let _ = sim.await;
    result
}

async fn simulate(state: AppState, tick: Duration, cancel: CancellationToken) {
    let mut interval = tokio::time::interval(tick);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    interval.tick().await;
    let mut last = std::time::Instant::now();
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            _ = interval.tick() => {}
        }
        let dt = last.elapsed().as_secs_f64();
        last = std::time::Instant::now();
        state.pop().tick(Utc::now(), dt);
    }
}

fn router(state: AppState) -> Router {
    let v1 = Router::new()
        .route("/v1/info", get(info))
        .route("/v1/users", get(list_users))
        .route("/v1/users/{id}", get(get_user))
        .route("/v1/users/{id}/sessions", delete(end_user_sessions))
        .route("/v1/users/{id}/disable", post(disable_user))
        .route("/v1/users/{id}/enable", post(enable_user))
        .route("/v1/sessions", get(list_sessions))
        .route("/v1/sessions/changes", get(changes))
        .route("/v1/sessions/{id}", get(get_session).delete(end_session))
        .route("/demo/v1/sign-ins", post(sign_in))
        .route("/demo/v1/fault", axum::routing::put(set_fault))
        .route_layer(middleware::from_fn_with_state(state.clone(), inject_faults))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_token));
    v1.fallback(|| async { error(StatusCode::NOT_FOUND, "not_found", "no such endpoint") })
        .layer(middleware::from_fn(json_errors))
        .with_state(state)
}

/// Misbehaves on the polling endpoints while a fault is switched on.
async fn inject_faults(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let fault = state
        .faults
        .as_ref()
        .and_then(|f| *f.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
    let path = req.uri().path().to_owned();
    match fault {
        Some(f) if req.method() == axum::http::Method::GET && path.starts_with("/v1/sessions") => {
            crate::faults::respond(f, &path).await
        }
        _ => next.run(req).await,
    }
}

/// A JSON request body: a JSON object of the request's shape, as the document describes
/// it. Every way a body can be wrong is `400 bad_request` (one documented answer, not
/// axum's 400/422 split); a body that is not JSON is `415`. An empty body is `None`.
/// Unknown members are ignored, so that clients newer than the server keep working.
fn json_object<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Option<T>, DemoError> {
    if body.is_empty() {
        return Ok(None);
    }
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .is_some_and(|v| v == "application/json" || v.ends_with("+json"));
    if !json {
        return Err(DemoError::UnsupportedMediaType);
    }
    let bad = DemoError::BadRequest;
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| bad(format!("the body is not JSON: {e}")))?;
    if !value.is_object() {
        return Err(bad("the body must be a JSON object".to_owned()));
    }
    serde_json::from_value(value)
        .map(Some)
        .map_err(|e| bad(format!("invalid body: {e}")))
}

fn required<T>(body: Option<T>) -> Result<T, DemoError> {
    body.ok_or_else(|| DemoError::BadRequest("a JSON body is required".to_owned()))
}

#[derive(Deserialize)]
struct FaultRequest {
    fault: Option<crate::faults::Fault>,
}

/// `PUT /demo/v1/fault {"fault": "timeout"}` (or `null` to behave again); only on a demo
/// started with faults enabled.
async fn set_fault(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let req: FaultRequest = match json_object(&headers, &body).and_then(required) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    match &state.faults {
        Some(f) => {
            *f.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = req.fault;
            StatusCode::NO_CONTENT.into_response()
        }
        None => error(
            StatusCode::NOT_FOUND,
            "not_found",
            "fault injection is off for this demo tenant",
        ),
    }
}

/// Rejections produced by the framework itself (a query or body that does not
/// deserialize, a wrong method or media type) come as text; rewrite them into the one
/// documented error shape.
async fn json_errors(req: Request, next: Next) -> Response {
    let resp = next.run(req).await;
    let status = resp.status();
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    let message = String::from_utf8_lossy(&text).trim().to_owned();
    let code = match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "invalid_body",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        _ => "error",
    };
    let message = if message.is_empty() {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        message
    };
    let mut out = error(status, code, &message);
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            out.headers_mut().insert(name.clone(), value.clone());
        }
    }
    out
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = ErrorBody {
        error: ErrorDetail {
            code: code.to_owned(),
            message: message.to_owned(),
        },
    };
    (status, Json(body)).into_response()
}

impl IntoResponse for DemoError {
    fn into_response(self) -> Response {
        match self {
            DemoError::NotFound(code) => error(StatusCode::NOT_FOUND, code, "not found"),
            DemoError::Protected => error(
                StatusCode::CONFLICT,
                "protected_account",
                "administrative and helper accounts can have their sessions ended but cannot be disabled",
            ),
            DemoError::Disabled => error(
                StatusCode::FORBIDDEN,
                "account_disabled",
                "the account is disabled",
            ),
            DemoError::WatermarkExpired => error(
                StatusCode::GONE,
                "watermark_expired",
                "the change feed no longer reaches back to this watermark; list all sessions again",
            ),
            DemoError::BadRequest(msg) => error(StatusCode::BAD_REQUEST, "bad_request", &msg),
            DemoError::UnsupportedMediaType => error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "the body must be application/json",
            ),
        }
    }
}

async fn require_token(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !state.latency.is_zero() {
        tokio::time::sleep(state.latency).await;
    }
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    match presented {
        Some(t) if constant_time_eq(t.as_bytes(), state.token.as_bytes()) => {
            if let Some(log) = &state.request_log {
                let peer = req
                    .extensions()
                    .get::<axum::extract::ConnectInfo<SocketAddr>>()
                    .map_or(SocketAddr::from(([0, 0, 0, 0], 0)), |c| c.0);
                let path = req
                    .uri()
                    .path_and_query()
                    .map_or_else(|| req.uri().path().to_owned(), ToString::to_string);
                log.lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push((peer, path));
            }
            next.run(req).await
        }
        _ => {
            let mut resp = error(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "missing or invalid bearer token",
            );
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            resp
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[derive(Deserialize)]
struct PageParams {
    limit: Option<usize>,
    cursor: Option<String>,
    username: Option<String>,
}

/// The page size asked for: 1 to `MAX_PAGE_LIMIT`, as documented; anything else is
/// refused rather than silently changed.
fn limit(l: Option<usize>) -> Result<usize, DemoError> {
    match l {
        None => Ok(api::DEFAULT_PAGE_LIMIT),
        Some(n) if (1..=api::MAX_PAGE_LIMIT).contains(&n) => Ok(n),
        Some(n) => Err(DemoError::BadRequest(format!(
            "limit {n} is outside 1 to {}",
            api::MAX_PAGE_LIMIT
        ))),
    }
}

fn parse_cursor(c: Option<&str>) -> Result<Option<u64>, DemoError> {
    c.map(|c| {
        c.parse::<u64>()
            .map_err(|_| DemoError::BadRequest(format!("invalid cursor {c:?}")))
    })
    .transpose()
}

/// `ETag` handling: 304 when the client already has this version.
fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim() == "*" || weak(t.trim()) == weak(etag))
        })
}

/// RFC 9110 weak comparison: `W/"x"` and `"x"` match.
fn weak(tag: &str) -> &str {
    tag.strip_prefix("W/").unwrap_or(tag)
}

fn with_etag(etag: &str, body: impl IntoResponse) -> Response {
    let mut resp = body.into_response();
    if let Ok(v) = HeaderValue::from_str(etag) {
        resp.headers_mut().insert(header::ETAG, v);
    }
    resp
}

async fn info(State(state): State<AppState>) -> Json<Info> {
    let tz = state.pop().timezone();
    Json(Info {
        api_version: "1".to_owned(),
        name: Some(state.name.to_string()),
        server_time: Utc::now(),
        timezone: Some(tz.name().to_owned()),
        permissions: [
            "sessions:read",
            "sessions:end",
            "users:read",
            "users:disable",
        ]
        .map(str::to_owned)
        .to_vec(),
    })
}

async fn list_users(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(p): Query<PageParams>,
) -> Result<Response, DemoError> {
    let cursor = parse_cursor(p.cursor.as_deref())?.unwrap_or(0);
    let limit = limit(p.limit)?;
    let pop = state.pop();
    // The username enters the tag as a hash: any string is a valid query value, but not
    // a valid header value.
    let etag = format!(
        "W/\"u-{}-{}-{}-{:x}\"",
        pop.users_version(),
        cursor,
        limit,
        p.username.as_deref().map_or(0, |u| {
            use std::hash::{Hash, Hasher};
            let mut h = std::hash::DefaultHasher::new();
            u.hash(&mut h);
            h.finish()
        })
    );
    if not_modified(&headers, &etag) {
        return Ok(with_etag(&etag, StatusCode::NOT_MODIFIED));
    }
    let matching = pop
        .users()
        .filter(|u| p.username.as_deref().is_none_or(|name| u.username == name));
    let start = usize::try_from(cursor).unwrap_or(usize::MAX);
    let users: Vec<_> = matching.skip(start).take(limit + 1).cloned().collect();
    let (users, next_cursor) = if users.len() > limit {
        let mut users = users;
        users.truncate(limit);
        (users, Some((start + limit).to_string()))
    } else {
        (users, None)
    };
    Ok(with_etag(&etag, Json(UserPage { users, next_cursor })))
}

async fn get_user(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, DemoError> {
    Ok(Json(state.pop().user(&id)?.clone()).into_response())
}

async fn list_sessions(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(p): Query<PageParams>,
) -> Result<Response, DemoError> {
    let cursor = parse_cursor(p.cursor.as_deref())?;
    let limit = limit(p.limit)?;
    let pop = state.pop();
    let etag = format!(
        "W/\"s-{}-{}-{}\"",
        pop.sessions_version(),
        cursor.map_or(String::new(), |c| c.to_string()),
        limit
    );
    if not_modified(&headers, &etag) {
        return Ok(with_etag(&etag, StatusCode::NOT_MODIFIED));
    }
    let (sessions, next) = pop.sessions_page(cursor, limit);
    let body = SessionPage {
        sessions,
        next_cursor: next.map(|n| n.to_string()),
        watermark: pop.watermark(),
    };
    drop(pop);
    Ok(with_etag(&etag, Json(body)))
}

#[derive(Deserialize)]
struct ChangeParams {
    since: String,
    limit: Option<usize>,
}

async fn changes(
    State(state): State<AppState>,
    Query(p): Query<ChangeParams>,
) -> Result<Response, DemoError> {
    let limit = limit(p.limit)?;
    let page = state.pop().changes(&p.since, limit)?;
    Ok(Json(page).into_response())
}

async fn get_session(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, DemoError> {
    let pop = state.pop();
    let s = pop
        .session(&id)
        .ok_or(DemoError::NotFound("unknown_session"))?;
    Ok(Json(s.clone()).into_response())
}

async fn end_session(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, DemoError> {
    state.pop().end(&id, Utc::now())?;
    Ok(StatusCode::NO_CONTENT)
}

async fn end_user_sessions(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<EndedCount>, DemoError> {
    let ended = state
        .pop()
        .end_user_sessions(&id, Utc::now(), "terminated")?;
    Ok(Json(EndedCount { ended }))
}

async fn disable_user(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, DemoError> {
    let end = json_object::<DisableRequest>(&headers, &body)?.is_some_and(|b| b.end_sessions);
    let (user, ended_sessions) = state.pop().set_disabled(&id, true, end, Utc::now())?;
    Ok(Json(UserResult {
        user,
        ended_sessions,
    })
    .into_response())
}

/// Takes no options: the body, if any, must be a JSON object, and its members are ignored.
#[derive(Deserialize)]
struct EnableRequest {}

async fn enable_user(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, DemoError> {
    json_object::<EnableRequest>(&headers, &body)?;
    let (user, _) = state.pop().set_disabled(&id, false, false, Utc::now())?;
    Ok(Json(UserResult {
        user,
        ended_sessions: 0,
    })
    .into_response())
}

async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, DemoError> {
    let req: SignInRequest = json_object(&headers, &body).and_then(required)?;
    let session = state.pop().sign_in(
        &req.username,
        req.ip.as_deref(),
        req.user_agent.as_deref(),
        req.session_type.as_deref(),
        req.login_type.as_deref(),
        Utc::now(),
    )?;
    Ok((StatusCode::CREATED, Json(session)).into_response())
}
