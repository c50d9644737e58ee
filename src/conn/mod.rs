//! Per-connection tasks, one module per protocol.

pub mod resp;
