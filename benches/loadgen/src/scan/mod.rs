//! Reply scanners: find where one reply ends in a byte buffer and what kind it was.
//!
//! Owns the client-side framing of server replies for both protocols. A scanner does not
//! decode: it never copies a value or builds a reply object, it only walks headers and
//! skips payloads by their declared length, so the cost per reply is a few comparisons
//! plus one `memchr` per header line. It is resumable by re-running from the start of the
//! unfinished reply once more bytes have arrived (headers are short, so rescanning is
//! cheap), and it never panics: anything malformed is reported as [`Scan::Invalid`].

pub mod memcache;
pub mod resp;

/// What a complete reply said, as far as the benchmark cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A success status (`+OK`, `STORED`, an integer…).
    Ok,
    /// A value came back (GET hit).
    Hit,
    /// A null / not-found reply (GET miss).
    Miss,
    /// An error reply from the server (`-ERR`, `SERVER_ERROR`, `NOT_STORED`…).
    Error,
}

/// Result of scanning the front of a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scan {
    /// One reply occupies the first `len` bytes.
    Complete {
        /// Length in bytes of the reply, terminator included.
        len: usize,
        /// What the reply meant.
        outcome: Outcome,
    },
    /// The buffer holds only the beginning of a reply; read more and scan again.
    Incomplete,
    /// The bytes cannot be the start of a valid reply; the stream is out of sync.
    Invalid(&'static str),
}

/// Longest header line accepted before the stream is declared invalid; real headers are
/// a few dozen bytes, so this only trips on garbage that would otherwise make the read
/// buffer grow until the I/O timeout fires.
pub const MAX_LINE: usize = 64 * 1024;

/// Largest payload length accepted (redis-server's default `proto-max-bulk-len`).
pub const MAX_PAYLOAD: u64 = 512 * 1024 * 1024;

/// A header line found at the front of a buffer.
enum Line<'a> {
    /// The line's content without its CRLF, and the offset just past the CRLF.
    Found(&'a [u8], usize),
    Incomplete,
    Invalid(&'static str),
}

/// Finds the CRLF-terminated line starting at `buf[0]`. A bare LF is invalid: both
/// protocols always terminate lines with CRLF, and accepting LF alone would let a
/// desynchronised stream (for example inside binary value data) look well-formed.
fn line(buf: &[u8]) -> Line<'_> {
    let window = &buf[..buf.len().min(MAX_LINE)];
    match memchr::memchr(b'\n', window) {
        Some(0) => Line::Invalid("line feed without carriage return"),
        Some(lf) if buf[lf - 1] == b'\r' => Line::Found(&buf[..lf - 1], lf + 1),
        Some(_) => Line::Invalid("line feed without carriage return"),
        None if buf.len() >= MAX_LINE => Line::Invalid("reply line too long"),
        None => Line::Incomplete,
    }
}

/// Parses a non-negative decimal number with no sign, spaces or leading `+`, rejecting
/// overflow. Used for lengths, where anything else means the stream is corrupt.
fn parse_u64(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    let mut n: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some(n)
}

/// A payload of `len` bytes followed by CRLF, starting at `buf[at]`: returns the offset
/// just past the CRLF, or why not.
fn payload(buf: &[u8], at: usize, len: u64) -> Result<usize, Scan> {
    if len > MAX_PAYLOAD {
        return Err(Scan::Invalid("payload length too large"));
    }
    // `len` ≤ 512 MiB, so these additions cannot overflow a usize on 64-bit or 32-bit.
    let end = at + len as usize;
    if buf.len() < end + 2 {
        return Err(Scan::Incomplete);
    }
    if &buf[end..end + 2] != b"\r\n" {
        return Err(Scan::Invalid("payload not followed by CRLF"));
    }
    Ok(end + 2)
}

/// Helpers shared by the scanners' unit tests.
#[cfg(test)]
pub(crate) mod testing {
    use super::Scan;

