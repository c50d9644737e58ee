//! Bitmap commands (redis-server's bitops.c): SETBIT, GETBIT, BITCOUNT, BITPOS and BITOP,
//! on plain strings. Each handler's doc line is its syntax. BITFIELD is in
//! [`super::bitfield`]; the bit arithmetic is [`crate::types::bits`].
//!
//! Bit writes change the stored string in place ([`Db::write_in_place`]) where it has
//! room, so setting a bit of a big bitmap costs O(1), not a copy. A string written this
//! way is `raw`, as redis-server's are (its `dbUnshareStringValue`). Every write counts
//! dirty and signals its key; each command replays as sent, so none gives another form.
//!
//! [`Db::write_in_place`]: crate::keyspace::Db::write_in_place

use cachegate_protocols::number::parse_i64;
use cachegate_protocols::resp::request::Args;
use cachegate_protocols::resp::ReplyBuf;

use super::args::{self, is};
use super::spec::StoreFn;
use super::string::growth_spare;
use super::{CmdResult, CommandError, Ctx};
use crate::keyspace::entry::{Encoding, Entry, NewString, ValueType, BIG_STRING};
use crate::keyspace::{Lookup, Slot, Ttl};
use crate::types::bits;

/// `getBitOffsetFromArgument`'s error.
const BAD_OFFSET: CommandError =
    CommandError::Static("ERR bit offset is not an integer or out of range");

/// The string value at `key` for reading (lookup for reading: hits, misses, LRU), or
/// `None` if missing; WRONGTYPE for another type.
pub(super) fn read_string<'c>(
    ctx: &'c mut Ctx<'_>,
    key: &[u8],
) -> Result<Option<&'c [u8]>, CommandError> {
    let Some(slot) = ctx.lookup_read(key) else {
        return Ok(None);
    };
    let v = ctx.db().get(slot);
    if v.value_type() != ValueType::String {
        return Err(CommandError::WrongType);
    }
    Ok(Some(v.value()))
}

/// A bit offset argument (redis-server's `getBitOffsetFromArgument`): a non-negative
/// integer whose byte is within `proto-max-bulk-len`. With `field_bits`, `#n` means field
/// number `n` of that width (BITFIELD).
pub(super) fn bit_offset(
    ctx: &Ctx<'_>,
    arg: &[u8],
    field_bits: Option<u32>,
) -> Result<u64, CommandError> {
    let (digits, times) = match (arg.first(), field_bits) {
        (Some(b'#'), Some(bits)) => (&arg[1..], i64::from(bits)),
        _ => (arg, 1),
    };
    // redis-server multiplies in 64 bits without checking; a wrapped product is caught by
    // the sign test like any negative offset.
    let v = parse_i64(digits).ok_or(BAD_OFFSET)?.wrapping_mul(times);
    if v < 0 || (v as u64 >> 3) >= ctx.max_string_len() as u64 {
        return Err(BAD_OFFSET);
    }
    Ok(v as u64)
}

/// A string made ready for bit writes (redis-server's `lookupStringForBitCommand`).
pub(super) struct BitTarget {
    /// Where the string is.
    pub slot: Slot,
    /// It was created, grown or re-encoded as raw: a change even if no bit changes.
    pub changed: bool,
}

/// The string at `key` for in-place writes (lookup for writing): created zero-filled if
/// missing, grown with zeros to at least `len` bytes, and made `raw`. WRONGTYPE for another
/// type.
pub(super) fn string_for_bits(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    len: usize,
) -> Result<BitTarget, CommandError> {
    let at = ctx.lookup_write(key);
    let lru = ctx.lru();
    let slot = match at {
        Lookup::Missing(hash) => {
            // A big bitmap is made as room to grow into, then zero-filled there: one
            // allocation of the final size, no zeroed copy.
            let small = len <= BIG_STRING;
            let zeros = if small { vec![0u8; len] } else { Vec::new() };
            let entry = Entry::new_string(NewString {
                key,
                value: &zeros,
                encoding: Encoding::Raw,
                expire: None,
                spare: if small { 0 } else { len },
                lru,
            });
            let slot = ctx.db().add_and_locate(hash, entry);
            if !small {
                ctx.db().write_in_place(slot, len - 1, &[0]);
            }
            return Ok(BitTarget {
                slot,
                changed: true,
            });
        }
        Lookup::Found(slot) => slot,
    };
    let v = ctx.db().get(slot);
    if v.value_type() != ValueType::String {
        return Err(CommandError::WrongType);
    }
    let (old_len, encoding) = (v.value().len(), v.encoding());
    if old_len < len {
        if !ctx.db().write_in_place(slot, len - 1, &[0]) {
            let mut grown = Vec::with_capacity(len);
            grown.extend_from_slice(ctx.db().get(slot).value());
            grown.resize(len, 0);
            let spare = growth_spare(len);
            ctx.db()
                .set_string_with_spare(key, at, &grown, Encoding::Raw, Ttl::Keep, lru, spare);
        }
    } else if encoding != Encoding::Raw {
        let same = ctx.db().get(slot).value().to_vec();
        ctx.db()
            .set_string(key, at, &same, Encoding::Raw, Ttl::Keep, lru);
    } else {
        return Ok(BitTarget {
            slot,
            changed: false,
        });
    }
    Ok(BitTarget {
        slot,
        changed: true,
    })
}

