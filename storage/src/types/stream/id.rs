//! [`StreamId`]: the 128-bit entry ID of a stream (`<ms>-<seq>`), its order, its successor
//! and predecessor, and the way redis-server 7.0 parses and prints it (t_stream.c's
//! `streamGenericParseIDOrReply`).
//!
//! Parsing quirks kept for compatibility: each half is read by `string2ull`, which tries the
//! strict integer syntax first and then falls back to C's `strtoull` — so `" 1"`, `"+1"`,
//! `"01"` are accepted, and `"-01"` wraps to 2^64-1 as `strtoull` negates — while `"-1"`
//! (strict syntax, negative) is refused. The argument is a C string (a NUL byte ends it),
//! at most 127 bytes long, split at its first `-`.

use cachegate_protocols::number::parse_i64;

/// A stream entry ID: milliseconds and a sequence number, ordered by both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct StreamId {
    /// Unix time in milliseconds (or whatever the client chose).
    pub ms: u64,
    /// Sequence within the millisecond.
    pub seq: u64,
}

/// Why an ID argument was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidId;

/// What an ID argument says, for XADD (which also takes `<ms>-*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParsedId {
    /// A whole ID (a missing sequence filled in by the caller's default).
    Full(StreamId),
    /// `<ms>-*`: the sequence is to be generated.
    AutoSeq(u64),
}

