//! Credentials shared by the connectors of hosted identity providers: static tokens
//! (`SSWS`, personal access tokens), OAuth 2.0 client credentials with a client secret or a
//! private-key JWT client assertion (RFC 7523 §2.2), and the JWT bearer grant (RFC 7523
//! §2.1: Salesforce, Google service accounts, Zitadel service users).
//!
//! [`Api`] wraps a tenant's [`HttpClient`] with its credential: access tokens are cached in
//! memory, refreshed a little before they expire and once more when the API answers 401
//! (concurrent callers wait for one refresh instead of each starting their own), and a
//! rejected credential becomes an `Unauthorized` error that names the tenant and what was
//! rejected. Requests of one tenant are capped by a semaphore and paused while the tenant's
//! rate-limit window is spent, so one tenant's throttling never slows another.
//!
//! RS256 signing uses `ring`, which Vigil already builds for TLS: constant-time RSA, no
//! further build dependencies.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use tokio::sync::{Mutex, Semaphore};

use super::http::{
    HttpClient, MAX_BODY_BYTES, authorization, error_from_parts, rate_limit_remaining,
    rate_limit_reset_secs, read_capped,
};
use crate::error::{Error, ErrorCode, Result, is_safe_code};
use crate::model::{Capabilities, TenantCheck, TenantSpec};
use crate::secret::SecretString;

/// Requests one tenant may have in flight at once.
pub const DEFAULT_CONCURRENCY: usize = 4;
/// Token life assumed when the token endpoint does not say (Salesforce).
const DEFAULT_TOKEN_LIFE: Duration = Duration::from_secs(15 * 60);
/// Life of a signed assertion.
const ASSERTION_LIFE_SECS: i64 = 180;
/// A spent rate-limit window shorter than this is waited out; longer ones fail the request
/// with `RateLimited` and the delay, and the poller waits.
const MAX_INLINE_PAUSE: Duration = Duration::from_secs(2);

/// True when a secret is a PEM private key rather than a client secret or token.
pub fn is_pem_key(secret: &SecretString) -> bool {
    secret.expose().trim_start().starts_with("-----BEGIN")
}

/// An RSA private key for RS256 signatures (PKCS#8 `PRIVATE KEY` or PKCS#1 `RSA PRIVATE
/// KEY` PEM). Its `Debug` shows nothing of it.
pub struct SigningKey {
    pair: ring::signature::RsaKeyPair,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

impl SigningKey {
    /// The key of a PKCS#8 (`PRIVATE KEY`) or PKCS#1 (`RSA PRIVATE KEY`) PEM block, read
    /// by `rustls-pki-types`; its errors are worded here, since they may quote a line of
    /// the key.
    pub fn from_pem(pem: &str) -> Result<Self> {
        use rustls_pki_types::PrivateKeyDer;
        use rustls_pki_types::pem::{self, PemObject};
        use zeroize::Zeroize;
        let bad = |why: &str| Error::config(format!("the private key is not usable: {why}"));
        let mut key =
            PrivateKeyDer::from_pem_slice(pem.trim().as_bytes()).map_err(|e| match e {
                pem::Error::MissingSectionEnd { .. } => bad("the PEM block has no END line"),
                pem::Error::Base64Decode(_) => bad("the PEM body is not base64"),
                _ => bad("expected a PEM block (-----BEGIN PRIVATE KEY-----)"),
            })?;
        let pair = match &key {
            PrivateKeyDer::Pkcs8(der) => {
                ring::signature::RsaKeyPair::from_pkcs8(der.secret_pkcs8_der())
            }
            PrivateKeyDer::Pkcs1(der) => {
                ring::signature::RsaKeyPair::from_der(der.secret_pkcs1_der())
            }
            _ => {
                key.zeroize();
                return Err(bad(
                    "expected an RSA key (PRIVATE KEY or RSA PRIVATE KEY block)",
                ));
            }
        };
        key.zeroize();
        let pair = pair.map_err(|e| bad(&format!("not an RSA key of 2048 bits or more ({e})")))?;
        Ok(Self { pair })
    }

