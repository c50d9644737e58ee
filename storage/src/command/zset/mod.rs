//! Sorted set commands (redis-server's t_zset.c): ZADD and the single-member commands here;
//! ranges in [`range`], pops (blocking ones included) in [`pop`], ZUNION / ZINTER / ZDIFF in
//! [`setops`], ZRANDMEMBER and ZSCAN in [`random`]. Each handler's doc line is its syntax.
//! The data structure is [`crate::types::ZSet`].
//!
//! Every write counts dirty and signals its keys. Sorted set writes replay as sent (IEEE
//! double arithmetic is the same everywhere), except the pops that redis-server rewrites:
//! ZMPOP, BZPOPMIN/BZPOPMAX and BZMPOP propagate as ZPOPMIN/ZPOPMAX.
//!
//! Scores are written with [`ReplyBuf::double`]: a `%.17g` bulk string in RESP2, a double
//! in RESP3, as redis-server's `addReplyDouble`.

pub mod pop;
pub mod random;
pub mod range;
pub mod setops;

use cachegate_protocols::resp::request::Args;
use cachegate_protocols::resp::ReplyBuf;

use super::args::is;
use super::spec::StoreFn;
use super::{CmdResult, CommandError, Ctx};
use crate::keyspace::entry::Entry;
use crate::keyspace::Lookup;
use crate::types::zset::score;
use crate::types::ZSet;

/// `ERR resulting score is not a number (NaN)`
pub(crate) const NAN_ERR: CommandError =
    CommandError::Static("ERR resulting score is not a number (NaN)");

/// A score argument (`string2d`).
pub(crate) fn parse_score(arg: &[u8]) -> Result<f64, CommandError> {
    score::parse(arg).ok_or(CommandError::NotFloat)
}

/// Stores `z` at `key` in the selected database, replacing any value and its TTL
/// (redis-server's `setKey` from the *STORE commands).
pub(crate) fn store_value(ctx: &mut Ctx<'_>, key: &[u8], z: ZSet) {
    let lru = ctx.lru();
    let entry = Entry::new_value(key, z, None, lru);
    match ctx.lookup_write(key) {
        Lookup::Found(slot) => ctx.db().replace(slot, entry),
        Lookup::Missing(hash) => ctx.db().add(hash, entry),
    }
}

/// Deletes `key` if present; true if it was.
pub(crate) fn delete_key(ctx: &mut Ctx<'_>, key: &[u8]) -> bool {
    match ctx.lookup_write(key) {
        Lookup::Found(slot) => {
            ctx.db().remove(slot);
            true
        }
        Lookup::Missing(_) => false,
    }
}

/// A *STORE command's ending: the result stored at `dst` (or `dst` deleted when the result
/// is empty), one dirty, the signal, and the reply (the result's size).
pub(crate) fn finish_store(ctx: &mut Ctx<'_>, dst: &[u8], z: ZSet, out: &mut ReplyBuf) {
    use crate::types::Collection;
    let n = z.len();
    if n > 0 {
        store_value(ctx, dst, z);
        ctx.modified(dst);
    } else if delete_key(ctx, dst) {
        ctx.modified(dst);
    }
    out.int(n as i64);
}

/// ZADD's flags.
#[derive(Default, Clone, Copy)]
pub(crate) struct AddFlags {
    pub nx: bool,
    pub xx: bool,
    pub gt: bool,
    pub lt: bool,
    pub incr: bool,
}

/// What one ZADD pair did.
#[derive(Default)]
pub(crate) struct Added {
    pub added: bool,
    pub updated: bool,
    /// Not skipped by NX, XX, GT or LT.
    pub processed: bool,
    /// The member's score afterwards (when processed).
    pub score: f64,
}

/// redis-server's `zsetAdd`: adds or updates one member under `flags`. Errors only when
/// INCR makes the score NaN.
pub(crate) fn zset_add(
    z: &mut ZSet,
    member: &[u8],
    score: f64,
    flags: AddFlags,
    t: &crate::types::Thresholds,
) -> Result<Added, CommandError> {
    let mut r = Added::default();
    match z.view().score(member) {
        Some(cur) => {
            if flags.nx {
                return Ok(r);
            }
            let mut s = score;
            if flags.incr {
                s += cur;
                if s.is_nan() {
                    return Err(NAN_ERR);
                }
            }
            if (flags.lt && s >= cur) || (flags.gt && s <= cur) {
                return Ok(r);
            }
            r.processed = true;
            r.score = s;
            if s != cur {
                z.update(member, s);
                r.updated = true;
            }
        }
        None => {
            if flags.xx {
                return Ok(r);
            }
            z.insert(member, score, t);
            r.added = true;
            r.processed = true;
            r.score = score;
        }
    }
    Ok(r)
}

