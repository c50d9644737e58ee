//! [`Log`]: a stream's entries and counters (redis-server's `stream` struct without its
//! groups): nodes in an ordered map keyed by their first ID, as Redis keeps listpacks in a
//! radix tree keyed by the big-endian master ID.
//!
//! The rules that decide which node an entry goes in, when a node is removed, and what
//! trimming removes follow `streamAppendItem`, `streamIteratorRemoveEntry` and `streamTrim`
//! step by step, so approximate trimming (`~`) removes exactly what redis-server removes
//! and `XINFO STREAM` reports the same `radix-tree-keys`. `radix-tree-nodes` is the node
//! count of the radix tree Redis would hold for the same keys ([`Log::rax_nodes`]),
//! computed on demand.

use std::collections::btree_map::{self, BTreeMap};
use std::ops::Bound;

use super::id::{ParsedId, StreamId};
use super::node::{EntryRef, Limits, Node, NodeIter, Pairs, MAX_LISTPACK};

/// What a node costs beyond its buffer: its place in the ordered map (key, value, and the
/// map's node overhead spread over its entries).
const NODE_OVERHEAD: usize = 16 + std::mem::size_of::<Node>() + 24;

/// The entries and counters of a stream; see the module doc.
#[derive(Debug, Default)]
pub struct Log {
    nodes: BTreeMap<StreamId, Node>,
    length: u64,
    last_id: StreamId,
    first_id: StreamId,
    max_deleted: StreamId,
    entries_added: u64,
    /// Heap bytes of the nodes, kept up to date.
    heap: usize,
}

/// Why XADD cannot append.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddError {
    /// The ID is not greater than the last one.
    NotGreater,
    /// The entry (or `<ms>-*` at the last sequence) cannot be stored.
    TooLarge,
}

/// A trimming strategy: what must go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trim {
    /// Keep at most this many entries.
    MaxLen(u64),
    /// Drop entries with IDs below this one.
    MinId(StreamId),
}

impl Clone for Log {
    /// A copy (COPY): its buffers are allocated to size, so its heap is counted afresh.
    fn clone(&self) -> Log {
        let nodes = self.nodes.clone();
        let heap = nodes.values().map(|n| n.heap_bytes() + NODE_OVERHEAD).sum();
        Log {
            nodes,
            length: self.length,
            last_id: self.last_id,
            first_id: self.first_id,
            max_deleted: self.max_deleted,
            entries_added: self.entries_added,
            heap,
        }
    }
}

impl Log {
    /// Entries in the stream (not deleted).
    pub fn len(&self) -> u64 {
        self.length
    }

    /// True if no entry is live.
    pub fn is_empty(&self) -> bool {
        self.length == 0
    }

    /// The last ID generated or added (`last-generated-id`).
    pub fn last_id(&self) -> StreamId {
        self.last_id
    }

    /// The first entry's ID as the stream last recorded it (`recorded-first-entry-id`).
    pub fn first_id(&self) -> StreamId {
        self.first_id
    }

    /// The greatest ID ever deleted by XDEL (`max-deleted-entry-id`).
    pub fn max_deleted(&self) -> StreamId {
        self.max_deleted
    }

    /// Entries ever added (`entries-added`).
    pub fn entries_added(&self) -> u64 {
        self.entries_added
    }

    /// XSETID: the last ID, and optionally the entries-added counter and maximal deleted ID.
    pub fn set_id(
        &mut self,
        last: StreamId,
        entries_added: Option<u64>,
        max_deleted: Option<StreamId>,
    ) {
        self.last_id = last;
        if let Some(n) = entries_added {
            self.entries_added = n;
        }
        if let Some(id) = max_deleted {
            self.max_deleted = id;
        }
    }

    /// Heap bytes of the entries.
    pub fn heap_bytes(&self) -> usize {
        self.heap
    }

