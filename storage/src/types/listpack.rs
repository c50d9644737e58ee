//! A packed sequence of byte strings in one buffer: the small encoding of hashes, sorted
//! sets, sets of strings and list nodes (Redis's listpack plays this role; the format here
//! is cachegate's own).
//!
//! ```text
//! ┌───────────┬─────────┬──────┬─────────┬──────┬───
//! │ count u32 │ len var │ data │ len var │ data │ …
//! └───────────┴─────────┴──────┴─────────┴──────┴───
//! ```
//!
//! Each element costs its bytes plus a LEB128 length (one byte up to 127 bytes), against
//! Redis's two bytes of encoding and back-length. There is no back-length: the users walk
//! forward, and the few backward reads (ZREVRANGE on a small sorted set, a list node's tail)
//! are over at most a few hundred elements. The element count in front makes `len` O(1).
//!
//! [`Packed`] is the owned, growable form a value is edited in; [`PackedRef`] reads the same
//! bytes wherever they live (inside a keyspace entry, or in a `Packed`). Positions are byte
//! offsets of an element's length prefix.

/// Bytes of the count header.
pub const HEADER: usize = 4;

/// The empty sequence's bytes.
pub const EMPTY: [u8; HEADER] = [0; HEADER];

pub use super::varint::len as varint_len;
use super::varint::{read as read_varint, write as write_varint};

/// Makes room in a packed buffer for `additional` more bytes. The buffer grows by an eighth
/// at a time rather than doubling: a packed value lives long and is sized to its contents
/// (as an allocator's size classes size a listpack), while one realloc per eighth keeps
/// a run of appends amortised O(1).
pub fn grow(buf: &mut Vec<u8>, additional: usize) {
    if buf.capacity() - buf.len() < additional {
        buf.reserve_exact(additional.max(buf.len() / 8));
    }
}

/// A read-only view of packed bytes.
#[derive(Clone, Copy)]
pub struct PackedRef<'a> {
    buf: &'a [u8],
}

impl<'a> PackedRef<'a> {
    /// Views `buf`, which must have come from a [`Packed`] (or be [`EMPTY`]).
    pub fn new(buf: &'a [u8]) -> Self {
        debug_assert!(buf.len() >= HEADER);
        PackedRef { buf }
    }

    /// The raw bytes.
    pub fn bytes(&self) -> &'a [u8] {
        self.buf
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match self.buf.get(..HEADER) {
            Some(h) => u32::from_le_bytes([h[0], h[1], h[2], h[3]]) as usize,
            None => 0,
        }
    }

    /// True if there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The element at byte position `pos` and the position after it.
    #[inline]
    pub fn at(&self, pos: usize) -> (&'a [u8], usize) {
        let (n, used) = read_varint(self.buf, pos);
        let start = (pos + used).min(self.buf.len());
        let end = start.saturating_add(n).min(self.buf.len());
        (&self.buf[start..end], end)
    }

    /// Position of the first element.
    pub fn first(&self) -> usize {
        HEADER
    }

    /// Position just past the last element.
    pub fn end(&self) -> usize {
        self.buf.len()
    }

    /// Every element, in order.
    pub fn iter(&self) -> Iter<'a> {
        Iter {
            p: *self,
            pos: HEADER,
        }
    }

    /// Every element with its position.
    pub fn positions(&self) -> Positions<'a> {
        Positions {
            p: *self,
            pos: HEADER,
        }
    }

    /// The `i`-th element (O(i)).
    pub fn get(&self, i: usize) -> Option<&'a [u8]> {
        self.iter().nth(i)
    }

    /// Position of the first element equal to `want` at an even index (a key of a
    /// key/value layout), searching pairs.
    pub fn find_pair(&self, want: &[u8]) -> Option<usize> {
        // The hot loop of every small-hash write: lengths compared before bytes, and a
        // value skipped by its length alone.
        let buf = self.buf;
        let mut pos = HEADER;
        while pos < buf.len() {
            let (klen, used) = read_varint(buf, pos);
            let kstart = pos + used;
            let kend = kstart.saturating_add(klen);
            if klen == want.len() && buf.get(kstart..kend) == Some(want) {
                return Some(pos);
            }
            let (vlen, used) = read_varint(buf, kend);
            pos = kend.saturating_add(used).saturating_add(vlen);
        }
        None
    }

    /// Position of the first element equal to `want`.
    pub fn find(&self, want: &[u8]) -> Option<usize> {
        self.positions().find(|(_, e)| *e == want).map(|(p, _)| p)
    }
}

