//! BITFIELD and BITFIELD_RO (redis-server's `bitfieldGeneric`): integers of 1 to 64 bits
//! at any bit offset of a string. Each handler's doc line is its syntax.
//!
//! The whole argument list is parsed before anything runs, so a bad operation anywhere
//! fails the command with nothing changed. A command with a SET or INCRBY grows the string
//! once to its farthest write, then runs the operations in order on it; one with only GETs
//! reads, and leaves a missing key missing. `OVERFLOW` applies to the operations after it.
//! The number of fields that changed counts as dirty; BITFIELD replays as sent.

use cachegate_protocols::resp::request::Args;
use cachegate_protocols::resp::ReplyBuf;

use super::args::{self, cstr, is};
use super::bitmap::{bit_offset, string_for_bits};
use super::{CmdResult, CommandError, Ctx};
use crate::keyspace::entry::ValueType;
use crate::types::bits::{self, Overflow};

/// What one operation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Get,
    Set,
    IncrBy,
}

/// One parsed operation.
#[derive(Debug, Clone, Copy)]
struct FieldOp {
    action: Action,
    /// Bit offset of the field.
    offset: u64,
    /// SET's value or INCRBY's increment.
    value: i64,
    /// The OVERFLOW mode in force.
    overflow: Overflow,
    /// Width, 1..=64.
    bits: u32,
    signed: bool,
}

/// Reads a field type: `i1`..`i64` or `u1`..`u63`.
fn field_type(arg: &[u8]) -> Result<(bool, u32), CommandError> {
    const BAD_TYPE: CommandError = CommandError::Static(
        "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.",
    );
    let signed = match arg.first() {
        Some(b'i') => true,
        Some(b'u') => false,
        _ => return Err(BAD_TYPE),
    };
    // The width is read as a C string, up to a NUL byte.
    let bits = args::int(cstr(&arg[1..])).map_err(|_| BAD_TYPE)?;
    match bits {
        1..=63 => Ok((signed, bits as u32)),
        64 if signed => Ok((signed, 64)),
        _ => Err(BAD_TYPE),
    }
}

/// Parses the operations after the key; also returns whether they only read, and the last
/// bit a write reaches.
fn parse(ctx: &Ctx<'_>, args: &Args<'_>) -> Result<(Vec<FieldOp>, bool, u64), CommandError> {
    let mut ops = Vec::new();
    let mut overflow = Overflow::Wrap;
    let (mut readonly, mut highest) = (true, 0u64);
    let mut j = 2;
    while j < args.len() {
        let rest = args.len() - j - 1;
        let sub = args.get(j);
        let action = if is(sub, "GET") && rest >= 2 {
            Action::Get
        } else if is(sub, "SET") && rest >= 3 {
            Action::Set
        } else if is(sub, "INCRBY") && rest >= 3 {
            Action::IncrBy
        } else if is(sub, "OVERFLOW") && rest >= 1 {
            let mode = args.get(j + 1);
            overflow = if is(mode, "WRAP") {
                Overflow::Wrap
            } else if is(mode, "SAT") {
                Overflow::Sat
            } else if is(mode, "FAIL") {
                Overflow::Fail
            } else {
                return Err(CommandError::Static("ERR Invalid OVERFLOW type specified"));
            };
            j += 2;
            continue;
        } else {
            return Err(CommandError::Syntax);
        };
        let (signed, bits) = field_type(args.get(j + 1))?;
        let offset = bit_offset(ctx, args.get(j + 2), Some(bits))?;
        let mut value = 0;
        if action != Action::Get {
            readonly = false;
            highest = highest.max(offset + u64::from(bits) - 1);
            value = args::int(args.get(j + 3))?;
        }
        ops.push(FieldOp {
            action,
            offset,
            value,
            overflow,
            bits,
            signed,
        });
        j += if action == Action::Get { 3 } else { 4 };
    }
    Ok((ops, readonly, highest))
}