    /// Number of nodes (`radix-tree-keys`).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The ID an entry added now would get: `requested` as XADD was given it (`None` for
    /// `*`), `now_ms` the clock (`streamAppendItem`'s ID rules, before the size check).
    pub fn next_id(&self, requested: Option<ParsedId>, now_ms: u64) -> Result<StreamId, AddError> {
        let last = self.last_id;
        let id = match requested {
            None => {
                if now_ms > last.ms {
                    StreamId::new(now_ms, 0)
                } else {
                    last.next().ok_or(AddError::NotGreater)?
                }
            }
            Some(ParsedId::Full(id)) => id,
            Some(ParsedId::AutoSeq(ms)) if ms == last.ms => {
                if last.seq == u64::MAX {
                    // redis-server returns here without setting errno, and XADD then
                    // reports whatever errno held, which is not EDOM in practice.
                    return Err(AddError::TooLarge);
                }
                StreamId::new(ms, last.seq + 1)
            }
            Some(ParsedId::AutoSeq(ms)) => StreamId::new(ms, 0),
        };
        if id <= last {
            return Err(AddError::NotGreater);
        }
        Ok(id)
    }

    /// Appends entry `id` (from [`Log::next_id`]) with `pairs`. Fails if the fields and
    /// values together pass Redis's 1 GiB listpack limit.
    pub fn append<'b>(
        &mut self,
        id: StreamId,
        pairs: impl Pairs<'b>,
        limits: Limits,
    ) -> Result<(), AddError> {
        let payload: usize = pairs.clone().map(|(f, v)| f.len() + v.len()).sum();
        if payload > MAX_LISTPACK {
            return Err(AddError::TooLarge);
        }
        let tail = self.nodes.last_entry();
        match tail {
            Some(mut e) if !e.get().is_full(payload, limits) => {
                let key = *e.key();
                let node = e.get_mut();
                let before = node.heap_bytes();
                node.append(key, id, pairs);
                self.heap = self.heap + node.heap_bytes() - before;
            }
            tail => {
                if let Some(mut e) = tail {
                    // The full tail will not grow again: give back its spare room.
                    let node = e.get_mut();
                    let before = node.heap_bytes();
                    node.shrink();
                    self.heap = self.heap + node.heap_bytes() - before;
                }
                let mut node = Node::new(id, pairs);
                node.reserve_for(limits);
                self.heap += node.heap_bytes() + NODE_OVERHEAD;
                self.nodes.insert(id, node);
            }
        }
        self.length += 1;
        self.entries_added += 1;
        self.last_id = id;
        if self.length == 1 {
            self.first_id = id;
        }
        Ok(())
    }

    fn remove_node(&mut self, key: StreamId) {
        if let Some(node) = self.nodes.remove(&key) {
            self.heap -= node.heap_bytes() + NODE_OVERHEAD;
        }
    }

    /// The node that holds `id`, if any could.
    fn node_of(&self, id: StreamId) -> Option<(StreamId, &Node)> {
        self.nodes.range(..=id).next_back().map(|(k, n)| (*k, n))
    }

    /// The live entry `id`.
    pub fn get(&self, id: StreamId) -> Option<EntryRef<'_>> {
        let (key, node) = self.node_of(id)?;
        node.iter(key)
            .take_while(|e| e.id <= id)
            .find(|e| e.id == id && !e.deleted)
    }

    /// True if entry `id` exists and is not deleted.
    pub fn contains(&self, id: StreamId) -> bool {
        self.get(id).is_some()
    }

    /// Deletes the live entry `id` (`streamDeleteItem`): flags it, or removes its node when
    /// it was the node's last live entry. True if it was there.
    fn delete_one(&mut self, id: StreamId) -> bool {
        let Some((key, node)) = self.node_of(id) else {
            return false;
        };
        let Some(at) = node
            .iter(key)
            .take_while(|e| e.id <= id)
            .find(|e| e.id == id && !e.deleted)
            .map(|e| e.at)
        else {
            return false;
        };
        if node.live() == 1 {
            self.remove_node(key);
        } else if let Some(node) = self.nodes.get_mut(&key) {
            node.mark_deleted(at);
        }
        self.length -= 1;
        true
    }

    /// XDEL: deletes each of `ids` that is live, keeping the recorded first ID and the
    /// maximal deleted ID as Redis does. Returns how many were deleted.
    pub fn delete(&mut self, ids: &[StreamId]) -> u64 {
        let mut deleted = 0;
        let mut first_deleted = false;
        for &id in ids {
            if self.delete_one(id) {
                if id == self.first_id {
                    first_deleted = true;
                }
                if id > self.max_deleted {
                    self.max_deleted = id;
                }
                deleted += 1;
            }
        }
        if deleted > 0 {
            if self.length == 0 {
                self.first_id = StreamId::MIN;
            } else if first_deleted {
                self.first_id = self.first_live().unwrap_or(StreamId::MAX);
            }
        }
        deleted
    }

    /// Trims from the oldest entries (`streamTrim`). `approx` removes whole nodes only;
    /// `limit` (0 = none) caps the entries removed. Returns how many were removed.
    pub fn trim(&mut self, how: Trim, approx: bool, limit: u64) -> u64 {
        let mut deleted: u64 = 0;
        let mut from: Option<StreamId> = None;
        loop {
            if let Trim::MaxLen(max) = how {
                if self.length <= max {
                    break;
                }
            }
            let next = match from {
                None => self.nodes.iter().next(),
                Some(k) => self
                    .nodes
                    .range((Bound::Excluded(k), Bound::Unbounded))
                    .next(),
            };
            let Some((&key, node)) = next else {
                break;
            };
            let entries = node.live() as u64;
            if limit != 0 && deleted + entries > limit {
                break;
            }
            let remove = match how {
                Trim::MaxLen(max) => self.length - entries >= max,
                Trim::MinId(min) => node.last() < min,
            };
            if remove {
                self.remove_node(key);
                self.length -= entries;
                deleted += entries;
                from = Some(key);
                continue;
            }
            if approx {
                break;
            }
            // Flag entries from the start of this node until the condition holds.
            let mut marks = Vec::new();
            let mut length = self.length;
            for e in node.iter(key) {
                let stop = match how {
                    Trim::MaxLen(max) => length <= max,
                    Trim::MinId(min) => e.id >= min,
                };
                if stop {
                    break;
                }
                if !e.deleted {
                    marks.push(e.at);
                    length -= 1;
                }
            }
            if let Some(node) = self.nodes.get_mut(&key) {
                for at in &marks {
                    node.mark_deleted(*at);
                }
            }
            self.length = length;
            deleted += marks.len() as u64;
            break;
        }
        if self.length == 0 {
            self.first_id = StreamId::MIN;
        } else if deleted > 0 {
            self.first_id = self.first_live().unwrap_or(StreamId::MAX);
        }
        deleted
    }

    /// The first live entry's ID.
    pub fn first_live(&self) -> Option<StreamId> {
        self.range(StreamId::MIN, StreamId::MAX)
            .next()
            .map(|e| e.id)
    }

    /// The last live entry's ID (`streamLastValidID`).
    pub fn last_live(&self) -> Option<StreamId> {
        self.range_rev(StreamId::MIN, StreamId::MAX)
            .next()
            .map(|e| e.id)
    }

    /// The first entry's ID, deleted or not (`streamGetEdgeID` with tombstones): what a
    /// `MINID ~` trim propagates. `MAX` when there is no entry.
    pub fn first_edge(&self) -> StreamId {
        self.nodes
            .iter()
            .flat_map(|(k, n)| n.iter(*k))
            .next()
            .map_or(StreamId::MAX, |e| e.id)
    }

    /// Live entries from `start` to `end` inclusive, oldest first.
    pub fn range(&self, start: StreamId, end: StreamId) -> Range<'_> {
        // The node holding `start` is the last one keyed at or before it (or the first).
        let from = self.node_of(start).map(|(k, _)| k);
        let nodes = match from {
            Some(k) => self.nodes.range(k..),
            None => self.nodes.range(..),
        };
        Range {
            nodes,
            cur: None,
            start,
            end,
            done: start > end,
        }
    }

    /// Live entries from `end` down to `start` inclusive, newest first.
    pub fn range_rev(&self, start: StreamId, end: StreamId) -> RangeRev<'_> {
        RangeRev {
            nodes: self.nodes.range(..=end),
            buf: Vec::new(),
            start,
            end,
            done: start > end,
        }
    }

    /// True if a deleted entry may lie between `start` and `end` (inclusive; `None` for the
    /// ends of the stream), judged as Redis does from the maximal deleted ID.
    pub fn range_has_tombstones(&self, start: Option<StreamId>, end: Option<StreamId>) -> bool {
        if self.length == 0 || self.max_deleted.is_zero() || self.first_id > self.max_deleted {
            return false;
        }
        let start = start.unwrap_or(StreamId::MIN);
        let end = end.unwrap_or(StreamId::MAX);
        start <= self.max_deleted && self.max_deleted <= end
    }

    /// How many entries were added up to `id` (`streamEstimateDistanceFromFirstEverEntry`),
    /// or `None` where it cannot be known.
    pub fn distance_from_first(&self, id: StreamId) -> Option<u64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if self.length == 0 && id <= self.last_id {
            return Some(self.entries_added);
        }
        if id == self.last_id {
            return Some(self.entries_added);
        }
        if id > self.last_id {
            return None;
        }
        if self.max_deleted.is_zero() || self.max_deleted < self.first_id {
            if id < self.first_id {
                return Some(self.entries_added - self.length);
            }
            if id == self.first_id {
                return Some(self.entries_added - self.length + 1);
            }
        }
        None
    }

    /// The number of nodes of the radix tree redis-server would hold for these node keys
    /// (`radix-tree-nodes`): the tree of the 16-byte big-endian keys with single-child
    /// chains compressed into one node each, plus its root. O(nodes).
    pub fn rax_nodes(&self) -> usize {
        let keys: Vec<[u8; 16]> = self.nodes.keys().map(|k| k.to_be_bytes()).collect();
        if keys.is_empty() {
            return 1;
        }
        rax_subtree(&keys, 0)
    }
}

