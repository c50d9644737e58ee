//! Parsing client requests the way redis-server 7.0 does.
//!
//! A request is either a multibulk array of bulk strings (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`) or,
//! when the first byte is not `*`, an inline line (`GET k\r\n`). [`RequestParser::parse`]
//! takes every complete request at the front of the buffer in one call and describes each as a
//! range of [`Span`]s — argument positions in the caller's buffer (or, for inline requests,
//! in the batch's scratch space, since quotes and escapes change the bytes). Nothing is copied
//! and nothing is allocated per request once the batch's vectors have grown.
//!
//! redis-server's quirks are kept on purpose, because clients and tests observe them:
//! * a multibulk count `<= 0` is an empty request, silently skipped; so is an empty line;
//! * only the `\r` that ends a header line is looked for, and the byte after it is assumed to
//!   be `\n`; the two bytes after a bulk's data are skipped unchecked;
//! * header lines are searched like C strings, so a NUL byte hides everything after it (the
//!   client then waits until the 64 KiB header limit trips);
//! * every [`ProtocolError`] is fatal: redis-server replies `-ERR Protocol error: …` after the
//!   replies of the requests before it, then closes the connection.
//!
//! A request that arrives in pieces is resumed where it stopped, so a huge pipelined array is
//! not re-scanned from its start on every read.

use std::fmt;
use std::ops::Range;

use super::inline::split_args;
use crate::number::parse_i64;

/// Longest header line (`*<count>`, `$<len>`) or inline request redis-server waits for: 64 KiB.
pub const MAX_INLINE_LEN: usize = 64 * 1024;

/// Bulk length above which an unauthenticated client is cut off.
const UNAUTH_MAX_BULK: i64 = 16 * 1024;
/// Multibulk count above which an unauthenticated client is cut off.
const UNAUTH_MAX_ARGS: i64 = 10;

/// Where one argument's bytes are: `len` bytes at `start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    /// Offset of the first byte.
    pub start: usize,
    /// Number of bytes.
    pub len: usize,
}

impl Span {
    fn range(self) -> Range<usize> {
        self.start..self.start + self.len
    }
}

/// The limits redis-server applies while parsing.
#[derive(Debug, Clone, Copy)]
pub struct RequestLimits {
    /// `proto-max-bulk-len`: the largest bulk string accepted, in bytes.
    pub max_bulk_len: usize,
    /// When true (a password is set and the client has not authenticated), requests are held
    /// to 10 arguments and 16 KiB bulks.
    pub unauthenticated: bool,
}

impl Default for RequestLimits {
    fn default() -> Self {
        RequestLimits {
            max_bulk_len: 512 * 1024 * 1024,
            unauthenticated: false,
        }
    }
}

/// A request the connection cannot recover from; redis-server replies with
/// [`ProtocolError::message`] and closes the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtocolError {
    /// An inline request longer than 64 KiB without a newline.
    TooBigInlineRequest,
    /// An inline request with an unterminated quote.
    UnbalancedQuotes,
    /// A `*` line longer than 64 KiB.
    TooBigMbulkCount,
    /// A `*` count that is not an integer or exceeds `i32::MAX`.
    InvalidMultibulkLength,
    /// More than 10 arguments before authentication.
    UnauthenticatedMultibulkLength,
    /// A `$` line longer than 64 KiB.
    TooBigBulkCount,
    /// Something other than `$` where a bulk string must start.
    ExpectedDollar(u8),
    /// A `$` length that is not an integer, is negative, or exceeds `proto-max-bulk-len`.
    InvalidBulkLength,
    /// A bulk over 16 KiB before authentication.
    UnauthenticatedBulkLength,
}

impl ProtocolError {
    /// The error reply text, without the leading `-` and trailing CRLF, byte for byte as
    /// redis-server sends it: `expected '$', got 'c'` echoes the offending byte even when it
    /// is not ASCII, so this is bytes rather than a `String` (see [`ErrorText`]).
    pub fn message(&self) -> ErrorText {
        let mut text = b"ERR Protocol error: ".to_vec();
        match self {
            ProtocolError::ExpectedDollar(c) => {
                // redis-server formats the byte with %c and then turns CR/LF into spaces.
                let c = if *c == b'\r' || *c == b'\n' { b' ' } else { *c };
                text.extend_from_slice(b"expected '$', got '");
                text.push(c);
                text.push(b'\'');
            }
            other => text.extend_from_slice(other.reason().as_bytes()),
        }
        ErrorText(text)
    }

