//! The INFO command's sections, with redis-server 7.0's field names and formats so that
//! tools which parse INFO (redis_exporter, redis-cli, client libraries) work unchanged.
//!
//! Fields describe what cachegate really has: `rdb_*`/`aof_*` say nothing is being saved
//! because persistence does not exist yet, `role:master` with no replicas, and so on. Fields
//! that only cachegate has use a `cachegate_` prefix.

use std::fmt::Write as _;

use crate::engine::Shared;
use crate::sys;

/// The sections in INFO's order, and whether plain `INFO` includes them. `modules` is the
/// list of loaded modules (always empty), which redis-server also calls `module_list`.
const SECTIONS: &[(&str, bool)] = &[
    ("server", true),
    ("clients", true),
    ("memory", true),
    ("persistence", true),
    ("stats", true),
    ("replication", true),
    ("cpu", true),
    ("modules", true),
    ("commandstats", false),
    ("errorstats", true),
    ("latencystats", false),
    ("cluster", true),
    ("keyspace", true),
];

/// Which sections a request asks for.
#[derive(Debug, Default)]
pub struct Selection {
    names: Vec<Vec<u8>>,
    all: bool,
    default: bool,
}

impl Selection {
    /// From INFO's arguments (section names, `default`, `all`, `everything`).
    pub fn parse<'a>(args: impl Iterator<Item = &'a [u8]>) -> Selection {
        let mut s = Selection::default();
        let mut any = false;
        for a in args {
            any = true;
            let a = a.to_ascii_lowercase();
            match a.as_slice() {
                b"default" => s.default = true,
                b"all" | b"everything" => s.all = true,
                _ => s.names.push(a),
            }
        }
        if !any {
            s.default = true;
        }
        s
    }

    fn wants(&self, name: &str, in_default: bool) -> bool {
        let named = |n: &[u8]| self.names.iter().any(|x| x == n);
        self.all
            || (self.default && in_default)
            || named(name.as_bytes())
            || (name == "modules" && named(b"module_list"))
    }
}

/// Renders the selected sections, separated by blank lines as redis-server does.
pub fn render(s: &Shared, sel: &Selection, tcp_port: u16) -> String {
    let mut out = String::with_capacity(4096);
    for &(name, in_default) in SECTIONS {
        if !sel.wants(name, in_default) {
            continue;
        }
        if !out.is_empty() {
            out.push_str("\r\n");
        }
        match name {
            "server" => server(&mut out, s, tcp_port),
            "clients" => clients(&mut out, s),
            "memory" => memory(&mut out, s),
            "persistence" => persistence(&mut out, s),
            "stats" => stats(&mut out, s),
            "replication" => replication(&mut out, s),
            "cpu" => cpu(&mut out),
            "modules" => out.push_str("# Modules\r\n"),
            "errorstats" => errorstats(&mut out, s),
            "latencystats" => latencystats(&mut out, s),
            "cluster" => out.push_str("# Cluster\r\ncluster_enabled:0\r\n"),
            "keyspace" => keyspace(&mut out, s),
            "commandstats" => commandstats(&mut out, s),
            _ => {}
        }
    }
    out
}

fn line(out: &mut String, key: &str, value: impl std::fmt::Display) {
    let _ = write!(out, "{key}:{value}\r\n");
}

fn server(out: &mut String, s: &Shared, tcp_port: u16) {
    let uptime = s.started.elapsed().as_secs();
    let now_us = s.store.clock_us();
    out.push_str("# Server\r\n");
    line(out, "redis_version", crate::REDIS_VERSION);
    line(out, "redis_git_sha1", "00000000");
    line(out, "redis_git_dirty", 0);
    line(out, "redis_build_id", "0");
    line(out, "redis_mode", "standalone");
    line(out, "os", os_string());
    line(out, "arch_bits", usize::BITS);
    line(out, "monotonic_clock", "POSIX clock_gettime");
    line(out, "multiplexing_api", "epoll");
    line(out, "atomicvar_api", "c11-builtin");
    line(out, "gcc_version", "0.0.0");
    line(out, "process_id", std::process::id());
    line(out, "process_supervised", "no");
    line(out, "run_id", &s.run_id);
    line(out, "tcp_port", tcp_port);
    line(out, "server_time_usec", now_us);
    line(out, "uptime_in_seconds", uptime);
    line(out, "uptime_in_days", uptime / 86400);
    line(out, "hz", s.config.hz.clamp(1, 500));
    line(out, "configured_hz", s.config.hz.clamp(1, 500));
    line(
        out,
        "lru_clock",
        cachegate_storage::keyspace::lru_clock(now_us / 1000),
    );
    line(
        out,
        "executable",
        std::env::current_exe()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
    );
    line(out, "config_file", &s.config_file);
    line(out, "io_threads_active", 0);
    line(out, "cachegate_version", crate::VERSION);
    line(
        out,
        "cachegate_execution_model",
        s.config.execution_model.as_str(),
    );
}

