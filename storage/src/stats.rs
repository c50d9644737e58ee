//! Counters of the keyspace that `INFO`, memcached `stats` and `/metrics` all read.
//!
//! Plain integers: only the owner of `&mut Store` touches them, so there is nothing to
//! synchronise on the hot path (DESIGN decision 9). Per-command counters live on the command
//! table (see `command::CommandTable`).

/// Keyspace statistics, named after the `INFO stats` fields they feed.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    /// `keyspace_hits`: reads that found their key.
    pub keyspace_hits: u64,
    /// `keyspace_misses`: reads that did not.
    pub keyspace_misses: u64,
    /// `expired_keys`: keys deleted because their TTL passed.
    pub expired_keys: u64,
    /// `expired_time_cap_reached_count`: active expiry cycles stopped by their time budget.
    pub expired_time_cap_reached_count: u64,
    /// `expire_cycle_cpu_milliseconds`: time spent in active expiry.
    pub expire_cycle_cpu_ms: u64,
    /// `expired_stale_perc` (0..100): estimated share of keys with a TTL that are logically
    /// expired but not yet reclaimed.
    pub expired_stale_perc: f64,
    /// `evicted_keys`.
    pub evicted_keys: u64,
    /// `lazyfreed_objects`: values handed to the background to be freed.
    pub lazyfreed_objects: u64,
    /// `total_commands_processed`.
    pub total_commands_processed: u64,
    /// `total_error_replies`.
    pub total_error_replies: u64,
    /// `errorstats`: error replies by their code (`ERR`, `WRONGTYPE`…), in first-seen order.
    pub errors: Vec<(String, u64)>,
}

impl Stats {
    /// Counts one error reply whose message is `msg` (code first, as sent).
    pub fn count_error(&mut self, msg: &[u8]) {
        self.total_error_replies += 1;
        // The code is the first word, looked for in the first 32 bytes, else "ERR".
        let head = &msg[..msg.len().min(32)];
        let code = match memchr::memchr(b' ', head) {
            Some(n) if n > 0 => &msg[..n],
            _ => b"ERR".as_slice(),
        };
        match self.errors.iter_mut().find(|(c, _)| c.as_bytes() == code) {
            Some((_, n)) => *n += 1,
            None => self
                .errors
                .push((String::from_utf8_lossy(code).into_owned(), 1)),
        }
    }

    /// Resets what `CONFIG RESETSTAT` resets.
    pub fn reset(&mut self) {
        *self = Stats::default();
    }
}
