//! [`BTree`]: an order-statistic B+tree of `(score, member node)` keys, the ordered half of
//! [`super::tree::ZTree`].
//!
//! Leaves hold up to [`LEAF_CAP`] keys (16 bytes each: the score, so most comparisons need
//! no pointer chase, and the member node); inner nodes hold up to [`INNER_CAP`] children
//! with each child's first key and element count. The counts make rank and select
//! O(log n), as a skiplist's spans do for redis-server. Keys order by score, then member
//! bytes (redis-server's `zslInsert` order; `-0` and `0` compare equal).
//!
//! A full leaf splits in half, except when the new key goes at either end, where the new
//! leaf takes only that key: scores that only grow (timestamps, counters) then fill leaves
//! to the brim instead of to half. A node left under a quarter full after a delete merges
//! with a neighbour or borrows from it.

use std::cmp::Ordering;
use std::ptr::NonNull;

use super::tree::node;

/// Keys per leaf.
pub const LEAF_CAP: usize = 64;
/// Children per inner node.
pub const INNER_CAP: usize = 64;

/// A tree key: a score and the member node it belongs to.
#[derive(Clone, Copy, Debug)]
pub struct Key {
    /// The score (also in the node; kept here so comparisons rarely touch the node).
    pub score: f64,
    /// The member node.
    pub node: NonNull<u8>,
}

impl Key {
    #[inline]
    fn member<'a>(&self) -> &'a [u8] {
        // SAFETY: keys only point at live nodes of the set that owns the tree (see
        // `ZTree`), and are only read while it is borrowed.
        unsafe { node::member(self.node) }
    }

    /// Order against `(score, member)`.
    #[inline]
    fn cmp_to(&self, score: f64, member: &[u8]) -> Ordering {
        match self.score.partial_cmp(&score) {
            Some(Ordering::Equal) | None => self.member().cmp(member),
            Some(o) => o,
        }
    }
}

struct Inner {
    firsts: Vec<Key>,
    counts: Vec<usize>,
    children: Vec<Node>,
}

enum Node {
    Leaf(Vec<Key>),
    Inner(Box<Inner>),
}

/// Nodes allocated, for the memory count.
#[derive(Default, Clone, Copy)]
struct Nodes {
    leaves: usize,
    inners: usize,
}

fn new_leaf(nodes: &mut Nodes) -> Vec<Key> {
    nodes.leaves += 1;
    Vec::with_capacity(LEAF_CAP)
}

fn new_inner(nodes: &mut Nodes) -> Box<Inner> {
    nodes.inners += 1;
    Box::new(Inner {
        firsts: Vec::with_capacity(INNER_CAP + 1),
        counts: Vec::with_capacity(INNER_CAP + 1),
        children: Vec::with_capacity(INNER_CAP + 1),
    })
}

impl Node {
    fn first(&self) -> Key {
        match self {
            Node::Leaf(v) => v[0],
            Node::Inner(n) => n.firsts[0],
        }
    }

    fn count(&self) -> usize {
        match self {
            Node::Leaf(v) => v.len(),
            Node::Inner(n) => n.counts.iter().sum(),
        }
    }

    /// Keys or children held (what the capacity bounds).
    fn width(&self) -> usize {
        match self {
            Node::Leaf(v) => v.len(),
            Node::Inner(n) => n.children.len(),
        }
    }

    fn cap(&self) -> usize {
        match self {
            Node::Leaf(_) => LEAF_CAP,
            Node::Inner(_) => INNER_CAP,
        }
    }
}

impl Inner {
    /// The child whose range holds `(score, member)`.
    #[inline]
    fn child_for(&self, score: f64, member: &[u8]) -> usize {
        self.firsts
            .partition_point(|k| k.cmp_to(score, member) != Ordering::Greater)
            .saturating_sub(1)
    }

    fn insert_child(&mut self, at: usize, child: Node) {
        self.firsts.insert(at, child.first());
        self.counts.insert(at, child.count());
        self.children.insert(at, child);
    }

    fn remove_child(&mut self, at: usize) -> Node {
        self.firsts.remove(at);
        self.counts.remove(at);
        self.children.remove(at)
    }

    fn refresh(&mut self, i: usize) {
        self.firsts[i] = self.children[i].first();
        self.counts[i] = self.children[i].count();
    }
}

