//! The memcached store: items with flags, CAS and expiry, shared by every connection thread.
//!
//! Owns: the items, the memory limit (`-m`) and eviction, the item size limit (`-I`), CAS
//! values, expiry (lazy, plus a crawler), `flush_all`, and the counters `stats` reports.
//! Not: protocol syntax or reply strings (each memcached dialect lowers its requests onto
//! this API and renders the outcome enums itself, DESIGN decisions 2 and 4).
//!
//! # The API every dialect lowers onto
//!
//! | call | memcached |
//! |---|---|
//! | [`McStore::get`] | `get gets gat gats`, `mg` |
//! | [`McStore::store`] | `set add replace append prepend cas`, `ms` |
//! | [`McStore::delete`] | `delete`, `md` |
//! | [`McStore::arith`] | `incr decr`, `ma` |
//! | [`McStore::touch`] | `touch` |
//! | [`McStore::flush_all`] | `flush_all [delay]` |
//!
//! # Concurrency
//!
//! Unlike the Redis keyspace, this store is concurrent, as memcached is: every method takes
//! `&self`. Keys are spread over N shards (a power of two, 16 by default), each a
//! `std::sync::Mutex<Shard>` padded to its own cache lines; one hash of the key picks both
//! the shard (bits 50..) and the slot in the shard's index (the low bits). A lock is held
//! for one key's work only, never across shards, so there is no lock ordering to get wrong.
//! The only shared writes are the CAS counter (one atomic add per modification, memcached
//! takes a mutex for the same) and, rarely, the flush state.
//!
//! # Memory
//!
//! An item is one allocation: a 24-byte header (CAS, expiry, flags, lengths), the key and
//! the value (`item.rs`); the shard's index spends 8 bytes per slot ([`Table`]). The memory
//! limit is split evenly between shards and each shard evicts on its own (CLOCK, see
//! `shard.rs`), which keeps eviction free of cross-shard locking; the shard count is lowered
//! when needed so that a shard's share stays at least twice the item size limit. What counts
//! against the limit is the index plus each item as a glibc-style allocator rounds it.
//! `stats`' `bytes` reports the items' own sizes, like memcached's.
//!
//! This engine is the stand-in until the slab allocator and segmented LRU land; they will
//! replace `item.rs` and `shard.rs` behind the same API.
//!
//! # Time and flush_all
//!
//! Time comes from the [`Clock`] (read once per operation). An item with expiry `t` is gone
//! once `now >= t`. `flush_all` invalidates the items modified before it takes effect:
//! immediately, every item whose CAS is below the counter's current value; with a delay, the
//! same cutoff is taken by the first operation that sees the delay has passed. Items are
//! reclaimed lazily (on access, by eviction or by [`McStore::crawl`]); `curr_items` counts
//! them until then, as memcached's does.
//!
//! Differences from memcached 1.6.18, on purpose: expiry keeps milliseconds (memcached's
//! clock ticks in whole seconds, so its items may die up to a second early; here an item
//! lives at least its TTL); a flush is decided by CAS order, not by memcached's per-item
//! last-access second, and a delayed `flush_all` issued after an immediate one does not
//! bring the items the immediate one flushed back to life until its delay passes (memcached
//! 1.6.18 does); the memory limit is per shard, not per slab class.

mod item;
mod shard;
mod stats;

use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use ahash::RandomState;

pub use item::ItemView;
pub use stats::{McStats, ShardStats};

use crate::clock::Clock;
use crate::table::Table;
use shard::{expire_field, Ctx, Shard};

/// Longest key the store accepts (memcached's `KEY_MAX_LENGTH`).
pub const KEY_MAX_LEN: usize = cachegate_protocols::memcache::KEY_MAX_LEN;

/// Largest number of shards.
const MAX_SHARDS: usize = 128;
/// The hash bits above the index's: the shard is `(hash >> SHARD_SHIFT) & (shards - 1)`.
const SHARD_SHIFT: u32 = 50;