    /// A compact JWS (RS256) of `claims` with `kid`/`x5t` in its header when given.
    /// Assembled here over `ring`, which TLS already builds: `jsonwebtoken` 10 and later
    /// sign RS256 only through `aws-lc-rs` (a second crypto library, built from C) or
    /// RustCrypto's `rsa` (RUSTSEC-2023-0071, a timing side channel with no fixed release),
    /// and a JWS is three base64url parts and one signature.
    pub fn sign_jwt(
        &self,
        kid: Option<&str>,
        x5t: Option<&str>,
        claims: &serde_json::Value,
    ) -> Result<SecretString> {
        let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let mut header = serde_json::json!({"alg": "RS256", "typ": "JWT"});
        if let Some(kid) = kid {
            header["kid"] = kid.into();
        }
        if let Some(x5t) = x5t {
            header["x5t"] = x5t.into();
        }
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let mut sig = vec![0u8; self.pair.public().modulus_len()];
        self.pair
            .sign(
                &ring::signature::RSA_PKCS1_SHA256,
                &ring::rand::SystemRandom::new(),
                input.as_bytes(),
                &mut sig,
            )
            .map_err(|_| Error::internal("RS256 signing failed"))?;
        Ok(SecretString::new(format!("{input}.{}", b64(&sig))))
    }
}

/// Standard claims of a short-lived assertion: `iss`, `sub`, `aud`, `iat`, `exp`, `jti`.
fn assertion_claims(iss: &str, sub: &str, aud: &str) -> serde_json::Value {
    let now = chrono::Utc::now().timestamp();
    serde_json::json!({
        "iss": iss, "sub": sub, "aud": aud,
        "iat": now, "exp": now + ASSERTION_LIFE_SECS,
        "jti": format!("{:032x}", rand::random::<u128>()),
    })
}

/// How Vigil proves itself at a token endpoint.
pub enum Grant {
    /// `client_credentials` with `client_id` + `client_secret` in the form.
    ClientSecret {
        client_id: String,
        secret: SecretString,
    },
    /// `client_credentials` with a private-key JWT client assertion (`iss` = `sub` =
    /// client id, `aud` = the token endpoint unless `audience` says otherwise).
    ClientAssertion {
        client_id: String,
        key: SigningKey,
        kid: Option<String>,
        /// Certificate thumbprint header (Entra ID wants `x5t`).
        x5t: Option<String>,
        audience: Option<String>,
    },
    /// `urn:ietf:params:oauth:grant-type:jwt-bearer` with an assertion signed by `key`.
    /// `extra_claims` are merged into the claims (Google's `scope`).
    JwtBearer {
        issuer: String,
        subject: String,
        audience: String,
        key: SigningKey,
        kid: Option<String>,
        extra_claims: serde_json::Map<String, serde_json::Value>,
    },
}

impl Grant {
    /// What the token endpoint judges, for "token endpoint rejected the …".
    fn what(&self) -> &'static str {
        match self {
            Self::ClientSecret { .. } => "client secret",
            Self::ClientAssertion { .. } => "client assertion",
            Self::JwtBearer { .. } => "JWT bearer assertion",
        }
    }
}

struct Token {
    value: SecretString,
    refresh_at: Instant,
    /// Counts fetched tokens, so callers that saw a 401 with the same token share one
    /// refresh.
    generation: u64,
}

/// An OAuth 2.0 token source with an in-memory cache.
pub struct OAuth {
    tenant: Arc<str>,
    http: HttpClient,
    token_url: url::Url,
    grant: Grant,
    /// Extra form fields: `scope`, `audience` …
    form: Vec<(String, String)>,
    cache: Mutex<Option<Token>>,
}

#[derive(serde::Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
}

