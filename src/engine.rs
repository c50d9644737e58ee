//! The shared state every Redis command runs against, and how connections reach it.
//!
//! [`Shared`] holds the keyspace (`Store`), the client registry, the live configuration and
//! the server counters. Redis semantics need it to behave as if single-threaded (DESIGN
//! decision 1), so every access goes through an [`Executor`], which runs one closure at a
//! time against `&mut Shared`. A connection hands it a whole pipelined batch per call, so a
//! batch of N commands costs one synchronisation, not N. Two models are built, chosen by
//! `execution_model`:
//!
//! * **lock** (default): the connection's own thread takes a mutex around `Shared` for the
//!   batch. No thread hand-off, no allocation per batch.
//! * **engine**: one dedicated thread owns `Shared`; connection tasks send it boxed jobs over
//!   a channel and await the result. No lock contention, but two thread wake-ups per batch.
//!
//! Measured with `benches/side_by_side.py --quick --rounds 2 --only resp` on one pinned
//! core (`--io-threads 1`), 50 connections, 64-byte values, ratios against redis-server 7.0.15
//! in the same run (2026-11-22):
//!
//! | load | lock | engine |
//! |---|---|---|
//! | GET, pipeline 16 | 1.68× | 1.63× |
//! | SET, pipeline 16 | 1.98× | 1.90× |
//! | GET, no pipelining | 1.08× | 0.68× |
//! | SET, no pipelining | 1.11× | 0.71× |
//!
//! Pipelined, both amortise their synchronisation over 16 commands and come out even; one
//! command at a time, the engine's hand-off costs two context switches per request on a
//! single core and loses a third of the throughput. The lock model is the default; the
//! engine model stays selectable for comparison on machines with spare cores.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use cachegate_config::{Config, ExecutionModel};
use cachegate_storage::Store;
use tokio::sync::{mpsc, oneshot};

use crate::clients::Clients;
use crate::frontend::admin::ServerHandlers;

/// Settings connection tasks read on every read or accept, kept outside the lock.
#[derive(Debug)]
pub struct Tunables {
    /// `timeout`, seconds (0 = never).
    pub timeout_secs: AtomicU64,
    /// `client-query-buffer-limit`, bytes.
    pub query_buffer_limit: AtomicU64,
    /// `proto-max-bulk-len`, bytes.
    pub proto_max_bulk_len: AtomicU64,
    /// `maxclients`.
    pub maxclients: AtomicU64,
    /// `tcp-keepalive`, seconds (0 = off).
    pub tcp_keepalive: AtomicU64,
}

impl Tunables {
    /// The tunables of `config`.
    pub fn from_config(config: &Config) -> Self {
        Tunables {
            timeout_secs: AtomicU64::new(u64::from(config.timeout)),
            query_buffer_limit: AtomicU64::new(config.client_query_buffer_limit),
            proto_max_bulk_len: AtomicU64::new(config.proto_max_bulk_len),
            maxclients: AtomicU64::new(u64::from(config.maxclients)),
            tcp_keepalive: AtomicU64::new(u64::from(config.tcp_keepalive)),
        }
    }

    /// Copies the tunable values of `config` (after CONFIG SET).
    pub fn update(&self, config: &Config) {
        self.timeout_secs
            .store(u64::from(config.timeout), Ordering::Relaxed);
        self.query_buffer_limit
            .store(config.client_query_buffer_limit, Ordering::Relaxed);
        self.proto_max_bulk_len
            .store(config.proto_max_bulk_len, Ordering::Relaxed);
        self.maxclients
            .store(u64::from(config.maxclients), Ordering::Relaxed);
        self.tcp_keepalive
            .store(u64::from(config.tcp_keepalive), Ordering::Relaxed);
    }
}

/// Server-wide counters (`INFO stats`).
#[derive(Debug, Default, Clone)]
pub struct Counters {
    /// `total_connections_received`.
    pub connections_received: u64,
    /// `rejected_connections` (maxclients).
    pub rejected_connections: u64,
    /// `total_net_input_bytes`.
    pub net_input_bytes: u64,
    /// `total_net_output_bytes`.
    pub net_output_bytes: u64,
    /// `total_reads_processed`: socket reads by Redis connections.
    pub reads_processed: u64,
    /// `total_writes_processed`: socket writes by Redis connections.
    pub writes_processed: u64,
    /// `used_memory_peak`, sampled by the periodic task.
    pub peak_memory: u64,
    /// `instantaneous_*` rates.
    pub rates: Rates,
}

