//! memcached's classic text protocol (`doc/protocol.txt` of memcached 1.6), as memcached
//! 1.6.18 speaks it: request bytes in, typed [`Request`]s out, and replies back to bytes.
//!
//! * [`parser`] — framing: request lines and data blocks in a connection's input buffer,
//!   resumable across reads, with memcached's line limits, its handling of bad data blocks
//!   and of items too large to accept (whose bytes are discarded as they arrive);
//! * [`line`](mod@line) — one request line to one [`Command`], with memcached's word counts, `noreply`
//!   rules and every `ERROR` / `CLIENT_ERROR` it answers;
//! * [`number`] — numbers as memcached's `safe_strtoul`/`safe_strtoull`/`safe_strtol` read
//!   them (leading spaces and zeros, wrapping negatives, silent 32-bit truncation);
//! * [`exptime`] — wire exptimes (relative, absolute, negative) to absolute Unix
//!   milliseconds;
//! * [`response`] — the reply lines, `VALUE` blocks and `STAT` lines;
//! * [`encode`] — requests written as a client sends them (tests, tools).
//!
//! Requests borrow the caller's buffer; nothing is copied or allocated per request.
//! Not here: what a command does (the store), which replies `noreply` suppresses (the front
//! end, from [`Request::noreply`]), the meta and binary protocols (later).

pub mod encode;
pub mod exptime;
pub mod line;
pub mod number;
pub mod parser;
pub mod request;
pub mod response;

pub use line::KEY_MAX_LEN;
pub use parser::{item_size, Parse, Parser, ParserConfig};
pub use request::{CloseReason, Command, ErrorReply, Get, Keys, Request, Store, StoreCommand};
pub use response::Reply;
