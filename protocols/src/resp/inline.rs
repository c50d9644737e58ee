//! Splitting an inline command line (`SET "a b" 'c'\r\n`) into arguments.
//!
//! The rules are redis-server's (and `redis-cli`'s): blanks separate arguments; inside double
//! quotes `\n \r \t \b \a`, `\xHH` and `\<any>` are escapes; inside single quotes only `\'` is;
//! a closing quote must be followed by a blank or the end of the line, otherwise — or if a
//! quote is never closed — the whole line is rejected ("unbalanced quotes"). A quote may also
//! open in the middle of an unquoted word (`ab"cd"` is `abcd`). A NUL byte ends the line, as it
//! ends a C string.

use super::request::Span;

/// The line had an unterminated quote or a closing quote followed by a non-blank.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unbalanced;

/// `isspace()` in the C locale.
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// Splits `line` into arguments, appending each argument's unescaped bytes to `scratch` and
/// its span within `scratch` to `spans`. On error nothing is appended.
pub fn split_args(
    line: &[u8],
    spans: &mut Vec<Span>,
    scratch: &mut Vec<u8>,
) -> Result<(), Unbalanced> {
    let (spans_mark, scratch_mark) = (spans.len(), scratch.len());
    let result = split_into(line, spans, scratch);
    if result.is_err() {
        spans.truncate(spans_mark);
        scratch.truncate(scratch_mark);
    }
    result
}

fn split_into(line: &[u8], spans: &mut Vec<Span>, scratch: &mut Vec<u8>) -> Result<(), Unbalanced> {
    // Treat the line as a C string: it ends at the first NUL.
    let line = match memchr::memchr(0, line) {
        Some(nul) => &line[..nul],
        None => line,
    };
    let at = |i: usize| line.get(i).copied().unwrap_or(0);
    let mut p = 0;
    loop {
        while p < line.len() && is_space(line[p]) {
            p += 1;
        }
        if p >= line.len() {
            return Ok(());
        }
        let start = scratch.len();
        let (mut in_double, mut in_single) = (false, false);
        loop {
            let c = at(p);
            if in_double {
                if c == b'\\'
                    && at(p + 1) == b'x'
                    && hex(at(p + 2)).is_some()
                    && hex(at(p + 3)).is_some()
                {
                    let byte = hex(at(p + 2)).unwrap_or(0) * 16 + hex(at(p + 3)).unwrap_or(0);
                    scratch.push(byte);
                    p += 3;
                } else if c == b'\\' && at(p + 1) != 0 {
                    p += 1;
                    scratch.push(match at(p) {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        other => other,
                    });
                } else if c == b'"' {
                    if at(p + 1) != 0 && !is_space(at(p + 1)) {
                        return Err(Unbalanced);
                    }
                    p += 1;
                    break;
                } else if c == 0 {
                    return Err(Unbalanced);
                } else {
                    scratch.push(c);
                }
            } else if in_single {
                if c == b'\\' && at(p + 1) == b'\'' {
                    p += 1;
                    scratch.push(b'\'');
                } else if c == b'\'' {
                    if at(p + 1) != 0 && !is_space(at(p + 1)) {
                        return Err(Unbalanced);
                    }
                    p += 1;
                    break;
                } else if c == 0 {
                    return Err(Unbalanced);
                } else {
                    scratch.push(c);
                }
            } else {
                match c {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => {
                        if c != 0 {
                            p += 1;
                        }
                        break;
                    }
                    b'"' => in_double = true,
                    b'\'' => in_single = true,
                    other => scratch.push(other),
                }
            }
            p += 1;
        }
        spans.push(Span {
            start,
            len: scratch.len() - start,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(line: &[u8]) -> Result<Vec<Vec<u8>>, Unbalanced> {
        let (mut spans, mut scratch) = (Vec::new(), Vec::new());
        split_args(line, &mut spans, &mut scratch)?;
        Ok(spans
            .iter()
            .map(|s| scratch[s.start..s.start + s.len].to_vec())
            .collect())
    }

    fn strs(v: &[&str]) -> Vec<Vec<u8>> {
        v.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    #[test]
    fn words_and_quotes() {
        assert_eq!(split(b"set a b"), Ok(strs(&["set", "a", "b"])));
        assert_eq!(split(b"  set   a\tb  "), Ok(strs(&["set", "a", "b"])));
        assert_eq!(
            split(b"set \"a b\" 'c d'"),
            Ok(strs(&["set", "a b", "c d"]))
        );
        assert_eq!(split(b"\"\\x41\\n\\q\""), Ok(vec![b"A\nq".to_vec()]));
        assert_eq!(split(b"'it\\'s'"), Ok(strs(&["it's"])));
        assert_eq!(split(b"ab\"cd\""), Ok(strs(&["abcd"])));
        assert_eq!(split(b"\"\""), Ok(strs(&[""])));
        assert_eq!(split(b""), Ok(vec![]));
        assert_eq!(split(b"a\x0bb"), Ok(strs(&["a\x0bb"])));
    }

    #[test]
    fn unbalanced() {
        assert_eq!(split(b"\"abc"), Err(Unbalanced));
        assert_eq!(split(b"'abc"), Err(Unbalanced));
        assert_eq!(split(b"\"a\"b"), Err(Unbalanced));
        assert_eq!(split(b"'a'b"), Err(Unbalanced));
    }
}
