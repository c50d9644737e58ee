//! Pops: ZPOPMIN, ZPOPMAX, ZMPOP and the blocking BZPOPMIN, BZPOPMAX, BZMPOP
//! (redis-server's `genericZpopCommand` and `blockingGenericZpopCommand`).
//!
//! A blocking pop that finds every key missing parks the client with
//! [`Ctx::block`]; when one of its keys is signalled the command runs again as sent. What
//! replays is the non-blocking form: ZPOPMIN/ZPOPMAX with the key that served it (and the
//! count actually popped for ZMPOP and BZMPOP), as redis-server rewrites them.

use cachegate_protocols::resp::request::Args;
use cachegate_protocols::resp::ReplyBuf;

use super::{CmdResult, CommandError, Ctx};
use crate::blocking::{BlockOn, TimeoutReply};
use crate::command::args::is;
use crate::keyspace::entry::ValueType;
use crate::types::ZSet;

/// How a pop reply is shaped (redis-server's `emitkey` and `use_nested_array`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// ZPOPMIN/ZPOPMAX: a flat array of members and scores (nested pairs in RESP3 when a
    /// count was given).
    Flat { nested: bool },
    /// BZPOPMIN/BZPOPMAX: `[key, member, score]`.
    WithKey,
    /// ZMPOP/BZMPOP: `[key, [[member, score], …]]`.
    KeyAndPairs,
}

/// A long argument with redis-server's range check and one message for both failures
/// (`getRangeLongFromObjectOrReply` with a message).
fn long_in(arg: &[u8], min: i64, msg: &'static str) -> Result<i64, CommandError> {
    match cachegate_protocols::number::parse_i64(arg) {
        Some(v) if v >= min => Ok(v),
        _ => Err(CommandError::Static(msg)),
    }
}

/// Pops up to `count` members (`None`: one, the plain form) from the first existing key of
/// `keys`; `Ok(None)` if none exists. Replies unless none exists.
fn pop_generic(
    ctx: &mut Ctx<'_>,
    keys: &[&[u8]],
    last: bool,
    count: Option<u64>,
    shape: Shape,
    out: &mut ReplyBuf,
) -> Result<Option<(Vec<u8>, usize)>, CommandError> {
    let mut found = None;
    for &key in keys {
        match ctx.type_of(key) {
            None => continue,
            Some(ValueType::ZSet) => {
                found = Some(key);
                break;
            }
            Some(_) => return Err(CommandError::WrongType),
        }
    }
    let Some(key) = found else {
        return Ok(None);
    };
    if count == Some(0) {
        out.array(0);
        return Ok(Some((key.to_vec(), 0)));
    }
    let want = count.unwrap_or(1);
    let mut popped: Vec<(Vec<u8>, f64)> = Vec::new();
    if let Some(mut z) = ctx.edit::<ZSet>(key)? {
        let n = (z.view().len() as u64).min(want) as usize;
        popped.reserve(n);
        for _ in 0..n {
            match z.pop(last) {
                Some(p) => popped.push(p),
                None => break,
            }
        }
    }
    let n = popped.len();
    if n > 0 {
        ctx.dirty(n as u64);
        ctx.signal(key);
    }
    match shape {
        Shape::Flat { nested } => {
            if nested {
                out.array(n);
            } else {
                out.array(2 * n);
            }
            for (m, s) in &popped {
                if nested {
                    out.array(2);
                }
                out.bulk(m);
                out.double(*s);
            }
        }
        Shape::WithKey => {
            out.array(2 * n + 1);
            out.bulk(key);
            for (m, s) in &popped {
                out.bulk(m);
                out.double(*s);
            }
        }
        Shape::KeyAndPairs => {
            out.array(2);
            out.bulk(key);
            out.array(n);
            for (m, s) in &popped {
                out.array(2);
                out.bulk(m);
                out.double(*s);
            }
        }
    }
    Ok(Some((key.to_vec(), n)))
}

fn zpop_min_max(ctx: &mut Ctx<'_>, args: &Args<'_>, last: bool, out: &mut ReplyBuf) -> CmdResult {
    if args.len() > 3 {
        return Err(CommandError::Syntax);
    }
    let count = if args.len() == 3 {
        Some(long_in(
            args.get(2),
            0,
            "ERR value is out of range, must be positive",
        )? as u64)
    } else {
        None
    };
    let nested = out.is_resp3() && count.is_some();
    if pop_generic(
        ctx,
        &[args.get(1)],
        last,
        count,
        Shape::Flat { nested },
        out,
    )?
    .is_none()
    {
        out.array(0);
    }
    Ok(())
}

