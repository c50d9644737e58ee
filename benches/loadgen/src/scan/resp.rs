//! RESP reply scanner (RESP2 and the RESP3 types a server may send).
//!
//! Owns framing of replies on the Redis port. GET/SET only ever produce a status, an
//! error, a bulk string or a null, but templated commands (`--command`) get replies of any
//! shape — LRANGE and ZRANGE answer with arrays of a hundred bulk strings — so the scanner
//! walks every RESP3 type, aggregates included to a bounded depth, without recursion.
//!
//! A [`Framer`] is resumable: it remembers how far into an unfinished reply it got (the
//! offset after the last complete element and the open aggregates), so when more bytes
//! arrive it continues from there instead of rescanning the reply from its start. Framing
//! a reply of any size therefore costs time linear in its length, however many reads it
//! arrives in. Integers and length headers are parsed in one pass over their digits
//! without looking for the line end first.

use super::{line, parse_u64, payload, Line, Outcome, Scan};

/// Deepest aggregate nesting accepted; bounds the framer's stack.
pub const MAX_DEPTH: usize = 32;

/// Most elements accepted in one aggregate header; a corrupt count must not turn into
/// an enormous loop over a buffer that can never hold that many elements.
pub const MAX_ELEMENTS: u64 = 1 << 24;

/// Scans one reply at the front of `buf` from scratch (see [`Framer::scan`]).
///
/// Outcomes: `+…` and other non-null scalars → [`Outcome::Ok`]; a bulk or verbatim string
/// → [`Outcome::Hit`]; `$-1`, `*-1` and `_` → [`Outcome::Miss`]; `-…` and blob errors
/// `!…` → [`Outcome::Error`]; a non-empty aggregate → [`Outcome::Hit`] and an empty one
/// (`*0`, `%0`, … — what LRANGE or ZRANGE answer for a missing key) → [`Outcome::Miss`].
/// An attribute (`|`) is skipped and the reply it annotates decides the outcome.
#[cfg(test)]
pub fn scan(buf: &[u8]) -> Scan {
    Framer::new().scan(buf)
}

/// An aggregate still open in the reply being framed.
#[derive(Debug, Clone, Copy)]
struct Frame {
    /// Elements still to frame (for an attribute: its key/value pairs and then the value
    /// it annotates).
    left: u64,
    /// An attribute: the outcome is the annotated value's, not the aggregate's.
    attr: bool,
}

/// Resumable framing state of one connection's RESP reply stream.
#[derive(Debug, Clone)]
pub struct Framer {
    /// Bytes of the reply in progress framed so far (whole elements and headers only).
    pos: usize,
    /// Open aggregates, innermost last (`stack[..depth]`).
    stack: [Frame; MAX_DEPTH],
    depth: usize,
}

impl Default for Framer {
    fn default() -> Self {
        Self::new()
    }
}

/// A header line: its type byte, the line's content after it, and the offset past CRLF.
enum Header<'a> {
    /// Type byte followed by a non-negative decimal number (the common case).
    Number(u8, u64, usize),
    /// Any other line.
    Other(u8, &'a [u8], usize),
}

impl Framer {
    /// A framer at the start of a reply.
    pub const fn new() -> Self {
        Framer {
            pos: 0,
            stack: [Frame {
                left: 0,
                attr: false,
            }; MAX_DEPTH],
            depth: 0,
        }
    }