    /// The part after `Protocol error: ` for the errors whose text is fixed.
    fn reason(&self) -> &'static str {
        match self {
            ProtocolError::TooBigInlineRequest => "too big inline request",
            ProtocolError::UnbalancedQuotes => "unbalanced quotes in request",
            ProtocolError::TooBigMbulkCount => "too big mbulk count string",
            ProtocolError::InvalidMultibulkLength => "invalid multibulk length",
            ProtocolError::UnauthenticatedMultibulkLength => "unauthenticated multibulk length",
            ProtocolError::TooBigBulkCount => "too big bulk count string",
            ProtocolError::ExpectedDollar(_) => "expected '$'",
            ProtocolError::InvalidBulkLength => "invalid bulk length",
            ProtocolError::UnauthenticatedBulkLength => "unauthenticated bulk length",
        }
    }
}

/// The text of a protocol error reply: bytes, since it may quote a request byte that is not
/// UTF-8. Displayed lossily (for logs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorText(Vec<u8>);

impl ErrorText {
    /// The exact bytes of the reply text.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Display for ErrorText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.0))
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.message().fmt(f)
    }
}

impl std::error::Error for ProtocolError {}

/// One parsed request: its arguments are `batch.spans[args]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Indexes into [`Batch::spans`].
    pub args: Range<usize>,
    /// True if the arguments live in [`Batch::scratch`] (an inline request) rather than in
    /// the parsed input.
    pub inline: bool,
}

/// The requests found by one [`RequestParser::parse`] call. Reuse it across calls.
#[derive(Debug, Default)]
pub struct Batch {
    /// Argument spans of every request, in order.
    pub spans: Vec<Span>,
    /// Unescaped bytes of inline requests' arguments.
    pub scratch: Vec<u8>,
    /// The complete requests, in order.
    pub requests: Vec<Request>,
    /// Input bytes used by the complete requests (and skipped empty ones).
    pub consumed: usize,
    /// A fatal error met after the complete requests, if any.
    pub error: Option<ProtocolError>,
    /// When the next request is incomplete and its size is known: how many bytes (from
    /// `consumed`) it needs in total, so the caller can reserve room for a large bulk.
    pub need: usize,
}

impl Batch {
    /// Empties the batch, keeping its allocations.
    pub fn clear(&mut self) {
        self.spans.clear();
        self.scratch.clear();
        self.requests.clear();
        self.consumed = 0;
        self.error = None;
        self.need = 0;
    }

    /// The arguments of `request`, given the input the batch was parsed from.
    pub fn args<'a>(&'a self, input: &'a [u8], request: &Request) -> Args<'a> {
        Args {
            base: if request.inline { &self.scratch } else { input },
            spans: &self.spans[request.args.clone()],
        }
    }
}

/// A request's arguments: byte slices borrowed from the input or scratch buffer.
#[derive(Debug, Clone, Copy)]
pub struct Args<'a> {
    base: &'a [u8],
    spans: &'a [Span],
}

impl<'a> Args<'a> {
    /// Arguments built from a base buffer and spans within it.
    pub fn new(base: &'a [u8], spans: &'a [Span]) -> Self {
        Args { base, spans }
    }

    /// Number of arguments, command name included.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// True if there are no arguments.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Argument `i` (0 is the command name), or an empty slice past the end.
    pub fn get(&self, i: usize) -> &'a [u8] {
        match self.spans.get(i) {
            Some(s) => self.base.get(s.range()).unwrap_or(&[]),
            None => &[],
        }
    }

    /// All arguments in order.
    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        (0..self.spans.len()).map(move |i| self.get(i))
    }

    /// The arguments as owned vectors (for tests and slow paths).
    pub fn to_vecs(&self) -> Vec<Vec<u8>> {
        self.iter().map(<[u8]>::to_vec).collect()
    }
}

