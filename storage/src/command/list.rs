//! List commands (redis-server's t_list.c): pushes, pops, reads by index and range, LSET,
//! LINSERT, LREM, LTRIM, LPOS, LMOVE, LMPOP, and — in [`blocking`] — BLPOP, BRPOP, BLMOVE,
//! BRPOPLPUSH and BLMPOP. Each handler's doc line is its syntax. The data structure is
//! [`crate::types::List`].
//!
//! Arguments are checked in redis-server's order, which decides which error a bad command
//! gets: LRANGE, LTRIM and LREM read their numbers before the key, LINDEX and LSET after it.
//!
//! Every write counts dirty (one per element pushed, popped or removed, as redis-server
//! counts), signals its keys and, where the command as sent would not replay identically,
//! emits its replayable form (LMPOP → `LPOP key n` / `RPOP key n`; the blocking commands
//! → their non-blocking forms, see [`blocking`]). Replies write elements straight from
//! the nodes.

pub mod blocking;

use cachegate_protocols::resp::request::Args;
use cachegate_protocols::resp::ReplyBuf;

use super::args::{self, is};
use super::spec::StoreFn;
use super::{CmdResult, CommandError, Ctx};
use crate::keyspace::entry::ValueType;
use crate::types::list::{Elem, End, ListRef};
use crate::types::List;

/// `ERR index out of range` (LSET).
const OUT_OF_RANGE: CommandError = CommandError::Static("ERR index out of range");

/// Elements up to this long are written with one copy into the reply (see [`bulk_elem`]).
const SMALL: usize = 48;

/// Writes one element as a bulk string, from its two stored pieces. A short element (most
/// list elements) is assembled on the stack and copied into the reply once: per-piece
/// copies of a few bytes each would cost more than the bytes.
#[inline]
pub(crate) fn bulk_elem(out: &mut ReplyBuf, e: Elem<'_>) {
    let len = e.len();
    if len <= SMALL {
        let mut b = [0u8; SMALL + 8];
        b[0] = b'$';
        let mut i = 1;
        if len >= 10 {
            b[i] = b'0' + (len / 10) as u8;
            i += 1;
        }
        b[i] = b'0' + (len % 10) as u8;
        b[i + 1..i + 3].copy_from_slice(b"\r\n");
        i += 3;
        b[i..i + e.head.len()].copy_from_slice(e.head);
        i += e.head.len();
        b[i..i + e.tail.len()].copy_from_slice(e.tail);
        i += e.tail.len();
        b[i..i + 2].copy_from_slice(b"\r\n");
        out.raw(&b[..i + 2]);
        return;
    }
    if e.head.is_empty() {
        return out.bulk(e.tail);
    }
    let mut n = itoa::Buffer::new();
    let digits = n.format(len).as_bytes();
    out.reserve(digits.len() + len + 5);
    out.raw(b"$");
    out.raw(digits);
    out.raw(b"\r\n");
    out.raw(e.head);
    out.raw(e.tail);
    out.raw(b"\r\n");
}

/// Writes `n` elements of `l` from `end` inwards, as an array.
fn reply_end(out: &mut ReplyBuf, l: ListRef<'_>, end: End, n: usize) {
    out.array(n);
    match end {
        End::Front => l.iter().take(n).for_each(|e| bulk_elem(out, e)),
        End::Back => l.iter_rev().take(n).for_each(|e| bulk_elem(out, e)),
    }
}

/// `LEFT` or `RIGHT`.
pub(crate) fn end_arg(arg: &[u8]) -> Result<End, CommandError> {
    if is(arg, "RIGHT") {
        Ok(End::Back)
    } else if is(arg, "LEFT") {
        Ok(End::Front)
    } else {
        Err(CommandError::Syntax)
    }
}

/// The word a replayed command uses for an end.
pub(crate) fn end_word(end: End) -> &'static [u8] {
    match end {
        End::Front => b"LEFT",
        End::Back => b"RIGHT",
    }
}

/// An integer in `min..=max`, or `msg` (code included) — for a non-integer too, as
/// redis-server's `getRangeLongFromObjectOrReply` with a message answers.
pub(crate) fn ranged(
    arg: &[u8],
    min: i64,
    max: i64,
    msg: &'static str,
) -> Result<i64, CommandError> {
    match cachegate_protocols::number::parse_i64(arg) {
        Some(v) if (min..=max).contains(&v) => Ok(v),
        _ => Err(CommandError::Static(msg)),
    }
}

