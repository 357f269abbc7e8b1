//! Order dictionaries for the store's text columns.
//!
//! Every distinct value of a column gets a small id when a row enters the store. A query
//! sorting on the column turns ids into ranks (positions in the column's order) with one
//! array lookup per row, instead of hashing or comparing 100,000 strings. The rank table
//! is brought up to date by the first query after new values appeared: the new values are
//! sorted and merged into the known order, so a poll that brings a few new user agents
//! costs a merge, not a sort of every value.
//!
//! The dictionaries are also where the store interns: a row's value that a dictionary
//! already holds is replaced by the dictionary's copy, so every row, and the dictionary,
//! share one allocation per distinct user name, user agent, department or user id.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::model::{Session, Text};
use crate::query::{SortColumn, cmp_ci};

/// Text columns with a dictionary, in the order of [`TextIds`].
const COLUMNS: [SortColumn; 8] = [
    SortColumn::Username,
    SortColumn::DisplayName,
    SortColumn::Department,
    SortColumn::Organisation,
    SortColumn::UserAgent,
    SortColumn::SessionType,
    SortColumn::LoginType,
    SortColumn::ServerName,
];

/// Dictionaries kept: one per sort column, and the user id (grouping, not sorting).
const KEPT: usize = COLUMNS.len() + 1;

/// The dictionary of user ids: the per-user view groups on integers.
pub(super) const USER_ID: usize = COLUMNS.len();

/// A row's dictionary id in each kept column; [`NONE`] where the session has no value.
pub(super) type TextIds = [u32; KEPT];

pub(super) const NONE: u32 = u32::MAX;

/// A dictionary this large with more than half its values unused is rebuilt.
const COMPACT_AFTER: usize = 4096;

/// Tenant-supplied keys: a seeded hasher, fast but not open to crafted collisions.
pub(super) type Hasher = foldhash::fast::RandomState;

fn value(s: &Session, column: usize) -> Option<&Text> {
    match column {
        0 => Some(&s.username),
        1 => s.display_name.as_ref(),
        2 => s.department.as_ref(),
        3 => s.organisation.as_ref(),
        4 => s.user_agent.as_ref(),
        5 => s.session_type.as_ref(),
        6 => s.login_type.as_ref(),
        7 => s.server_name.as_ref(),
        USER_ID => Some(&s.user_id),
        _ => None,
    }
}

fn value_mut(s: &mut Session, column: usize) -> Option<&mut Text> {
    match column {
        0 => Some(&mut s.username),
        1 => s.display_name.as_mut(),
        2 => s.department.as_mut(),
        3 => s.organisation.as_mut(),
        4 => s.user_agent.as_mut(),
        5 => s.session_type.as_mut(),
        6 => s.login_type.as_mut(),
        7 => s.server_name.as_mut(),
        USER_ID => Some(&mut s.user_id),
        _ => None,
    }
}

/// The dictionary index of a sort column, if it has one. Every text column but the
/// tenant (a handful of values) and the id (unique, compared directly) has one.
pub(super) fn column_of(col: SortColumn) -> Option<usize> {
    COLUMNS.iter().position(|c| *c == col)
}

#[derive(Default)]
struct Sorted {
    /// Ids in the column's order (case-insensitive), covering ids `0..order.len()`.
    order: Vec<u32>,
    /// Id → rank; equal values (ignoring ASCII case) share a rank.
    ranks: Arc<Vec<u32>>,
}

#[derive(Default)]
struct Dict {
    ids: HashMap<Text, u32, Hasher>,
    values: Vec<Text>,
    /// Rows holding each id.
    refs: Vec<u32>,
    unused: usize,
    sorted: Mutex<Sorted>,
}

