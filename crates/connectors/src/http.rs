//! The HTTP layer every connector uses: one pooled client per tenant, bounded bodies,
//! conditional requests, and error mapping that names the cause.

use std::time::Duration;

use reqwest::header::{ETAG, HeaderMap, HeaderValue, IF_NONE_MATCH, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;

use crate::error::{Error, ErrorCode, Result};
use crate::secret::SecretString;
use vigil_session_api::ErrorBody;

/// Largest response body accepted; a tenant sending more is broken or hostile.
pub const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;
/// Largest error body read (to find the server's error code).
const MAX_ERROR_BODY_BYTES: usize = 64 * 1024;

/// A decoded response, or "not modified" for a conditional request.
#[derive(Debug)]
pub enum Fetched<T> {
    Fresh { value: T, etag: Option<String> },
    NotModified,
}

/// A tenant's HTTP client. Credentials are attached per request and never leave the
/// tenant's origin: redirects are not followed at all, so a redirect cannot carry the
/// bearer token to another host.
#[derive(Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    base: url::Url,
}

impl HttpClient {
    pub fn new(base: &url::Url, timeout: Duration) -> Result<Self> {
        Self::with_ca(base, timeout, None)
    }

    /// A client for a tenant's spec: its timeout and any CA certificates of its own.
    pub fn for_spec(base: &url::Url, spec: &crate::model::TenantSpec) -> Result<Self> {
        Self::with_ca(base, spec.request_timeout, spec.ca_pem.as_deref())
    }

