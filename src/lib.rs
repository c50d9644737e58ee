//! # cachegate
//!
//! One cache server for Redis and memcached clients. This crate is the server: sockets,
//! connection tasks, the execution model, the front ends that map wire requests onto the
//! storage crate, and telemetry. Data-structure logic lives in `cachegate-storage`, wire
//! formats in `cachegate-protocols`, configuration in `cachegate-config`.
//!
//! ```text
//!  redis clients ──TCP/Unix──► conn::resp ─┐ parse every complete request in the buffer
//!                                          ├─► engine: one lock (or one hand-off) per batch
//!  memcached clients ──TCP/Unix──► conn::memcache ─► frontend::memcache ─► storage::mc (sharded)
//!                                          │
//!            engine::Shared { Store, clients, config, counters } ◄── cron: active expiry
//!                                          │
//!                               telemetry ─┴─► /metrics (Prometheus)
//! ```
//!
//! # Layout
//!
//! | module | owns |
//! |---|---|
//! | [`server`] | building everything from a [`cachegate_config::Config`], [`server::run`] |
//! | [`listener`] | binding TCP and Unix sockets, accept loops, `maxclients` |
//! | [`conn`] | per-connection tasks: read, batch, execute, write once |
//! | [`engine`] | the shared state and the two execution models |
//! | [`frontend`] | server-level Redis commands (INFO, CONFIG, CLIENT, HELLO…), the memcached front end |
//! | [`info`] | the INFO sections |
//! | [`clients`] | the client registry behind CLIENT LIST / INFO / KILL |
//! | [`lazyfree`] | the background thread that frees big values |
//! | [`mailbox`] | how the server reaches a connection (blocked replies, kills) |
//! | [`telemetry`] | metric names and the Prometheus exporter |
//! | [`sys`] | process facts: RSS, CPU time, allocator counters |

pub mod clients;
pub mod conn;
pub mod engine;
pub mod frontend;
pub mod info;
pub mod lazyfree;
pub mod listener;
pub mod mailbox;
pub mod server;
pub mod sys;
pub mod telemetry;

/// cachegate's own version (`cachegate_version` in INFO).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The redis-server release whose behaviour cachegate matches (`redis_version` in INFO and
/// HELLO; clients read it to pick features).
pub const REDIS_VERSION: &str = "7.0.15";
