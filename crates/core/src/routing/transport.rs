//! Sending one message on one route: HTTP for webhooks, Slack and Teams; SMTP for e-mail;
//! UDP, TCP or TLS sockets for syslog. Each send is bounded in time; an error names the
//! route and the cause, never the secret.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt;

use super::{RouteConfig, RouteKind, SmtpSecurity, SyslogTransport, payload};
use crate::alerts::Alert;
use crate::error::{Error, ErrorCode, Result};
use crate::secret::SecretString;

/// How long one delivery may take, connection included.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(20);

/// Why a delivery failed, and how long the receiver asked to wait (429 / 503).
#[derive(Debug)]
pub struct SendError {
    pub error: Error,
    pub retry_after: Option<Duration>,
}

impl From<Error> for SendError {
    fn from(error: Error) -> Self {
        Self {
            error,
            retry_after: None,
        }
    }
}

fn route_err(route: &RouteConfig, code: ErrorCode, msg: impl std::fmt::Display) -> Error {
    Error::new(code, format!("route '{}': {msg}", route.name))
}

fn read_ca(route: &RouteConfig) -> Result<Option<Vec<u8>>> {
    route
        .ca_certificate
        .as_deref()
        .filter(|p| !p.is_empty())
        .map(|p| {
            std::fs::read(p).map_err(|e| {
                route_err(route, ErrorCode::Config, format!("ca_certificate {p}: {e}"))
            })
        })
        .transpose()
}

/// Sends `alert` on `route`. `secret` is the route's keychain entry; `delivery` the
/// delivery's stable id (the same on every retry).
pub async fn send(
    route: &RouteConfig,
    secret: Option<&SecretString>,
    alert: &Alert,
    delivery: &str,
) -> std::result::Result<(), SendError> {
    let fut = async {
        match route.kind {
            RouteKind::Webhook => {
                let url = route
                    .url
                    .as_deref()
                    .ok_or_else(|| route_err(route, ErrorCode::Config, "no url"))?;
                let body = payload::webhook(alert, delivery, &route.name);
                let ts = chrono::Utc::now().timestamp();
                let mut headers = vec![
                    ("X-Vigil-Delivery", delivery.to_owned()),
                    ("X-Vigil-Timestamp", ts.to_string()),
                ];
                if let Some(key) = secret {
                    headers.push((
                        "X-Vigil-Signature",
                        payload::signature(key.expose().as_bytes(), ts, &body),
                    ));
                }
                post(route, url, body, &headers).await
            }
            RouteKind::Slack | RouteKind::Teams => {
                let url = secret.ok_or_else(|| {
                    route_err(
                        route,
                        ErrorCode::SecretStore,
                        "no webhook URL in the keychain; set it in Settings → Routes or with `vigil route set-secret`",
                    )
                })?;
                let body = if route.kind == RouteKind::Slack {
                    payload::slack(alert)
                } else {
                    payload::teams(alert)
                };
                let body = serde_json::to_vec(&body).unwrap_or_default();
                let url = url.expose();
                let ok = url::Url::parse(url).is_ok_and(|u| {
                    u.scheme() == "https"
                        || (u.scheme() == "http" && super::is_loopback_host(u.host_str()))
                });
                if !ok {
                    return Err(route_err(
                        route,
                        ErrorCode::Config,
                        "the webhook URL in the keychain is not an https URL",
                    )
                    .into());
                }
                post(
                    route,
                    url,
                    body,
                    &[("X-Vigil-Delivery", delivery.to_owned())],
                )
                .await
            }
            RouteKind::Email => email(route, secret, alert).await.map_err(SendError::from),
            RouteKind::Syslog => syslog(route, alert, delivery)
                .await
                .map_err(SendError::from),
        }
    };
    match tokio::time::timeout(SEND_TIMEOUT, fut).await {
        Ok(r) => r,
        Err(_) => Err(route_err(
            route,
            ErrorCode::Timeout,
            format!("no answer within {} s", SEND_TIMEOUT.as_secs()),
        )
        .into()),
    }
}