/// Iterator over elements.
pub struct Iter<'a> {
    p: PackedRef<'a>,
    pos: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a [u8];
    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.pos >= self.p.buf.len() {
            return None;
        }
        let (e, next) = self.p.at(self.pos);
        self.pos = next;
        Some(e)
    }
}

/// Iterator over (position, element).
pub struct Positions<'a> {
    p: PackedRef<'a>,
    pos: usize,
}

impl<'a> Iterator for Positions<'a> {
    type Item = (usize, &'a [u8]);
    fn next(&mut self) -> Option<(usize, &'a [u8])> {
        if self.pos >= self.p.buf.len() {
            return None;
        }
        let at = self.pos;
        let (e, next) = self.p.at(at);
        self.pos = next;
        Some((at, e))
    }
}

/// An owned packed sequence, edited in place.
#[derive(Clone, PartialEq, Eq)]
pub struct Packed {
    buf: Vec<u8>,
}

impl std::fmt::Debug for Packed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.view().iter().map(String::from_utf8_lossy))
            .finish()
    }
}

impl Default for Packed {
    fn default() -> Self {
        Packed::new()
    }
}

impl Packed {
    /// An empty sequence.
    pub fn new() -> Self {
        Packed {
            buf: EMPTY.to_vec(),
        }
    }

    /// A copy of packed bytes (from [`Packed::bytes`] or an entry).
    pub fn from_bytes(bytes: &[u8]) -> Self {
        let mut buf = Vec::with_capacity(bytes.len());
        buf.extend_from_slice(bytes);
        if buf.len() < HEADER {
            buf = EMPTY.to_vec();
        }
        Packed { buf }
    }

