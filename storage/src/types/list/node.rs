//! One packed node of a list: a run of elements in one buffer, walkable in both directions,
//! each element stored as the part it shares with the node's *base* and the rest (Redis's
//! listpack plays this role in a quicklist; the format here is cachegate's own).
//!
//! ```text
//! ┌───────────┬──────────┬──────┬────────────────────────────────────────────┬─────
//! │ count u32 │ base_len │ base │ element                                    │ …
//! │   (LE)    │    u8    │      │ head varint │ [ext u8] │ rest │ back-length │
//! └───────────┴──────────┴──────┴─────────────┴──────────┴──────┴─────────────┴─────
//! ```
//!
//! * The **base** is (at most [`BASE_MAX`] bytes of) the first element the node was given.
//!   Each element starts with the length `p` of its common prefix with the base and stores
//!   only the rest: lists of similar strings (`job:000123`, `user:42:…`) cost a few bytes
//!   per element. Decoding an element needs nothing but the base and the element itself, so
//!   elements are read in O(1) from either end and an element's bytes mean the same thing
//!   wherever they sit in the node (removing or moving whole elements is a `memcpy`).
//! * **head** is the LEB128 varint `rest_len << 4 | min(p, 15)`; when the low bits are 15 an
//!   extension byte holds `p - 15`. An element of under 8 bytes after its prefix takes one
//!   head byte.
//! * **back-length** is the size of head, extension and rest, written so that it reads from
//!   its last byte backwards (7 bits a byte, the high bit set on every byte but the
//!   leftmost): walking from the node's end (RPOP, LRANGE from the tail, LPOS with a
//!   negative RANK) costs the same as walking from its start.
//!
//! A list element of 12 bytes sharing 9 with the base (`value:000123` after `value:000000`)
//! takes 5 bytes here against 14 in a Redis 7.0 listpack.
//!
//! [`Node`] is the owned, growable form; [`NodeRef`] reads the same bytes wherever they live
//! (inline in a keyspace entry, or in a `Node`). Positions are byte offsets of an element's
//! head; the node's end position is its length in bytes.

use crate::types::varint::{len as varint_len, read as read_varint};

/// Most bytes of the first element kept as a node's base.
pub const BASE_MAX: usize = 32;

/// Bytes of the count header.
const COUNT: usize = 4;

/// The header of an empty node without a base.
const EMPTY: [u8; COUNT + 1] = [0; COUNT + 1];

/// A list element as stored: the part shared with its node's base (`head`) followed by the
/// rest (`tail`). Compare and copy it with its methods; [`Elem::to_vec`] joins it.
#[derive(Clone, Copy, Debug)]
pub struct Elem<'a> {
    /// The prefix shared with the base.
    pub head: &'a [u8],
    /// The rest of the element.
    pub tail: &'a [u8],
}

impl<'a> Elem<'a> {
    /// An element held in one piece.
    pub fn whole(bytes: &'a [u8]) -> Elem<'a> {
        Elem {
            head: &[],
            tail: bytes,
        }
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.head.len() + self.tail.len()
    }

    /// True for the empty string.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True if the element's bytes are `want`.
    pub fn eq_bytes(&self, want: &[u8]) -> bool {
        want.len() == self.len()
            && want[..self.head.len()] == *self.head
            && want[self.head.len()..] == *self.tail
    }

    /// Appends the element's bytes to `out`.
    pub fn copy_into(&self, out: &mut Vec<u8>) {
        out.reserve(self.len());
        out.extend_from_slice(self.head);
        out.extend_from_slice(self.tail);
    }

    /// The element's bytes, joined.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.len());
        self.copy_into(&mut v);
        v
    }

    /// Byte `i` of the element.
    fn byte(&self, i: usize) -> u8 {
        if i < self.head.len() {
            self.head[i]
        } else {
            self.tail[i - self.head.len()]
        }
    }

    /// The element without its first `n` bytes, as two pieces.
    fn skip(&self, n: usize) -> (&'a [u8], &'a [u8]) {
        if n <= self.head.len() {
            (&self.head[n..], self.tail)
        } else {
            (
                &[],
                &self.tail[(n - self.head.len()).min(self.tail.len())..],
            )
        }
    }
}