fn os_string() -> String {
    // SAFETY: uname fills the zeroed struct we pass.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    if unsafe { libc::uname(&mut u) } != 0 {
        return "Linux".into();
    }
    let field = |f: &[libc::c_char]| {
        let bytes: Vec<u8> = f
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8)
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    };
    format!(
        "{} {} {}",
        field(&u.sysname),
        field(&u.release),
        field(&u.machine)
    )
}

fn clients(out: &mut String, s: &Shared) {
    out.push_str("# Clients\r\n");
    line(out, "connected_clients", s.clients.len());
    line(out, "cluster_connections", 0);
    line(out, "maxclients", s.config.maxclients);
    line(
        out,
        "client_recent_max_input_buffer",
        s.clients.max_input_buffer(),
    );
    line(
        out,
        "client_recent_max_output_buffer",
        s.clients.max_output_buffer(),
    );
    line(out, "blocked_clients", s.store.blocking.len());
    line(out, "tracking_clients", 0);
    line(
        out,
        "clients_in_timeout_table",
        s.store.blocking.with_deadline(),
    );
}

fn memory(out: &mut String, s: &Shared) {
    let mem = s.used_memory();
    let used = mem.total();
    let dataset = mem.dataset;
    let rss = sys::rss_bytes() as u64;
    let allocated = sys::allocated_bytes() as u64;
    let total = sys::total_system_memory();
    let perc = |part: u64, whole: u64| {
        if whole == 0 {
            0.0
        } else {
            part as f64 * 100.0 / whole as f64
        }
    };
    let ratio = |a: u64, b: u64| if b > 0 { a as f64 / b as f64 } else { 0.0 };
    out.push_str("# Memory\r\n");
    line(out, "used_memory", used);
    line(out, "used_memory_human", sys::bytes_human(used));
    line(out, "used_memory_rss", rss);
    line(out, "used_memory_rss_human", sys::bytes_human(rss));
    let peak = s.counters.peak_memory.max(used);
    line(out, "used_memory_peak", peak);
    line(out, "used_memory_peak_human", sys::bytes_human(peak));
    line(
        out,
        "used_memory_peak_perc",
        format!("{:.2}%", perc(used, peak)),
    );
    // Overhead: what the server held at startup, the keyspace index, client buffers.
    line(out, "used_memory_overhead", mem.overhead());
    line(out, "used_memory_startup", mem.startup);
    line(out, "used_memory_dataset", dataset);
    line(
        out,
        "used_memory_dataset_perc",
        format!("{:.2}%", perc(dataset, used)),
    );
    // The allocator's own figures cover the whole process (memcached store included).
    line(out, "allocator_allocated", allocated);
    line(out, "allocator_active", allocated);
    line(out, "allocator_resident", rss);
    line(out, "total_system_memory", total);
    line(out, "total_system_memory_human", sys::bytes_human(total));
    // There is no scripting engine and no functions: their memory is zero.
    for key in ["used_memory_lua", "used_memory_vm_eval"] {
        line(out, key, 0);
    }
    line(out, "used_memory_lua_human", "0B");
    for key in [
        "used_memory_scripts_eval",
        "number_of_cached_scripts",
        "number_of_functions",
        "number_of_libraries",
        "used_memory_vm_functions",
        "used_memory_vm_total",
    ] {
        line(out, key, 0);
    }
    line(out, "used_memory_vm_total_human", "0B");
    line(out, "used_memory_functions", 0);
    line(out, "used_memory_scripts", 0);
    line(out, "used_memory_scripts_human", "0B");
    line(out, "maxmemory", 0);
    line(out, "maxmemory_human", "0B");
    line(out, "maxmemory_policy", "noeviction");
    line(out, "allocator_frag_ratio", "1.00");
    line(out, "allocator_frag_bytes", 0);
    line(
        out,
        "allocator_rss_ratio",
        format!("{:.2}", ratio(rss, used)),
    );
    line(out, "allocator_rss_bytes", rss as i64 - used as i64);
    line(out, "rss_overhead_ratio", "1.00");
    line(out, "rss_overhead_bytes", 0);
    line(
        out,
        "mem_fragmentation_ratio",
        format!("{:.2}", ratio(rss, used)),
    );
    line(out, "mem_fragmentation_bytes", rss as i64 - used as i64);
    line(out, "mem_not_counted_for_evict", 0);
    line(out, "mem_replication_backlog", 0);
    line(out, "mem_total_replication_buffers", 0);
    line(out, "mem_clients_slaves", 0);
    line(out, "mem_clients_normal", mem.clients);
    line(out, "mem_cluster_links", 0);
    line(out, "mem_aof_buffer", 0);
    line(out, "mem_allocator", "mimalloc");
    line(out, "active_defrag_running", 0);
    line(out, "lazyfree_pending_objects", s.lazyfree.pending());
    line(out, "lazyfreed_objects", s.store.stats.lazyfreed_objects);
    line(out, "cachegate_keyspace_index_bytes", mem.index);
}