    /// The bytes, to store elsewhere.
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// A read view.
    pub fn view(&self) -> PackedRef<'_> {
        PackedRef { buf: &self.buf }
    }

    /// Number of elements.
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

    /// Makes room for `bytes` more bytes of elements (length prefixes included), so a
    /// command adding several elements grows the buffer once.
    pub fn reserve(&mut self, bytes: usize) {
        self.buf.reserve(bytes);
    }

    /// Releases spare capacity.
    pub fn shrink_to_fit(&mut self) {
        self.buf.shrink_to_fit();
    }

    fn set_count(&mut self, n: usize) {
        self.buf[..HEADER].copy_from_slice(&(n as u32).to_le_bytes());
    }

    fn add_count(&mut self, delta: isize) {
        let n = self.len() as isize + delta;
        self.set_count(n.max(0) as usize);
    }

    /// Appends an element.
    pub fn push(&mut self, e: &[u8]) {
        grow(&mut self.buf, e.len() + varint_len(e.len()));
        write_varint(&mut self.buf, e.len());
        self.buf.extend_from_slice(e);
        self.add_count(1);
    }

    /// Inserts elements before position `pos` (a position from this sequence, or its end).
    pub fn insert_at(&mut self, pos: usize, elems: &[&[u8]]) {
        let mut bytes = Vec::with_capacity(elems.iter().map(|e| e.len() + 5).sum());
        for e in elems {
            write_varint(&mut bytes, e.len());
            bytes.extend_from_slice(e);
        }
        let pos = pos.clamp(HEADER, self.buf.len());
        grow(&mut self.buf, bytes.len());
        self.buf.splice(pos..pos, bytes);
        self.add_count(elems.len() as isize);
    }

    /// Prepends an element.
    pub fn push_front(&mut self, e: &[u8]) {
        self.insert_at(HEADER, &[e]);
    }

    /// Removes `n` elements starting at position `pos`; returns the position that now holds
    /// what followed them.
    pub fn remove_at(&mut self, pos: usize, n: usize) -> usize {
        let mut end = pos;
        let mut removed = 0;
        while removed < n && end < self.buf.len() {
            end = self.view().at(end).1;
            removed += 1;
        }
        self.buf.drain(pos..end);
        self.add_count(-(removed as isize));
        pos
    }

    /// Replaces the element at `pos` with `e`.
    pub fn replace_at(&mut self, pos: usize, e: &[u8]) {
        let (_, end) = self.view().at(pos);
        let mut bytes = Vec::with_capacity(e.len() + 5);
        write_varint(&mut bytes, e.len());
        bytes.extend_from_slice(e);
        grow(&mut self.buf, bytes.len().saturating_sub(end - pos));
        self.buf.splice(pos..end, bytes);
    }

    /// Removes every element.
    pub fn clear(&mut self) {
        self.buf.truncate(HEADER);
        self.set_count(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn push_insert_remove_replace() {
        let mut p = Packed::new();
        assert!(p.is_empty());
        p.push(b"a");
        p.push(&[b'x'; 300]);
        p.push(b"");
        p.push_front(b"first");
        let got: Vec<&[u8]> = p.view().iter().collect();
        assert_eq!(got, vec![&b"first"[..], b"a", &[b'x'; 300], b""]);
        assert_eq!(p.len(), 4);
        let pos = p.view().find(b"a").unwrap();
        p.replace_at(pos, b"bbb");
        assert_eq!(p.view().get(1), Some(&b"bbb"[..]));
        p.remove_at(pos, 2);
        let got: Vec<&[u8]> = p.view().iter().collect();
        assert_eq!(got, vec![&b"first"[..], b""]);
        assert_eq!(p.len(), 2);
        let q = Packed::from_bytes(p.bytes());
        assert_eq!(q, p);
        p.clear();
        assert_eq!(p.bytes(), &EMPTY);
    }

    #[test]
    fn pairs() {
        let mut p = Packed::new();
        for (k, v) in [("f1", "v1"), ("v1", "f2"), ("f2", "x")] {
            p.push(k.as_bytes());
            p.push(v.as_bytes());
        }
        // "v1" is a value in the first pair but a key in the second.
        let pos = p.view().find_pair(b"v1").unwrap();
        assert_eq!(p.view().at(p.view().at(pos).1).0, b"f2");
        assert!(p.view().find_pair(b"x").is_none());
    }

    proptest! {
        #[test]
        fn behaves_like_a_vec(ops in proptest::collection::vec((0u8..4, any::<u16>(), proptest::collection::vec(any::<u8>(), 0..200)), 0..60)) {
            let mut p = Packed::new();
            let mut model: Vec<Vec<u8>> = Vec::new();
            for (op, at, e) in ops {
                let i = if model.is_empty() { 0 } else { at as usize % (model.len() + 1) };
                let pos = p.view().positions().nth(i).map(|(pos, _)| pos).unwrap_or(p.view().end());
                match op {
                    0 => { p.push(&e); model.push(e); }
                    1 => { p.insert_at(pos, &[&e]); model.insert(i, e); }
                    2 if i < model.len() => { p.remove_at(pos, 1); model.remove(i); }
                    3 if i < model.len() => { p.replace_at(pos, &e); model[i] = e; }
                    _ => {}
                }
                prop_assert_eq!(p.len(), model.len());
            }
            let got: Vec<Vec<u8>> = p.view().iter().map(<[u8]>::to_vec).collect();
            prop_assert_eq!(got, model);
        }
    }
}
