//! Per-command latency histograms for `INFO latencystats`.
//!
//! redis-server keeps an HDR histogram per command (1 µs to 1 s, two significant digits) and
//! reports p50, p99 and p99.9. This is a smaller log-linear histogram with the same range and
//! a comparable resolution: 16 linear sub-buckets per power of two, so a reported percentile
//! is within about 6% of the true value. It is allocated on a command's first call, as
//! redis-server's is, so commands never used cost nothing.

/// Smallest recorded value, in nanoseconds (shorter calls count as this).
const MIN_NS: u64 = 1 << 10;
/// Largest recorded value, in nanoseconds (about one second; longer calls count as this).
const MAX_NS: u64 = 1 << 30;
/// Linear sub-buckets per power of two.
const SUB_BITS: u32 = 4;
const SUBS: usize = 1 << SUB_BITS;
/// Powers of two between the minimum and the maximum.
const OCTAVES: usize = (MAX_NS.trailing_zeros() - MIN_NS.trailing_zeros()) as usize;

/// Counts of call durations, log-linear buckets from 1 µs to 1 s.
#[derive(Debug, Clone)]
pub struct LatencyHistogram {
    counts: [u64; OCTAVES * SUBS + 1],
    total: u64,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        LatencyHistogram {
            counts: [0; OCTAVES * SUBS + 1],
            total: 0,
        }
    }
}

/// The bucket of a value already clamped to `MIN_NS..=MAX_NS`.
fn bucket(ns: u64) -> usize {
    let octave = 63 - ns.leading_zeros(); // floor(log2)
    let sub = (ns >> (octave - SUB_BITS)) as usize & (SUBS - 1);
    (octave - MIN_NS.trailing_zeros()) as usize * SUBS + sub
}

/// The largest value that falls in bucket `i`.
fn bucket_top(i: usize) -> u64 {
    let octave = (i / SUBS) as u32 + MIN_NS.trailing_zeros();
    let sub = (i % SUBS) as u64;
    let width = 1u64 << (octave - SUB_BITS);
    (1u64 << octave) + (sub + 1) * width - 1
}

impl LatencyHistogram {
    /// Records one call that took `ns` nanoseconds.
    pub fn record(&mut self, ns: u64) {
        let i = bucket(ns.clamp(MIN_NS, MAX_NS));
        self.counts[i] += 1;
        self.total += 1;
    }

    /// Number of calls recorded.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// The duration (ns) that `percentile`% of the calls did not exceed: the top of the
    /// bucket holding that rank, as HDR histograms report it; 0 when nothing was recorded.
    pub fn value_at_percentile(&self, percentile: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let rank = ((percentile / 100.0) * self.total as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, &n) in self.counts.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return bucket_top(i).min(MAX_NS);
            }
        }
        MAX_NS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_the_range_in_order() {
        assert_eq!(bucket(MIN_NS), 0);
        assert_eq!(bucket(MAX_NS), OCTAVES * SUBS);
        for v in [1024u64, 1500, 2047, 2048, 10_000, 999_999, 1 << 29] {
            let i = bucket(v);
            assert!(bucket_top(i) >= v, "{v}");
            assert!(i == 0 || bucket_top(i - 1) < v, "{v}");
        }
    }

    #[test]
    fn percentiles() {
        let mut h = LatencyHistogram::default();
        assert_eq!(h.value_at_percentile(50.0), 0);
        for _ in 0..99 {
            h.record(2_000);
        }
        h.record(500_000);
        assert_eq!(h.count(), 100);
        let p50 = h.value_at_percentile(50.0);
        assert!((2_000..2_200).contains(&p50), "{p50}");
        assert_eq!(h.value_at_percentile(99.0), p50);
        let p999 = h.value_at_percentile(99.9);
        assert!((500_000..540_000).contains(&p999), "{p999}");
        // Values out of range are clamped.
        h.record(0);
        h.record(u64::MAX);
        assert_eq!(h.value_at_percentile(100.0), MAX_NS);
    }
}
