//! Front ends: where protocol messages meet storage operations.
//!
//! A front end takes parsed requests, runs them against `cachegate_storage`, and renders the
//! outcomes with the reference server's exact bytes. Front ends do no I/O: the connection
//! task owns the socket and hands them buffers, so every conversation can be tested
//! bytes-in, bytes-out.
//!
//! * [`resp`] — runs a parsed RESP batch against the shared state, including the commands
//!   that need the server itself ([`admin`]: INFO, CONFIG, HELLO, AUTH, RESET, QUIT,
//!   SHUTDOWN; [`client`]: the CLIENT family; [`debug`]: DEBUG).
//! * [`memcache`] — memcached's classic text protocol onto the memcached store.

pub mod admin;
pub mod client;
pub mod debug;
pub mod memcache;
pub mod resp;
