//! Hash commands (redis-server's t_hash.c): HSET and its variants, reads, counters,
//! HRANDFIELD and HSCAN. Each handler's doc line is its syntax. The data structure is
//! [`crate::types::Hash`].
//!
//! Every write counts dirty, signals its key and, where the command as sent would not replay
//! identically (HINCRBYFLOAT), emits its replayable form (see [`crate::writes`]).

use cachegate_protocols::resp::request::Args;
use cachegate_protocols::resp::ReplyBuf;

use super::args::{self, is};
use super::scan::{self, ScanOpts};
use super::spec::StoreFn;
use super::{CmdResult, CommandError, Ctx};
use crate::long_double::{self, FloatError};
use crate::types::hash::HashRef;
use crate::types::Hash;

const NOT_INTEGER: CommandError = CommandError::Static("ERR hash value is not an integer");
const NOT_FLOAT: CommandError = CommandError::Static("ERR hash value is not a float");
const OVERFLOW: CommandError = CommandError::Static("ERR increment or decrement would overflow");

/// HSET and HMSET: sets every pair; returns how many fields were new.
fn set_pairs(ctx: &mut Ctx<'_>, args: &Args<'_>, name: &str) -> Result<i64, CommandError> {
    if args.len() % 2 == 1 {
        return Err(CommandError::WrongArity(name.to_string()));
    }
    let key = args.get(1);
    let t = ctx.store.thresholds;
    let mut h = ctx.edit_or_create::<Hash>(key)?;
    h.prepare(args.iter().skip(2).map(<[u8]>::len), &t);
    let mut created = 0;
    for j in (2..args.len()).step_by(2) {
        created += i64::from(h.set(args.get(j), args.get(j + 1), &t));
    }
    drop(h);
    ctx.dirty(((args.len() - 2) / 2) as u64);
    ctx.signal(key);
    Ok(created)
}

/// `HSET key field value [field value ...]`
pub fn hset(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let created = set_pairs(ctx, args, "hset")?;
    out.int(created);
    Ok(())
}

/// `HMSET key field value [field value ...]`
pub fn hmset(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    set_pairs(ctx, args, "hmset")?;
    out.ok();
    Ok(())
}

/// `HSETNX key field value`
pub fn hsetnx(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let (key, field, value) = (args.get(1), args.get(2), args.get(3));
    let t = ctx.store.thresholds;
    let mut h = ctx.edit_or_create::<Hash>(key)?;
    if h.view().contains(field) {
        drop(h);
        out.int(0);
        return Ok(());
    }
    h.prepare([field.len(), value.len()], &t);
    h.set(field, value, &t);
    drop(h);
    ctx.modified(key);
    out.int(1);
    Ok(())
}

/// `HGET key field`
pub fn hget(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    match ctx
        .read::<Hash>(args.get(1))?
        .and_then(|h| h.get(args.get(2)))
    {
        Some(v) => out.bulk(v),
        None => out.null(),
    }
    Ok(())
}

/// `HMGET key field [field ...]`
pub fn hmget(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let h = ctx.read::<Hash>(args.get(1))?;
    out.array(args.len() - 2);
    for field in args.iter().skip(2) {
        match h.and_then(|h| h.get(field)) {
            Some(v) => out.bulk(v),
            None => out.null(),
        }
    }
    Ok(())
}

/// `HDEL key field [field ...]`
pub fn hdel(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let key = args.get(1);
    let Some(mut h) = ctx.edit::<Hash>(key)? else {
        out.int(0);
        return Ok(());
    };
    let mut deleted = 0;
    for field in args.iter().skip(2) {
        if h.remove(field) {
            deleted += 1;
            if h.view().is_empty() {
                break;
            }
        }
    }
    drop(h);
    if deleted > 0 {
        ctx.dirty(deleted);
        ctx.signal(key);
    }
    out.int(deleted as i64);
    Ok(())
}

