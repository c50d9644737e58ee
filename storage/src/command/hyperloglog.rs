//! HyperLogLog commands (redis-server's hyperloglog.c): PFADD, PFCOUNT, PFMERGE, PFDEBUG
//! and PFSELFTEST, on strings in redis-server's HLL representation ([`crate::types::hll`]).
//! Each handler's doc line is its syntax.
//!
//! A dense HLL (12 KiB, boxed) is updated in place, a few bytes per element; a sparse one
//! (at most `hll-sparse-max-bytes`, inline) is copied, updated and put back. PFCOUNT of one
//! key stores the cardinality it computed in the header, which is a write: it counts dirty,
//! signals the key and replays as sent, as in redis-server 7.0. A corrupt HLL fails the
//! command with what redis-server leaves behind: what PFADD changed before it met the
//! corruption, and the string made `raw`; those changes replay as a PFADD.

use cachegate_protocols::resp::request::Args;
use cachegate_protocols::resp::ReplyBuf;

use super::args::{cstr, is};
use super::spec::StoreFn;
use super::{CmdResult, CommandError, Ctx};
use crate::keyspace::entry::{Encoding, ValueType, View, BIG_STRING};
use crate::keyspace::{Lookup, Slot, Ttl};
use crate::types::hll::{self, sparse};

/// A string that is not an HLL.
const NOT_HLL: CommandError =
    CommandError::Static("WRONGTYPE Key is not a valid HyperLogLog string value.");
/// An HLL whose sparse opcodes are broken.
const CORRUPT: CommandError = CommandError::Static("INVALIDOBJ Corrupted HLL object detected");

/// The HLL encoding of a value: WRONGTYPE for another type, [`NOT_HLL`] for a string that
/// is not an HLL (an `int`-encoded string never is).
fn hll_of(v: &View<'_>) -> Result<hll::Encoding, CommandError> {
    if v.value_type() != ValueType::String {
        return Err(CommandError::WrongType);
    }
    if v.encoding() == Encoding::Int {
        return Err(NOT_HLL);
    }
    hll::check(v.value()).ok_or(NOT_HLL)
}

/// Room to leave after a sparse HLL that grows: a little, so a run of PFADDs does not
/// reallocate every time, without sds's doubling (a sparse HLL grows by a few bytes at a
/// time and stops at `hll-sparse-max-bytes`).
fn sparse_spare(len: usize) -> usize {
    (len / 16 + 8).min(BIG_STRING.saturating_sub(len))
}

/// A copy of sparse HLL `s` to add `n` elements to, with the room they may take (three
/// bytes each at most, and no more than the sparse limit allows), so that it does not
/// reallocate on the way.
fn working_copy(s: &[u8], n: usize, sparse_max: usize) -> Vec<u8> {
    let room = n
        .saturating_mul(3)
        .min(sparse_max.saturating_sub(s.len()) + 3);
    let mut w = Vec::with_capacity(s.len() + room);
    w.extend_from_slice(s);
    w
}

/// Stores HLL bytes `s` at `key` (found or missing per `at`), keeping the TTL: in place
/// where it fits.
fn store(ctx: &mut Ctx<'_>, key: &[u8], at: Lookup, s: &[u8]) {
    let lru = ctx.lru();
    let fits = match at {
        Lookup::Found(slot) => {
            let v = ctx.db().get(slot);
            s.len() <= v.value().len() + v.spare()
        }
        Lookup::Missing(_) => false,
    };
    let spare = if fits || s.len() > BIG_STRING {
        0
    } else {
        sparse_spare(s.len())
    };
    ctx.db()
        .set_string_with_spare(key, at, s, Encoding::Raw, Ttl::Keep, lru, spare);
}

/// Makes the value at `slot` raw, as redis-server's `dbUnshareStringValue` does before an
/// HLL command writes (a short HLL set with SET is `embstr`); true if that changed it.
fn unshare(ctx: &mut Ctx<'_>, key: &[u8], slot: Slot) -> bool {
    if ctx.db().get(slot).encoding() == Encoding::Raw {
        return false;
    }
    let same = ctx.db().get(slot).value().to_vec();
    let lru = ctx.lru();
    ctx.db().set_string(
        key,
        Lookup::Found(slot),
        &same,
        Encoding::Raw,
        Ttl::Keep,
        lru,
    );
    true
}

