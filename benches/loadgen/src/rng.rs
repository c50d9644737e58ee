//! The load generator's random numbers: a tiny, seedable, allocation-free generator.
//!
//! Owns the choice of key and of GET versus SET for every request. Statistical quality
//! only has to be good enough that keys look uniform to a hash table; what matters more
//! is that it is cheap (a handful of instructions per request) and reproducible from
//! `--seed`, so two runs against two servers send the same sequence of requests.

/// SplitMix64: a 64-bit state advanced by a constant and scrambled on output.
///
/// Chosen because it is tiny, has no bad seeds (zero included) and passes the usual
/// statistical batteries, which is more than a benchmark needs.
#[derive(Debug, Clone)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// A generator for stream `stream` of seed `seed`; each connection gets its own stream
    /// so connections do not send the same key sequence in lockstep.
    pub fn new(seed: u64, stream: u64) -> Self {
        // Mix the stream index through one round first so that neighbouring streams
        // start from unrelated states rather than from states one increment apart.
        let mut mixer = Rng {
            state: seed ^ stream.wrapping_mul(0xA076_1D64_78BD_642F),
        };
        Rng {
            state: mixer.next_u64(),
        }
    }

    /// The next 64 random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..bound` (`bound` > 0), by multiply-and-shift: no division, and the
    /// bias is below 2^-40 for any keyspace this tool accepts (at most 10^12).
    #[inline]
    pub fn below(&mut self, bound: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(bound)) >> 64) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_and_stream_repeat() {
        let mut a = Rng::new(7, 3);
        let mut b = Rng::new(7, 3);
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
    }

    #[test]
    fn streams_differ() {
        let mut a = Rng::new(7, 0);
        let mut b = Rng::new(7, 1);
        let same = (0..100).filter(|_| a.next_u64() == b.next_u64()).count();
        assert_eq!(same, 0);
    }

    #[test]
    fn below_stays_in_range_and_covers_it() {
        let mut r = Rng::new(1, 0);
        let mut seen = [0u32; 10];
        for _ in 0..10_000 {
            let v = r.below(10);
            assert!(v < 10);
            seen[v as usize] += 1;
        }
        // Uniform: each bucket near 1000; a loose bound that a broken mapping would fail.
        assert!(seen.iter().all(|&n| (800..1200).contains(&n)), "{seen:?}");
        assert_eq!(r.below(1), 0);
    }
}
