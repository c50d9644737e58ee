//! Reading command arguments the way redis-server reads them.
//!
//! Integers follow `string2ll` (see `cachegate_protocols::number`). Option keywords are
//! compared as C strings, case-insensitively: redis-server reads them with `strcasecmp`, so a
//! keyword followed by a NUL byte and garbage (`"NX\0zz"`) still matches — kept for
//! compatibility.

use cachegate_protocols::number::parse_i64;

use super::CommandError;

/// The argument as a C string: the bytes before its first NUL.
pub fn cstr(arg: &[u8]) -> &[u8] {
    match memchr::memchr(0, arg) {
        Some(n) => &arg[..n],
        None => arg,
    }
}

/// True if `arg` is the keyword `word` (ASCII, any case), C-string semantics.
pub fn is(arg: &[u8], word: &str) -> bool {
    cstr(arg).eq_ignore_ascii_case(word.as_bytes())
}

/// A 64-bit integer argument (`getLongLongFromObjectOrReply`).
pub fn int(arg: &[u8]) -> Result<i64, CommandError> {
    parse_i64(arg).ok_or(CommandError::NotInteger)
}

/// An integer argument within `min..=max` (`getRangeLongFromObjectOrReply` without a custom
/// message).
pub fn int_range(arg: &[u8], min: i64, max: i64) -> Result<i64, CommandError> {
    let v = int(arg)?;
    if v < min || v > max {
        return Err(CommandError::Owned(format!(
            "ERR value is out of range, value must between {min} and {max}"
        )));
    }
    Ok(v)
}

/// A 32-bit integer argument (`getIntFromObjectOrReply` without a custom message): a
/// non-integer is `NotInteger`, but an integer outside the `int` range gets redis-server's
/// own range message.
pub fn int32(arg: &[u8]) -> Result<i32, CommandError> {
    int(arg).and_then(|v| {
        i32::try_from(v).map_err(|_| {
            CommandError::Static(
                "ERR value is out of range, value must between -2147483648 and 2147483647",
            )
        })
    })
}

/// A 32-bit integer argument with a custom error message (code included).
pub fn int32_or(arg: &[u8], msg: &'static str) -> Result<i32, CommandError> {
    parse_i64(arg)
        .and_then(|v| i32::try_from(v).ok())
        .ok_or(CommandError::Static(msg))
}

/// A SCAN cursor: `strtoul` in base 10, no leading blank, nothing after the digits.
pub fn cursor(arg: &[u8]) -> Result<u64, CommandError> {
    const INVALID: CommandError = CommandError::Static("ERR invalid cursor");
    // strtoul reads a C string: it stops at a NUL byte, which then counts as the end.
    let s = cstr(arg);
    let (negative, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() {
        // strtoul parses nothing and leaves the end pointer at the start: an empty string
        // is cursor 0, a lone sign is invalid.
        return if s.is_empty() { Ok(0) } else { Err(INVALID) };
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return Err(INVALID);
        }
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(c - b'0')))
            .ok_or(INVALID)?;
    }
    Ok(if negative { v.wrapping_neg() } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_c_strings() {
        assert!(is(b"nx", "NX"));
        assert!(is(b"Nx\0junk", "NX"));
        assert!(!is(b"nxx", "NX"));
    }

    #[test]
    fn cursors() {
        assert_eq!(cursor(b"0"), Ok(0));
        assert_eq!(cursor(b""), Ok(0));
        assert_eq!(cursor(b"+17"), Ok(17));
        assert_eq!(cursor(b"-1"), Ok(u64::MAX));
        assert!(cursor(b"18446744073709551616").is_err());
        assert!(cursor(b" 1").is_err());
        assert!(cursor(b"1x").is_err());
        assert!(cursor(b"-").is_err());
    }

    #[test]
    fn int32_range() {
        assert_eq!(int32(b"2147483647"), Ok(i32::MAX));
        assert_eq!(int32(b"-2147483648"), Ok(i32::MIN));
        assert!(matches!(
            int32(b"2147483648"),
            Err(CommandError::Static(m)) if m.contains("out of range, value must between")
        ));
        assert_eq!(int32(b"9223372036854775808"), Err(CommandError::NotInteger));
    }
}
