//! A demo tenant that misbehaves on command, for proving what Vigil does with a broken or
//! hostile tenant. A fault applies to the session listing and the change feed (what a
//! poll reads) until it is switched off; the rest of the API keeps working.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

/// One way of misbehaving.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// Never answers (the client's timeout must fire).
    Timeout,
    /// Sends the headers and the start of the body, then nothing more.
    StallMidBody,
    /// 500 Internal Server Error.
    ServerError,
    /// 429 with `Retry-After: 2`.
    RateLimited,
    /// 401: the credential was revoked.
    Unauthorized,
    /// A body cut off in the middle of a JSON object.
    MalformedJson,
    /// Valid JSON with the wrong types (a string for the list, a number for the cursor).
    WrongTypes,
    /// A negative count where an unsigned one belongs.
    NegativeNumbers,
    /// Dates in the year 9999 and before 1970.
    AbsurdDates,
    /// The same session id twice in one page.
    DuplicateIds,
    /// Every page points to itself as the next one.
    LoopingPages,
    /// A 100 MB body (sent as fast as the client reads).
    HugeBody,
    /// 302 to another host.
    RedirectElsewhere,
    /// Every page brings 1,000 new sessions and a fresh cursor: the listing never ends.
    EndlessPages,
    /// 429 with `Retry-After: 18446744073709551615` (u64::MAX seconds).
    HugeRetryAfter,
    /// A small valid body, one byte every 100 ms (slower than any request timeout).
    SlowDrip,
    /// 80 KiB of gzip that inflates to 80 MiB.
    GzipBomb,
    /// 100,000 nested arrays.
    DeepNesting,
    /// An HTML page (a login portal or a proxy's error page) with status 200.
    HtmlPage,
    /// Valid sessions whose every text field carries terminal escapes, bidi overrides and
    /// spreadsheet formulas.
    HostileText,
}

impl Fault {
    pub const ALL: [Fault; 20] = [
        Fault::Timeout,
        Fault::StallMidBody,
        Fault::ServerError,
        Fault::RateLimited,
        Fault::Unauthorized,
        Fault::MalformedJson,
        Fault::WrongTypes,
        Fault::NegativeNumbers,
        Fault::AbsurdDates,
        Fault::DuplicateIds,
        Fault::LoopingPages,
        Fault::HugeBody,
        Fault::RedirectElsewhere,
        Fault::EndlessPages,
        Fault::HugeRetryAfter,
        Fault::SlowDrip,
        Fault::GzipBomb,
        Fault::DeepNesting,
        Fault::HtmlPage,
        Fault::HostileText,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Fault::Timeout => "timeout",
            Fault::StallMidBody => "stall_mid_body",
            Fault::ServerError => "server_error",
            Fault::RateLimited => "rate_limited",
            Fault::Unauthorized => "unauthorized",
            Fault::MalformedJson => "malformed_json",
            Fault::WrongTypes => "wrong_types",
            Fault::NegativeNumbers => "negative_numbers",
            Fault::AbsurdDates => "absurd_dates",
            Fault::DuplicateIds => "duplicate_ids",
            Fault::LoopingPages => "looping_pages",
            Fault::HugeBody => "huge_body",
            Fault::RedirectElsewhere => "redirect_elsewhere",
            Fault::EndlessPages => "endless_pages",
            Fault::HugeRetryAfter => "huge_retry_after",
            Fault::SlowDrip => "slow_drip",
            Fault::GzipBomb => "gzip_bomb",
            Fault::DeepNesting => "deep_nesting",
            Fault::HtmlPage => "html_page",
            Fault::HostileText => "hostile_text",
        }
    }
}

/// The switch a test (or `PUT /demo/v1/fault`) flips.
pub type FaultSwitch = Arc<Mutex<Option<Fault>>>;

