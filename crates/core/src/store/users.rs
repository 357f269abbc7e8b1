//! The per-user view: one row per user with their matching sessions.

use super::*;

/// One user's matching sessions, by reference.
pub(super) struct UserGroup<'a> {
    /// The newest session (by creation; the first seen when none has a time).
    pub(super) newest: &'a Session,
    /// The tenant's position in the store's (name) order.
    pub(super) tenant: usize,
    pub(super) sessions: usize,
    /// Distinct addresses: the first inline, the others (few per user: a vector beats a
    /// set) only when a user has more than one.
    pub(super) first_ip: Option<&'a str>,
    pub(super) more_ips: Vec<&'a str>,
    pub(super) last_activity_at: Option<DateTime<Utc>>,
    pub(super) current: bool,
}

impl<'a> UserGroup<'a> {
    pub(super) fn new(s: &'a Session, tenant: usize) -> Self {
        Self {
            newest: s,
            tenant,
            sessions: 0,
            first_ip: None,
            more_ips: Vec::new(),
            last_activity_at: None,
            current: false,
        }
    }

    pub(super) fn add(&mut self, s: &'a Session) {
        self.sessions += 1;
        self.current |= s.current;
        if let Some(ip) = s.ip.as_deref() {
            match self.first_ip {
                None => self.first_ip = Some(ip),
                Some(first) if first != ip && !self.more_ips.contains(&ip) => {
                    self.more_ips.push(ip);
                }
                Some(_) => {}
            }
        }
        if s.created_at > self.newest.created_at {
            self.newest = s;
        }
        if s.last_activity_at > self.last_activity_at {
            self.last_activity_at = s.last_activity_at;
        }
    }

    pub(super) fn ips(&self) -> usize {
        usize::from(self.first_ip.is_some()) + self.more_ips.len()
    }

    pub(super) fn row(&self) -> UserRow {
        let s = self.newest;
        UserRow {
            tenant: s.tenant.to_string(),
            user_id: s.user_id.clone(),
            username: s.username.clone(),
            email: s.email.clone(),
            display_name: s.display_name.clone(),
            department: s.department.clone(),
            organisation: s.organisation.clone(),
            superuser: s.superuser,
            protected: s.protected,
            disabled: s.disabled,
            current: self.current,
            sessions: self.sessions,
            ips: self.ips(),
            last_login: s.created_at,
            last_ip: s.ip.clone(),
            last_activity_at: self.last_activity_at,
        }
    }

    pub(super) fn compare(&self, other: &Self, col: UserSortColumn) -> std::cmp::Ordering {
        let (a, b) = (self.newest, other.newest);
        match col {
            UserSortColumn::Sessions => self.sessions.cmp(&other.sessions),
            UserSortColumn::Ips => self.ips().cmp(&other.ips()),
            UserSortColumn::LastActivity => compare_opt(
                self.last_activity_at.as_ref(),
                other.last_activity_at.as_ref(),
            ),
            UserSortColumn::Tenant => compare(a, b, SortColumn::Tenant),
            UserSortColumn::Username => compare(a, b, SortColumn::Username),
            UserSortColumn::DisplayName => compare(a, b, SortColumn::DisplayName),
            UserSortColumn::Department => compare(a, b, SortColumn::Department),
            UserSortColumn::Organisation => compare(a, b, SortColumn::Organisation),
            UserSortColumn::LastLogin => compare(a, b, SortColumn::CreatedAt),
            UserSortColumn::LastIp => compare(a, b, SortColumn::Ip),
            UserSortColumn::Superuser => compare(a, b, SortColumn::Superuser),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::*;

    #[test]
    fn the_user_view_groups_matching_sessions() -> Result<()> {
        let mut newest = session("t", "2", "alice", "10.0.0.2", false, 9);
        newest.last_activity_at = DateTime::from_timestamp(1_700_100_000, 0);
        let store = store_with(vec![
            session("t", "1", "alice", "10.0.0.1", false, 1),
            newest,
            session("t", "3", "alice", "10.0.0.1", false, 5),
            session("t", "4", "bob", "10.0.0.9", true, 7),
            session("u", "5", "alice", "10.0.0.7", false, 2),
        ]);
        let page = store.query_users(&UserQuery {
            sort: UserSortColumn::Sessions,
            ..UserQuery::default()
        })?;
        assert_eq!((page.total, page.sessions), (3, 5));
        let top = &page.rows[0];
        assert_eq!((top.tenant.as_str(), &*top.username), ("t", "alice"));
        assert_eq!((top.sessions, top.ips), (3, 2));
        assert_eq!(top.last_ip.as_deref(), Some("10.0.0.2"));
        assert_eq!(
            top.last_login,
            DateTime::from_timestamp(1_700_000_000 + 9 * 60, 0)
        );
        assert_eq!(
            top.last_activity_at,
            DateTime::from_timestamp(1_700_100_000, 0)
        );
        // The filter applies to sessions before grouping; windows cut the sorted users.
        let page = store.query_users(&UserQuery {
            filter: SessionFilter {
                ip: Some("10.0.0.1".into()),
                ..Default::default()
            },
            ..UserQuery::default()
        })?;
        assert_eq!((page.total, page.rows[0].sessions), (1, 2));
        let page = store.query_users(&UserQuery {
            sort: UserSortColumn::Username,
            descending: false,
            offset: 1,
            limit: 1,
            ..UserQuery::default()
        })?;
        assert_eq!((page.total, page.rows.len()), (3, 1));
        assert_eq!(&*page.rows[0].username, "alice");
        Ok(())
    }
}