impl OAuth {
    pub fn new(
        spec: &TenantSpec,
        token_url: url::Url,
        grant: Grant,
        form: Vec<(String, String)>,
    ) -> Result<Self> {
        Ok(Self {
            tenant: Arc::from(spec.name.as_str()),
            http: HttpClient::for_spec(&token_url, spec)?,
            token_url,
            grant,
            form,
            cache: Mutex::new(None),
        })
    }

    /// The cached token, or a new one when it is due for refresh. Returns the token and
    /// its generation.
    async fn token(&self) -> Result<(SecretString, u64)> {
        let mut guard = self.cache.lock().await;
        if let Some(t) = guard.as_ref().filter(|t| Instant::now() < t.refresh_at) {
            return Ok((t.value.clone(), t.generation));
        }
        self.fetch(&mut guard).await
    }

    /// A token newer than `rejected`: the one another caller already fetched, or a new one.
    async fn refresh_after(&self, rejected: u64) -> Result<(SecretString, u64)> {
        let mut guard = self.cache.lock().await;
        if let Some(t) = guard.as_ref().filter(|t| t.generation != rejected) {
            return Ok((t.value.clone(), t.generation));
        }
        self.fetch(&mut guard).await
    }

    /// Forgets the cached token.
    pub async fn clear(&self) {
        *self.cache.lock().await = None;
    }

    async fn fetch(&self, slot: &mut Option<Token>) -> Result<(SecretString, u64)> {
        let assertion;
        let mut form: Vec<(&str, &str)> = Vec::new();
        match &self.grant {
            Grant::ClientSecret { client_id, secret } => {
                form.push(("grant_type", "client_credentials"));
                form.push(("client_id", client_id));
                form.push(("client_secret", secret.expose()));
            }
            Grant::ClientAssertion {
                client_id,
                key,
                kid,
                x5t,
                audience,
            } => {
                let aud = audience.as_deref().unwrap_or(self.token_url.as_str());
                assertion = key.sign_jwt(
                    kid.as_deref(),
                    x5t.as_deref(),
                    &assertion_claims(client_id, client_id, aud),
                )?;
                form.push(("grant_type", "client_credentials"));
                form.push(("client_id", client_id));
                form.push((
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ));
                form.push(("client_assertion", assertion.expose()));
            }
            Grant::JwtBearer {
                issuer,
                subject,
                audience,
                key,
                kid,
                extra_claims,
            } => {
                let mut claims = assertion_claims(issuer, subject, audience);
                if let Some(map) = claims.as_object_mut() {
                    map.extend(extra_claims.clone());
                }
                assertion = key.sign_jwt(kid.as_deref(), None, &claims)?;
                form.push(("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"));
                form.push(("assertion", assertion.expose()));
            }
        }
        for (k, v) in &self.form {
            form.push((k, v));
        }
        // Transport failures are named by the caller's tenant context; only a rejected
        // credential names the tenant itself (it is what an administrator must fix there).
        let context = || "getting an access token".to_owned();
        let (status, headers, body) = self
            .http
            .post_form_raw(self.token_url.clone(), &form)
            .await
            .map_err(|e| e.context(context()))?;
        if !status.is_success() {
            return Err(self.rejected(status, &headers, &body));
        }
        let resp: TokenResponse = super::http::decode_slice(&body)
            .map_err(|e| e.context(format!("{}: token endpoint answer", context())))?;
        let life = resp
            .expires_in
            .as_ref()
            .and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()))
            .map_or(DEFAULT_TOKEN_LIFE, Duration::from_secs);
        // Refresh a fifth of the life (at most a minute) before expiry.
        let margin = (life / 5).min(Duration::from_secs(60));
        let generation = slot.as_ref().map_or(1, |t| t.generation + 1);
        let value = SecretString::new(resp.access_token);
        *slot = Some(Token {
            value: value.clone(),
            refresh_at: super::http::instant_after(life.saturating_sub(margin)),
            generation,
        });
        Ok((value, generation))
    }

    /// A refusal of the token endpoint: 400/401/403 mean the credential itself (OAuth
    /// `invalid_client`, `invalid_grant`, `unauthorized_client` …).
    fn rejected(&self, status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Error {
        let e = error_from_parts(status.as_u16(), headers, body);
        if !matches!(status.as_u16(), 400 | 401 | 403) {
            return e.context("getting an access token");
        }
        let code = super::http::server_code(body)
            .filter(|c| is_safe_code(c))
            .unwrap_or_else(|| format!("HTTP {}", status.as_u16()));
        Error {
            code: ErrorCode::Unauthorized,
            message: format!(
                "tenant '{}': token endpoint rejected the {}: {code} (HTTP {})",
                self.tenant,
                self.grant.what(),
                status.as_u16()
            ),
            retry_after_secs: None,
            http_status: Some(status.as_u16()),
        }
    }
}

