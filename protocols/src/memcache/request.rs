//! The typed requests of memcached's classic text protocol, as the [`Parser`] produces them.
//!
//! Every byte slice borrows the caller's input buffer: keys, values and `stats` arguments are
//! never copied. Requests memcached answers with an error but survives (bad numbers, long
//! keys, an unterminated data block…) are requests too ([`Command::Error`]), because they
//! carry memcached's `noreply` decision and must be answered in order with the others.
//!
//! [`Parser`]: super::Parser

/// The six classic storage commands (`doc/protocol.txt`, "Storage commands").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StoreCommand {
    /// `set`: store unconditionally.
    Set,
    /// `add`: store only if the key is absent.
    Add,
    /// `replace`: store only if the key is present.
    Replace,
    /// `append`: add the data after the existing value.
    Append,
    /// `prepend`: add the data before the existing value.
    Prepend,
    /// `cas`: store only if the item's CAS value is unchanged.
    Cas,
}

impl StoreCommand {
    /// The command's name on the wire.
    pub fn name(self) -> &'static str {
        match self {
            StoreCommand::Set => "set",
            StoreCommand::Add => "add",
            StoreCommand::Replace => "replace",
            StoreCommand::Append => "append",
            StoreCommand::Prepend => "prepend",
            StoreCommand::Cas => "cas",
        }
    }
}

/// `<command> <key> <flags> <exptime> <bytes> [<cas unique>] [noreply]\r\n<data>\r\n`
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Store<'a> {
    /// Which storage command.
    pub command: StoreCommand,
    /// The key (at most 250 bytes).
    pub key: &'a [u8],
    /// Client flags, already truncated to 32 bits as memcached does.
    pub flags: u32,
    /// The wire exptime (see [`super::exptime`]).
    pub exptime: i32,
    /// The data block, without its trailing CRLF.
    pub value: &'a [u8],
    /// The `cas unique` of a `cas` command; 0 for the others.
    pub cas: u64,
}

/// `get|gets <key>*` and `gat|gats <exptime> <key>*`
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Get<'a> {
    /// True for `gets`/`gats`: each `VALUE` line carries the CAS value.
    pub cas: bool,
    /// `Some(exptime)` for `gat`/`gats`: the found items get this exptime.
    pub touch: Option<i32>,
    /// The keys, in order (possibly none: `gat 10` answers just `END`).
    pub keys: Keys<'a>,
}

/// Space-separated words of a request line: the keys of a `get`, the arguments of `stats`.
/// A cheap, copyable iterator over the caller's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keys<'a> {
    rest: &'a [u8],
}

impl<'a> Keys<'a> {
    /// The words of `text`, separated by runs of spaces.
    pub fn new(text: &'a [u8]) -> Self {
        Keys { rest: text }
    }

    /// True if there are no words left.
    pub fn is_empty(&self) -> bool {
        self.rest.iter().all(|&b| b == b' ')
    }
}

impl<'a> Iterator for Keys<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let start = self.rest.iter().position(|&b| b != b' ')?;
        let rest = &self.rest[start..];
        let end = memchr::memchr(b' ', rest).unwrap_or(rest.len());
        self.rest = &rest[end..];
        Some(&rest[..end])
    }
}

/// An error memcached answers with one line, after which the connection carries on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorReply {
    /// `ERROR`: an unknown command, or a known one with the wrong number of words.
    Error,
    /// `CLIENT_ERROR bad command line format`: a key over 250 bytes, or a bad number in a
    /// storage command's line.
    BadCommandLineFormat,
    /// `CLIENT_ERROR bad data chunk`: the data block was not followed by `\r\n`.
    BadDataChunk,
    /// `CLIENT_ERROR invalid exptime argument` (`touch`, `gat`, `flush_all`).
    InvalidExptime,
    /// `CLIENT_ERROR invalid numeric delta argument` (`incr`, `decr`).
    InvalidDelta,
    /// `CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]`.
    DeleteUsage,
}

impl ErrorReply {
    /// The reply line, without its CRLF.
    pub fn message(self) -> &'static str {
        match self {
            ErrorReply::Error => "ERROR",
            ErrorReply::BadCommandLineFormat => "CLIENT_ERROR bad command line format",
            ErrorReply::BadDataChunk => "CLIENT_ERROR bad data chunk",
            ErrorReply::InvalidExptime => "CLIENT_ERROR invalid exptime argument",
            ErrorReply::InvalidDelta => "CLIENT_ERROR invalid numeric delta argument",
            ErrorReply::DeleteUsage => {
                "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]"
            }
        }
    }
}

