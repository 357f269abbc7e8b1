//! Helpers shared by the contract tests: the test-only RSA key, JWT verification with its
//! public half, and an OAuth token endpoint mock that checks what it is sent.

#![allow(dead_code)] // each test file uses a different part

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine;
use serde_json::{Value, json};
use wiremock::{Request, ResponseTemplate};

/// A key made for these tests only; it protects nothing.
pub const TEST_KEY: &str = include_str!("../fixtures/test-only-rsa-key.pem");
pub const TEST_KEY_PKCS1: &str = include_str!("../fixtures/test-only-rsa-key.pkcs1.pem");
const TEST_PUBLIC_KEY: &str = include_str!("../fixtures/test-only-rsa-key.pub.pem");

fn b64(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .unwrap()
}

/// Verifies an RS256 JWT with the test public key; returns (header, claims).
pub fn verify_jwt(jwt: &str) -> Result<(Value, Value), String> {
    let pem: String = TEST_PUBLIC_KEY
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(pem)
        .map_err(|e| e.to_string())?;
    let mut parts = jwt.rsplitn(2, '.');
    let sig = parts.next().ok_or("no signature")?;
    let input = parts.next().ok_or("no payload")?;
    ring::signature::UnparsedPublicKey::new(&ring::signature::RSA_PKCS1_2048_8192_SHA256, der)
        .verify(input.as_bytes(), &b64(sig))
        .map_err(|_| "bad signature".to_owned())?;
    let mut it = input.split('.');
    let header: Value = serde_json::from_slice(&b64(it.next().ok_or("no header")?)).unwrap();
    let claims: Value = serde_json::from_slice(&b64(it.next().ok_or("no claims")?)).unwrap();
    if header["alg"] != "RS256" {
        return Err("alg is not RS256".into());
    }
    let now = chrono::Utc::now().timestamp();
    let (iat, exp) = (
        claims["iat"].as_i64().unwrap(),
        claims["exp"].as_i64().unwrap(),
    );
    if iat > now + 5 || exp <= now || exp - iat > 3600 {
        return Err("bad iat/exp".into());
    }
    Ok((header, claims))
}

/// The form fields of a request body.
pub fn form(req: &Request) -> std::collections::HashMap<String, String> {
    url::form_urlencoded::parse(&req.body)
        .into_owned()
        .collect()
}

/// A token endpoint that checks each request with `check` (an error becomes the OAuth
/// error response `invalid_client`), counts issued tokens and hands out `tok-1`, `tok-2` …
pub fn token_endpoint(
    expires_in: u64,
    check: impl Fn(&std::collections::HashMap<String, String>) -> Result<(), String>
    + Send
    + Sync
    + 'static,
) -> (
    impl Fn(&Request) -> ResponseTemplate + Send + Sync + 'static,
    Arc<AtomicUsize>,
) {
    let issued = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&issued);
    let respond = move |req: &Request| {
        let f = form(req);
        match check(&f) {
            Ok(()) => {
                let n = count.fetch_add(1, Ordering::SeqCst) + 1;
                ResponseTemplate::new(200).set_body_json(json!({
                    "token_type": "Bearer", "expires_in": expires_in,
                    "access_token": format!("tok-{n}"), "scope": "all"
                }))
            }
            Err(why) => ResponseTemplate::new(401).set_body_json(json!({
                "error": "invalid_client", "error_description": why
            })),
        }
    };
    (respond, issued)
}

/// Checks a private-key JWT client assertion (RFC 7523 §2.2).
pub fn check_client_assertion(
    f: &std::collections::HashMap<String, String>,
    client_id: &str,
    aud: &str,
) -> Result<(), String> {
    if f.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return Err("grant_type".into());
    }
    if f.get("client_assertion_type").map(String::as_str)
        != Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
    {
        return Err("client_assertion_type".into());
    }
    if f.contains_key("client_secret") {
        return Err("a client secret was sent with an assertion".into());
    }
    let (_, claims) = verify_jwt(f.get("client_assertion").ok_or("no assertion")?)?;
    if claims["iss"] != client_id || claims["sub"] != client_id || claims["aud"] != aud {
        return Err(format!("claims {claims}"));
    }
    if !claims["jti"].is_string() {
        return Err("no jti".into());
    }
    Ok(())
}

/// What a poll that fails must say, for every error case of one connector.
pub struct PollError {
    /// The request the failing answer is given to.
    pub method: &'static str,
    pub path: String,
    /// How the message starts: the step that failed, in the connector's words.
    pub starts_with: &'static str,
    /// The wait an error from an HTTP 429 answer must carry, in seconds.
    pub retry_after: std::ops::RangeInclusive<u64>,
    /// The tenant's secret, which no message may contain.
    pub secret: &'static str,
}

/// For each case (the tenant's answer, the error code and a text the message must hold):
/// a fresh mock tenant with what `setup` mounts and the answer at `expect`'s request, one
/// poll through the connector `make` builds, and its error checked against the case and
/// `expect`. Returns each case's tenant, connector and error for checks of its own.
pub async fn poll_errors<C: vigil_connectors::Connector>(
    cases: Vec<(ResponseTemplate, vigil_connectors::ErrorCode, &str)>,
    expect: &PollError,
    setup: impl AsyncFn(&wiremock::MockServer),
    make: impl Fn(&wiremock::MockServer) -> C,
) -> Vec<(wiremock::MockServer, C, vigil_connectors::Error)> {
    use vigil_connectors::ErrorCode;
    use wiremock::matchers::{method, path};
    let mut seen = Vec::new();
    for (answer, code, text) in cases {
        let s = wiremock::MockServer::start().await;
        setup(&s).await;
        wiremock::Mock::given(method(expect.method))
            .and(path(expect.path.as_str()))
            .respond_with(answer)
            .mount(&s)
            .await;
        let c = make(&s);
        let err = c.poll().await.unwrap_err();
        assert_eq!(err.code, code, "{}", err.message);
        assert!(
            err.message.contains(text),
            "want {text:?} in {:?}",
            err.message
        );
        assert!(
            err.message.starts_with(expect.starts_with),
            "want it to start with {:?}: {:?}",
            expect.starts_with,
            err.message
        );
        assert!(!err.message.contains(expect.secret), "{}", err.message);
        if code == ErrorCode::RateLimited && err.http_status == Some(429) {
            assert!(
                err.retry_after_secs
                    .is_some_and(|s| expect.retry_after.contains(&s)),
                "want a wait in {:?}: {err:?}",
                expect.retry_after
            );
        }
        seen.push((s, c, err));
    }
    seen
}
