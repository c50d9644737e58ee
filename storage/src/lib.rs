//! # cachegate-storage
//!
//! cachegate's data, synchronous: the Redis keyspace with its command table and handlers,
//! and the memcached store. The keyspace is single-threaded: the server serialises access
//! and hands each batch of commands `&mut Store` (DESIGN decision 1). The memcached store
//! is concurrent, like memcached: `&self` methods over locked shards (DESIGN decision 2).
//! Nothing here knows about sockets, tasks or metrics exporters.
//!
//! * [`table`] — the compact hash index (8 bytes per key) both stores sit on.
//! * [`keyspace`] — databases of single-allocation entries, lazy and active expiry.
//! * [`command`] — the command table (each command declared once), the dispatcher, and the
//!   handlers, which write replies through `cachegate_protocols::resp::ReplyBuf`.
//! * [`mc`] — the memcached store: concurrent, sharded, CLOCK eviction, real CAS.
//! * [`types`] — the collection types (hash, list, set, sorted set, stream).
//! * [`writes`] — the write stream: dirty, modification signals, replayable forms.
//! * [`blocking`] — clients blocked on keys, and serving them when their keys are ready.
//! * [`stats`] — the counters INFO and `/metrics` read.
//! * [`clock`] — the time source; tests use a manual clock instead of sleeping.
//!
//! Goals: redis-server 7.0's semantics and exact replies; a small, predictable memory
//! footprint (DESIGN decision 12); no allocation per command on the common paths.
//! Non-goals: thread safety of the keyspace (the owner synchronises), I/O of any kind.

pub mod blocking;
pub mod clock;
pub mod command;
pub mod digest;
pub mod keyspace;
pub mod lcs;
pub mod long_double;
pub mod mc;
pub mod stats;
pub mod table;
pub mod types;
pub mod writes;

use std::time::Duration;

use clock::Clock;
use command::CommandTable;
use keyspace::Keyspace;
use stats::Stats;

/// Elements above which UNLINK frees a value in the background (redis-server's
/// `LAZYFREE_THRESHOLD`).
pub const LAZYFREE_THRESHOLD: usize = 64;

/// Limits the store enforces on values.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// `proto-max-bulk-len`: the longest string a command may build.
    pub proto_max_bulk_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            proto_max_bulk_len: 512 * 1024 * 1024,
        }
    }
}

/// Everything the commands work on.
pub struct Store {
    /// The databases.
    pub keyspace: Keyspace,
    /// Keyspace statistics.
    pub stats: Stats,
    /// The command table with per-command statistics.
    pub commands: CommandTable,
    /// Value limits.
    pub limits: Limits,
    /// Encoding thresholds of the collection types (`CONFIG SET hash-max-listpack-entries`…).
    pub thresholds: types::Thresholds,
    /// What every write reports: dirty, replayable forms.
    pub writes: writes::WriteStream,
    /// When set, every `signal_modified` is recorded here (tests check that every change is
    /// signalled).
    pub signal_log: Option<Vec<(usize, Vec<u8>)>>,
    /// Clients blocked on keys.
    pub blocking: blocking::Blocking,
    /// The periodic expiry cycle runs (DEBUG SET-ACTIVE-EXPIRE turns it off for tests).
    pub active_expire_enabled: bool,
    /// Values UNLINK, FLUSHDB ASYNC and FLUSHALL ASYNC handed over to be freed in the
    /// background; the server takes them after each batch ([`Store::take_lazyfree`]).
    lazyfree: Vec<keyspace::entry::Entry>,
    /// What the command running now asked to block on.
    pub(crate) pending_block: Option<blocking::BlockOn>,
    /// True while a blocked client's command is being retried.
    pub(crate) retrying: bool,
    clock: Box<dyn Clock>,
    /// Time of the current batch, Unix ms.
    now: i64,
    rng: u64,
    /// Commands run in the current batch, to share out its execution time.
    batch_calls: Vec<command::CommandId>,
    /// The command the last `execute` resolved to (`None` for an unknown one).
    last_call: Option<command::CommandId>,
    next_expire_db: usize,
}

impl Store {
    /// A store with `databases` empty databases, reading time from `clock`.
    pub fn new(databases: usize, clock: Box<dyn Clock>) -> Store {
        let now = clock.now_ms();
        Store {
            keyspace: Keyspace::new(databases),
            stats: Stats::default(),
            commands: CommandTable::new(),
            limits: Limits::default(),
            thresholds: types::Thresholds::default(),
            writes: writes::WriteStream::default(),
            signal_log: None,
            blocking: blocking::Blocking::default(),
            active_expire_enabled: true,
            lazyfree: Vec::new(),
            pending_block: None,
            retrying: false,
            clock,
            now,
            rng: (now as u64) ^ 0x9e37_79b9_7f4a_7c15,
            batch_calls: Vec::with_capacity(64),
            last_call: None,
            next_expire_db: 0,
        }
    }

