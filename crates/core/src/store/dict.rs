//! Order dictionaries for the store's text columns.
//!
//! Every distinct value of a column gets a small id when a row enters the store. A query
//! sorting on the column turns ids into ranks (positions in the column's order) with one
//! array lookup per row, instead of hashing or comparing 100,000 strings. The rank table
//! is brought up to date by the first query after new values appeared: the new values are
//! sorted and merged into the known order, so a poll that brings a few new user agents
//! costs a merge, not a sort of every value.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::model::Session;
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

fn value(s: &Session, column: usize) -> Option<&str> {
    match column {
        0 => Some(s.username.as_str()),
        1 => s.display_name.as_deref(),
        2 => s.department.as_deref(),
        3 => s.organisation.as_deref(),
        4 => s.user_agent.as_deref(),
        5 => s.session_type.as_deref(),
        6 => s.login_type.as_deref(),
        7 => s.server_name.as_deref(),
        USER_ID => Some(s.user_id.as_str()),
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
    ids: HashMap<Box<str>, u32, Hasher>,
    values: Vec<Box<str>>,
    /// Rows holding each id.
    refs: Vec<u32>,
    unused: usize,
    sorted: Mutex<Sorted>,
}

impl Dict {
    fn intern(&mut self, v: &str) -> u32 {
        if let Some(&id) = self.ids.get(v) {
            let refs = &mut self.refs[id as usize];
            if *refs == 0 {
                self.unused -= 1;
            }
            *refs += 1;
            return id;
        }
        let id = u32::try_from(self.values.len()).unwrap_or(NONE - 1);
        self.ids.insert(v.into(), id);
        self.values.push(v.into());
        self.refs.push(1);
        id
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

/// One dictionary per text column, shared by every tenant of the store.
#[derive(Default)]
pub(super) struct Dicts {
    columns: [Dict; KEPT],
}

impl Dicts {
    /// The ids of a session's values, counting the row as a holder of each.
    pub(super) fn intern(&mut self, s: &Session) -> TextIds {
        let mut ids = [NONE; KEPT];
        for (c, id) in ids.iter_mut().enumerate() {
            if let Some(v) = value(s, c) {
                *id = self.columns[c].intern(v);
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
        *self = Self::default();
        for (s, ids) in rows {
            *ids = self.intern(s);
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

    fn dict_with(values: &[&str]) -> (Dict, Vec<u32>) {
        let mut d = Dict::default();
        let ids = values.iter().map(|v| d.intern(v)).collect();
        (d, ids)
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
        let (bob, zulu) = (d.intern("bob"), d.intern("Zulu"));
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
        assert_eq!(d.intern("b"), ids[1]);
        assert_eq!(d.unused, 1);
    }

    #[test]
    fn a_dictionary_of_mostly_unused_values_is_wasteful() {
        let mut d = Dict::default();
        let ids: Vec<u32> = (0..5000).map(|i| d.intern(&format!("ua-{i}"))).collect();
        assert!(!d.wasteful());
        for id in &ids[..3000] {
            d.release(*id);
        }
        assert!(d.wasteful());
    }
}