/// Reads a back-length ending just before `end`: (value, bytes used).
#[inline]
fn read_backlen(buf: &[u8], end: usize) -> (usize, usize) {
    let mut v = 0usize;
    let mut shift = 0;
    let mut i = end;
    while i > 0 {
        i -= 1;
        let b = buf[i];
        v |= usize::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return (v, end - i);
        }
        shift += 7;
        if shift >= usize::BITS as usize {
            break;
        }
    }
    (0, (end - i).max(1))
}

/// How an element will be written into a node with a given base.
struct Plan<'e> {
    /// Bytes shared with the base.
    prefix: usize,
    /// The rest, in two pieces.
    a: &'e [u8],
    b: &'e [u8],
    /// The head varint's value.
    head: usize,
    /// Head, extension and rest.
    body: usize,
    /// Everything, back-length included.
    size: usize,
}

/// The base a node takes from its first element `e`: its first bytes.
fn base_of(e: Elem<'_>) -> ([u8; BASE_MAX], usize) {
    let mut base = [0u8; BASE_MAX];
    let n = e.len().min(BASE_MAX);
    for (i, b) in base.iter_mut().enumerate().take(n) {
        *b = e.byte(i);
    }
    (base, n)
}

fn common_prefix(base: &[u8], e: Elem<'_>) -> usize {
    let n = base.len().min(e.len());
    (0..n).find(|&i| base[i] != e.byte(i)).unwrap_or(n)
}

fn plan<'e>(base: &[u8], e: Elem<'e>) -> Plan<'e> {
    let prefix = common_prefix(base, e);
    let (a, b) = e.skip(prefix);
    let rest = a.len() + b.len();
    let p = prefix.min(15);
    let head = (rest << 4) | p;
    let body = varint_len(head) + usize::from(p == 15) + rest;
    Plan {
        prefix,
        a,
        b,
        head,
        body,
        size: body + varint_len(body),
    }
}

/// Writes a planned element into `dst`, which is exactly `plan.size` bytes.
fn write_plan(dst: &mut [u8], plan: &Plan<'_>) {
    debug_assert_eq!(dst.len(), plan.size);
    let mut i = 0;
    let mut h = plan.head;
    while h >= 0x80 {
        dst[i] = (h as u8) | 0x80;
        h >>= 7;
        i += 1;
    }
    dst[i] = h as u8;
    i += 1;
    if plan.prefix >= 15 {
        dst[i] = (plan.prefix - 15) as u8;
        i += 1;
    }
    dst[i..i + plan.a.len()].copy_from_slice(plan.a);
    i += plan.a.len();
    dst[i..i + plan.b.len()].copy_from_slice(plan.b);
    i += plan.b.len();
    // The back-length, most significant group first; every byte but the first is flagged.
    let groups = varint_len(plan.body);
    let mut v = plan.body;
    for k in (0..groups).rev() {
        let flag = if k == 0 { 0 } else { 0x80 };
        dst[i + k] = (v as u8 & 0x7f) | flag;
        v >>= 7;
    }
}

/// A read-only view of a node's bytes.
#[derive(Clone, Copy)]
pub struct NodeRef<'a> {
    buf: &'a [u8],
}

impl<'a> NodeRef<'a> {
    /// Views `buf`, which must have come from a [`Node`].
    pub fn new(buf: &'a [u8]) -> Self {
        debug_assert!(buf.len() > COUNT);
        NodeRef { buf }
    }