    /// Frames the reply at the front of `buf`, resuming where the last call on this reply
    /// stopped. `buf` must start where the reply starts and hold at least the bytes the
    /// previous call saw. After [`Scan::Complete`] the framer is ready for the next reply;
    /// after [`Scan::Invalid`] the stream is out of sync and the framer must not be reused.
    pub fn scan(&mut self, buf: &[u8]) -> Scan {
        if self.pos == 0 {
            if let Some(done) = simple(buf) {
                return done;
            }
        }
        loop {
            if self.depth > 0 {
                if let Err(s) = self.bulk_run(buf) {
                    return s;
                }
            }
            let at = self.pos;
            let header = match header(buf, at) {
                Ok(h) => h,
                Err(s) => return s,
            };
            let (outcome, next) = match header {
                Header::Number(kind, n, next) => match kind {
                    b':' => (Outcome::Ok, next),
                    b'$' | b'=' | b'!' => match payload(buf, next, n) {
                        Ok(end) if kind == b'!' => (Outcome::Error, end),
                        Ok(end) => (Outcome::Hit, end),
                        Err(s) => return s,
                    },
                    b'*' | b'~' | b'>' | b'%' | b'|' => match self.open(kind, n, next) {
                        Ok(None) => continue,
                        Ok(Some(done)) => done,
                        Err(s) => return s,
                    },
                    _ => unreachable!("header() reads numbers only after these type bytes"),
                },
                Header::Other(kind, rest, next) => match kind {
                    b'+' => (Outcome::Ok, next),
                    b'-' => (Outcome::Error, next),
                    b':' => {
                        let digits = rest.strip_prefix(b"-").unwrap_or(rest);
                        match parse_u64(digits) {
                            Some(_) => (Outcome::Ok, next),
                            None => return Scan::Invalid("bad RESP integer"),
                        }
                    }
                    b'_' if rest.is_empty() => (Outcome::Miss, next),
                    b'_' => return Scan::Invalid("bad RESP3 null"),
                    b'#' if rest == b"t" || rest == b"f" => (Outcome::Ok, next),
                    b'#' => return Scan::Invalid("bad RESP3 boolean"),
                    // Doubles and big numbers: framing is the line; their syntax is not
                    // our concern.
                    b',' | b'(' if !rest.is_empty() => (Outcome::Ok, next),
                    b'$' if rest == b"-1" => (Outcome::Miss, next),
                    b'$' | b'=' | b'!' => return Scan::Invalid("bad RESP string length"),
                    b'*' if rest == b"-1" => (Outcome::Miss, next),
                    b'*' | b'~' | b'>' | b'%' | b'|' => {
                        return Scan::Invalid("bad RESP aggregate length")
                    }
                    _ => return Scan::Invalid("unknown RESP type byte"),
                },
            };
            self.pos = next;
            if let Some(scan) = self.element_done(outcome) {
                return scan;
            }
        }
    }

    /// Frames consecutive bulk strings inside the innermost open aggregate — the body of
    /// an LRANGE or ZRANGE reply — in a tight loop, leaving the aggregate's last element
    /// (which closes it) and anything unusual to the general path. `Err(Incomplete)` when
    /// the buffer ends inside one of them (the framer then resumes at that element).
    #[inline]
    fn bulk_run(&mut self, buf: &[u8]) -> Result<(), Scan> {
        while self.depth > 0 && self.stack[self.depth - 1].left > 1 {
            let at = self.pos;
            let b = &buf[at..];
            if b.first() != Some(&b'$') {
                return Ok(());
            }
            // `$` and up to three digits, then CRLF: element sizes below 1000 bytes are
            // read with fixed offsets; anything else is the general path's.
            let Some(head) = b.get(..6) else {
                return Ok(());
            };
            let digit = |c: u8| {
                let d = c.wrapping_sub(b'0');
                (d <= 9).then_some(usize::from(d))
            };
            let (n, i) = match (digit(head[1]), digit(head[2]), digit(head[3])) {
                (Some(a), None, _) if head[2] == b'\r' && head[3] == b'\n' => (a, 2),
                (Some(a), Some(b), None) if head[3] == b'\r' && head[4] == b'\n' => (a * 10 + b, 3),
                (Some(a), Some(b), Some(c)) if head[4] == b'\r' && head[5] == b'\n' => {
                    (a * 100 + b * 10 + c, 4)
                }
                _ => return Ok(()),
            };
            let end = i + 2 + n;
            if b.len() < end + 2 {
                return Err(Scan::Incomplete);
            }
            if b[end] != b'\r' || b[end + 1] != b'\n' {
                return Ok(());
            }
            self.pos = at + end + 2;
            self.stack[self.depth - 1].left -= 1;
        }
        Ok(())
    }

    /// Opens an aggregate of `count` entries whose header ends at `next`. `Ok(None)`: it
    /// is open, scan its elements; `Ok(Some(..))`: it was empty and is already complete.
    fn open(
        &mut self,
        kind: u8,
        count: u64,
        next: usize,
    ) -> Result<Option<(Outcome, usize)>, Scan> {
        if count > MAX_ELEMENTS {
            return Err(Scan::Invalid("RESP aggregate too large"));
        }
        // Maps and attributes carry a key and a value per entry; an attribute is followed
        // by the value it annotates, framed as part of it.
        let left = match kind {
            b'%' => count * 2,
            b'|' => count * 2 + 1,
            _ => count,
        };
        if left == 0 {
            return Ok(Some((Outcome::Miss, next)));
        }
        if self.depth >= MAX_DEPTH {
            return Err(Scan::Invalid("RESP aggregate nested too deeply"));
        }
        self.stack[self.depth] = Frame {
            left,
            attr: kind == b'|',
        };
        self.depth += 1;
        self.pos = next;
        Ok(None)
    }

