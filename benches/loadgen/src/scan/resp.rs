//! RESP reply scanner (RESP2 and the RESP3 types a server may send).
//!
//! Owns framing of replies on the Redis port. GET/SET only ever produce a status, an
//! error, a bulk string or a null, but the scanner walks every RESP3 type (aggregates
//! included, to a bounded depth) so an unexpected reply shape is still framed correctly
//! and counted instead of desynchronising the connection.

use super::{line, parse_u64, payload, Line, Outcome, Scan};

/// Deepest aggregate nesting accepted; bounds the scanner's recursion.
pub const MAX_DEPTH: usize = 32;

/// Most elements accepted in one aggregate header; a corrupt count must not turn into
/// an enormous loop over a buffer that can never hold that many elements.
pub const MAX_ELEMENTS: u64 = 1 << 24;

/// Scans one reply at the front of `buf`.
///
/// Outcomes: `+…` and other non-null scalars → [`Outcome::Ok`]; a bulk or verbatim string
/// → [`Outcome::Hit`]; `$-1`, `*-1` and `_` → [`Outcome::Miss`]; `-…` and blob errors
/// `!…` → [`Outcome::Error`]; aggregates → [`Outcome::Ok`]. An attribute (`|`) is skipped
/// and the reply it annotates decides the outcome.
pub fn scan(buf: &[u8]) -> Scan {
    match value(buf, 0, 0) {
        Ok((len, outcome)) => Scan::Complete { len, outcome },
        Err(s) => s,
    }
}

/// Scans the value starting at `buf[at]`; returns the offset just past it and its outcome.
fn value(buf: &[u8], at: usize, depth: usize) -> Result<(usize, Outcome), Scan> {
    let (content, next) = match line(&buf[at..]) {
        Line::Found(content, used) => (content, at + used),
        Line::Incomplete => return Err(Scan::Incomplete),
        Line::Invalid(why) => return Err(Scan::Invalid(why)),
    };
    let Some((&kind, rest)) = content.split_first() else {
        return Err(Scan::Invalid("empty RESP line"));
    };
    match kind {
        b'+' => Ok((next, Outcome::Ok)),
        b'-' => Ok((next, Outcome::Error)),
        b':' => {
            let digits = rest.strip_prefix(b"-").unwrap_or(rest);
            match parse_u64(digits) {
                Some(_) => Ok((next, Outcome::Ok)),
                None => Err(Scan::Invalid("bad RESP integer")),
            }
        }
        b'_' if rest.is_empty() => Ok((next, Outcome::Miss)),
        b'_' => Err(Scan::Invalid("bad RESP3 null")),
        b'#' if rest == b"t" || rest == b"f" => Ok((next, Outcome::Ok)),
        b'#' => Err(Scan::Invalid("bad RESP3 boolean")),
        // Doubles and big numbers: framing is the line; their syntax is not our concern.
        b',' | b'(' if !rest.is_empty() => Ok((next, Outcome::Ok)),
        b'$' | b'=' | b'!' => {
            if kind == b'$' && rest == b"-1" {
                return Ok((next, Outcome::Miss));
            }
            let len = parse_u64(rest).ok_or(Scan::Invalid("bad RESP string length"))?;
            let end = payload(buf, next, len)?;
            let outcome = if kind == b'!' {
                Outcome::Error
            } else {
                Outcome::Hit
            };
            Ok((end, outcome))
        }
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            if kind == b'*' && rest == b"-1" {
                return Ok((next, Outcome::Miss));
            }
            let count = parse_u64(rest).ok_or(Scan::Invalid("bad RESP aggregate length"))?;
            if count > MAX_ELEMENTS {
                return Err(Scan::Invalid("RESP aggregate too large"));
            }
            if depth >= MAX_DEPTH {
                return Err(Scan::Invalid("RESP aggregate nested too deeply"));
            }
            // Maps and attributes carry a key and a value per entry.
            let elements = if kind == b'%' || kind == b'|' {
                count * 2
            } else {
                count
            };
            let mut pos = next;
            for _ in 0..elements {
                pos = value(buf, pos, depth + 1)?.0;
            }
            if kind == b'|' {
                // An attribute annotates the value that follows it; that value is the reply.
                return value(buf, pos, depth + 1);
            }
            Ok((pos, Outcome::Ok))
        }
        _ => Err(Scan::Invalid("unknown RESP type byte")),
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
        assert_eq!(outcome(b"*0\r\n"), Outcome::Ok);
        assert_eq!(outcome(b"*2\r\n$3\r\nfoo\r\n$-1\r\n"), Outcome::Ok);
        assert_eq!(outcome(b"*2\r\n*1\r\n:1\r\n+x\r\n"), Outcome::Ok);
        assert_eq!(outcome(b"%1\r\n+k\r\n$1\r\nv\r\n"), Outcome::Ok);
        assert_eq!(outcome(b"~2\r\n:1\r\n:2\r\n"), Outcome::Ok);
        assert_eq!(outcome(b">2\r\n+a\r\n+b\r\n"), Outcome::Ok);
    }

    #[test]
    fn attribute_defers_to_the_value_it_annotates() {
        assert_eq!(outcome(b"|1\r\n+ttl\r\n:3\r\n$2\r\nhi\r\n"), Outcome::Hit);
        assert_eq!(outcome(b"|1\r\n+a\r\n+b\r\n_\r\n"), Outcome::Miss);
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
        assert_eq!(outcome(&ok), Outcome::Ok);
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
                Outcome::Ok
            ]
        );
    }
}
