//! [`ZTree`]: the big encoding of sorted sets (`OBJECT ENCODING` says `skiplist`, as
//! redis-server's does).
//!
//! Two structures share one allocation per member:
//!
//! * a **member node** `[score f64][len varint][member bytes]` (see [`node`]), the only
//!   per-element allocation;
//! * an **order-statistic B+tree** ([`super::btree::BTree`]) of `(score, node)` keys in
//!   (score, member) order, whose inner nodes count their subtrees: insert, delete, rank,
//!   select by rank and range bounds are O(log n), and ranges are read leaf by leaf;
//! * a **member index** ([`Table`], 8 bytes a slot) from member bytes to the node, for
//!   ZSCORE and the membership checks of ZADD in O(1).
//!
//! Where redis-server spends a skiplist node (score, sds pointer, backward pointer and
//! 1.33 levels of 16 bytes, rounded up by the allocator), a dict entry of 24 bytes, a bucket
//! and an sds string per member, an element here costs its node (9 bytes + member, rounded
//! to the allocator's size class), 16 bytes of B+tree leaf at most, and its index slot.
//!
//! The table owns the nodes (it frees them when dropped); the tree only refers to them.
//! Every node in one is in the other: the two are only changed together, here.

use std::ptr::NonNull;

use super::btree::{BTree, Key};
use crate::table::{Table, TableEntry};

/// Member nodes: `[score f64 LE][member length, LEB128][member bytes]`, one allocation.
pub(super) mod node {
    use std::alloc::{alloc, dealloc, Layout};
    use std::ptr::NonNull;

    use crate::types::varint::len as varint_len;

    /// Bytes a node for a member of `len` bytes allocates.
    pub fn size(len: usize) -> usize {
        8 + varint_len(len) + len
    }

    fn layout(len: usize) -> Layout {
        // Members are bounded by the request size limit, far below isize::MAX.
        Layout::from_size_align(size(len), 8).unwrap_or(Layout::new::<u64>())
    }

    /// A new node.
    pub fn new(member: &[u8], score: f64) -> NonNull<u8> {
        let layout = layout(member.len());
        // SAFETY: the layout covers the score, the length and the member; writes stay in it.
        unsafe {
            let Some(p) = NonNull::new(alloc(layout)) else {
                std::alloc::handle_alloc_error(layout);
            };
            let b = p.as_ptr();
            (b as *mut f64).write_unaligned(score);
            let mut n = member.len();
            let mut at = 8;
            while n >= 0x80 {
                *b.add(at) = (n as u8) | 0x80;
                n >>= 7;
                at += 1;
            }
            *b.add(at) = n as u8;
            at += 1;
            std::ptr::copy_nonoverlapping(member.as_ptr(), b.add(at), member.len());
            p
        }
    }

    /// The member of node `p`.
    ///
    /// # Safety
    /// `p` is a live node; the slice must not outlive it.
    #[inline]
    pub unsafe fn member<'a>(p: NonNull<u8>) -> &'a [u8] {
        let b = p.as_ptr();
        let mut len = 0usize;
        let mut shift = 0;
        let mut at = 8;
        loop {
            let byte = *b.add(at);
            len |= usize::from(byte & 0x7f) << shift;
            at += 1;
            if byte & 0x80 == 0 {
                break;
            }
            shift += 7;
        }
        std::slice::from_raw_parts(b.add(at), len)
    }

    /// The score of node `p`.
    ///
    /// # Safety
    /// `p` is a live node.
    #[inline]
    pub unsafe fn score(p: NonNull<u8>) -> f64 {
        (p.as_ptr() as *const f64).read_unaligned()
    }

    /// Sets the score of node `p`.
    ///
    /// # Safety
    /// `p` is a live node nothing else reads meanwhile.
    pub unsafe fn set_score(p: NonNull<u8>, score: f64) {
        (p.as_ptr() as *mut f64).write_unaligned(score);
    }

    /// Frees node `p`.
    ///
    /// # Safety
    /// `p` is a live node that nothing refers to any more.
    pub unsafe fn free(p: NonNull<u8>) {
        let len = member(p).len();
        dealloc(p.as_ptr(), layout(len));
    }
}

