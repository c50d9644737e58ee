//! The packed encoding of sorted sets (`OBJECT ENCODING` says `listpack`): members and
//! scores alternating in one [`Packed`] sequence, in (score, member) order, held inline in
//! the keyspace entry. Scores use the compact codec of [`super::score`].
//!
//! Every operation is a linear walk, as on redis-server's listpack, over at most
//! `zset-max-listpack-entries` (128) pairs.

use std::cmp::Ordering;

use super::score;
use crate::types::listpack::{Packed, PackedRef};

/// (score, member) order.
#[inline]
pub fn cmp(a_score: f64, a_member: &[u8], b_score: f64, b_member: &[u8]) -> Ordering {
    match a_score.partial_cmp(&b_score) {
        Some(Ordering::Equal) | None => a_member.cmp(b_member),
        Some(o) => o,
    }
}

/// Iterator over (position, member, score).
pub struct Pairs<'a> {
    p: PackedRef<'a>,
    pos: usize,
}

impl<'a> Iterator for Pairs<'a> {
    type Item = (usize, &'a [u8], f64);
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.p.end() {
            return None;
        }
        let at = self.pos;
        let (m, next) = self.p.at(at);
        let (s, after) = self.p.at(next);
        self.pos = after;
        Some((at, m, score::decode(s)))
    }
}

/// Every pair with its position.
pub fn pairs(p: PackedRef<'_>) -> Pairs<'_> {
    Pairs {
        p,
        pos: p.first(),
    }
}

/// Number of members.
pub fn len(p: PackedRef<'_>) -> usize {
    p.len() / 2
}

/// The position and score of `member`.
pub fn find(p: PackedRef<'_>, member: &[u8]) -> Option<(usize, f64)> {
    pairs(p)
        .find(|(_, m, _)| *m == member)
        .map(|(pos, _, s)| (pos, s))
}

/// Inserts `member` (absent) with `score` at its place in the order.
pub fn insert(p: &mut Packed, member: &[u8], score: f64) {
    let pos = pairs(p.view())
        .find(|(_, m, s)| cmp(*s, m, score, member) == Ordering::Greater)
        .map_or(p.view().end(), |(pos, _, _)| pos);
    let (b, n) = score::encode(score);
    p.insert_at(pos, &[member, &b[..n]]);
}

/// Removes the pair at `pos`.
pub fn remove_at(p: &mut Packed, pos: usize) {
    p.remove_at(pos, 2);
}

/// The position of the pair of rank `rank`, or the end.
pub fn position(p: PackedRef<'_>, rank: usize) -> usize {
    pairs(p).nth(rank).map_or(p.end(), |(pos, _, _)| pos)
}
