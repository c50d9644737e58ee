//! Decoding any RESP2/RESP3 value from a byte slice, for clients and tests.
//!
//! [`decode`] returns `Ok(None)` while the buffer holds less than one whole value, so callers
//! can read more and try again; a value split at any byte boundary decodes the same once whole.
//! Limits on bulk size, element count and nesting depth keep hostile input from exhausting
//! memory or the stack.

use bytes::Bytes;
use std::fmt;

use super::frame::Frame;

/// Bounds the decoder enforces before allocating.
#[derive(Debug, Clone, Copy)]
pub struct DecodeLimits {
    /// Largest bulk string (and verbatim / blob error) accepted, in bytes.
    pub max_bulk_len: usize,
    /// Largest aggregate (array, map, set, push, attribute) accepted, in elements.
    pub max_elements: usize,
    /// Deepest nesting of aggregates accepted.
    pub max_depth: usize,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits {
            max_bulk_len: 512 * 1024 * 1024,
            max_elements: 1 << 32,
            max_depth: 512,
        }
    }
}

/// Why a buffer is not valid RESP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// A type byte that RESP does not define.
    UnknownType(u8),
    /// A length, integer, double or boolean that does not parse.
    BadNumber,
    /// A line or bulk not terminated by CRLF, or a malformed verbatim string.
    BadFraming,
    /// A length over the configured limit.
    TooLarge,
    /// Aggregates nested deeper than the configured limit.
    TooDeep,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::UnknownType(b) => write!(f, "unknown RESP type byte 0x{b:02x}"),
            DecodeError::BadNumber => f.write_str("malformed number"),
            DecodeError::BadFraming => f.write_str("malformed framing"),
            DecodeError::TooLarge => f.write_str("length over limit"),
            DecodeError::TooDeep => f.write_str("nesting too deep"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Decodes one value from the front of `buf`: `Ok(Some((frame, bytes_used)))`, `Ok(None)` if
/// more bytes are needed, or an error if `buf` can never become valid RESP.
pub fn decode(buf: &[u8], limits: &DecodeLimits) -> Result<Option<(Frame, usize)>, DecodeError> {
    let mut pos = 0;
    match decode_at(buf, &mut pos, limits, 0)? {
        Some(frame) => Ok(Some((frame, pos))),
        None => Ok(None),
    }
}

type Step<T> = Result<Option<T>, DecodeError>;

/// Returns the line starting at `*pos` (without CRLF) and moves past it.
fn line<'a>(buf: &'a [u8], pos: &mut usize) -> Step<&'a [u8]> {
    let rest = &buf[*pos..];
    match memchr::memchr(b'\n', rest) {
        None => Ok(None),
        Some(0) => Err(DecodeError::BadFraming),
        Some(nl) if rest[nl - 1] != b'\r' => Err(DecodeError::BadFraming),
        Some(nl) => {
            *pos += nl + 1;
            Ok(Some(&rest[..nl - 1]))
        }
    }
}

fn int(line: &[u8]) -> Result<i64, DecodeError> {
    let digits = line.strip_prefix(b"+").unwrap_or(line);
    if digits.first() == Some(&b'-') && digits.len() > 1 && digits[1].is_ascii_digit() {
        let v: i64 = std::str::from_utf8(digits)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or(DecodeError::BadNumber)?;
        return Ok(v);
    }
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(DecodeError::BadNumber);
    }
    std::str::from_utf8(digits)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or(DecodeError::BadNumber)
}

/// A length line: `Ok(None)` for `-1` (the RESP2 null forms), an error for other negatives.
fn length(line: &[u8], max: usize) -> Result<Option<usize>, DecodeError> {
    match int(line)? {
        -1 => Ok(None),
        n if n < 0 => Err(DecodeError::BadNumber),
        n => {
            let n = usize::try_from(n).map_err(|_| DecodeError::TooLarge)?;
            if n > max {
                Err(DecodeError::TooLarge)
            } else {
                Ok(Some(n))
            }
        }
    }
}

