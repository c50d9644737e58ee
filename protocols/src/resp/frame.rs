//! [`Frame`]: one RESP2 or RESP3 value, owned.
//!
//! This is the client-side view of the protocol (tests, tools, the load generator). The server
//! does not build frames for requests — see [`super::request`] — nor for replies — see
//! [`super::encode::ReplyBuf`] — because both would allocate per command.

use bytes::Bytes;

/// One RESP value of any type, RESP2 or RESP3.
#[derive(Debug, Clone)]
pub enum Frame {
    /// `+OK` — a simple (status) string.
    Simple(Bytes),
    /// `-ERR message` — a simple error, stored without the `-`.
    Error(Bytes),
    /// `:42` — a signed 64-bit integer.
    Integer(i64),
    /// `$3\r\nfoo` — a binary-safe bulk string.
    Bulk(Bytes),
    /// `*N` — an array.
    Array(Vec<Frame>),
    /// `$-1` — RESP2's null bulk string.
    NullBulk,
    /// `*-1` — RESP2's null array.
    NullArray,
    /// `_` — RESP3's null.
    Null,
    /// `%N` — RESP3 map, in wire order.
    Map(Vec<(Frame, Frame)>),
    /// `~N` — RESP3 set, in wire order.
    Set(Vec<Frame>),
    /// `,1.5` — RESP3 double.
    Double(f64),
    /// `#t` / `#f` — RESP3 boolean.
    Boolean(bool),
    /// `(123…` — RESP3 big number, kept as its decimal text.
    BigNumber(Bytes),
    /// `=N\r\ntxt:…` — RESP3 verbatim string: a three-byte format and the text.
    Verbatim {
        /// The format, e.g. `txt` or `mkd`.
        format: [u8; 3],
        /// The text after `fmt:`.
        text: Bytes,
    },
    /// `!N` — RESP3 blob error.
    BlobError(Bytes),
    /// `>N` — RESP3 out-of-band push.
    Push(Vec<Frame>),
    /// `|N` — RESP3 attributes, followed by the value they describe.
    Attribute(Vec<(Frame, Frame)>, Box<Frame>),
}

impl Frame {
    /// A bulk string frame from anything byte-like.
    pub fn bulk(b: impl AsRef<[u8]>) -> Frame {
        Frame::Bulk(Bytes::copy_from_slice(b.as_ref()))
    }

    /// A simple string frame.
    pub fn simple(s: impl AsRef<[u8]>) -> Frame {
        Frame::Simple(Bytes::copy_from_slice(s.as_ref()))
    }

    /// An error frame (without the leading `-`).
    pub fn error(s: impl AsRef<[u8]>) -> Frame {
        Frame::Error(Bytes::copy_from_slice(s.as_ref()))
    }

    /// The request a client sends for `args`: an array of bulk strings.
    pub fn command<I, A>(args: I) -> Frame
    where
        I: IntoIterator<Item = A>,
        A: AsRef<[u8]>,
    {
        Frame::Array(args.into_iter().map(Frame::bulk).collect())
    }

    /// True for the simple error and blob error kinds.
    pub fn is_error(&self) -> bool {
        matches!(self, Frame::Error(_) | Frame::BlobError(_))
    }
}

/// Frames compare by value; doubles compare by bit pattern so that NaN equals itself, which
/// is what a round-trip test wants.
impl PartialEq for Frame {
    fn eq(&self, other: &Frame) -> bool {
        use Frame::*;
        match (self, other) {
            (Simple(a), Simple(b))
            | (Error(a), Error(b))
            | (Bulk(a), Bulk(b))
            | (BigNumber(a), BigNumber(b))
            | (BlobError(a), BlobError(b)) => a == b,
            (Integer(a), Integer(b)) => a == b,
            (Array(a), Array(b)) | (Set(a), Set(b)) | (Push(a), Push(b)) => a == b,
            (NullBulk, NullBulk) | (NullArray, NullArray) | (Null, Null) => true,
            (Map(a), Map(b)) => a == b,
            (Double(a), Double(b)) => a.to_bits() == b.to_bits(),
            (Boolean(a), Boolean(b)) => a == b,
            (
                Verbatim {
                    format: fa,
                    text: ta,
                },
                Verbatim {
                    format: fb,
                    text: tb,
                },
            ) => fa == fb && ta == tb,
            (Attribute(a, fa), Attribute(b, fb)) => a == b && fa == fb,
            _ => false,
        }
    }
}
