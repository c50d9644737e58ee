//! The memcached front end: classic text requests onto [`McStore`], replies byte for byte as
//! memcached 1.6.18 sends them. No sockets here: [`McSession::process`] takes the bytes a
//! connection has read and appends the replies to one output buffer.
//!
//! # The mapping
//!
//! | request | store call | replies |
//! |---|---|---|
//! | `get gets gat gats` | [`McStore::get`] per key | `VALUE …` per hit, then `END` |
//! | `set add replace append prepend` | [`McStore::store`] with the matching [`StoreMode`] | `STORED` `NOT_STORED` `SERVER_ERROR …` |
//! | `cas` | `store` in `Set` mode with the CAS value | `STORED` `EXISTS` `NOT_FOUND` |
//! | item over `-I` | [`McStore::store_refused`] (the data is discarded unread) | `SERVER_ERROR object too large for cache` |
//! | `incr decr` | [`McStore::arith`] | the number, `NOT_FOUND`, `CLIENT_ERROR …` |
//! | `delete` | [`McStore::delete`] | `DELETED` `NOT_FOUND` |
//! | `touch` | [`McStore::touch`] | `TOUCHED` `NOT_FOUND` |
//! | `flush_all [delay]` | [`McStore::flush_all`] | `OK` |
//! | `stats …` `version` `verbosity` `quit` `shutdown` | — | see [`stats`] |
//!
//! Namespace (DESIGN decision 3): memcached keys live in the memcached store, apart from
//! the Redis keyspace. The shared-keyspace mode (`memcache.keyspace = "shared"`) will be a
//! second store behind this same mapping, chosen here.
//!
//! # memcached's behaviours kept on purpose
//!
//! * `noreply` silences a request's whole reply, errors included, but only where memcached
//!   has looked for the word before failing ([`Request::noreply`]);
//! * a `get` naming a key over 250 bytes answers `CLIENT_ERROR bad command line format` and
//!   discards the replies memcached has not sent yet; so does closing the connection for a
//!   bad line (no newline in 2 KiB, or an HTTP request). memcached sends its replies when a
//!   read is used up, after every successful get, after a data block that began in an
//!   earlier read (it reads the block's rest and no further), and every 20 requests
//!   (`reqs_per_event`), so "not sent yet" means the replies of this `process` call since
//!   the last of those. (memcached also holds replies while it waits for a data block; the
//!   caller of `process` sends them, so those are not taken back);
//! * `version` and `STAT version` report [`MEMCACHED_COMPAT_VERSION`], the memcached whose
//!   protocol this is: clients and tools (libmemcached, memcached_exporter) read that field
//!   to decide what the server supports. cachegate's own version is `STAT cachegate_version`,
//!   a field memcached does not have.
//!
//! # Deliberate differences from memcached 1.6.18
//!
//! * Meta commands (`mg ms md ma mn me`) answer `ERROR` until the meta protocol lands (an
//!   `ms` data block is then read as a command line); so do the admin commands `slabs`,
//!   `lru`, `lru_crawler`, `watch`, `cache_memlimit`. `shutdown` always gets memcached's
//!   answer without `-A`; `verbosity` is accepted and changes nothing.
//! * A get line longer than `ParserConfig::max_get_line` (2 MiB) is answered `SERVER_ERROR
//!   out of memory reading request` and the connection closed; memcached grows its buffer
//!   without limit (DESIGN decision 11).
//! * A get with a key over 250 bytes looks none of its keys up; memcached looks up (and
//!   counts) the keys before the long one. The bytes sent are the same.
//! * Replies are handed to the caller when `process` returns, also while a data block is
//!   still arriving; memcached holds them until the block is complete.
//! * Statistics: `cmd_set` does not count storage commands whose data block was malformed,
//!   nor `cmd_flush` a `flush_all` with a bad delay; `stats items` and `stats conns` are
//!   empty, `stats detail` keeps no per-prefix counts, `stats cachedump` is refused.
//! * Expiry and `flush_all` timing follow [`McStore`] (milliseconds rather than memcached's
//!   one-second clock; see `cachegate_storage::mc`).

pub mod stats;

use cachegate_protocols::memcache::{
    exptime, response, Command, Get, Parse, Parser, ParserConfig, Reply, Request, Store,
    StoreCommand,
};
use cachegate_storage::mc::{
    ArithOp, ArithOutcome, DeleteOutcome, Expiry, McStore, StoreMode, StoreOutcome, StoreRequest,
    TouchOutcome,
};