/// `getPositiveLongFromObjectOrReply` without a message of its own.
fn positive(arg: &[u8]) -> Result<i64, CommandError> {
    ranged(
        arg,
        0,
        i64::MAX,
        "ERR value is out of range, must be positive",
    )
}

/// Start and element count of the range `start..=end` (Redis indexes) of a list of `len`.
fn range(start: i64, end: i64, len: usize) -> (usize, usize) {
    let len = len as i64;
    let start = if start < 0 { len + start } else { start }.max(0);
    let end = if end < 0 { len + end } else { end };
    if start > end || start >= len {
        return (0, 0);
    }
    let end = end.min(len - 1);
    (start as usize, (end - start + 1) as usize)
}

fn push(
    ctx: &mut Ctx<'_>,
    args: &Args<'_>,
    end: End,
    only_existing: bool,
    out: &mut ReplyBuf,
) -> CmdResult {
    let key = args.get(1);
    let t = ctx.store.thresholds;
    let mut l = if only_existing {
        match ctx.edit::<List>(key)? {
            Some(l) => l,
            None => {
                out.int(0);
                return Ok(());
            }
        }
    } else {
        ctx.edit_or_create::<List>(key)?
    };
    for e in args.iter().skip(2) {
        l.push(end, e, &t);
    }
    let len = l.len();
    drop(l);
    ctx.dirty((args.len() - 2) as u64);
    ctx.signal(key);
    out.int(len as i64);
    Ok(())
}

/// `LPUSH key element [element ...]`
pub fn lpush(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    push(ctx, args, End::Front, false, out)
}

/// `RPUSH key element [element ...]`
pub fn rpush(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    push(ctx, args, End::Back, false, out)
}

/// `LPUSHX key element [element ...]`
pub fn lpushx(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    push(ctx, args, End::Front, true, out)
}

/// `RPUSHX key element [element ...]`
pub fn rpushx(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    push(ctx, args, End::Back, true, out)
}

/// Pops up to `count` elements from `end` of the list at `key` (which must exist and hold a
/// list) and writes them: `[key, [elements…]]` with `with_key` (LMPOP), a bare array
/// otherwise. Counts dirty and signals. Returns how many it popped.
pub(crate) fn pop_range(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    end: End,
    count: usize,
    with_key: bool,
    out: &mut ReplyBuf,
) -> Result<usize, CommandError> {
    let Some(mut l) = ctx.edit::<List>(key)? else {
        return Ok(0);
    };
    let n = count.min(l.len());
    if with_key {
        out.array(2);
        out.bulk(key);
    }
    reply_end(out, l.view(), end, n);
    l.remove(end, n);
    drop(l);
    ctx.dirty(n as u64);
    ctx.signal(key);
    Ok(n)
}

/// Pops one element from `end` of the list at `key` (which must exist and hold a list) and
/// writes it, as `[key, element]` with `with_key` (BLPOP). Counts dirty and signals.
pub(crate) fn pop_one(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    end: End,
    with_key: bool,
    out: &mut ReplyBuf,
) -> CmdResult {
    let Some(mut l) = ctx.edit::<List>(key)? else {
        return Ok(());
    };
    let v = l.view();
    let e = match end {
        End::Front => v.iter().next(),
        End::Back => v.iter_rev().next(),
    };
    if let Some(e) = e {
        if with_key {
            out.array(2);
            out.bulk(key);
        }
        bulk_elem(out, e);
    }
    l.remove(end, 1);
    drop(l);
    ctx.modified(key);
    Ok(())
}

fn pop(ctx: &mut Ctx<'_>, args: &Args<'_>, end: End, out: &mut ReplyBuf) -> CmdResult {
    if args.len() > 3 {
        let name = if end == End::Front { "lpop" } else { "rpop" };
        return Err(CommandError::WrongArity(name.into()));
    }
    let count = if args.len() == 3 {
        Some(positive(args.get(2))?)
    } else {
        None
    };
    let key = args.get(1);
    match ctx.type_of(key) {
        None => {
            match count {
                Some(_) => out.null_array(),
                None => out.null(),
            }
            return Ok(());
        }
        Some(ValueType::List) => {}
        Some(_) => return Err(CommandError::WrongType),
    }
    match count {
        None => pop_one(ctx, key, end, false, out),
        Some(0) => {
            out.array(0);
            Ok(())
        }
        Some(n) => pop_range(ctx, key, end, n as usize, false, out).map(|_| ()),
    }
}