    /// Records that an element ending at `self.pos` is complete; returns the whole reply
    /// when that closed the last open aggregate (or there was none).
    #[inline]
    fn element_done(&mut self, mut outcome: Outcome) -> Option<Scan> {
        loop {
            if self.depth == 0 {
                let len = self.pos;
                self.pos = 0;
                return Some(Scan::Complete { len, outcome });
            }
            let frame = &mut self.stack[self.depth - 1];
            frame.left -= 1;
            if frame.left > 0 {
                return None;
            }
            self.depth -= 1;
            if !frame.attr {
                outcome = Outcome::Hit;
            }
        }
    }
}

/// The replies most requests get — a short status, an integer, a bulk string — framed
/// whole in one pass; `None` for anything else (or anything unusual about these, which the
/// general path then judges).
#[inline]
fn simple(buf: &[u8]) -> Option<Scan> {
    let (&kind, rest) = buf.split_first()?;
    match kind {
        b'+' | b':' => {
            // Short lines only; `\n` must follow `\r` (else the general path reports it).
            let window = &rest[..rest.len().min(32)];
            let lf = window.iter().position(|&b| b == b'\n')?;
            if lf == 0 || window[lf - 1] != b'\r' {
                return None;
            }
            if kind == b':' && !window[..lf - 1].iter().all(u8::is_ascii_digit) {
                return None;
            }
            if kind == b':' && lf == 1 {
                return None;
            }
            Some(Scan::Complete {
                len: lf + 2,
                outcome: Outcome::Ok,
            })
        }
        b'$' => {
            let mut n: usize = 0;
            let mut i = 0;
            while i < rest.len() && i < 10 && rest[i].is_ascii_digit() {
                n = n * 10 + usize::from(rest[i] - b'0');
                i += 1;
            }
            if i == 0 || rest.get(i) != Some(&b'\r') || rest.get(i + 1) != Some(&b'\n') {
                return None;
            }
            if n as u64 > super::MAX_PAYLOAD {
                return None;
            }
            let end = 1 + i + 2 + n;
            if buf.len() < end + 2 {
                return Some(Scan::Incomplete);
            }
            if &buf[end..end + 2] != b"\r\n" {
                return None;
            }
            Some(Scan::Complete {
                len: end + 2,
                outcome: Outcome::Hit,
            })
        }
        _ => None,
    }
}