    /// A client that also trusts the CA certificates in `ca_pem` (besides the system's
    /// and Mozilla's roots).
    pub fn with_ca(base: &url::Url, timeout: Duration, ca_pem: Option<&[u8]>) -> Result<Self> {
        let mut builder = reqwest::Client::builder();
        if let Some(pem) = ca_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| Error::config(format!("CA certificates: {e}")))?;
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        } else {
            builder = builder.use_preconfigured_tls(shared_tls()?);
        }
        let client = builder
            .user_agent(concat!("Vigil/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10).min(timeout))
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(Duration::from_secs(90))
            .pool_max_idle_per_host(8)
            .build()
            .map_err(|e| Error::internal(format!("cannot build HTTP client: {e}")))?;
        // Join relative paths onto the base as a directory.
        let mut base = base.clone();
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        Ok(Self { client, base })
    }

    pub fn base(&self) -> &url::Url {
        &self.base
    }

    /// Resolves a path relative to the tenant base URL (`v1/sessions`).
    pub fn url(&self, path: &str) -> Result<url::Url> {
        // A `.` or `..` segment (an id taken from a tenant or typed by a user) would make
        // the join address the parent resource instead of the target.
        let route = path.split(['?', '#']).next().unwrap_or_default();
        if route.split('/').any(super::guard::is_dot_segment) {
            return Err(Error::invalid_input(format!(
                "request path {:?} has a `.` or `..` segment; refused",
                crate::text::visible(route)
            )));
        }
        self.base
            .join(path.trim_start_matches('/'))
            .map_err(|e| Error::internal(format!("bad request path {path:?}: {e}")))
    }

    /// Sends a request with a bearer token and returns the raw response if it is 2xx/304.
    pub async fn send(
        &self,
        method: Method,
        url: url::Url,
        token: &SecretString,
        etag: Option<&str>,
        body: Option<&serde_json::Value>,
    ) -> Result<reqwest::Response> {
        let auth = authorization("Bearer", token)?;
        self.send_with(method, url, &auth, etag, body).await
    }

    /// Sends a request with a ready `Authorization` header value (any scheme: `Bearer`,
    /// `SSWS` …) and returns the raw response if it is 2xx/304.
    pub async fn send_with(
        &self,
        method: Method,
        url: url::Url,
        auth: &HeaderValue,
        etag: Option<&str>,
        body: Option<&serde_json::Value>,
    ) -> Result<reqwest::Response> {
        let mut headers = HeaderMap::new();
        headers.insert(reqwest::header::AUTHORIZATION, auth.clone());
        if let Some(tag) = etag.and_then(|t| HeaderValue::from_str(t).ok()) {
            headers.insert(IF_NONE_MATCH, tag);
        }
        let mut req = self.client.request(method, url).headers(headers);
        if let Some(body) = body {
            req = req.json(body);
        }
        let resp = req.send().await?;
        let status = resp.status();
        if status.is_success() || status == StatusCode::NOT_MODIFIED {
            return Ok(resp);
        }
        Err(error_from_response(resp).await)
    }

    /// GET + decode JSON, honouring `If-None-Match`.
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        token: &SecretString,
        etag: Option<&str>,
    ) -> Result<Fetched<T>> {
        let url = self.url(path)?;
        let resp = self.send(Method::GET, url, token, etag, None).await?;
        if resp.status() == StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified);
        }
        let etag = resp
            .headers()
            .get(ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let value = decode_json(resp).await?;
        Ok(Fetched::Fresh { value, etag })
    }

    /// GET, honouring `If-None-Match`, returning the body undecoded (bounded), so that a
    /// caller can start the next request before it decodes this one.
    pub async fn get_bytes(
        &self,
        path: &str,
        token: &SecretString,
        etag: Option<&str>,
    ) -> Result<Fetched<Vec<u8>>> {
        let url = self.url(path)?;
        let resp = self.send(Method::GET, url, token, etag, None).await?;
        if resp.status() == StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified);
        }
        let etag = resp
            .headers()
            .get(ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let value = read_capped(resp, MAX_BODY_BYTES).await?;
        Ok(Fetched::Fresh { value, etag })
    }

    /// A request whose JSON answer is decoded (or ignored when `T = ()`-like callers skip it).
    pub async fn call_json<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        token: &SecretString,
        body: Option<&serde_json::Value>,
    ) -> Result<T> {
        let url = self.url(path)?;
        let resp = self.send(method, url, token, None, body).await?;
        decode_json(resp).await
    }

    /// GET + decode JSON, also returning the response headers (Link, Date …).
    pub async fn get_json_headers<T: DeserializeOwned>(
        &self,
        url: url::Url,
        token: &SecretString,
    ) -> Result<(T, HeaderMap)> {
        let resp = self.send(Method::GET, url, token, None, None).await?;
        let headers = resp.headers().clone();
        Ok((decode_json(resp).await?, headers))
    }

    /// POST an `application/x-www-form-urlencoded` body without credentials in headers
    /// (OAuth token endpoints), decoding the JSON answer.
    pub async fn post_form<T: DeserializeOwned>(
        &self,
        url: url::Url,
        form: &[(&str, &str)],
    ) -> Result<T> {
        let resp = self.client.post(url).form(form).send().await?;
        if !resp.status().is_success() {
            return Err(error_from_response(resp).await);
        }
        decode_json(resp).await
    }

    /// GET + decode JSON without credentials: a tenant's public metadata (Okta's
    /// well-known organization document), which needs none and so is sent none.
    pub async fn get_json_public<T: DeserializeOwned>(&self, url: url::Url) -> Result<T> {
        let resp = self.client.get(url).send().await?;
        if !resp.status().is_success() {
            return Err(error_from_response(resp).await);
        }
        decode_json(resp).await
    }

    /// POST a form to an OAuth token endpoint and return the status and body whatever the
    /// status, so the caller can say which part of the credential was rejected.
    pub async fn post_form_raw(
        &self,
        url: url::Url,
        form: &[(&str, &str)],
    ) -> Result<(StatusCode, HeaderMap, Vec<u8>)> {
        let resp = self.client.post(url).form(form).send().await?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let cap = if status.is_success() {
            MAX_ERROR_BODY_BYTES * 4
        } else {
            MAX_ERROR_BODY_BYTES
        };
        Ok((status, headers, read_capped(resp, cap).await?))
    }

    /// A request whose answer body does not matter (beyond its status).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: &SecretString,
        body: Option<&serde_json::Value>,
    ) -> Result<StatusCode> {
        let url = self.url(path)?;
        let resp = self.send(method, url, token, None, body).await?;
        let status = resp.status();
        // Drain a little so the connection can be reused; ignore what it says.
        let _ = read_capped(resp, MAX_ERROR_BODY_BYTES).await;
        Ok(status)
    }
}

