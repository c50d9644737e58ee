//! Strings read as arrays of bits (the data side of redis-server's bitops.c).
//!
//! Bit 0 is the most significant bit of byte 0, as in every Redis bit command. This module
//! owns the arithmetic on byte slices: counting set bits and finding the first 0 or 1 a
//! word at a time, reading and writing integers of 1 to 64 bits at any bit offset, and
//! BITFIELD's overflow rules. Command syntax, ranges and the keyspace are the commands'
//! (`command::bitmap`, `command::bitfield`).
//!
//! Nothing here indexes out of bounds: readers treat bytes past the end of a slice as zero
//! (a bitmap is zero-padded to infinity), writers skip them.

/// Reads 8 bytes of `c` (at least 8 long) as a word, in memory order.
fn word_ne(c: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&c[..8]);
    u64::from_ne_bytes(a)
}

/// Reads 8 bytes of `c` as a word whose most significant byte is the first.
fn word_be(c: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&c[..8]);
    u64::from_be_bytes(a)
}

/// Number of bits set in `bytes`, four words at a time.
pub fn popcount(bytes: &[u8]) -> u64 {
    let mut blocks = bytes.chunks_exact(32);
    let mut n = 0u64;
    for b in &mut blocks {
        n += u64::from(
            word_ne(b).count_ones()
                + word_ne(&b[8..]).count_ones()
                + word_ne(&b[16..]).count_ones()
                + word_ne(&b[24..]).count_ones(),
        );
    }
    let mut words = blocks.remainder().chunks_exact(8);
    for w in &mut words {
        n += u64::from(word_ne(w).count_ones());
    }
    n + words
        .remainder()
        .iter()
        .map(|b| u64::from(b.count_ones()))
        .sum::<u64>()
}

/// Position of the first bit equal to `bit` in `bytes`, skipping whole words that cannot
/// hold it. Looking for a 1 in a string without one gives -1; looking for a 0 in a string
/// of 1s gives the first bit past the end (`8 * len`), since a bitmap is zero-padded.
pub fn first_bit(bytes: &[u8], bit: bool) -> i64 {
    let skip = if bit { 0 } else { u64::MAX };
    let mut words = bytes.chunks_exact(8);
    let mut pos: i64 = 0;
    for w in &mut words {
        let v = word_be(w);
        if v != skip {
            let v = if bit { v } else { !v };
            return pos + i64::from(v.leading_zeros());
        }
        pos += 64;
    }
    for &b in words.remainder() {
        let v = if bit { b } else { !b };
        if v != 0 {
            return pos + i64::from(v.leading_zeros());
        }
        pos += 8;
    }
    if bit {
        -1
    } else {
        pos
    }
}

/// The bit at `offset` (0 past the end).
pub fn get_bit(bytes: &[u8], offset: u64) -> bool {
    let byte = offset >> 3;
    usize::try_from(byte)
        .ok()
        .and_then(|i| bytes.get(i))
        .is_some_and(|b| b & (0x80 >> (offset & 7)) != 0)
}

/// Sets the bit at `offset` (ignored past the end).
pub fn set_bit(bytes: &mut [u8], offset: u64, on: bool) {
    let Some(b) = usize::try_from(offset >> 3)
        .ok()
        .and_then(|i| bytes.get_mut(i))
    else {
        return;
    };
    let mask = 0x80 >> (offset & 7);
    if on {
        *b |= mask;
    } else {
        *b &= !mask;
    }
}

/// The `bits`-bit unsigned integer (1..=64) at bit `offset`, most significant bit first.
pub fn get_unsigned(bytes: &[u8], offset: u64, bits: u32) -> u64 {
    (0..u64::from(bits)).fold(0u64, |v, j| {
        (v << 1) | u64::from(get_bit(bytes, offset + j))
    })
}

/// The `bits`-bit two's complement integer (1..=64) at bit `offset`.
pub fn get_signed(bytes: &[u8], offset: u64, bits: u32) -> i64 {
    let u = get_unsigned(bytes, offset, bits);
    if bits < 64 && u & (1 << (bits - 1)) != 0 {
        // Negative: extend the sign bit into the high bits.
        (u | (u64::MAX << bits)) as i64
    } else {
        u as i64
    }
}

/// Writes the low `bits` bits (1..=64) of `value` at bit `offset`.
pub fn set_unsigned(bytes: &mut [u8], offset: u64, bits: u32, value: u64) {
    for j in 0..u64::from(bits) {
        let on = value & (1 << (u64::from(bits) - 1 - j)) != 0;
        set_bit(bytes, offset + j, on);
    }
}

