//! Writing RESP: the server's [`ReplyBuf`] and the client's [`Frame::encode`].
//!
//! Command handlers never see RESP bytes or versions; they call `ReplyBuf` methods named for
//! what a reply *is* (a map, a null, a double), and the buffer renders it for the connection's
//! protocol the way redis-server does: in RESP2 a map becomes a flat array, a null becomes
//! `$-1` (or `*-1` for a missing array), a double becomes a bulk string, a boolean `:1`/`:0`.
//! Writing straight into the connection's output buffer keeps replies allocation-free.

use super::frame::Frame;
use crate::number::{write_g17, write_i64};

/// Which protocol a connection speaks, chosen with `HELLO`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProtocolVersion {
    /// RESP2, the default for every new connection.
    #[default]
    Resp2,
    /// RESP3, after `HELLO 3`.
    Resp3,
}

impl ProtocolVersion {
    /// The number clients use for this version (2 or 3).
    pub fn number(self) -> i64 {
        match self {
            ProtocolVersion::Resp2 => 2,
            ProtocolVersion::Resp3 => 3,
        }
    }
}

/// An output buffer that renders replies for one protocol version.
#[derive(Debug, Default)]
pub struct ReplyBuf {
    buf: Vec<u8>,
    version: ProtocolVersion,
}

impl ReplyBuf {
    /// An empty buffer rendering `version` (nothing allocated until a reply is written).
    pub fn new(version: ProtocolVersion) -> Self {
        ReplyBuf {
            buf: Vec::new(),
            version,
        }
    }

    /// Makes room for `n` more bytes.
    pub fn reserve(&mut self, n: usize) {
        self.buf.reserve(n);
    }

    /// Bytes allocated.
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// A RESP3 attribute of `n` entries (the key/value pairs follow, then the reply they
    /// describe); RESP2 has no attributes, so the caller writes only the reply there.
    pub fn attribute(&mut self, n: usize) {
        debug_assert!(self.is_resp3());
        self.buf.push(b'|');
        let mut b = itoa::Buffer::new();
        self.buf.extend_from_slice(b.format(n).as_bytes());
        self.buf.extend_from_slice(b"\r\n");
    }

    /// Gives back the allocation (an idle connection keeps no output buffer).
    pub fn release(&mut self) {
        self.buf = Vec::new();
    }

    /// Takes the storage out, emptied, so it can serve another buffer; this one is left
    /// unallocated.
    pub fn take_storage(&mut self) -> Vec<u8> {
        let mut v = std::mem::take(&mut self.buf);
        v.clear();
        v
    }

    /// Renders into `storage` from now on (what it held is discarded).
    pub fn set_storage(&mut self, mut storage: Vec<u8>) {
        storage.clear();
        self.buf = storage;
    }

    /// The protocol replies are rendered for.
    pub fn version(&self) -> ProtocolVersion {
        self.version
    }

    /// Switches protocol for the replies that follow (after `HELLO`).
    pub fn set_version(&mut self, version: ProtocolVersion) {
        self.version = version;
    }

    /// True when the connection speaks RESP3.
    pub fn is_resp3(&self) -> bool {
        self.version == ProtocolVersion::Resp3
    }

    /// The bytes written so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// True if nothing has been written.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Forgets everything written, keeping the allocation.
    pub fn clear(&mut self) {
        self.buf.clear();
    }

    /// Drops everything written after `len` (used to undo a partial reply).
    pub fn truncate(&mut self, len: usize) {
        self.buf.truncate(len);
    }