/// Reads a body up to `cap` bytes; more is an error, not a truncation.
pub async fn read_capped(mut resp: reqwest::Response, cap: usize) -> Result<Vec<u8>> {
    if let Some(len) = resp.content_length()
        && len > cap as u64
    {
        return Err(Error::malformed(format!(
            "response too large ({len} bytes; limit {cap})"
        )));
    }
    // Reserve at most a megabyte up front: a declared length is the tenant's word.
    let mut buf = Vec::with_capacity(
        resp.content_length()
            .unwrap_or(0)
            .min(cap as u64)
            .min(1024 * 1024) as usize,
    );
    while let Some(chunk) = resp.chunk().await? {
        if buf.len().saturating_add(chunk.len()) > cap {
            return Err(Error::malformed(format!(
                "response too large (over {cap} bytes)"
            )));
        }
        // Every byte a poll reads counts against the tenant's per-poll limit.
        super::budget::charge_bytes(chunk.len())?;
        buf.extend_from_slice(&chunk);
    }
    Ok(buf)
}

async fn decode_json<T: DeserializeOwned>(resp: reqwest::Response) -> Result<T> {
    let bytes = read_capped(resp, MAX_BODY_BYTES).await?;
    decode_slice(&bytes)
}

/// Decodes a JSON body, naming where and how it is malformed (never echoing it).
pub fn decode_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| {
        Error::malformed(format!(
            "invalid JSON at line {} column {}: {}",
            e.line(),
            e.column(),
            classify(&e)
        ))
    })
}

fn classify(e: &serde_json::Error) -> &'static str {
    use serde_json::error::Category;
    match e.classify() {
        Category::Io => "read error",
        Category::Syntax => "syntax error",
        Category::Data => "unexpected shape",
        Category::Eof => "truncated body",
    }
}

/// An `Authorization` header value, marked sensitive so it is never logged.
pub fn authorization(scheme: &str, token: &SecretString) -> Result<HeaderValue> {
    let mut auth = HeaderValue::from_str(&format!("{scheme} {}", token.expose()))
        .map_err(|_| Error::config("the secret contains characters not allowed in a header"))?;
    auth.set_sensitive(true);
    Ok(auth)
}

/// Maps a non-2xx response to an error, reading at most a small part of its body.
pub async fn error_from_response(resp: reqwest::Response) -> Error {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = read_capped(resp, MAX_ERROR_BODY_BYTES)
        .await
        .unwrap_or_default();
    error_from_parts(status, &headers, &body)
}

/// Maps an HTTP error status, its headers and body to an error: the server's error code,
/// and for throttling the delay the tenant asked for (`Retry-After`, or the reset time of
/// Okta's `X-Rate-Limit-*` and Auth0's `X-RateLimit-*` headers). Salesforce answers a
/// spent API allowance with 403 `REQUEST_LIMIT_EXCEEDED`: that is throttling too.
pub fn error_from_parts(status: u16, headers: &HeaderMap, body: &[u8]) -> Error {
    let code = server_code(body);
    let mut retry_after = retry_after_secs(headers);
    if status == 429 && retry_after.is_none() {
        retry_after = rate_limit_reset_secs(headers);
    }
    let mut e = Error::from_status(status, code.as_deref(), retry_after);
    if code.as_deref() == Some("REQUEST_LIMIT_EXCEEDED") {
        e.code = ErrorCode::RateLimited;
        e.message = format!(
            "rate limited: the org's API request allowance is spent ({})",
            e.message
        );
    }
    e
}

