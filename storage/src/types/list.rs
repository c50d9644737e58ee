//! [`List`]: lists (redis-server's t_list.c data side and its quicklist).
//!
//! redis-server 7.0 holds every list as a quicklist — a linked list of listpack nodes — and
//! `OBJECT ENCODING` always says `quicklist` (7.0 has no listpack encoding for lists), so
//! cachegate says so too, whatever the form below.
//!
//! Two forms, invisible to clients except through memory:
//!
//! * **packed** (entry kind `LIST_PACKED`): one [`Node`] held inline in the keyspace entry,
//!   one allocation with the key. Small lists (most lists) cost their packed bytes and the
//!   entry header.
//! * **nodes** (kind `LIST`, boxed): a [`Quick`], a `VecDeque` of nodes each bounded by
//!   `list-max-listpack-size` ([`Fill`]): pushes and pops at either end are O(1) amortised,
//!   LINDEX / LSET / LINSERT walk node counts, skipping whole nodes.
//!
//! A list is packed while its node stays within the fill rule and [`INLINE_MAX`] bytes
//! (an edit of an inline value copies it out and back, so it is kept small); past that it
//! becomes nodes. A list of nodes shrunk back to one node of at most half of `INLINE_MAX`
//! goes inline again (the gap keeps a list at the boundary from switching on every push
//! and pop).
//!
//! Elements are stored prefix-compressed against each node's base (see [`node`]), so a
//! read yields an [`Elem`] of two pieces; replies write both pieces straight from the node.
//!
//! `list-compress-depth` is accepted (CONFIG SET/GET) but nodes are not compressed: the
//! prefix sharing already keeps typical lists well under redis-server's size.

pub mod node;
pub mod quick;

pub use node::{Elem, Node, NodeRef};
pub use quick::{Fill, Quick};

use super::{Collection, Thresholds};
use crate::keyspace::entry::{kind, Kind, ValueType};

/// What `OBJECT ENCODING` says of every list: redis-server 7.0 holds all lists as quicklists.
pub const INLINE_ENCODING: &str = "quicklist";

/// Most bytes of a list held inline in its entry.
pub const INLINE_MAX: usize = 2048;

/// An end of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The head (`LEFT`, LPUSH, LPOP).
    Front,
    /// The tail (`RIGHT`, RPUSH, RPOP).
    Back,
}

/// A list value; see the module doc.
#[derive(Clone, Debug)]
pub enum List {
    /// One node, held inline when stored.
    Packed(Node),
    /// Many nodes, boxed.
    Quick(Quick),
}

impl Default for List {
    fn default() -> Self {
        List::Packed(Node::new())
    }
}

impl List {
    /// An empty list.
    pub fn new() -> Self {
        List::default()
    }

    /// A read view.
    pub fn view(&self) -> ListRef<'_> {
        match self {
            List::Packed(n) => ListRef::Packed(n.view()),
            List::Quick(q) => ListRef::Quick(q),
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.view().len()
    }

    /// True if empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// After an edit of the packed form: becomes nodes if the node outgrew the inline form.
    fn settle(&mut self, fill: Fill) {
        let List::Packed(n) = self else {
            return;
        };
        if n.size() <= INLINE_MAX && fill.fits(n.size(), n.len()) {
            return;
        }
        let q = if fill.fits(n.size(), n.len()) {
            Quick::from_node(std::mem::take(n))
        } else {
            Quick::from_elems(n.view().iter(), fill)
        };
        *self = List::Quick(q);
    }

    /// Pushes `e` at `end`.
    pub fn push(&mut self, end: End, e: &[u8], t: &Thresholds) {
        let fill = Fill::new(t.list_max_listpack_size);
        match (&mut *self, end) {
            (List::Packed(n), End::Front) => n.push_front(e),
            (List::Packed(n), End::Back) => n.push_back(e),
            (List::Quick(q), End::Front) => q.push_front(e, fill),
            (List::Quick(q), End::Back) => q.push_back(e, fill),
        }
        self.settle(fill);
    }

    /// Removes `n` elements at `end` (they were read from [`List::view`] first).
    pub fn remove(&mut self, end: End, n: usize) {
        match (self, end) {
            (List::Packed(node), End::Front) => node.remove_front(n),
            (List::Packed(node), End::Back) => node.remove_back(n),
            (List::Quick(q), End::Front) => q.remove_front(n),
            (List::Quick(q), End::Back) => q.remove_back(n),
        }
    }

    /// Replaces element `index` (< len) with `e`.
    pub fn set(&mut self, index: usize, e: &[u8], t: &Thresholds) {
        let fill = Fill::new(t.list_max_listpack_size);
        match self {
            List::Packed(n) => {
                let pos = n.view().pos_of(index);
                n.replace_at(pos, e);
            }
            List::Quick(q) => q.set(index, e, fill),
        }
        self.settle(fill);
    }

    /// Inserts `e` before element `index` (`index` = len appends).
    pub fn insert(&mut self, index: usize, e: &[u8], t: &Thresholds) {
        let fill = Fill::new(t.list_max_listpack_size);
        match self {
            List::Packed(n) => {
                let pos = n.view().pos_of(index);
                n.insert_at(pos, e);
            }
            List::Quick(q) => q.insert(index, e, fill),
        }
        self.settle(fill);
    }

    /// Removes up to `|count|` elements equal to `want` — all if `count` is 0, from the
    /// head if positive, from the tail if negative (LREM). Returns how many.
    pub fn remove_matching(&mut self, want: &[u8], count: i64, t: &Thresholds) -> usize {
        match self {
            List::Packed(n) => {
                let max = usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX);
                n.remove_matching(want, max, count < 0)
            }
            List::Quick(q) => q.remove_matching(want, count, Fill::new(t.list_max_listpack_size)),
        }
    }
}