impl StreamId {
    /// The smallest ID, `0-0`.
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    /// The largest ID, `18446744073709551615-18446744073709551615`.
    pub const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    /// An ID from its parts.
    pub const fn new(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    /// True for `0-0`.
    pub fn is_zero(self) -> bool {
        self == StreamId::MIN
    }

    /// The next ID, or `None` after the largest (`streamIncrID` failing).
    pub fn next(self) -> Option<StreamId> {
        if self.seq < u64::MAX {
            Some(StreamId::new(self.ms, self.seq + 1))
        } else if self.ms < u64::MAX {
            Some(StreamId::new(self.ms + 1, 0))
        } else {
            None
        }
    }

    /// The previous ID, or `None` before the smallest (`streamDecrID` failing).
    pub fn prev(self) -> Option<StreamId> {
        if self.seq > 0 {
            Some(StreamId::new(self.ms, self.seq - 1))
        } else if self.ms > 0 {
            Some(StreamId::new(self.ms - 1, u64::MAX))
        } else {
            None
        }
    }

    /// Writes `<ms>-<seq>` into `buf` and returns it (at most 41 bytes).
    pub fn format(self, buf: &mut IdBuf) -> &[u8] {
        let mut a = itoa::Buffer::new();
        let ms = a.format(self.ms).as_bytes();
        let mut b = itoa::Buffer::new();
        let seq = b.format(self.seq).as_bytes();
        buf.0[..ms.len()].copy_from_slice(ms);
        buf.0[ms.len()] = b'-';
        buf.0[ms.len() + 1..ms.len() + 1 + seq.len()].copy_from_slice(seq);
        &buf.0[..ms.len() + 1 + seq.len()]
    }

    /// `<ms>-<seq>` as an owned string of bytes.
    pub fn to_bytes(self) -> Vec<u8> {
        self.format(&mut IdBuf::default()).to_vec()
    }

    /// Parses an ID argument the way most stream commands do: `-` and `+` are the smallest
    /// and largest IDs, a missing sequence is `missing_seq`.
    pub fn parse(arg: &[u8], missing_seq: u64) -> Result<StreamId, InvalidId> {
        match parse_generic(arg, missing_seq, false, false)? {
            ParsedId::Full(id) => Ok(id),
            ParsedId::AutoSeq(_) => Err(InvalidId),
        }
    }

    /// Parses an ID argument strictly: `-` and `+` are refused.
    pub fn parse_strict(arg: &[u8], missing_seq: u64) -> Result<StreamId, InvalidId> {
        match parse_generic(arg, missing_seq, true, false)? {
            ParsedId::Full(id) => Ok(id),
            ParsedId::AutoSeq(_) => Err(InvalidId),
        }
    }

    /// Parses XADD's ID argument: strict, and `<ms>-*` allowed.
    pub fn parse_for_add(arg: &[u8]) -> Result<ParsedId, InvalidId> {
        parse_generic(arg, 0, true, true)
    }

    /// The 16-byte big-endian form (the key of redis-server's radix tree), whose byte order
    /// is the IDs' order.
    pub fn to_be_bytes(self) -> [u8; 16] {
        let mut k = [0u8; 16];
        k[..8].copy_from_slice(&self.ms.to_be_bytes());
        k[8..].copy_from_slice(&self.seq.to_be_bytes());
        k
    }
}

/// Room for a formatted ID.
#[derive(Debug, Clone, Copy)]
pub struct IdBuf([u8; 44]);

impl Default for IdBuf {
    fn default() -> Self {
        IdBuf([0; 44])
    }
}

/// `streamGenericParseIDOrReply`; see the module doc.
fn parse_generic(
    arg: &[u8],
    missing_seq: u64,
    strict: bool,
    auto_seq: bool,
) -> Result<ParsedId, InvalidId> {
    if arg.len() > 127 {
        return Err(InvalidId);
    }
    // A C string to redis-server: a NUL byte ends it.
    let s = match memchr::memchr(0, arg) {
        Some(n) => &arg[..n],
        None => arg,
    };
    if s == b"-" || s == b"+" {
        if strict {
            return Err(InvalidId);
        }
        return Ok(ParsedId::Full(if s == b"-" {
            StreamId::MIN
        } else {
            StreamId::MAX
        }));
    }
    let (ms_part, seq_part) = match memchr::memchr(b'-', s) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let ms = string2ull(ms_part).ok_or(InvalidId)?;
    match seq_part {
        Some(b"*") if auto_seq => Ok(ParsedId::AutoSeq(ms)),
        Some(seq) => Ok(ParsedId::Full(StreamId::new(
            ms,
            string2ull(seq).ok_or(InvalidId)?,
        ))),
        None => Ok(ParsedId::Full(StreamId::new(ms, missing_seq))),
    }
}

/// redis-server's `string2ull`: strict integer syntax if it parses (negative refused), else
/// C's `strtoull` in base 10 (leading white space, a sign, digits, nothing after them).
fn string2ull(s: &[u8]) -> Option<u64> {
    if let Some(v) = parse_i64(s) {
        return u64::try_from(v).ok();
    }
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        i += 1;
    }
    let negative = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let digits = &s[i..];
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        // strtoull stops at the first non-digit; anything left over (or no digits at all)
        // makes string2ull refuse the string.
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    Some(if negative { v.wrapping_neg() } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Option<StreamId> {
        StreamId::parse(s.as_bytes(), 0).ok()
    }

    #[test]
    fn parses_like_redis() {
        assert_eq!(p("1-2"), Some(StreamId::new(1, 2)));
        assert_eq!(p("5"), Some(StreamId::new(5, 0)));
        assert_eq!(
            StreamId::parse(b"5", u64::MAX),
            Ok(StreamId::new(5, u64::MAX))
        );
        assert_eq!(p("-"), Some(StreamId::MIN));
        assert_eq!(p("+"), Some(StreamId::MAX));
        assert_eq!(StreamId::parse_strict(b"-", 0), Err(InvalidId));
        assert_eq!(
            p("18446744073709551615-18446744073709551615"),
            Some(StreamId::MAX)
        );
        assert_eq!(p("18446744073709551616"), None);
        assert_eq!(p("-1"), None);
        assert_eq!(p("1-"), None);
        assert_eq!(p("1-2-3"), None);
        assert_eq!(p(""), None);
        assert_eq!(p("abc"), None);
        assert_eq!(p("0x10"), None);
        // strtoull's leniency.
        assert_eq!(p(" 1"), Some(StreamId::new(1, 0)));
        assert_eq!(p("+1"), Some(StreamId::new(1, 0)));
        assert_eq!(p("01-02"), Some(StreamId::new(1, 2)));
        assert_eq!(p("1-+1"), Some(StreamId::new(1, 1)));
        assert_eq!(p("1--01"), Some(StreamId::new(1, u64::MAX)));
        assert_eq!(p("1- 1"), Some(StreamId::new(1, 1)));
        assert_eq!(p("1 "), None);
        assert_eq!(p("1-2\0junk"), Some(StreamId::new(1, 2)));
        assert_eq!(p(&"1".repeat(128)), None);
        assert_eq!(StreamId::parse_for_add(b"7-*"), Ok(ParsedId::AutoSeq(7)));
        assert_eq!(StreamId::parse(b"7-*", 0), Err(InvalidId));
    }

    #[test]
    fn successors_and_formatting() {
        assert_eq!(StreamId::new(1, u64::MAX).next(), Some(StreamId::new(2, 0)));
        assert_eq!(StreamId::MAX.next(), None);
        assert_eq!(StreamId::new(2, 0).prev(), Some(StreamId::new(1, u64::MAX)));
        assert_eq!(StreamId::MIN.prev(), None);
        assert_eq!(
            StreamId::MAX.to_bytes(),
            b"18446744073709551615-18446744073709551615".to_vec()
        );
        assert_eq!(StreamId::new(0, 7).to_bytes(), b"0-7".to_vec());
    }
}