/// Store settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct McConfig {
    /// memcached's `-m`: memory for items and the index, in bytes (default 64 MiB).
    pub max_bytes: usize,
    /// memcached's `-I`: the largest item, measured as memcached 1.6 measures it (see
    /// `cachegate_protocols::memcache::item_size`); default 1 MiB.
    pub item_size_max: usize,
    /// Number of shards (rounded up to a power of two, at most 128; default 16).
    pub shards: usize,
}

impl Default for McConfig {
    fn default() -> Self {
        McConfig {
            max_bytes: 64 * 1024 * 1024,
            item_size_max: 1024 * 1024,
            shards: 16,
        }
    }
}

/// When an item expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// Never.
    Never,
    /// At this Unix time in milliseconds (a time already past means "expired").
    At(i64),
}

impl From<Option<i64>> for Expiry {
    /// `None` is "never", as `cachegate_protocols::memcache::exptime::to_unix_ms` returns it.
    fn from(at: Option<i64>) -> Self {
        at.map_or(Expiry::Never, Expiry::At)
    }
}

/// How [`McStore::store`] treats an existing item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StoreMode {
    /// Store unconditionally (`set`; `cas` is `Set` with a CAS value).
    Set,
    /// Only if absent (`add`).
    Add,
    /// Only if present (`replace`).
    Replace,
    /// After the existing value, keeping its flags and expiry (`append`).
    Append,
    /// Before the existing value, keeping its flags and expiry (`prepend`).
    Prepend,
}

/// One storage request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreRequest<'a> {
    /// The key.
    pub key: &'a [u8],
    /// Client flags (ignored by `Append`/`Prepend`).
    pub flags: u32,
    /// Expiry (ignored by `Append`/`Prepend`).
    pub exptime: Expiry,
    /// The value.
    pub value: &'a [u8],
    /// The mode.
    pub mode: StoreMode,
    /// A CAS value to compare with the item's: with `Set` or `Replace` this is memcached's
    /// `cas` (a missing key is `NotFound`, a different CAS `Exists`); with `Append` or
    /// `Prepend` a different CAS is `Exists`; `Add` ignores it.
    pub cas: Option<u64>,
}

/// The outcome of a store (memcached's `store_item_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StoreOutcome {
    /// Stored.
    Stored,
    /// The mode's condition was not met.
    NotStored,
    /// The CAS value did not match.
    Exists,
    /// A CAS store found no item.
    NotFound,
    /// Over the item size limit (or the key over 250 bytes).
    TooLarge,
    /// Nothing left to evict to make room.
    NoMemory,
}

/// The outcome of a delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeleteOutcome {
    /// The item was removed.
    Deleted,
    /// There was no item.
    NotFound,
}

/// The outcome of a touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TouchOutcome {
    /// The expiry was changed.
    Touched,
    /// There was no item.
    NotFound,
}

/// `incr` or `decr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArithOp {
    /// Add, wrapping at 2^64.
    Incr,
    /// Subtract, stopping at 0.
    Decr,
}

/// The outcome of `incr`/`decr` (memcached's `delta_result_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArithOutcome {
    /// The new value.
    Value(u64),
    /// There was no item.
    NotFound,
    /// The value is not a decimal number.
    NonNumeric,
    /// The longer number needed a new item and nothing could be evicted.
    NoMemory,
}

/// A shard behind its lock, alone on its cache lines so that threads working on different
/// shards do not bounce each other's lock word.
#[repr(align(128))]
struct Padded(Mutex<Shard>);

/// The memcached store. Share it between threads (`Arc<McStore>`); every method takes
/// `&self`.
pub struct McStore {
    shards: Box<[Padded]>,
    shard_mask: usize,
    hasher: RandomState,
    /// The last CAS value handed out.
    cas: AtomicU64,
    /// A pending delayed `flush_all`: when it takes effect (Unix ms), 0 if none.
    flush_deadline: AtomicI64,
    /// Items with a CAS below this were flushed (0: no flush yet).
    flush_cutoff: AtomicU64,
    cmd_flush: AtomicU64,
    /// The shard the next crawl starts with.
    crawl_next: AtomicUsize,
    clock: Box<dyn Clock>,
    config: McConfig,
}