/// The TLS settings of every tenant without CA certificates of its own: the system's
/// roots and Mozilla's, read once per process. Building them per client read and parsed
/// the system's certificate store each time: seconds for a thousand tenants.
fn shared_tls() -> Result<tokio_rustls::rustls::ClientConfig> {
    use tokio_rustls::rustls;
    static TLS: std::sync::OnceLock<std::result::Result<rustls::ClientConfig, String>> =
        std::sync::OnceLock::new();
    TLS.get_or_init(|| {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        // Unreadable or unparsable system certificates are skipped; Mozilla's remain.
        let native = rustls_native_certs::load_native_certs();
        roots.add_parsable_certificates(native.certs);
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let mut tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
        tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(tls)
    })
    .clone()
    .map_err(|e| Error::internal(format!("TLS settings: {e}")))
}

/// The longest wait a tenant may ask for (`Retry-After`, a rate-limit reset): an hour.
/// A larger number is honoured as an hour, never trusted as it is.
pub const MAX_RETRY_AFTER_SECS: u64 = 3_600;

/// `Retry-After` as seconds, in either of its forms (delta seconds or an HTTP date),
/// at most [`MAX_RETRY_AFTER_SECS`].
pub fn retry_after_secs(headers: &HeaderMap) -> Option<u64> {
    let raw = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = raw.parse::<u64>() {
        return Some(secs.min(MAX_RETRY_AFTER_SECS));
    }
    if raw.bytes().all(|b| b.is_ascii_digit()) && !raw.is_empty() {
        // Too many digits for a u64: a very long wait, capped like any other.
        return Some(MAX_RETRY_AFTER_SECS);
    }
    // An HTTP date in any of the three forms HTTP accepts (IMF-fixdate, RFC 850, asctime).
    let at = httpdate::parse_http_date(raw).ok()?;
    let secs = at
        .duration_since(std::time::SystemTime::now())
        .map_or(0, |wait| wait.as_secs());
    Some(secs.clamp(1, MAX_RETRY_AFTER_SECS))
}

/// The moment `wait` from now, or (for a wait no clock can hold) a day from now. A
/// tenant's numbers (token lifetimes, delays) never overflow an `Instant`.
pub fn instant_after(wait: Duration) -> std::time::Instant {
    let now = std::time::Instant::now();
    now.checked_add(wait.min(Duration::from_secs(86_400)))
        .unwrap_or(now)
}

/// Seconds until the reset time (epoch seconds) of Okta's `X-Rate-Limit-Reset` or Auth0's
/// `X-RateLimit-Reset`, at least one.
pub fn rate_limit_reset_secs(headers: &HeaderMap) -> Option<u64> {
    let reset = ["x-rate-limit-reset", "x-ratelimit-reset"]
        .iter()
        .find_map(|h| headers.get(*h)?.to_str().ok()?.trim().parse::<i64>().ok())?;
    let secs = reset.saturating_sub(chrono::Utc::now().timestamp());
    Some(
        u64::try_from(secs)
            .unwrap_or(0)
            .clamp(1, MAX_RETRY_AFTER_SECS),
    )
}

/// Requests left in the current window, from Okta's `X-Rate-Limit-Remaining` or Auth0's
/// `X-RateLimit-Remaining`.
pub fn rate_limit_remaining(headers: &HeaderMap) -> Option<u64> {
    ["x-rate-limit-remaining", "x-ratelimit-remaining"]
        .iter()
        .find_map(|h| headers.get(*h)?.to_str().ok()?.trim().parse::<u64>().ok())
}

