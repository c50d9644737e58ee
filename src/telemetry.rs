//! Prometheus metrics: names, descriptions, the exporter, and the publisher that copies the
//! server's counters into it.
//!
//! Names are the ones the standard exporters use (`redis_*` from redis_exporter,
//! `memcached_*` from memcached_exporter), so existing Grafana dashboards work against
//! cachegate's own `/metrics` without a sidecar (DESIGN decision 9); what only cachegate has
//! is under `cachegate_*`. Every value comes from the same counters INFO and `stats` print:
//! the hot path only bumps plain fields, and once a second [`publish`] copies them into
//! metric handles (so a scrape may lag the server by up to a second). The exporter is
//! `metrics-exporter-prometheus`'s HTTP listener on its own port; the recorder is kept local
//! rather than installed globally, so several servers can live in one test process.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use metrics::{Counter, Gauge, Key, Label, Metadata, Recorder, SharedString, Unit};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusRecorder};

use crate::conn::memcache::McCtx;
use crate::engine::Shared;
use crate::server::ServerCtx;

/// Every metric cachegate exports: (name, kind, unit, help).
pub const METRICS: &[(&str, Kind, Unit, &str)] = &[
    (
        "redis_up",
        Kind::Gauge,
        Unit::Count,
        "1 while the Redis side is serving.",
    ),
    (
        "redis_uptime_in_seconds",
        Kind::Gauge,
        Unit::Seconds,
        "Seconds since the server started.",
    ),
    (
        "redis_connected_clients",
        Kind::Gauge,
        Unit::Count,
        "Connected Redis clients.",
    ),
    (
        "redis_max_clients",
        Kind::Gauge,
        Unit::Count,
        "The maxclients setting.",
    ),
    (
        "redis_connections_received_total",
        Kind::Counter,
        Unit::Count,
        "Redis connections accepted.",
    ),
    (
        "redis_rejected_connections_total",
        Kind::Counter,
        Unit::Count,
        "Redis connections refused by maxclients.",
    ),
    (
        "redis_commands_processed_total",
        Kind::Counter,
        Unit::Count,
        "Redis commands executed.",
    ),
    (
        "redis_commands_total",
        Kind::Counter,
        Unit::Count,
        "Calls per Redis command.",
    ),
    (
        "redis_commands_duration_seconds_total",
        Kind::Counter,
        Unit::Seconds,
        "Execution time per Redis command.",
    ),
    (
        "redis_commands_rejected_calls_total",
        Kind::Counter,
        Unit::Count,
        "Calls refused before running, per command.",
    ),
    (
        "redis_commands_failed_calls_total",
        Kind::Counter,
        Unit::Count,
        "Calls that replied with an error, per command.",
    ),
    (
        "redis_errors_total",
        Kind::Counter,
        Unit::Count,
        "Error replies by error code.",
    ),
    (
        "redis_keyspace_hits_total",
        Kind::Counter,
        Unit::Count,
        "Key lookups that found their key.",
    ),
    (
        "redis_keyspace_misses_total",
        Kind::Counter,
        Unit::Count,
        "Key lookups that did not.",
    ),
    (
        "redis_expired_keys_total",
        Kind::Counter,
        Unit::Count,
        "Keys deleted because their TTL passed.",
    ),
    (
        "redis_evicted_keys_total",
        Kind::Counter,
        Unit::Count,
        "Keys evicted for memory.",
    ),
    (
        "redis_db_keys",
        Kind::Gauge,
        Unit::Count,
        "Keys per database.",
    ),
    (
        "redis_db_keys_expiring",
        Kind::Gauge,
        Unit::Count,
        "Keys with a TTL per database.",
    ),
    (
        "redis_db_avg_ttl_seconds",
        Kind::Gauge,
        Unit::Seconds,
        "Estimated average TTL per database.",
    ),
    (
        "redis_net_input_bytes_total",
        Kind::Counter,
        Unit::Bytes,
        "Bytes read from Redis clients.",
    ),
    (
        "redis_net_output_bytes_total",
        Kind::Counter,
        Unit::Bytes,
        "Bytes written to Redis clients.",
    ),
    (
        "redis_memory_used_bytes",
        Kind::Gauge,
        Unit::Bytes,
        "Bytes allocated by the server.",
    ),
    (
        "redis_memory_used_rss_bytes",
        Kind::Gauge,
        Unit::Bytes,
        "Resident memory of the process.",
    ),
    (
        "redis_memory_max_bytes",
        Kind::Gauge,
        Unit::Bytes,
        "The maxmemory setting (0 = none).",
    ),
    (
        "redis_cpu_sys_seconds_total",
        Kind::Counter,
        Unit::Seconds,
        "System CPU time of the process.",
    ),
    (
        "redis_cpu_user_seconds_total",
        Kind::Counter,
        Unit::Seconds,
        "User CPU time of the process.",
    ),
    (
        "redis_instance_info",
        Kind::Gauge,
        Unit::Count,
        "Constant 1, labelled with version and role.",
    ),
    (
        "cachegate_keyspace_index_bytes",
        Kind::Gauge,
        Unit::Bytes,
        "Bytes of the keyspace hash indexes.",
    ),
];