pub use stats::McServerInfo;

/// The memcached version whose protocol cachegate speaks, as `version` reports it.
pub const MEMCACHED_COMPAT_VERSION: &str = "1.6.18";

/// What one [`McSession::process`] call did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Processed {
    /// Input bytes used; the caller drops them and passes the rest (plus new bytes) next
    /// time.
    pub consumed: usize,
    /// True if the connection must be closed once the output is written (`quit`, or where
    /// memcached closes).
    pub close: bool,
    /// When known, how many more bytes (after `consumed`) the next request needs, so the
    /// caller can size its read buffer for a large data block.
    pub need: Option<usize>,
    /// True if processing stopped early because the replies passed
    /// [`OUTPUT_SOFT_LIMIT`]: write them, then call again with the rest of the input.
    pub more: bool,
}

/// Reply bytes after which [`McSession::process`] stops so the caller can write them; a
/// pipeline of large gets then costs the server about this much memory, not the sum of
/// all its replies.
pub const OUTPUT_SOFT_LIMIT: usize = 1024 * 1024;

/// memcached's `reqs_per_event` (`-R`, default 20). memcached runs at most this many
/// requests of a read before it yields to other connections, and sends the replies it has
/// when it does: after the 21st request of a read (it counts from the read), then after
/// every 20th. A later long-key get or closing line cannot take those back.
const REQS_PER_EVENT: usize = 20;

/// One memcached connection's protocol state.
#[derive(Debug, Default)]
pub struct McSession {
    parser: Parser,
}

/// Whether to keep going after a request.
enum Flow {
    Continue,
    Close,
}

fn store_mode(command: StoreCommand) -> StoreMode {
    match command {
        StoreCommand::Set | StoreCommand::Cas => StoreMode::Set,
        StoreCommand::Add => StoreMode::Add,
        StoreCommand::Replace => StoreMode::Replace,
        StoreCommand::Append => StoreMode::Append,
        StoreCommand::Prepend => StoreMode::Prepend,
    }
}

/// A wire exptime made absolute against the store's clock.
fn expiry(store: &McStore, wire: i32) -> Expiry {
    exptime::to_unix_ms(i64::from(wire), store.now_ms()).into()
}

impl McSession {
    /// A session with the given parser limits (item size, longest multiget line).
    pub fn new(config: ParserConfig) -> Self {
        McSession {
            parser: Parser::new(config),
        }
    }

    /// True if a request has partly arrived (a `quit` now would lose it).
    pub fn has_pending(&self) -> bool {
        self.parser.has_pending()
    }

    /// Runs every complete request at the front of `input` against `store` and appends
    /// the replies to `out`. `server` supplies the server-level values `stats` and
    /// `version` report; it is called only for those commands. `input` must start where
    /// the previous call's `consumed` ended.
    pub fn process(
        &mut self,
        input: &[u8],
        store: &McStore,
        server: &dyn Fn() -> McServerInfo,
        out: &mut Vec<u8>,
    ) -> Processed {
        // Where the replies memcached would not have sent yet begin: those of this read,
        // after the last get (memcached flushes its replies after every get).
        let mut unsent = out.len();
        // Requests until memcached's next flush (see `REQS_PER_EVENT`).
        let mut until_flush = REQS_PER_EVENT + 1;
        // A data block begun in an earlier read: memcached reads its rest straight from the
        // socket, exactly, so once it is stored its read buffer is empty; it sends its
        // replies and reads what follows as a new read.
        let mut resumed_block = self.parser.awaiting_data();
        let mut pos = 0;
        loop {
            match self.parser.parse(&input[pos..]) {
                Parse::Incomplete { consumed, need } => {
                    return Processed {
                        consumed: pos + consumed,
                        close: false,
                        need,
                        more: false,
                    }
                }
                Parse::Request { request, len } => {
                    pos += len;
                    if let Flow::Close = execute(request, store, server, out, &mut unsent) {
                        return Processed {
                            consumed: pos,
                            close: true,
                            need: None,
                            more: false,
                        };
                    }
                    until_flush -= 1;
                    if std::mem::take(&mut resumed_block) {
                        unsent = out.len();
                        until_flush = REQS_PER_EVENT + 1;
                    } else if until_flush == 0 {
                        unsent = out.len();
                        until_flush = REQS_PER_EVENT;
                    }
                    if out.len() >= OUTPUT_SOFT_LIMIT {
                        return Processed {
                            consumed: pos,
                            close: false,
                            need: None,
                            more: true,
                        };
                    }
                }
            }
        }
    }
}

