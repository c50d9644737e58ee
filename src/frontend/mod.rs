//! Front ends: where protocol messages meet storage operations.
//!
//! A front end takes a connection's input bytes, decodes every complete request with
//! `cachegate_protocols`, runs it against `cachegate_storage`, and renders the outcomes with
//! the reference server's exact bytes. Front ends do no I/O: the connection task owns the
//! socket and hands them buffers, so every conversation can be tested bytes-in, bytes-out.
//!
//! * [`memcache`] — memcached's classic text protocol onto the memcached store.

pub mod memcache;
