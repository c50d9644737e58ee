//! memcached's expiration times, made absolute.
//!
//! An exptime on the wire (`set`, `touch`, `gat`, `flush_all`) means, per `doc/protocol.txt`
//! ("Expiration times") and `realtime()` in memcached.c:
//!
//! * `0` — never expires;
//! * `1 ..= 2592000` (30 days) — that many seconds from now;
//! * above 30 days — an absolute Unix time in seconds (in the past means already expired);
//! * negative — already expired (memcached maps it to a time in 1970).
//!
//! The store keeps absolute Unix milliseconds, so the conversion happens once, here, against
//! the store's clock. memcached's own clock ticks in whole seconds; cachegate keeps the
//! milliseconds, so an item lives at least its TTL rather than up to a second less.

/// Largest exptime read as a relative number of seconds: 30 days.
pub const MAX_RELATIVE_SECS: i64 = 60 * 60 * 24 * 30;

/// The absolute time given for already-expired items: the Unix epoch.
pub const EXPIRED: i64 = 0;

/// Converts a wire exptime to an absolute Unix time in milliseconds, or `None` for "never
/// expires". `now_ms` is the store's current time.
pub fn to_unix_ms(exptime: i64, now_ms: i64) -> Option<i64> {
    if exptime == 0 {
        None
    } else if exptime < 0 {
        Some(EXPIRED)
    } else if exptime <= MAX_RELATIVE_SECS {
        Some(now_ms.saturating_add(exptime * 1000))
    } else {
        Some(exptime.saturating_mul(1000))
    }
}

/// When a `flush_all [delay]` takes effect, in Unix milliseconds: now for a delay of zero or
/// less (memcached treats those as "no delay"), else the delay read as an exptime.
pub fn flush_at_ms(delay: i64, now_ms: i64) -> i64 {
    if delay <= 0 {
        now_ms
    } else {
        to_unix_ms(delay, now_ms).unwrap_or(now_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000_123;

    #[test]
    fn the_four_cases() {
        assert_eq!(to_unix_ms(0, NOW), None);
        assert_eq!(to_unix_ms(-1, NOW), Some(EXPIRED));
        assert_eq!(to_unix_ms(i64::from(i32::MIN), NOW), Some(EXPIRED));
        assert_eq!(to_unix_ms(10, NOW), Some(NOW + 10_000));
        assert_eq!(
            to_unix_ms(MAX_RELATIVE_SECS, NOW),
            Some(NOW + MAX_RELATIVE_SECS * 1000)
        );
        // One second past 30 days is an absolute time in 1970: already expired.
        assert_eq!(
            to_unix_ms(MAX_RELATIVE_SECS + 1, NOW),
            Some((MAX_RELATIVE_SECS + 1) * 1000)
        );
        assert_eq!(to_unix_ms(1_800_000_000, NOW), Some(1_800_000_000_000));
    }

    #[test]
    fn flush_delays() {
        assert_eq!(flush_at_ms(0, NOW), NOW);
        assert_eq!(flush_at_ms(-5, NOW), NOW);
        assert_eq!(flush_at_ms(10, NOW), NOW + 10_000);
        assert_eq!(flush_at_ms(1_800_000_000, NOW), 1_800_000_000_000);
    }
}