/// `HLEN key`
pub fn hlen(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let n = ctx.read::<Hash>(args.get(1))?.map_or(0, |h| h.len());
    out.int(n as i64);
    Ok(())
}

/// `HSTRLEN key field`
pub fn hstrlen(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let n = ctx
        .read::<Hash>(args.get(1))?
        .and_then(|h| h.get(args.get(2)))
        .map_or(0, <[u8]>::len);
    out.int(n as i64);
    Ok(())
}

/// `HEXISTS key field`
pub fn hexists(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let found = ctx
        .read::<Hash>(args.get(1))?
        .is_some_and(|h| h.contains(args.get(2)));
    out.int(i64::from(found));
    Ok(())
}

/// What HKEYS, HVALS and HGETALL return.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Fields,
    Values,
    Both,
}

fn get_all(ctx: &mut Ctx<'_>, key: &[u8], part: Part, out: &mut ReplyBuf) -> CmdResult {
    let h = ctx.read::<Hash>(key)?;
    let n = h.map_or(0, |h| h.len());
    match part {
        Part::Both => out.map(n),
        _ => out.array(n),
    }
    for (f, v) in h.iter().flat_map(HashRef::iter) {
        if part != Part::Values {
            out.bulk(f);
        }
        if part != Part::Fields {
            out.bulk(v);
        }
    }
    Ok(())
}

/// `HKEYS key`
pub fn hkeys(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    get_all(ctx, args.get(1), Part::Fields, out)
}

/// `HVALS key`
pub fn hvals(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    get_all(ctx, args.get(1), Part::Values, out)
}

/// `HGETALL key`
pub fn hgetall(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    get_all(ctx, args.get(1), Part::Both, out)
}

/// `HINCRBY key field increment`
pub fn hincrby(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let (key, field) = (args.get(1), args.get(2));
    let incr = args::int(args.get(3))?;
    let t = ctx.store.thresholds;
    let mut h = ctx.edit_or_create::<Hash>(key)?;
    let current = match h.view().get(field) {
        Some(v) => cachegate_protocols::number::parse_i64(v).ok_or(NOT_INTEGER)?,
        None => 0,
    };
    let value = current.checked_add(incr).ok_or(OVERFLOW)?;
    let mut n = itoa::Buffer::new();
    h.set(field, n.format(value).as_bytes(), &t);
    drop(h);
    ctx.modified(key);
    out.int(value);
    Ok(())
}

/// `HINCRBYFLOAT key field increment`
pub fn hincrbyfloat(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let (key, field, incr) = (args.get(1), args.get(2), args.get(3));
    // The increment alone must be a finite float before the hash is looked at.
    match long_double::add(None, incr) {
        Err(FloatError::NotFloat) => return Err(CommandError::NotFloat),
        Err(FloatError::NanOrInfinity) => {
            return Err(CommandError::Static("ERR value is NaN or Infinity"))
        }
        Ok(_) => {}
    }
    let t = ctx.store.thresholds;
    let mut h = ctx.edit_or_create::<Hash>(key)?;
    let value = long_double::add(h.view().get(field), incr).map_err(|e| match e {
        FloatError::NotFloat => NOT_FLOAT,
        FloatError::NanOrInfinity => {
            CommandError::Static("ERR increment would produce NaN or Infinity")
        }
    })?;
    h.set(field, &value, &t);
    drop(h);
    ctx.modified(key);
    // Float arithmetic may differ elsewhere: replay the result, not the increment.
    ctx.propagate(&[b"HSET", key, field, &value]);
    out.bulk(&value);
    Ok(())
}