/// How many samples the `instantaneous_*` figures average (redis-server: 16).
const RATE_SAMPLES: usize = 16;

/// `instantaneous_ops_per_sec` and the `instantaneous_*_kbps` figures: per-second rates of
/// three totals, averaged over the last [`RATE_SAMPLES`] samples the periodic task takes,
/// as redis-server does.
#[derive(Debug, Default, Clone)]
pub struct Rates {
    last: Option<(i64, [u64; 3])>,
    samples: [[f64; 3]; RATE_SAMPLES],
    next: usize,
    filled: usize,
}

impl Rates {
    /// Records the totals (commands, input bytes, output bytes) at `now_ms`.
    pub fn sample(&mut self, now_ms: i64, totals: [u64; 3]) {
        if let Some((t, prev)) = self.last {
            let dt = (now_ms - t) as f64 / 1000.0;
            if dt > 0.0 {
                for i in 0..3 {
                    self.samples[self.next][i] = totals[i].saturating_sub(prev[i]) as f64 / dt;
                }
                self.next = (self.next + 1) % RATE_SAMPLES;
                self.filled = (self.filled + 1).min(RATE_SAMPLES);
            }
        }
        self.last = Some((now_ms, totals));
    }

    /// The averaged rate of total `i` (0 commands, 1 input bytes, 2 output bytes) per second.
    pub fn per_sec(&self, i: usize) -> f64 {
        if self.filled == 0 {
            return 0.0;
        }
        self.samples[..self.filled]
            .iter()
            .map(|s| s[i])
            .sum::<f64>()
            / self.filled as f64
    }
}

/// Why and how the server should stop (SHUTDOWN).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShutdownRequest {
    /// Stop now.
    Now,
}

/// Everything Redis commands run against.
pub struct Shared {
    /// The keyspace and command table.
    pub store: Store,
    /// The functions of the commands the server executes, by command id.
    pub server_commands: ServerHandlers,
    /// Connected Redis clients.
    pub clients: Clients,
    /// The live configuration (CONFIG GET/SET).
    pub config: Config,
    /// The configuration file given at startup, if any (`config_file` in INFO).
    pub config_file: String,
    /// Server counters.
    pub counters: Counters,
    /// When the server started.
    pub started: Instant,
    /// Unix ms when the server started.
    pub started_unix_ms: i64,
    /// 40 hex characters identifying this run (`run_id`).
    pub run_id: String,
    /// Set by SHUTDOWN.
    pub shutdown: Option<ShutdownRequest>,
    /// Values connection tasks read without the lock.
    pub tunables: Arc<Tunables>,
    /// Applies listener changes (CONFIG SET port / bind) synchronously.
    pub rebind: Option<Rebind>,
    /// The TCP port actually bound (differs from `config.port` when it was 0).
    pub tcp_port: u16,
    /// CLIENT PAUSE in force, if any.
    pub pause: Option<Pause>,
    /// Bytes allocated when the server started (`used_memory_startup`).
    pub startup_memory: u64,
    /// Frees big values off the keyspace lock.
    pub lazyfree: crate::lazyfree::LazyFree,
}

/// What the Redis side holds in memory (`INFO memory`), counted by the keyspace itself and
/// the connections' buffers rather than read off the allocator, which also serves the
/// memcached store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UsedMemory {
    /// Allocated before the first client (`used_memory_startup`).
    pub startup: u64,
    /// Every database's hash index.
    pub index: u64,
    /// Entries and their values (`used_memory_dataset`).
    pub dataset: u64,
    /// Client query and output buffers.
    pub clients: u64,
}

impl UsedMemory {
    /// `used_memory`.
    pub fn total(&self) -> u64 {
        self.startup + self.index + self.dataset + self.clients
    }

    /// `used_memory_overhead`: all but the dataset.
    pub fn overhead(&self) -> u64 {
        self.startup + self.index + self.clients
    }
}

