//! `stats` and its sub-commands, rendered as memcached 1.6.18 renders them: `STAT <name>
//! <value>` lines in memcached's order and units, then `END`.
//!
//! Only fields cachegate really has are printed; the rest of memcached's list (slab
//! reassignment, extstore, per-thread buffers…) is left out rather than faked, which
//! memcached_exporter tolerates (it skips missing fields). Fields only cachegate has are
//! prefixed `cachegate_` (DESIGN decision 9).
//!
//! | sub-command | reply |
//! |---|---|
//! | (none) | server, connection and store statistics |
//! | `reset` | zeroes the store's counters, `RESET` |
//! | `settings` | the settings that apply to cachegate |
//! | `items` | `END` (no slab classes yet) |
//! | `slabs` | `active_slabs 0`, `total_malloced`, `END` |
//! | `sizes` | `sizes_status disabled`, `END` |
//! | `conns` | `END` (connection listing not kept) |
//! | `detail on\|off\|dump` | `OK` / `OK` / `END` (prefix statistics are not kept) |
//! | `cachedump` | `CLIENT_ERROR stats cachedump not allowed` |
//! | anything else | `ERROR` |

use std::time::Duration;

use cachegate_protocols::memcache::response::{write_line, write_stat, Timeval};
use cachegate_protocols::memcache::{Keys, Reply};
use cachegate_storage::mc::McStore;

/// The server-level values `stats` reports, which the store does not know. The connection
/// layer fills it in when a `stats` or `version` command asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct McServerInfo {
    /// `pid`: the process id.
    pub pid: u32,
    /// `uptime`: seconds since the server started.
    pub uptime: u64,
    /// `time`: the current Unix time in seconds.
    pub time: i64,
    /// `version`: what `version` and `STAT version` report (see
    /// [`super::MEMCACHED_COMPAT_VERSION`]).
    pub version: String,
    /// `cachegate_version`: cachegate's own version.
    pub cachegate_version: String,
    /// `rusage_user`: user CPU time of the process.
    pub rusage_user: Duration,
    /// `rusage_system`: system CPU time of the process.
    pub rusage_system: Duration,
    /// `max_connections` (and `maxconns` in `stats settings`).
    pub max_connections: u64,
    /// `curr_connections`: open connections.
    pub curr_connections: u64,
    /// `total_connections`: connections accepted since start.
    pub total_connections: u64,
    /// `rejected_connections`: connections refused at the limit.
    pub rejected_connections: u64,
    /// `threads`: worker threads.
    pub threads: u64,
    /// `conn_yields`: times a connection gave way to others after a batch.
    pub conn_yields: u64,
    /// `bytes_read`: bytes read from memcached clients.
    pub bytes_read: u64,
    /// `bytes_written`: bytes written to memcached clients.
    pub bytes_written: u64,
    /// `tcpport` in `stats settings`.
    pub tcp_port: u16,
}

impl Default for McServerInfo {
    fn default() -> Self {
        McServerInfo {
            pid: std::process::id(),
            uptime: 0,
            time: 0,
            version: super::MEMCACHED_COMPAT_VERSION.to_string(),
            cachegate_version: env!("CARGO_PKG_VERSION").to_string(),
            rusage_user: Duration::ZERO,
            rusage_system: Duration::ZERO,
            max_connections: 1024,
            curr_connections: 0,
            total_connections: 0,
            rejected_connections: 0,
            threads: 1,
            conn_yields: 0,
            bytes_read: 0,
            bytes_written: 0,
            tcp_port: 11211,
        }
    }
}

/// `stats [args…]`.
pub(super) fn stats(
    mut args: Keys<'_>,
    store: &McStore,
    server: &dyn Fn() -> McServerInfo,
    out: &mut Vec<u8>,
) {
    let Some(sub) = args.next() else {
        general(store, &server(), out);
        return Reply::End.write(out);
    };
    match sub {
        b"reset" => {
            store.reset_stats();
            Reply::Reset.write(out);
        }
        b"settings" => {
            settings(store, &server(), out);
            Reply::End.write(out);
        }
        b"items" | b"conns" => Reply::End.write(out),
        b"slabs" => {
            write_stat(out, "active_slabs", 0);
            write_stat(out, "total_malloced", store.stats().malloced);
            Reply::End.write(out);
        }
        b"sizes" => {
            write_stat(out, "sizes_status", "disabled");
            Reply::End.write(out);
        }
        b"detail" => match args.next() {
            Some(b"on") | Some(b"off") => Reply::Ok.write(out),
            Some(b"dump") => Reply::End.write(out),
            _ => write_line(out, "CLIENT_ERROR usage: stats detail on|off|dump"),
        },
        b"cachedump" => write_line(out, "CLIENT_ERROR stats cachedump not allowed"),
        _ => write_line(out, "ERROR"),
    }
}

