//! [`Quick`]: a big list as a sequence of packed [`Node`]s (redis-server's quicklist), and
//! [`Fill`], the node size rule of `list-max-listpack-size`.
//!
//! The nodes sit in a `VecDeque`, so pushing or popping at either end touches one node and
//! is O(1) amortised (a node is bounded, so inserting at its front is a bounded `memmove`,
//! as in a listpack). Finding index `i` walks node counts from the nearer end and then the
//! node from its nearer end: O(N / node size + node size), Redis's cost. A node that grows
//! past the fill rule (LINSERT, LSET) is split where it must be; small neighbours left by a
//! split or by LREM are merged back when the result fits, as quicklist merges them.
//!
//! Owns: node bookkeeping (element count, heap bytes, splits, merges). Not: encodings
//! visible to clients (a list is always `quicklist`), command semantics.

use std::collections::VecDeque;

use super::node::{Elem, Node, NodeRef};

/// Capacity a new node starts with; doubling from it meets the power-of-two node limits.
const NODE_START: usize = 64;

/// How big a node may grow: `list-max-listpack-size` as redis-server reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fill {
    /// Most bytes a node of several elements may hold.
    pub bytes: usize,
    /// Most elements a node may hold.
    pub count: usize,
}

impl Fill {
    /// The rule for a `list-max-listpack-size` value: -1..-5 limit a node to 4, 8, 16, 32 or
    /// 64 KiB (values below -5 act as -5); a positive value limits it to that many elements
    /// and, as redis-server's safety limit, to 8 KiB (values above 32767 act as 32767). 0
    /// puts each element in its own node.
    pub fn new(list_max_listpack_size: i64) -> Fill {
        let f = list_max_listpack_size.clamp(-5, 32767);
        if f < 0 {
            Fill {
                bytes: 4096 << (-f - 1),
                count: usize::MAX,
            }
        } else {
            Fill {
                bytes: 8192,
                count: (f as usize).max(1),
            }
        }
    }

    /// True if `node` may take an element of `add` bytes more (an empty node takes any).
    pub fn allows(&self, node: NodeRef<'_>, add: usize) -> bool {
        node.is_empty() || (node.end() + add <= self.bytes && node.len() < self.count)
    }

    /// True if a node of `size` bytes and `count` elements keeps the rule (a single element
    /// always does).
    pub fn fits(&self, size: usize, count: usize) -> bool {
        count <= 1 || (size <= self.bytes && count <= self.count)
    }
}

/// A list of packed nodes; see the module doc.
#[derive(Clone, Debug, Default)]
pub struct Quick {
    nodes: VecDeque<Node>,
    /// Elements in all nodes.
    len: usize,
    /// Capacity of all node buffers.
    heap: usize,
}

impl Quick {
    /// A list of one node.
    pub fn from_node(node: Node) -> Quick {
        let mut q = Quick::default();
        if !node.is_empty() {
            q.insert_node(0, node);
        }
        q
    }