async fn post(
    route: &RouteConfig,
    url: &str,
    body: Vec<u8>,
    headers: &[(&str, String)],
) -> std::result::Result<(), SendError> {
    let mut builder = reqwest::Client::builder()
        .timeout(SEND_TIMEOUT)
        // A redirect would carry the alert (and a signature) to another origin.
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("Vigil/", env!("CARGO_PKG_VERSION")));
    if let Some(pem) = read_ca(route)? {
        for c in reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| route_err(route, ErrorCode::Config, format!("ca_certificate: {e}")))?
        {
            builder = builder.add_root_certificate(c);
        }
    }
    let client = builder
        .build()
        .map_err(|e| route_err(route, ErrorCode::Internal, e))?;
    let mut req = client
        .post(url)
        .header("Content-Type", "application/json")
        .body(body);
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    // The URL may be a credential (Slack, Teams): errors name the host only.
    let host = url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default();
    let resp = req.send().await.map_err(|e| {
        let what = if e.is_timeout() {
            "timed out".to_owned()
        } else if e.is_connect() {
            "cannot connect".to_owned()
        } else {
            "request failed".to_owned()
        };
        route_err(route, ErrorCode::Unreachable, format!("{host}: {what}"))
    })?;
    let status = resp.status();
    if status.is_success() {
        return Ok(());
    }
    let retry_after = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|s| Duration::from_secs(s.min(3600)));
    // A short, escaped excerpt of what the receiver said.
    let text = resp.text().await.unwrap_or_default();
    let said: String = crate::text::visible(&text).chars().take(200).collect();
    let code = match status.as_u16() {
        401 => ErrorCode::Unauthorized,
        403 => ErrorCode::Forbidden,
        404 => ErrorCode::NotFound,
        429 => ErrorCode::RateLimited,
        500..=599 => ErrorCode::ServerError,
        _ => ErrorCode::Conflict,
    };
    Err(SendError {
        error: route_err(
            route,
            code,
            format!("{host} answered HTTP {}: {said}", status.as_u16()),
        ),
        retry_after,
    })
}

async fn email(route: &RouteConfig, secret: Option<&SecretString>, alert: &Alert) -> Result<()> {
    use lettre::transport::smtp::authentication::Credentials;
    use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
    use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

    let host = route.smtp_host.clone().unwrap_or_default();
    let (subject, body) = payload::email(alert);
    let from = route
        .from
        .as_deref()
        .unwrap_or_default()
        .parse()
        .map_err(|e| route_err(route, ErrorCode::Config, format!("from: {e}")))?;
    let mut msg = Message::builder().from(from).subject(subject);
    for to in &route.to {
        msg = msg.to(to
            .parse()
            .map_err(|e| route_err(route, ErrorCode::Config, format!("to: {e}")))?);
    }
    let msg = msg
        .header(lettre::message::header::ContentType::TEXT_PLAIN)
        .body(body)
        .map_err(|e| route_err(route, ErrorCode::Internal, e))?;
    let tls = || -> Result<TlsParameters> {
        let mut b = TlsParameters::builder(host.clone());
        if let Some(pem) = read_ca(route)? {
            b = b.add_root_certificate(Certificate::from_pem(&pem).map_err(|e| {
                route_err(route, ErrorCode::Config, format!("ca_certificate: {e}"))
            })?);
        }
        b.build_rustls()
            .map_err(|e| route_err(route, ErrorCode::Config, format!("TLS: {e}")))
    };
    let (tls, port) = match route.security {
        SmtpSecurity::Starttls => (Tls::Required(tls()?), 587),
        SmtpSecurity::Tls => (Tls::Wrapper(tls()?), 465),
        SmtpSecurity::None => (Tls::None, 25),
    };
    let mut transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.as_str())
        .port(route.smtp_port.unwrap_or(port))
        .tls(tls)
        .timeout(Some(SEND_TIMEOUT));
    if let Some(user) = route.username.as_deref().filter(|u| !u.is_empty()) {
        let password = secret.ok_or_else(|| {
            route_err(
                route,
                ErrorCode::SecretStore,
                "no SMTP password in the keychain; set it in Settings → Routes or with `vigil route set-secret`",
            )
        })?;
        transport = transport.credentials(Credentials::new(
            user.to_owned(),
            password.expose().to_owned(),
        ));
    }
    transport.build().send(msg).await.map(|_| ()).map_err(|e| {
        let code = if e.is_permanent() && e.to_string().contains("535") {
            ErrorCode::Unauthorized
        } else {
            ErrorCode::Unreachable
        };
        // lettre's messages carry the server's reply, never the password.
        route_err(
            route,
            code,
            format!("SMTP {host}: {}", crate::text::visible(&e.to_string())),
        )
    })
}

