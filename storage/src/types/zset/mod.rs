//! [`ZSet`]: sorted sets (redis-server's t_zset.c data side), also the storage of geo sets.
//!
//! Two encodings, as Redis 7.0 has them:
//!
//! * **packed** (`listpack`, [`packed`]): members and scores in one buffer in (score,
//!   member) order, whole-number scores as differences, held inline in the keyspace entry;
//! * **tree** (`skiplist`, [`tree::ZTree`]): an order-statistic B+tree over one node per
//!   member, with a member index: O(log n) insert, delete, rank and range bounds, O(1)
//!   score lookups.
//!
//! A sorted set starts packed and converts once it would hold more than
//! `zset-max-listpack-entries` members or is given a member longer than
//! `zset-max-listpack-value` bytes (checked before the insert, as redis-server's
//! `zsetAdd` does); it never converts back, except that a set built whole by a command
//! (ZUNIONSTORE, ZRANGESTORE, GEOSEARCHSTORE…) gets the encoding its size calls for, as
//! redis-server's `zsetConvertToListpackIfNeeded` gives it ([`ZSet::build`]).
//!
//! Both encodings answer the same read interface, [`ZSetRef`]: ranks, scores, ordered
//! iteration from a rank either way, and `partition`, the number of members before a bound,
//! from which every score and lex range is a rank interval.

pub mod btree;
pub mod packed;
pub mod score;
pub mod tree;

use super::{Collection, Thresholds, PACKED_INLINE_MAX};
use crate::keyspace::entry::{kind, Kind, ValueType};
pub use packed::{ZPacked, ZPackedRef};
pub use tree::ZTree;

/// A sorted set value; see the module doc.
#[derive(Clone, Debug)]
pub enum ZSet {
    /// Members and scores alternating, small.
    Packed(ZPacked),
    /// The B+tree and member index.
    Tree(ZTree),
}

impl Default for ZSet {
    fn default() -> Self {
        ZSet::new()
    }
}

/// A read-only view of a sorted set, wherever it is held.
#[derive(Clone, Copy)]
pub enum ZSetRef<'a> {
    /// The packed encoding.
    Packed(ZPackedRef<'a>),
    /// The tree encoding.
    Tree(&'a ZTree),
}

impl ZSet {
    /// An empty sorted set (packed).
    pub fn new() -> Self {
        ZSet::Packed(ZPacked::new())
    }

    /// A read view.
    pub fn view(&self) -> ZSetRef<'_> {
        match self {
            ZSet::Packed(p) => ZSetRef::Packed(p.view()),
            ZSet::Tree(t) => ZSetRef::Tree(t),
        }
    }

    /// Builds a set from sorted, distinct `(member, score)` pairs, in the encoding
    /// redis-server gives a set built whole: packed if it has at most
    /// `zset-max-listpack-entries` members, none longer than `zset-max-listpack-value`.
    pub fn build<M: AsRef<[u8]>>(items: &[(M, f64)], t: &Thresholds) -> ZSet {
        let longest = items.iter().map(|(m, _)| m.as_ref().len()).max();
        if items.len() > t.zset_max_listpack_entries
            || longest.unwrap_or(0) > t.zset_max_listpack_value
        {
            let mut z = ZTree::new();
            z.reserve(items.len());
            for (m, s) in items {
                z.insert(m.as_ref(), *s);
            }
            ZSet::Tree(z)
        } else {
            ZSet::Packed(ZPacked::from_sorted(items))
        }
    }

    /// Converts to the tree encoding (ZADD on a new key converts at once when
    /// `zset-max-listpack-entries` is 0 or the first member is too long for packing).
    pub fn convert(&mut self) {
        let ZSet::Packed(p) = self else {
            return;
        };
        let mut z = ZTree::new();
        z.reserve(p.view().len());
        for (_, m, s) in p.view().pairs() {
            z.insert(m, s);
        }
        *self = ZSet::Tree(z);
    }

    /// Adds `member`, which must be absent, converting first if the set would pass a
    /// threshold.
    pub fn insert(&mut self, member: &[u8], score: f64, t: &Thresholds) {
        if let ZSet::Packed(p) = self {
            if p.view().len() + 1 > t.zset_max_listpack_entries
                || member.len() > t.zset_max_listpack_value
            {
                self.convert();
            }
        }
        match self {
            ZSet::Packed(p) => p.insert(member, score),
            ZSet::Tree(z) => z.insert(member, score),
        }
    }

    /// Sets the score of `member` (present) to `score`.
    pub fn update(&mut self, member: &[u8], score: f64) {
        match self {
            ZSet::Packed(p) => {
                if p.remove(member).is_some() {
                    p.insert(member, score);
                }
            }
            ZSet::Tree(z) => z.update(member, score),
        }
    }

    /// Removes `member`; its score if it was there.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        match self {
            ZSet::Packed(p) => p.remove(member),
            ZSet::Tree(z) => z.remove(member),
        }
    }

    /// Removes the members of ranks `start..end`; returns how many.
    pub fn remove_ranks(&mut self, start: usize, end: usize) -> usize {
        let end = end.min(self.len());
        if start >= end {
            return 0;
        }
        match self {
            ZSet::Packed(p) => {
                p.remove_ranks(start, end - start);
                end - start
            }
            ZSet::Tree(z) => z.remove_ranks(start, end),
        }
    }

    /// Removes and returns the first (or, `last`, the last) member and its score.
    pub fn pop(&mut self, last: bool) -> Option<(Vec<u8>, f64)> {
        let len = self.len();
        if len == 0 {
            return None;
        }
        let (m, s) = self.view().get(if last { len - 1 } else { 0 })?;
        let m = m.to_vec();
        self.remove(&m);
        Some((m, s))
    }

    /// Periodic upkeep.
    pub fn maintain(&mut self) {
        if let ZSet::Tree(z) = self {
            z.maintain();
        }
    }
}