/// The member index's view of nodes.
pub(super) struct NodeEntry;

// SAFETY: the table is only given nodes from `node::new`, and owns them.
unsafe impl TableEntry for NodeEntry {
    unsafe fn key<'a>(ptr: NonNull<u8>) -> &'a [u8] {
        node::member(ptr)
    }

    unsafe fn free(ptr: NonNull<u8>) {
        node::free(ptr)
    }
}

/// A big sorted set; see the module doc.
#[derive(Default)]
pub struct ZTree {
    tree: BTree,
    index: Table<NodeEntry>,
    /// Bytes held by the member nodes.
    node_bytes: usize,
}

// SAFETY: the nodes are owned by the set alone (the tree's pointers are into the index's
// nodes, which move with it).
unsafe impl Send for ZTree {}

impl Clone for ZTree {
    fn clone(&self) -> Self {
        let mut t = ZTree::default();
        t.index.reserve(self.len());
        for (m, s) in self.iter_from(0) {
            t.insert(m, s);
        }
        t
    }
}

impl std::fmt::Debug for ZTree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(
                self.iter_from(0)
                    .map(|(m, s)| (String::from_utf8_lossy(m), s)),
            )
            .finish()
    }
}

/// An iterator over members and scores in order (or reverse order), from a rank.
pub type Iter<'a> = std::iter::Map<super::btree::Iter<'a>, fn(Key) -> (&'a [u8], f64)>;

fn key_pair<'a>(k: Key) -> (&'a [u8], f64) {
    // SAFETY: keys in the tree point at live nodes owned by the set the iterator borrows.
    (unsafe { node::member(k.node) }, k.score)
}

impl ZTree {
    /// An empty set.
    pub fn new() -> Self {
        ZTree::default()
    }

    /// Makes room for `n` members in the index.
    pub fn reserve(&mut self, n: usize) {
        self.index.reserve(n);
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.tree.len()
    }

    /// True if empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Heap bytes: nodes, tree and index.
    pub fn heap_bytes(&self) -> usize {
        self.node_bytes + self.tree.heap_bytes() + self.index.index_bytes()
    }

    fn find(&self, member: &[u8]) -> Option<NonNull<u8>> {
        let h = self.index.hash(member);
        self.index.find(h, member).map(|i| self.index.ptr_at(i))
    }