/// The tree; see the module doc.
pub struct BTree {
    root: Node,
    len: usize,
    nodes: Nodes,
}

impl Default for BTree {
    fn default() -> Self {
        BTree {
            root: Node::Leaf(Vec::new()),
            len: 0,
            nodes: Nodes::default(),
        }
    }
}

fn insert_into(node: &mut Node, key: Key, nodes: &mut Nodes) -> Option<Node> {
    match node {
        Node::Leaf(v) => {
            let member = key.member();
            let pos = v.partition_point(|k| k.cmp_to(key.score, member) == Ordering::Less);
            if v.len() < LEAF_CAP {
                if v.capacity() == 0 {
                    nodes.leaves += 1;
                    v.reserve_exact(LEAF_CAP);
                }
                v.insert(pos, key);
                return None;
            }
            let mut right = new_leaf(nodes);
            if pos == v.len() {
                right.push(key);
            } else if pos == 0 {
                std::mem::swap(v, &mut right);
                v.push(key);
            } else {
                let mid = LEAF_CAP / 2;
                right.extend_from_slice(&v[mid..]);
                v.truncate(mid);
                if pos <= mid {
                    v.insert(pos, key);
                } else {
                    right.insert(pos - mid, key);
                }
            }
            Some(Node::Leaf(right))
        }
        Node::Inner(n) => {
            let i = n.child_for(key.score, key.member());
            let split = insert_into(&mut n.children[i], key, nodes);
            n.counts[i] += 1;
            n.firsts[i] = n.children[i].first();
            let right = split?;
            n.counts[i] = n.children[i].count();
            n.insert_child(i + 1, right);
            if n.children.len() <= INNER_CAP {
                return None;
            }
            let mut r = new_inner(nodes);
            // Split off only the new child when it came last (growing scores), else half.
            let mid = if i + 1 == n.children.len() - 1 {
                n.children.len() - 1
            } else {
                n.children.len() / 2
            };
            r.firsts.extend(n.firsts.drain(mid..));
            r.counts.extend(n.counts.drain(mid..));
            r.children.extend(n.children.drain(mid..));
            Some(Node::Inner(r))
        }
    }
}

/// Rebalances child `i` of `n` if it is under a quarter full (or empty).
fn rebalance(n: &mut Inner, i: usize, nodes: &mut Nodes) {
    let width = n.children[i].width();
    if width == 0 {
        // An empty child goes (its first key would point at a freed node).
        match n.remove_child(i) {
            Node::Leaf(_) => nodes.leaves -= 1,
            Node::Inner(_) => nodes.inners -= 1,
        }
        return;
    }
    if n.children.len() < 2 || width >= n.children[i].cap() / 4 {
        return;
    }
    let (a, b) = if i > 0 { (i - 1, i) } else { (i, i + 1) };
    let total = n.children[a].width() + n.children[b].width();
    let (left, right) = n.children.split_at_mut(b);
    let (l, r) = (&mut left[a], &mut right[0]);
    match (l, r) {
        (Node::Leaf(l), Node::Leaf(r)) => {
            if total <= LEAF_CAP {
                l.append(r);
            } else {
                let want = total / 2;
                if l.len() < want {
                    let k = want - l.len();
                    l.extend(r.drain(..k));
                } else {
                    let k = l.len() - want;
                    let at = l.len() - k;
                    let moved: Vec<Key> = l.drain(at..).collect();
                    r.splice(0..0, moved);
                }
            }
        }
        (Node::Inner(l), Node::Inner(r)) => {
            if total <= INNER_CAP {
                l.firsts.append(&mut r.firsts);
                l.counts.append(&mut r.counts);
                l.children.append(&mut r.children);
            } else {
                let want = total / 2;
                if l.children.len() < want {
                    let k = want - l.children.len();
                    l.firsts.extend(r.firsts.drain(..k));
                    l.counts.extend(r.counts.drain(..k));
                    l.children.extend(r.children.drain(..k));
                } else {
                    let at = want;
                    let f: Vec<Key> = l.firsts.drain(at..).collect();
                    let c: Vec<usize> = l.counts.drain(at..).collect();
                    let ch: Vec<Node> = l.children.drain(at..).collect();
                    r.firsts.splice(0..0, f);
                    r.counts.splice(0..0, c);
                    r.children.splice(0..0, ch);
                }
            }
        }
        // Siblings are always at the same depth.
        _ => return,
    }
    if n.children[b].width() == 0 {
        match n.remove_child(b) {
            Node::Leaf(_) => nodes.leaves -= 1,
            Node::Inner(_) => nodes.inners -= 1,
        }
        n.refresh(a);
    } else {
        n.refresh(a);
        n.refresh(b);
    }
}

