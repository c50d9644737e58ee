//! [`Stream`]: Redis streams (redis-server's t_stream.c data side) — an append-only log of
//! entries with 128-bit IDs, and the consumer groups reading it.
//!
//! * [`id`] — entry IDs, their order and the way arguments name them.
//! * [`node`] — runs of entries packed into one buffer, delta-encoded IDs and field names
//!   shared with the run's first entry.
//! * [`log`] — the entries, as nodes in an ordered map keyed by each node's first ID (Redis's
//!   radix tree of listpacks), with the stream's counters: length, last ID, recorded first
//!   ID, maximal deleted ID, entries added. Appending is O(1) amortised; a range seeks its
//!   first node in O(log nodes).
//! * [`group`] — consumer groups, their pending entries and consumers.
//!
//! A stream is always boxed (entry kind `STREAM`, `OBJECT ENCODING` `stream`). Unlike the
//! other collections an empty stream is kept: `XADD … MAXLEN 0`, XDEL of the last entry and
//! `XGROUP CREATE … MKSTREAM` leave a key holding a stream of no entries, as in Redis, so
//! [`Collection::is_empty`] is always false for streams.
//!
//! Owns: the data structure and its invariants. Not: argument syntax, replies, times (the
//! caller passes "now").

pub mod group;
pub mod id;
pub mod log;
pub mod node;

pub use group::{Consumer, Group, Groups, Nack};
pub use id::{IdBuf, InvalidId, ParsedId, StreamId};
pub use log::{AddError, Log, Trim};

use super::Collection;
use crate::keyspace::entry::{kind, Kind, ValueType};

/// A stream value: its entries and its consumer groups; see the module doc.
#[derive(Clone, Debug, Default)]
pub struct Stream {
    /// The entries and the stream's counters.
    pub log: Log,
    /// The consumer groups, allocated when the first one is created.
    groups: Option<Box<Groups>>,
}

impl Stream {
    /// An empty stream.
    pub fn new() -> Stream {
        Stream::default()
    }

    /// The consumer groups, if any was ever created.
    pub fn groups(&self) -> Option<&Groups> {
        self.groups.as_deref()
    }

    /// The consumer group `name`.
    pub fn group(&self, name: &[u8]) -> Option<&Group> {
        self.groups.as_ref()?.get(name)
    }

    /// The groups for editing, created empty if there were none, with the log beside them
    /// (commands that deliver entries read one while changing the other).
    pub fn parts_mut(&mut self) -> (&Log, &mut Groups) {
        let groups = self.groups.get_or_insert_with(Box::default);
        (&self.log, groups)
    }

    /// The groups for editing, if any exist, with the log beside them.
    pub fn groups_mut(&mut self) -> Option<(&Log, &mut Groups)> {
        let groups = self.groups.as_deref_mut()?;
        Some((&self.log, groups))
    }

    /// Number of consumer groups.
    pub fn group_count(&self) -> usize {
        self.groups.as_ref().map_or(0, |g| g.len())
    }
}

impl Collection for Stream {
    fn len(&self) -> usize {
        self.log.len() as usize
    }

    /// Never: an empty stream stays in the keyspace (see the module doc).
    fn is_empty(&self) -> bool {
        false
    }

    fn heap_bytes(&self) -> usize {
        self.log.heap_bytes()
            + self
                .groups
                .as_ref()
                .map_or(0, |g| std::mem::size_of::<Groups>() + g.heap_bytes())
    }

    fn encoding(&self) -> &'static str {
        "stream"
    }
}

impl Kind for Stream {
    const TYPE: ValueType = ValueType::Stream;
    const BOXED: u8 = kind::STREAM;
    type Ref<'a> = &'a Stream;

    fn is_inline_kind(_k: u8) -> bool {
        false
    }

    fn inline_ref(_k: u8, _bytes: &[u8]) -> &Stream {
        unreachable!("streams are never inline: is_inline_kind is false for every kind")
    }

    fn as_ref(&self) -> &Stream {
        self
    }

    fn from_inline(_k: u8, _bytes: &[u8]) -> Self {
        unreachable!("streams are never inline: is_inline_kind is false for every kind")
    }

    fn as_inline(&self) -> Option<(u8, &[u8])> {
        None
    }
}

#[cfg(test)]
mod tests;
