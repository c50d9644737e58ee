//! Per-connection tasks, one module per protocol.

pub mod memcache;
pub mod pool;
pub mod resp;
pub mod socket;