    /// Gives up the underlying bytes, leaving the buffer empty.
    pub fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }

    /// Appends bytes that are already RESP.
    pub fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    fn header(&mut self, kind: u8, n: i64) {
        self.buf.push(kind);
        write_i64(&mut self.buf, n);
        self.buf.extend_from_slice(b"\r\n");
    }

    /// `+OK`.
    pub fn ok(&mut self) {
        self.buf.extend_from_slice(b"+OK\r\n");
    }

    /// A status reply such as `+PONG`. `s` must not contain CR or LF.
    pub fn simple(&mut self, s: &[u8]) {
        self.buf.push(b'+');
        self.buf.extend_from_slice(s);
        self.buf.extend_from_slice(b"\r\n");
    }

    /// An error reply; `msg` carries its code (`ERR …`, `WRONGTYPE …`) and no CR/LF.
    pub fn error(&mut self, msg: &[u8]) {
        self.buf.push(b'-');
        self.buf.extend_from_slice(msg);
        self.buf.extend_from_slice(b"\r\n");
    }

    /// An error reply built from user-controlled text: CR and LF at the ends are trimmed and
    /// those inside become spaces, as redis-server does, so the reply stays one line.
    pub fn error_sanitized(&mut self, msg: &[u8]) {
        let start = msg.iter().position(|c| !matches!(c, b'\r' | b'\n'));
        let end = msg.iter().rposition(|c| !matches!(c, b'\r' | b'\n'));
        self.buf.push(b'-');
        if let (Some(s), Some(e)) = (start, end) {
            self.buf.extend(
                msg[s..=e]
                    .iter()
                    .map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c }),
            );
        }
        self.buf.extend_from_slice(b"\r\n");
    }

    /// An integer reply.
    pub fn int(&mut self, v: i64) {
        self.header(b':', v);
    }

    /// A bulk string reply.
    pub fn bulk(&mut self, b: &[u8]) {
        self.header(b'$', b.len() as i64);
        self.buf.extend_from_slice(b);
        self.buf.extend_from_slice(b"\r\n");
    }

    /// A bulk string holding `v` in decimal.
    pub fn bulk_i64(&mut self, v: i64) {
        let mut tmp = itoa::Buffer::new();
        self.bulk(tmp.format(v).as_bytes());
    }

    /// A missing value: `$-1` in RESP2, `_` in RESP3.
    pub fn null(&mut self) {
        match self.version {
            ProtocolVersion::Resp2 => self.buf.extend_from_slice(b"$-1\r\n"),
            ProtocolVersion::Resp3 => self.buf.extend_from_slice(b"_\r\n"),
        }
    }

    /// A missing aggregate: `*-1` in RESP2, `_` in RESP3.
    pub fn null_array(&mut self) {
        match self.version {
            ProtocolVersion::Resp2 => self.buf.extend_from_slice(b"*-1\r\n"),
            ProtocolVersion::Resp3 => self.buf.extend_from_slice(b"_\r\n"),
        }
    }

    /// The header of an array of `n` elements, which the caller writes next.
    pub fn array(&mut self, n: usize) {
        self.header(b'*', n as i64);
    }

    /// The header of a map of `n` pairs: `%n` in RESP3, an array of `2n` in RESP2.
    pub fn map(&mut self, n: usize) {
        match self.version {
            ProtocolVersion::Resp2 => self.header(b'*', 2 * n as i64),
            ProtocolVersion::Resp3 => self.header(b'%', n as i64),
        }
    }

    /// The header of a set of `n` elements: `~n` in RESP3, an array in RESP2.
    pub fn set(&mut self, n: usize) {
        match self.version {
            ProtocolVersion::Resp2 => self.header(b'*', n as i64),
            ProtocolVersion::Resp3 => self.header(b'~', n as i64),
        }
    }

    /// The header of an out-of-band push of `n` elements: `>n` in RESP3, an array in RESP2.
    pub fn push(&mut self, n: usize) {
        match self.version {
            ProtocolVersion::Resp2 => self.header(b'*', n as i64),
            ProtocolVersion::Resp3 => self.header(b'>', n as i64),
        }
    }

    /// A double, printed as `%.17g` like redis-server: `,…` in RESP3, a bulk string in RESP2.
    pub fn double(&mut self, v: f64) {
        let mut tmp = Vec::with_capacity(32);
        if v.is_infinite() {
            tmp.extend_from_slice(if v > 0.0 { b"inf" } else { b"-inf" });
        } else {
            write_g17(&mut tmp, v);
        }
        match self.version {
            ProtocolVersion::Resp2 => self.bulk(&tmp),
            ProtocolVersion::Resp3 => {
                self.buf.push(b',');
                self.buf.extend_from_slice(&tmp);
                self.buf.extend_from_slice(b"\r\n");
            }
        }
    }

    /// A boolean: `#t`/`#f` in RESP3, `:1`/`:0` in RESP2.
    pub fn bool(&mut self, v: bool) {
        match (self.version, v) {
            (ProtocolVersion::Resp2, true) => self.buf.extend_from_slice(b":1\r\n"),
            (ProtocolVersion::Resp2, false) => self.buf.extend_from_slice(b":0\r\n"),
            (ProtocolVersion::Resp3, true) => self.buf.extend_from_slice(b"#t\r\n"),
            (ProtocolVersion::Resp3, false) => self.buf.extend_from_slice(b"#f\r\n"),
        }
    }

    /// A verbatim string (`=` in RESP3 with a three-letter format such as `txt`), or a bulk
    /// string in RESP2.
    pub fn verbatim(&mut self, format: &[u8; 3], text: &[u8]) {
        match self.version {
            ProtocolVersion::Resp2 => self.bulk(text),
            ProtocolVersion::Resp3 => {
                self.header(b'=', text.len() as i64 + 4);
                self.buf.extend_from_slice(format);
                self.buf.push(b':');
                self.buf.extend_from_slice(text);
                self.buf.extend_from_slice(b"\r\n");
            }
        }
    }

    /// A big number (decimal digits): `(` in RESP3, a bulk string in RESP2.
    pub fn big_number(&mut self, digits: &[u8]) {
        match self.version {
            ProtocolVersion::Resp2 => self.bulk(digits),
            ProtocolVersion::Resp3 => {
                self.buf.push(b'(');
                self.buf.extend_from_slice(digits);
                self.buf.extend_from_slice(b"\r\n");
            }
        }
    }
}