/// Members and scores in order (or reverse order) from a rank.
pub enum RangeIter<'a> {
    /// Forward over packed pairs.
    Packed(packed::Pairs<'a>),
    /// Backward over packed pairs: the pairs still to visit, last first.
    PackedRev(Vec<(&'a [u8], f64)>),
    /// Over the tree, either way.
    Tree(tree::Iter<'a>),
}

impl<'a> Iterator for RangeIter<'a> {
    type Item = (&'a [u8], f64);
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            RangeIter::Packed(it) => it.next().map(|(_, m, s)| (m, s)),
            RangeIter::PackedRev(pairs) => pairs.pop(),
            RangeIter::Tree(it) => it.next(),
        }
    }
}

impl<'a> ZSetRef<'a> {
    /// Number of members.
    pub fn len(&self) -> usize {
        match self {
            ZSetRef::Packed(p) => p.len(),
            ZSetRef::Tree(z) => z.len(),
        }
    }

    /// True if there are no members.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The score of `member`.
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            ZSetRef::Packed(p) => p.find(member).map(|(_, _, s)| s),
            ZSetRef::Tree(z) => z.score(member),
        }
    }

    /// The 0-based rank of `member` in (score, member) order.
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        match self {
            ZSetRef::Packed(p) => p.pairs().position(|(_, m, _)| m == member),
            ZSetRef::Tree(z) => z.rank(member),
        }
    }

    /// The member and score of rank `rank`.
    pub fn get(&self, rank: usize) -> Option<(&'a [u8], f64)> {
        match self {
            ZSetRef::Packed(p) => p.pairs().nth(rank).map(|(_, m, s)| (m, s)),
            ZSetRef::Tree(z) => z.get(rank),
        }
    }

    /// How many members, from the first, satisfy `pred`. `pred` must hold for a prefix
    /// of the order, as "below a bound" does; the packed encoding walks it, the tree
    /// descends in O(log n).
    pub fn partition(&self, pred: impl Fn(f64, &[u8]) -> bool) -> usize {
        match self {
            ZSetRef::Packed(p) => p.pairs().take_while(|(_, m, s)| pred(*s, m)).count(),
            ZSetRef::Tree(z) => z.partition(pred),
        }
    }

    /// Members and scores from rank `rank` on.
    pub fn iter_from(&self, rank: usize) -> RangeIter<'a> {
        match self {
            ZSetRef::Packed(p) => {
                let mut it = p.pairs();
                if rank > 0 {
                    it.nth(rank - 1);
                }
                RangeIter::Packed(it)
            }
            ZSetRef::Tree(z) => RangeIter::Tree(z.iter_from(rank)),
        }
    }

    /// Members and scores from rank `rank` down to the first.
    pub fn iter_rev_from(&self, rank: usize) -> RangeIter<'a> {
        match self {
            ZSetRef::Packed(p) => {
                let pairs = if rank < self.len() {
                    p.pairs().take(rank + 1).map(|(_, m, s)| (m, s)).collect()
                } else {
                    Vec::new()
                };
                RangeIter::PackedRev(pairs)
            }
            ZSetRef::Tree(z) => RangeIter::Tree(z.iter_rev_from(rank)),
        }
    }

    /// Every member and score in order.
    pub fn iter(&self) -> RangeIter<'a> {
        self.iter_from(0)
    }

    /// One ZSCAN step from `cursor`: the packed encoding returns everything at once
    /// (cursor 0), as redis-server does for listpacks.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&'a [u8], f64)) -> u64 {
        match self {
            ZSetRef::Packed(_) => {
                for (m, s) in self.iter() {
                    f(m, s);
                }
                0
            }
            ZSetRef::Tree(z) => z.scan(cursor, f),
        }
    }

    /// True for the packed encoding.
    pub fn is_packed(&self) -> bool {
        matches!(self, ZSetRef::Packed(_))
    }
}

impl Collection for ZSet {
    fn len(&self) -> usize {
        self.view().len()
    }

    fn heap_bytes(&self) -> usize {
        match self {
            ZSet::Packed(p) => p.heap_bytes(),
            ZSet::Tree(z) => z.heap_bytes(),
        }
    }

    fn encoding(&self) -> &'static str {
        match self {
            ZSet::Packed(_) => "listpack",
            ZSet::Tree(_) => "skiplist",
        }
    }
}

impl Kind for ZSet {
    const TYPE: ValueType = ValueType::ZSet;
    const BOXED: u8 = kind::ZSET;
    type Ref<'a> = ZSetRef<'a>;

    fn is_inline_kind(k: u8) -> bool {
        k == kind::ZSET_PACKED
    }

    fn inline_ref(_k: u8, bytes: &[u8]) -> ZSetRef<'_> {
        ZSetRef::Packed(ZPackedRef::new(bytes))
    }

    fn as_ref(&self) -> ZSetRef<'_> {
        self.view()
    }

    fn from_inline(_k: u8, bytes: &[u8]) -> Self {
        ZSet::Packed(ZPacked::from_bytes(bytes))
    }

    fn as_inline(&self) -> Option<(u8, &[u8])> {
        match self {
            ZSet::Packed(p) if p.bytes().len() <= PACKED_INLINE_MAX => {
                Some((kind::ZSET_PACKED, p.bytes()))
            }
            _ => None,
        }
    }
}

/// Elements of an inline value.
pub(crate) fn inline_len(_k: u8, bytes: &[u8]) -> usize {
    ZPackedRef::new(bytes).len()
}

#[cfg(test)]
mod tests;