/// What an API request carries to prove who Vigil is.
pub enum Credential {
    /// A long-lived token with its scheme (`SSWS`, `Bearer`).
    Static {
        scheme: &'static str,
        token: SecretString,
        /// What the token is called, for errors ("API token", "personal access token").
        label: &'static str,
    },
    OAuth(Box<OAuth>),
}

impl Credential {
    pub fn oauth(oauth: OAuth) -> Self {
        Self::OAuth(Box::new(oauth))
    }
}

/// A tenant's API: its HTTP client, credential, request cap and rate-limit pause.
pub struct Api {
    tenant: Arc<str>,
    http: HttpClient,
    credential: Credential,
    permits: Semaphore,
    paused_until: std::sync::Mutex<Option<Instant>>,
}

/// A successful answer: status, headers, body.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        super::http::decode_slice(&self.body)
    }
}

impl Api {
    pub fn new(spec: &TenantSpec, credential: Credential) -> Result<Self> {
        Self::with_concurrency(spec, credential, DEFAULT_CONCURRENCY)
    }

    pub fn with_concurrency(
        spec: &TenantSpec,
        credential: Credential,
        concurrency: usize,
    ) -> Result<Self> {
        Ok(Self {
            tenant: Arc::from(spec.name.as_str()),
            http: HttpClient::for_spec(&spec.base_url, spec)?,
            credential,
            permits: Semaphore::new(concurrency.max(1)),
            paused_until: std::sync::Mutex::new(None),
        })
    }

    pub fn tenant(&self) -> &Arc<str> {
        &self.tenant
    }

    /// A path relative to the tenant's base URL.
    pub fn url(&self, path: &str) -> Result<url::Url> {
        self.http.url(path)
    }

    /// A pagination link (absolute or relative). It must stay on the tenant's origin: a
    /// hostile page must not send the credential elsewhere.
    pub fn follow(&self, next: &str) -> Result<url::Url> {
        let url = self
            .http
            .base()
            .join(next)
            .map_err(|e| Error::malformed(format!("bad next-page link: {e}")))?;
        if url.origin() != self.http.base().origin() {
            return Err(Error::malformed(
                "a next-page link points to another host; not followed",
            ));
        }
        Ok(url)
    }

    /// Forgets the cached access token.
    pub async fn reset(&self) {
        if let Credential::OAuth(o) = &self.credential {
            o.clear().await;
        }
    }