fn persistence(out: &mut String, s: &Shared) {
    out.push_str("# Persistence\r\n");
    line(out, "loading", 0);
    line(out, "async_loading", 0);
    // Nothing forks to save, so copy-on-write figures are zero.
    for key in [
        "current_cow_peak",
        "current_cow_size",
        "current_cow_size_age",
    ] {
        line(out, key, 0);
    }
    line(out, "current_fork_perc", "0.00");
    line(out, "current_save_keys_processed", 0);
    line(out, "current_save_keys_total", 0);
    line(out, "rdb_changes_since_last_save", 0);
    line(out, "rdb_bgsave_in_progress", 0);
    line(out, "rdb_last_save_time", s.started_unix_ms / 1000);
    line(out, "rdb_last_bgsave_status", "ok");
    line(out, "rdb_last_bgsave_time_sec", -1);
    line(out, "rdb_current_bgsave_time_sec", -1);
    line(out, "rdb_saves", 0);
    line(out, "rdb_last_cow_size", 0);
    line(out, "rdb_last_load_keys_expired", 0);
    line(out, "rdb_last_load_keys_loaded", 0);
    line(out, "aof_enabled", 0);
    line(out, "aof_rewrite_in_progress", 0);
    line(out, "aof_rewrite_scheduled", 0);
    line(out, "aof_last_rewrite_time_sec", -1);
    line(out, "aof_current_rewrite_time_sec", -1);
    line(out, "aof_last_bgrewrite_status", "ok");
    line(out, "aof_rewrites", 0);
    line(out, "aof_rewrites_consecutive_failures", 0);
    line(out, "aof_last_write_status", "ok");
    line(out, "aof_last_cow_size", 0);
    line(out, "module_fork_in_progress", 0);
    line(out, "module_fork_last_cow_size", 0);
}

fn stats(out: &mut String, s: &Shared) {
    let st = &s.store.stats;
    let c = &s.counters;
    out.push_str("# Stats\r\n");
    line(out, "total_connections_received", c.connections_received);
    line(out, "total_commands_processed", st.total_commands_processed);
    line(
        out,
        "instantaneous_ops_per_sec",
        c.rates.per_sec(0).round() as u64,
    );
    line(out, "total_net_input_bytes", c.net_input_bytes);
    line(out, "total_net_output_bytes", c.net_output_bytes);
    // No replication: replication traffic is zero.
    line(out, "total_net_repl_input_bytes", 0);
    line(out, "total_net_repl_output_bytes", 0);
    line(
        out,
        "instantaneous_input_kbps",
        format!("{:.2}", c.rates.per_sec(1) / 1024.0),
    );
    line(
        out,
        "instantaneous_output_kbps",
        format!("{:.2}", c.rates.per_sec(2) / 1024.0),
    );
    line(out, "instantaneous_input_repl_kbps", "0.00");
    line(out, "instantaneous_output_repl_kbps", "0.00");
    line(out, "rejected_connections", c.rejected_connections);
    for key in ["sync_full", "sync_partial_ok", "sync_partial_err"] {
        line(out, key, 0);
    }
    line(out, "expired_keys", st.expired_keys);
    line(
        out,
        "expired_stale_perc",
        format!("{:.2}", st.expired_stale_perc),
    );
    line(
        out,
        "expired_time_cap_reached_count",
        st.expired_time_cap_reached_count,
    );
    line(out, "expire_cycle_cpu_milliseconds", st.expire_cycle_cpu_ms);
    line(out, "evicted_keys", st.evicted_keys);
    line(out, "evicted_clients", 0);
    line(out, "total_eviction_exceeded_time", 0);
    line(out, "current_eviction_exceeded_time", 0);
    line(out, "keyspace_hits", st.keyspace_hits);
    line(out, "keyspace_misses", st.keyspace_misses);
    // Features cachegate does not have (pub/sub, forks, MIGRATE, replicas, defragmentation,
    // client tracking, RESTORE) report zero.
    for key in [
        "pubsub_channels",
        "pubsub_patterns",
        "pubsubshard_channels",
        "latest_fork_usec",
        "total_forks",
        "migrate_cached_sockets",
        "slave_expires_tracked_keys",
        "active_defrag_hits",
        "active_defrag_misses",
        "active_defrag_key_hits",
        "active_defrag_key_misses",
        "total_active_defrag_time",
        "current_active_defrag_time",
        "tracking_total_keys",
        "tracking_total_items",
        "tracking_total_prefixes",
    ] {
        line(out, key, 0);
    }
    line(out, "unexpected_error_replies", 0);
    line(out, "total_error_replies", st.total_error_replies);
    line(out, "dump_payload_sanitizations", 0);
    line(out, "total_reads_processed", c.reads_processed);
    line(out, "total_writes_processed", c.writes_processed);
    // Every network thread does its own socket work; none is a Redis "I/O thread".
    for key in [
        "io_threaded_reads_processed",
        "io_threaded_writes_processed",
        "reply_buffer_shrinks",
        "reply_buffer_expands",
    ] {
        line(out, key, 0);
    }
}