/// Reads the header line at `buf[at]`: one pass over the digits when it is a type byte
/// and a plain number (`$5`, `*100`, `:1`), the general line search otherwise.
#[inline]
fn header(buf: &[u8], at: usize) -> Result<Header<'_>, Scan> {
    let b = &buf[at..];
    if let [kind @ (b'$' | b'*' | b':' | b'%' | b'~' | b'>' | b'|' | b'=' | b'!'), rest @ ..] = b {
        let mut n: u64 = 0;
        let mut i = 0;
        // At most 19 digits, so n cannot overflow.
        while i < rest.len() && i < 19 && rest[i].is_ascii_digit() {
            n = n * 10 + u64::from(rest[i] - b'0');
            i += 1;
        }
        if i > 0 && rest.get(i) == Some(&b'\r') && rest.get(i + 1) == Some(&b'\n') {
            return Ok(Header::Number(*kind, n, at + 1 + i + 2));
        }
    }
    match line(b) {
        Line::Found(content, used) => match content.split_first() {
            Some((&kind, rest)) => Ok(Header::Other(kind, rest, at + used)),
            None => Err(Scan::Invalid("empty RESP line")),
        },
        Line::Incomplete => Err(Scan::Incomplete),
        Line::Invalid(why) => Err(Scan::Invalid(why)),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{assert_frames, drip};
    use super::*;

    fn outcome(reply: &[u8]) -> Outcome {
        match assert_frames(scan, reply) {
            Scan::Complete { outcome, .. } => outcome,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn statuses_and_errors() {
        assert_eq!(outcome(b"+OK\r\n"), Outcome::Ok);
        assert_eq!(outcome(b"-ERR unknown command\r\n"), Outcome::Error);
        assert_eq!(outcome(b"-OOM command not allowed\r\n"), Outcome::Error);
        assert_eq!(outcome(b"!21\r\nSYNTAX invalid syntax\r\n"), Outcome::Error);
        assert_eq!(outcome(b":1000\r\n"), Outcome::Ok);
        assert_eq!(outcome(b":-5\r\n"), Outcome::Ok);
        assert_eq!(outcome(b"#t\r\n"), Outcome::Ok);
        assert_eq!(outcome(b",3.14\r\n"), Outcome::Ok);
        assert_eq!(
            outcome(b"(3492890328409238509324850943850943825024385\r\n"),
            Outcome::Ok
        );
    }

    #[test]
    fn bulk_strings_are_hits() {
        assert_eq!(outcome(b"$5\r\nhello\r\n"), Outcome::Hit);
        assert_eq!(outcome(b"$0\r\n\r\n"), Outcome::Hit);
        assert_eq!(outcome(b"=15\r\ntxt:Some string\r\n"), Outcome::Hit);
        // Binary payload containing CRLF and things that look like replies.
        assert_eq!(
            outcome(b"$12\r\n\r\n-ERR\r\n\x00\xff\r\n\r\n"),
            Outcome::Hit
        );
    }

    #[test]
    fn nulls_are_misses() {
        assert_eq!(outcome(b"$-1\r\n"), Outcome::Miss);
        assert_eq!(outcome(b"*-1\r\n"), Outcome::Miss);
        assert_eq!(outcome(b"_\r\n"), Outcome::Miss);
    }

    #[test]
    fn aggregates_are_framed_whole() {
        // Empty aggregates are what range commands answer for a missing key.
        assert_eq!(outcome(b"*0\r\n"), Outcome::Miss);
        assert_eq!(outcome(b"%0\r\n"), Outcome::Miss);
        assert_eq!(outcome(b"*2\r\n$3\r\nfoo\r\n$-1\r\n"), Outcome::Hit);
        assert_eq!(outcome(b"*2\r\n*1\r\n:1\r\n+x\r\n"), Outcome::Hit);
        assert_eq!(outcome(b"*2\r\n*0\r\n*0\r\n"), Outcome::Hit);
        assert_eq!(outcome(b"%1\r\n+k\r\n$1\r\nv\r\n"), Outcome::Hit);
        assert_eq!(outcome(b"~2\r\n:1\r\n:2\r\n"), Outcome::Hit);
        assert_eq!(outcome(b">2\r\n+a\r\n+b\r\n"), Outcome::Hit);
    }

    #[test]
    fn attribute_defers_to_the_value_it_annotates() {
        assert_eq!(outcome(b"|1\r\n+ttl\r\n:3\r\n$2\r\nhi\r\n"), Outcome::Hit);
        assert_eq!(outcome(b"|1\r\n+a\r\n+b\r\n_\r\n"), Outcome::Miss);
        assert_eq!(outcome(b"|0\r\n:1\r\n"), Outcome::Ok);
        assert_eq!(
            outcome(b"*2\r\n|1\r\n+a\r\n+b\r\n:1\r\n:2\r\n"),
            Outcome::Hit
        );
    }

    #[test]
    fn malformed_replies_are_invalid_not_panics() {
        for bad in [
            b"?\r\n".as_slice(),
            b"\r\n",
            b"+OK\n",
            b"$abc\r\n",
            b"$-2\r\n",
            b"$3\r\nabcd\r\n",
            b"$3\r\nabc\n\n",
            b"$99999999999\r\n",
            b"*x\r\n",
            b"*99999999\r\n",
            b":\r\n",
            b":12a\r\n",
            b"_x\r\n",
            b"#x\r\n",
            b",\r\n",
            b"!-1\r\n",
            b"*1\r\n?\r\n",
        ] {
            assert!(
                matches!(scan(bad), Scan::Invalid(_)),
                "{:?} gave {:?}",
                String::from_utf8_lossy(bad),
                scan(bad)
            );
        }
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let deep = b"*1\r\n".repeat(MAX_DEPTH + 1);
        let mut buf = deep.clone();
        buf.extend_from_slice(b"+OK\r\n");
        assert!(matches!(scan(&buf), Scan::Invalid(_)));
        let ok = [b"*1\r\n".repeat(MAX_DEPTH), b"+OK\r\n".to_vec()].concat();
        assert_eq!(outcome(&ok), Outcome::Hit);
    }

    #[test]
    fn stream_split_at_every_byte() {
        let stream: &[u8] =
            b"+OK\r\n$3\r\nabc\r\n$-1\r\n-ERR x\r\n_\r\n$4\r\n\r\n\r\n\r\n*1\r\n$1\r\nz\r\n";
        let frames = drip(scan, stream);
        let outcomes: Vec<_> = frames
            .iter()
            .map(|f| match f {
                Scan::Complete { outcome, .. } => *outcome,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            outcomes,
            [
                Outcome::Ok,
                Outcome::Hit,
                Outcome::Miss,
                Outcome::Error,
                Outcome::Miss,
                Outcome::Hit,
                Outcome::Hit
            ]
        );
    }

    /// A ZRANGE-like reply: an array of `n` bulk strings.
    fn array_reply(n: usize) -> Vec<u8> {
        let mut r = format!("*{n}\r\n").into_bytes();
        for i in 0..n {
            let m = format!("member:{i}");
            r.extend_from_slice(format!("${}\r\n{m}\r\n", m.len()).as_bytes());
        }
        r
    }

    #[test]
    fn big_arrays_are_one_reply() {
        assert_eq!(outcome(&array_reply(100)), Outcome::Hit);
        let r = array_reply(100_000);
        assert_eq!(
            scan(&r),
            Scan::Complete {
                len: r.len(),
                outcome: Outcome::Hit
            }
        );
        assert_eq!(scan(&r[..r.len() - 1]), Scan::Incomplete);
    }

    /// Feeds `stream` to one resumable framer in chunks of `chunk` bytes, the way a
    /// connection does, and checks it finds the same replies as scanning each from scratch.
    fn resume_in_chunks(stream: &[u8], chunk: usize) {
        let mut expected = Vec::new();
        let mut at = 0;
        while at < stream.len() {
            match scan(&stream[at..]) {
                s @ Scan::Complete { len, .. } => {
                    expected.push(s);
                    at += len;
                }
                other => panic!("{other:?} at {at}"),
            }
        }
        let mut framer = Framer::new();
        let (mut start, mut end, mut found) = (0, 0, Vec::new());
        while end < stream.len() {
            end = (end + chunk).min(stream.len());
            loop {
                match framer.scan(&stream[start..end]) {
                    Scan::Incomplete => break,
                    s @ Scan::Complete { len, .. } => {
                        start += len;
                        found.push(s);
                    }
                    s @ Scan::Invalid(_) => panic!("{s:?}"),
                }
            }
        }
        assert_eq!(start, stream.len());
        assert_eq!(found, expected, "chunk {chunk}");
    }

    #[test]
    fn framer_resumes_where_it_stopped() {
        let mut stream = Vec::new();
        for _ in 0..3 {
            stream.extend_from_slice(&array_reply(100));
            stream.extend_from_slice(b"+OK\r\n$-1\r\n*0\r\n:7\r\n");
            stream.extend_from_slice(
                b"*2\r\n%1\r\n+k\r\n*1\r\n$1\r\nv\r\n|1\r\n+a\r\n+b\r\n$2\r\nhi\r\n",
            );
        }
        // Elements of every header width inside one array: 0, 1, 2, 3 and 4 digits, and
        // non-string elements between them.
        let mut mixed = b"*7\r\n$0\r\n\r\n$1\r\nx\r\n".to_vec();
        for n in [42, 999, 1000] {
            mixed.extend_from_slice(format!("${n}\r\n").as_bytes());
            mixed.extend_from_slice(&vec![b'\r'; n]);
            mixed.extend_from_slice(b"\r\n");
        }
        mixed.extend_from_slice(b":5\r\n$-1\r\n");
        stream.extend_from_slice(&mixed);
        assert_eq!(outcome(&mixed), Outcome::Hit);
        for chunk in [1, 2, 3, 7, 64, 1000, stream.len()] {
            resume_in_chunks(&stream, chunk);
        }
    }

    #[test]
    fn framer_does_not_rescan() {
        // A reply of a million elements arriving 4 KiB at a time: rescanning from the start
        // on every read would take minutes; resuming takes milliseconds.
        let r = array_reply(1_000_000);
        let started = std::time::Instant::now();
        resume_in_chunks(&r, 4096);
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
    }
}
