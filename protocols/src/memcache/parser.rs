//! Framing: finding request lines and data blocks in a connection's input buffer, with
//! memcached 1.6.18's limits (`try_read_command_ascii`, `conn_nread`, `conn_swallow`).
//!
//! The [`Parser`] is a small state machine that survives between calls, so a request that
//! arrives in pieces is resumed rather than re-read:
//!
//! ```text
//!            line of a storage command, data not all here
//!   Line ───────────────────────────────────────────────► Data ──┐ data block complete
//!    ▲  ▲                                                        │ (request returned)
//!    │  └────────────────────────────────────────────────────────┘
//!    │  item too large: reply, then discard <bytes>+2
//!    └──────────────────────────────────── Swallow ◄── Line
//! ```
//!
//! Limits, as memcached applies them to what is in its read buffer:
//! * no newline in more than 2048 bytes closes the connection, unless the line starts (after
//!   at most 100 spaces) with `get ` or `gets `: multigets may be long. A non-get line
//!   longer than memcached's 16 KiB read buffer can never be seen whole, so it closes too.
//!   memcached lets a get line grow without bound; cachegate stops at
//!   [`ParserConfig::max_get_line`] (DESIGN decision 11);
//! * the data block is exactly `<bytes>` + 2 bytes; if its last two are not `\r\n` the
//!   request fails with `CLIENT_ERROR bad data chunk` and parsing resumes right after those
//!   bytes (so a short block makes the next line start mid-data, as in memcached);
//! * a storage command whose item would exceed the item size limit is answered at once and
//!   its `<bytes>` + 2 are discarded as they arrive, without buffering them;
//! * a storage command with a bad line (negative length, bad number, long key) discards
//!   nothing: its data block is then read as a command line, usually earning an `ERROR`.

use memchr::memchr;

use super::line::{parse_line, Line, StoreLine};
use super::request::{CloseReason, Command, ErrorReply, Request, Store, StoreCommand};

/// Longest line memcached searches for a newline before giving up on a non-get command.
pub const MAX_LINE_WITHOUT_NEWLINE: usize = 2048;
/// memcached's read buffer (`READ_BUFFER_SIZE`): no non-get line can be longer.
pub const READ_BUFFER_SIZE: usize = 16 * 1024;
/// Leading spaces memcached skips when deciding whether a long line is a get.
const MAX_LEADING_SPACES: usize = 100;

/// Parser limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParserConfig {
    /// memcached's `-I`: the largest item, as [`item_size`] measures it (default 1 MiB).
    pub item_size_max: usize,
    /// Longest `get`/`gets` line accepted (default 2 MiB; memcached has no limit).
    pub max_get_line: usize,
}

impl Default for ParserConfig {
    fn default() -> Self {
        ParserConfig {
            item_size_max: 1024 * 1024,
            max_get_line: 2 * 1024 * 1024,
        }
    }
}

/// The size memcached 1.6.18 gives an item when checking it against `-I` (`item_size_ok`):
/// a 48-byte header, the key and its NUL, 4 bytes of flags if they are non-zero, the data
/// with its CRLF, and 8 bytes of CAS.
pub fn item_size(key_len: usize, flags: u32, value_len: usize) -> usize {
    48 + key_len + 1 + if flags != 0 { 4 } else { 0 } + value_len + 2 + 8
}

/// The outcome of one [`Parser::parse`] call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parse<'a> {
    /// A complete request, which used the first `len` bytes of the input (including any
    /// discarded bytes before it).
    Request {
        /// The request.
        request: Request<'a>,
        /// Input bytes used.
        len: usize,
    },
    /// No complete request yet. The first `consumed` bytes were discarded and may be
    /// dropped; the next call must start right after them.
    Incomplete {
        /// Input bytes used up.
        consumed: usize,
        /// When known, how many bytes (counted after `consumed`) are needed before the next
        /// call can make progress: the rest of a data block, or of a discarded one.
        need: Option<usize>,
    },
}

/// Where the parser stands between calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Expecting a request line; the first `scanned` bytes hold no newline.
    Line { scanned: usize },
    /// A storage command's line was read; waiting for its data block.
    Data(PendingStore),
    /// Discarding `remaining` bytes of a refused data block.
    Swallow { remaining: usize },
}

/// A storage command's line, remembered by offsets (the buffer may move between calls).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PendingStore {
    command: StoreCommand,
    key_start: usize,
    key_len: usize,
    flags: u32,
    exptime: i32,
    cas: u64,
    noreply: bool,
    /// Length of the line, newline included: the data block starts there.
    line_len: usize,
    value_len: usize,
}

impl PendingStore {
    fn total(&self) -> usize {
        self.line_len + self.value_len + 2
    }
}

/// memcached's classic text protocol parser for one connection.
#[derive(Debug, Clone)]
pub struct Parser {
    config: ParserConfig,
    state: State,
}

impl Default for Parser {
    fn default() -> Self {
        Parser::new(ParserConfig::default())
    }
}

/// True if a long line may be a multiget: at most 100 spaces, then `get ` or `gets `.
fn is_get_line(buf: &[u8]) -> bool {
    let spaces = buf.iter().take_while(|&&b| b == b' ').count();
    let rest = &buf[spaces..];
    spaces <= MAX_LEADING_SPACES && (rest.starts_with(b"get ") || rest.starts_with(b"gets "))
}

impl Parser {
    /// A parser with the given limits.
    pub fn new(config: ParserConfig) -> Self {
        Parser {
            config,
            state: State::Line { scanned: 0 },
        }
    }

    /// The limits in use.
    pub fn config(&self) -> &ParserConfig {
        &self.config
    }