    /// Sends a request with the credential; one retry with a fresh token on 401.
    pub async fn request(
        &self,
        method: Method,
        url: url::Url,
        body: Option<&serde_json::Value>,
    ) -> Result<Answer> {
        let _permit = self.turn().await?;
        match &self.credential {
            Credential::Static {
                scheme,
                token,
                label,
            } => {
                let auth = authorization(scheme, token)?;
                self.once(method, url, &auth, body).await.map_err(|e| {
                    if e.code == ErrorCode::Unauthorized {
                        e.context(format!(
                            "tenant '{}': the {label} was rejected",
                            self.tenant
                        ))
                    } else {
                        e
                    }
                })
            }
            Credential::OAuth(oauth) => {
                let (token, generation) = oauth.token().await?;
                let auth = authorization("Bearer", &token)?;
                match self.once(method.clone(), url.clone(), &auth, body).await {
                    Err(e) if e.code == ErrorCode::Unauthorized => {
                        let (token, _) = oauth.refresh_after(generation).await?;
                        let auth = authorization("Bearer", &token)?;
                        self.once(method, url, &auth, body).await.map_err(|e| {
                            if e.code == ErrorCode::Unauthorized {
                                e.context(format!(
                                    "tenant '{}': the API rejected a freshly issued access token",
                                    self.tenant
                                ))
                            } else {
                                e
                            }
                        })
                    }
                    other => other,
                }
            }
        }
    }

    async fn once(
        &self,
        method: Method,
        url: url::Url,
        auth: &HeaderValue,
        body: Option<&serde_json::Value>,
    ) -> Result<Answer> {
        let resp = match self.http.send_with(method, url, auth, None, body).await {
            Ok(r) => r,
            Err(e) => {
                if e.code == ErrorCode::RateLimited {
                    self.pause(e.retry_after_secs.map(Duration::from_secs));
                }
                return Err(e);
            }
        };
        let status = resp.status();
        let headers = resp.headers().clone();
        if rate_limit_remaining(&headers) == Some(0) {
            self.pause(rate_limit_reset_secs(&headers).map(Duration::from_secs));
        }
        let body = read_capped(resp, MAX_BODY_BYTES).await?;
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    fn pause(&self, wait: Option<Duration>) {
        if let (Some(wait), Ok(mut until)) = (wait, self.paused_until.lock()) {
            *until = Some(super::http::instant_after(
                wait.min(Duration::from_secs(super::http::MAX_RETRY_AFTER_SECS)),
            ));
        }
    }

    /// This tenant's turn to send: after a spent rate-limit window, within its limit of
    /// requests in flight.
    async fn turn(&self) -> Result<tokio::sync::SemaphorePermit<'_>> {
        self.wait_for_window().await?;
        self.permits
            .acquire()
            .await
            .map_err(|_| Error::internal("request limiter closed"))
    }

    /// Waits out a short spent rate-limit window; a long one is an error with its delay.
    async fn wait_for_window(&self) -> Result<()> {
        let until = self.paused_until.lock().ok().and_then(|g| *g);
        let Some(left) = until.and_then(|u| u.checked_duration_since(Instant::now())) else {
            return Ok(());
        };
        if left <= MAX_INLINE_PAUSE {
            tokio::time::sleep(left).await;
            return Ok(());
        }
        let secs = left.as_secs().max(1);
        Err(Error {
            code: ErrorCode::RateLimited,
            message: format!(
                "rate limited: the tenant's request window is spent; retry after {secs} s"
            ),
            retry_after_secs: Some(secs),
            http_status: None,
        })
    }

    pub async fn get<T: DeserializeOwned>(&self, url: url::Url) -> Result<T> {
        self.request(Method::GET, url, None).await?.json()
    }