/// What BITFIELD does when a write does not fit its type (`OVERFLOW WRAP|SAT|FAIL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overflow {
    /// Keep the low bits (modular arithmetic); the default.
    Wrap,
    /// Clamp to the type's minimum or maximum.
    Sat,
    /// Do not write; the reply for the operation is null.
    Fail,
}

/// The value to store when `value + incr` may not fit an unsigned `bits`-bit field (1..=63):
/// `None` if it fits (the caller stores the plain sum), `Some(v)` if it overflows, where `v`
/// is the wrapped or saturated value (meaningless for [`Overflow::Fail`]). `value` may
/// itself be out of range (BITFIELD SET checks its argument with `incr = 0`).
pub fn unsigned_overflow(value: u64, incr: i64, bits: u32, mode: Overflow) -> Option<u64> {
    let max = if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    // Room left above and below, as signed amounts (value <= max < 2^63 when they are used).
    let room_up = max.wrapping_sub(value) as i64;
    let room_down = value.wrapping_neg() as i64;
    let wrapped = || {
        let sum = value.wrapping_add(incr as u64);
        if bits >= 64 {
            sum
        } else {
            sum & !(u64::MAX << bits)
        }
    };
    if value > max || (incr > 0 && incr > room_up) {
        Some(match mode {
            Overflow::Wrap => wrapped(),
            _ => max,
        })
    } else if incr < 0 && incr < room_down {
        Some(match mode {
            Overflow::Wrap => wrapped(),
            _ => 0,
        })
    } else {
        None
    }
}