    /// True if the parser is in the middle of a request (or of discarding a data block).
    pub fn has_pending(&self) -> bool {
        !matches!(self.state, State::Line { scanned: 0 })
    }

    /// True if a storage command's line has been read and its data block is incomplete:
    /// the next request returned will be that command, finished with later input.
    pub fn awaiting_data(&self) -> bool {
        matches!(self.state, State::Data(_))
    }

    /// Parses the next request at the front of `input`, which must start where the previous
    /// call's used bytes ended.
    pub fn parse<'a>(&mut self, input: &'a [u8]) -> Parse<'a> {
        let mut pos = 0;
        loop {
            match self.state {
                State::Swallow { remaining } => {
                    let n = remaining.min(input.len() - pos);
                    pos += n;
                    if remaining > n {
                        self.state = State::Swallow {
                            remaining: remaining - n,
                        };
                        return Parse::Incomplete {
                            consumed: pos,
                            need: Some(remaining - n),
                        };
                    }
                    self.state = State::Line { scanned: 0 };
                }
                State::Data(p) => {
                    let buf = &input[pos..];
                    if buf.len() < p.total() {
                        return Parse::Incomplete {
                            consumed: pos,
                            need: Some(p.total()),
                        };
                    }
                    self.state = State::Line { scanned: 0 };
                    let request = finish_store(&p, buf);
                    return Parse::Request {
                        request,
                        len: pos + p.total(),
                    };
                }
                State::Line { scanned } => {
                    return match self.line(&input[pos..], scanned) {
                        Some((request, len)) => Parse::Request {
                            request,
                            len: pos + len,
                        },
                        None => Parse::Incomplete {
                            consumed: pos,
                            need: match self.state {
                                State::Data(p) => Some(p.total()),
                                _ => None,
                            },
                        },
                    };
                }
            }
        }
    }

    /// Reads a request line at the front of `buf` (of which `scanned` bytes are known to
    /// hold no newline). Returns the request and the bytes it used, or `None` if more input
    /// is needed (the state then says what for).
    fn line<'a>(&mut self, buf: &'a [u8], scanned: usize) -> Option<(Request<'a>, usize)> {
        let close = |reason| Some((Request::new(Command::Close(reason)), buf.len()));
        let Some(nl) = memchr(b'\n', &buf[scanned.min(buf.len())..]).map(|i| i + scanned) else {
            if buf.len() > MAX_LINE_WITHOUT_NEWLINE {
                if !is_get_line(buf) {
                    return close(CloseReason::LineTooLong);
                }
                if buf.len() > self.config.max_get_line {
                    return close(CloseReason::GetLineTooLong);
                }
            }
            self.state = State::Line { scanned: buf.len() };
            return None;
        };
        self.state = State::Line { scanned: 0 };
        if nl >= READ_BUFFER_SIZE {
            if !is_get_line(buf) {
                return close(CloseReason::LineTooLong);
            }
            if nl > self.config.max_get_line {
                return close(CloseReason::GetLineTooLong);
            }
        }
        // memcached strips one '\r' before the '\n', but only from a line of 2+ bytes, and
        // then treats the line as a C string.
        let mut line = &buf[..nl];
        if nl > 1 && buf[nl - 1] == b'\r' {
            line = &buf[..nl - 1];
        }
        if let Some(z) = memchr(0, line) {
            line = &line[..z];
        }
        match parse_line(line) {
            Line::Request(r) => Some((r, nl + 1)),
            Line::Store(s) => self.store_line(buf, &s, nl + 1),
        }
    }

    /// A storage command's line has been read: refuse it if too large, else take its data
    /// block if it is all here, else wait for it.
    fn store_line<'a>(
        &mut self,
        buf: &'a [u8],
        s: &StoreLine<'a>,
        line_len: usize,
    ) -> Option<(Request<'a>, usize)> {
        if item_size(s.key.len(), s.flags, s.len) > self.config.item_size_max {
            self.state = State::Swallow {
                remaining: s.len + 2,
            };
            let command = Command::TooLarge {
                command: s.command,
                key: s.key,
            };
            return Some((
                Request {
                    command,
                    noreply: s.noreply,
                },
                line_len,
            ));
        }
        // The key is a sub-slice of the line, so its offset is the difference of addresses.
        let key_start = (s.key.as_ptr() as usize).saturating_sub(buf.as_ptr() as usize);
        let p = PendingStore {
            command: s.command,
            key_start,
            key_len: s.key.len(),
            flags: s.flags,
            exptime: s.exptime,
            cas: s.cas,
            noreply: s.noreply,
            line_len,
            value_len: s.len,
        };
        if buf.len() < p.total() {
            self.state = State::Data(p);
            return None;
        }
        Some((finish_store(&p, buf), p.total()))
    }
}

/// Builds a storage request from its remembered line and the complete block in `buf`.
/// `buf` holds at least `p.total()` bytes.
fn finish_store<'a>(p: &PendingStore, buf: &'a [u8]) -> Request<'a> {
    let data = p.line_len;
    let end = data + p.value_len;
    let key = buf.get(p.key_start..p.key_start + p.key_len);
    let value = buf.get(data..end);
    match (key, value, buf.get(end..end + 2)) {
        (Some(key), Some(value), Some(b"\r\n")) => Request {
            command: Command::Store(Store {
                command: p.command,
                key,
                flags: p.flags,
                exptime: p.exptime,
                value,
                cas: p.cas,
            }),
            noreply: p.noreply,
        },
        _ => Request {
            command: Command::Error(ErrorReply::BadDataChunk),
            noreply: p.noreply,
        },
    }
}
