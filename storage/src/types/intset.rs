//! A sorted set of distinct 64-bit integers in one buffer: the `intset` encoding of sets
//! (the role of redis-server's intset.c; the format here is cachegate's own).
//!
//! ```text
//! ┌──────────┬─────────┬─────────┬───
//! │ width u8 │ value 0 │ value 1 │ …     values little-endian, ascending
//! └──────────┴─────────┴─────────┴───
//! ```
//!
//! Every value takes the same `width` — 2, 4 or 8 bytes, the smallest that holds the widest
//! value ever added — so the `i`-th value is at a fixed offset and a lookup is a binary
//! search. Adding a value that does not fit the current width rewrites the buffer at the
//! wider one (the new value then goes at one end, being below or above everything held);
//! removing never narrows it, as in redis-server. The count is the buffer length divided by
//! the width, so the header is one byte where Redis spends eight.
//!
//! [`IntSet`] is the owned form a value is edited in; [`IntSetRef`] reads the same bytes
//! wherever they live (inside a keyspace entry, or in an `IntSet`).

/// Bytes of the width header.
pub const HEADER: usize = 1;

/// The empty set's bytes (16-bit width, no values).
pub const EMPTY: [u8; HEADER] = [2];

/// The narrowest width (2, 4 or 8 bytes) that holds `v`.
#[inline]
pub fn width_for(v: i64) -> usize {
    if i16::try_from(v).is_ok() {
        2
    } else if i32::try_from(v).is_ok() {
        4
    } else {
        8
    }
}

/// Reads a value of `width` bytes from the start of `b`.
#[inline]
fn read(b: &[u8], width: usize) -> i64 {
    match width {
        2 => i64::from(i16::from_le_bytes([b[0], b[1]])),
        4 => i64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        _ => i64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]),
    }
}

/// Appends `v` at `width` bytes (it must fit).
#[inline]
fn write(out: &mut Vec<u8>, v: i64, width: usize) {
    out.extend_from_slice(&v.to_le_bytes()[..width]);
}

/// A read-only view of intset bytes.
#[derive(Clone, Copy)]
pub struct IntSetRef<'a> {
    buf: &'a [u8],
}

impl<'a> IntSetRef<'a> {
    /// Views `buf`, which must have come from an [`IntSet`] (or be [`EMPTY`]).
    pub fn new(buf: &'a [u8]) -> Self {
        debug_assert!(!buf.is_empty());
        IntSetRef { buf }
    }

    /// The raw bytes.
    pub fn bytes(&self) -> &'a [u8] {
        self.buf
    }

    /// Bytes per value. A malformed header (these buffers are only written here) reads as
    /// the widest, which at worst reads garbage values, never out of bounds.
    #[inline]
    pub fn width(&self) -> usize {
        match self.buf.first() {
            Some(2) => 2,
            Some(4) => 4,
            _ => 8,
        }
    }

    /// Number of values.
    #[inline]
    pub fn len(&self) -> usize {
        self.buf.len().saturating_sub(HEADER) / self.width()
    }

    /// True if there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `i`-th smallest value (`i < len`).
    #[inline]
    pub fn get(&self, i: usize) -> i64 {
        let w = self.width();
        read(&self.buf[HEADER + i * w..], w)
    }

    /// `Ok(index)` of `v`, or `Err(index)` where it would be inserted.
    pub fn search(&self, v: i64) -> Result<usize, usize> {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.get(mid).cmp(&v) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Ok(mid),
            }
        }
        Err(lo)
    }

    /// True if `v` is present.
    pub fn contains(&self, v: i64) -> bool {
        // Outside the width's range it cannot be there (redis-server checks this first too).
        width_for(v) <= self.width() && self.search(v).is_ok()
    }

    /// Every value, ascending.
    pub fn iter(&self) -> Iter<'a> {
        Iter {
            set: *self,
            next: 0,
            end: self.len(),
        }
    }
}

/// Iterator over an intset's values, ascending.
pub struct Iter<'a> {
    set: IntSetRef<'a>,
    next: usize,
    end: usize,
}

impl Iterator for Iter<'_> {
    type Item = i64;
    #[inline]
    fn next(&mut self) -> Option<i64> {
        if self.next >= self.end {
            return None;
        }
        let v = self.set.get(self.next);
        self.next += 1;
        Some(v)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.end - self.next;
        (n, Some(n))
    }
}

impl ExactSizeIterator for Iter<'_> {}

/// An owned intset, edited in place.
#[derive(Clone, PartialEq, Eq)]
pub struct IntSet {
    buf: Vec<u8>,
}

impl std::fmt::Debug for IntSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.view().iter()).finish()
    }
}

impl Default for IntSet {
    fn default() -> Self {
        IntSet::new()
    }
}

impl IntSet {
    /// An empty set.
    pub fn new() -> Self {
        IntSet {
            buf: EMPTY.to_vec(),
        }
    }

    /// A copy of intset bytes (from [`IntSet::bytes`] or an entry), with room for `spare`
    /// more bytes.
    pub fn from_bytes(bytes: &[u8], spare: usize) -> Self {
        if bytes.is_empty() {
            return IntSet::new();
        }
        let mut buf = Vec::with_capacity(bytes.len() + spare);
        buf.extend_from_slice(bytes);
        IntSet { buf }
    }