fn replication(out: &mut String, s: &Shared) {
    out.push_str("# Replication\r\n");
    line(out, "role", "master");
    line(out, "connected_slaves", 0);
    line(out, "master_failover_state", "no-failover");
    line(out, "master_replid", &s.run_id);
    line(
        out,
        "master_replid2",
        "0000000000000000000000000000000000000000",
    );
    line(out, "master_repl_offset", 0);
    line(out, "second_repl_offset", -1);
    line(out, "repl_backlog_active", 0);
    line(out, "repl_backlog_size", 1_048_576);
    line(out, "repl_backlog_first_byte_offset", 0);
    line(out, "repl_backlog_histlen", 0);
}

fn cpu(out: &mut String) {
    let (user, sys_t) = sys::cpu_times();
    let (tuser, tsys) = sys::thread_cpu_times();
    out.push_str("# CPU\r\n");
    line(out, "used_cpu_sys", format!("{sys_t:.6}"));
    line(out, "used_cpu_user", format!("{user:.6}"));
    line(out, "used_cpu_sys_children", "0.000000");
    line(out, "used_cpu_user_children", "0.000000");
    line(out, "used_cpu_sys_main_thread", format!("{tsys:.6}"));
    line(out, "used_cpu_user_main_thread", format!("{tuser:.6}"));
}

fn errorstats(out: &mut String, s: &Shared) {
    out.push_str("# Errorstats\r\n");
    let mut errors = s.store.stats.errors.clone();
    errors.sort();
    for (code, count) in errors {
        let _ = write!(out, "errorstat_{code}:count={count}\r\n");
    }
}

/// Per-command latency percentiles (p50, p99, p99.9) in microseconds, for every command that
/// has run since the last `CONFIG RESETSTAT`, like redis-server's latency tracking.
fn latencystats(out: &mut String, s: &Shared) {
    out.push_str("# Latencystats\r\n");
    for (_, e) in s.store.commands.iter() {
        let Some(h) = e.latency.as_ref() else {
            continue;
        };
        let us = |p: f64| h.value_at_percentile(p) as f64 / 1000.0;
        let _ = write!(
            out,
            "latency_percentiles_usec_{}:p50={:.3},p99={:.3},p99.9={:.3}\r\n",
            e.full_name,
            us(50.0),
            us(99.0),
            us(99.9)
        );
    }
}

fn keyspace(out: &mut String, s: &Shared) {
    out.push_str("# Keyspace\r\n");
    for (i, db) in s.store.keyspace.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        let _ = write!(
            out,
            "db{i}:keys={},expires={},avg_ttl={}\r\n",
            db.len(),
            db.expires(),
            db.avg_ttl
        );
    }
}

fn commandstats(out: &mut String, s: &Shared) {
    out.push_str("# Commandstats\r\n");
    for (_, e) in s.store.commands.iter() {
        let st = &e.stats;
        if st.calls == 0 && st.rejected_calls == 0 && st.failed_calls == 0 {
            continue;
        }
        let per_call = if st.calls > 0 {
            st.usec as f64 / st.calls as f64
        } else {
            0.0
        };
        let _ = write!(
            out,
            "cmdstat_{}:calls={},usec={},usec_per_call={:.2},rejected_calls={},failed_calls={}\r\n",
            e.full_name, st.calls, st.usec, per_call, st.rejected_calls, st.failed_calls
        );
    }
}
