//! One shard of the memcached store: an index of items, their memory budget, CLOCK eviction
//! and the counters. Every method runs with the shard's lock held (memcached's `do_*`
//! functions; here the `&mut self` says so).
//!
//! **Eviction is CLOCK over the index slots.** The index (`Table`) already has one spare
//! bit per slot; it serves as the reference bit. A read sets it; a store leaves it clear.
//! To free memory the hand walks the slots: a set bit is cleared and the item spared, a
//! clear bit makes the item the victim. So an item read since the hand last passed survives
//! one more sweep, and an item stored but never read again goes first — the same idea as
//! memcached's segmented LRU, where new items must be hit to leave the cold tail. CLOCK was
//! chosen over an exact LRU list because it costs no per-item memory (the headline number)
//! and no pointer updates on reads, and over random sampling because a sweep is
//! deterministic (testable) and touches the compact slot array, not the items, until it
//! picks a victim. The hand follows slot order, which Robin Hood insertions and deletions
//! shift slightly; an item may occasionally get one sweep more or less, which is fine for an
//! approximation.

use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};

use cachegate_protocols::memcache::{item_size, number::safe_strtoull};

use super::item::{encode_expire, Item, ItemMut, ItemView, McItem, NewItem};
use super::stats::ShardStats;
use super::{ArithOp, ArithOutcome, StoreMode, StoreOutcome};
use crate::table::Table;

/// What every operation needs besides the shard: the time, the flush cutoff, the CAS source.
pub(crate) struct Ctx<'a> {
    /// The current time, Unix ms.
    pub now: i64,
    /// Items whose CAS is below this were invalidated by `flush_all` (0: none).
    pub cutoff: u64,
    /// The global CAS counter (last value handed out).
    pub cas: &'a AtomicU64,
    /// The item size limit (`-I`).
    pub item_size_max: usize,
}

impl Ctx<'_> {
    fn next_cas(&self) -> u64 {
        // SeqCst so that a flush_all on another thread, which reads the counter to set its
        // cutoff, sees every CAS handed out before it (one locked add on x86 either way).
        self.cas.fetch_add(1, Ordering::SeqCst) + 1
    }
}

/// What a glibc-style allocator spends on a block of `size` bytes: an 8-byte header,
/// rounded up to 16 bytes, 32 at least. Counting this rather than the requested size keeps
/// the memory limit honest about small items.
pub(crate) fn footprint(size: usize) -> usize {
    ((size + 8 + 15) & !15).max(32)
}

/// A shard: its items and what they cost.
pub(crate) struct Shard {
    table: Table<McItem>,
    /// Bytes this shard may use (items as allocated, plus the index).
    budget: usize,
    /// Σ item sizes (the `bytes` statistic).
    item_bytes: usize,
    /// Σ item footprints.
    footprint: usize,
    /// The CLOCK hand: the slot where the next eviction sweep resumes.
    hand: usize,
    /// Where the crawler resumes.
    crawl_at: usize,
    /// Counters.
    pub stats: ShardStats,
}

/// Why an item is no longer valid.
enum Dead {
    Flushed,
    Expired,
}

impl Shard {
    pub(crate) fn new(table: Table<McItem>, budget: usize) -> Self {
        Shard {
            table,
            budget,
            item_bytes: 0,
            footprint: 0,
            hand: 0,
            crawl_at: 0,
            stats: ShardStats::default(),
        }
    }

