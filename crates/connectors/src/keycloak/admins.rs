//! Keycloak SuperUsers: holders of `realm-admin` (client role of `realm-management`) or
//! of a realm role named `admin`, directly, through a group or through a composite role,
//! read from the effective role mappings of users with sessions and kept a few minutes.

use super::*;

/// How long a user's effective admin roles are trusted.
const ADMIN_TTL: Duration = Duration::from_secs(300);
/// Users whose effective roles are remembered; past it the memory starts over.
const MAX_ADMIN_CACHE: usize = 100_000;

#[derive(Deserialize)]
struct RoleRep {
    name: String,
}

impl KeycloakConnector {
    /// The direct members of `realm-admin` and of the realm role `admin`, and the UUID of
    /// the `realm-management` client.
    pub(super) async fn superusers(&self) -> Result<(HashSet<String>, Option<String>)> {
        let mut ids = HashSet::new();
        let clients: Vec<KcClient> = self.get("clients?clientId=realm-management").await?;
        let rm_id = clients.first().map(|c| c.id.clone());
        if let Some(rm) = clients.first() {
            match self
                .paged::<KcUser>(&format!("clients/{}/roles/realm-admin/users", seg(&rm.id)))
                .await
            {
                Ok(users) => ids.extend(users.into_iter().map(|u| u.id)),
                Err(e) if e.code == ErrorCode::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        match self.paged::<KcUser>("roles/admin/users").await {
            Ok(users) => ids.extend(users.into_iter().map(|u| u.id)),
            Err(e) if e.code == ErrorCode::NotFound => {}
            Err(e) => return Err(e),
        }
        Ok((ids, rm_id))
    }

    /// Whether the user holds `realm-admin` or the realm role `admin` through a group or
    /// a composite role: Keycloak's effective (composite) role mappings.
    pub(super) async fn effectively_admin(&self, rm: Option<&str>, user_id: &str) -> Result<bool> {
        let cached = self
            .admins
            .lock()
            .ok()
            .and_then(|m| m.get(user_id).copied())
            .filter(|(at, _)| at.elapsed() < ADMIN_TTL);
        if let Some((_, admin)) = cached {
            return Ok(admin);
        }
        let mut admin = false;
        if let Some(rm) = rm {
            let roles: Vec<RoleRep> = self
                .get(&format!(
                    "users/{}/role-mappings/clients/{}/composite",
                    seg(user_id),
                    seg(rm)
                ))
                .await?;
            admin = roles.iter().any(|r| r.name == "realm-admin");
        }
        if !admin {
            let roles: Vec<RoleRep> = self
                .get(&format!(
                    "users/{}/role-mappings/realm/composite",
                    seg(user_id)
                ))
                .await?;
            admin = roles.iter().any(|r| r.name == "admin");
        }
        if let Ok(mut m) = self.admins.lock() {
            if m.len() >= MAX_ADMIN_CACHE {
                m.clear();
            }
            m.insert(user_id.to_owned(), (Instant::now(), admin));
        }
        Ok(admin)
    }

    /// The direct administrators, and the effective ones among `ids`.
    pub(super) async fn admins_among(&self, ids: Vec<String>) -> Result<HashSet<String>> {
        let (mut supers, rm) = self.superusers().await?;
        let rest: Vec<String> = ids.into_iter().filter(|i| !supers.contains(i)).collect();
        let rm = rm.as_deref();
        let found = bounded(rest, CONCURRENCY, |id: String| async move {
            self.effectively_admin(rm, &id).await.map(|a| (id, a))
        })
        .await;
        for r in found {
            let (id, admin) = r?;
            if admin {
                supers.insert(id);
            }
        }
        Ok(supers)
    }
}