impl McStore {
    /// An empty store.
    pub fn new(config: McConfig, clock: Box<dyn Clock>) -> McStore {
        let mut shards = config.shards.clamp(1, MAX_SHARDS).next_power_of_two();
        while shards > 1 && config.max_bytes / shards < config.item_size_max.saturating_mul(2) {
            shards /= 2;
        }
        let hasher = RandomState::new();
        let budget = config.max_bytes / shards;
        let shards_vec: Vec<Padded> = (0..shards)
            .map(|_| {
                Padded(Mutex::new(Shard::new(
                    Table::with_hasher(hasher.clone()),
                    budget,
                )))
            })
            .collect();
        McStore {
            shards: shards_vec.into_boxed_slice(),
            shard_mask: shards - 1,
            hasher,
            cas: AtomicU64::new(0),
            flush_deadline: AtomicI64::new(0),
            flush_cutoff: AtomicU64::new(0),
            cmd_flush: AtomicU64::new(0),
            crawl_next: AtomicUsize::new(0),
            clock,
            config,
        }
    }

    /// The settings the store was built with.
    pub fn config(&self) -> &McConfig {
        &self.config
    }

    /// Number of shards actually used.
    pub fn shard_count(&self) -> usize {
        self.shards.len()
    }

    /// The store's current time, Unix ms (for turning wire exptimes into [`Expiry`]).
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Locks shard `i`. A panic while a shard was locked cannot leave it inconsistent in a
    /// way that matters more than losing the whole cache, so a poisoned lock is taken over.
    fn lock(&self, i: usize) -> MutexGuard<'_, Shard> {
        self.shards[i].0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn locate(&self, key: &[u8]) -> (u64, MutexGuard<'_, Shard>) {
        let hash = self.hasher.hash_one(key);
        let i = (hash >> SHARD_SHIFT) as usize & self.shard_mask;
        (hash, self.lock(i))
    }

