//! A stored row: the session with its search text, sort sequence and derived values.

use super::*;

/// A stored session with its global-search text: the searched fields, lowercased, joined
/// by a separator no needle contains. Built once per change, scanned on every keystroke.
pub(super) struct Row {
    pub(super) session: Arc<Session>,
    /// `None` when the store makes it on demand ([`SearchText::OnDemand`]).
    pub(super) search: Option<Box<str>>,
    /// When the row entered the store: the last key of every sort, so that rows equal in
    /// the sorted column keep one order and adjacent windows never overlap.
    pub(super) seq: u64,
    /// The address, parsed once (CIDR filters and the IP sort).
    pub(super) ip: Option<IpAddr>,
    /// Dictionary ids of the text columns (sorting).
    pub(super) text: TextIds,
    /// The session's start: the key of the default order (newest first), here beside the
    /// row rather than behind its pointer, so sorting 100,000 rows reads no session.
    pub(super) created_at: Option<DateTime<Utc>>,
}

pub(super) static NEXT_SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl Row {
    pub(super) fn new(session: Session, dicts: &mut Dicts) -> Self {
        let seq = NEXT_SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Self::with_seq(session, seq, dicts)
    }

    pub(super) fn with_seq(session: Session, seq: u64, dicts: &mut Dicts) -> Self {
        let derived = Derived::of(&session, dicts.search);
        Self::from_parts(session, seq, derived, dicts)
    }

    /// The row of a session entering the store: its texts shared through the
    /// dictionaries first.
    pub(super) fn from_parts(
        mut session: Session,
        seq: u64,
        derived: Derived,
        dicts: &mut Dicts,
    ) -> Self {
        Self {
            search: derived.search,
            ip: derived.ip,
            text: dicts.intern(&mut session),
            created_at: session.created_at,
            session: Arc::new(session),
            seq,
        }
    }

    /// The session changed in place (a user's details): derived fields follow.
    pub(super) fn refresh(&mut self, dicts: &mut Dicts) {
        dicts.release(&self.text);
        self.text = dicts.intern(Arc::make_mut(&mut self.session));
        if self.search.is_some() {
            self.search = Some(search_text(&self.session));
        }
    }
}

impl std::ops::Deref for Row {
    type Target = Session;
    fn deref(&self) -> &Session {
        &self.session
    }
}

/// What a row derives from its session alone: built on every core for a large listing.
pub(super) struct Derived {
    pub(super) search: Option<Box<str>>,
    pub(super) ip: Option<IpAddr>,
}

impl Derived {
    pub(super) fn of(s: &Session, search: SearchText) -> Self {
        Self {
            search: (search == SearchText::Kept).then(|| search_text(s)),
            ip: s.ip.as_deref().and_then(|i| i.parse().ok()),
        }
    }
}

/// Listings at least this large are derived on rayon's threads; smaller ones on the
/// calling thread, where handing the work over would cost more than it saves.
pub(super) const PARALLEL_FROM: usize = 20_000;

/// The derived parts of every session of a listing that is new or changed (none for an
/// unchanged one), in the listing's order. When the store applies a listing the server
/// has finished sending, so every core is free for a large one.
pub(super) fn derive_changed(
    sessions: &[Session],
    current: &Map<Text, Row>,
    search: SearchText,
) -> Vec<Option<Derived>> {
    use rayon::prelude::*;
    let derive = |s: &Session| {
        let changed = current.get(&s.id).is_none_or(|old| *old.session != *s);
        changed.then(|| Derived::of(s, search))
    };
    if sessions.len() < PARALLEL_FROM {
        sessions.iter().map(derive).collect()
    } else {
        sessions.par_iter().map(derive).collect()
    }
}

pub(super) fn search_text(s: &Session) -> Box<str> {
    let fields = [
        Some(&*s.id),
        Some(&*s.username),
        s.email.as_deref(),
        s.display_name.as_deref(),
        s.first_name.as_deref(),
        s.last_name.as_deref(),
        s.ip.as_deref(),
        s.location.as_deref(),
        s.department.as_deref(),
        s.organisation.as_deref(),
        s.user_agent.as_deref(),
        s.server_name.as_deref(),
        Some(s.tenant.as_ref()),
    ];
    let mut text = String::with_capacity(fields.iter().flatten().map(|f| f.len() + 1).sum());
    for f in fields.into_iter().flatten() {
        if f.is_ascii() {
            let start = text.len();
            text.push_str(f);
            text[start..].make_ascii_lowercase();
        } else {
            text.push_str(&f.to_lowercase());
        }
        text.push(crate::query::SEARCH_SEPARATOR);
    }
    text.into_boxed_str()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::*;

    #[test]
    fn a_large_listing_derives_new_and_changed_rows_in_order_on_several_threads() {
        let n = PARALLEL_FROM + 5_001;
        let listing: Vec<Session> = (0..n)
            .map(|i| {
                session(
                    "t",
                    &format!("s{i}"),
                    &format!("User{i}"),
                    &format!("10.0.{}.{}", i / 250 % 250, i % 250),
                    false,
                    1,
                )
            })
            .collect();
        // The store already holds the first 1,000 (500 of them since changed).
        let mut dicts = Dicts::default();
        let mut current: Map<Text, Row> = Map::default();
        for (i, s) in listing.iter().take(1_000).enumerate() {
            let mut held = s.clone();
            if i % 2 == 0 {
                held.username = "someone else".into();
            }
            current.insert(held.id.clone(), Row::new(held, &mut dicts));
        }
        let derived = derive_changed(&listing, &current, SearchText::Kept);
        assert_eq!(derived.len(), n);
        for (i, (s, d)) in listing.iter().zip(&derived).enumerate() {
            match d {
                None => assert!(i < 1_000 && i % 2 == 1, "row {i} was not derived"),
                Some(d) => {
                    assert!(i >= 1_000 || i % 2 == 0, "unchanged row {i} was derived");
                    assert_eq!(d.search.as_ref(), Some(&search_text(s)), "row {i}");
                    assert_eq!(d.ip, s.ip.as_deref().and_then(|a| a.parse().ok()));
                }
            }
        }
    }
}