/// `SETBIT key offset value`
pub fn setbit(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    const BAD_BIT: CommandError = CommandError::Static("ERR bit is not an integer or out of range");
    let key = args.get(1);
    let offset = bit_offset(ctx, args.get(2), None)?;
    let on = match parse_i64(args.get(3)) {
        Some(0) => false,
        Some(1) => true,
        _ => return Err(BAD_BIT),
    };
    let byte = (offset >> 3) as usize;
    let t = string_for_bits(ctx, key, byte + 1)?;
    let old = ctx.db().get(t.slot).value()[byte];
    let mask = 0x80u8 >> (offset & 7);
    let was = old & mask != 0;
    if t.changed || was != on {
        let new = if on { old | mask } else { old & !mask };
        ctx.db().write_in_place(t.slot, byte, &[new]);
        ctx.modified(key);
    }
    out.int(i64::from(was));
    Ok(())
}

/// `GETBIT key offset`
pub fn getbit(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let offset = bit_offset(ctx, args.get(2), None)?;
    let bit = read_string(ctx, args.get(1))?.is_some_and(|s| bits::get_bit(s, offset));
    out.int(i64::from(bit));
    Ok(())
}

/// A BITCOUNT / BITPOS range resolved to whole bytes, with the bits of its first and last
/// byte that lie outside it (a `BIT` range).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ByteRange {
    start: usize,
    end: usize,
    /// Bits of the first byte before the range.
    first_mask: u8,
    /// Bits of the last byte after the range.
    last_mask: u8,
}

/// Resolves `start..=end` (bytes, or bits if `in_bits`) against a string of `len` bytes:
/// negative indexes count from the end, both are clamped into the string; `None` if the
/// range is empty.
fn resolve(start: i64, end: i64, len: usize, in_bits: bool) -> Option<ByteRange> {
    let total = if in_bits {
        (len as i64) << 3
    } else {
        len as i64
    };
    let from_end = |i: i64| if i < 0 { total + i } else { i };
    let start = from_end(start).max(0);
    let end = from_end(end).max(0).min(total - 1);
    if start > end {
        return None;
    }
    if !in_bits {
        return Some(ByteRange {
            start: start as usize,
            end: end as usize,
            first_mask: 0,
            last_mask: 0,
        });
    }
    Some(ByteRange {
        start: (start >> 3) as usize,
        end: (end >> 3) as usize,
        first_mask: !(0xffu8 >> (start & 7)),
        last_mask: (1u8 << (7 - (end & 7))).wrapping_sub(1),
    })
}

/// Reads a `BYTE|BIT` unit argument.
fn unit(arg: &[u8]) -> Result<bool, CommandError> {
    if is(arg, "BIT") {
        Ok(true)
    } else if is(arg, "BYTE") {
        Ok(false)
    } else {
        Err(CommandError::Syntax)
    }
}

/// `BITCOUNT key [start end [BYTE|BIT]]`
pub fn bitcount(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let Some(s) = read_string(ctx, args.get(1))? else {
        out.int(0);
        return Ok(());
    };
    let range = match args.len() {
        2 => resolve(0, -1, s.len(), false),
        4 | 5 => {
            let start = args::int(args.get(2))?;
            let end = args::int(args.get(3))?;
            // redis-server answers this before it reads the unit.
            if start < 0 && end < 0 && start > end {
                out.int(0);
                return Ok(());
            }
            let in_bits = args.len() == 5 && unit(args.get(4))?;
            resolve(start, end, s.len(), in_bits)
        }
        _ => return Err(CommandError::Syntax),
    };
    let count = range.map_or(0, |r| {
        bits::popcount(&s[r.start..=r.end])
            - u64::from((s[r.start] & r.first_mask).count_ones())
            - u64::from((s[r.end] & r.last_mask).count_ones())
    });
    out.int(count as i64);
    Ok(())
}