/// Reads `len` bytes plus CRLF at `*pos`.
fn blob(buf: &[u8], pos: &mut usize, len: usize) -> Step<Bytes> {
    let end = match pos.checked_add(len).and_then(|e| e.checked_add(2)) {
        Some(end) => end,
        None => return Err(DecodeError::TooLarge),
    };
    if buf.len() < end {
        return Ok(None);
    }
    if &buf[end - 2..end] != b"\r\n" {
        return Err(DecodeError::BadFraming);
    }
    let data = Bytes::copy_from_slice(&buf[*pos..end - 2]);
    *pos = end;
    Ok(Some(data))
}

macro_rules! ready {
    ($e:expr) => {
        match $e? {
            Some(v) => v,
            None => return Ok(None),
        }
    };
}

fn items(
    buf: &[u8],
    pos: &mut usize,
    n: usize,
    limits: &DecodeLimits,
    depth: usize,
) -> Step<Vec<Frame>> {
    let mut out = Vec::with_capacity(n.min(1024));
    for _ in 0..n {
        out.push(ready!(decode_at(buf, pos, limits, depth + 1)));
    }
    Ok(Some(out))
}

fn pairs(
    buf: &[u8],
    pos: &mut usize,
    n: usize,
    limits: &DecodeLimits,
    depth: usize,
) -> Step<Vec<(Frame, Frame)>> {
    let mut out = Vec::with_capacity(n.min(1024));
    for _ in 0..n {
        let k = ready!(decode_at(buf, pos, limits, depth + 1));
        let v = ready!(decode_at(buf, pos, limits, depth + 1));
        out.push((k, v));
    }
    Ok(Some(out))
}

fn decode_at(buf: &[u8], pos: &mut usize, limits: &DecodeLimits, depth: usize) -> Step<Frame> {
    if depth > limits.max_depth {
        return Err(DecodeError::TooDeep);
    }
    let Some(&kind) = buf.get(*pos) else {
        return Ok(None);
    };
    *pos += 1;
    let l = ready!(line(buf, pos));
    let frame = match kind {
        b'+' => Frame::Simple(Bytes::copy_from_slice(l)),
        b'-' => Frame::Error(Bytes::copy_from_slice(l)),
        b':' => Frame::Integer(int(l)?),
        b'$' => match length(l, limits.max_bulk_len)? {
            None => Frame::NullBulk,
            Some(n) => Frame::Bulk(ready!(blob(buf, pos, n))),
        },
        b'*' => match length(l, limits.max_elements)? {
            None => Frame::NullArray,
            Some(n) => Frame::Array(ready!(items(buf, pos, n, limits, depth))),
        },
        b'_' if l.is_empty() => Frame::Null,
        b'_' => return Err(DecodeError::BadFraming),
        b'#' => match l {
            b"t" => Frame::Boolean(true),
            b"f" => Frame::Boolean(false),
            _ => return Err(DecodeError::BadNumber),
        },
        b',' => Frame::Double(double(l)?),
        b'(' => {
            let digits = l.strip_prefix(b"-").or(l.strip_prefix(b"+")).unwrap_or(l);
            if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
                return Err(DecodeError::BadNumber);
            }
            Frame::BigNumber(Bytes::copy_from_slice(l))
        }
        b'!' => {
            let n = length(l, limits.max_bulk_len)?.ok_or(DecodeError::BadNumber)?;
            Frame::BlobError(ready!(blob(buf, pos, n)))
        }
        b'=' => {
            let n = length(l, limits.max_bulk_len)?.ok_or(DecodeError::BadNumber)?;
            let data = ready!(blob(buf, pos, n));
            if data.len() < 4 || data[3] != b':' {
                return Err(DecodeError::BadFraming);
            }
            Frame::Verbatim {
                format: [data[0], data[1], data[2]],
                text: data.slice(4..),
            }
        }
        b'%' => {
            let n = length(l, limits.max_elements)?.ok_or(DecodeError::BadNumber)?;
            Frame::Map(ready!(pairs(buf, pos, n, limits, depth)))
        }
        b'~' => {
            let n = length(l, limits.max_elements)?.ok_or(DecodeError::BadNumber)?;
            Frame::Set(ready!(items(buf, pos, n, limits, depth)))
        }
        b'>' => {
            let n = length(l, limits.max_elements)?.ok_or(DecodeError::BadNumber)?;
            Frame::Push(ready!(items(buf, pos, n, limits, depth)))
        }
        b'|' => {
            let n = length(l, limits.max_elements)?.ok_or(DecodeError::BadNumber)?;
            let attrs = ready!(pairs(buf, pos, n, limits, depth));
            let value = ready!(decode_at(buf, pos, limits, depth + 1));
            Frame::Attribute(attrs, Box::new(value))
        }
        other => return Err(DecodeError::UnknownType(other)),
    };
    Ok(Some(frame))
}