    pub async fn get_path<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.get(self.url(path)?).await
    }

    /// A GET of a public document of the tenant, without the credential.
    pub async fn get_public<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        let _permit = self.turn().await?;
        self.http.get_json_public(self.url(path)?).await
    }

    /// A request whose JSON answer is decoded.
    pub async fn json<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<T> {
        self.request(method, self.url(path)?, body).await?.json()
    }

    /// A request whose answer body does not matter.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<StatusCode> {
        Ok(self.request(method, self.url(path)?, body).await?.status)
    }

    /// "Test connection" with one cheap authenticated GET.
    pub async fn check(
        &self,
        path: &str,
        permissions: Vec<String>,
        capabilities: Capabilities,
        what: &str,
    ) -> TenantCheck {
        self.check_with(Method::GET, path, None, permissions, capabilities, what)
            .await
    }

    /// "Test connection" with one cheap authenticated request.
    pub async fn check_with(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
        permissions: Vec<String>,
        capabilities: Capabilities,
        what: &str,
    ) -> TenantCheck {
        let started = Instant::now();
        let sent = chrono::Utc::now();
        let url = match self.url(path) {
            Ok(u) => u,
            Err(e) => return TenantCheck::failed(&e),
        };
        match self.request(method, url, body).await {
            Ok(answer) => super::http::check_accepted(
                &answer.headers,
                sent,
                started.elapsed(),
                permissions,
                capabilities,
            ),
            Err(e) => {
                let mut check = TenantCheck::failed(&e.clone().context(what));
                // A 403 means the credential was accepted but lacks a permission.
                check.authenticated = e.code == ErrorCode::Forbidden;
                check.latency_ms = super::http::millis(started.elapsed());
                check
            }
        }
    }
}

/// "Already gone" is success for ending a session.
pub fn end_outcome(r: Result<StatusCode>) -> Result<super::EndOutcome> {
    match r {
        Ok(_) => Ok(super::EndOutcome::Ended),
        Err(e) if e.code == ErrorCode::NotFound => Ok(super::EndOutcome::AlreadyGone),
        Err(e) => Err(e),
    }
}

/// A path segment, percent-encoded.
pub fn seg(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// A kind-specific option that may be absent.
pub fn opt(spec: &TenantSpec, key: &str) -> Option<String> {
    spec.options
        .get(key)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// The look-back window of a sign-in-log connector (option `lookback_hours`, default 24).
pub fn lookback(spec: &TenantSpec) -> Result<chrono::Duration> {
    match opt(spec, "lookback_hours") {
        None => Ok(chrono::Duration::hours(24)),
        Some(v) => match v.parse::<i64>() {
            Ok(h) if (1..=24 * 30).contains(&h) => Ok(chrono::Duration::hours(h)),
            _ => Err(Error::config(format!(
                "tenant '{}': lookback_hours must be a whole number of hours from 1 to 720, not {v:?}",
                spec.name
            ))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_parsed_and_never_shown() {
        let e =
            SigningKey::from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----")
                .err();
        assert!(e.is_some_and(|e| e.code == ErrorCode::Config && !e.message.contains("AAAA")));
        assert!(SigningKey::from_pem("not a key").is_err());
        // Both RSA forms sign; other blocks are refused with the reason, never quoting
        // a line of the key.
        let pkcs8 = include_str!("../tests/fixtures/test-only-rsa-key.pem");
        let pkcs1 = include_str!("../tests/fixtures/test-only-rsa-key.pkcs1.pem");
        for pem in [pkcs8, pkcs1] {
            let key = SigningKey::from_pem(pem).unwrap();
            let jwt = key.sign_jwt(Some("k1"), None, &serde_json::json!({"a": 1}));
            assert_eq!(jwt.unwrap().expose().split('.').count(), 3);
        }
        let cut = &pkcs8[..pkcs8.find("-----END").unwrap()];
        let secret_line = pkcs8.lines().nth(1).unwrap();
        for (pem, why) in [
            (cut, "no END line"),
            (
                "-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----",
                "not base64",
            ),
            (
                "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----",
                "expected an RSA key",
            ),
        ] {
            let e = SigningKey::from_pem(pem).err().unwrap();
            assert!(e.message.contains(why), "{why}: {}", e.message);
            assert!(!e.message.contains(secret_line), "{}", e.message);
        }
        assert!(is_pem_key(&SecretString::new(
            "\n-----BEGIN RSA PRIVATE KEY-----"
        )));
        assert!(!is_pem_key(&SecretString::new("00abcSSWS")));
    }

    #[test]
    fn segments_are_encoded() {
        assert_eq!(seg("auth0|abc def"), "auth0%7Cabc%20def");
        assert_eq!(seg("a/b"), "a%2Fb");
    }
}
