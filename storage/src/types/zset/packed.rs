//! The packed encoding of sorted sets (`OBJECT ENCODING` says `listpack`): members and
//! scores in (score, member) order in one buffer, held inline in the keyspace entry.
//!
//! ```text
//! ┌───────────┬──────────────────────────┬────────┬─────────────┬───
//! │ count u32 │ header varint            │ member │ score bytes │ …
//! │           │ (member length << 3)|code│        │             │
//! └───────────┴──────────────────────────┴────────┴─────────────┴───
//! ```
//!
//! Scores are sorted, so whole-number scores are stored as the difference from the
//! previous member's score: `code` 0–6 is a little-endian two's-complement difference of
//! that many bytes (0 bytes: the same score as the previous member, as ties and equal
//! scores are common), added to the previous score if that is a whole number below 2⁵³
//! (else to 0); `code` 7 is the IEEE-754 bits. A member of up to 15 bytes with a score a
//! few thousand above the previous one costs its bytes plus 3, where redis-server's
//! listpack spends 4 to 6 (two entries of encoding byte and back-length). Every double
//! round-trips exactly except `-0`, which becomes `0`, as in redis-server's listpack.
//!
//! Reading is a forward walk that carries the previous score, which every operation does
//! anyway (as on redis-server's listpack, over at most `zset-max-listpack-entries` pairs);
//! inserting or removing a pair re-encodes the score of the pair after it.

use crate::types::varint::{self, write as write_varint};
use std::cmp::Ordering;

/// Bytes of the count header.
const HEADER: usize = 4;
/// Score code: the raw eight bytes of the double.
const RAW: u8 = 7;
/// Whole numbers below this magnitude are exact in a double and stored as differences.
const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53

/// (score, member) order.
#[inline]
pub fn cmp(a_score: f64, a_member: &[u8], b_score: f64, b_member: &[u8]) -> Ordering {
    match a_score.partial_cmp(&b_score) {
        Some(Ordering::Equal) | None => a_member.cmp(b_member),
        Some(o) => o,
    }
}

/// The base the next score is stored against: this score if it is a whole number below
/// 2⁵³, else 0.
#[inline]
fn base_after(score: f64) -> i64 {
    if score.fract() == 0.0 && score.abs() < EXACT {
        score as i64
    } else {
        0
    }
}

#[inline]
fn read_varint(buf: &[u8], pos: usize) -> (usize, usize) {
    let (v, used) = varint::read(buf, pos);
    (v, pos + used)
}

/// Appends the encoding of a pair whose previous score's base is `base`.
fn encode_pair(out: &mut Vec<u8>, member: &[u8], score: f64, base: i64) {
    let score = if score == 0.0 { 0.0 } else { score };
    let mut code = RAW;
    let mut bytes = score.to_le_bytes();
    if score.fract() == 0.0 && score.abs() < EXACT {
        let d = (score as i64).wrapping_sub(base);
        // The fewest bytes (up to six) whose sign extension gives the difference back.
        let mut n = 0u8;
        while n < 7 {
            let fits = if n == 0 {
                d == 0
            } else {
                let shift = 64 - 8 * u32::from(n);
                (d << shift) >> shift == d
            };
            if fits {
                break;
            }
            n += 1;
        }
        if n < 7 {
            code = n;
            bytes = d.to_le_bytes();
        }
    }
    write_varint(out, (member.len() << 3) | usize::from(code));
    out.extend_from_slice(member);
    let n = if code == RAW { 8 } else { usize::from(code) };
    out.extend_from_slice(&bytes[..n]);
}

/// Decodes the pair at `pos` (previous base `base`): member, score, position after it.
#[inline]
fn decode_at(buf: &[u8], pos: usize, base: i64) -> (&[u8], f64, usize) {
    let (hdr, at) = read_varint(buf, pos);
    let mlen = hdr >> 3;
    let code = (hdr & 7) as u8;
    let mend = (at + mlen).min(buf.len());
    let member = &buf[at.min(mend)..mend];
    let n = if code == RAW { 8 } else { usize::from(code) };
    let send = (mend + n).min(buf.len());
    let sb = &buf[mend..send];
    let score = if code == RAW {
        let mut b = [0u8; 8];
        b[..sb.len()].copy_from_slice(sb);
        f64::from_le_bytes(b)
    } else if n == 0 {
        base as f64
    } else {
        let mut b = [0u8; 8];
        b[..sb.len()].copy_from_slice(sb);
        let shift = 64 - 8 * n as u32;
        let d = (i64::from_le_bytes(b) << shift) >> shift;
        base.wrapping_add(d) as f64
    };
    (member, score, send)
}

