//! Reading doubles from arguments the way redis-server reads them.
//!
//! **Parsing.** redis-server reads scores with `strtod` (`string2d`: the whole argument,
//! no leading space, no overflow or underflow to zero, no NaN) and range bounds with
//! `strtod` on the argument as a C string (`zslParseRange`: leading blanks allowed, an
//! empty string is 0). Both go through the C library's own `strtod` here, so hexadecimal
//! floats, `inf`, `infinity` and every rounding match byte for byte.

use std::os::raw::c_char;

extern "C" {
    fn strtod(s: *const c_char, end: *mut *mut c_char) -> f64;
}

/// C `strtod` on `s` read as a C string (up to its first NUL): the value and how many
/// bytes it used.
fn c_strtod(s: &[u8]) -> (f64, usize) {
    let s = match memchr::memchr(0, s) {
        Some(n) => &s[..n],
        None => s,
    };
    let mut small = [0u8; 128];
    let mut big;
    let buf: &[u8] = if s.len() < small.len() {
        small[..s.len()].copy_from_slice(s);
        &small[..=s.len()]
    } else {
        big = Vec::with_capacity(s.len() + 1);
        big.extend_from_slice(s);
        big.push(0);
        &big
    };
    let start = buf.as_ptr() as *const c_char;
    let mut end: *mut c_char = std::ptr::null_mut();
    // SAFETY: `buf` is NUL-terminated and outlives the call; strtod only reads it and sets
    // `end` to a position within it.
    let v = unsafe { strtod(start, &mut end) };
    let used = if end.is_null() {
        0
    } else {
        (end as usize).saturating_sub(start as usize)
    };
    (v, used.min(s.len()))
}

/// True if strtod's result `v` from `text` came with `ERANGE` and is an overflow to
/// infinity or an underflow to zero (which redis-server's `string2d` rejects). Told from
/// the text rather than `errno`: an infinity from digits (not from `inf`), or a zero from a
/// mantissa with a non-zero digit.
fn out_of_range(v: f64, text: &[u8]) -> bool {
    let hex = text.iter().any(|&c| c == b'x' || c == b'X');
    if v.is_infinite() {
        return !text.iter().any(|&c| c == b'i' || c == b'I');
    }
    if v == 0.0 {
        let mantissa_end = text
            .iter()
            .position(|&c| {
                if hex {
                    c == b'p' || c == b'P'
                } else {
                    c == b'e' || c == b'E'
                }
            })
            .unwrap_or(text.len());
        let digits = &text[..mantissa_end];
        let digits = if hex {
            // Skip the "0x" prefix.
            match digits.iter().position(|&c| c == b'x' || c == b'X') {
                Some(p) => &digits[p + 1..],
                None => digits,
            }
        } else {
            digits
        };
        return digits.iter().any(|&c| {
            (b'1'..=b'9').contains(&c) || (hex && matches!(c, b'a'..=b'f' | b'A'..=b'F'))
        });
    }
    false
}

/// A double argument as redis-server's `string2d` reads it (ZADD scores, ZINCRBY
/// increments, WEIGHTS, GEO coordinates): `None` is `ERR value is not a valid float`.
pub fn parse(arg: &[u8]) -> Option<f64> {
    if arg.is_empty() || arg[0].is_ascii_whitespace() || arg[0] == 0x0b {
        return None;
    }
    let (v, used) = c_strtod(arg);
    if used != arg.len() || v.is_nan() || out_of_range(v, arg) {
        return None;
    }
    Some(v)
}

/// What a number out of a double's range would be as a `long double` (blocking timeouts
/// are read with `strtold`, whose range is far wider).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extended {
    /// Larger than any double.
    Huge,
    /// Closer to zero than any double, on this side of it.
    Tiny {
        /// Below zero.
        negative: bool,
    },
}

/// For an argument [`parse`] rejects only for its range: how it is out of range.
pub fn parse_extended(arg: &[u8]) -> Option<Extended> {
    if arg.is_empty() || arg[0].is_ascii_whitespace() || arg[0] == 0x0b {
        return None;
    }
    let (v, used) = c_strtod(arg);
    if used != arg.len() || v.is_nan() || !out_of_range(v, arg) {
        return None;
    }
    Some(if v.is_infinite() {
        Extended::Huge
    } else {
        Extended::Tiny {
            negative: v.is_sign_negative(),
        }
    })
}

/// A score range bound (`zslParseRange`): `(` makes it exclusive; the rest is read by
/// `strtod` as a C string and must be used up. `None` is `ERR min or max is not a float`.
pub fn parse_bound(arg: &[u8]) -> Option<(f64, bool)> {
    let (text, exclusive) = match arg.first() {
        Some(b'(') => (&arg[1..], true),
        _ => (arg, false),
    };
    let text = match memchr::memchr(0, text) {
        Some(n) => &text[..n],
        None => text,
    };
    let (v, used) = c_strtod(text);
    if used != text.len() || v.is_nan() {
        return None;
    }
    Some((v, exclusive))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_string2d() {
        assert_eq!(parse(b"1.5"), Some(1.5));
        assert_eq!(parse(b"inf"), Some(f64::INFINITY));
        assert_eq!(parse(b"-Infinity"), Some(f64::NEG_INFINITY));
        assert_eq!(parse(b"+inf"), Some(f64::INFINITY));
        assert_eq!(parse(b"0x10"), Some(16.0));
        assert_eq!(parse(b"1e308"), Some(1e308));
        assert_eq!(parse(b"4.9e-324"), Some(4.9e-324));
        assert_eq!(parse(b"0e0"), Some(0.0));
        for bad in [
            &b"nan"[..],
            b"",
            b" 1",
            b"1 ",
            b"1e400",
            b"1e-400",
            b"abc",
            b"1\x002",
            b"-nan",
        ] {
            assert_eq!(parse(bad), None, "{:?}", bad);
        }
    }

    #[test]
    fn parses_bounds_like_zslparserange() {
        assert_eq!(parse_bound(b"(1"), Some((1.0, true)));
        assert_eq!(parse_bound(b""), Some((0.0, false)));
        assert_eq!(parse_bound(b"("), Some((0.0, true)));
        assert_eq!(parse_bound(b" 5"), Some((5.0, false)));
        assert_eq!(parse_bound(b"1\x00junk"), Some((1.0, false)));
        assert_eq!(parse_bound(b"-inf"), Some((f64::NEG_INFINITY, false)));
        assert_eq!(parse_bound(b"1e400"), Some((f64::INFINITY, false)));
        assert_eq!(parse_bound(b"nan"), None);
        assert_eq!(parse_bound(b"[1"), None);
        assert_eq!(parse_bound(b"1 "), None);
    }
}
