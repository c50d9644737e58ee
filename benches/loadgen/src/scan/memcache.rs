//! memcached text-protocol reply scanner.
//!
//! Owns framing of replies on the memcache port. Unlike RESP, memcached replies do not
//! say what they answer, so the scanner is told which request ([`Op`]) the reply belongs
//! to: a `get` reply is any number of `VALUE` blocks closed by `END`, a `set` reply is one
//! status line. `VALUE` data is skipped by its declared length, so values containing CRLF
//! or text that looks like a status line are framed correctly.

use super::{line, parse_u64, payload, Line, Outcome, Scan};
use crate::request::Op;

/// Scans the reply to `op` at the front of `buf`.
///
/// `get`: one or more `VALUE` blocks then `END` → [`Outcome::Hit`]; `END` alone →
/// [`Outcome::Miss`]. `set`: `STORED` → [`Outcome::Ok`]; `NOT_STORED`, `EXISTS` and
/// `NOT_FOUND` → [`Outcome::Error`] (a plain `set` only gets them when something is wrong).
/// Either: `ERROR`, `CLIENT_ERROR …` and `SERVER_ERROR …` → [`Outcome::Error`], and they
/// end the reply even after `VALUE` blocks, as memcached does when it fails mid-reply.
pub fn scan(buf: &[u8], op: Op) -> Scan {
    match op {
        Op::Get => scan_get(buf),
        // Templates are RESP only; a status line is the closest memcached shape.
        Op::Set | Op::Command(_) => scan_set(buf),
    }
}

fn scan_set(buf: &[u8]) -> Scan {
    match line(buf) {
        Line::Found(content, len) => {
            let outcome = match content {
                b"STORED" => Outcome::Ok,
                b"NOT_STORED" | b"EXISTS" | b"NOT_FOUND" => Outcome::Error,
                _ if is_error_line(content) => Outcome::Error,
                _ => return Scan::Invalid("unexpected reply to memcached set"),
            };
            Scan::Complete { len, outcome }
        }
        Line::Incomplete => Scan::Incomplete,
        Line::Invalid(why) => Scan::Invalid(why),
    }
}

fn scan_get(buf: &[u8]) -> Scan {
    let mut pos = 0;
    let mut hit = false;
    loop {
        let (content, next) = match line(&buf[pos..]) {
            Line::Found(content, used) => (content, pos + used),
            Line::Incomplete => return Scan::Incomplete,
            Line::Invalid(why) => return Scan::Invalid(why),
        };
        if content == b"END" {
            let outcome = if hit { Outcome::Hit } else { Outcome::Miss };
            return Scan::Complete { len: next, outcome };
        }
        if let Some(header) = content.strip_prefix(b"VALUE ") {
            let Some(bytes) = value_length(header) else {
                return Scan::Invalid("bad memcached VALUE line");
            };
            pos = match payload(buf, next, bytes) {
                Ok(end) => end,
                Err(s) => return s,
            };
            hit = true;
            continue;
        }
        if is_error_line(content) {
            return Scan::Complete {
                len: next,
                outcome: Outcome::Error,
            };
        }
        return Scan::Invalid("unexpected reply to memcached get");
    }
}

/// The `<bytes>` field of `VALUE <key> <flags> <bytes> [<cas>]` (given without `VALUE `).
fn value_length(header: &[u8]) -> Option<u64> {
    let mut fields = header.split(|&b| b == b' ');
    let key = fields.next()?;
    let flags = fields.next()?;
    let bytes = fields.next()?;
    let cas = fields.next();
    if key.is_empty() || parse_u64(flags).is_none() || fields.next().is_some() {
        return None;
    }
    if let Some(cas) = cas {
        parse_u64(cas)?;
    }
    parse_u64(bytes)
}

fn is_error_line(content: &[u8]) -> bool {
    content == b"ERROR"
        || content == b"CLIENT_ERROR"
        || content == b"SERVER_ERROR"
        || content.starts_with(b"CLIENT_ERROR ")
        || content.starts_with(b"SERVER_ERROR ")
}

#[cfg(test)]
mod tests {
    use super::super::testing::{assert_frames, drip};
    use super::*;

    fn get(reply: &[u8]) -> Outcome {
        match assert_frames(|b| scan(b, Op::Get), reply) {
            Scan::Complete { outcome, .. } => outcome,
            other => panic!("{other:?}"),
        }
    }