    /// A list of `elems`, packed into nodes as `fill` allows.
    pub fn from_elems<'e>(elems: impl Iterator<Item = Elem<'e>>, fill: Fill) -> Quick {
        let mut q = Quick::default();
        for node in pack(elems, fill) {
            let at = q.nodes.len();
            q.insert_node(at, node);
        }
        q
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True if there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Node `i`.
    pub fn node(&self, i: usize) -> NodeRef<'_> {
        self.nodes[i].view()
    }

    /// Heap bytes held: node buffers and the node array.
    pub fn heap_bytes(&self) -> usize {
        self.heap + self.nodes.capacity() * std::mem::size_of::<Node>()
    }

    /// Node and offset in it of element `index` (< len), walking from the nearer end.
    pub fn locate(&self, index: usize) -> (usize, usize) {
        debug_assert!(index < self.len);
        if index <= self.len / 2 {
            let mut acc = 0;
            for (i, n) in self.nodes.iter().enumerate() {
                let c = n.len();
                if index < acc + c {
                    return (i, index - acc);
                }
                acc += c;
            }
        } else {
            let mut acc = self.len;
            for (i, n) in self.nodes.iter().enumerate().rev() {
                acc -= n.len();
                if index >= acc {
                    return (i, index - acc);
                }
            }
        }
        // Unreachable while `len` is the sum of the node counts.
        (self.nodes.len().saturating_sub(1), 0)
    }

    /// Runs `f` on node `i`, keeping the element count and heap bytes up to date.
    fn edit<R>(&mut self, i: usize, f: impl FnOnce(&mut Node) -> R) -> R {
        let node = &mut self.nodes[i];
        let (len, cap) = (node.len(), node.heap_bytes());
        let r = f(node);
        self.len = self.len - len + node.len();
        self.heap = self.heap - cap + node.heap_bytes();
        r
    }

    fn insert_node(&mut self, i: usize, node: Node) {
        self.len += node.len();
        self.heap += node.heap_bytes();
        self.nodes.insert(i, node);
    }

    fn remove_node(&mut self, i: usize) -> Option<Node> {
        let node = self.nodes.remove(i)?;
        self.len -= node.len();
        self.heap -= node.heap_bytes();
        Some(node)
    }

    /// A fresh node holding `e`, with room to grow by doubling up to the node limit.
    fn single(e: &[u8], fill: Fill) -> Node {
        let need = e.len().saturating_add(48);
        let cap = if need <= fill.bytes {
            need.next_power_of_two().max(NODE_START)
        } else {
            need
        };
        let mut n = Node::with_capacity(cap);
        n.push_back(e);
        n
    }

    /// Appends an element.
    pub fn push_back(&mut self, e: &[u8], fill: Fill) {
        if let Some(last) = self.nodes.back() {
            let v = last.view();
            if fill.allows(v, v.encoded_size(Elem::whole(e))) {
                let i = self.nodes.len() - 1;
                self.edit(i, |n| n.push_back(e));
                return;
            }
            // The old end node is full: give back its spare room.
            let i = self.nodes.len() - 1;
            self.edit(i, Node::shrink_to_fit);
        }
        let at = self.nodes.len();
        self.insert_node(at, Quick::single(e, fill));
    }

    /// Prepends an element.
    pub fn push_front(&mut self, e: &[u8], fill: Fill) {
        if let Some(first) = self.nodes.front() {
            let v = first.view();
            if fill.allows(v, v.encoded_size(Elem::whole(e))) {
                self.edit(0, |n| n.push_front(e));
                return;
            }
            self.edit(0, Node::shrink_to_fit);
        }
        self.insert_node(0, Quick::single(e, fill));
    }

    /// Removes the first `n` elements.
    pub fn remove_front(&mut self, mut n: usize) {
        while n > 0 {
            let Some(first) = self.nodes.front() else {
                return;
            };
            let c = first.len();
            if c <= n {
                self.remove_node(0);
                n -= c;
            } else {
                self.edit(0, |x| x.remove_front(n));
                n = 0;
            }
        }
    }

    /// Removes the last `n` elements.
    pub fn remove_back(&mut self, mut n: usize) {
        while n > 0 {
            let Some(last) = self.nodes.back() else {
                return;
            };
            let (i, c) = (self.nodes.len() - 1, last.len());
            if c <= n {
                self.remove_node(i);
                n -= c;
            } else {
                self.edit(i, |x| x.remove_back(n));
                n = 0;
            }
        }
    }

    /// Inserts `e` before element `index` (`index` = len appends).
    pub fn insert(&mut self, index: usize, e: &[u8], fill: Fill) {
        if index == 0 {
            return self.push_front(e, fill);
        }
        if index >= self.len {
            return self.push_back(e, fill);
        }
        let (i, off) = self.locate(index);
        let v = self.nodes[i].view();
        if fill.allows(v, v.encoded_size(Elem::whole(e))) {
            let pos = v.pos_of(off);
            self.edit(i, |n| n.insert_at(pos, e));
            return;
        }
        if off == 0 {
            // Between two nodes: the end of the previous one, if it has room.
            let p = self.nodes[i - 1].view();
            if fill.allows(p, p.encoded_size(Elem::whole(e))) {
                self.edit(i - 1, |n| n.push_back(e));
            } else {
                self.insert_node(i, Quick::single(e, fill));
                self.merge_around(i, fill);
            }
            return;
        }
        // Inside a full node: split it there and put the element on whichever side has room.
        let right = self.edit(i, |n| n.split_off(off));
        self.insert_node(i + 1, right);
        let (l, r) = (self.nodes[i].view(), self.nodes[i + 1].view());
        let at = if fill.allows(l, l.encoded_size(Elem::whole(e))) {
            self.edit(i, |n| n.push_back(e));
            i
        } else if fill.allows(r, r.encoded_size(Elem::whole(e))) {
            self.edit(i + 1, |n| n.push_front(e));
            i + 1
        } else {
            self.insert_node(i + 1, Quick::single(e, fill));
            i + 1
        };
        self.merge_around(at, fill);
    }

    /// Replaces element `index` (< len) with `e`.
    pub fn set(&mut self, index: usize, e: &[u8], fill: Fill) {
        let (i, off) = self.locate(index);
        self.edit(i, |n| {
            let pos = n.view().pos_of(off);
            n.replace_at(pos, e);
        });
        let n = &self.nodes[i];
        if !fill.fits(n.size(), n.len()) {
            self.repack(i, fill);
        }
    }

    /// Removes up to `|count|` elements equal to `want` (all if 0): the first ones, or the
    /// last ones if `count` is negative (LREM). Returns how many it removed.
    pub fn remove_matching(&mut self, want: &[u8], count: i64, fill: Fill) -> usize {
        let limit = usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX);
        let from_back = count < 0;
        let mut removed = 0;
        let n = self.nodes.len();
        let (mut lo, mut hi) = (n, 0);
        // lo..=hi: the nodes something was removed from.
        for k in 0..n {
            if limit != 0 && removed >= limit {
                break;
            }
            let i = if from_back { n - 1 - k } else { k };
            let left = if limit == 0 { 0 } else { limit - removed };
            let r = self.edit(i, |node| node.remove_matching(want, left, from_back));
            if r > 0 {
                removed += r;
                lo = lo.min(i);
                hi = hi.max(i);
            }
        }
        if removed == 0 {
            return 0;
        }
        // Drop the emptied nodes, then merge what is small in and around the touched span
        // `lo..end` (each pair (i, i + 1) with i from just before it to its last node).
        let mut end = hi + 1;
        for i in (lo..=hi).rev() {
            if self.nodes[i].is_empty() {
                self.remove_node(i);
                end -= 1;
            }
        }
        let mut i = lo.saturating_sub(1);
        while i < end && i + 1 < self.nodes.len() {
            if self.try_merge(i, fill) {
                end -= 1;
            } else {
                i += 1;
            }
        }
        removed
    }

    /// Splits node `i` into nodes that keep `fill`, then merges around them.
    fn repack(&mut self, i: usize, fill: Fill) {
        let Some(node) = self.remove_node(i) else {
            return;
        };
        let parts = pack(node.view().iter(), fill);
        let k = parts.len();
        for (j, part) in parts.into_iter().enumerate() {
            self.insert_node(i + j, part);
        }
        self.merge_around(i + k.saturating_sub(1), fill);
        if k > 1 {
            self.merge_around(i, fill);
        }
    }

    /// Tries to merge node `i` with its neighbours.
    fn merge_around(&mut self, i: usize, fill: Fill) {
        let i = if i > 0 && self.try_merge(i - 1, fill) {
            i - 1
        } else {
            i
        };
        self.try_merge(i, fill);
    }

    /// Merges nodes `i` and `i + 1` if the result keeps `fill`. Returns true if merged.
    fn try_merge(&mut self, i: usize, fill: Fill) -> bool {
        if i + 1 >= self.nodes.len() {
            return false;
        }
        let (a, b) = (&self.nodes[i], &self.nodes[i + 1]);
        let count = a.len() + b.len();
        // Cheap rejections before sizing the re-encoded elements.
        if count > fill.count || a.size() + b.size() > 2 * fill.bytes {
            return false;
        }
        if !fill.fits(a.size() + a.merged_size(b.view()), count) {
            return false;
        }
        let Some(b) = self.remove_node(i + 1) else {
            return false;
        };
        self.edit(i, |a| {
            a.append(b.view());
            a.shrink_to_fit();
        });
        true
    }
}

