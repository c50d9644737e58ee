//! The Redis value types other than strings, as owned data structures the keyspace hangs off
//! its entries (see [`crate::keyspace::entry`]).
//!
//! Each type is one module: [`hash::Hash`], [`list::List`], [`set::Set`], [`zset::ZSet`],
//! [`stream::Stream`]. Each keeps Redis's two-encoding design — a compact packed form for
//! small values (one allocation, cache friendly, like Redis's listpack and intset) and the
//! structure that gives Redis's complexity for big ones — and switches at the thresholds of
//! [`Thresholds`], which are the `*-max-*` parameters of `CONFIG SET`.
//!
//! Two modules work on strings rather than collections: [`bits`] (strings as bitmaps and
//! bit fields) and [`hll`] (HyperLogLog in redis-server's string representation).
//!
//! Owns: the data structures and their operations. Not: command syntax, replies, the
//! keyspace (a type never sees its key or its TTL).
//!
//! Every type implements [`Collection`]: its element count, the heap bytes it owns (kept up
//! to date as it changes, so the keyspace's memory accounting is O(1) per write), and its
//! `OBJECT ENCODING` name.

pub mod bits;
pub mod geohash;
pub mod hash;
pub mod hll;
pub mod intset;
pub mod list;
pub mod listpack;
pub mod members;
pub mod pairs;
pub mod set;
pub mod stream;
pub mod varint;
pub mod zset;

pub use hash::Hash;
pub use list::List;
pub use set::Set;
pub use stream::Stream;
pub use zset::ZSet;

/// Most bytes of a packed hash, set or sorted set held inline in its entry. Editing an inline
/// value copies it out and builds a new entry, which costs its size on every write; past
/// this size the packed form lives in the value's box and is edited in place (redis-server
/// likewise reallocates its listpacks). Lists keep their own bound ([`list::INLINE_MAX`]).
pub const PACKED_INLINE_MAX: usize = 2048;

/// What the keyspace needs of every collection type.
pub trait Collection: Clone {
    /// Number of elements (fields, members, entries). A collection reaching zero is deleted
    /// from the keyspace, as Redis deletes empty collections.
    fn len(&self) -> usize;

    /// True when there are no elements.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Heap bytes owned by the value (not counting the entry that points at it). O(1).
    fn heap_bytes(&self) -> usize;

    /// The name `OBJECT ENCODING` prints (`listpack`, `hashtable`, `quicklist`, …).
    fn encoding(&self) -> &'static str;
}

/// The encoding thresholds of every type, as redis-server 7.0 names and defaults them
/// (`CONFIG GET hash-max-listpack-entries` …). A value converts to its big encoding once
/// it passes one; like Redis, it does not convert back when it shrinks (except lists, which
/// Redis 7.0 does not convert back either).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// `hash-max-listpack-entries` (alias `hash-max-ziplist-entries`).
    pub hash_max_listpack_entries: usize,
    /// `hash-max-listpack-value` (alias `hash-max-ziplist-value`).
    pub hash_max_listpack_value: usize,
    /// `set-max-intset-entries`.
    pub set_max_intset_entries: usize,
    /// `zset-max-listpack-entries` (alias `zset-max-ziplist-entries`).
    pub zset_max_listpack_entries: usize,
    /// `zset-max-listpack-value` (alias `zset-max-ziplist-value`).
    pub zset_max_listpack_value: usize,
    /// `list-max-listpack-size` (alias `list-max-ziplist-size`): positive = entries per node,
    /// -1..-5 = node size limit of 4, 8, 16, 32, 64 KiB.
    pub list_max_listpack_size: i64,
    /// `list-compress-depth`: nodes at each end left uncompressed (0 = none compressed).
    pub list_compress_depth: usize,
    /// `stream-node-max-bytes`.
    pub stream_node_max_bytes: usize,
    /// `stream-node-max-entries`.
    pub stream_node_max_entries: usize,
    /// List elements above this size are stored on their own (DEBUG
    /// QUICKLIST-PACKED-THRESHOLD; 1 GiB by default, as redis-server).
    pub quicklist_packed_threshold: usize,
    /// `hll-sparse-max-bytes`: the longest a sparse HyperLogLog string may grow (header
    /// included) before it is converted to the dense encoding.
    pub hll_sparse_max_bytes: usize,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            hash_max_listpack_entries: 512,
            hash_max_listpack_value: 64,
            set_max_intset_entries: 512,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
            list_max_listpack_size: -2,
            list_compress_depth: 0,
            stream_node_max_bytes: 4096,
            stream_node_max_entries: 100,
            quicklist_packed_threshold: 1 << 30,
            hll_sparse_max_bytes: 3000,
        }
    }
}