fn remove_from(node: &mut Node, score: f64, member: &[u8], nodes: &mut Nodes) -> bool {
    match node {
        Node::Leaf(v) => match v.binary_search_by(|k| k.cmp_to(score, member)) {
            Ok(pos) => {
                v.remove(pos);
                true
            }
            Err(_) => false,
        },
        Node::Inner(n) => {
            let i = n.child_for(score, member);
            if !remove_from(&mut n.children[i], score, member, nodes) {
                return false;
            }
            n.counts[i] -= 1;
            if n.children[i].width() > 0 {
                n.firsts[i] = n.children[i].first();
            }
            rebalance(n, i, nodes);
            true
        }
    }
}

impl BTree {
    /// Number of keys.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True if empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Heap bytes of the tree's nodes.
    pub fn heap_bytes(&self) -> usize {
        self.nodes.leaves * LEAF_CAP * std::mem::size_of::<Key>()
            + self.nodes.inners
                * (std::mem::size_of::<Inner>()
                    + (INNER_CAP + 1)
                        * (std::mem::size_of::<Key>()
                            + std::mem::size_of::<usize>()
                            + std::mem::size_of::<Node>()))
    }

    /// Inserts `key` (its member must not be in the tree).
    pub fn insert(&mut self, key: Key) {
        if let Some(right) = insert_into(&mut self.root, key, &mut self.nodes) {
            let mut root = new_inner(&mut self.nodes);
            let left = std::mem::replace(&mut self.root, Node::Leaf(Vec::new()));
            root.insert_child(0, left);
            root.insert_child(1, right);
            self.root = Node::Inner(root);
        }
        self.len += 1;
    }

    /// Removes the key of `(score, member)`; true if it was there.
    pub fn remove(&mut self, score: f64, member: &[u8]) -> bool {
        if !remove_from(&mut self.root, score, member, &mut self.nodes) {
            return false;
        }
        self.len -= 1;
        // Shrink the root while it is an inner node with one child.
        loop {
            match &mut self.root {
                Node::Inner(n) if n.children.len() <= 1 => {
                    let child = n.children.pop().unwrap_or(Node::Leaf(Vec::new()));
                    self.root = child;
                    self.nodes.inners -= 1;
                }
                Node::Leaf(v) if v.is_empty() && v.capacity() > 0 => {
                    *v = Vec::new();
                    self.nodes.leaves -= 1;
                    break;
                }
                _ => break,
            }
        }
        true
    }

    /// The 0-based rank of `(score, member)`.
    pub fn rank(&self, score: f64, member: &[u8]) -> Option<usize> {
        let mut node = &self.root;
        let mut acc = 0;
        loop {
            match node {
                Node::Leaf(v) => {
                    return v
                        .binary_search_by(|k| k.cmp_to(score, member))
                        .ok()
                        .map(|p| acc + p)
                }
                Node::Inner(n) => {
                    let i = n.child_for(score, member);
                    acc += n.counts[..i].iter().sum::<usize>();
                    node = &n.children[i];
                }
            }
        }
    }

    /// The key at `rank`.
    pub fn select(&self, mut rank: usize) -> Option<Key> {
        if rank >= self.len {
            return None;
        }
        let mut node = &self.root;
        loop {
            match node {
                Node::Leaf(v) => return v.get(rank).copied(),
                Node::Inner(n) => {
                    let mut i = 0;
                    while i + 1 < n.counts.len() && rank >= n.counts[i] {
                        rank -= n.counts[i];
                        i += 1;
                    }
                    node = &n.children[i];
                }
            }
        }
    }