/// `LPOP key [count]`
pub fn lpop(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    pop(ctx, args, End::Front, out)
}

/// `RPOP key [count]`
pub fn rpop(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    pop(ctx, args, End::Back, out)
}

/// `LLEN key`
pub fn llen(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let n = ctx.read::<List>(args.get(1))?.map_or(0, |l| l.len());
    out.int(n as i64);
    Ok(())
}

/// `LINDEX key index`
pub fn lindex(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let Some(l) = ctx.read::<List>(args.get(1))? else {
        out.null();
        return Ok(());
    };
    let index = args::int(args.get(2))?;
    match l.index(index).and_then(|i| l.get(i)) {
        Some(e) => bulk_elem(out, e),
        None => out.null(),
    }
    Ok(())
}

/// `LSET key index element`
pub fn lset(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let key = args.get(1);
    let t = ctx.store.thresholds;
    let Some(mut l) = ctx.edit::<List>(key)? else {
        return Err(CommandError::NoSuchKey);
    };
    let index = args::int(args.get(2))?;
    let i = l.view().index(index).ok_or(OUT_OF_RANGE)?;
    l.set(i, args.get(3), &t);
    drop(l);
    ctx.modified(key);
    out.ok();
    Ok(())
}

/// `LRANGE key start stop`
pub fn lrange(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let start = args::int(args.get(2))?;
    let stop = args::int(args.get(3))?;
    let Some(l) = ctx.read::<List>(args.get(1))? else {
        out.array(0);
        return Ok(());
    };
    let (from, n) = range(start, stop, l.len());
    out.array(n);
    // Room for short elements; longer ones grow the buffer as they come.
    out.reserve(n.min(4096) * 16);
    for e in l.iter_from(from).take(n) {
        bulk_elem(out, e);
    }
    Ok(())
}

/// `LTRIM key start stop`
pub fn ltrim(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let start = args::int(args.get(2))?;
    let stop = args::int(args.get(3))?;
    let key = args.get(1);
    let Some(mut l) = ctx.edit::<List>(key)? else {
        out.ok();
        return Ok(());
    };
    let len = l.len();
    let (from, n) = range(start, stop, len);
    let (front, back) = if n == 0 {
        (len, 0)
    } else {
        (from, len - from - n)
    };
    l.remove(End::Front, front);
    l.remove(End::Back, back);
    drop(l);
    // redis-server signals even when nothing was trimmed.
    ctx.dirty((front + back) as u64);
    ctx.signal(key);
    out.ok();
    Ok(())
}

/// `LREM key count element`
pub fn lrem(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let count = args::int(args.get(2))?;
    let key = args.get(1);
    let t = ctx.store.thresholds;
    let Some(mut l) = ctx.edit::<List>(key)? else {
        out.int(0);
        return Ok(());
    };
    let removed = l.remove_matching(args.get(3), count, &t);
    drop(l);
    if removed > 0 {
        ctx.dirty(removed as u64);
        ctx.signal(key);
    }
    out.int(removed as i64);
    Ok(())
}

/// `LINSERT key <BEFORE | AFTER> pivot element`
pub fn linsert(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let after = if is(args.get(2), "AFTER") {
        true
    } else if is(args.get(2), "BEFORE") {
        false
    } else {
        return Err(CommandError::Syntax);
    };
    let key = args.get(1);
    let t = ctx.store.thresholds;
    let Some(mut l) = ctx.edit::<List>(key)? else {
        out.int(0);
        return Ok(());
    };
    let pivot = args.get(3);
    let Some(i) = l.view().iter().position(|e| e.eq_bytes(pivot)) else {
        drop(l);
        out.int(-1);
        return Ok(());
    };
    l.insert(i + usize::from(after), args.get(4), &t);
    let len = l.len();
    drop(l);
    ctx.modified(key);
    out.int(len as i64);
    Ok(())
}