/// Why memcached drops a connection while parsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CloseReason {
    /// More than 2048 bytes without a newline (or a line longer than memcached's 16 KiB
    /// read buffer) that is not a `get`/`gets` line. Closed without a reply.
    LineTooLong,
    /// A `get`/`gets` line longer than the configured limit (memcached grows its buffer
    /// until memory runs out, then answers `SERVER_ERROR out of memory reading request`).
    GetLineTooLong,
    /// An unknown command whose last word starts with `HTTP/`: someone spoke HTTP to the
    /// port. Closed without a reply.
    Http,
}

impl CloseReason {
    /// The line sent before closing, if any (without its CRLF).
    pub fn message(self) -> Option<&'static str> {
        match self {
            CloseReason::GetLineTooLong => Some("SERVER_ERROR out of memory reading request"),
            CloseReason::LineTooLong | CloseReason::Http => None,
        }
    }
}

/// What a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command<'a> {
    /// `get`, `gets`, `gat`, `gats` (and the ancient `bget`).
    Get(Get<'a>),
    /// `set`, `add`, `replace`, `append`, `prepend`, `cas`.
    Store(Store<'a>),
    /// A storage command whose item would exceed the item size limit. Its data block is
    /// swallowed by the parser; memcached answers `SERVER_ERROR object too large for cache`
    /// and, for `set`, removes the key's current item so stale data does not linger.
    TooLarge {
        /// Which storage command.
        command: StoreCommand,
        /// Its key.
        key: &'a [u8],
    },
    /// `incr|decr <key> <delta> [noreply]`
    Arith {
        /// True for `incr`.
        incr: bool,
        /// The key.
        key: &'a [u8],
        /// The unsigned 64-bit delta.
        delta: u64,
    },
    /// `delete <key> [0] [noreply]`
    Delete {
        /// The key.
        key: &'a [u8],
    },
    /// `touch <key> <exptime> [noreply]`
    Touch {
        /// The key.
        key: &'a [u8],
        /// The new wire exptime.
        exptime: i32,
    },
    /// `flush_all [delay] [noreply]`
    FlushAll {
        /// Seconds (or an absolute time) until the flush takes effect; 0 for now.
        delay: i32,
    },
    /// `version`
    Version,
    /// `verbosity <level> [noreply]`
    Verbosity {
        /// The requested level.
        level: u32,
    },
    /// `quit`: close the connection after the replies before it.
    Quit,
    /// `stats [args…]`
    Stats {
        /// The words after `stats`.
        args: Keys<'a>,
    },
    /// `shutdown [graceful]` (memcached refuses it unless started with `-A`).
    Shutdown,
    /// A `get` naming a key over 250 bytes. memcached answers `CLIENT_ERROR bad command line
    /// format` and also discards every reply it has not yet sent (those of the requests
    /// before it in the same read).
    GetKeyTooLong,
    /// A request memcached answers with a single error line.
    Error(ErrorReply),
    /// The connection must be closed now; memcached discards the replies it has not sent.
    Close(CloseReason),
}

/// One request: what to do, and whether memcached would stay silent about the outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request<'a> {
    /// The command.
    pub command: Command<'a>,
    /// memcached's `noreply` state when it answers: true means send nothing at all for this
    /// request, not even an error. It is only set where memcached checks for the word, so
    /// `set k 0 0 1 2 noreply` (wrong word count) still gets its `ERROR`.
    pub noreply: bool,
}

impl<'a> Request<'a> {
    /// A request that replies normally.
    pub fn new(command: Command<'a>) -> Self {
        Request {
            command,
            noreply: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_split_on_runs_of_spaces() {
        let k: Vec<&[u8]> = Keys::new(b"  a bb   c ").collect();
        assert_eq!(k, vec![&b"a"[..], b"bb", b"c"]);
        assert!(Keys::new(b"   ").is_empty());
        assert!(!Keys::new(b" x").is_empty());
        // Tabs are part of a key: memcached splits on spaces only.
        let k: Vec<&[u8]> = Keys::new(b"a\tb").collect();
        assert_eq!(k, vec![&b"a\tb"[..]]);
    }
}
