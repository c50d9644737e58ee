//! Active expiry: reclaiming keys whose TTL passed but that nobody touches.
//!
//! redis-server samples its separate `expires` dict. cachegate has no second map (the TTL
//! lives in the entry, and the index slot carries a "has TTL" bit), so it walks the index
//! instead: slots without the bit cost one 8-byte read, slots with it one entry read. Each
//! database keeps its position between cycles, and a cycle moves on to the next database as
//! soon as fewer than 10 % of the TTL-carrying keys it just saw had expired — the same
//! "stop when expired keys are rare" rule redis-server applies to its samples — or stops when
//! its time budget is spent.

use std::time::{Duration, Instant};

use super::{Db, Keyspace};
use crate::stats::Stats;

/// Slots visited between checks of the time budget and the expired ratio.
const WALK_CHUNK: usize = 1024;

/// What one walk over part of a database found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WalkReport {
    /// Slots walked past (a slot whose key was reclaimed is looked at again, since the next
    /// entry shifts into it, but counted once).
    pub visited: usize,
    /// Keys with a TTL seen.
    pub with_ttl: usize,
    /// Keys deleted because their TTL had passed.
    pub expired: usize,
    /// Sum of the remaining TTLs of live keys seen, in ms.
    pub ttl_sum: i64,
    /// True if the walk wrapped around to the start of the index.
    pub wrapped: bool,
}

impl Db {
    /// Visits up to `max_slots` slots from where the last walk stopped, deleting keys whose
    /// TTL has passed at `now`.
    pub fn expire_walk(
        &mut self,
        now: i64,
        max_slots: usize,
        stats: &mut Stats,
        on_expired: &mut impl FnMut(&[u8]),
    ) -> WalkReport {
        let mut r = WalkReport::default();
        let mut idx = self.expire_cursor;
        while r.visited < max_slots && self.expires > 0 {
            if idx >= self.table.capacity() {
                idx = 0;
                r.wrapped = true;
            }
            if let Some(true) = self.table.slot_flag(idx) {
                r.with_ttl += 1;
                let at = self.get(self.slot(idx)).expire().unwrap_or(i64::MAX);
                if now > at {
                    // The next entry may shift back into `idx`: look at it again.
                    let gone = self.remove(self.slot(idx));
                    on_expired(gone.view().key());
                    stats.expired_keys += 1;
                    r.expired += 1;
                    continue;
                }
                r.ttl_sum = r.ttl_sum.saturating_add(at - now);
            }
            idx += 1;
            r.visited += 1;
        }
        self.expire_cursor = idx;
        if r.with_ttl > r.expired {
            let avg = r.ttl_sum / (r.with_ttl - r.expired) as i64;
            // The same smoothing redis-server applies to its sampled average.
            self.avg_ttl = if self.avg_ttl == 0 {
                avg
            } else {
                (self.avg_ttl / 50) * 49 + avg / 50
            };
        }
        r
    }
}

/// Runs one active expiry cycle over the databases of `keyspace` in `order`, for at most
/// `budget`, calling `on_expired(db, key)` for each key it reclaims. Returns true if the
/// budget ran out.
pub fn cycle(
    keyspace: &mut Keyspace,
    order: impl Iterator<Item = usize>,
    now: i64,
    budget: Duration,
    stats: &mut Stats,
    on_expired: &mut impl FnMut(usize, &[u8]),
) -> bool {
    let start = Instant::now();
    let (mut seen, mut expired) = (0usize, 0usize);
    for i in order {
        let db = keyspace.db_mut(i);
        let mut walked = 0usize;
        while db.expires() > 0 {
            let r = db.expire_walk(now, WALK_CHUNK, stats, &mut |key| on_expired(i, key));
            walked += r.visited;
            seen += r.with_ttl;
            expired += r.expired;
            if start.elapsed() >= budget {
                stats.expired_time_cap_reached_count += 1;
                finish(stats, seen, expired, start);
                return true;
            }
            // Few expired keys here, or a whole pass done: move on.
            if r.with_ttl == 0 || r.expired * 10 < r.with_ttl || walked >= db.table.capacity() {
                break;
            }
        }
    }
    finish(stats, seen, expired, start);
    false
}

fn finish(stats: &mut Stats, seen: usize, expired: usize, start: Instant) {
    stats.expire_cycle_cpu_ms += start.elapsed().as_millis() as u64;
    if seen > 0 {
        let perc = expired as f64 / seen as f64 * 100.0;
        stats.expired_stale_perc = perc * 0.05 + stats.expired_stale_perc * 0.95;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::entry::Encoding;
    use crate::keyspace::{Lookup, Ttl};

    #[test]
    fn walk_reclaims_expired_keys_only() {
        let mut db = Db::default();
        let mut stats = Stats::default();
        for i in 0..1000u32 {
            let key = format!("k{i}");
            let ttl = match i % 3 {
                0 => Ttl::Clear,
                1 => Ttl::At(1_000),
                _ => Ttl::At(5_000),
            };
            let at = db.find(key.as_bytes());
            db.set_string(key.as_bytes(), at, b"v", Encoding::Embstr, ttl, 0);
        }
        assert_eq!((db.len(), db.expires()), (1000, 666));
        let mut ks = Keyspace::new(1);
        *ks.db_mut(0) = db;
        let mut reclaimed = 0;
        let timed_out = cycle(
            &mut ks,
            0..1,
            2_000,
            Duration::from_secs(10),
            &mut stats,
            &mut |_, _| reclaimed += 1,
        );
        assert_eq!(reclaimed, 333);
        let db = ks.db_mut(0);
        assert!(!timed_out);
        assert_eq!(db.len(), 1000 - 333);
        assert_eq!(db.expires(), 333);
        assert_eq!(stats.expired_keys, 333);
        for i in 0..1000u32 {
            let key = format!("k{i}");
            let live = matches!(db.find(key.as_bytes()), Lookup::Found(_));
            assert_eq!(live, i % 3 != 1, "{key}");
        }
    }
}