/// `LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]`
pub fn lpos(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let (mut rank, mut count, mut maxlen) = (1i64, None, 0i64);
    let mut j = 3;
    while j < args.len() {
        let more = j + 1 < args.len();
        let opt = args.get(j);
        if is(opt, "RANK") && more {
            j += 1;
            rank = args::int(args.get(j))?;
            if rank == 0 {
                return Err(CommandError::Static(
                    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the \
                     second ... or use negative to start from the end of the list",
                ));
            }
        } else if is(opt, "COUNT") && more {
            j += 1;
            count = Some(ranged(
                args.get(j),
                0,
                i64::MAX,
                "ERR COUNT can't be negative",
            )?);
        } else if is(opt, "MAXLEN") && more {
            j += 1;
            maxlen = ranged(args.get(j), 0, i64::MAX, "ERR MAXLEN can't be negative")?;
        } else {
            return Err(CommandError::Syntax);
        }
        j += 1;
    }
    let from_back = rank < 0;
    // As redis-server negates it: the most negative rank stays negative, and so matches
    // from the first match on.
    let rank = if from_back { rank.wrapping_neg() } else { rank };
    let Some(l) = ctx.read::<List>(args.get(1))? else {
        match count {
            Some(_) => out.array(0),
            None => out.null(),
        }
        return Ok(());
    };
    let want = args.get(2);
    let len = l.len();
    let scan = if maxlen == 0 {
        len
    } else {
        len.min(maxlen as usize)
    };
    let found = if from_back {
        find(l.iter_rev().take(scan), want, rank, count)
            .into_iter()
            .map(|k| len - 1 - k)
            .collect()
    } else {
        find(l.iter().take(scan), want, rank, count)
    };
    match count {
        Some(_) => {
            out.array(found.len());
            for i in found {
                out.int(i as i64);
            }
        }
        None => match found.first() {
            Some(&i) => out.int(i as i64),
            None => out.null(),
        },
    }
    Ok(())
}

/// LPOS's search: the positions (counted along `elems`) of the matches from the `rank`-th
/// on, one of them without `count`, `count` of them (0 = all) with it.
fn find<'a>(
    elems: impl Iterator<Item = Elem<'a>>,
    want: &[u8],
    rank: i64,
    count: Option<i64>,
) -> Vec<usize> {
    let mut found = Vec::new();
    let mut matches: i64 = 0;
    for (k, e) in elems.enumerate() {
        if !e.eq_bytes(want) {
            continue;
        }
        matches += 1;
        if matches < rank {
            continue;
        }
        found.push(k);
        match count {
            None => break,
            // Wrapping, as in redis-server, for the most negative rank.
            Some(c) if c != 0 && matches.wrapping_sub(rank).wrapping_add(1) >= c => break,
            Some(_) => {}
        }
    }
    found
}

/// Moves one element from `end` of `src` to `to` of `dst` (LMOVE's work): `Ok(None)` if
/// `src` is missing (nothing written), WRONGTYPE if either holds another type; otherwise
/// writes the element and returns it. Counts dirty and signals both keys.
pub(crate) fn move_one(
    ctx: &mut Ctx<'_>,
    src: &[u8],
    dst: &[u8],
    from: End,
    to: End,
    out: &mut ReplyBuf,
) -> Result<bool, CommandError> {
    match ctx.type_of(src) {
        None => return Ok(false),
        Some(ValueType::List) => {}
        Some(_) => return Err(CommandError::WrongType),
    }
    if matches!(ctx.type_of(dst), Some(t) if t != ValueType::List) {
        return Err(CommandError::WrongType);
    }
    let t = ctx.store.thresholds;
    // The element is copied out: the source's guard must end before the destination's
    // lookup (and a source left empty is deleted first, as in redis-server).
    let mut value = Vec::new();
    {
        let Some(mut l) = ctx.edit::<List>(src)? else {
            return Ok(false);
        };
        let v = l.view();
        let e = match from {
            End::Front => v.iter().next(),
            End::Back => v.iter_rev().next(),
        };
        if let Some(e) = e {
            e.copy_into(&mut value);
        }
        l.remove(from, 1);
        if src == dst {
            // Rotation: the list is never empty in between.
            l.push(to, &value, &t);
        }
    }
    if src != dst {
        ctx.edit_or_create::<List>(dst)?.push(to, &value, &t);
    }
    ctx.signal(dst);
    ctx.signal(src);
    ctx.dirty(1);
    out.bulk(&value);
    Ok(true)
}