fn json(status: StatusCode, body: impl Into<Body>) -> Response {
    let mut r = Response::new(body.into());
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn session(id: &str, created: &str, last: &str, expires: &str) -> String {
    format!(
        r#"{{"id":"{id}","user_id":"u-fault","username":"fault","created_at":"{created}","last_activity_at":"{last}","expires_at":"{expires}","ip":"198.51.100.1"}}"#
    )
}

/// Well-formed sessions with odd content, in the shape of the endpoint asked: the change
/// feed or the listing. Only the content is wrong, so a client that makes it safe keeps
/// accepting it, poll after poll.
fn sessions_answer(path: &str, sessions: &[String]) -> Response {
    let list = sessions.join(",");
    let body = if path.ends_with("/changes") {
        format!(r#"{{"upserted":[{list}],"ended":[],"watermark":"0","has_more":false}}"#)
    } else {
        format!(r#"{{"sessions":[{list}],"watermark":"0"}}"#)
    };
    json(StatusCode::OK, body)
}

/// Text typed by an attacker: a terminal title and screen clear, a bidi override, a
/// spreadsheet formula, markup for notification servers.
pub const HOSTILE_TEXT: &str = "mallory\u{1b}]0;PWNED\u{7}\u{1b}[2J\u{202e}gnp.exe=HYPERLINK(\"http://evil.example\")<img src=x>";

/// 80 MiB of spaces inside a JSON list, gzipped once (about 80 KiB).
fn gzip_bomb() -> &'static [u8] {
    static BOMB: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    BOMB.get_or_init(|| {
        use std::io::Write as _;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let spaces = vec![b' '; 1024 * 1024];
        let _ = gz.write_all(br#"{"sessions":["#);
        for _ in 0..80 {
            let _ = gz.write_all(&spaces);
        }
        let _ = gz.write_all(br#"],"watermark":"0"}"#);
        gz.finish().unwrap_or_default()
    })
}

/// The misbehaving answer to a poll request.
pub async fn respond(fault: Fault, path: &str) -> Response {
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    match fault {
        Fault::Timeout => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            json(StatusCode::OK, "{}")
        }
        Fault::StallMidBody => {
            let chunks = futures::stream::iter([Ok::<_, std::io::Error>(
                axum::body::Bytes::from_static(br#"{"sessions":[{"id":"s1","user_id":"u1","#),
            )])
            .chain(futures::stream::pending());
            json(StatusCode::OK, Body::from_stream(chunks))
        }
        Fault::ServerError => json(
            StatusCode::INTERNAL_SERVER_ERROR,
            r#"{"error":{"code":"internal","message":"database on fire"}}"#,
        ),
        Fault::RateLimited => {
            let mut r = json(
                StatusCode::TOO_MANY_REQUESTS,
                r#"{"error":{"code":"rate_limited","message":"slow down"}}"#,
            );
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
            r
        }
        Fault::Unauthorized => json(
            StatusCode::UNAUTHORIZED,
            r#"{"error":{"code":"unauthorized","message":"token revoked"}}"#,
        ),
        Fault::MalformedJson => json(StatusCode::OK, r#"{"sessions":[{"id":"s1","user_id":"#),
        Fault::WrongTypes => json(
            StatusCode::OK,
            r#"{"sessions":"none today","next_cursor":42,"watermark":7}"#,
        ),
        Fault::NegativeNumbers => json(
            StatusCode::OK,
            format!(
                r#"{{"sessions":[{{"id":"n1","user_id":"u1","username":"neg","idle_timeout_seconds":-5}}],"watermark":"{now}"}}"#
            ),
        ),
        Fault::AbsurdDates => sessions_answer(
            path,
            &[session(
                "absurd-1",
                "9999-12-31T23:59:59Z",
                "1901-01-01T00:00:00Z",
                "9999-12-31T23:59:59Z",
            )],
        ),
        Fault::DuplicateIds => {
            let one = session("dup-1", &now, &now, "2099-01-01T00:00:00Z");
            sessions_answer(path, &[one.clone(), one])
        }
        Fault::LoopingPages => json(
            StatusCode::OK,
            format!(
                r#"{{"sessions":[{}],"next_cursor":"again","watermark":"0"}}"#,
                session("loop-1", &now, &now, "2099-01-01T00:00:00Z")
            ),
        ),
        Fault::HugeBody => {
            // 100 MB of one long, valid-looking list.
            let item = format!("{},", session("big", &now, &now, "2099-01-01T00:00:00Z"));
            let chunk = axum::body::Bytes::from(item.repeat(1_000));
            let count = 100 * 1024 * 1024 / chunk.len() + 1;
            let head = futures::stream::iter([Ok::<_, std::io::Error>(
                axum::body::Bytes::from_static(br#"{"sessions":["#),
            )]);
            let body = head.chain(futures::stream::iter(
                (0..count).map(move |_| Ok::<_, std::io::Error>(chunk.clone())),
            ));
            json(StatusCode::OK, Body::from_stream(body))
        }
        Fault::EndlessPages => {
            // A fresh cursor each page, and 1,000 sessions no page had before.
            static PAGE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
            let n = PAGE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let list: Vec<String> = (0..1_000)
                .map(|i| {
                    session(
                        &format!("endless-{n}-{i}"),
                        &now,
                        &now,
                        "2099-01-01T00:00:00Z",
                    )
                })
                .collect();
            json(
                StatusCode::OK,
                format!(
                    r#"{{"sessions":[{}],"next_cursor":"page-{n}","watermark":"0"}}"#,
                    list.join(",")
                ),
            )
        }
        Fault::HugeRetryAfter => {
            let mut r = json(
                StatusCode::TOO_MANY_REQUESTS,
                r#"{"error":{"code":"rate_limited","message":"come back never"}}"#,
            );
            r.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_static("18446744073709551615"),
            );
            r
        }
        Fault::SlowDrip => {
            let body = format!(
                r#"{{"sessions":[{}],"watermark":"0"}}"#,
                session("drip-1", &now, &now, "2099-01-01T00:00:00Z")
            );
            let bytes: Vec<u8> = body.into_bytes();
            let chunks = futures::stream::iter(bytes).then(|b| async move {
                tokio::time::sleep(Duration::from_millis(100)).await;
                Ok::<_, std::io::Error>(axum::body::Bytes::from(vec![b]))
            });
            json(StatusCode::OK, Body::from_stream(chunks))
        }
        Fault::GzipBomb => {
            let mut r = json(StatusCode::OK, gzip_bomb());
            r.headers_mut()
                .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            r
        }
        Fault::DeepNesting => {
            let depth = 100_000;
            let body = format!(
                r#"{{"sessions":{}{}}}"#,
                "[".repeat(depth),
                "]".repeat(depth)
            );
            json(StatusCode::OK, body)
        }
        Fault::HtmlPage => {
            let mut r = Response::new(Body::from(
                "<!DOCTYPE html><html><head><title>Sign in</title></head><body><form action=\"/login\"></form></body></html>",
            ));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            r
        }
        Fault::HostileText => {
            let text = serde_json::to_string(HOSTILE_TEXT).unwrap_or_default();
            let one = format!(
                r#"{{"id":"hostile-1","user_id":"u-hostile","username":{text},"ip":{text},"user_agent":{text},"session_type":{text},"login_type":{text},"server_name":{text},"created_at":"{now}","last_activity_at":"{now}"}}"#
            );
            sessions_answer(path, &[one])
        }
        Fault::RedirectElsewhere => {
            let mut r = StatusCode::FOUND.into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("http://attacker.invalid{path}")) {
                r.headers_mut().insert(header::LOCATION, v);
            }
            r
        }
    }
}

use futures::StreamExt as _;