    /// The bytes, to store elsewhere.
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// A read view.
    pub fn view(&self) -> IntSetRef<'_> {
        IntSetRef { buf: &self.buf }
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.view().len()
    }

    /// True if empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.buf.capacity()
    }

    /// Makes room for `n` more values at the current width.
    pub fn reserve(&mut self, n: usize) {
        self.buf.reserve(n.saturating_mul(self.view().width()));
    }

    /// Adds `v`; true if it was not there.
    pub fn insert(&mut self, v: i64) -> bool {
        let width = self.view().width();
        let need = width_for(v);
        if need > width {
            self.upgrade_and_add(v, need);
            return true;
        }
        let Err(at) = self.view().search(v) else {
            return false;
        };
        let off = HEADER + at * width;
        let old_len = self.buf.len();
        self.buf.resize(old_len + width, 0);
        self.buf.copy_within(off..old_len, off + width);
        self.buf[off..off + width].copy_from_slice(&v.to_le_bytes()[..width]);
        true
    }

    /// Rewrites every value at `width` and adds `v`, which does not fit the old width and
    /// so is below or above every value held.
    fn upgrade_and_add(&mut self, v: i64, width: usize) {
        let old = self.view();
        let mut buf = Vec::with_capacity(HEADER + (old.len() + 1) * width);
        buf.push(width as u8);
        if v < 0 {
            write(&mut buf, v, width);
        }
        for x in old.iter() {
            write(&mut buf, x, width);
        }
        if v >= 0 {
            write(&mut buf, v, width);
        }
        self.buf = buf;
    }

    /// Removes `v`; true if it was there.
    pub fn remove(&mut self, v: i64) -> bool {
        if width_for(v) > self.view().width() {
            return false;
        }
        match self.view().search(v) {
            Ok(i) => {
                self.remove_at(i);
                true
            }
            Err(_) => false,
        }
    }

    /// Removes the `i`-th smallest value and returns it (`i < len`).
    pub fn remove_at(&mut self, i: usize) -> i64 {
        let v = self.view().get(i);
        let w = self.view().width();
        let off = HEADER + i * w;
        self.buf.drain(off..off + w);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    #[test]
    fn widths_upgrade_at_the_boundaries() {
        let mut s = IntSet::new();
        assert!(s.insert(32767));
        assert_eq!(s.view().width(), 2);
        assert!(s.insert(-32768));
        assert_eq!(s.view().width(), 2);
        assert!(s.insert(32768));
        assert_eq!(s.view().width(), 4);
        assert!(s.insert(2147483647));
        assert!(s.insert(-2147483648));
        assert_eq!(s.view().width(), 4);
        assert!(s.insert(2147483648));
        assert_eq!(s.view().width(), 8);
        assert!(s.insert(i64::MIN));
        assert!(s.insert(i64::MAX));
        assert!(!s.insert(i64::MIN));
        let all: Vec<i64> = s.view().iter().collect();
        assert_eq!(
            all,
            vec![
                i64::MIN,
                -2147483648,
                -32768,
                32767,
                32768,
                2147483647,
                2147483648,
                i64::MAX
            ]
        );
        // Removing never narrows.
        for v in all {
            assert!(s.remove(v));
        }
        assert!(s.is_empty());
        assert_eq!(s.view().width(), 8);
        assert!(!s.remove(5));
        // A narrow set rejects wide values without searching.
        let mut n = IntSet::new();
        n.insert(1);
        assert!(!n.view().contains(1 << 40));
        assert!(!n.remove(1 << 40));
    }

    #[test]
    fn upgrade_puts_negative_values_first() {
        let mut s = IntSet::new();
        for v in [5, -3, 100] {
            s.insert(v);
        }
        s.insert(-100_000);
        assert_eq!(
            s.view().iter().collect::<Vec<_>>(),
            vec![-100_000, -3, 5, 100]
        );
        let copy = IntSet::from_bytes(s.bytes(), 8);
        assert_eq!(copy, s);
    }

    proptest! {
        #[test]
        fn behaves_like_a_btreeset(ops in proptest::collection::vec((any::<bool>(), prop_oneof![
            -40i64..40,
            any::<i16>().prop_map(i64::from),
            any::<i32>().prop_map(i64::from),
            any::<i64>(),
        ]), 0..300)) {
            let mut s = IntSet::new();
            let mut model = BTreeSet::new();
            for (add, v) in ops {
                if add {
                    prop_assert_eq!(s.insert(v), model.insert(v));
                } else {
                    prop_assert_eq!(s.remove(v), model.remove(&v));
                }
                prop_assert_eq!(s.view().contains(v), model.contains(&v));
                prop_assert_eq!(s.len(), model.len());
            }
            let got: Vec<i64> = s.view().iter().collect();
            let want: Vec<i64> = model.iter().copied().collect();
            prop_assert_eq!(got, want);
            let widest = model.iter().map(|&v| width_for(v)).max().unwrap_or(2);
            prop_assert!(s.view().width() >= widest);
        }
    }
}
