//! INCRBYFLOAT's arithmetic, and blocking commands' timeouts, done in C `long double` like
//! redis-server (see `csrc/long_double.c` for why).

use std::os::raw::{c_char, c_long};

extern "C" {
    fn cachegate_incrbyfloat(
        cur: *const c_char,
        cur_len: usize,
        incr: *const c_char,
        incr_len: usize,
        out: *mut c_char,
        out_cap: usize,
    ) -> c_long;
    fn cachegate_timeout_ms(s: *const c_char, len: usize, ms: *mut i64) -> std::os::raw::c_int;
}

/// A timeout in seconds (fractions allowed) as whole milliseconds rounded up, as
/// redis-server reads BLPOP's; `None` if it is not a float. Out-of-range values come back
/// as `i64::MIN` (negative), as they do in redis-server.
pub fn timeout_ms(arg: &[u8]) -> Option<i64> {
    let mut ms: i64 = 0;
    // SAFETY: the pointer/length pair describes `arg`; the C side reads exactly `len` bytes
    // and writes one i64 (`long long`) through `ms`.
    let ok = unsafe { cachegate_timeout_ms(arg.as_ptr() as *const c_char, arg.len(), &mut ms) };
    (ok == 1).then_some(ms)
}

/// Why an INCRBYFLOAT could not be computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FloatError {
    /// An operand is not a valid float.
    NotFloat,
    /// The result would be NaN or infinite.
    NanOrInfinity,
}

/// `cur + incr` printed as redis-server prints it (`%.17Lf` without trailing zeros); `cur` is
/// `None` for a missing key (0).
pub fn add(cur: Option<&[u8]>, incr: &[u8]) -> Result<Vec<u8>, FloatError> {
    let mut out = vec![0u8; 5 * 1024 + 64];
    let (cp, cl) = match cur {
        Some(c) => (c.as_ptr() as *const c_char, c.len()),
        None => (std::ptr::null(), 0),
    };
    // SAFETY: every pointer/length pair describes a live buffer; the C side writes at most
    // `out.len()` bytes into `out` and reads exactly the given lengths.
    let n = unsafe {
        cachegate_incrbyfloat(
            cp,
            cl,
            incr.as_ptr() as *const c_char,
            incr.len(),
            out.as_mut_ptr() as *mut c_char,
            out.len(),
        )
    };
    match n {
        -1 => Err(FloatError::NotFloat),
        n if n < 0 => Err(FloatError::NanOrInfinity),
        n => {
            out.truncate(n as usize);
            Ok(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(cur: Option<&str>, incr: &str) -> Result<String, FloatError> {
        add(cur.map(str::as_bytes), incr.as_bytes()).map(|v| String::from_utf8(v).unwrap())
    }

    #[test]
    fn matches_redis() {
        assert_eq!(s(Some("10.5"), "0.1").as_deref(), Ok("10.6"));
        assert_eq!(s(None, "5.0e3").as_deref(), Ok("5000"));
        assert_eq!(s(Some("3"), "-3").as_deref(), Ok("0"));
        assert_eq!(s(Some("0.1"), "-0.1").as_deref(), Ok("0"));
        assert_eq!(s(Some("abc"), "1"), Err(FloatError::NotFloat));
        assert_eq!(s(Some("1"), " 1"), Err(FloatError::NotFloat));
        assert_eq!(s(Some("1"), "nan"), Err(FloatError::NotFloat));
        assert_eq!(s(Some("1"), "inf"), Err(FloatError::NanOrInfinity));
        assert_eq!(s(Some(""), "1"), Err(FloatError::NotFloat));
    }

    #[test]
    fn timeouts() {
        assert_eq!(timeout_ms(b"0"), Some(0));
        assert_eq!(timeout_ms(b"0.01"), Some(10));
        assert_eq!(timeout_ms(b"0.0001"), Some(1));
        assert_eq!(timeout_ms(b"1.5"), Some(1500));
        assert_eq!(timeout_ms(b"-0.5"), Some(-500));
        assert_eq!(timeout_ms(b"inf"), Some(i64::MIN));
        assert_eq!(timeout_ms(b"abc"), None);
        assert_eq!(timeout_ms(b""), None);
        assert_eq!(timeout_ms(b" 1"), None);
    }
}