    /// The score of `member`.
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        // SAFETY: the index holds live nodes.
        self.find(member).map(|p| unsafe { node::score(p) })
    }

    /// Adds `member`, which must be absent, with `score`.
    pub fn insert(&mut self, member: &[u8], score: f64) {
        let p = node::new(member, score);
        self.node_bytes += node::size(member.len());
        let h = self.index.hash(member);
        self.index.insert(h, p, false);
        self.tree.insert(Key { score, node: p });
    }

    /// Changes the score of `member` (present) to `score`.
    pub fn update(&mut self, member: &[u8], score: f64) {
        let Some(p) = self.find(member) else {
            return;
        };
        // SAFETY: `p` is a live node of this set; the tree is updated with it.
        let old = unsafe { node::score(p) };
        self.tree.remove(old, member);
        unsafe { node::set_score(p, score) };
        self.tree.insert(Key { score, node: p });
    }

    /// Removes `member`; its score if it was there.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let h = self.index.hash(member);
        let i = self.index.find(h, member)?;
        let p = self.index.ptr_at(i);
        // SAFETY: `p` is live until freed below, after both structures let go of it.
        let score = unsafe { node::score(p) };
        self.tree.remove(score, member);
        let _ = self.index.remove_at(i);
        // The member index shrinks as the set empties, as redis-server resizes its dict.
        self.index.after_remove();
        self.node_bytes -= node::size(member.len());
        unsafe { node::free(p) };
        Some(score)
    }

    /// Removes the members of ranks `start..end`; returns how many.
    pub fn remove_ranks(&mut self, start: usize, end: usize) -> usize {
        let end = end.min(self.len());
        let mut n = 0;
        while start + n < end {
            let Some(k) = self.tree.select(start) else {
                break;
            };
            // SAFETY: the key's node is live; the member is copied out before it is freed.
            let member = unsafe { node::member(k.node) }.to_vec();
            self.remove(&member);
            n += 1;
        }
        n
    }

    /// The 0-based rank of `member`.
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        let p = self.find(member)?;
        // SAFETY: `p` is a live node.
        self.tree.rank(unsafe { node::score(p) }, member)
    }

    /// The member and score at `rank`.
    pub fn get(&self, rank: usize) -> Option<(&[u8], f64)> {
        self.tree.select(rank).map(key_pair)
    }

    /// How many members, from the first, satisfy `pred`, which must hold for a prefix of the
    /// order (a lower bound): O(log n).
    pub fn partition(&self, pred: impl Fn(f64, &[u8]) -> bool) -> usize {
        // SAFETY: the tree's keys point at live nodes.
        self.tree
            .partition(|k| pred(k.score, unsafe { node::member(k.node) }))
    }

    /// Members and scores from `rank` on, in order.
    pub fn iter_from(&self, rank: usize) -> Iter<'_> {
        self.tree
            .iter_from(rank, false)
            .map(key_pair as fn(Key) -> _)
    }

    /// Members and scores from `rank` down to the first, in reverse order.
    pub fn iter_rev_from(&self, rank: usize) -> Iter<'_> {
        self.tree
            .iter_from(rank, true)
            .map(key_pair as fn(Key) -> _)
    }

    /// One ZSCAN step over the index from `cursor`; returns the next cursor.
    pub fn scan<'t>(&'t self, cursor: u64, mut f: impl FnMut(&'t [u8], f64)) -> u64 {
        self.index.scan(cursor, |p, _| {
            // SAFETY: the index passes live nodes it owns, borrowed for 't.
            f(unsafe { node::member(p) }, unsafe { node::score(p) })
        })
    }

    /// Periodic upkeep of the index.
    pub fn maintain(&mut self) {
        self.index.maintain();
    }

    /// The index's bytes alone (tests: an emptied set holds no tree nodes).
    #[cfg(test)]
    pub fn index_bytes_for_tests(&self) -> usize {
        self.index.index_bytes()
    }

    /// Checks the invariants: tree shape and counts, and the index agreeing with it.
    #[cfg(test)]
    pub fn check(&self) {
        self.tree.check();
        assert_eq!(self.index.len(), self.tree.len());
        let bytes: usize = self.iter_from(0).map(|(m, _)| node::size(m.len())).sum();
        assert_eq!(bytes, self.node_bytes);
        for (m, s) in self.iter_from(0) {
            assert_eq!(self.score(m).map(f64::to_bits), Some(s.to_bits()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_round_trip() {
        for len in [0usize, 1, 127, 128, 300, 20000] {
            let m = vec![b'x'; len];
            let p = node::new(&m, -2.5);
            unsafe {
                assert_eq!(node::member(p), &m[..]);
                assert_eq!(node::score(p), -2.5);
                node::set_score(p, f64::INFINITY);
                assert_eq!(node::score(p), f64::INFINITY);
                node::free(p);
            }
        }
    }

    #[test]
    fn insert_update_remove() {
        let mut t = ZTree::new();
        for i in 0..1000 {
            t.insert(format!("m{i}").as_bytes(), f64::from(i % 10));
        }
        assert_eq!(t.len(), 1000);
        assert_eq!(t.score(b"m15"), Some(5.0));
        // Ties are ordered by member: m105 < m115 < m125 … among the score-5 members.
        let r = t.rank(b"m5").unwrap();
        assert_eq!(t.get(r).unwrap().0, b"m5");
        t.update(b"m15", -1.0);
        assert_eq!(t.rank(b"m15"), Some(0));
        assert_eq!(t.remove(b"m15"), Some(-1.0));
        assert_eq!(t.remove(b"m15"), None);
        assert_eq!(t.len(), 999);
        let c = t.clone();
        let a: Vec<_> = t.iter_from(0).collect();
        let b: Vec<_> = c.iter_from(0).collect();
        assert_eq!(a, b);
        assert_eq!(t.remove_ranks(10, 20), 10);
        assert_eq!(t.len(), 989);
    }
}