/// The error code a server put in its error body, in the shapes the systems Vigil talks
/// to use: Vigil `{"error":{"code"}}`, Matrix `{"errcode"}`, Better Auth `{"code"}`,
/// OAuth `{"error":"…"}`, Ory `{"error":{"status"}}`, Okta and Auth0 `{"errorCode"}`,
/// Salesforce `[{"errorCode"}]`, Mattermost `{"id":"….app_error"}`, Zitadel
/// `{"details":[{"id"}]}`.
pub fn server_code(body: &[u8]) -> Option<String> {
    if let Ok(b) = serde_json::from_slice::<ErrorBody>(body) {
        return Some(b.error.code);
    }
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let text = |v: &serde_json::Value| v.as_str().map(str::to_owned);
    text(&v["errcode"])
        .or_else(|| text(&v["code"]))
        .or_else(|| text(&v["errorCode"]))
        .or_else(|| text(&v[0]["errorCode"]))
        .or_else(|| text(&v["error"]))
        .or_else(|| text(&v["error"]["status"]).map(|s| s.replace(' ', "_")))
        .or_else(|| text(&v["id"]).filter(|id| id.contains(".app_error")))
        .or_else(|| text(&v["details"][0]["id"]))
}

/// The server's clock from a `Date` header (second precision).
pub fn server_date(headers: &HeaderMap) -> Option<chrono::DateTime<chrono::Utc>> {
    let raw = headers.get(reqwest::header::DATE)?.to_str().ok()?;
    chrono::DateTime::parse_from_rfc2822(raw)
        .ok()
        .map(|d| d.with_timezone(&chrono::Utc))
}

/// Server clock minus local clock, from a `Date` header, taking the request's `sent` time
/// plus half its round trip as the local moment the server answered.
pub fn clock_offset_ms(
    headers: &HeaderMap,
    sent: chrono::DateTime<chrono::Utc>,
    round_trip: Duration,
) -> Option<i64> {
    let half = chrono::Duration::from_std(round_trip / 2).unwrap_or_default();
    server_date(headers).map(|d| (d - (sent + half)).num_milliseconds())
}

/// A check the tenant answered with the credential accepted: latency and clock offset
/// from the answer's `Date` header.
pub fn check_accepted(
    headers: &HeaderMap,
    sent: chrono::DateTime<chrono::Utc>,
    latency: Duration,
    permissions: Vec<String>,
    capabilities: crate::model::Capabilities,
) -> crate::model::TenantCheck {
    crate::model::TenantCheck {
        reachable: true,
        authenticated: true,
        latency_ms: millis(latency),
        clock_offset_ms: clock_offset_ms(headers, sent, latency),
        server_time: server_date(headers),
        timezone: None,
        permissions,
        capabilities: Some(capabilities),
        error: None,
    }
}

