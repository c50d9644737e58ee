//! # cachegate-protocols
//!
//! The wire formats cachegate speaks, as pure functions over byte slices: bytes in, typed
//! messages out, and back. Nothing here opens a socket, spawns a task, touches storage or
//! records a metric, so every parser can be tested (and fuzzed) on its own.
//!
//! * [`resp`] — RESP2 and RESP3: the server-side request parser (multibulk and inline, with
//!   redis-server's exact protocol errors), a general decoder for every RESP3 type (used by
//!   clients, tests and the load generator), and the reply writer the command handlers use.
//! * [`memcache`] — memcached's classic text protocol: request lines in, typed requests out,
//!   with memcached's own limits and error replies.
//! * [`number`] — the strict number parsing and formatting rules both servers use, shared so
//!   that `INCR`, `EXPIRE`, bulk lengths and memcached's `incr` agree on what a number is.
//!
//! `nom`, on the design card, is not used: both protocols are framed by lines and lengths
//! with quirks clients observe — redis-server looks only for `\r` and treats header lines as
//! C strings, memcached splits tokens on spaces with a token cap and truncates numbers
//! silently — which short byte loops over `memchr` state directly; parser combinators would
//! have to be bent around each quirk and would cost more per request.
//!
//! Goals: byte-exact compatibility with redis-server 7.0 and memcached 1.6, no allocation per
//! request on the hot path (arguments are spans into the caller's buffer), and no panics on
//! any input. Non-goals: I/O, buffering policy, or knowing what a command means.

pub mod memcache;
pub mod number;
pub mod resp;