/// [`unsigned_overflow`] for a signed `bits`-bit field (1..=64).
pub fn signed_overflow(value: i64, incr: i64, bits: u32, mode: Overflow) -> Option<i64> {
    let max = if bits >= 64 {
        i64::MAX
    } else {
        (1i64 << (bits - 1)) - 1
    };
    let min = -max - 1;
    // These may wrap for 64-bit fields; the conditions below only use them where they do not.
    let room_up = (max as u64).wrapping_sub(value as u64) as i64;
    let room_down = min.wrapping_sub(value);
    let wide = bits >= 64;
    let wrapped = || {
        let mut c = (value as u64).wrapping_add(incr as u64);
        if !wide {
            let high = u64::MAX << bits;
            if c & (1 << (bits - 1)) != 0 {
                c |= high;
            } else {
                c &= !high;
            }
        }
        c as i64
    };
    if value > max || (!wide && incr > room_up) || (value >= 0 && incr > 0 && incr > room_up) {
        Some(match mode {
            Overflow::Wrap => wrapped(),
            _ => max,
        })
    } else if value < min
        || (!wide && incr < room_down)
        || (value < 0 && incr < 0 && incr < room_down)
    {
        Some(match mode {
            Overflow::Wrap => wrapped(),
            _ => min,
        })
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn naive_popcount(b: &[u8]) -> u64 {
        (0..b.len() as u64 * 8).filter(|&i| get_bit(b, i)).count() as u64
    }

    fn naive_first(b: &[u8], bit: bool) -> i64 {
        match (0..b.len() as u64 * 8).find(|&i| get_bit(b, i) == bit) {
            Some(i) => i as i64,
            None if bit => -1,
            None => b.len() as i64 * 8,
        }
    }

    #[test]
    fn known_values() {
        assert_eq!(popcount(b"foobar"), 26);
        assert_eq!(first_bit(&[0xff, 0xf0, 0x00], false), 12);
        assert_eq!(first_bit(&[0x00, 0x00, 0x01], true), 23);
        assert_eq!(first_bit(&[0xff; 3], false), 24);
        assert_eq!(first_bit(&[0; 17], true), -1);
        assert_eq!(first_bit(&[], false), 0);
        assert_eq!(get_unsigned(&[0b1010_0000], 0, 3), 0b101);
        assert_eq!(get_signed(&[0b1010_0000], 0, 3), -3);
        assert_eq!(get_signed(&[0xff; 8], 0, 64), -1);
        assert_eq!(
            get_unsigned(&[0xff], 4, 8),
            0xf0,
            "past the end reads zeros"
        );
        let mut b = [0u8; 2];
        set_unsigned(&mut b, 4, 8, 0xab);
        assert_eq!(b, [0x0a, 0xb0]);
        set_unsigned(&mut b, 12, 8, 0xff);
        assert_eq!(b, [0x0a, 0xbf], "past the end is not written");
    }

    #[test]
    fn overflow_rules() {
        use Overflow::*;
        assert_eq!(unsigned_overflow(250, 10, 8, Wrap), Some(4));
        assert_eq!(unsigned_overflow(250, 10, 8, Sat), Some(255));
        assert_eq!(unsigned_overflow(5, -10, 8, Sat), Some(0));
        assert_eq!(unsigned_overflow(5, -10, 8, Wrap), Some(251));
        assert_eq!(unsigned_overflow(5, -5, 8, Wrap), None);
        assert_eq!(unsigned_overflow(300, 0, 8, Wrap), Some(44));
        assert_eq!(
            unsigned_overflow(u64::MAX, 0, 63, Sat),
            Some(i64::MAX as u64)
        );
        assert_eq!(signed_overflow(120, 10, 8, Wrap), Some(-126));
        assert_eq!(signed_overflow(120, 10, 8, Sat), Some(127));
        assert_eq!(signed_overflow(-120, -10, 8, Sat), Some(-128));
        assert_eq!(signed_overflow(-120, -10, 8, Wrap), Some(126));
        assert_eq!(signed_overflow(200, 0, 8, Wrap), Some(-56));
        assert_eq!(signed_overflow(i64::MAX, 1, 64, Wrap), Some(i64::MIN));
        assert_eq!(signed_overflow(i64::MAX, 1, 64, Sat), Some(i64::MAX));
        assert_eq!(signed_overflow(i64::MIN, -1, 64, Sat), Some(i64::MIN));
        assert_eq!(signed_overflow(i64::MIN, i64::MAX, 64, Sat), None);
        assert_eq!(signed_overflow(-1, 1, 1, Wrap), None);
        assert_eq!(signed_overflow(0, 1, 1, Wrap), Some(-1));
    }

    proptest! {
        #[test]
        fn popcount_and_first_bit_match_a_bit_by_bit_model(
            b in proptest::collection::vec(prop_oneof![Just(0u8), Just(0xff), any::<u8>()], 0..100),
            from in 0usize..10,
        ) {
            let b = &b[from.min(b.len())..];
            prop_assert_eq!(popcount(b), naive_popcount(b));
            prop_assert_eq!(first_bit(b, true), naive_first(b, true));
            prop_assert_eq!(first_bit(b, false), naive_first(b, false));
        }

        #[test]
        fn fields_round_trip(
            mut b in proptest::collection::vec(any::<u8>(), 0..12),
            offset in 0u64..100,
            bits in 1u32..=64,
            value in any::<u64>(),
        ) {
            let before = b.clone();
            set_unsigned(&mut b, offset, bits, value);
            let in_range = offset + u64::from(bits) <= b.len() as u64 * 8;
            let mask = if bits == 64 { u64::MAX } else { (1 << bits) - 1 };
            if in_range {
                prop_assert_eq!(get_unsigned(&b, offset, bits), value & mask);
                let s = get_signed(&b, offset, bits);
                prop_assert_eq!(s as u64 & mask, value & mask);
            }
            // Bits outside the field are untouched.
            for i in 0..b.len() as u64 * 8 {
                if i < offset || i >= offset + u64::from(bits) {
                    prop_assert_eq!(get_bit(&b, i), get_bit(&before, i));
                }
            }
        }

        #[test]
        fn overflow_matches_wide_arithmetic(value in any::<i64>(), incr in any::<i64>(), bits in 1u32..=64, sat in any::<bool>()) {
            let mode = if sat { Overflow::Sat } else { Overflow::Wrap };
            // Signed: the exact sum in i128 against the field's range.
            let (min, max) = if bits == 64 { (i64::MIN as i128, i64::MAX as i128) } else { (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1) };
            let v = if bits == 64 { value } else { value.clamp(min as i64, max as i64) };
            let sum = v as i128 + incr as i128;
            let got = signed_overflow(v, incr, bits, mode);
            if (min..=max).contains(&sum) {
                prop_assert_eq!(got, None);
            } else if sat {
                prop_assert_eq!(got, Some(if sum > max { max as i64 } else { min as i64 }));
            } else {
                let m = 1i128 << bits;
                let w = (sum - min).rem_euclid(m) + min;
                prop_assert_eq!(got, Some(w as i64));
            }
            // Unsigned (up to 63 bits).
            let ubits = bits.min(63);
            let umax = (1u64 << ubits) - 1;
            let uv = (value as u64) & umax;
            let usum = uv as i128 + incr as i128;
            let ugot = unsigned_overflow(uv, incr, ubits, mode);
            if (0..=umax as i128).contains(&usum) {
                prop_assert_eq!(ugot, None);
            } else if sat {
                prop_assert_eq!(ugot, Some(if usum > 0 { umax } else { 0 }));
            } else {
                prop_assert_eq!(ugot, Some(usum.rem_euclid(1i128 << ubits) as u64));
            }
        }
    }
}