/// A read-only view of packed sorted set bytes.
#[derive(Clone, Copy)]
pub struct ZPackedRef<'a> {
    buf: &'a [u8],
}

impl<'a> ZPackedRef<'a> {
    /// Views bytes written by [`ZPacked`].
    pub fn new(buf: &'a [u8]) -> Self {
        ZPackedRef { buf }
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        match self.buf.get(..HEADER) {
            Some(h) => u32::from_le_bytes([h[0], h[1], h[2], h[3]]) as usize,
            None => 0,
        }
    }

    /// True if empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every pair in order, with its position and the base before it.
    pub fn pairs(&self) -> Pairs<'a> {
        Pairs {
            buf: self.buf,
            pos: HEADER,
            base: 0,
        }
    }

    /// The pair of `member`: its position, the base before it, its score.
    pub fn find(&self, member: &[u8]) -> Option<(usize, i64, f64)> {
        let mut it = self.pairs();
        loop {
            let (pos, base) = (it.pos, it.base);
            let (_, m, s) = it.next()?;
            if m == member {
                return Some((pos, base, s));
            }
        }
    }

    /// Position and base of the pair of rank `rank` (or the end).
    fn seek(&self, rank: usize) -> (usize, i64) {
        let mut it = self.pairs();
        for _ in 0..rank {
            if it.next().is_none() {
                break;
            }
        }
        (it.pos, it.base)
    }
}

/// Iterator over (position, member, score).
#[derive(Clone)]
pub struct Pairs<'a> {
    buf: &'a [u8],
    pos: usize,
    base: i64,
}

impl<'a> Iterator for Pairs<'a> {
    type Item = (usize, &'a [u8], f64);
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.buf.len() {
            return None;
        }
        let at = self.pos;
        let (m, s, next) = decode_at(self.buf, at, self.base);
        self.pos = next;
        self.base = base_after(s);
        Some((at, m, s))
    }
}

/// An owned packed sorted set, edited in place.
#[derive(Clone, PartialEq, Eq)]
pub struct ZPacked {
    buf: Vec<u8>,
}

impl Default for ZPacked {
    fn default() -> Self {
        ZPacked::new()
    }
}

impl std::fmt::Debug for ZPacked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(
                self.view()
                    .pairs()
                    .map(|(_, m, s)| (String::from_utf8_lossy(m), s)),
            )
            .finish()
    }
}

impl ZPacked {
    /// An empty set.
    pub fn new() -> Self {
        ZPacked {
            buf: vec![0; HEADER],
        }
    }

    /// A copy of packed bytes (from [`ZPacked::bytes`] or an entry).
    pub fn from_bytes(bytes: &[u8]) -> Self {
        if bytes.len() < HEADER {
            return ZPacked::new();
        }
        let mut buf = Vec::with_capacity(bytes.len());
        buf.extend_from_slice(bytes);
        ZPacked { buf }
    }

    /// Builds from sorted, distinct pairs.
    pub fn from_sorted<M: AsRef<[u8]>>(items: &[(M, f64)]) -> Self {
        let mut buf = Vec::with_capacity(HEADER + items.len() * 12);
        buf.extend_from_slice(&(items.len() as u32).to_le_bytes());
        let mut base = 0;
        for (m, s) in items {
            encode_pair(&mut buf, m.as_ref(), *s, base);
            base = base_after(if *s == 0.0 { 0.0 } else { *s });
        }
        ZPacked { buf }
    }