    /// Number of items (expired ones not yet reclaimed included).
    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }

    /// Σ item sizes.
    pub(crate) fn item_bytes(&self) -> usize {
        self.item_bytes
    }

    /// Bytes counted against the budget.
    pub(crate) fn used(&self) -> usize {
        self.footprint + self.table.index_bytes()
    }

    /// Bytes of the index.
    /// Moves an index resize along and shrinks an index left mostly empty (see
    /// `Table::maintain`). Slot positions change; the CLOCK hand is only a hint.
    pub(crate) fn maintain_index(&mut self) {
        self.table.maintain();
    }

    pub(crate) fn index_bytes(&self) -> usize {
        self.table.index_bytes()
    }

    fn view(&self, idx: usize) -> ItemView<'_> {
        // SAFETY: occupied slots hold live items owned by the table; `&self` keeps them
        // alive and unmodified for the view's lifetime.
        unsafe { ItemView::from_ptr(self.table.ptr_at(idx)) }
    }

    fn item_mut(&mut self, idx: usize) -> ItemMut {
        // SAFETY: a live item; `&mut self` (under the shard lock) gives exclusive access.
        unsafe { ItemMut::from_ptr(self.table.ptr_at(idx)) }
    }

    fn dead(&self, idx: usize, ctx: &Ctx<'_>) -> Option<Dead> {
        let v = self.view(idx);
        // Flushed before expired, as memcached's do_item_get checks them.
        if v.cas() < ctx.cutoff {
            Some(Dead::Flushed)
        } else if v.is_expired(ctx.now) {
            Some(Dead::Expired)
        } else {
            None
        }
    }

    /// Unlinks and frees the item in slot `idx`.
    fn remove(&mut self, idx: usize) {
        let ptr = self.table.remove_at(idx);
        // SAFETY: the table handed the item back; nothing else refers to it.
        let it = unsafe { Item::from_raw(ptr) };
        let size = it.view().alloc_size();
        self.item_bytes -= size;
        self.footprint -= footprint(size);
    }

    /// Finds a live item, reclaiming it on the way if it expired or was flushed.
    fn lookup(&mut self, hash: u64, key: &[u8], ctx: &Ctx<'_>) -> Option<usize> {
        let idx = self.table.find(hash, key)?;
        match self.dead(idx, ctx) {
            None => Some(idx),
            Some(why) => {
                match why {
                    Dead::Flushed => self.stats.get_flushed += 1,
                    Dead::Expired => self.stats.get_expired += 1,
                }
                self.remove(idx);
                None
            }
        }
    }

    /// Marks an item as recently used (and, for reads, as fetched).
    fn bump(&mut self, idx: usize, fetched: bool) {
        self.table.set_flag_at(idx, true);
        if fetched && !self.view(idx).fetched() {
            self.item_mut(idx).set_fetched();
        }
    }

    /// `get`/`gets` (touch = None) or `gat`/`gats` (touch = the new encoded expiry).
    pub(crate) fn get<R>(
        &mut self,
        hash: u64,
        key: &[u8],
        touch: Option<u64>,
        ctx: &Ctx<'_>,
        f: impl FnOnce(ItemView<'_>) -> R,
    ) -> Option<R> {
        let Some(idx) = self.lookup(hash, key, ctx) else {
            match touch {
                Some(_) => self.stats.touch_misses += 1,
                None => self.stats.get_misses += 1,
            }
            return None;
        };
        self.bump(idx, true);
        match touch {
            Some(expire) => {
                self.item_mut(idx).set_expire(expire);
                self.stats.touch_hits += 1;
            }
            None => self.stats.get_hits += 1,
        }
        Some(f(self.view(idx)))
    }

    /// `touch`.
    pub(crate) fn touch(&mut self, hash: u64, key: &[u8], expire: u64, ctx: &Ctx<'_>) -> bool {
        match self.lookup(hash, key, ctx) {
            Some(idx) => {
                self.bump(idx, true);
                self.item_mut(idx).set_expire(expire);
                self.stats.touch_hits += 1;
                true
            }
            None => {
                self.stats.touch_misses += 1;
                false
            }
        }
    }

    /// `delete`.
    pub(crate) fn delete(&mut self, hash: u64, key: &[u8], ctx: &Ctx<'_>) -> bool {
        match self.lookup(hash, key, ctx) {
            Some(idx) => {
                self.remove(idx);
                self.stats.delete_hits += 1;
                true
            }
            None => {
                self.stats.delete_misses += 1;
                false
            }
        }
    }

    /// Removes the key's item, if any, without counting a delete: a `set` that failed must
    /// not leave the old value behind (memcached's `process_update_command`).
    pub(crate) fn unlink(&mut self, hash: u64, key: &[u8], ctx: &Ctx<'_>) {
        if let Some(idx) = self.lookup(hash, key, ctx) {
            self.remove(idx);
        }
    }

    /// Counts a store refused before it reached [`Shard::store`].
    pub(crate) fn count_refused(&mut self, outcome: StoreOutcome) {
        match outcome {
            StoreOutcome::TooLarge => self.stats.store_too_large += 1,
            StoreOutcome::NoMemory => self.stats.store_no_memory += 1,
            _ => {}
        }
    }

    /// Every storage command (memcached's `do_store_item`).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn store(
        &mut self,
        hash: u64,
        key: &[u8],
        value: &[u8],
        flags: u32,
        expire: u64,
        mode: StoreMode,
        cas: Option<u64>,
        ctx: &Ctx<'_>,
    ) -> StoreOutcome {
        self.stats.cmd_set += 1;
        // memcached drops the key's current item when a store fails for lack of room, but
        // only for a plain set (NREAD_SET), not for a cas.
        let plain_set = mode == StoreMode::Set && cas.is_none();
        if key.len() > super::KEY_MAX_LEN
            || item_size(key.len(), flags, value.len()) > ctx.item_size_max
        {
            if plain_set {
                self.unlink(hash, key, ctx);
            }
            self.stats.store_too_large += 1;
            return StoreOutcome::TooLarge;
        }
        let old = self.lookup(hash, key, ctx);
        let compare = matches!(mode, StoreMode::Set | StoreMode::Replace) && cas.is_some();
        let new = match (mode, old) {
            (StoreMode::Add, Some(idx)) => {
                // memcached refreshes the existing item's LRU position.
                self.bump(idx, false);
                return StoreOutcome::NotStored;
            }
            (_, None) if compare => {
                self.stats.cas_misses += 1;
                return StoreOutcome::NotFound;
            }
            (StoreMode::Replace | StoreMode::Append | StoreMode::Prepend, None) => {
                return StoreOutcome::NotStored;
            }
            (_, Some(idx)) if cas.is_some_and(|c| c != self.view(idx).cas()) => {
                if compare {
                    self.stats.cas_badval += 1;
                }
                return StoreOutcome::Exists;
            }
            (StoreMode::Append | StoreMode::Prepend, Some(idx)) => {
                let v = self.view(idx);
                let (old_value, old_flags) = (v.value(), v.flags());
                let total = old_value.len() + value.len();
                // memcached allocates the combined item with the old flags and exptime;
                // when that exceeds the limit the append is simply not stored.
                if item_size(key.len(), old_flags, total) > ctx.item_size_max {
                    return StoreOutcome::NotStored;
                }
                let parts = if mode == StoreMode::Append {
                    [old_value, value]
                } else {
                    [value, old_value]
                };
                Item::try_new(NewItem {
                    key,
                    value: parts,
                    flags: old_flags,
                    expire: v.expire_raw(),
                    cas: ctx.next_cas(),
                })
            }
            (_, found) => {
                if compare && found.is_some() {
                    self.stats.cas_hits += 1;
                }
                Item::try_new(NewItem {
                    key,
                    value: [value, b""],
                    flags,
                    expire,
                    cas: ctx.next_cas(),
                })
            }
        };
        let Some(new) = new else {
            return self.no_memory(hash, key, plain_set, ctx);
        };
        if self.link(hash, key, new, old.is_some(), ctx) {
            StoreOutcome::Stored
        } else {
            self.no_memory(hash, key, plain_set, ctx)
        }
    }

    fn no_memory(&mut self, hash: u64, key: &[u8], plain_set: bool, ctx: &Ctx<'_>) -> StoreOutcome {
        if plain_set {
            self.unlink(hash, key, ctx);
        }
        self.stats.store_no_memory += 1;
        StoreOutcome::NoMemory
    }

    /// Makes room for `new` and links it, replacing the key's live item if `replacing`.
    /// Returns false (dropping `new`) if nothing more can be evicted.
    fn link(&mut self, hash: u64, key: &[u8], new: Item, replacing: bool, ctx: &Ctx<'_>) -> bool {
        let size = new.view().alloc_size();
        let (keep, freed) = match replacing.then(|| self.table.find(hash, key)).flatten() {
            Some(idx) => (
                Some(self.table.ptr_at(idx)),
                footprint(self.view(idx).alloc_size()),
            ),
            None => (None, 0),
        };
        if !self.make_room(footprint(size), freed, keep.is_none(), keep, ctx) {
            return false;
        }
        let ptr = new.into_raw();
        // Eviction moved slots around: find the old item again.
        match keep.and_then(|_| self.table.find(hash, key)) {
            Some(idx) => {
                let old = self.table.replace_at(idx, ptr, false);
                // SAFETY: the table handed the old item back; nothing else refers to it.
                let old = unsafe { Item::from_raw(old) };
                let old_size = old.view().alloc_size();
                self.item_bytes -= old_size;
                self.footprint -= footprint(old_size);
            }
            None => self.table.insert(hash, ptr, false),
        }
        self.item_bytes += size;
        self.footprint += footprint(size);
        self.stats.total_items += 1;
        true
    }

    /// Evicts until `need` more bytes (minus `freed`, released by a replacement) fit the
    /// budget, never evicting `keep`. `inserting` accounts for the index doubling.
    fn make_room(
        &mut self,
        need: usize,
        freed: usize,
        inserting: bool,
        keep: Option<NonNull<u8>>,
        ctx: &Ctx<'_>,
    ) -> bool {
        loop {
            let cap = self.table.capacity();
            let grows = inserting && (self.table.len() + 1) * 10 > cap * 9;
            let growth = if grows { cap.max(8) * 8 } else { 0 };
            // Even with every other item gone it would not fit: evict nothing.
            if self.table.index_bytes() + need > self.budget {
                return false;
            }
            let after = (self.used() + growth + need).saturating_sub(freed);
            if after <= self.budget {
                return true;
            }
            match self.clock_victim(keep) {
                Some(idx) => self.evict(idx, ctx),
                None => return false,
            }
        }
    }

    /// Advances the CLOCK hand to the next victim (see the module doc), skipping `keep`.
    fn clock_victim(&mut self, keep: Option<NonNull<u8>>) -> Option<usize> {
        let cap = self.table.capacity();
        let mut i = self.hand;
        // Each item is passed at most twice (once to clear its bit) before a victim shows
        // up; the bound only matters when `keep` is the last item left.
        for _ in 0..2 * self.table.len() + 2 {
            let idx = match self.table.next_occupied(if i >= cap { 0 } else { i }) {
                Some(idx) => idx,
                None => self.table.next_occupied(0)?,
            };
            i = idx + 1;
            if Some(self.table.ptr_at(idx)) == keep {
                continue;
            }
            if self.table.flag_at(idx) {
                self.table.set_flag_at(idx, false);
                continue;
            }
            self.hand = idx;
            return Some(idx);
        }
        None
    }

    /// Evicts slot `idx`, counting it as an eviction or, if it was dead anyway, a reclaim.
    fn evict(&mut self, idx: usize, ctx: &Ctx<'_>) {
        let fetched = self.view(idx).fetched();
        if self.dead(idx, ctx).is_some() {
            self.stats.reclaimed += 1;
            if !fetched {
                self.stats.expired_unfetched += 1;
            }
        } else {
            self.stats.evictions += 1;
            if !fetched {
                self.stats.evicted_unfetched += 1;
            }
        }
        self.remove(idx);
    }

    /// `incr`/`decr` (memcached's `do_add_delta`).
    pub(crate) fn arith(
        &mut self,
        hash: u64,
        key: &[u8],
        delta: u64,
        op: ArithOp,
        ctx: &Ctx<'_>,
    ) -> ArithOutcome {
        let Some(idx) = self.lookup(hash, key, ctx) else {
            match op {
                ArithOp::Incr => self.stats.incr_misses += 1,
                ArithOp::Decr => self.stats.decr_misses += 1,
            }
            return ArithOutcome::NotFound;
        };
        let v = self.view(idx);
        let (old_value, flags, expire) = (v.value(), v.flags(), v.expire_raw());
        // An empty value is not a number; otherwise memcached's strtoull rules apply to the
        // value as the C string it is there: the stored CRLF ends the number (so trailing
        // spaces from an earlier decr are fine), and so does a NUL byte (`1\0` reads as 1).
        let text = old_value.split(|&b| b == 0).next().unwrap_or_default();
        let Some(current) = (!old_value.is_empty())
            .then(|| safe_strtoull(text))
            .flatten()
        else {
            return ArithOutcome::NonNumeric;
        };
        let value = match op {
            ArithOp::Incr => current.wrapping_add(delta),
            ArithOp::Decr => current.saturating_sub(delta),
        };
        let mut buf = itoa::Buffer::new();
        let digits = buf.format(value).as_bytes();
        let in_place = digits.len() <= old_value.len();
        match op {
            ArithOp::Incr => self.stats.incr_hits += 1,
            ArithOp::Decr => self.stats.decr_hits += 1,
        }
        if in_place {
            // In place, space-padded to the old length: memcached keeps the item's size.
            let cas = ctx.next_cas();
            let mut m = self.item_mut(idx);
            m.overwrite_value_padded(digits);
            m.set_cas(cas);
            self.table.set_flag_at(idx, true);
            return ArithOutcome::Value(value);
        }
        let new = Item::try_new(NewItem {
            key,
            value: [digits, b""],
            flags,
            expire,
            cas: ctx.next_cas(),
        });
        match new.map(|new| self.link(hash, key, new, true, ctx)) {
            Some(true) => ArithOutcome::Value(value),
            _ => ArithOutcome::NoMemory,
        }
    }

    /// Looks at up to `budget` items from where the last call stopped, freeing the expired
    /// and flushed ones. Returns (items checked, true if the walk reached the end).
    pub(crate) fn crawl(&mut self, budget: usize, ctx: &Ctx<'_>) -> (usize, bool) {
        let mut checked = 0;
        let mut i = self.crawl_at;
        while checked < budget {
            let Some(idx) = self.table.next_occupied(i) else {
                self.crawl_at = 0;
                return (checked, true);
            };
            checked += 1;
            self.stats.crawler_items_checked += 1;
            if self.dead(idx, ctx).is_some() {
                if !self.view(idx).fetched() {
                    self.stats.expired_unfetched += 1;
                }
                self.stats.crawler_reclaimed += 1;
                // Deletion shifts the following items back into `idx`: look there again.
                self.remove(idx);
                i = idx;
            } else {
                i = idx + 1;
            }
        }
        self.crawl_at = i;
        (checked, false)
    }
}

/// Encodes an [`Expiry`](super::Expiry) for the item header.
pub(crate) fn expire_field(e: super::Expiry) -> u64 {
    match e {
        super::Expiry::Never => 0,
        super::Expiry::At(ms) => encode_expire(Some(ms)),
    }
}