impl Dict {
    /// The value's id, and the dictionary's own copy of it when `v` is another one.
    fn intern(&mut self, v: &Text) -> (u32, Option<Text>) {
        if let Some((known, &id)) = self.ids.get_key_value(&**v) {
            let refs = &mut self.refs[id as usize];
            if *refs == 0 {
                self.unused -= 1;
            }
            *refs += 1;
            return (id, (!Arc::ptr_eq(known, v)).then(|| Text::clone(known)));
        }
        let id = u32::try_from(self.values.len()).unwrap_or(NONE - 1);
        self.ids.insert(Text::clone(v), id);
        self.values.push(Text::clone(v));
        self.refs.push(1);
        (id, None)
    }

    fn release(&mut self, id: u32) {
        if let Some(refs) = self.refs.get_mut(id as usize)
            && *refs > 0
        {
            *refs -= 1;
            if *refs == 0 {
                self.unused += 1;
            }
        }
    }

    fn wasteful(&self) -> bool {
        self.values.len() > COMPACT_AFTER && self.unused * 2 > self.values.len()
    }

    /// Id → rank for every id, merging values added since the last call into the order.
    fn ranks(&self) -> Arc<Vec<u32>> {
        let mut sorted = self
            .sorted
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if sorted.order.len() == self.values.len() {
            return Arc::clone(&sorted.ranks);
        }
        let cmp = |a: &u32, b: &u32| cmp_ci(&self.values[*a as usize], &self.values[*b as usize]);
        let first_new = u32::try_from(sorted.order.len()).unwrap_or(NONE);
        let mut new: Vec<u32> =
            (first_new..u32::try_from(self.values.len()).unwrap_or(NONE)).collect();
        new.sort_unstable_by(cmp);
        let old = std::mem::take(&mut sorted.order);
        let mut order = Vec::with_capacity(old.len() + new.len());
        let (mut i, mut j) = (0, 0);
        while i < old.len() && j < new.len() {
            if cmp(&new[j], &old[i]) == Ordering::Less {
                order.push(new[j]);
                j += 1;
            } else {
                order.push(old[i]);
                i += 1;
            }
        }
        order.extend_from_slice(&old[i..]);
        order.extend_from_slice(&new[j..]);
        let mut ranks = vec![0u32; self.values.len()];
        let mut rank = 0u32;
        for (k, id) in order.iter().enumerate() {
            if k > 0 && cmp(&order[k - 1], id) != Ordering::Equal {
                rank += 1;
            }
            ranks[*id as usize] = rank;
        }
        sorted.order = order;
        sorted.ranks = Arc::new(ranks);
        Arc::clone(&sorted.ranks)
    }
}

/// One dictionary per text column, shared by every tenant of the store, and how the
/// store's rows keep their search text.
#[derive(Default)]
pub(super) struct Dicts {
    columns: [Dict; KEPT],
    pub(super) search: SearchText,
}

/// Whether rows keep their global-search text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SearchText {
    /// Built once per change, scanned on every keystroke: a live view.
    #[default]
    Kept,
    /// Built for a row only while a query searches: a store that answers one query (the
    /// CLI's listing) saves a copy of every row's text.
    OnDemand,
}

impl Dicts {
    /// The ids of a session's values, counting the row as a holder of each; a value the
    /// dictionary knows is replaced by its copy (one allocation for every row).
    pub(super) fn intern(&mut self, s: &mut Session) -> TextIds {
        let mut ids = [NONE; KEPT];
        for (c, id) in ids.iter_mut().enumerate() {
            if let Some(v) = value_mut(s, c) {
                let (known, shared) = self.columns[c].intern(v);
                *id = known;
                if let Some(shared) = shared {
                    *v = shared;
                }
            }
        }
        ids
    }

    /// The ids of a session that is shared already (left as it is).
    fn intern_as_is(&mut self, s: &Session) -> TextIds {
        let mut ids = [NONE; KEPT];
        for (c, id) in ids.iter_mut().enumerate() {
            if let Some(v) = value(s, c) {
                *id = self.columns[c].intern(v).0;
            }
        }
        ids
    }