/// The first `bit` within range `r` of `s` (see BITPOS): -1 if none; looking for a 0
/// without an explicit end, the bit after the string counts (it is zero-padded).
fn bitpos_in(s: &[u8], r: ByteRange, bit: bool, end_given: bool) -> i64 {
    let mask = |b: u8, outside: u8| if bit { b & !outside } else { b | outside };
    // `pos` is relative to byte `start` of a stretch of `bytes` bytes.
    let finish = |pos: i64, start: usize, bytes: usize| {
        if pos == -1 || (end_given && !bit && pos == (bytes as i64) << 3) {
            -1
        } else {
            pos + ((start as i64) << 3)
        }
    };
    let (mut start, mut bytes) = (r.start, r.end - r.start + 1);
    if r.first_mask != 0 {
        let mut b = mask(s[start], r.first_mask);
        if bytes == 1 {
            b = mask(b, r.last_mask);
        }
        let pos = bits::first_bit(&[b], bit);
        if bytes == 1 || (pos != -1 && pos != 8) {
            return finish(pos, start, bytes);
        }
        start += 1;
        bytes -= 1;
    }
    let middle = bytes - usize::from(r.last_mask != 0);
    if middle > 0 {
        let pos = bits::first_bit(&s[start..start + middle], bit);
        if bytes == middle || (pos != -1 && pos != (middle as i64) << 3) {
            return finish(pos, start, bytes);
        }
        start += middle;
        bytes -= middle;
    }
    let b = mask(s[r.end], r.last_mask);
    finish(bits::first_bit(&[b], bit), start, bytes)
}

/// `BITPOS key bit [start [end [BYTE|BIT]]]`
pub fn bitpos(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let bit = match args::int(args.get(2))? {
        0 => false,
        1 => true,
        _ => return Err(CommandError::Static("ERR The bit argument must be 1 or 0.")),
    };
    // A missing key is an infinite run of zeros.
    let Some(s) = read_string(ctx, args.get(1))? else {
        out.int(if bit { -1 } else { 0 });
        return Ok(());
    };
    let (range, end_given) = match args.len() {
        3 => (resolve(0, -1, s.len(), false), false),
        4..=6 => {
            let start = args::int(args.get(3))?;
            let in_bits = args.len() == 6 && unit(args.get(5))?;
            if args.len() >= 5 {
                let end = args::int(args.get(4))?;
                (resolve(start, end, s.len(), in_bits), true)
            } else {
                (resolve(start, -1, s.len(), false), false)
            }
        }
        _ => return Err(CommandError::Syntax),
    };
    out.int(range.map_or(-1, |r| bitpos_in(s, r, bit, end_given)));
    Ok(())
}

/// A BITOP operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BitOp {
    And,
    Or,
    Xor,
    Not,
}

/// Folds `src` into `acc` (both zero-padded to the longer).
fn fold(acc: &mut Vec<u8>, src: &[u8], op: BitOp) {
    if src.len() > acc.len() {
        acc.resize(src.len(), 0);
    }
    let (head, tail) = acc.split_at_mut(src.len());
    match op {
        BitOp::And => {
            head.iter_mut().zip(src).for_each(|(a, b)| *a &= b);
            tail.fill(0);
        }
        BitOp::Or => head.iter_mut().zip(src).for_each(|(a, b)| *a |= b),
        BitOp::Xor => head.iter_mut().zip(src).for_each(|(a, b)| *a ^= b),
        BitOp::Not => {}
    }
}