/// The up-to-9 bytes holding a field, zero-padded past the end of `s`, and how many of them
/// the field covers.
fn window(s: &[u8], op: &FieldOp) -> ([u8; 9], usize) {
    let byte = (op.offset >> 3) as usize;
    let span = ((op.offset & 7) as usize + op.bits as usize).div_ceil(8);
    let mut w = [0u8; 9];
    if byte < s.len() {
        let n = (s.len() - byte).min(9);
        w[..n].copy_from_slice(&s[byte..byte + n]);
    }
    (w, span)
}

/// Reads field `op` from its window.
fn read(w: &[u8], op: &FieldOp) -> i64 {
    let at = op.offset & 7;
    if op.signed {
        bits::get_signed(w, at, op.bits)
    } else {
        bits::get_unsigned(w, at, op.bits) as i64
    }
}

/// Runs a SET or INCRBY on window `w`: the reply (`None` for an overflow under FAIL, which
/// writes nothing) and whether the field's value changed.
fn write(w: &mut [u8], op: &FieldOp) -> (Option<i64>, bool) {
    let at = op.offset & 7;
    let fail = op.overflow == Overflow::Fail;
    let (old, new, reply) = if op.signed {
        let old = bits::get_signed(w, at, op.bits);
        let (new, reply, over) = match op.action {
            Action::IncrBy => match bits::signed_overflow(old, op.value, op.bits, op.overflow) {
                None => (old + op.value, old + op.value, false),
                Some(v) => (v, v, true),
            },
            _ => match bits::signed_overflow(op.value, 0, op.bits, op.overflow) {
                None => (op.value, old, false),
                Some(v) => (v, old, true),
            },
        };
        if over && fail {
            return (None, false);
        }
        (old as u64, new as u64, reply)
    } else {
        let old = bits::get_unsigned(w, at, op.bits);
        let (new, over) = match op.action {
            Action::IncrBy => match bits::unsigned_overflow(old, op.value, op.bits, op.overflow) {
                None => (old.wrapping_add(op.value as u64), false),
                Some(v) => (v, true),
            },
            _ => match bits::unsigned_overflow(op.value as u64, 0, op.bits, op.overflow) {
                None => (op.value as u64, false),
                Some(v) => (v, true),
            },
        };
        if over && fail {
            return (None, false);
        }
        let reply = if op.action == Action::IncrBy {
            new
        } else {
            old
        };
        (old, new, reply as i64)
    };
    bits::set_unsigned(w, at, op.bits, new);
    (Some(reply), old != new)
}

/// The body of both commands.
fn bitfield_generic(
    ctx: &mut Ctx<'_>,
    args: &Args<'_>,
    out: &mut ReplyBuf,
    read_only_command: bool,
) -> CmdResult {
    let key = args.get(1);
    let (ops, readonly, highest) = parse(ctx, args)?;
    if readonly {
        let slot = ctx.lookup_read(key);
        if let Some(slot) = slot {
            if ctx.db().get(slot).value_type() != ValueType::String {
                return Err(CommandError::WrongType);
            }
        }
        out.array(ops.len());
        for op in &ops {
            let s = match slot {
                Some(slot) => ctx.db().get(slot).value(),
                None => &[],
            };
            out.int(read(&window(s, op).0, op));
        }
        return Ok(());
    }
    if read_only_command {
        return Err(CommandError::Static(
            "ERR BITFIELD_RO only supports the GET subcommand",
        ));
    }
    let len = (highest >> 3) as usize + 1;
    if len > ctx.max_string_len() {
        return Err(CommandError::Static(
            "ERR string exceeds maximum allowed size (proto-max-bulk-len)",
        ));
    }
    let t = string_for_bits(ctx, key, len)?;
    out.array(ops.len());
    let mut changes = 0u64;
    for op in &ops {
        let (mut w, span) = window(ctx.db().get(t.slot).value(), op);
        if op.action == Action::Get {
            out.int(read(&w, op));
            continue;
        }
        match write(&mut w, op) {
            (None, _) => out.null(),
            (Some(reply), changed) => {
                ctx.db()
                    .write_in_place(t.slot, (op.offset >> 3) as usize, &w[..span]);
                out.int(reply);
                if t.changed || changed {
                    changes += 1;
                }
            }
        }
    }
    // A string created or grown counts even when every write failed (redis-server counts
    // only the writes, leaving such a key unreplicated).
    if t.changed {
        changes = changes.max(1);
    }
    if changes > 0 {
        ctx.dirty(changes);
        ctx.signal(key);
    }
    Ok(())
}