    /// The raw bytes.
    pub fn bytes(&self) -> &'a [u8] {
        self.buf
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match self.buf.get(..COUNT) {
            Some(h) => u32::from_le_bytes([h[0], h[1], h[2], h[3]]) as usize,
            None => 0,
        }
    }

    /// True if there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The base elements share prefixes with.
    pub fn base(&self) -> &'a [u8] {
        let n = usize::from(self.buf.get(COUNT).copied().unwrap_or(0));
        self.buf.get(COUNT + 1..COUNT + 1 + n).unwrap_or(&[])
    }

    /// Position of the first element.
    pub fn first(&self) -> usize {
        (COUNT + 1 + self.base().len()).min(self.buf.len())
    }

    /// Position just past the last element (the node's size in bytes).
    pub fn end(&self) -> usize {
        self.buf.len()
    }

    /// The element at position `pos` and the position after it.
    #[inline]
    pub fn at(&self, pos: usize) -> (Elem<'a>, usize) {
        let (head, used) = read_varint(self.buf, pos);
        let (p, rest) = (head & 15, head >> 4);
        let mut i = pos + used;
        let prefix = if p == 15 {
            let ext = usize::from(self.buf.get(i).copied().unwrap_or(0));
            i += 1;
            15 + ext
        } else {
            p
        };
        let start = i.min(self.buf.len());
        let end = start.saturating_add(rest).min(self.buf.len());
        let base = self.base();
        let e = Elem {
            head: &base[..prefix.min(base.len())],
            tail: &self.buf[start..end],
        };
        let body = end - pos;
        (e, (end + varint_len(body)).min(self.buf.len()))
    }

    /// The element that ends at position `end` and its position.
    #[inline]
    pub fn before(&self, end: usize) -> (Elem<'a>, usize) {
        let (body, used) = read_backlen(self.buf, end);
        let pos = end.saturating_sub(used + body).max(self.first());
        (self.at(pos).0, pos)
    }

    /// Position of the `i`-th element (`i` = [`NodeRef::len`] gives the end), walking from
    /// the nearer end.
    pub fn pos_of(&self, i: usize) -> usize {
        let n = self.len();
        if i >= n {
            return self.end();
        }
        if i <= n / 2 {
            let mut pos = self.first();
            for _ in 0..i {
                pos = self.at(pos).1;
            }
            pos
        } else {
            let mut pos = self.end();
            for _ in i..n {
                pos = self.before(pos).1;
            }
            pos
        }
    }

    /// The `i`-th element.
    pub fn get(&self, i: usize) -> Option<Elem<'a>> {
        (i < self.len()).then(|| self.at(self.pos_of(i)).0)
    }

    /// Every element, first to last.
    pub fn iter(&self) -> Iter<'a> {
        Iter {
            node: *self,
            pos: self.first(),
            end: self.end(),
        }
    }

    /// The elements in bytes `from..to` (positions of this node), from either end.
    pub fn iter_range(&self, from: usize, to: usize) -> Iter<'a> {
        Iter {
            node: *self,
            pos: from.max(self.first()),
            end: to.min(self.end()),
        }
    }

    /// Every element with its position.
    pub fn positions(&self) -> impl Iterator<Item = (usize, Elem<'a>)> + 'a {
        let node = *self;
        let mut pos = self.first();
        std::iter::from_fn(move || {
            if pos >= node.end() {
                return None;
            }
            let at = pos;
            let (e, next) = node.at(pos);
            pos = next;
            Some((at, e))
        })
    }

    /// Bytes `e` would add to this node.
    pub fn encoded_size(&self, e: Elem<'_>) -> usize {
        if self.is_empty() {
            // An empty node takes its base from the element.
            let (base, n) = base_of(e);
            return n + plan(&base[..n], e).size;
        }
        plan(self.base(), e).size
    }
}

/// Iterator over a node's elements, from either end.
#[derive(Clone)]
pub struct Iter<'a> {
    node: NodeRef<'a>,
    pos: usize,
    end: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = Elem<'a>;
    #[inline]
    fn next(&mut self) -> Option<Elem<'a>> {
        if self.pos >= self.end {
            return None;
        }
        let (e, next) = self.node.at(self.pos);
        self.pos = next;
        Some(e)
    }
}

impl DoubleEndedIterator for Iter<'_> {
    #[inline]
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.pos >= self.end {
            return None;
        }
        let (e, pos) = self.node.before(self.end);
        self.end = pos;
        Some(e)
    }
}

/// An owned node, edited in place.
#[derive(Clone, PartialEq, Eq)]
pub struct Node {
    buf: Vec<u8>,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(
                self.view()
                    .iter()
                    .map(|e| String::from_utf8_lossy(&e.to_vec()).into_owned()),
            )
            .finish()
    }
}

impl Default for Node {
    fn default() -> Self {
        Node::new()
    }
}