    fn set(reply: &[u8]) -> Outcome {
        match assert_frames(|b| scan(b, Op::Set), reply) {
            Scan::Complete { outcome, .. } => outcome,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn get_hit_and_miss() {
        assert_eq!(get(b"END\r\n"), Outcome::Miss);
        assert_eq!(get(b"VALUE k 0 3\r\nabc\r\nEND\r\n"), Outcome::Hit);
        assert_eq!(get(b"VALUE k 0 0\r\n\r\nEND\r\n"), Outcome::Hit);
        assert_eq!(get(b"VALUE k 42 3 77\r\nabc\r\nEND\r\n"), Outcome::Hit);
        assert_eq!(
            get(b"VALUE a 0 1\r\nx\r\nVALUE b 0 2\r\nyz\r\nEND\r\n"),
            Outcome::Hit
        );
    }

    #[test]
    fn value_block_with_binary_data() {
        // Data that contains CRLF, a fake END and a fake VALUE header, NULs and high bytes.
        let data: &[u8] = b"\r\nEND\r\nVALUE x 0 1\r\n\x00\xff\xfe\r\n";
        let mut reply = format!("VALUE key:000000000001 0 {}\r\n", data.len()).into_bytes();
        reply.extend_from_slice(data);
        reply.extend_from_slice(b"\r\nEND\r\n");
        assert_eq!(get(&reply), Outcome::Hit);
    }

    #[test]
    fn set_replies() {
        assert_eq!(set(b"STORED\r\n"), Outcome::Ok);
        assert_eq!(set(b"NOT_STORED\r\n"), Outcome::Error);
        assert_eq!(set(b"EXISTS\r\n"), Outcome::Error);
        assert_eq!(set(b"NOT_FOUND\r\n"), Outcome::Error);
    }

    #[test]
    fn error_lines_end_either_reply() {
        for reply in [
            b"ERROR\r\n".as_slice(),
            b"CLIENT_ERROR bad data chunk\r\n",
            b"SERVER_ERROR out of memory storing object\r\n",
        ] {
            assert_eq!(get(reply), Outcome::Error);
            assert_eq!(set(reply), Outcome::Error);
        }
        assert_eq!(
            get(b"VALUE k 0 1\r\nx\r\nSERVER_ERROR out of memory writing get response\r\n"),
            Outcome::Error
        );
    }

    #[test]
    fn malformed_replies_are_invalid_not_panics() {
        let bad_gets: &[&[u8]] = &[
            b"STORED\r\n",
            b"VALUE k 0\r\n",
            b"VALUE k 0 x\r\n",
            b"VALUE k 0 3 1 2\r\n",
            b"VALUE k x 3\r\n",
            b"VALUE  0 3\r\n",
            b"VALUE k 0 3\r\nabcd\r\nEND\r\n",
            b"VALUE k 0 99999999999\r\n",
            b"END\n",
            b"\r\n",
            b"+OK\r\n",
        ];
        for &bad in bad_gets {
            assert!(
                matches!(scan(bad, Op::Get), Scan::Invalid(_)),
                "{:?} gave {:?}",
                String::from_utf8_lossy(bad),
                scan(bad, Op::Get)
            );
        }
        for bad in [
            b"END\r\n".as_slice(),
            b"STORED \r\n",
            b"OK\r\n",
            b"VALUE k 0 1\r\n",
        ] {
            assert!(matches!(scan(bad, Op::Set), Scan::Invalid(_)), "{bad:?}");
        }
    }

    #[test]
    fn stream_split_at_every_byte() {
        let stream: &[u8] =
            b"VALUE key:1 0 4\r\n\r\n\r\n\r\nEND\r\nEND\r\nSERVER_ERROR busy\r\nVALUE k 1 2 3\r\nab\r\nEND\r\n";
        let frames = drip(|b| scan(b, Op::Get), stream);
        let outcomes: Vec<_> = frames
            .iter()
            .map(|f| match f {
                Scan::Complete { outcome, .. } => *outcome,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            outcomes,
            [Outcome::Hit, Outcome::Miss, Outcome::Error, Outcome::Hit]
        );

        let sets: &[u8] = b"STORED\r\nSTORED\r\nNOT_STORED\r\nSTORED\r\n";
        assert_eq!(drip(|b| scan(b, Op::Set), sets).len(), 4);
    }
}
