//! Number syntax shared by both protocols: what counts as an integer, and how doubles print.
//!
//! redis-server is strict about integers everywhere (bulk lengths, `INCRBY` deltas, `EXPIRE`
//! seconds): no sign but `-`, no leading zeros, no spaces, at most 20 characters. Keeping the
//! one definition here means the request parser and every command agree with it and with each
//! other. Doubles are printed the way C's `printf("%.17g")` prints them, which is what Redis
//! replies carry.

/// Longest decimal string Redis accepts as a 64-bit integer (`LONG_STR_SIZE - 1`).
const MAX_I64_CHARS: usize = 20;

/// Parses a signed 64-bit integer with redis-server's strict rules.
///
/// Accepted: `0`, or an optional `-` followed by a non-zero digit and more digits, within
/// `i64`. Rejected: empty input, `+`, leading zeros, `-0`, spaces, anything over 20 chars.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > MAX_I64_CHARS {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (negative, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    if negative {
        if v > i64::MAX as u64 + 1 {
            return None;
        }
        Some((v as i64).wrapping_neg())
    } else {
        i64::try_from(v).ok()
    }
}

/// Parses an unsigned length the way [`parse_i64`] does, rejecting negatives.
pub fn parse_usize(s: &[u8]) -> Option<usize> {
    parse_i64(s).and_then(|v| usize::try_from(v).ok())
}

/// Appends `v` in decimal.
pub fn write_i64(out: &mut Vec<u8>, v: i64) {
    let mut buf = itoa::Buffer::new();
    out.extend_from_slice(buf.format(v).as_bytes());
}

/// Formats `v` exactly as C's `printf("%.17g", v)` does (glibc), into `out`.
///
/// Seventeen significant digits always round-trip an `f64`; `%g` then drops trailing zeros
/// and chooses between fixed and exponent notation by the decimal exponent.
pub fn write_g17(out: &mut Vec<u8>, v: f64) {
    if v.is_nan() {
        out.extend_from_slice(if v.is_sign_negative() {
            b"-nan"
        } else {
            b"nan"
        });
        return;
    }
    if v.is_infinite() {
        out.extend_from_slice(if v < 0.0 { b"-inf" } else { b"inf" });
        return;
    }
    if v == 0.0 {
        out.extend_from_slice(if v.is_sign_negative() { b"-0" } else { b"0" });
        return;
    }
    // Rust's `{:.16e}` is correctly rounded to 17 significant digits: "d.dddddddddddddddde<exp>".
    let sci = format!("{:.16e}", v);
    let (mantissa, exp) = match sci.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (sci.as_str(), 0),
    };
    let negative = mantissa.starts_with('-');
    let digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    if negative {
        out.push(b'-');
    }
    const PRECISION: i32 = 17;
    if !(-4..PRECISION).contains(&exp) {
        // Exponent notation: d.ddd…e±XX with trailing zeros removed.
        out.push(digits[0]);
        let frac = trim_zeros(&digits[1..]);
        if !frac.is_empty() {
            out.push(b'.');
            out.extend_from_slice(frac);
        }
        out.push(b'e');
        out.push(if exp < 0 { b'-' } else { b'+' });
        let e = exp.unsigned_abs();
        if e < 10 {
            out.push(b'0');
        }
        out.extend_from_slice(e.to_string().as_bytes());
    } else if exp >= 0 {
        let int_len = exp as usize + 1;
        out.extend_from_slice(&digits[..int_len]);
        let frac = trim_zeros(&digits[int_len..]);
        if !frac.is_empty() {
            out.push(b'.');
            out.extend_from_slice(frac);
        }
    } else {
        out.extend_from_slice(b"0.");
        for _ in 0..(-exp - 1) {
            out.push(b'0');
        }
        out.extend_from_slice(trim_zeros(&digits));
    }
}

/// `write_g17` into a fresh `String`; for callers off the hot path.
pub fn g17(v: f64) -> String {
    let mut out = Vec::with_capacity(24);
    write_g17(&mut out, v);
    String::from_utf8(out).unwrap_or_default()
}

fn trim_zeros(digits: &[u8]) -> &[u8] {
    let end = digits.iter().rposition(|&d| d != b'0').map_or(0, |p| p + 1);
    &digits[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_integers() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-1"), Some(-1));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b""[..],
            b"-",
            b"+1",
            b"01",
            b"-0",
            b" 1",
            b"1 ",
            b"1a",
            b"9223372036854775808",
            b"-9223372036854775809",
            b"100000000000000000000",
        ] {
            assert_eq!(parse_i64(bad), None, "{:?}", bad);
        }
    }

    fn g(v: f64) -> String {
        g17(v)
    }

    #[test]
    fn g17_matches_printf() {
        // Expected strings are what glibc's printf("%.17g") prints for these values.
        assert_eq!(g(1.0), "1");
        assert_eq!(g(-2.5), "-2.5");
        assert_eq!(g(0.1), "0.10000000000000001");
        assert_eq!(g(3.0e-5), "3.0000000000000001e-05");
        assert_eq!(g(1e17), "1e+17");
        assert_eq!(g(1e16), "10000000000000000");
        assert_eq!(g(123456.789), "123456.789");
        assert_eq!(g(0.0001), "0.0001");
        assert_eq!(g(1.5e300), "1.5000000000000001e+300");
        assert_eq!(g(1.23e-5), "1.2300000000000001e-05");
        assert_eq!(g(f64::INFINITY), "inf");
        assert_eq!(g(-0.0), "-0");
    }

    fn printf_g17(v: f64) -> String {
        let mut buf = [0u8; 64];
        // SAFETY: the buffer is large enough for any %.17g output and is NUL-terminated by snprintf.
        let n = unsafe { libc::snprintf(buf.as_mut_ptr().cast(), buf.len(), c"%.17g".as_ptr(), v) };
        String::from_utf8_lossy(&buf[..n as usize]).into_owned()
    }

    proptest::proptest! {
        #[test]
        fn g17_agrees_with_libc(bits in proptest::prelude::any::<u64>()) {
            let v = f64::from_bits(bits);
            proptest::prop_assert_eq!(g17(v), printf_g17(v));
        }

        #[test]
        fn parse_i64_agrees_with_display(v in proptest::prelude::any::<i64>()) {
            proptest::prop_assert_eq!(parse_i64(v.to_string().as_bytes()), Some(v));
        }
    }
}