    /// Checks that `scan` reports `Incomplete` for every proper prefix of `reply` and
    /// `Complete` with the full length for the whole of it, also with trailing bytes of a
    /// following reply present — i.e. that a reply split at any byte boundary is framed
    /// the same way as one that arrived whole.
    pub fn assert_frames(scan: impl Fn(&[u8]) -> Scan, reply: &[u8]) -> Scan {
        for cut in 0..reply.len() {
            assert_eq!(
                scan(&reply[..cut]),
                Scan::Incomplete,
                "prefix of {} bytes of {:?}",
                cut,
                String::from_utf8_lossy(reply)
            );
        }
        let whole = scan(reply);
        match whole {
            Scan::Complete { len, .. } => assert_eq!(len, reply.len()),
            other => panic!("{:?} gave {other:?}", String::from_utf8_lossy(reply)),
        }
        let mut followed = reply.to_vec();
        followed.extend_from_slice(b"+OK\r\nEND\r\n");
        assert_eq!(scan(&followed), whole);
        whole
    }

    /// Feeds `stream` to a simulated connection one byte at a time, the way a reader that
    /// scans after every `read` would see it, and returns the frames it found.
    pub fn drip(scan: impl Fn(&[u8]) -> Scan, stream: &[u8]) -> Vec<Scan> {
        let mut frames = Vec::new();
        let mut start = 0;
        for end in 1..=stream.len() {
            loop {
                match scan(&stream[start..end]) {
                    Scan::Incomplete => break,
                    s @ Scan::Complete { len, .. } => {
                        start += len;
                        frames.push(s);
                    }
                    s @ Scan::Invalid(_) => {
                        frames.push(s);
                        return frames;
                    }
                }
            }
        }
        assert_eq!(start, stream.len(), "bytes left unframed");
        frames
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_u64_is_strict() {
        assert_eq!(parse_u64(b"0"), Some(0));
        assert_eq!(parse_u64(b"18446744073709551615"), None); // 20 digits
        assert_eq!(
            parse_u64(b"9999999999999999999"),
            Some(9_999_999_999_999_999_999)
        );
        assert_eq!(parse_u64(b""), None);
        assert_eq!(parse_u64(b"-1"), None);
        assert_eq!(parse_u64(b"+1"), None);
        assert_eq!(parse_u64(b" 1"), None);
        assert_eq!(parse_u64(b"1x"), None);
    }

    /// Random byte soup built from protocol fragments: the scanners must never panic and
    /// never claim more bytes than they were given.
    #[test]
    fn scanners_survive_fragment_soup() {
        use crate::request::Op;
        use crate::rng::Rng;
        const FRAGMENTS: &[&[u8]] = &[
            b"$",
            b"*",
            b"%",
            b"|",
            b"_",
            b"+OK",
            b"-ERR",
            b":",
            b"-1",
            b"0",
            b"3",
            b"12",
            b"\r\n",
            b"\r",
            b"\n",
            b"VALUE ",
            b"k ",
            b"0 ",
            b"END",
            b"STORED",
            b"abc",
            b" ",
            b"\x00\xff",
        ];
        let mut rng = Rng::new(42, 0);
        let mut buf = Vec::new();
        for _ in 0..20_000 {
            buf.clear();
            for _ in 0..rng.below(12) {
                buf.extend_from_slice(FRAGMENTS[rng.below(FRAGMENTS.len() as u64) as usize]);
            }
            for scanned in [
                resp::scan(&buf),
                memcache::scan(&buf, Op::Get),
                memcache::scan(&buf, Op::Set),
            ] {
                if let Scan::Complete { len, .. } = scanned {
                    assert!(len <= buf.len(), "{buf:?}");
                }
            }
        }
    }

    #[test]
    fn line_needs_crlf() {
        assert!(matches!(line(b"abc\r\nrest"), Line::Found(b"abc", 5)));
        assert!(matches!(line(b"abc\r"), Line::Incomplete));
        assert!(matches!(line(b"abc\n"), Line::Invalid(_)));
        assert!(matches!(line(b"\n"), Line::Invalid(_)));
        assert!(matches!(line(&vec![b'a'; MAX_LINE]), Line::Invalid(_)));
    }
}