/// Elements of an inline collection of entry kind `k` (see [`crate::keyspace::entry::kind`]).
pub(crate) fn inline_len(k: u8, bytes: &[u8]) -> usize {
    use crate::keyspace::entry::kind;
    match k {
        kind::HASH_PACKED => hash::inline_len(bytes),
        kind::LIST_PACKED => list::inline_len(k, bytes),
        kind::SET_INTSET | kind::SET_PACKED => set::inline_len(k, bytes),
        kind::ZSET_PACKED => zset::inline_len(k, bytes),
        _ => 0,
    }
}

/// Mixes the elements of a list, set, sorted set or stream into a `DEBUG DIGEST` (see
/// [`crate::digest`] for each type's rule).
pub(crate) fn digest_elements(
    v: &crate::keyspace::entry::View<'_>,
    d: &mut crate::digest::Digest20,
    ops: &mut crate::digest::DigestOps,
) {
    // Lists: each element mixed in, head to tail.
    if let Some(list) = v.collection::<List>() {
        let mut buf = Vec::new();
        for e in list.iter() {
            buf.clear();
            e.copy_into(&mut buf);
            (ops.mix)(d, &buf);
        }
    }
    // Sorted sets: each member's own digest (member, then its `%.17g` score) xored in.
    if let Some(z) = v.collection::<ZSet>() {
        let mut score = Vec::with_capacity(24);
        for (m, s) in z.iter() {
            let mut e = [0u8; 20];
            (ops.mix)(&mut e, m);
            score.clear();
            cachegate_protocols::number::write_g17(&mut score, s);
            (ops.mix)(&mut e, &score);
            (ops.xor)(d, &e);
        }
    }
    // Streams: each live entry's `ms.seq` ID, then its fields and values, mixed in order
    // (consumer groups are not part of the digest).
    if let Some(st) = v.collection::<Stream>() {
        use crate::types::stream::StreamId;
        for e in st.log.range(StreamId::MIN, StreamId::MAX) {
            (ops.mix)(d, format!("{}.{}", e.id.ms, e.id.seq).as_bytes());
            for (f, x) in e.fields() {
                (ops.mix)(d, f);
                (ops.mix)(d, x);
            }
        }
    }
    // Sets: the xor of the members, in any order.
    if let Some(set) = v.collection::<Set>() {
        for m in set.iter() {
            m.with_bytes(|b| (ops.xor)(d, b));
        }
    }
}

/// Calls `f` with every element of a collection as bytes (a hash's fields and values, a
/// sorted set's members), for estimates that only need the bytes (DEBUG OBJECT).
pub fn for_each_element(v: &crate::keyspace::entry::View<'_>, f: &mut dyn FnMut(&[u8])) {
    if let Some(h) = v.collection::<Hash>() {
        for (field, value) in h.iter() {
            f(field);
            f(value);
        }
    } else if let Some(set) = v.collection::<Set>() {
        for m in set.iter() {
            m.with_bytes(&mut *f);
        }
    } else if let Some(list) = v.collection::<List>() {
        for e in list.iter() {
            f(&e.to_vec());
        }
    } else if let Some(st) = v.collection::<Stream>() {
        use crate::types::stream::StreamId;
        for e in st.log.range(StreamId::MIN, StreamId::MAX) {
            for (field, value) in e.fields() {
                f(field);
                f(value);
            }
        }
    } else if let Some(z) = v.collection::<ZSet>() {
        let mut score = Vec::with_capacity(24);
        for (m, s) in z.iter() {
            f(m);
            score.clear();
            cachegate_protocols::number::write_g17(&mut score, s);
            f(&score);
        }
    }
}