/// Nodes of the compressed radix tree holding `keys` (sorted, distinct, 16 bytes, sharing
/// their first `depth` bytes), counted from the node at `depth`.
fn rax_subtree(keys: &[[u8; 16]], depth: usize) -> usize {
    if keys.len() == 1 {
        // A chain to the key, then the key's own (empty) node.
        return if depth < 16 { 2 } else { 1 };
    }
    let (first, last) = (&keys[0], &keys[keys.len() - 1]);
    let mut d = depth;
    while first[d] == last[d] {
        d += 1;
    }
    // A compressed node for the shared bytes, if any, then the branching node.
    let mut n = usize::from(d > depth) + 1;
    let mut i = 0;
    while i < keys.len() {
        let mut j = i + 1;
        while j < keys.len() && keys[j][d] == keys[i][d] {
            j += 1;
        }
        n += if d + 1 == 16 {
            1
        } else {
            rax_subtree(&keys[i..j], d + 1)
        };
        i = j;
    }
    n
}

/// Live entries in a range, oldest first (see [`Log::range`]).
pub struct Range<'a> {
    nodes: btree_map::Range<'a, StreamId, Node>,
    cur: Option<NodeIter<'a>>,
    start: StreamId,
    end: StreamId,
    done: bool,
}

impl<'a> Iterator for Range<'a> {
    type Item = EntryRef<'a>;