/// Lays `argv` out the way the parser leaves a request: the arguments back to back in one
/// buffer, with their spans. For callers that start from separate arguments (tests,
/// benchmarks, commands built by the server itself); use the result with [`Args::new`].
pub fn lay_out(argv: &[&[u8]]) -> (Vec<u8>, Vec<Span>) {
    let mut base = Vec::with_capacity(argv.iter().map(|a| a.len()).sum());
    let mut spans = Vec::with_capacity(argv.len());
    for a in argv {
        spans.push(Span {
            start: base.len(),
            len: a.len(),
        });
        base.extend_from_slice(a);
    }
    (base, spans)
}

/// Progress through a multibulk request that has not fully arrived. Offsets are relative to
/// the request's first byte, which stays at the front of the caller's buffer between calls.
#[derive(Debug, Default)]
struct Pending {
    remaining: usize,
    pos: usize,
    bulk_len: Option<usize>,
}

/// Outcome of parsing one request.
enum Step {
    /// A request of this many bytes, possibly with no arguments (then it is skipped).
    Done(usize),
    /// The buffer ends inside the request.
    Incomplete,
}

/// Parses requests from a connection's input buffer; keeps the state of a request that has
/// only partly arrived.
#[derive(Debug, Default)]
pub struct RequestParser {
    /// Limits applied to the requests.
    pub limits: RequestLimits,
    pending: Option<Pending>,
    /// Argument spans of the multibulk request being parsed (relative to its first byte),
    /// kept across calls while it arrives and reused for the next one, so a request costs
    /// no allocation once the parser has warmed up.
    partial: Vec<Span>,
}

/// Finds `needle` in `buf` the way `strchr` would in a NUL-terminated copy of it.
fn c_find(buf: &[u8], needle: u8) -> Option<usize> {
    match memchr::memchr2(needle, 0, buf) {
        Some(i) if buf[i] == needle => Some(i),
        _ => None,
    }
}

impl RequestParser {
    /// A parser with the given limits.
    pub fn new(limits: RequestLimits) -> Self {
        RequestParser {
            limits,
            pending: None,
            partial: Vec::new(),
        }
    }

    /// True if a request has partly arrived.
    pub fn has_pending(&self) -> bool {
        self.pending.is_some()
    }

    /// Parses up to `max_requests` complete requests from the front of `input` into `batch`
    /// (which is cleared first). `input` must start where the previous call's
    /// `batch.consumed` ended.
    pub fn parse(&mut self, input: &[u8], batch: &mut Batch, max_requests: usize) {
        batch.clear();
        let mut pos = 0;
        while batch.requests.len() < max_requests && (pos < input.len() || self.pending.is_some()) {
            let rest = &input[pos..];
            let step = if self.pending.is_some() || rest[0] == b'*' {
                self.multibulk(rest, pos, batch)
            } else {
                self.inline(rest, batch)
            };
            match step {
                Ok(Step::Done(len)) => {
                    pos += len;
                    batch.consumed = pos;
                }
                Ok(Step::Incomplete) => break,
                Err(e) => {
                    batch.error = Some(e);
                    self.pending = None;
                    break;
                }
            }
        }
    }

    fn inline(&mut self, rest: &[u8], batch: &mut Batch) -> Result<Step, ProtocolError> {
        let Some(nl) = c_find(rest, b'\n') else {
            if rest.len() > MAX_INLINE_LEN {
                return Err(ProtocolError::TooBigInlineRequest);
            }
            return Ok(Step::Incomplete);
        };
        let line_end = if nl > 0 && rest[nl - 1] == b'\r' {
            nl - 1
        } else {
            nl
        };
        let first = batch.spans.len();
        split_args(&rest[..line_end], &mut batch.spans, &mut batch.scratch)
            .map_err(|_| ProtocolError::UnbalancedQuotes)?;
        if batch.spans.len() > first {
            batch.requests.push(Request {
                args: first..batch.spans.len(),
                inline: true,
            });
        }
        Ok(Step::Done(nl + 1))
    }

