//! Numbers as memcached 1.6 reads them: `safe_strtoul`, `safe_strtoull` and `safe_strtol`
//! from its `util.c`, which wrap C's `strtoul`/`strtoull`/`strtol` on a 64-bit Linux build.
//!
//! These rules are looser and odder than Redis's (see [`crate::number`]) and clients observe
//! them, so they are reproduced exactly:
//!
//! * leading C whitespace (`' '`, `\t`, `\n`, `\v`, `\f`, `\r`) and one `+` or `-` sign are
//!   accepted, as are leading zeros (`007`);
//! * the digits may be followed by nothing or by whitespace and then anything (`5\tjunk`
//!   reads as 5), but not by any other byte (`0x5`, `5k` are rejected);
//! * unsigned parsing of a negative number wraps (C's `strtoul("-1")` is `2^64-1`), and
//!   memcached then rejects the result only if its top bit is set *and* the text has a `-`:
//!   `-1` is rejected, `-0` is 0, and `-18446744073709551615` reads as 1;
//! * 32-bit results are the low 32 bits of a 64-bit parse, with no range check:
//!   flags `4294967296` read as 0, an exptime of `2147483648` reads as `-2147483648`.

/// C's `isspace` in the "C" locale.
#[inline]
pub fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// What C's `strtoull`/`strtoll` saw in a string.
struct Scan {
    negative: bool,
    /// The digits' value, saturated at `u128::MAX` (only compared against 64-bit bounds).
    magnitude: u128,
    /// True if at least one digit was read.
    any_digits: bool,
    /// Index of the first byte after the digits.
    end: usize,
}

fn scan(s: &[u8]) -> Scan {
    let mut i = 0;
    while i < s.len() && is_c_space(s[i]) {
        i += 1;
    }
    let mut negative = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        negative = s[i] == b'-';
        i += 1;
    }
    let start = i;
    let mut magnitude: u128 = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        magnitude = magnitude
            .saturating_mul(10)
            .saturating_add(u128::from(s[i] - b'0'));
        i += 1;
    }
    Scan {
        negative,
        magnitude,
        any_digits: i > start,
        end: i,
    }
}

/// The check every `safe_strto*` makes after the conversion: the number must end the string
/// or be followed by whitespace.
fn well_terminated(s: &[u8], end: usize) -> bool {
    match s.get(end) {
        None => true,
        Some(&b) => is_c_space(b),
    }
}

/// `strtoull` with base 10: the value (wrapped for negatives) or `None` for no digits or
/// `ERANGE`.
fn strtoull(s: &[u8]) -> Option<(u64, usize)> {
    let sc = scan(s);
    if !sc.any_digits || sc.magnitude > u128::from(u64::MAX) {
        return None;
    }
    let m = sc.magnitude as u64;
    Some((if sc.negative { m.wrapping_neg() } else { m }, sc.end))
}

/// memcached's `safe_strtoull`: a 64-bit unsigned number (CAS values, `incr` deltas, and the
/// stored value `incr` works on).
pub fn safe_strtoull(s: &[u8]) -> Option<u64> {
    let (v, end) = strtoull(s)?;
    if !well_terminated(s, end) {
        return None;
    }
    // Only a value that looks negative as a signed number is checked for a minus sign.
    if (v as i64) < 0 && s.contains(&b'-') {
        return None;
    }
    Some(v)
}

/// memcached's `safe_strtoul` into a `uint32_t` (client flags, `verbosity`): the 64-bit
/// rules of [`safe_strtoull`], then truncated to 32 bits.
pub fn safe_strtoul32(s: &[u8]) -> Option<u32> {
    safe_strtoull(s).map(|v| v as u32)
}

/// memcached's `safe_strtol` into an `int32_t` (exptimes, data lengths): a 64-bit signed
/// parse (`ERANGE` outside `i64`), truncated to 32 bits.
pub fn safe_strtol32(s: &[u8]) -> Option<i32> {
    let sc = scan(s);
    if !sc.any_digits {
        return None;
    }
    let limit = if sc.negative {
        1u128 << 63
    } else {
        (1u128 << 63) - 1
    };
    if sc.magnitude > limit || !well_terminated(s, sc.end) {
        return None;
    }
    let m = sc.magnitude as u64;
    let v = if sc.negative {
        (m as i64).wrapping_neg()
    } else {
        m as i64
    };
    Some(v as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsigned_64() {
        let p = |s: &str| safe_strtoull(s.as_bytes());
        assert_eq!(p("0"), Some(0));
        assert_eq!(p("007"), Some(7));
        assert_eq!(p("+5"), Some(5));
        assert_eq!(p(" \t5"), Some(5));
        assert_eq!(p("5\tjunk"), Some(5));
        assert_eq!(p("5\r"), Some(5));
        assert_eq!(p("18446744073709551615"), Some(u64::MAX));
        assert_eq!(p("18446744073709551616"), None);
        assert_eq!(p("-1"), None);
        assert_eq!(p("-0"), Some(0));
        assert_eq!(p("-18446744073709551615"), Some(1));
        assert_eq!(p("-9223372036854775808"), None);
        assert_eq!(p("-9223372036854775809"), Some(9223372036854775807));
        assert_eq!(p(""), None);
        assert_eq!(p("-"), None);
        assert_eq!(p("+-5"), None);
        assert_eq!(p("0x5"), None);
        assert_eq!(p("5k"), None);
        assert_eq!(p("abc"), None);
    }

    #[test]
    fn unsigned_32_truncates() {
        let p = |s: &str| safe_strtoul32(s.as_bytes());
        assert_eq!(p("4294967295"), Some(u32::MAX));
        assert_eq!(p("4294967296"), Some(0));
        assert_eq!(p("18446744073709551615"), Some(u32::MAX));
        assert_eq!(p("-1"), None);
        assert_eq!(p("-4294967295"), None);
    }

    #[test]
    fn signed_32_truncates() {
        let p = |s: &str| safe_strtol32(s.as_bytes());
        assert_eq!(p("-1"), Some(-1));
        assert_eq!(p("-0"), Some(0));
        assert_eq!(p("2147483647"), Some(i32::MAX));
        assert_eq!(p("2147483648"), Some(i32::MIN));
        assert_eq!(p("4294967297"), Some(1));
        assert_eq!(p("9223372036854775807"), Some(-1));
        assert_eq!(p("9223372036854775808"), None);
        assert_eq!(p("-9223372036854775808"), Some(0));
        assert_eq!(p("-9223372036854775809"), None);
        assert_eq!(p("1 "), Some(1));
        assert_eq!(p("1x"), None);
        assert_eq!(p(" "), None);
    }
}