/// Executes one request and writes its reply (unless `noreply` silences it).
fn execute(
    request: Request<'_>,
    store: &McStore,
    server: &dyn Fn() -> McServerInfo,
    out: &mut Vec<u8>,
    unsent: &mut usize,
) -> Flow {
    let mark = out.len();
    match request.command {
        Command::Get(g) => {
            get_cmd(&g, store, out);
            *unsent = out.len();
        }
        Command::Store(s) => store_cmd(&s, store, out),
        Command::TooLarge { command, key } => {
            // memcached drops the key's current item only for a plain `set` (NREAD_SET);
            // a refused `cas`, which the store otherwise runs as a set, leaves it alone.
            let mode = match command {
                StoreCommand::Cas => StoreMode::Replace,
                other => store_mode(other),
            };
            store.store_refused(key, mode, StoreOutcome::TooLarge);
            Reply::TooLarge.write(out);
        }
        Command::Arith { incr, key, delta } => {
            let op = if incr { ArithOp::Incr } else { ArithOp::Decr };
            match store.arith(key, delta, op) {
                ArithOutcome::Value(n) => response::write_number(out, n),
                ArithOutcome::NotFound => Reply::NotFound.write(out),
                ArithOutcome::NonNumeric => Reply::NonNumeric.write(out),
                ArithOutcome::NoMemory => Reply::NoMemory.write(out),
            }
        }
        Command::Delete { key } => match store.delete(key) {
            DeleteOutcome::Deleted => Reply::Deleted.write(out),
            DeleteOutcome::NotFound => Reply::NotFound.write(out),
        },
        Command::Touch { key, exptime } => match store.touch(key, expiry(store, exptime)) {
            TouchOutcome::Touched => Reply::Touched.write(out),
            TouchOutcome::NotFound => Reply::NotFound.write(out),
        },
        Command::FlushAll { delay } => {
            store.flush_all(exptime::flush_at_ms(i64::from(delay), store.now_ms()));
            Reply::Ok.write(out);
        }
        Command::Version => response::write_version(out, &server().version),
        // memcached keeps the level for its own logging; there is nothing to change here.
        Command::Verbosity { .. } => Reply::Ok.write(out),
        Command::Quit => return Flow::Close,
        Command::Stats { args } => stats::stats(args, store, server, out),
        Command::Shutdown => Reply::ShutdownNotEnabled.write(out),
        Command::GetKeyTooLong => {
            out.truncate(*unsent);
            response::write_line(out, "CLIENT_ERROR bad command line format");
        }
        Command::Error(e) => response::write_line(out, e.message()),
        Command::Close(reason) => {
            match reason.message() {
                // memcached answers this one, after what it had pending, then closes.
                Some(m) => response::write_line(out, m),
                None => out.truncate(*unsent),
            }
            return Flow::Close;
        }
    }
    if request.noreply {
        out.truncate(mark);
    }
    Flow::Continue
}

/// `get|gets <key>*`, `gat|gats <exptime> <key>*`.
fn get_cmd(g: &Get<'_>, store: &McStore, out: &mut Vec<u8>) {
    let touch = g.touch.map(|e| expiry(store, e));
    for key in g.keys {
        store.get(key, touch, |item| {
            let cas = g.cas.then(|| item.cas());
            response::write_value(out, key, item.flags(), item.value(), cas);
        });
    }
    Reply::End.write(out);
}

/// The storage commands.
fn store_cmd(s: &Store<'_>, store: &McStore, out: &mut Vec<u8>) {
    let outcome = store.store(StoreRequest {
        key: s.key,
        flags: s.flags,
        exptime: expiry(store, s.exptime),
        value: s.value,
        mode: store_mode(s.command),
        cas: (s.command == StoreCommand::Cas).then_some(s.cas),
    });
    let reply = match outcome {
        StoreOutcome::Stored => Reply::Stored,
        StoreOutcome::NotStored => Reply::NotStored,
        StoreOutcome::Exists => Reply::Exists,
        StoreOutcome::NotFound => Reply::NotFound,
        StoreOutcome::TooLarge => Reply::TooLarge,
        StoreOutcome::NoMemory => Reply::NoMemoryStoring,
    };
    reply.write(out);
}

#[cfg(test)]
mod tests;
