//! # cachegate
//!
//! One cache server for Redis and memcached clients. This crate holds the wiring: listeners,
//! connection tasks, the execution model and telemetry (to come), and the [`frontend`]s that
//! map protocol messages onto storage operations.

pub mod frontend;
