//! RESP2 and RESP3, the Redis serialization protocol.
//!
//! Three jobs, one file each:
//!
//! * [`request`] — what a *server* reads: commands as multibulk arrays (`*2\r\n$3\r\nGET…`) or
//!   inline lines (`GET key\r\n`), parsed exactly as redis-server 7.0 parses them, including its
//!   protocol error replies and where it gives up on a connection. Arguments come back as spans
//!   into the caller's buffer, so parsing allocates nothing per command. [`inline`] holds the
//!   inline-line tokenizer (quotes and escapes as `redis-cli` and redis-server understand them).
//! * [`decode`] / [`frame`] — what a *client* reads: any RESP2 or RESP3 value, as an owned
//!   [`Frame`]. Tests, the differential tester and the load generator use it.
//! * [`encode`] — what a server writes: [`ReplyBuf`], which renders each reply kind for the
//!   connection's protocol version (RESP2 folds maps into arrays, nulls into `$-1`…), plus
//!   [`Frame::encode`] for clients and tests.
//!
//! Streamed RESP3 strings and aggregates (`$?`, `*?`) are not decoded: redis-server never sends
//! them and no client library produces them.

pub mod decode;
pub mod encode;
pub mod frame;
pub mod inline;
pub mod request;

pub use decode::{decode, DecodeError, DecodeLimits};
pub use encode::{ProtocolVersion, ReplyBuf};
pub use frame::Frame;
pub use request::{Batch, ProtocolError, RequestLimits, RequestParser, Span};