/// A read-only view of a list, wherever it is held.
#[derive(Clone, Copy)]
pub enum ListRef<'a> {
    /// The packed form.
    Packed(NodeRef<'a>),
    /// The node form.
    Quick(&'a Quick),
}

impl<'a> ListRef<'a> {
    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            ListRef::Packed(n) => n.len(),
            ListRef::Quick(q) => q.len(),
        }
    }

    /// True if empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn node_count(&self) -> usize {
        match self {
            ListRef::Packed(_) => 1,
            ListRef::Quick(q) => q.node_count(),
        }
    }

    fn node(&self, i: usize) -> NodeRef<'a> {
        match self {
            ListRef::Packed(n) => *n,
            ListRef::Quick(q) => q.node(i),
        }
    }

    /// Node and byte position of element `index` (< len).
    fn locate(&self, index: usize) -> (usize, usize) {
        let (i, off) = match self {
            ListRef::Packed(_) => (0, index),
            ListRef::Quick(q) => q.locate(index),
        };
        (i, self.node(i).pos_of(off))
    }

    /// Element `index`, counted from the head.
    pub fn get(&self, index: usize) -> Option<Elem<'a>> {
        if index >= self.len() {
            return None;
        }
        let (i, pos) = self.locate(index);
        Some(self.node(i).at(pos).0)
    }

    /// The index a Redis index names (negative counts from the tail), if in range.
    pub fn index(&self, index: i64) -> Option<usize> {
        let len = self.len() as i64;
        let i = if index < 0 { len + index } else { index };
        (0..len).contains(&i).then_some(i as usize)
    }

    /// Elements from `index` towards the tail.
    pub fn iter_from(&self, index: usize) -> Iter<'a> {
        if index >= self.len() {
            return Iter {
                list: *self,
                node: self.node_count(),
                cur: None,
            };
        }
        let (i, pos) = self.locate(index);
        let n = self.node(i);
        Iter {
            list: *self,
            node: i,
            cur: Some(n.iter_range(pos, n.end())),
        }
    }

    /// Every element, head to tail.
    pub fn iter(&self) -> Iter<'a> {
        self.iter_from(0)
    }

    /// Elements from `index` towards the head.
    pub fn iter_rev_from(&self, index: usize) -> RevIter<'a> {
        if index >= self.len() {
            return RevIter {
                list: *self,
                node: 0,
                cur: None,
            };
        }
        let (i, pos) = self.locate(index);
        let n = self.node(i);
        let end = n.at(pos).1;
        RevIter {
            list: *self,
            node: i,
            cur: Some(n.iter_range(n.first(), end)),
        }
    }

    /// Every element, tail to head.
    pub fn iter_rev(&self) -> RevIter<'a> {
        self.iter_rev_from(self.len().wrapping_sub(1))
    }
}

/// Elements towards the tail.
pub struct Iter<'a> {
    list: ListRef<'a>,
    node: usize,
    cur: Option<node::Iter<'a>>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = Elem<'a>;
    #[inline]
    fn next(&mut self) -> Option<Elem<'a>> {
        loop {
            if let Some(e) = self.cur.as_mut()?.next() {
                return Some(e);
            }
            self.node += 1;
            if self.node >= self.list.node_count() {
                self.cur = None;
                return None;
            }
            self.cur = Some(self.list.node(self.node).iter());
        }
    }
}

/// Elements towards the head.
pub struct RevIter<'a> {
    list: ListRef<'a>,
    node: usize,
    cur: Option<node::Iter<'a>>,
}

impl<'a> Iterator for RevIter<'a> {
    type Item = Elem<'a>;
    #[inline]
    fn next(&mut self) -> Option<Elem<'a>> {
        loop {
            if let Some(e) = self.cur.as_mut()?.next_back() {
                return Some(e);
            }
            if self.node == 0 {
                self.cur = None;
                return None;
            }
            self.node -= 1;
            self.cur = Some(self.list.node(self.node).iter());
        }
    }
}

impl Collection for List {
    fn len(&self) -> usize {
        self.view().len()
    }

    fn heap_bytes(&self) -> usize {
        match self {
            List::Packed(n) => n.heap_bytes(),
            List::Quick(q) => q.heap_bytes(),
        }
    }

    fn encoding(&self) -> &'static str {
        INLINE_ENCODING
    }
}

impl Kind for List {
    const TYPE: ValueType = ValueType::List;
    const BOXED: u8 = kind::LIST;
    type Ref<'a> = ListRef<'a>;

    fn is_inline_kind(k: u8) -> bool {
        k == kind::LIST_PACKED
    }

    fn inline_ref(_k: u8, bytes: &[u8]) -> ListRef<'_> {
        ListRef::Packed(NodeRef::new(bytes))
    }

    fn as_ref(&self) -> ListRef<'_> {
        self.view()
    }

    fn from_inline(_k: u8, bytes: &[u8]) -> Self {
        List::Packed(Node::from_bytes(bytes))
    }

    fn as_inline(&self) -> Option<(u8, &[u8])> {
        match self {
            List::Packed(n) => Some((kind::LIST_PACKED, n.bytes())),
            List::Quick(q) if q.node_count() == 1 && q.node(0).end() <= INLINE_MAX / 2 => {
                Some((kind::LIST_PACKED, q.node(0).bytes()))
            }
            List::Quick(_) => None,
        }
    }
}

/// Elements of an inline value.
pub(crate) fn inline_len(_k: u8, bytes: &[u8]) -> usize {
    NodeRef::new(bytes).len()
}

#[cfg(test)]
mod tests;