    /// How many keys, from the first, satisfy `pred` (which holds for a prefix).
    pub fn partition(&self, pred: impl Fn(&Key) -> bool) -> usize {
        let mut node = &self.root;
        let mut acc = 0;
        loop {
            match node {
                Node::Leaf(v) => return acc + v.partition_point(&pred),
                Node::Inner(n) => {
                    let j = n.firsts.partition_point(&pred);
                    if j == 0 {
                        return acc;
                    }
                    acc += n.counts[..j - 1].iter().sum::<usize>();
                    node = &n.children[j - 1];
                }
            }
        }
    }

    /// Keys from `rank` on (or down to the first, `rev`).
    pub fn iter_from(&self, rank: usize, rev: bool) -> Iter<'_> {
        let mut it = Iter {
            stack: Vec::new(),
            leaf: &[],
            idx: 0,
            rev,
            done: rank >= self.len,
        };
        if it.done {
            return it;
        }
        let mut node = &self.root;
        let mut rank = rank;
        loop {
            match node {
                Node::Leaf(v) => {
                    it.leaf = v;
                    it.idx = rank;
                    return it;
                }
                Node::Inner(n) => {
                    let mut i = 0;
                    while i + 1 < n.counts.len() && rank >= n.counts[i] {
                        rank -= n.counts[i];
                        i += 1;
                    }
                    it.stack.push((n, i));
                    node = &n.children[i];
                }
            }
        }
    }

    /// Checks the tree's invariants (tests).
    #[cfg(test)]
    pub fn check(&self) {
        fn walk(n: &Node, depth: usize, leaf_depth: &mut Option<usize>, root: bool) -> usize {
            match n {
                Node::Leaf(v) => {
                    assert!(v.len() <= LEAF_CAP);
                    assert!(root || !v.is_empty());
                    for w in v.windows(2) {
                        assert_eq!(w[0].cmp_to(w[1].score, w[1].member()), Ordering::Less);
                    }
                    match leaf_depth {
                        Some(d) => assert_eq!(*d, depth),
                        None => *leaf_depth = Some(depth),
                    }
                    v.len()
                }
                Node::Inner(inner) => {
                    assert!(inner.children.len() <= INNER_CAP);
                    assert!(inner.children.len() >= 2 || !root);
                    let mut total = 0;
                    for (i, c) in inner.children.iter().enumerate() {
                        let cnt = walk(c, depth + 1, leaf_depth, false);
                        assert_eq!(cnt, inner.counts[i]);
                        let f = c.first();
                        assert_eq!(f.node, inner.firsts[i].node);
                        total += cnt;
                    }
                    total
                }
            }
        }
        let mut d = None;
        assert_eq!(walk(&self.root, 0, &mut d, true), self.len);
    }
}

/// An iterator over keys from a rank, forward or backward.
pub struct Iter<'a> {
    stack: Vec<(&'a Inner, usize)>,
    leaf: &'a [Key],
    idx: usize,
    rev: bool,
    done: bool,
}

impl<'a> Iter<'a> {
    /// Moves to the next leaf (forward or backward); false at the end.
    fn step_leaf(&mut self) -> bool {
        loop {
            let Some((n, i)) = self.stack.pop() else {
                return false;
            };
            let next = if self.rev {
                if i == 0 {
                    continue;
                }
                i - 1
            } else {
                if i + 1 >= n.children.len() {
                    continue;
                }
                i + 1
            };
            self.stack.push((n, next));
            let mut node = &n.children[next];
            loop {
                match node {
                    Node::Leaf(v) => {
                        self.leaf = v;
                        self.idx = if self.rev {
                            v.len().saturating_sub(1)
                        } else {
                            0
                        };
                        return !v.is_empty();
                    }
                    Node::Inner(m) => {
                        let at = if self.rev { m.children.len() - 1 } else { 0 };
                        self.stack.push((m, at));
                        node = &m.children[at];
                    }
                }
            }
        }
    }
}

impl Iterator for Iter<'_> {
    type Item = Key;

    #[inline]
    fn next(&mut self) -> Option<Key> {
        if self.done {
            return None;
        }
        let k = *self.leaf.get(self.idx)?;
        if self.rev {
            if self.idx > 0 {
                self.idx -= 1;
            } else if !self.step_leaf() {
                self.done = true;
            }
        } else if self.idx + 1 < self.leaf.len() {
            self.idx += 1;
        } else if !self.step_leaf() {
            self.done = true;
        }
        Some(k)
    }
}