/// `PFADD key [element ...]`
pub fn pfadd(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let key = args.get(1);
    let sparse_max = ctx.store.thresholds.hll_sparse_max_bytes;
    let at = ctx.lookup_write(key);
    let mut updated = 0u64;
    match at {
        Lookup::Missing(_) => {
            let mut s = working_copy(&hll::new_sparse(), args.len() - 2, sparse_max);
            for e in args.iter().skip(2) {
                updated += u64::from(hll::add(&mut s, e, sparse_max).map_err(|_| CORRUPT)?);
            }
            hll::invalidate(&mut s);
            store(ctx, key, at, &s);
            // Creating the key is a change of its own.
            updated += 1;
        }
        Lookup::Found(slot) => {
            let v = ctx.db().get(slot);
            match hll_of(&v)? {
                hll::Encoding::Dense => {
                    for e in args.iter().skip(2) {
                        let (i, count) = hll::hash_element(e);
                        let regs = &ctx.db().get(slot).value()[hll::HEADER_LEN..];
                        if let Some((at, w, n)) = hll::dense_patch(regs, i, count) {
                            ctx.db().write_in_place(slot, hll::HEADER_LEN + at, &w[..n]);
                            updated += 1;
                        }
                    }
                    if updated > 0 {
                        let (at, b) = hll::invalidated_byte(ctx.db().get(slot).value());
                        ctx.db().write_in_place(slot, at, &[b]);
                    }
                }
                hll::Encoding::Sparse => {
                    let raw = v.encoding() == Encoding::Raw;
                    let mut s = working_copy(v.value(), args.len() - 2, sparse_max);
                    for (j, e) in args.iter().skip(2).enumerate() {
                        match hll::add(&mut s, e, sparse_max) {
                            Ok(changed) => updated += u64::from(changed),
                            Err(_) => return pfadd_failed(ctx, args, at, &s, j, updated, raw),
                        }
                    }
                    if updated > 0 {
                        hll::invalidate(&mut s);
                        store(ctx, key, at, &s);
                    }
                }
            }
            if updated == 0 && unshare(ctx, key, slot) {
                ctx.modified(key);
            }
        }
    }
    if updated > 0 {
        ctx.dirty(updated);
        ctx.signal(key);
    }
    out.int(i64::from(updated > 0));
    Ok(())
}

/// PFADD met a corrupt sparse HLL at element `failed` (0-based): like redis-server, it
/// keeps what the elements before it changed (`s`, `updated` registers) and the string made
/// raw, and answers INVALIDOBJ. That change replays as a PFADD of those elements alone.
fn pfadd_failed(
    ctx: &mut Ctx<'_>,
    args: &Args<'_>,
    at: Lookup,
    s: &[u8],
    failed: usize,
    updated: u64,
    raw: bool,
) -> CmdResult {
    let key = args.get(1);
    if updated > 0 || !raw {
        store(ctx, key, at, s);
        ctx.dirty(updated.max(1));
        ctx.signal(key);
        let argv: Vec<&[u8]> = [&b"PFADD"[..], key]
            .into_iter()
            .chain(args.iter().skip(2).take(failed))
            .collect();
        ctx.propagate(&argv);
    }
    Err(CORRUPT)
}

/// Makes the HLL at `slot` raw before a command fails on it as corrupt, as redis-server
/// does (replayed as `PFADD key`, which does the same and nothing else).
fn unshare_failing(ctx: &mut Ctx<'_>, key: &[u8], slot: Slot) -> CommandError {
    if unshare(ctx, key, slot) {
        ctx.modified(key);
        ctx.propagate(&[b"PFADD", key]);
    }
    CORRUPT
}

/// `PFCOUNT key [key ...]`
pub fn pfcount(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    if args.len() > 2 {
        // The union, in a temporary of one byte per register; nothing is written.
        let mut max = [0u8; hll::REGISTERS];
        for key in args.iter().skip(1) {
            let Some(slot) = ctx.lookup_read(key) else {
                continue;
            };
            let v = ctx.db().get(slot);
            hll_of(&v)?;
            hll::merge_into(&mut max, v.value()).map_err(|_| CORRUPT)?;
        }
        out.int(hll::estimate(&hll::raw_histogram(&max)) as i64);
        return Ok(());
    }
    let key = args.get(1);
    let Some(slot) = ctx.lookup_read(key) else {
        out.int(0);
        return Ok(());
    };
    let v = ctx.db().get(slot);
    hll_of(&v)?;
    let card = match hll::cached(v.value()) {
        Some(card) => {
            if unshare(ctx, key, slot) {
                ctx.modified(key);
            }
            card
        }
        None => {
            let Ok(h) = hll::histogram(v.value()) else {
                return Err(unshare_failing(ctx, key, slot));
            };
            let card = hll::estimate(&h);
            ctx.db().write_in_place(slot, 8, &hll::card_bytes(card));
            ctx.modified(key);
            card
        }
    };
    out.int(card as i64);
    Ok(())
}

