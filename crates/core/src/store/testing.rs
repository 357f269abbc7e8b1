//! Sessions and stores for the store's tests.

use super::*;

pub(super) fn session(
    tenant: &str,
    id: &str,
    user: &str,
    ip: &str,
    superuser: bool,
    minute: u32,
) -> Session {
    Session {
        tenant: Arc::from(tenant),
        id: id.into(),
        user_id: format!("u-{user}").into(),
        username: user.into(),
        email: None,
        display_name: Some(format!("{user} Example").into()),
        first_name: None,
        last_name: None,
        department: Some("Finance".into()),
        organisation: None,
        superuser,
        protected: false,
        disabled: false,
        current: false,
        ip: Some(ip.into()),
        user_agent: Some("Mozilla/5.0 Firefox/130.0".into()),
        location: None,
        session_type: Some("ui".into()),
        login_type: Some("password".into()),
        server_name: None,
        created_at: DateTime::from_timestamp(1_700_000_000 + i64::from(minute) * 60, 0),
        last_activity_at: None,
        expires_at: None,
        idle_timeout_seconds: None,
    }
}

pub(super) fn store_with(sessions: Vec<Session>) -> SessionStore {
    store_keeping(SearchText::Kept, sessions)
}

pub(super) fn store_keeping(search: SearchText, sessions: Vec<Session>) -> SessionStore {
    let store = SessionStore::keeping(search);
    let mut by_tenant: BTreeMap<String, Vec<Session>> = BTreeMap::new();
    for s in sessions {
        by_tenant.entry(s.tenant.to_string()).or_default().push(s);
    }
    for (t, ss) in by_tenant {
        let name: Arc<str> = Arc::from(t.as_str());
        store.register_tenant(&name, ConnectorKind::Vigil);
        assert!(
            store
                .apply(&t, PollUpdate::Full(ss), Duration::from_millis(5))
                .is_ok()
        );
    }
    store
}

pub(super) fn ids(page: &SessionPage) -> Vec<&str> {
    page.rows.iter().map(|s| &*s.id).collect()
}