/// `LMOVE source destination <LEFT | RIGHT> <LEFT | RIGHT>`
pub fn lmove(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let from = end_arg(args.get(3))?;
    let to = end_arg(args.get(4))?;
    if !move_one(ctx, args.get(1), args.get(2), from, to, out)? {
        out.null();
    }
    Ok(())
}

/// `RPOPLPUSH source destination`
pub fn rpoplpush(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    if !move_one(ctx, args.get(1), args.get(2), End::Back, End::Front, out)? {
        out.null();
    }
    Ok(())
}

/// LMPOP's and BLMPOP's arguments from `numkeys` (at `at`) on.
pub(crate) struct Mpop {
    /// Index of the first key.
    pub first_key: usize,
    /// Number of keys.
    pub numkeys: usize,
    /// Which end.
    pub end: End,
    /// Elements to pop at most.
    pub count: usize,
}

impl Mpop {
    /// Parses `numkeys key [key ...] <LEFT | RIGHT> [COUNT count]` starting at `at`.
    pub(crate) fn parse(args: &Args<'_>, at: usize) -> Result<Mpop, CommandError> {
        let numkeys = ranged(
            args.get(at),
            1,
            i64::MAX,
            "ERR numkeys should be greater than 0",
        )?;
        let where_idx = (at as u64)
            .checked_add(numkeys as u64)
            .and_then(|w| w.checked_add(1))
            .filter(|&w| w < args.len() as u64)
            .ok_or(CommandError::Syntax)? as usize;
        let end = end_arg(args.get(where_idx))?;
        let mut count = None;
        let mut j = where_idx + 1;
        while j < args.len() {
            if count.is_none() && is(args.get(j), "COUNT") && j + 1 < args.len() {
                j += 1;
                count = Some(ranged(
                    args.get(j),
                    1,
                    i64::MAX,
                    "ERR count should be greater than 0",
                )?);
            } else {
                return Err(CommandError::Syntax);
            }
            j += 1;
        }
        Ok(Mpop {
            first_key: at + 1,
            numkeys: numkeys as usize,
            end,
            count: count.unwrap_or(1) as usize,
        })
    }

    /// Pops from the first non-empty list and writes `[key, [elements…]]`, propagating
    /// `LPOP key n` / `RPOP key n`. Returns false (nothing written) if every list is empty.
    pub(crate) fn run(
        &self,
        ctx: &mut Ctx<'_>,
        args: &Args<'_>,
        out: &mut ReplyBuf,
    ) -> Result<bool, CommandError> {
        for key in args.iter().skip(self.first_key).take(self.numkeys) {
            match ctx.type_of(key) {
                None => continue,
                Some(ValueType::List) => {}
                // See BLPOP's retry (`blocking`): a blocked BLMPOP is served by a list.
                Some(_) if ctx.retrying() => continue,
                Some(_) => return Err(CommandError::WrongType),
            }
            let n = pop_range(ctx, key, self.end, self.count, true, out)?;
            let mut num = itoa::Buffer::new();
            let verb: &[u8] = if self.end == End::Front {
                b"LPOP"
            } else {
                b"RPOP"
            };
            ctx.propagate(&[verb, key, num.format(n).as_bytes()]);
            return Ok(true);
        }
        Ok(false)
    }
}

/// `LMPOP numkeys key [key ...] <LEFT | RIGHT> [COUNT count]`
pub fn lmpop(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let m = Mpop::parse(args, 1)?;
    if !m.run(ctx, args, out)? {
        out.null_array();
    }
    Ok(())
}

/// The list commands this module runs.
pub(crate) const HANDLERS: &[(&str, StoreFn)] = &[
    ("lpush", lpush),
    ("rpush", rpush),
    ("lpushx", lpushx),
    ("rpushx", rpushx),
    ("lpop", lpop),
    ("rpop", rpop),
    ("llen", llen),
    ("lindex", lindex),
    ("lset", lset),
    ("lrange", lrange),
    ("ltrim", ltrim),
    ("lrem", lrem),
    ("linsert", linsert),
    ("lpos", lpos),
    ("lmove", lmove),
    ("rpoplpush", rpoplpush),
    ("lmpop", lmpop),
    ("blpop", blocking::blpop),
    ("brpop", blocking::brpop),
    ("blmove", blocking::blmove),
    ("brpoplpush", blocking::brpoplpush),
    ("blmpop", blocking::blmpop),
];