fn zadd_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, incr: bool, out: &mut ReplyBuf) -> CmdResult {
    let key = args.get(1);
    let mut flags = AddFlags {
        incr,
        ..AddFlags::default()
    };
    let mut ch = false;
    let mut idx = 2;
    while idx < args.len() {
        let opt = args.get(idx);
        if is(opt, "nx") {
            flags.nx = true;
        } else if is(opt, "xx") {
            flags.xx = true;
        } else if is(opt, "ch") {
            ch = true;
        } else if is(opt, "incr") {
            flags.incr = true;
        } else if is(opt, "gt") {
            flags.gt = true;
        } else if is(opt, "lt") {
            flags.lt = true;
        } else {
            break;
        }
        idx += 1;
    }
    let elements = args.len() - idx;
    if elements % 2 == 1 || elements == 0 {
        return Err(CommandError::Syntax);
    }
    let pairs = elements / 2;
    if flags.nx && flags.xx {
        return Err(CommandError::Static(
            "ERR XX and NX options at the same time are not compatible",
        ));
    }
    if (flags.nx && (flags.gt || flags.lt)) || (flags.gt && flags.lt) {
        return Err(CommandError::Static(
            "ERR GT, LT, and/or NX options at the same time are not compatible",
        ));
    }
    if flags.incr && pairs > 1 {
        return Err(CommandError::Static(
            "ERR INCR option supports a single increment-element pair",
        ));
    }
    // Every score is checked before anything is written: all or nothing.
    let mut scores = Vec::with_capacity(pairs.min(1024));
    for j in 0..pairs {
        scores.push(parse_score(args.get(idx + 2 * j))?);
    }
    let t = ctx.store.thresholds;
    let exists = match ctx.type_of(key) {
        Some(crate::keyspace::entry::ValueType::ZSet) => true,
        Some(_) => return Err(CommandError::WrongType),
        None => false,
    };
    let (mut added, mut updated, mut processed, mut last) = (0u64, 0u64, 0u64, 0.0);
    if exists || !flags.xx {
        let mut z = ctx.edit_or_create::<ZSet>(key)?;
        for (j, &s) in scores.iter().enumerate() {
            let r = zset_add(&mut z, args.get(idx + 2 * j + 1), s, flags, &t)?;
            added += u64::from(r.added);
            updated += u64::from(r.updated);
            processed += u64::from(r.processed);
            if r.processed {
                last = r.score;
            }
        }
    }
    if added + updated > 0 {
        ctx.dirty(added + updated);
        ctx.signal(key);
    }
    if flags.incr {
        if processed > 0 {
            out.double(last);
        } else {
            out.null();
        }
    } else {
        out.int((if ch { added + updated } else { added }) as i64);
    }
    Ok(())
}

/// `ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]`
pub fn zadd(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    zadd_generic(ctx, args, false, out)
}

/// `ZINCRBY key increment member`
pub fn zincrby(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    zadd_generic(ctx, args, true, out)
}

/// `ZREM key member [member ...]`
pub fn zrem(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let key = args.get(1);
    let Some(mut z) = ctx.edit::<ZSet>(key)? else {
        out.int(0);
        return Ok(());
    };
    let mut deleted = 0;
    for m in args.iter().skip(2) {
        if z.remove(m).is_some() {
            deleted += 1;
            if z.view().is_empty() {
                break;
            }
        }
    }
    drop(z);
    if deleted > 0 {
        ctx.dirty(deleted);
        ctx.signal(key);
    }
    out.int(deleted as i64);
    Ok(())
}

/// `ZCARD key`
pub fn zcard(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let n = ctx.read::<ZSet>(args.get(1))?.map_or(0, |z| z.len());
    out.int(n as i64);
    Ok(())
}

/// `ZSCORE key member`
pub fn zscore(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    match ctx
        .read::<ZSet>(args.get(1))?
        .and_then(|z| z.score(args.get(2)))
    {
        Some(s) => out.double(s),
        None => out.null(),
    }
    Ok(())
}

/// `ZMSCORE key member [member ...]`
pub fn zmscore(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let z = ctx.read::<ZSet>(args.get(1))?;
    out.array(args.len() - 2);
    for m in args.iter().skip(2) {
        match z.and_then(|z| z.score(m)) {
            Some(s) => out.double(s),
            None => out.null(),
        }
    }
    Ok(())
}

fn rank_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, rev: bool, out: &mut ReplyBuf) -> CmdResult {
    let Some(z) = ctx.read::<ZSet>(args.get(1))? else {
        out.null();
        return Ok(());
    };
    match z.rank(args.get(2)) {
        Some(r) if rev => out.int((z.len() - 1 - r) as i64),
        Some(r) => out.int(r as i64),
        None => out.null(),
    }
    Ok(())
}

/// `ZRANK key member`
pub fn zrank(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    rank_generic(ctx, args, false, out)
}

/// `ZREVRANK key member`
pub fn zrevrank(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    rank_generic(ctx, args, true, out)
}

/// The sorted set commands this module runs.
pub(crate) const HANDLERS: &[(&str, StoreFn)] = &[
    ("zadd", zadd),
    ("zincrby", zincrby),
    ("zrem", zrem),
    ("zcard", zcard),
    ("zscore", zscore),
    ("zmscore", zmscore),
    ("zrank", zrank),
    ("zrevrank", zrevrank),
    ("zcount", range::zcount),
    ("zlexcount", range::zlexcount),
    ("zrange", range::zrange),
    ("zrangestore", range::zrangestore),
    ("zrevrange", range::zrevrange),
    ("zrangebyscore", range::zrangebyscore),
    ("zrevrangebyscore", range::zrevrangebyscore),
    ("zrangebylex", range::zrangebylex),
    ("zrevrangebylex", range::zrevrangebylex),
    ("zremrangebyrank", range::zremrangebyrank),
    ("zremrangebyscore", range::zremrangebyscore),
    ("zremrangebylex", range::zremrangebylex),
    ("zpopmin", pop::zpopmin),
    ("zpopmax", pop::zpopmax),
    ("zmpop", pop::zmpop),
    ("bzpopmin", pop::bzpopmin),
    ("bzpopmax", pop::bzpopmax),
    ("bzmpop", pop::bzmpop),
    ("zrandmember", random::zrandmember),
    ("zscan", random::zscan),
    ("zunion", setops::zunion),
    ("zinter", setops::zinter),
    ("zdiff", setops::zdiff),
    ("zunionstore", setops::zunionstore),
    ("zinterstore", setops::zinterstore),
    ("zdiffstore", setops::zdiffstore),
    ("zintercard", setops::zintercard),
];