/// A metric's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Only goes up.
    Counter,
    /// Goes up and down.
    Gauge,
}

/// Label pairs of one series.
type Labels = Vec<(&'static str, String)>;

/// The values one publish copies out of the shared state.
#[derive(Debug, Default)]
pub struct Snapshot {
    counters: Vec<(&'static str, Labels, u64)>,
    gauges: Vec<(&'static str, Labels, f64)>,
}

impl Snapshot {
    fn counter(&mut self, name: &'static str, labels: Labels, v: u64) {
        self.counters.push((name, labels, v));
    }

    fn gauge(&mut self, name: &'static str, labels: Labels, v: f64) {
        self.gauges.push((name, labels, v));
    }

    /// Adds the memcached side's values (read without the keyspace lock).
    pub fn add_memcache(&mut self, mc: &McCtx) {
        use std::sync::atomic::Ordering::Relaxed;
        let st = mc.store.stats();
        let c = &st.counters;
        let n = &mc.counters;
        self.gauge("memcached_up", vec![], 1.0);
        self.gauge(
            "memcached_uptime_seconds",
            vec![],
            mc.started.elapsed().as_secs() as f64,
        );
        let cmd = |command: &str, status: &str| {
            vec![
                ("command", command.to_string()),
                ("status", status.to_string()),
            ]
        };
        for (command, hits, misses) in [
            ("get", c.get_hits, c.get_misses),
            ("delete", c.delete_hits, c.delete_misses),
            ("incr", c.incr_hits, c.incr_misses),
            ("decr", c.decr_hits, c.decr_misses),
            ("cas", c.cas_hits, c.cas_misses),
            ("touch", c.touch_hits, c.touch_misses),
        ] {
            self.counter("memcached_commands_total", cmd(command, "hit"), hits);
            self.counter("memcached_commands_total", cmd(command, "miss"), misses);
        }
        self.counter(
            "memcached_commands_total",
            cmd("cas", "badval"),
            c.cas_badval,
        );
        self.counter(
            "memcached_commands_total",
            cmd("flush", "hit"),
            st.cmd_flush,
        );
        let sets = c
            .cmd_set
            .saturating_sub(c.cas_hits + c.cas_misses + c.cas_badval);
        self.counter("memcached_commands_total", cmd("set", "hit"), sets);
        self.gauge("memcached_current_items", vec![], st.curr_items as f64);
        self.counter("memcached_items_total", vec![], c.total_items);
        self.gauge("memcached_current_bytes", vec![], st.bytes as f64);
        self.gauge("memcached_limit_bytes", vec![], st.limit_maxbytes as f64);
        self.counter("memcached_items_evicted_total", vec![], c.evictions);
        self.counter("memcached_items_reclaimed_total", vec![], c.reclaimed);
        self.counter("memcached_item_too_large_total", vec![], c.store_too_large);
        self.counter("memcached_item_no_memory_total", vec![], c.store_no_memory);
        self.gauge(
            "memcached_current_connections",
            vec![],
            n.curr_connections.load(Relaxed) as f64,
        );
        self.counter(
            "memcached_connections_total",
            vec![],
            n.total_connections.load(Relaxed),
        );
        self.counter(
            "memcached_connections_rejected_total",
            vec![],
            n.rejected_connections.load(Relaxed),
        );
        self.gauge(
            "memcached_max_connections",
            vec![],
            mc.max_connections as f64,
        );
        self.counter(
            "memcached_read_bytes_total",
            vec![],
            n.bytes_read.load(Relaxed),
        );
        self.counter(
            "memcached_written_bytes_total",
            vec![],
            n.bytes_written.load(Relaxed),
        );
    }

    /// Reads every exported value from `s`.
    pub fn take(s: &Shared) -> Snapshot {
        let mut snap = Snapshot::default();
        let st = &s.store.stats;
        let c = &s.counters;
        snap.gauge("redis_up", vec![], 1.0);
        snap.gauge(
            "redis_uptime_in_seconds",
            vec![],
            s.started.elapsed().as_secs() as f64,
        );
        snap.gauge("redis_connected_clients", vec![], s.clients.len() as f64);
        snap.gauge("redis_max_clients", vec![], f64::from(s.config.maxclients));
        snap.counter(
            "redis_connections_received_total",
            vec![],
            c.connections_received,
        );
        snap.counter(
            "redis_rejected_connections_total",
            vec![],
            c.rejected_connections,
        );
        snap.counter(
            "redis_commands_processed_total",
            vec![],
            st.total_commands_processed,
        );
        for (_, e) in s.store.commands.iter() {
            let cs = e.stats;
            if cs.calls == 0 && cs.rejected_calls == 0 && cs.failed_calls == 0 {
                continue;
            }
            let cmd = || vec![("cmd", e.full_name.clone())];
            snap.counter("redis_commands_total", cmd(), cs.calls);
            snap.gauge(
                "redis_commands_duration_seconds_total",
                cmd(),
                cs.usec as f64 / 1e6,
            );
            snap.counter(
                "redis_commands_rejected_calls_total",
                cmd(),
                cs.rejected_calls,
            );
            snap.counter("redis_commands_failed_calls_total", cmd(), cs.failed_calls);
        }
        for (code, n) in &st.errors {
            snap.counter("redis_errors_total", vec![("err", code.clone())], *n);
        }
        snap.counter("redis_keyspace_hits_total", vec![], st.keyspace_hits);
        snap.counter("redis_keyspace_misses_total", vec![], st.keyspace_misses);
        snap.counter("redis_expired_keys_total", vec![], st.expired_keys);
        snap.counter("redis_evicted_keys_total", vec![], st.evicted_keys);
        let mut index = 0;
        for (i, db) in s.store.keyspace.iter().enumerate() {
            index += db.index_bytes();
            if db.is_empty() && i != 0 {
                continue;
            }
            let l = || vec![("db", format!("db{i}"))];
            snap.gauge("redis_db_keys", l(), db.len() as f64);
            snap.gauge("redis_db_keys_expiring", l(), db.expires() as f64);
            snap.gauge("redis_db_avg_ttl_seconds", l(), db.avg_ttl as f64 / 1000.0);
        }
        snap.counter("redis_net_input_bytes_total", vec![], c.net_input_bytes);
        snap.counter("redis_net_output_bytes_total", vec![], c.net_output_bytes);
        snap.gauge(
            "redis_memory_used_bytes",
            vec![],
            s.used_memory().total() as f64,
        );
        snap.gauge(
            "redis_memory_used_rss_bytes",
            vec![],
            crate::sys::rss_bytes() as f64,
        );
        snap.gauge("redis_memory_max_bytes", vec![], 0.0);
        let (user, sys) = crate::sys::cpu_times();
        snap.gauge("redis_cpu_sys_seconds_total", vec![], sys);
        snap.gauge("redis_cpu_user_seconds_total", vec![], user);
        snap.gauge(
            "redis_instance_info",
            vec![
                ("redis_version", crate::REDIS_VERSION.to_string()),
                ("cachegate_version", crate::VERSION.to_string()),
                ("role", "master".to_string()),
                ("redis_mode", "standalone".to_string()),
                ("run_id", s.run_id.clone()),
            ],
            1.0,
        );
        snap.gauge("cachegate_keyspace_index_bytes", vec![], index as f64);
        snap
    }
}

/// Metric handles by name and labels, created on first use.
struct Handles {
    recorder: PrometheusRecorder,
    counters: HashMap<Key, Counter>,
    gauges: HashMap<Key, Gauge>,
}

fn key(name: &'static str, labels: &[(&'static str, String)]) -> Key {
    let labels: Vec<Label> = labels
        .iter()
        .map(|(k, v)| Label::new(*k, v.clone()))
        .collect();
    Key::from_parts(name, labels)
}

static META: Metadata<'static> = Metadata::new(module_path!(), metrics::Level::INFO, None);

impl Handles {
    fn apply(&mut self, snap: Snapshot) {
        for (name, labels, v) in snap.counters {
            let k = key(name, &labels);
            let recorder = &self.recorder;
            self.counters
                .entry(k.clone())
                .or_insert_with(|| recorder.register_counter(&k, &META))
                .absolute(v);
        }
        for (name, labels, v) in snap.gauges {
            let k = key(name, &labels);
            let recorder = &self.recorder;
            self.gauges
                .entry(k.clone())
                .or_insert_with(|| recorder.register_gauge(&k, &META))
                .set(v);
        }
    }
}

/// Starts the `/metrics` endpoint on `addr` and the once-a-second publisher.
pub fn start(addr: SocketAddr, ctx: Arc<ServerCtx>, mc: Arc<McCtx>) -> Result<(), String> {
    // Bind first so a busy port fails startup with a clear message.
    std::net::TcpListener::bind(addr)
        .map_err(|e| format!("could not bind metrics endpoint {addr}: {e}"))?;
    let (recorder, exporter) = PrometheusBuilder::new()
        .with_http_listener(addr)
        .build()
        .map_err(|e| format!("metrics exporter: {e}"))?;
    for &(name, kind, unit, help) in METRICS {
        let help = SharedString::const_str(help);
        match kind {
            Kind::Counter => recorder.describe_counter(name.into(), Some(unit), help),
            Kind::Gauge => recorder.describe_gauge(name.into(), Some(unit), help),
        }
    }
    tokio::spawn(async move {
        if let Err(e) = exporter.await {
            tracing::warn!("metrics exporter stopped: {e:?}");
        }
    });
    let mut handles = Handles {
        recorder,
        counters: HashMap::new(),
        gauges: HashMap::new(),
    };
    tokio::spawn(async move {
        let mut stop = ctx.shutdown.subscribe();
        loop {
            let mut snap = ctx.executor.run(|s| Snapshot::take(s)).await;
            snap.add_memcache(&mc);
            handles.apply(snap);
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = stop.changed() => return,
            }
        }
    });
    Ok(())
}

/// Every metric name, for checking dashboards against.
pub fn names() -> impl Iterator<Item = &'static str> {
    METRICS.iter().map(|m| m.0)
}