impl Frame {
    /// Appends this frame's RESP encoding to `out`, exactly as its variant says (no version
    /// folding: a `Map` is written as `%`).
    pub fn encode(&self, out: &mut Vec<u8>) {
        fn header(out: &mut Vec<u8>, kind: u8, n: usize) {
            out.push(kind);
            write_i64(out, n as i64);
            out.extend_from_slice(b"\r\n");
        }
        fn line(out: &mut Vec<u8>, kind: u8, body: &[u8]) {
            out.push(kind);
            out.extend_from_slice(body);
            out.extend_from_slice(b"\r\n");
        }
        fn blob(out: &mut Vec<u8>, kind: u8, body: &[u8]) {
            header(out, kind, body.len());
            out.extend_from_slice(body);
            out.extend_from_slice(b"\r\n");
        }
        match self {
            Frame::Simple(s) => line(out, b'+', s),
            Frame::Error(s) => line(out, b'-', s),
            Frame::Integer(v) => {
                out.push(b':');
                write_i64(out, *v);
                out.extend_from_slice(b"\r\n");
            }
            Frame::Bulk(b) => blob(out, b'$', b),
            Frame::NullBulk => out.extend_from_slice(b"$-1\r\n"),
            Frame::NullArray => out.extend_from_slice(b"*-1\r\n"),
            Frame::Null => out.extend_from_slice(b"_\r\n"),
            Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => {
                let kind = match self {
                    Frame::Array(_) => b'*',
                    Frame::Set(_) => b'~',
                    _ => b'>',
                };
                header(out, kind, items.len());
                for item in items {
                    item.encode(out);
                }
            }
            Frame::Map(pairs) => {
                header(out, b'%', pairs.len());
                for (k, v) in pairs {
                    k.encode(out);
                    v.encode(out);
                }
            }
            Frame::Attribute(pairs, value) => {
                header(out, b'|', pairs.len());
                for (k, v) in pairs {
                    k.encode(out);
                    v.encode(out);
                }
                value.encode(out);
            }
            Frame::Double(v) => {
                let text = if v.is_nan() {
                    "nan".to_string()
                } else if v.is_infinite() {
                    if *v > 0.0 { "inf" } else { "-inf" }.to_string()
                } else {
                    // `{:e}` is the shortest form that parses back to the same bits.
                    format!("{v:e}")
                };
                line(out, b',', text.as_bytes());
            }
            Frame::Boolean(b) => out.extend_from_slice(if *b { b"#t\r\n" } else { b"#f\r\n" }),
            Frame::BigNumber(d) => line(out, b'(', d),
            Frame::Verbatim { format, text } => {
                header(out, b'=', text.len() + 4);
                out.extend_from_slice(format);
                out.push(b':');
                out.extend_from_slice(text);
                out.extend_from_slice(b"\r\n");
            }
            Frame::BlobError(b) => blob(out, b'!', b),
        }
    }

    /// This frame's encoding as a new vector.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both(f: impl Fn(&mut ReplyBuf)) -> (String, String) {
        let mut r2 = ReplyBuf::new(ProtocolVersion::Resp2);
        let mut r3 = ReplyBuf::new(ProtocolVersion::Resp3);
        f(&mut r2);
        f(&mut r3);
        (
            String::from_utf8_lossy(r2.as_bytes()).into_owned(),
            String::from_utf8_lossy(r3.as_bytes()).into_owned(),
        )
    }

    #[test]
    fn version_folding() {
        assert_eq!(both(|r| r.null()), ("$-1\r\n".into(), "_\r\n".into()));
        assert_eq!(both(|r| r.null_array()), ("*-1\r\n".into(), "_\r\n".into()));
        assert_eq!(both(|r| r.map(2)), ("*4\r\n".into(), "%2\r\n".into()));
        assert_eq!(both(|r| r.set(2)), ("*2\r\n".into(), "~2\r\n".into()));
        assert_eq!(both(|r| r.bool(true)), (":1\r\n".into(), "#t\r\n".into()));
        assert_eq!(
            both(|r| r.double(1.5)),
            ("$3\r\n1.5\r\n".into(), ",1.5\r\n".into())
        );
        assert_eq!(
            both(|r| r.double(f64::NEG_INFINITY)),
            ("$4\r\n-inf\r\n".into(), ",-inf\r\n".into())
        );
        assert_eq!(
            both(|r| r.verbatim(b"txt", b"hi")),
            ("$2\r\nhi\r\n".into(), "=6\r\ntxt:hi\r\n".into())
        );
    }

    #[test]
    fn sanitized_errors() {
        let mut r = ReplyBuf::new(ProtocolVersion::Resp2);
        r.error_sanitized(b"\r\nERR a\rb\nc\r\n");
        assert_eq!(r.as_bytes(), b"-ERR a b c\r\n");
    }
}
