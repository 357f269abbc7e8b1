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
}

impl Fault {
    pub const ALL: [Fault; 13] = [
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
