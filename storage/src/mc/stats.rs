//! The memcached store's counters, named after the `stats` fields they feed.
//!
//! Each shard keeps a [`ShardStats`] of plain integers, updated under the shard lock the
//! operation holds anyway, so counting costs nothing on the hot path; [`McStats`] is their
//! sum, taken when somebody asks (DESIGN decision 9).

/// Counters of one shard. Field names are memcached's `stats` names.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ShardStats {
    /// `get` keys found.
    pub get_hits: u64,
    /// `get` keys not found.
    pub get_misses: u64,
    /// Lookups (of any command) that found the item expired.
    pub get_expired: u64,
    /// Lookups (of any command) that found the item invalidated by `flush_all`.
    pub get_flushed: u64,
    /// Storage requests that reached the store.
    pub cmd_set: u64,
    /// `delete` of a present key.
    pub delete_hits: u64,
    /// `delete` of an absent key.
    pub delete_misses: u64,
    /// `incr` of a present key.
    pub incr_hits: u64,
    /// `incr` of an absent key.
    pub incr_misses: u64,
    /// `decr` of a present key.
    pub decr_hits: u64,
    /// `decr` of an absent key.
    pub decr_misses: u64,
    /// `cas` of an absent key.
    pub cas_misses: u64,
    /// `cas` that matched.
    pub cas_hits: u64,
    /// `cas` that did not match.
    pub cas_badval: u64,
    /// `touch`/`gat` of a present key.
    pub touch_hits: u64,
    /// `touch`/`gat` of an absent key.
    pub touch_misses: u64,
    /// Items refused for exceeding the item size limit.
    pub store_too_large: u64,
    /// Items refused because nothing could be evicted to make room.
    pub store_no_memory: u64,
    /// Items stored (every successful store links a new item).
    pub total_items: u64,
    /// Live items evicted to make room.
    pub evictions: u64,
    /// Evicted items that were never read.
    pub evicted_unfetched: u64,
    /// Expired or flushed items whose memory eviction reclaimed.
    pub reclaimed: u64,
    /// Expired items reclaimed (by eviction or the crawler) that were never read.
    pub expired_unfetched: u64,
    /// Items the crawler looked at.
    pub crawler_items_checked: u64,
    /// Expired or flushed items the crawler freed.
    pub crawler_reclaimed: u64,
}

impl ShardStats {
    fn add(&mut self, o: &ShardStats) {
        self.get_hits += o.get_hits;
        self.get_misses += o.get_misses;
        self.get_expired += o.get_expired;
        self.get_flushed += o.get_flushed;
        self.cmd_set += o.cmd_set;
        self.delete_hits += o.delete_hits;
        self.delete_misses += o.delete_misses;
        self.incr_hits += o.incr_hits;
        self.incr_misses += o.incr_misses;
        self.decr_hits += o.decr_hits;
        self.decr_misses += o.decr_misses;
        self.cas_misses += o.cas_misses;
        self.cas_hits += o.cas_hits;
        self.cas_badval += o.cas_badval;
        self.touch_hits += o.touch_hits;
        self.touch_misses += o.touch_misses;
        self.store_too_large += o.store_too_large;
        self.store_no_memory += o.store_no_memory;
        self.total_items += o.total_items;
        self.evictions += o.evictions;
        self.evicted_unfetched += o.evicted_unfetched;
        self.reclaimed += o.reclaimed;
        self.expired_unfetched += o.expired_unfetched;
        self.crawler_items_checked += o.crawler_items_checked;
        self.crawler_reclaimed += o.crawler_reclaimed;
    }
}

/// A snapshot of the whole store: the counters summed over shards, plus gauges.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct McStats {
    /// The summed counters.
    pub counters: ShardStats,
    /// `cmd_flush`: `flush_all` requests.
    pub cmd_flush: u64,
    /// `curr_items`: items held, including expired ones not yet reclaimed (as memcached).
    pub curr_items: u64,
    /// `bytes`: bytes of the items held (headers, keys and values).
    pub bytes: u64,
    /// `limit_maxbytes`: the memory limit.
    pub limit_maxbytes: u64,
    /// `hash_bytes`: bytes of the index slots.
    pub hash_bytes: u64,
    /// `total_malloced`: what the store counts against the limit: the items as the
    /// allocator rounds them, plus the index.
    pub malloced: u64,
}

impl McStats {
    /// `cmd_get`: keys looked up by `get`/`gets` (hits and misses).
    pub fn cmd_get(&self) -> u64 {
        self.counters.get_hits + self.counters.get_misses
    }

    /// `cmd_touch`: keys touched by `touch`, `gat` and `gats`.
    pub fn cmd_touch(&self) -> u64 {
        self.counters.touch_hits + self.counters.touch_misses
    }

    pub(crate) fn add_shard(&mut self, s: &ShardStats, items: usize, bytes: usize) {
        self.counters.add(s);
        self.curr_items += items as u64;
        self.bytes += bytes as u64;
    }
}
