//! Front ends: where wire requests meet the storage crate.
//!
//! * [`resp`] — runs a parsed RESP batch against the shared state, including the commands
//!   that need the server itself ([`admin`]: INFO, CONFIG, CLIENT, HELLO, AUTH, RESET,
//!   QUIT, SHUTDOWN).
//! * `memcache` — the memcached front end over the concurrent mc store.

pub mod admin;
pub mod resp;