    /// Parses (or resumes) a multibulk request at the front of `rest`, which begins at offset
    /// `base` of the input.
    fn multibulk(
        &mut self,
        rest: &[u8],
        base: usize,
        batch: &mut Batch,
    ) -> Result<Step, ProtocolError> {
        let mut st = match self.pending.take() {
            Some(st) => st,
            None => {
                let Some(cr) = c_find(rest, b'\r') else {
                    if rest.len() > MAX_INLINE_LEN {
                        return Err(ProtocolError::TooBigMbulkCount);
                    }
                    return Ok(Step::Incomplete);
                };
                if cr + 2 > rest.len() {
                    return Ok(Step::Incomplete);
                }
                let count = match parse_i64(&rest[1..cr]) {
                    Some(n) if n <= i64::from(i32::MAX) => n,
                    _ => return Err(ProtocolError::InvalidMultibulkLength),
                };
                if count > UNAUTH_MAX_ARGS && self.limits.unauthenticated {
                    return Err(ProtocolError::UnauthenticatedMultibulkLength);
                }
                if count <= 0 {
                    return Ok(Step::Done(cr + 2));
                }
                self.partial.clear();
                self.partial.reserve((count as usize).min(1024));
                Pending {
                    remaining: count as usize,
                    pos: cr + 2,
                    bulk_len: None,
                }
            }
        };
        while st.remaining > 0 {
            let bulk_len = match st.bulk_len {
                Some(n) => n,
                None => {
                    let Some(at) = rest.get(st.pos..) else {
                        self.pending = Some(st);
                        return Ok(Step::Incomplete);
                    };
                    let Some(cr) = c_find(at, b'\r') else {
                        if at.len() > MAX_INLINE_LEN {
                            return Err(ProtocolError::TooBigBulkCount);
                        }
                        self.pending = Some(st);
                        return Ok(Step::Incomplete);
                    };
                    if cr + 2 > at.len() {
                        self.pending = Some(st);
                        return Ok(Step::Incomplete);
                    }
                    if at[0] != b'$' {
                        return Err(ProtocolError::ExpectedDollar(at[0]));
                    }
                    let n = match parse_i64(&at[1..cr]) {
                        Some(n) if n >= 0 && (n as u64) <= self.limits.max_bulk_len as u64 => n,
                        _ => return Err(ProtocolError::InvalidBulkLength),
                    };
                    if n > UNAUTH_MAX_BULK && self.limits.unauthenticated {
                        return Err(ProtocolError::UnauthenticatedBulkLength);
                    }
                    st.pos += cr + 2;
                    st.bulk_len = Some(n as usize);
                    n as usize
                }
            };
            if rest.len().saturating_sub(st.pos) < bulk_len + 2 {
                batch.need = st.pos + bulk_len + 2;
                self.pending = Some(st);
                return Ok(Step::Incomplete);
            }
            self.partial.push(Span {
                start: st.pos,
                len: bulk_len,
            });
            st.pos += bulk_len + 2;
            st.bulk_len = None;
            st.remaining -= 1;
        }
        let first = batch.spans.len();
        batch.spans.extend(self.partial.iter().map(|s| Span {
            start: s.start + base,
            len: s.len,
        }));
        self.partial.clear();
        if self.partial.capacity() > 4096 {
            // A huge request's span list is not kept around.
            self.partial = Vec::new();
        }
        batch.requests.push(Request {
            args: first..batch.spans.len(),
            inline: false,
        });
        Ok(Step::Done(st.pos))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses everything in `input`, returning each request's arguments and the error.
    fn parse_all(input: &[u8]) -> (Vec<Vec<Vec<u8>>>, usize, Option<ProtocolError>) {
        let mut p = RequestParser::default();
        let mut b = Batch::default();
        p.parse(input, &mut b, usize::MAX);
        let reqs = b
            .requests
            .iter()
            .map(|r| b.args(input, r).to_vecs())
            .collect();
        (reqs, b.consumed, b.error)
    }

    fn v(args: &[&str]) -> Vec<Vec<u8>> {
        args.iter().map(|a| a.as_bytes().to_vec()).collect()
    }

    #[test]
    fn multibulk_and_inline() {
        let input = b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPING\r\n*0\r\n\r\nset a \"b c\"\n";
        let (reqs, used, err) = parse_all(input);
        assert_eq!(
            reqs,
            vec![v(&["GET", "k"]), v(&["PING"]), v(&["set", "a", "b c"])]
        );
        assert_eq!(used, input.len());
        assert_eq!(err, None);
    }

    #[test]
    fn redis_quirks() {
        // The two bytes after a bulk are not checked.
        assert_eq!(parse_all(b"*1\r\n$4\r\nPINGXY").0, vec![v(&["PING"])]);
        // Negative counts are empty requests.
        assert_eq!(parse_all(b"*-5\r\n").1, 5);
        // Only the byte after \r is assumed to be \n.
        assert_eq!(parse_all(b"*1\rX$4\rXPING\r\n").0, vec![v(&["PING"])]);
    }

    #[test]
    fn errors() {
        let e = |b: &[u8]| parse_all(b).2.map(|e| e.to_string());
        assert_eq!(
            e(b"*abc\r\n").as_deref(),
            Some("ERR Protocol error: invalid multibulk length")
        );
        assert_eq!(
            e(b"*3000000000\r\n").as_deref(),
            Some("ERR Protocol error: invalid multibulk length")
        );
        assert_eq!(
            e(b"*1\r\n$-1\r\n").as_deref(),
            Some("ERR Protocol error: invalid bulk length")
        );
        assert_eq!(
            e(b"*1\r\nfoo\r\n").as_deref(),
            Some("ERR Protocol error: expected '$', got 'f'")
        );
        assert_eq!(
            e(b"*1\r\n\r\n").as_deref(),
            Some("ERR Protocol error: expected '$', got ' '")
        );
        assert_eq!(
            e(b"set \"a\n").as_deref(),
            Some("ERR Protocol error: unbalanced quotes in request")
        );
        let big = vec![b'a'; MAX_INLINE_LEN + 1];
        assert_eq!(
            e(&big).as_deref(),
            Some("ERR Protocol error: too big inline request")
        );
        let mut big = b"*1\r\n$".to_vec();
        big.extend(vec![b'1'; MAX_INLINE_LEN + 1]);
        assert_eq!(
            e(&big).as_deref(),
            Some("ERR Protocol error: too big bulk count string")
        );
        // The offending byte is echoed as it is, even when it is not UTF-8.
        assert_eq!(
            parse_all(b"*1\r\n\xff\r\n")
                .2
                .map(|e| e.message().as_bytes().to_vec()),
            Some(b"ERR Protocol error: expected '$', got '\xff'".to_vec())
        );
        // Requests before the error are still returned.
        let (reqs, _, err) = parse_all(b"PING\r\n*x\r\n");
        assert_eq!(reqs, vec![v(&["PING"])]);
        assert_eq!(err, Some(ProtocolError::InvalidMultibulkLength));
    }

    #[test]
    fn resumes_partial_requests() {
        let input = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n";
        for cut in 0..input.len() {
            let mut p = RequestParser::default();
            let mut b = Batch::default();
            p.parse(&input[..cut], &mut b, usize::MAX);
            assert!(b.requests.is_empty() && b.error.is_none(), "cut {cut}");
            assert_eq!(b.consumed, 0);
            p.parse(input, &mut b, usize::MAX);
            assert_eq!(b.requests.len(), 1, "cut {cut}");
            assert_eq!(
                b.args(input, &b.requests[0]).to_vecs(),
                v(&["SET", "k", "hello"])
            );
        }
    }

    #[test]
    fn max_requests_and_need() {
        let mut p = RequestParser::default();
        let mut b = Batch::default();
        let input = b"PING\r\nPING\r\nPING\r\n";
        p.parse(input, &mut b, 2);
        assert_eq!((b.requests.len(), b.consumed), (2, 12));
        p.parse(b"*1\r\n$100\r\nabc", &mut b, 8);
        assert_eq!(b.need, 10 + 100 + 2);
    }
}