    /// A row left the store.
    pub(super) fn release(&mut self, ids: &TextIds) {
        for (c, id) in ids.iter().enumerate() {
            if *id != NONE {
                self.columns[c].release(*id);
            }
        }
    }

    /// Id → rank in the column's order.
    pub(super) fn ranks(&self, column: usize) -> Arc<Vec<u32>> {
        self.columns
            .get(column)
            .map(Dict::ranks)
            .unwrap_or_default()
    }

    /// Whether values no row holds take up most of a dictionary.
    pub(super) fn wasteful(&self) -> bool {
        self.columns.iter().any(Dict::wasteful)
    }

    /// Starts over from the rows that remain: `rows` yields every row's session and ids,
    /// which are rewritten.
    pub(super) fn rebuild<'a>(
        &mut self,
        rows: impl Iterator<Item = (&'a Session, &'a mut TextIds)>,
    ) {
        *self = Self {
            search: self.search,
            ..Self::default()
        };
        for (s, ids) in rows {
            *ids = self.intern_as_is(s);
        }
    }

    /// Values a column's dictionary keeps, held by rows or not, for tests.
    #[cfg(test)]
    pub(super) fn kept(&self, column: usize) -> usize {
        self.columns[column].values.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Dict {
        fn id(&mut self, v: &str) -> u32 {
            self.intern(&Text::from(v)).0
        }
    }

    fn dict_with(values: &[&str]) -> (Dict, Vec<u32>) {
        let mut d = Dict::default();
        let ids = values.iter().map(|v| d.id(v)).collect();
        (d, ids)
    }

    #[test]
    fn a_known_value_comes_back_as_the_dictionary_copy() {
        let mut d = Dict::default();
        let first = Text::from("Firefox/128");
        assert!(d.intern(&first).1.is_none(), "a new value is kept as given");
        let copy = Text::from("Firefox/128");
        let (_, shared) = d.intern(&copy);
        assert!(shared.is_some_and(|s| Arc::ptr_eq(&s, &first)));
        assert!(
            d.intern(&first).1.is_none(),
            "the same copy needs no replacing"
        );
        assert_eq!(d.values.len(), 1);
    }

    #[test]
    fn ranks_follow_case_insensitive_order_and_merge_new_values() {
        let (mut d, ids) = dict_with(&["mike", "Anna", "zoe", "anna"]);
        let r = d.ranks();
        assert_eq!(
            r[ids[1] as usize], r[ids[3] as usize],
            "Anna and anna share a rank"
        );
        assert!(r[ids[1] as usize] < r[ids[0] as usize]);
        assert!(r[ids[0] as usize] < r[ids[2] as usize]);
        // New values land between the known ones.
        let (bob, zulu) = (d.id("bob"), d.id("Zulu"));
        let r = d.ranks();
        let rank = |id: u32| r[id as usize];
        assert!(rank(ids[1]) < rank(bob) && rank(bob) < rank(ids[0]));
        assert!(rank(ids[2]) < rank(zulu));
        assert_eq!(r.len(), 6);
    }

    #[test]
    fn repeated_values_share_an_id_and_count_their_rows() {
        let (mut d, ids) = dict_with(&["a", "b", "a"]);
        assert_eq!(ids[0], ids[2]);
        d.release(ids[0]);
        assert_eq!(d.unused, 0, "one row still holds a");
        d.release(ids[0]);
        d.release(ids[1]);
        assert_eq!(d.unused, 2);
        // A value coming back is in use again.
        assert_eq!(d.id("b"), ids[1]);
        assert_eq!(d.unused, 1);
    }

    #[test]
    fn a_dictionary_of_mostly_unused_values_is_wasteful() {
        let mut d = Dict::default();
        let ids: Vec<u32> = (0..5000).map(|i| d.id(&format!("ua-{i}"))).collect();
        assert!(!d.wasteful());
        for id in &ids[..3000] {
            d.release(*id);
        }
        assert!(d.wasteful());
    }
}