impl Node {
    /// An empty node (it takes its base from the first element it is given).
    pub fn new() -> Self {
        Node {
            buf: EMPTY.to_vec(),
        }
    }

    /// A copy of a node's bytes (from [`Node::bytes`] or an entry).
    pub fn from_bytes(bytes: &[u8]) -> Self {
        if bytes.len() <= COUNT {
            return Node::new();
        }
        let mut buf = Vec::with_capacity(bytes.len());
        buf.extend_from_slice(bytes);
        Node { buf }
    }

    /// An empty node with room for `capacity` bytes.
    pub fn with_capacity(capacity: usize) -> Self {
        let mut buf = Vec::with_capacity(capacity.max(EMPTY.len()));
        buf.extend_from_slice(&EMPTY);
        Node { buf }
    }

    /// An empty node with the same base as `like` (so `like`'s element bytes can be copied
    /// into it as they are).
    fn empty_like(like: NodeRef<'_>, capacity: usize) -> Self {
        let mut buf = Vec::with_capacity(capacity.max(like.first()));
        buf.extend_from_slice(&like.bytes()[..like.first()]);
        buf[..COUNT].copy_from_slice(&[0; COUNT]);
        Node { buf }
    }

    /// The bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// A read view.
    pub fn view(&self) -> NodeRef<'_> {
        NodeRef { buf: &self.buf }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.view().len()
    }

    /// True if empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Size in bytes.
    pub fn size(&self) -> usize {
        self.buf.len()
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.buf.capacity()
    }

    /// Releases spare capacity.
    pub fn shrink_to_fit(&mut self) {
        self.buf.shrink_to_fit();
    }

    fn set_count(&mut self, n: usize) {
        self.buf[..COUNT].copy_from_slice(&(n as u32).to_le_bytes());
    }

    /// Gives an empty node its base (the first bytes of its first element).
    fn take_base(&mut self, e: Elem<'_>) {
        debug_assert!(self.is_empty());
        let (base, n) = base_of(e);
        self.buf.clear();
        self.buf.extend_from_slice(&[0; COUNT]);
        self.buf.push(n as u8);
        self.buf.extend_from_slice(&base[..n]);
    }

    /// Makes room for `size` bytes at `pos` and returns them.
    fn open(&mut self, pos: usize, size: usize) -> &mut [u8] {
        let old = self.buf.len();
        let pos = pos.clamp(self.view().first(), old);
        self.buf.resize(old + size, 0);
        self.buf.copy_within(pos..old, pos + size);
        &mut self.buf[pos..pos + size]
    }

    /// Inserts `e` at position `pos` (a position from this node, or its end).
    pub fn insert_elem(&mut self, pos: usize, e: Elem<'_>) {
        let n = self.len();
        let pos = if n == 0 {
            self.take_base(e);
            self.buf.len()
        } else {
            pos
        };
        let view_base = self.view().base();
        // The base lives in the same buffer the element is written to: copy it out (at most
        // BASE_MAX bytes, on the stack).
        let mut base = [0u8; BASE_MAX];
        let bl = view_base.len();
        base[..bl].copy_from_slice(view_base);
        let p = plan(&base[..bl], e);
        let dst = self.open(pos, p.size);
        write_plan(dst, &p);
        self.set_count(n + 1);
    }

    /// Appends an element.
    pub fn push_back(&mut self, e: &[u8]) {
        self.insert_elem(self.buf.len(), Elem::whole(e));
    }

    /// Prepends an element.
    pub fn push_front(&mut self, e: &[u8]) {
        let first = self.view().first();
        self.insert_elem(first, Elem::whole(e));
    }

    /// Inserts an element before position `pos`.
    pub fn insert_at(&mut self, pos: usize, e: &[u8]) {
        self.insert_elem(pos, Elem::whole(e));
    }

    /// Replaces the element at `pos` with `e`.
    pub fn replace_at(&mut self, pos: usize, e: &[u8]) {
        let end = self.view().at(pos).1;
        let n = self.len();
        self.buf.drain(pos..end);
        self.set_count(n - 1);
        if n == 1 {
            // The only element: start afresh, with a base from the new one.
            self.buf.truncate(COUNT + 1);
            self.buf[..].copy_from_slice(&EMPTY);
        }
        self.insert_elem(pos, Elem::whole(e));
    }

    /// Removes the `n` elements held in bytes `from..to`.
    fn remove_bytes(&mut self, from: usize, to: usize, n: usize) {
        let left = self.len().saturating_sub(n);
        if left == 0 {
            self.buf.clear();
            self.buf.extend_from_slice(&EMPTY);
            return;
        }
        self.buf.drain(from..to);
        self.set_count(left);
    }

    /// Removes the first `n` elements.
    pub fn remove_front(&mut self, n: usize) {
        let n = n.min(self.len());
        let v = self.view();
        let to = v.pos_of(n);
        let from = v.first();
        self.remove_bytes(from, to, n);
    }

    /// Removes the last `n` elements.
    pub fn remove_back(&mut self, n: usize) {
        let len = self.len();
        let n = n.min(len);
        let from = self.view().pos_of(len - n);
        let to = self.buf.len();
        self.remove_bytes(from, to, n);
    }

    /// Removes the element at position `pos`.
    pub fn remove_at(&mut self, pos: usize) {
        let end = self.view().at(pos).1;
        self.remove_bytes(pos, end, 1);
    }

    /// Splits the node before its `i`-th element: this node keeps the elements before it,
    /// the returned one (with the same base) holds the rest.
    pub fn split_off(&mut self, i: usize) -> Node {
        let n = self.len();
        let v = self.view();
        let pos = v.pos_of(i);
        let mut right = Node::empty_like(v, v.first() + (self.buf.len() - pos));
        right.buf.extend_from_slice(&self.buf[pos..]);
        right.set_count(n - i);
        if i == 0 {
            self.buf.clear();
            self.buf.extend_from_slice(&EMPTY);
        } else {
            self.buf.truncate(pos);
            self.set_count(i);
        }
        right
    }

    /// Bytes `other`'s elements would add to this node.
    pub fn merged_size(&self, other: NodeRef<'_>) -> usize {
        if self.is_empty() {
            return other.end().saturating_sub(EMPTY.len());
        }
        let base = self.view().base();
        if base == other.base() {
            return other.end() - other.first();
        }
        other.iter().map(|e| plan(base, e).size).sum()
    }

    /// Appends every element of `other`.
    pub fn append(&mut self, other: NodeRef<'_>) {
        if other.is_empty() {
            return;
        }
        if self.is_empty() {
            *self = Node::from_bytes(other.bytes());
            return;
        }
        let n = self.len();
        if self.view().base() == other.base() {
            // Same base: the element bytes mean the same here.
            self.buf.extend_from_slice(&other.bytes()[other.first()..]);
            self.set_count(n + other.len());
            return;
        }
        for e in other.iter() {
            let end = self.buf.len();
            self.insert_elem(end, e);
        }
    }

    /// Removes up to `max` elements equal to `want` (all of them if `max` is 0), the first
    /// ones or, with `from_back`, the last ones. Returns how many it removed.
    pub fn remove_matching(&mut self, want: &[u8], max: usize, from_back: bool) -> usize {
        let v = self.view();
        let matches = v.iter().filter(|e| e.eq_bytes(want)).count();
        let take = if max == 0 { matches } else { matches.min(max) };
        if take == 0 {
            return 0;
        }
        // Matches numbered from 0 that are removed: the first `take`, or the last `take`.
        let skip = if from_back { matches - take } else { 0 };
        let n = self.len();
        let mut read = v.first();
        let mut write = read;
        let mut seen = 0;
        let mut removed = 0;
        while read < self.buf.len() {
            let (e, next) = self.view().at(read);
            let drop = e.eq_bytes(want) && {
                seen += 1;
                seen > skip && removed < take
            };
            if drop {
                removed += 1;
            } else {
                if write != read {
                    self.buf.copy_within(read..next, write);
                }
                write += next - read;
            }
            read = next;
        }
        self.buf.truncate(write);
        if n == removed {
            self.buf.clear();
            self.buf.extend_from_slice(&EMPTY);
        } else {
            self.set_count(n - removed);
        }
        removed
    }
}

#[cfg(test)]
mod tests;