/// `BITOP AND|OR|XOR|NOT destkey key [key ...]`
pub fn bitop(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let name = args.get(1);
    let op = [
        ("AND", BitOp::And),
        ("OR", BitOp::Or),
        ("XOR", BitOp::Xor),
        ("NOT", BitOp::Not),
    ]
    .iter()
    .find(|(w, _)| is(name, w))
    .map(|&(_, op)| op)
    .ok_or(CommandError::Syntax)?;
    if op == BitOp::Not && args.len() != 4 {
        return Err(CommandError::Static(
            "ERR BITOP NOT must be called with a single source key.",
        ));
    }
    let dest = args.get(2);
    // One pass: each source is folded in right after its lookup (a later lookup may move
    // its slot), missing keys as empty strings.
    let mut acc: Vec<u8> = Vec::new();
    for (j, key) in args.iter().skip(3).enumerate() {
        let src = read_string(ctx, key)?.unwrap_or(&[]);
        if j == 0 {
            acc.extend_from_slice(src);
            if op == BitOp::Not {
                acc.iter_mut().for_each(|b| *b = !*b);
            }
        } else {
            fold(&mut acc, src, op);
        }
    }
    if acc.is_empty() {
        // redis-server deletes whatever is there, expired or not.
        if ctx.db().delete(dest) {
            ctx.modified(dest);
        }
    } else {
        let at = ctx.lookup_write(dest);
        let lru = ctx.lru();
        ctx.db()
            .set_string(dest, at, &acc, Encoding::Raw, Ttl::Clear, lru);
        ctx.modified(dest);
    }
    out.int(acc.len() as i64);
    Ok(())
}

/// The bitmap commands this module implements, by name.
pub(crate) const HANDLERS: &[(&str, StoreFn)] = &[
    ("setbit", setbit),
    ("getbit", getbit),
    ("bitcount", bitcount),
    ("bitpos", bitpos),
    ("bitop", bitop),
    ("bitfield", super::bitfield::bitfield),
    ("bitfield_ro", super::bitfield::bitfield_ro),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_resolve_like_redis_server() {
        let r = |a, b, len, bits| resolve(a, b, len, bits);
        assert_eq!(r(0, -1, 0, false), None);
        assert_eq!(
            r(-100, 100, 3, false),
            Some(ByteRange {
                start: 0,
                end: 2,
                first_mask: 0,
                last_mask: 0
            })
        );
        assert_eq!(r(2, 1, 3, false), None);
        let b = r(3, 12, 3, true).unwrap();
        assert_eq!(
            (b.start, b.end, b.first_mask, b.last_mask),
            (0, 1, 0xe0, 0x07)
        );
        let b = r(8, 15, 3, true).unwrap();
        assert_eq!((b.start, b.end, b.first_mask, b.last_mask), (1, 1, 0, 0));
        assert_eq!(r(i64::MIN, i64::MAX, 5, true).map(|b| b.end), Some(4));
    }

    proptest::proptest! {
        #[test]
        fn bitcount_ranges_match_a_bit_by_bit_count(
            s in proptest::collection::vec(proptest::arbitrary::any::<u8>(), 1..40),
            a in -400i64..400, b in -400i64..400, in_bits: bool,
        ) {
            let total = if in_bits { s.len() as i64 * 8 } else { s.len() as i64 };
            let f = |i: i64| if i < 0 { total + i } else { i };
            let (lo, hi) = (f(a).max(0), f(b).max(0).min(total - 1));
            let want = if lo > hi {
                0
            } else {
                let (lo, hi) = if in_bits { (lo as u64, hi as u64) } else { (lo as u64 * 8, hi as u64 * 8 + 7) };
                (lo..=hi).filter(|&i| bits::get_bit(&s, i)).count() as u64
            };
            let got = resolve(a, b, s.len(), in_bits).map_or(0, |r| {
                bits::popcount(&s[r.start..=r.end])
                    - u64::from((s[r.start] & r.first_mask).count_ones())
                    - u64::from((s[r.end] & r.last_mask).count_ones())
            });
            proptest::prop_assert_eq!(got, want);
        }

        #[test]
        fn bitpos_matches_a_bit_by_bit_scan(
            s in proptest::collection::vec(proptest::prop_oneof![proptest::strategy::Just(0u8), proptest::strategy::Just(0xff), proptest::arbitrary::any::<u8>()], 1..40),
            a in -400i64..400, b in -400i64..400, in_bits: bool, bit: bool, end_given: bool,
        ) {
            // A BIT range always has an explicit end.
            let end_given = end_given || in_bits;
            let Some(r) = resolve(a, b, s.len(), in_bits) else { return Ok(()); };
            let (lo, hi) = if in_bits {
                let total = s.len() as i64 * 8;
                let f = |i: i64| if i < 0 { total + i } else { i };
                (f(a).max(0) as u64, f(b).max(0).min(total - 1) as u64)
            } else {
                (r.start as u64 * 8, r.end as u64 * 8 + 7)
            };
            let want = match (lo..=hi).find(|&i| bits::get_bit(&s, i) == bit) {
                Some(i) => i as i64,
                None if bit || end_given => -1,
                None => hi as i64 + 1,
            };
            proptest::prop_assert_eq!(bitpos_in(&s, r, bit, end_given), want);
        }
    }
}