/// The general statistics, in memcached's order.
fn general(store: &McStore, s: &McServerInfo, out: &mut Vec<u8>) {
    let st = store.stats();
    let c = &st.counters;
    write_stat(out, "pid", s.pid);
    write_stat(out, "uptime", s.uptime);
    write_stat(out, "time", s.time);
    write_stat(out, "version", &s.version);
    write_stat(out, "pointer_size", usize::BITS);
    write_stat(out, "rusage_user", Timeval(s.rusage_user));
    write_stat(out, "rusage_system", Timeval(s.rusage_system));
    write_stat(out, "max_connections", s.max_connections);
    write_stat(out, "curr_connections", s.curr_connections);
    write_stat(out, "total_connections", s.total_connections);
    write_stat(out, "rejected_connections", s.rejected_connections);
    write_stat(out, "cmd_get", st.cmd_get());
    write_stat(out, "cmd_set", c.cmd_set);
    write_stat(out, "cmd_flush", st.cmd_flush);
    write_stat(out, "cmd_touch", st.cmd_touch());
    write_stat(out, "get_hits", c.get_hits);
    write_stat(out, "get_misses", c.get_misses);
    write_stat(out, "get_expired", c.get_expired);
    write_stat(out, "get_flushed", c.get_flushed);
    write_stat(out, "delete_misses", c.delete_misses);
    write_stat(out, "delete_hits", c.delete_hits);
    write_stat(out, "incr_misses", c.incr_misses);
    write_stat(out, "incr_hits", c.incr_hits);
    write_stat(out, "decr_misses", c.decr_misses);
    write_stat(out, "decr_hits", c.decr_hits);
    write_stat(out, "cas_misses", c.cas_misses);
    write_stat(out, "cas_hits", c.cas_hits);
    write_stat(out, "cas_badval", c.cas_badval);
    write_stat(out, "touch_hits", c.touch_hits);
    write_stat(out, "touch_misses", c.touch_misses);
    write_stat(out, "store_too_large", c.store_too_large);
    write_stat(out, "store_no_memory", c.store_no_memory);
    write_stat(out, "bytes_read", s.bytes_read);
    write_stat(out, "bytes_written", s.bytes_written);
    write_stat(out, "limit_maxbytes", st.limit_maxbytes);
    write_stat(out, "threads", s.threads);
    write_stat(out, "conn_yields", s.conn_yields);
    write_stat(out, "hash_bytes", st.hash_bytes);
    write_stat(out, "bytes", st.bytes);
    write_stat(out, "curr_items", st.curr_items);
    write_stat(out, "total_items", c.total_items);
    write_stat(out, "expired_unfetched", c.expired_unfetched);
    write_stat(out, "evicted_unfetched", c.evicted_unfetched);
    write_stat(out, "evictions", c.evictions);
    write_stat(out, "reclaimed", c.reclaimed);
    write_stat(out, "crawler_reclaimed", c.crawler_reclaimed);
    write_stat(out, "crawler_items_checked", c.crawler_items_checked);
    write_stat(out, "cachegate_version", &s.cachegate_version);
    write_stat(out, "cachegate_mc_shards", store.shard_count());
}

/// `stats settings`: the subset of memcached's settings that exists here.
fn settings(store: &McStore, s: &McServerInfo, out: &mut Vec<u8>) {
    let config = store.config();
    write_stat(out, "maxbytes", config.max_bytes);
    write_stat(out, "maxconns", s.max_connections);
    write_stat(out, "tcpport", s.tcp_port);
    write_stat(out, "udpport", 0);
    write_stat(out, "evictions", "on");
    write_stat(out, "num_threads", s.threads);
    write_stat(out, "cas_enabled", "yes");
    write_stat(out, "binding_protocol", "ascii");
    write_stat(out, "item_size_max", config.item_size_max);
    write_stat(out, "flush_enabled", "yes");
    write_stat(out, "cachegate_mc_shards", store.shard_count());
}