impl Shared {
    /// The Redis side's memory now.
    pub fn used_memory(&self) -> UsedMemory {
        let (mut index, mut all) = (0u64, 0u64);
        for db in self.store.keyspace.iter() {
            index += db.index_bytes() as u64;
            all += db.used_bytes() as u64;
        }
        let clients: usize = self
            .clients
            .iter()
            .map(|c| c.qbuf + c.qbuf_free + c.obuf)
            .sum();
        UsedMemory {
            startup: self.startup_memory,
            index,
            dataset: all - index,
            clients: clients as u64,
        }
    }
}

/// A CLIENT PAUSE: until when, and whether it holds every command or only writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pause {
    /// Unix ms at which it ends.
    pub until_ms: i64,
    /// ALL (every command) rather than WRITE.
    pub all: bool,
}

type Job = Box<dyn FnOnce(&mut Shared) + Send>;

/// Rebinds the Redis TCP listeners to a new configuration's `port`/`bind`; the error is the
/// reason CONFIG SET reports.
pub type Rebind = Box<dyn FnMut(&Config) -> Result<(), String> + Send>;

/// Runs a closure against the shared state from a connection task: inline under the lock
/// (lock model), or through a boxed hand-off (engine model). A plain `executor.run(f).await`
/// would keep `f` — a batch's requests, connection state and reply buffer — inside the
/// connection's future for its whole life, and that future is what every idle connection
/// costs.
#[macro_export]
macro_rules! exec {
    ($executor:expr, $f:expr) => {
        match $executor.try_inline($f) {
            Ok(r) => r,
            Err(f) => Box::pin($executor.run(f)).await,
        }
    };
}

/// Runs closures against [`Shared`], one at a time, by the configured model.
#[derive(Clone)]
pub enum Executor {
    /// A mutex taken by the caller's thread.
    Lock(Arc<Mutex<Shared>>),
    /// A channel to the engine thread.
    Engine(mpsc::UnboundedSender<Job>),
}

impl Executor {
    /// Starts an executor of the configured model around `shared`. Fails only if the engine
    /// thread cannot be started.
    pub fn start(shared: Shared, model: ExecutionModel) -> Result<Executor, String> {
        match model {
            ExecutionModel::Lock => Ok(Executor::Lock(Arc::new(Mutex::new(shared)))),
            ExecutionModel::Engine => {
                let (tx, mut rx) = mpsc::unbounded_channel::<Job>();
                let mut shared = shared;
                std::thread::Builder::new()
                    .name("cachegate-engine".into())
                    .spawn(move || {
                        while let Some(job) = rx.blocking_recv() {
                            job(&mut shared);
                        }
                    })
                    .map_err(|e| format!("cannot start the engine thread: {e}"))?;
                Ok(Executor::Engine(tx))
            }
        }
    }

    /// The lock model's synchronous path: `Ok` with the result, or `Err(f)` back for the
    /// engine model. Connection tasks go through [`exec!`](crate::exec) rather than
    /// [`Executor::run`] so that the closure never sits in their future.
    pub fn try_inline<F, R>(&self, f: F) -> Result<R, F>
    where
        F: FnOnce(&mut Shared) -> R,
    {
        match self {
            Executor::Lock(m) => {
                let mut guard = m.lock().unwrap_or_else(|p| p.into_inner());
                Ok(f(&mut guard))
            }
            Executor::Engine(_) => Err(f),
        }
    }

    /// Runs `f` with exclusive access to the shared state and returns its result.
    pub async fn run<F, R>(&self, f: F) -> R
    where
        F: FnOnce(&mut Shared) -> R + Send + 'static,
        R: Send + 'static,
    {
        match self {
            Executor::Lock(m) => {
                // A poisoned lock means a command panicked mid-batch; the state is still the
                // best we have, and refusing every later client would be worse.
                let mut guard = m.lock().unwrap_or_else(|p| p.into_inner());
                f(&mut guard)
            }
            Executor::Engine(tx) => {
                let (done, result) = oneshot::channel();
                let job: Job = Box::new(move |s| {
                    let _ = done.send(f(s));
                });
                if tx.send(job).is_err() {
                    // The engine thread is gone only when the process is stopping.
                    std::future::pending::<()>().await;
                }
                match result.await {
                    Ok(r) => r,
                    Err(_) => std::future::pending().await,
                }
            }
        }
    }
}