/// Packs `elems` into nodes, each as full as `fill` allows.
fn pack<'e>(elems: impl Iterator<Item = Elem<'e>>, fill: Fill) -> Vec<Node> {
    let mut nodes: Vec<Node> = Vec::new();
    let mut cur = Node::with_capacity(NODE_START);
    for e in elems {
        let v = cur.view();
        if !fill.allows(v, v.encoded_size(e)) {
            let mut full = std::mem::replace(&mut cur, Node::with_capacity(NODE_START));
            full.shrink_to_fit();
            nodes.push(full);
        }
        let end = cur.size();
        cur.insert_elem(end, e);
    }
    if !cur.is_empty() {
        cur.shrink_to_fit();
        nodes.push(cur);
    }
    nodes
}

#[cfg(test)]
impl Quick {
    /// Checks the bookkeeping against the nodes: counts, heap bytes, no empty node, every
    /// node within `fill`.
    pub(crate) fn check(&self, fill: Fill) -> Result<(), String> {
        let len: usize = self.nodes.iter().map(Node::len).sum();
        let heap: usize = self.nodes.iter().map(Node::heap_bytes).sum();
        if len != self.len || heap != self.heap {
            return Err(format!(
                "bookkeeping: len {} vs {len}, heap {} vs {heap}",
                self.len, self.heap
            ));
        }
        for (i, n) in self.nodes.iter().enumerate() {
            if n.is_empty() {
                return Err(format!("node {i} is empty"));
            }
            if !fill.fits(n.size(), n.len()) {
                return Err(format!(
                    "node {i} breaks {fill:?}: {} bytes, {} elements",
                    n.size(),
                    n.len()
                ));
            }
        }
        Ok(())
    }
}