    fn next(&mut self) -> Option<EntryRef<'a>> {
        while !self.done {
            if let Some(cur) = &mut self.cur {
                for e in cur.by_ref() {
                    if e.id > self.end {
                        self.done = true;
                        return None;
                    }
                    if e.id >= self.start && !e.deleted {
                        return Some(e);
                    }
                }
            }
            match self.nodes.next() {
                Some((k, n)) => {
                    if *k > self.end {
                        self.done = true;
                        return None;
                    }
                    self.cur = Some(n.iter(*k));
                }
                None => self.done = true,
            }
        }
        None
    }
}

/// Live entries in a range, newest first (see [`Log::range_rev`]).
pub struct RangeRev<'a> {
    nodes: btree_map::Range<'a, StreamId, Node>,
    /// The current node's entries that are still to be returned, decoded forward.
    buf: Vec<EntryRef<'a>>,
    start: StreamId,
    end: StreamId,
    done: bool,
}

impl<'a> Iterator for RangeRev<'a> {
    type Item = EntryRef<'a>;

    fn next(&mut self) -> Option<EntryRef<'a>> {
        while !self.done {
            while let Some(e) = self.buf.pop() {
                if e.id < self.start {
                    self.done = true;
                    return None;
                }
                if e.id <= self.end && !e.deleted {
                    return Some(e);
                }
            }
            match self.nodes.next_back() {
                Some((k, n)) => {
                    if n.last() < self.start {
                        self.done = true;
                        return None;
                    }
                    self.buf.clear();
                    self.buf.extend(n.iter(*k).take_while(|e| e.id <= self.end));
                }
                None => self.done = true,
            }
        }
        None
    }
}