/// The name this machine gives itself in syslog headers.
pub fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

async fn syslog(route: &RouteConfig, alert: &Alert, delivery: &str) -> Result<()> {
    let host = route.host.clone().unwrap_or_default();
    let port = route.port.unwrap_or(match route.transport {
        SyslogTransport::Tls => 6514,
        _ => 514,
    });
    let line = payload::syslog(alert, route, delivery, &hostname(), chrono::Utc::now());
    let net =
        |e: std::io::Error| route_err(route, ErrorCode::Unreachable, format!("{host}:{port}: {e}"));
    match route.transport {
        SyslogTransport::Udp => {
            let addr = tokio::net::lookup_host((host.as_str(), port))
                .await
                .map_err(net)?
                .next()
                .ok_or_else(|| {
                    route_err(route, ErrorCode::Unreachable, format!("{host}: no address"))
                })?;
            let bind: std::net::SocketAddr = if addr.is_ipv4() {
                ([0, 0, 0, 0], 0).into()
            } else {
                (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
            };
            let sock = tokio::net::UdpSocket::bind(bind).await.map_err(net)?;
            sock.send_to(line.as_bytes(), addr).await.map_err(net)?;
        }
        SyslogTransport::Tcp => {
            let mut s = tokio::net::TcpStream::connect((host.as_str(), port))
                .await
                .map_err(net)?;
            s.write_all(format!("{} {line}", line.len()).as_bytes())
                .await
                .map_err(net)?;
            s.shutdown().await.map_err(net)?;
        }
        SyslogTransport::Tls => {
            let connector = tls_connector(route)?;
            let name = rustls_pki_types::ServerName::try_from(host.clone())
                .map_err(|e| route_err(route, ErrorCode::Config, format!("host: {e}")))?;
            let tcp = tokio::net::TcpStream::connect((host.as_str(), port))
                .await
                .map_err(net)?;
            let mut s = connector.connect(name, tcp).await.map_err(net)?;
            s.write_all(format!("{} {line}", line.len()).as_bytes())
                .await
                .map_err(net)?;
            s.shutdown().await.map_err(net)?;
        }
    }
    Ok(())
}

/// A TLS client trusting the system's roots and the route's `ca_certificate`.
fn tls_connector(route: &RouteConfig) -> Result<tokio_rustls::TlsConnector> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    let mut roots = tokio_rustls::rustls::RootCertStore::empty();
    roots.extend(webpki_roots_fallback());
    if let Some(pem) = read_ca(route)? {
        for c in CertificateDer::pem_slice_iter(&pem) {
            let c =
                c.map_err(|e| route_err(route, ErrorCode::Config, format!("ca_certificate: {e}")))?;
            roots
                .add(c)
                .map_err(|e| route_err(route, ErrorCode::Config, format!("ca_certificate: {e}")))?;
        }
    }
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = tokio_rustls::rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| route_err(route, ErrorCode::Internal, e))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

/// The public roots the rest of Vigil trusts (Mozilla's, through `webpki-roots`).
fn webpki_roots_fallback() -> impl Iterator<Item = rustls_pki_types::TrustAnchor<'static>> {
    webpki_roots::TLS_SERVER_ROOTS.iter().cloned()
}