/// `ZPOPMIN key [count]`
pub fn zpopmin(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    zpop_min_max(ctx, args, false, out)
}

/// `ZPOPMAX key [count]`
pub fn zpopmax(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    zpop_min_max(ctx, args, true, out)
}

/// Propagates a pop as ZPOPMIN/ZPOPMAX of `key` (with `count` when given).
fn propagate_pop(ctx: &mut Ctx<'_>, last: bool, key: &[u8], count: Option<usize>) {
    let name: &[u8] = if last { b"ZPOPMAX" } else { b"ZPOPMIN" };
    match count {
        Some(n) => {
            let mut buf = itoa::Buffer::new();
            let n = buf.format(n);
            ctx.propagate(&[name, key, n.as_bytes()]);
        }
        None => ctx.propagate(&[name, key]),
    }
}

fn bzpop_min_max(ctx: &mut Ctx<'_>, args: &Args<'_>, last: bool, out: &mut ReplyBuf) -> CmdResult {
    let deadline = crate::blocking::parse_timeout(ctx.now(), args.get(args.len() - 1))?;
    let keys: Vec<&[u8]> = (1..args.len() - 1).map(|i| args.get(i)).collect();
    if let Some((key, _)) = pop_generic(ctx, &keys, last, None, Shape::WithKey, out)? {
        propagate_pop(ctx, last, &key, None);
        return Ok(());
    }
    ctx.block(
        BlockOn {
            keys: keys.iter().map(|k| k.to_vec()).collect(),
            kind: ValueType::ZSet,
            deadline,
            timeout_reply: TimeoutReply::NullArray,
            retry_argv: None,
        },
        out,
    );
    Ok(())
}

/// `BZPOPMIN key [key ...] timeout`
pub fn bzpopmin(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    bzpop_min_max(ctx, args, false, out)
}

/// `BZPOPMAX key [key ...] timeout`
pub fn bzpopmax(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    bzpop_min_max(ctx, args, true, out)
}

/// ZMPOP and BZMPOP: `numkeys` is at `at`.
fn zmpop_generic(
    ctx: &mut Ctx<'_>,
    args: &Args<'_>,
    at: usize,
    block: bool,
    out: &mut ReplyBuf,
) -> CmdResult {
    let numkeys = long_in(args.get(at), 1, "ERR numkeys should be greater than 0")? as u64;
    let where_idx = (at as u64).saturating_add(numkeys).saturating_add(1);
    if where_idx >= args.len() as u64 {
        return Err(CommandError::Syntax);
    }
    let where_idx = where_idx as usize;
    let last = if is(args.get(where_idx), "MIN") {
        false
    } else if is(args.get(where_idx), "MAX") {
        true
    } else {
        return Err(CommandError::Syntax);
    };
    let mut count: Option<u64> = None;
    let mut j = where_idx + 1;
    while j < args.len() {
        let more = args.len() - 1 - j;
        if count.is_none() && is(args.get(j), "COUNT") && more > 0 {
            j += 1;
            count = Some(long_in(args.get(j), 1, "ERR count should be greater than 0")? as u64);
        } else {
            return Err(CommandError::Syntax);
        }
        j += 1;
    }
    let count = count.unwrap_or(1);
    let deadline = if block {
        Some(crate::blocking::parse_timeout(ctx.now(), args.get(1))?)
    } else {
        None
    };
    let keys: Vec<&[u8]> = (at + 1..where_idx).map(|i| args.get(i)).collect();
    if let Some((key, n)) = pop_generic(ctx, &keys, last, Some(count), Shape::KeyAndPairs, out)? {
        propagate_pop(ctx, last, &key, Some(n));
        return Ok(());
    }
    match deadline {
        Some(deadline) => ctx.block(
            BlockOn {
                keys: keys.iter().map(|k| k.to_vec()).collect(),
                kind: ValueType::ZSet,
                deadline,
                timeout_reply: TimeoutReply::NullArray,
                retry_argv: None,
            },
            out,
        ),
        None => out.null_array(),
    }
    Ok(())
}

/// `ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]`
pub fn zmpop(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    zmpop_generic(ctx, args, 1, false, out)
}

/// `BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]`
pub fn bzmpop(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    zmpop_generic(ctx, args, 2, true, out)
}