    /// The time and flush cutoff for one operation. Also makes a delayed flush whose time
    /// has come take effect.
    fn ctx(&self) -> Ctx<'_> {
        let now = self.clock.now_ms();
        let deadline = self.flush_deadline.load(Ordering::Acquire);
        if deadline != 0 && deadline <= now {
            // Everything modified up to now predates the flush.
            let cut = self.cas.load(Ordering::SeqCst) + 1;
            self.flush_cutoff.fetch_max(cut, Ordering::SeqCst);
            // A newer flush_all may have replaced the deadline meanwhile; keep it if so.
            let _ = self.flush_deadline.compare_exchange(
                deadline,
                0,
                Ordering::SeqCst,
                Ordering::SeqCst,
            );
        }
        Ctx {
            now,
            cutoff: self.flush_cutoff.load(Ordering::Acquire),
            cas: &self.cas,
            item_size_max: self.config.item_size_max,
        }
    }

    /// Looks `key` up and, if it is live, calls `f` with a view of it and returns what `f`
    /// returns. With `touch` (`gat`), the item's expiry is changed first and the lookup
    /// counts as a touch, not a get. `f` runs under the shard's lock: keep it short (copy
    /// the value into an output buffer, nothing more).
    pub fn get<R>(
        &self,
        key: &[u8],
        touch: Option<Expiry>,
        f: impl FnOnce(ItemView<'_>) -> R,
    ) -> Option<R> {
        let ctx = self.ctx();
        let (hash, mut shard) = self.locate(key);
        shard.get(hash, key, touch.map(expire_field), &ctx, f)
    }

    /// Stores an item according to `req.mode` (memcached's `do_store_item`). Every
    /// successful store gives the item a new CAS value.
    pub fn store(&self, req: StoreRequest<'_>) -> StoreOutcome {
        let ctx = self.ctx();
        let (hash, mut shard) = self.locate(req.key);
        shard.store(
            hash,
            req.key,
            req.value,
            req.flags,
            expire_field(req.exptime),
            req.mode,
            req.cas,
            &ctx,
        )
    }

    /// Records a store the caller refused before it could present the value (the front
    /// end discards a too-large data block without buffering it): counts it, and for `Set`
    /// removes the key's current item, as memcached does so that a failed overwrite does
    /// not leave stale data behind. `outcome` is `TooLarge` or `NoMemory`.
    pub fn store_refused(&self, key: &[u8], mode: StoreMode, outcome: StoreOutcome) {
        let ctx = self.ctx();
        let (hash, mut shard) = self.locate(key);
        if mode == StoreMode::Set {
            shard.unlink(hash, key, &ctx);
        }
        shard.count_refused(outcome);
    }

    /// Removes the key's item.
    pub fn delete(&self, key: &[u8]) -> DeleteOutcome {
        let ctx = self.ctx();
        let (hash, mut shard) = self.locate(key);
        if shard.delete(hash, key, &ctx) {
            DeleteOutcome::Deleted
        } else {
            DeleteOutcome::NotFound
        }
    }

    /// `incr`/`decr`: the value must be a decimal number (memcached's `strtoull` rules).
    /// `incr` wraps at 2^64, `decr` stops at 0. A result no longer than the stored text is
    /// written in place and padded with spaces (so `decr` of `10` stores `9 `); a longer one
    /// replaces the item. Either way the item keeps its flags and expiry and gets a new CAS.
    pub fn arith(&self, key: &[u8], delta: u64, op: ArithOp) -> ArithOutcome {
        let ctx = self.ctx();
        let (hash, mut shard) = self.locate(key);
        shard.arith(hash, key, delta, op, &ctx)
    }

    /// Changes the key's expiry.
    pub fn touch(&self, key: &[u8], exptime: Expiry) -> TouchOutcome {
        let ctx = self.ctx();
        let (hash, mut shard) = self.locate(key);
        if shard.touch(hash, key, expire_field(exptime), &ctx) {
            TouchOutcome::Touched
        } else {
            TouchOutcome::NotFound
        }
    }

    /// `flush_all`: invalidates every item modified before `at_ms` (Unix ms). A time not in
    /// the future flushes now; a later one replaces any pending delayed flush.
    pub fn flush_all(&self, at_ms: i64) {
        self.cmd_flush.fetch_add(1, Ordering::Relaxed);
        if at_ms <= self.clock.now_ms() {
            let cut = self.cas.load(Ordering::SeqCst) + 1;
            self.flush_cutoff.fetch_max(cut, Ordering::SeqCst);
            self.flush_deadline.store(0, Ordering::SeqCst);
        } else {
            self.flush_deadline.store(at_ms, Ordering::SeqCst);
        }
    }

    /// Reclaims expired and flushed items nobody touches: looks at up to `budget` items,
    /// continuing where the previous call stopped, one shard lock at a time. The server
    /// calls it periodically. Returns the number of items freed.
    pub fn crawl(&self, budget: usize) -> u64 {
        let n = self.shards.len();
        let mut left = budget;
        let mut freed = 0;
        for _ in 0..n {
            if left == 0 {
                break;
            }
            let ctx = self.ctx();
            let i = self.crawl_next.load(Ordering::Relaxed) % n;
            let mut shard = self.lock(i);
            // Index upkeep rides along: finish resizes, shrink indexes emptied by a flush.
            shard.maintain_index();
            let before = shard.stats.crawler_reclaimed;
            let (checked, done) = shard.crawl(left, &ctx);
            freed += shard.stats.crawler_reclaimed - before;
            left -= checked.min(left);
            drop(shard);
            if done {
                self.crawl_next.store((i + 1) % n, Ordering::Relaxed);
            }
        }
        freed
    }

    /// The counters summed over shards, and the gauges.
    pub fn stats(&self) -> McStats {
        let mut s = McStats {
            cmd_flush: self.cmd_flush.load(Ordering::Relaxed),
            limit_maxbytes: self.config.max_bytes as u64,
            ..McStats::default()
        };
        for i in 0..self.shards.len() {
            let shard = self.lock(i);
            s.add_shard(&shard.stats, shard.len(), shard.item_bytes());
            s.hash_bytes += shard.index_bytes() as u64;
            s.malloced += shard.used() as u64;
        }
        s
    }

    /// `stats reset`: zeroes the counters (not the item count or sizes).
    pub fn reset_stats(&self) {
        self.cmd_flush.store(0, Ordering::Relaxed);
        for i in 0..self.shards.len() {
            self.lock(i).stats = ShardStats::default();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    fn store() -> McStore {
        McStore::new(
            McConfig::default(),
            Box::new(ManualClock::new(1_700_000_000_000)),
        )
    }

    fn cas_req<'a>(key: &'a [u8], value: &'a [u8], cas: u64) -> StoreRequest<'a> {
        StoreRequest {
            key,
            flags: 0,
            exptime: Expiry::Never,
            value,
            mode: StoreMode::Set,
            cas: Some(cas),
        }
    }

    fn set(s: &McStore, key: &[u8], value: &[u8]) {
        let outcome = s.store(StoreRequest {
            key,
            flags: 0,
            exptime: Expiry::Never,
            value,
            mode: StoreMode::Set,
            cas: None,
        });
        assert_eq!(outcome, StoreOutcome::Stored);
    }

    fn value(s: &McStore, key: &[u8]) -> Option<Vec<u8>> {
        s.get(key, None, |v| v.value().to_vec())
    }

    /// memcached reads the stored value as a C string: a NUL byte ends the number, as the
    /// stored CRLF does.
    #[test]
    fn arith_stops_at_a_nul_byte() {
        let s = store();
        set(&s, b"n", b"1\0");
        assert_eq!(s.arith(b"n", 1, ArithOp::Incr), ArithOutcome::Value(2));
        assert_eq!(value(&s, b"n").as_deref(), Some(&b"2 "[..]));
        set(&s, b"n", b"7\0-x");
        assert_eq!(s.arith(b"n", 1, ArithOp::Decr), ArithOutcome::Value(6));
        set(&s, b"n", b"\x005");
        assert_eq!(s.arith(b"n", 1, ArithOp::Incr), ArithOutcome::NonNumeric);
    }

    /// A cas that fails for lack of room leaves the current item alone; only a plain set
    /// drops it (memcached's NREAD_SET rule).
    #[test]
    fn refused_cas_keeps_the_item() {
        let s = McStore::new(
            McConfig {
                max_bytes: 4096,
                item_size_max: 1024 * 1024,
                shards: 1,
            },
            Box::new(ManualClock::new(1_700_000_000_000)),
        );
        let too_large = vec![b'x'; 1024 * 1024];
        let no_room = vec![b'x'; 8000];
        set(&s, b"k", b"v");
        let cas = s.get(b"k", None, |v| v.cas()).unwrap();
        let outcome = s.store(cas_req(b"k", &too_large, cas));
        assert_eq!(outcome, StoreOutcome::TooLarge);
        assert_eq!(value(&s, b"k").as_deref(), Some(&b"v"[..]));
        let outcome = s.store(cas_req(b"k", &no_room, cas));
        assert_eq!(outcome, StoreOutcome::NoMemory);
        assert_eq!(value(&s, b"k").as_deref(), Some(&b"v"[..]));
        // A plain set that is refused does drop it.
        let plain = |value| StoreRequest {
            cas: None,
            ..cas_req(b"k", value, 0)
        };
        assert_eq!(s.store(plain(&no_room)), StoreOutcome::NoMemory);
        assert_eq!(value(&s, b"k"), None);
        set(&s, b"k", b"v");
        assert_eq!(s.store(plain(&too_large)), StoreOutcome::TooLarge);
        assert_eq!(value(&s, b"k"), None);
    }
}