fn double(l: &[u8]) -> Result<f64, DecodeError> {
    let s = std::str::from_utf8(l).map_err(|_| DecodeError::BadNumber)?;
    match s {
        "inf" | "+inf" => Ok(f64::INFINITY),
        "-inf" => Ok(f64::NEG_INFINITY),
        "nan" | "-nan" => Ok(f64::NAN),
        _ if s.is_empty()
            || !s
                .bytes()
                .all(|c| c.is_ascii_digit() || b"+-.eE".contains(&c)) =>
        {
            Err(DecodeError::BadNumber)
        }
        _ => s.parse().map_err(|_| DecodeError::BadNumber),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(b: &[u8]) -> Result<Option<(Frame, usize)>, DecodeError> {
        decode(b, &DecodeLimits::default())
    }

    #[test]
    fn every_type() {
        let cases: Vec<(&[u8], Frame)> = vec![
            (b"+OK\r\n", Frame::simple("OK")),
            (b"-ERR x\r\n", Frame::error("ERR x")),
            (b":-12\r\n", Frame::Integer(-12)),
            (b"$3\r\nfoo\r\n", Frame::bulk("foo")),
            (b"$0\r\n\r\n", Frame::bulk("")),
            (b"$-1\r\n", Frame::NullBulk),
            (b"*-1\r\n", Frame::NullArray),
            (b"*0\r\n", Frame::Array(vec![])),
            (b"_\r\n", Frame::Null),
            (b"#t\r\n", Frame::Boolean(true)),
            (b",1.5\r\n", Frame::Double(1.5)),
            (b",-inf\r\n", Frame::Double(f64::NEG_INFINITY)),
            (
                b"(12345678901234567890\r\n",
                Frame::BigNumber(Bytes::from_static(b"12345678901234567890")),
            ),
            (
                b"!5\r\nERR x\r\n",
                Frame::BlobError(Bytes::from_static(b"ERR x")),
            ),
            (
                b"=8\r\ntxt:abcd\r\n",
                Frame::Verbatim {
                    format: *b"txt",
                    text: Bytes::from_static(b"abcd"),
                },
            ),
            (
                b"%1\r\n+a\r\n:1\r\n",
                Frame::Map(vec![(Frame::simple("a"), Frame::Integer(1))]),
            ),
            (b"~1\r\n:1\r\n", Frame::Set(vec![Frame::Integer(1)])),
            (b">1\r\n:1\r\n", Frame::Push(vec![Frame::Integer(1)])),
            (
                b"|1\r\n+k\r\n+v\r\n:7\r\n",
                Frame::Attribute(
                    vec![(Frame::simple("k"), Frame::simple("v"))],
                    Box::new(Frame::Integer(7)),
                ),
            ),
        ];
        for (bytes, want) in cases {
            assert_eq!(
                d(bytes),
                Ok(Some((want, bytes.len()))),
                "{:?}",
                String::from_utf8_lossy(bytes)
            );
        }
    }

    #[test]
    fn errors() {
        assert_eq!(d(b"?x\r\n"), Err(DecodeError::UnknownType(b'?')));
        assert_eq!(d(b":abc\r\n"), Err(DecodeError::BadNumber));
        assert_eq!(d(b"$3\r\nfooXY"), Err(DecodeError::BadFraming));
        assert_eq!(d(b"$-2\r\n"), Err(DecodeError::BadNumber));
        assert_eq!(d(b"+OK\n"), Err(DecodeError::BadFraming));
        let deep = b"*1\r\n".repeat(1000);
        assert_eq!(d(&deep), Err(DecodeError::TooDeep));
    }
}
