//! Number grammars shared by every configuration source: Redis memory sizes,
//! strict decimal integers and octal permissions.
//!
//! Owns the text → number rules only; which range a key accepts and how a
//! rejection is worded live in `kind.rs`. The rules reproduce what
//! redis-server 7.0 accepts (its `memtoull`, `string2ll` and `strtoll(…, 8)`
//! in `util.c`/`config.c`), so a value that works in redis.conf or in
//! `CONFIG SET` works here and vice versa. The code is our own.

/// Longest digit run a memory size may have; Redis copies the digits into a
/// 128-byte buffer and rejects anything that does not fit.
const MEMORY_MAX_DIGITS: usize = 127;

/// Longest text a strict integer may be: Redis refuses 21 bytes or more
/// before looking at the digits (the longest `i64` is 20 bytes).
const INT_MAX_TEXT: usize = 20;

/// Parses a memory size the way redis.conf does: ASCII digits followed by an
/// optional case-insensitive unit `b` (1), `k` (1000), `kb` (1024), `m`
/// (1000²), `mb` (1024²), `g` (1000³) or `gb` (1024³).
///
/// Quirks kept from Redis: an empty digit run counts as 0 (so `""` and
/// `"kb"` are 0), a leading `-` is refused, and so is any space or sign.
/// Where Redis would silently wrap on overflow we saturate at `u64::MAX`,
/// which every range check then rejects ("argument must be between …"),
/// the same answer Redis gives for all but a few wrapping inputs.
///
/// Returns `None` when the text is not a memory size.
pub fn parse_memory(text: &[u8]) -> Option<u64> {
    let digits_len = text.iter().take_while(|b| b.is_ascii_digit()).count();
    let (digits, unit) = text.split_at(digits_len);
    let multiplier: u64 = match unit.to_ascii_lowercase().as_slice() {
        b"" | b"b" => 1,
        b"k" => 1_000,
        b"kb" => 1 << 10,
        b"m" => 1_000_000,
        b"mb" => 1 << 20,
        b"g" => 1_000_000_000,
        b"gb" => 1 << 30,
        _ => return None,
    };
    if digits.len() > MEMORY_MAX_DIGITS {
        return None;
    }
    let mut value: u64 = 0;
    for &d in digits {
        value = value.saturating_mul(10).saturating_add(u64::from(d - b'0'));
    }
    Some(value.saturating_mul(multiplier))
}

/// Parses a strict decimal `i64`: an optional `-`, then either `0` alone or
/// a digit 1–9 followed by digits. No `+`, no spaces, no leading zeros, no
/// `-0`; overflow is an error. This is the grammar of Redis integer
/// arguments, so `"05"` and `" 5"` fail here as they do in `CONFIG SET`.
pub fn parse_int(text: &[u8]) -> Option<i64> {
    if text.is_empty() || text.len() > INT_MAX_TEXT {
        return None;
    }
    if text == b"0" {
        return Some(0);
    }
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    // Accumulate as a negative number so that i64::MIN fits.
    let mut value: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        value = value.checked_mul(10)?.checked_sub(i64::from(d - b'0'))?;
    }
    if negative {
        Some(value)
    } else {
        value.checked_neg()
    }
}

/// Parses an octal number as redis.conf reads `unixsocketperm`: optional
/// leading white space, an optional sign, octal digits, nothing after them.
/// As with C's `strtoll(…, 8)` plus an end check, the empty string is 0,
/// but white space or a sign without digits is an error, and so is
/// overflow.
pub fn parse_octal(text: &[u8]) -> Option<i64> {
    if text.is_empty() {
        return Some(0);
    }
    let rest = trim_c_space(text);
    let (negative, digits) = match rest.split_first() {
        Some((b'-', tail)) => (true, tail),
        Some((b'+', tail)) => (false, tail),
        _ => (false, rest),
    };
    if digits.is_empty() {
        return None;
    }
    let mut value: i64 = 0;
    for &d in digits {
        if !(b'0'..=b'7').contains(&d) {
            return None;
        }
        value = value.checked_mul(8)?.checked_sub(i64::from(d - b'0'))?;
    }
    if negative {
        Some(value)
    } else {
        value.checked_neg()
    }
}

/// Skips the bytes C's `isspace` accepts in the "C" locale.
fn trim_c_space(text: &[u8]) -> &[u8] {
    let start = text
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r'))
        .unwrap_or(text.len());
    &text[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_units_follow_redis() {
        let cases: &[(&str, u64)] = &[
            ("0", 0),
            ("123", 123),
            ("1b", 1),
            ("1k", 1_000),
            ("1kb", 1_024),
            ("1K", 1_000),
            ("1KB", 1_024),
            ("1kB", 1_024),
            ("1m", 1_000_000),
            ("1mb", 1_048_576),
            ("2MB", 2_097_152),
            ("1g", 1_000_000_000),
            ("1gb", 1_073_741_824),
            ("512mb", 536_870_912),
            ("", 0),
            ("kb", 0),
            ("007k", 7_000),
        ];
        for &(text, want) in cases {
            assert_eq!(parse_memory(text.as_bytes()), Some(want), "{text:?}");
        }
    }

    #[test]
    fn memory_rejects_what_redis_rejects() {
        for text in [
            "-1", "-1kb", "1tb", "1 kb", " 1", "+1", "1.5mb", "1kbb", "abc", "1kib", "0x10",
        ] {
            assert_eq!(parse_memory(text.as_bytes()), None, "{text:?}");
        }
        let long = "1".repeat(128);
        assert_eq!(parse_memory(long.as_bytes()), None);
    }

    #[test]
    fn memory_overflow_saturates() {
        assert_eq!(parse_memory(b"99999999999999999999"), Some(u64::MAX));
        assert_eq!(parse_memory(b"99999999999gb"), Some(u64::MAX));
        assert_eq!(parse_memory(b"18446744073709551615"), Some(u64::MAX));
    }

    #[test]
    fn strict_integers() {
        let ok: &[(&str, i64)] = &[
            ("0", 0),
            ("7", 7),
            ("-7", -7),
            ("6379", 6379),
            ("9223372036854775807", i64::MAX),
            ("-9223372036854775808", i64::MIN),
        ];
        for &(text, want) in ok {
            assert_eq!(parse_int(text.as_bytes()), Some(want), "{text:?}");
        }
        for text in [
            "",
            "-",
            "-0",
            "05",
            "+5",
            " 5",
            "5 ",
            "1e3",
            "abc",
            "9223372036854775808",
            "1.0",
            "-9223372036854775809",
            "00",
        ] {
            assert_eq!(parse_int(text.as_bytes()), None, "{text:?}");
        }
    }

    #[test]
    fn octal_permissions() {
        let ok: &[(&str, i64)] = &[
            ("700", 0o700),
            ("0700", 0o700),
            ("777", 0o777),
            ("0", 0),
            ("", 0),
            ("  755", 0o755),
            ("+644", 0o644),
            ("-1", -1),
        ];
        for &(text, want) in ok {
            assert_eq!(parse_octal(text.as_bytes()), Some(want), "{text:?}");
        }
        for text in [
            "8",
            "0x1ff",
            "700 ",
            " ",
            "+",
            "-",
            "7a",
            "0o700",
            "99999999999999999999999",
        ] {
            assert_eq!(parse_octal(text.as_bytes()), None, "{text:?}");
        }
    }
}