    /// The bytes, to store elsewhere.
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// A read view.
    pub fn view(&self) -> ZPackedRef<'_> {
        ZPackedRef { buf: &self.buf }
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.buf.capacity()
    }

    fn add_count(&mut self, delta: isize) {
        let n = (self.view().len() as isize + delta).max(0) as u32;
        self.buf[..HEADER].copy_from_slice(&n.to_le_bytes());
    }

    /// Replaces `pos..end` with `new` followed by the pair at `end` (if any, stored
    /// against `old_base`) re-encoded against `next_base`.
    fn splice_reencoding(
        &mut self,
        (pos, end): (usize, usize),
        mut new: Vec<u8>,
        old_base: i64,
        next_base: i64,
    ) {
        let mut stop = end;
        if end < self.buf.len() {
            let (m, s, after) = decode_at(&self.buf, end, old_base);
            encode_pair(&mut new, m, s, next_base);
            stop = after;
        }
        super::super::listpack::grow(&mut self.buf, new.len().saturating_sub(stop - pos));
        self.buf.splice(pos..stop, new);
    }

    /// Inserts `member` (absent) with `score` at its place in the order.
    pub fn insert(&mut self, member: &[u8], score: f64) {
        let score = if score == 0.0 { 0.0 } else { score };
        let mut it = self.view().pairs();
        let (mut pos, mut base) = (it.pos, it.base);
        while let Some((_, m, s)) = it.next() {
            if cmp(s, m, score, member) == Ordering::Greater {
                break;
            }
            pos = it.pos;
            base = it.base;
        }
        let mut new = Vec::with_capacity(member.len() + 12);
        encode_pair(&mut new, member, score, base);
        self.splice_reencoding((pos, pos), new, base, base_after(score));
        self.add_count(1);
    }

    /// Removes the pair of `member`; its score if it was there.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let (pos, base, score) = self.view().find(member)?;
        let (_, _, end) = decode_at(&self.buf, pos, base);
        self.splice_reencoding((pos, end), Vec::new(), base_after(score), base);
        self.add_count(-1);
        Some(score)
    }

    /// Removes `n` pairs from rank `start`.
    pub fn remove_ranks(&mut self, start: usize, n: usize) {
        let (pos, base) = self.view().seek(start);
        let mut it = Pairs {
            buf: &self.buf,
            pos,
            base,
        };
        let mut removed = 0;
        while removed < n && it.next().is_some() {
            removed += 1;
        }
        let (end, old_base) = (it.pos, it.base);
        self.splice_reencoding((pos, end), Vec::new(), old_base, base);
        self.add_count(-(removed as isize));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_round_trip_and_pack_small() {
        let mut p = ZPacked::new();
        let scores = [
            5.0,
            -3.0,
            1e15,
            -1e15,
            1.5,
            f64::INFINITY,
            f64::NEG_INFINITY,
            9_007_199_254_740_993.0,
            -0.0,
            0.1,
            7.0,
            7.0,
        ];
        for (i, s) in scores.iter().enumerate() {
            p.insert(format!("m{i}").as_bytes(), *s);
        }
        let mut want: Vec<(f64, String)> = scores
            .iter()
            .enumerate()
            .map(|(i, s)| (if *s == 0.0 { 0.0 } else { *s }, format!("m{i}")))
            .collect();
        want.sort_by(|a, b| cmp(a.0, a.1.as_bytes(), b.0, b.1.as_bytes()));
        let got: Vec<(f64, String)> = p
            .view()
            .pairs()
            .map(|(_, m, s)| (s, String::from_utf8_lossy(m).into_owned()))
            .collect();
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(g.0.to_bits(), w.0.to_bits());
            assert_eq!(g.1, w.1);
        }
        // Removing re-encodes the next score against the new neighbour.
        assert_eq!(p.remove(b"m1"), Some(-3.0));
        assert_eq!(p.remove(b"m8"), Some(0.0));
        p.remove_ranks(2, 3);
        assert_eq!(p.view().len(), scores.len() - 5);
        let again = ZPacked::from_sorted(
            &p.view()
                .pairs()
                .map(|(_, m, s)| (m.to_vec(), s))
                .collect::<Vec<_>>(),
        );
        assert_eq!(again, p);
        // Three bytes a member of up to 15 bytes with a close score.
        let mut q = ZPacked::new();
        for i in 0..100 {
            q.insert(format!("member:{i}").as_bytes(), f64::from(i * 1000));
        }
        assert!(
            q.bytes().len() < HEADER + 100 * (9 + 3),
            "{}",
            q.bytes().len()
        );
    }
}