    /// Reads the clock; call once before each batch of commands.
    pub fn begin_batch(&mut self) {
        self.now = self.clock.now_ms();
        self.batch_calls.clear();
    }

    /// Shares `elapsed_us` of execution time among the commands of the batch just run.
    /// Timing the batch rather than each command keeps clock reads off the per-command path;
    /// a batch of one command (no pipelining) is timed exactly.
    pub fn end_batch(&mut self, elapsed_us: u64) {
        let n = self.batch_calls.len() as u64;
        if n == 0 {
            return;
        }
        let (share, mut rest) = (elapsed_us / n, elapsed_us % n);
        for i in 0..self.batch_calls.len() {
            let id = self.batch_calls[i];
            let extra = u64::from(rest > 0);
            rest = rest.saturating_sub(1);
            self.commands.record_time(id, share + extra);
        }
        self.batch_calls.clear();
    }

    /// The command the most recent [`Store::execute`] resolved to, or `None` if it was
    /// unknown (CLIENT LIST shows `cmd=NULL` then).
    pub fn last_command(&self) -> Option<command::CommandId> {
        self.last_call
    }

    /// The time of the current batch, Unix ms.
    pub fn now_ms(&self) -> i64 {
        self.now
    }

    /// The clock's current time in microseconds (TIME).
    pub fn clock_us(&self) -> i64 {
        self.clock.now_us()
    }

    /// A pseudo-random number (xorshift; for RANDOMKEY, not for security).
    pub fn random(&mut self) -> u64 {
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng = x;
        x
    }

    /// Runs one active expiry cycle of at most `budget`; see [`keyspace::expire`]. Each key
    /// it reclaims is signalled and emitted as `DEL`.
    pub fn active_expire(&mut self, budget: Duration) {
        if !self.active_expire_enabled {
            return;
        }
        self.now = self.clock.now_ms();
        let n = self.keyspace.len();
        let start = self.next_expire_db % n;
        self.next_expire_db = start + 1;
        let now = self.now;
        let mut expired: Vec<(usize, Vec<u8>)> = Vec::new();
        let order = (start..n).chain(0..start);
        keyspace::expire::cycle(
            &mut self.keyspace,
            order,
            now,
            budget,
            &mut self.stats,
            &mut |db, key| expired.push((db, key.to_vec())),
        );
        for (db, key) in expired {
            self.key_expired(db, &key);
        }
    }

    /// What follows the deletion of an expired key: a `DEL` in the write stream and a
    /// modification signal, as redis-server's `deleteExpiredKeyAndPropagate`.
    pub(crate) fn key_expired(&mut self, db: usize, key: &[u8]) {
        self.writes.also_propagate(db, &[b"DEL", key]);
        self.signal_modified(db, key);
    }

    /// Frees a removed entry: inline when small, in the background when it holds more than
    /// [`LAZYFREE_THRESHOLD`] elements (UNLINK's rule, redis-server's
    /// `LAZYFREE_THRESHOLD`).
    pub fn free_lazily(&mut self, entry: keyspace::entry::Entry) {
        if entry.view().elements() > LAZYFREE_THRESHOLD {
            self.lazyfree.push(entry);
            self.stats.lazyfreed_objects += 1;
        }
    }

    /// Queues many entries for the background (FLUSHDB ASYNC, FLUSHALL ASYNC).
    pub fn free_all_lazily(&mut self, entries: Vec<keyspace::entry::Entry>) {
        self.stats.lazyfreed_objects += entries.len() as u64;
        self.lazyfree.extend(entries);
    }

    /// Takes the entries waiting to be freed in the background.
    pub fn take_lazyfree(&mut self) -> Vec<keyspace::entry::Entry> {
        std::mem::take(&mut self.lazyfree)
    }

    /// True if entries wait to be freed in the background.
    pub fn has_lazyfree(&self) -> bool {
        !self.lazyfree.is_empty()
    }

    /// Signals that `key` in database `db` was modified: the one hook WATCH, keyspace
    /// notifications, blocked clients and client tracking hang off (DESIGN decision 14).
    pub fn signal_modified(&mut self, db: usize, key: &[u8]) {
        if let Some(log) = &mut self.signal_log {
            log.push((db, key.to_vec()));
        }
        self.blocking.signal(db, key);
    }

    /// Signals that every key of database `db` may have changed at once (FLUSHDB, SWAPDB).
    pub fn signal_db_changed(&mut self, db: usize) {
        if let Some(log) = &mut self.signal_log {
            log.push((db, b"*".to_vec()));
        }
        self.blocking.signal_db(db);
    }

    /// Periodic maintenance: moves index resizes along and shrinks indexes left mostly
    /// empty by deletions.
    pub fn maintain(&mut self) {
        for db in self.keyspace.iter_mut() {
            db.shrink();
        }
    }
}