/// `HRANDFIELD key [count [WITHVALUES]]`
pub fn hrandfield(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let count = if args.len() >= 3 {
        Some(args::int_range(args.get(2), -i64::MAX, i64::MAX)?)
    } else {
        None
    };
    if args.len() > 4 || (args.len() == 4 && !is(args.get(3), "WITHVALUES")) {
        return Err(CommandError::Syntax);
    }
    let with_values = args.len() == 4;
    if with_values && count.is_some_and(|c| !(-i64::MAX / 2..=i64::MAX / 2).contains(&c)) {
        // The reply would have twice as many elements.
        return Err(CommandError::Static("ERR value is out of range"));
    }
    let mut rng = ctx.store.random();
    let Some(h) = ctx.read::<Hash>(args.get(1))? else {
        match count {
            None => out.null(),
            Some(_) => out.array(0),
        }
        return Ok(());
    };
    let Some(count) = count else {
        let len = h.len();
        if let Some((f, _)) = h.pick((rng % len as u64) as usize, rng) {
            out.bulk(f);
        }
        return Ok(());
    };
    let pair = |out: &mut ReplyBuf, f: &[u8], v: &[u8]| {
        if with_values {
            if out.is_resp3() {
                out.array(2);
            }
            out.bulk(f);
            out.bulk(v);
        } else {
            out.bulk(f);
        }
    };
    let items = |n: usize, out: &mut ReplyBuf| {
        if with_values && !out.is_resp3() {
            out.array(2 * n);
        } else {
            out.array(n);
        }
    };
    let len = h.len();
    if count < 0 {
        // Repetitions allowed: |count| independent picks.
        let n = count.unsigned_abs() as usize;
        items(n, out);
        for _ in 0..n {
            rng = next(rng);
            if let Some((f, v)) = h.pick((rng % len as u64) as usize, rng) {
                pair(out, f, v);
            }
        }
        return Ok(());
    }
    let n = (count as usize).min(len);
    items(n, out);
    if n == len {
        // The whole hash, in its own order (as redis-server does for count >= size).
        for (f, v) in h.iter() {
            pair(out, f, v);
        }
        return Ok(());
    }
    // Distinct picks: choose positions in a copy of the fields.
    let mut all: Vec<(&[u8], &[u8])> = h.iter().collect();
    for i in 0..n {
        rng = next(rng);
        let j = i + (rng % (all.len() - i) as u64) as usize;
        all.swap(i, j);
        pair(out, all[i].0, all[i].1);
    }
    Ok(())
}

/// xorshift step for the picks of one command.
fn next(mut x: u64) -> u64 {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    x
}

/// `HSCAN key cursor [MATCH pattern] [COUNT count]`
pub fn hscan(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    // redis-server reads the cursor, then the key (a missing key answers at once), and only
    // then the options.
    let mut cursor = args::cursor(args.get(2))?;
    let Some(h) = ctx.read::<Hash>(args.get(1))? else {
        scan::reply::<&[u8]>(out, 0, &[]);
        return Ok(());
    };
    let opts = ScanOpts::parse(args, 3, false)?;
    let mut items: Vec<&[u8]> = Vec::new();
    let mut budget = opts.count.saturating_mul(10);
    loop {
        cursor = h.scan(cursor, |f, v| {
            if opts.matches(f) {
                items.push(f);
                items.push(v);
            }
        });
        budget -= 1;
        if cursor == 0 || budget <= 0 || items.len() as i64 / 2 >= opts.count {
            break;
        }
    }
    scan::reply(out, cursor, &items);
    Ok(())
}

/// The hash commands this module runs.
pub(crate) const HANDLERS: &[(&str, StoreFn)] = &[
    ("hset", hset),
    ("hsetnx", hsetnx),
    ("hmset", hmset),
    ("hget", hget),
    ("hmget", hmget),
    ("hdel", hdel),
    ("hlen", hlen),
    ("hstrlen", hstrlen),
    ("hexists", hexists),
    ("hkeys", hkeys),
    ("hvals", hvals),
    ("hgetall", hgetall),
    ("hincrby", hincrby),
    ("hincrbyfloat", hincrbyfloat),
    ("hrandfield", hrandfield),
    ("hscan", hscan),
];