/// `PFMERGE destkey [sourcekey ...]`
pub fn pfmerge(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let dest = args.get(1);
    let sparse_max = ctx.store.thresholds.hll_sparse_max_bytes;
    // The destination is a source too.
    let mut max = [0u8; hll::REGISTERS];
    let mut dense = false;
    for key in args.iter().skip(1) {
        let Some(slot) = ctx.lookup_read(key) else {
            continue;
        };
        let v = ctx.db().get(slot);
        dense |= hll_of(&v)? == hll::Encoding::Dense;
        hll::merge_into(&mut max, v.value()).map_err(|_| CORRUPT)?;
    }
    let at = ctx.lookup_write(dest);
    let mut s = match at {
        Lookup::Found(slot) => ctx.db().get(slot).value().to_vec(),
        Lookup::Missing(_) => hll::new_sparse(),
    };
    if dense {
        s = hll::to_dense(&s).map_err(|_| CORRUPT)?;
    }
    for (i, &m) in max.iter().enumerate() {
        if m != 0 {
            hll::raise(&mut s, i, m, sparse_max).map_err(|_| CORRUPT)?;
        }
    }
    hll::invalidate(&mut s);
    store(ctx, dest, at, &s);
    ctx.modified(dest);
    out.ok();
    Ok(())
}

/// `PFDEBUG GETREG|DECODE|ENCODING|TODENSE key`
pub fn pfdebug(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let (sub, key) = (args.get(1), args.get(2));
    let Lookup::Found(slot) = ctx.lookup_write(key) else {
        return Err(CommandError::Static("ERR The specified key does not exist"));
    };
    let encoding = hll_of(&ctx.db().get(slot))?;
    let known = ["GETREG", "DECODE", "ENCODING", "TODENSE"]
        .iter()
        .any(|w| is(sub, w));
    if !known {
        return Err(CommandError::quoting(&[
            b"ERR Unknown PFDEBUG subcommand '",
            cstr(sub),
            b"'",
        ]));
    }
    if is(sub, "DECODE") && encoding != hll::Encoding::Sparse {
        return Err(CommandError::Static("ERR HLL encoding is not sparse"));
    }
    let converts = is(sub, "GETREG") || is(sub, "TODENSE");
    let dense = if converts && encoding == hll::Encoding::Sparse {
        match hll::to_dense(ctx.db().get(slot).value()) {
            Ok(d) => Some(d),
            Err(_) => return Err(unshare_failing(ctx, key, slot)),
        }
    } else {
        None
    };
    let changed = match dense {
        Some(d) => {
            store(ctx, key, Lookup::Found(slot), &d);
            true
        }
        None => unshare(ctx, key, slot),
    };
    if changed {
        ctx.modified(key);
    }
    let s = ctx.db().get(slot).value();
    if is(sub, "GETREG") {
        let regs = &s[hll::HEADER_LEN..];
        out.array(hll::REGISTERS);
        for i in 0..hll::REGISTERS {
            out.int(i64::from(hll::dense_get(regs, i)));
        }
    } else if is(sub, "DECODE") {
        out.bulk(sparse::decode(s).as_bytes());
    } else if is(sub, "ENCODING") {
        out.simple(encoding.name().as_bytes());
    } else {
        out.int(i64::from(encoding == hll::Encoding::Sparse));
    }
    Ok(())
}

/// `PFSELFTEST`
pub fn pfselftest(ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let sparse_max = ctx.store.thresholds.hll_sparse_max_bytes;
    let store = &mut *ctx.store;
    hll::self_test(|| store.random(), sparse_max).map_err(CommandError::Owned)?;
    out.ok();
    Ok(())
}

/// The HyperLogLog commands this module implements, by name.
pub(crate) const HANDLERS: &[(&str, StoreFn)] = &[
    ("pfadd", pfadd),
    ("pfcount", pfcount),
    ("pfmerge", pfmerge),
    ("pfdebug", pfdebug),
    ("pfselftest", pfselftest),
];