/// `BITFIELD key [GET type offset] [OVERFLOW WRAP|SAT|FAIL] [SET type offset value]
/// [INCRBY type offset increment] ...`
pub fn bitfield(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    bitfield_generic(ctx, args, out, false)
}

/// `BITFIELD_RO key [GET type offset ...]`
pub fn bitfield_ro(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    bitfield_generic(ctx, args, out, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(
        action: Action,
        offset: u64,
        bits: u32,
        signed: bool,
        value: i64,
        o: Overflow,
    ) -> FieldOp {
        FieldOp {
            action,
            offset,
            value,
            overflow: o,
            bits,
            signed,
        }
    }

    #[test]
    fn types() {
        assert_eq!(field_type(b"i64"), Ok((true, 64)));
        assert_eq!(field_type(b"u63"), Ok((false, 63)));
        assert_eq!(field_type(b"u8\0junk"), Ok((false, 8)));
        for bad in [&b"u64"[..], b"i65", b"i0", b"U8", b"", b"i", b"x8", b"u-1"] {
            assert!(field_type(bad).is_err(), "{bad:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn types_parse_any_bytes(arg in proptest::collection::vec(proptest::arbitrary::any::<u8>(), 0..6)) {
            if let Ok((signed, bits)) = field_type(&arg) {
                let widest = if signed { 64 } else { 63 };
                proptest::prop_assert!((1..=widest).contains(&bits));
                proptest::prop_assert_eq!(arg[0] == b'i', signed);
            }
        }

        #[test]
        fn fields_read_what_they_wrote(
            offset in 0u64..40, bits in 1u32..=64, signed: bool, value: i64, fill: u8,
        ) {
            let bits = if signed { bits } else { bits.min(63) };
            let mut w = [fill; 9];
            let set = op(Action::Set, offset & 7, bits, signed, value, Overflow::Wrap);
            let (reply, _) = write(&mut w, &set);
            proptest::prop_assert!(reply.is_some());
            // What reads back is the value wrapped to the field.
            let got = read(&w, &set);
            let shift = 64 - bits;
            let want = if signed { (value << shift) >> shift } else { ((value as u64) << shift >> shift) as i64 };
            proptest::prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn writes_follow_the_overflow_mode() {
        let mut w = [0u8; 9];
        let set = op(Action::Set, 3, 8, false, 300, Overflow::Wrap);
        assert_eq!(write(&mut w, &set), (Some(0), true));
        assert_eq!(read(&w, &set), 44);
        let sat = op(Action::IncrBy, 3, 8, false, 1000, Overflow::Sat);
        assert_eq!(write(&mut w, &sat), (Some(255), true));
        let fail = op(Action::IncrBy, 3, 8, false, 1, Overflow::Fail);
        assert_eq!(write(&mut w, &fail), (None, false));
        assert_eq!(read(&w, &fail), 255);
        let neg = op(Action::IncrBy, 3, 8, true, -1, Overflow::Wrap);
        assert_eq!(write(&mut w, &neg), (Some(-2), true));
        let same = op(Action::Set, 3, 8, true, -2, Overflow::Wrap);
        assert_eq!(write(&mut w, &same), (Some(-2), false));
        let wide = op(Action::IncrBy, 0, 64, true, i64::MAX, Overflow::Sat);
        let mut z = [0u8; 9];
        assert_eq!(write(&mut z, &wide), (Some(i64::MAX), true));
        assert_eq!(write(&mut z, &wide), (Some(i64::MAX), false));
    }
}
