//! Keycloak's Test connection: the token, every endpoint the poll reads, and the roles the
//! actions need, each missing one named.

use super::*;

impl KeycloakConnector {
    /// Probes every endpoint the poll reads, and the token's roles for what the actions
    /// need, and names each missing role.
    pub(super) async fn check_connection(&self) -> TenantCheck {
        let started = Instant::now();
        let sent = Utc::now();
        let token = match self.token(true).await {
            Ok(t) => t,
            Err(e) => return TenantCheck::failed(&e),
        };
        let first = self.probe(&token, "users/count").await;
        let latency = started.elapsed();
        let headers = match first {
            Ok(h) => Some(h),
            Err(e) if e.code == ErrorCode::Forbidden => None,
            Err(e) => {
                return TenantCheck {
                    reachable: e.http_status.is_some(),
                    authenticated: e.code != ErrorCode::Unauthorized,
                    permissions: token_roles(&token),
                    error: Some(e.payload()),
                    ..TenantCheck::default()
                };
            }
        };
        let mut refused: Vec<&str> = Vec::new();
        if headers.is_none() {
            refused.push("view-users");
        }
        let mut other = None;
        let mut probe = |result: Result<HeaderMap>, role: &'static str| match result {
            Ok(_) => {}
            Err(e) if e.code == ErrorCode::Forbidden => refused.push(role),
            Err(e) => {
                other.get_or_insert(e);
            }
        };
        probe(
            self.probe(&token, "client-session-stats").await,
            "view-realm",
        );
        // A client's session list: that of realm-management, which every realm has.
        match self
            .get_with::<Vec<KcClient>>(&token, "clients?clientId=realm-management")
            .await
        {
            Ok((found, _)) => {
                if let Some(rm) = found.first() {
                    let path = format!("clients/{}/user-sessions?first=0&max=1", seg(&rm.id));
                    probe(self.probe(&token, &path).await, "view-clients");
                }
            }
            Err(e) => probe(Err(e), "view-clients"),
        }
        let permissions = token_roles(&token);
        // Actions cannot be probed without acting: read them from the token's roles
        // (composite roles such as realm-admin are expanded there by Keycloak).
        if !permissions.is_empty()
            && !permissions
                .iter()
                .any(|r| r == "manage-users" || r == "realm-admin")
        {
            refused.push("manage-users");
        }
        if let Some(e) = other {
            return TenantCheck {
                reachable: true,
                authenticated: true,
                permissions,
                error: Some(e.payload()),
                ..TenantCheck::default()
            };
        }
        if let (Some(h), true) = (&headers, refused.is_empty()) {
            return check_accepted(h, sent, latency, permissions, self.capabilities());
        }
        let missing: Vec<String> = REQUIRED_ROLES
            .iter()
            .filter(|(role, _)| refused.contains(role))
            .map(|(role, why)| format!("{role} ({why})"))
            .collect();
        TenantCheck {
            reachable: true,
            authenticated: true,
            permissions,
            error: Some(
                Error::new(
                    ErrorCode::Forbidden,
                    format!(
                        "the service account lacks realm-management roles: {}; grant them \
                         to the client's service account (Clients → {} → Service account roles)",
                        missing.join(", "),
                        self.client_id
                    ),
                )
                .payload(),
            ),
            ..TenantCheck::default()
        }
    }
}

/// The `realm-management` roles in the access token (read, not verified: it is ours).
fn token_roles(token: &SecretString) -> Vec<String> {
    use base64::Engine;
    let Some(payload) = token.expose().split('.').nth(1) else {
        return Vec::new();
    };
    let Ok(bytes) =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('='))
    else {
        return Vec::new();
    };
    let Ok(claims) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return Vec::new();
    };
    let mut roles: Vec<String> = claims["resource_access"]["realm-management"]["roles"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|r| r.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    roles.sort();
    roles
}