/// Milliseconds as reported in checks.
pub fn millis(d: Duration) -> Option<u64> {
    Some(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The `rel="next"` target of the `Link` headers: in one header or in several (Okta sends
/// `rel="self"` and `rel="next"` as separate headers, `self` first).
pub fn link_next(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(reqwest::header::LINK)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(link_next_in)
}

/// The `rel="next"` target in one `Link` header (RFC 8288): links separated by commas,
/// each `<target>` then `;`-separated parameters; `rel` is case-insensitive, quoted or
/// not, and may hold several space-separated relations. Written here rather than taken
/// from `parse_link_header` 0.4, which splits the header on every comma and so cuts a
/// target or a quoted parameter that contains one (a cursor, a filter); the scanner below
/// keeps `<…>` and `"…"` whole.
fn link_next_in(raw: &str) -> Option<String> {
    let mut rest = raw;
    loop {
        rest = rest.trim_start_matches(|c: char| c == ',' || c.is_whitespace());
        let after_open = rest.strip_prefix('<')?;
        let close = after_open.find('>')?;
        let target = &after_open[..close];
        rest = &after_open[close + 1..];
        let mut is_next = false;
        // Parameters up to the comma that ends this link (outside quotes).
        loop {
            rest = rest.trim_start();
            let Some(after_semi) = rest.strip_prefix(';') else {
                break;
            };
            let after_semi = after_semi.trim_start();
            let name_end = after_semi.find(['=', ';', ',']).unwrap_or(after_semi.len());
            let name = after_semi[..name_end].trim();
            rest = &after_semi[name_end..];
            let mut value = "";
            if let Some(after_eq) = rest.strip_prefix('=') {
                let after_eq = after_eq.trim_start();
                if let Some(quoted) = after_eq.strip_prefix('"') {
                    let end = quoted.find('"').unwrap_or(quoted.len());
                    value = &quoted[..end];
                    rest = quoted.get(end + 1..).unwrap_or("");
                } else {
                    let end = after_eq.find([';', ',']).unwrap_or(after_eq.len());
                    value = after_eq[..end].trim();
                    rest = &after_eq[end..];
                }
            }
            if name.eq_ignore_ascii_case("rel")
                && value
                    .split_ascii_whitespace()
                    .any(|r| r.eq_ignore_ascii_case("next"))
            {
                is_next = true;
            }
        }
        if is_next {
            return Some(target.trim().to_owned());
        }
        // Skip anything unexpected up to the next link.
        let next = rest.find(',')?;
        rest = &rest[next..];
    }
}

/// Runs `f` over `items` with at most `limit` in flight, keeping the order.
pub async fn bounded<I, T, F, Fut>(items: I, limit: usize, f: F) -> Vec<T>
where
    I: IntoIterator,
    F: FnMut(I::Item) -> Fut,
    Fut: std::future::Future<Output = T>,
{
    use futures::StreamExt;
    futures::stream::iter(items)
        .map(f)
        .buffered(limit.max(1))
        .collect()
        .await
}

/// True when an error means "the target is already gone".
pub fn is_not_found(e: &Error) -> bool {
    e.code == ErrorCode::NotFound
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_from_every_shape() {
        let code = |b: &str| server_code(b.as_bytes());
        assert_eq!(
            code(r#"{"error":{"code":"protected_account","message":"x"}}"#).as_deref(),
            Some("protected_account")
        );
        assert_eq!(
            code(r#"{"errcode":"M_FORBIDDEN","error":"You are not a server admin"}"#).as_deref(),
            Some("M_FORBIDDEN")
        );
        assert_eq!(
            code(r#"{"message":"m","code":"BANNED_USER"}"#).as_deref(),
            Some("BANNED_USER")
        );
        assert_eq!(
            code(r#"{"error":"unauthorized_client","error_description":"Invalid"}"#).as_deref(),
            Some("unauthorized_client")
        );
        assert_eq!(
            code(r#"{"error":{"code":404,"status":"Not Found"}}"#).as_deref(),
            Some("Not_Found")
        );
        assert_eq!(
            code(r#"[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]"#)
                .as_deref(),
            Some("INVALID_SESSION_ID")
        );
        assert_eq!(
            code(r#"{"errorCode":"E0000011","errorSummary":"Invalid token provided","errorLink":"E0000011","errorId":"oae1","errorCauses":[]}"#).as_deref(),
            Some("E0000011")
        );
        assert_eq!(
            code(r#"{"statusCode":401,"error":"Unauthorized","message":"Expired token","errorCode":"invalid_token"}"#).as_deref(),
            Some("invalid_token")
        );
        assert_eq!(
            code(r#"{"id":"api.context.session_expired.app_error","message":"Invalid or expired session","status_code":401}"#).as_deref(),
            Some("api.context.session_expired.app_error")
        );
        assert_eq!(code(""), None);
        assert_eq!(code("<html>"), None);
    }

    #[test]
    fn throttling_headers() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("17"));
        assert_eq!(retry_after_secs(&h), Some(17));
        // Numbers no clock can hold are capped at an hour, never trusted.
        for huge in [
            "18446744073709551615",
            "99999999999999999999999",
            "Fri, 31 Dec 9999 23:59:59 GMT",
        ] {
            h.insert(RETRY_AFTER, HeaderValue::from_static(huge));
            assert_eq!(retry_after_secs(&h), Some(MAX_RETRY_AFTER_SECS), "{huge}");
        }
        // An HTTP date in each of its three forms, two minutes ahead; one in the past.
        let ahead = chrono::Utc::now() + chrono::TimeDelta::seconds(120);
        for form in [
            "%a, %d %b %Y %H:%M:%S GMT",
            "%A, %d-%b-%y %H:%M:%S GMT",
            "%a %b %e %H:%M:%S %Y",
        ] {
            let date = ahead.format(form).to_string();
            h.insert(RETRY_AFTER, HeaderValue::from_str(&date).unwrap());
            let secs = retry_after_secs(&h);
            assert!(matches!(secs, Some(115..=120)), "{date}: {secs:?}");
        }
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Sun, 06 Nov 1994 08:49:37 GMT"),
        );
        assert_eq!(retry_after_secs(&h), Some(1));
        h.insert(
            "x-rate-limit-reset",
            HeaderValue::from_static("-9223372036854775808"),
        );
        assert_eq!(rate_limit_reset_secs(&h), Some(1));
        assert!(instant_after(Duration::MAX) > std::time::Instant::now());
        let reset = (chrono::Utc::now().timestamp() + 42).to_string();
        let mut h = HeaderMap::new();
        h.insert(
            "x-rate-limit-reset",
            HeaderValue::from_str(&reset).unwrap_or(HeaderValue::from_static("0")),
        );
        h.insert("x-rate-limit-remaining", HeaderValue::from_static("0"));
        let e = error_from_parts(429, &h, b"{}");
        assert_eq!(e.code, ErrorCode::RateLimited);
        assert!(matches!(e.retry_after_secs, Some(41..=42)), "{e:?}");
        assert_eq!(rate_limit_remaining(&h), Some(0));
        let e = error_from_parts(
            403,
            &HeaderMap::new(),
            br#"[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]"#,
        );
        assert_eq!(e.code, ErrorCode::RateLimited);
    }

    #[test]
    fn link_headers() {
        let mut h = HeaderMap::new();
        h.insert(
            reqwest::header::LINK,
            HeaderValue::from_static(
                "</a?page_token=1>; rel=\"first\", </a?page_token=2>; rel=\"next\"",
            ),
        );
        assert_eq!(link_next(&h).as_deref(), Some("/a?page_token=2"));
        // Commas inside a target and inside a quoted parameter; `rel` in capitals, with
        // several relations, unquoted; a link without parameters.
        for (raw, want) in [
            (
                "</u?filter=a,b&after=x,y>; rel=\"next\"",
                Some("/u?filter=a,b&after=x,y"),
            ),
            (
                "</p>; title=\"one, two; three\"; rel=\"prev\", </n?c=1,2>; title=\"a,b\"; REL=\"next last\"",
                Some("/n?c=1,2"),
            ),
            ("</x>, </y>; Rel=next", Some("/y")),
            ("</x>; rel=\"nextish\"", None),
            ("garbage, <</z>; rel=next", None),
            ("", None),
        ] {
            assert_eq!(link_next_in(raw).as_deref(), want, "{raw}");
        }
        // Two headers, `self` first, as Okta sends them.
        let mut okta = HeaderMap::new();
        okta.append(
            reqwest::header::LINK,
            HeaderValue::from_static("<https://acme.okta.com/api/v1/logs?limit=2>; rel=\"self\""),
        );
        okta.append(
            reqwest::header::LINK,
            HeaderValue::from_static(
                "<https://acme.okta.com/api/v1/logs?limit=2&after=abc>; rel=\"next\"",
            ),
        );
        assert_eq!(
            link_next(&okta).as_deref(),
            Some("https://acme.okta.com/api/v1/logs?limit=2&after=abc")
        );
        h.insert(
            reqwest::header::DATE,
            HeaderValue::from_static("Sun, 22 Nov 2026 20:00:00 GMT"),
        );
        assert_eq!(server_date(&h).map(|d| d.timestamp()), Some(1_795_377_600));
    }
}
