//! Set algebra (redis-server's `sinterGenericCommand` and `sunionDiffGenericCommand`):
//! SINTER, SINTERCARD, SINTERSTORE, SUNION, SUNIONSTORE, SDIFF, SDIFFSTORE. Each handler's
//! doc line is its syntax.
//!
//! Every key is looked up for reading first, in order (hits, misses, lazy expiry), and a key
//! holding another type fails the command at once; only then are views of all the sets
//! taken together, from the database without further lookups, so no slot outlives a lookup.
//! A missing key is an empty set.
//!
//! The algorithms are redis-server's, because they decide the order of the reply and the
//! encoding of a stored result: SINTER walks the smallest set and probes the others; SUNION
//! adds every member to a new set; SDIFF picks, by the sizes involved, between probing the
//! others for each member of the first set and subtracting them all from a copy of it. The
//! result sets start as intsets, as redis-server's do, so a result of integers comes out
//! ascending. A STORE form replaces whatever the destination held (any type, its TTL gone)
//! and deletes it when the result is empty; it is replayed as sent.

use cachegate_protocols::resp::request::Args;
use cachegate_protocols::resp::ReplyBuf;

use super::args::is;
use super::set::{view, write_member};
use super::spec::StoreFn;
use super::{CmdResult, CommandError, Ctx};
use crate::keyspace::entry::{Entry, ValueType};
use crate::keyspace::{Db, Lookup};
use crate::types::set::{Member, SetRef};
use crate::types::{Set, Thresholds};

/// One set of an operation: its key (a set named twice is the same set) and its view.
#[derive(Clone, Copy)]
struct Operand<'a> {
    key: &'a [u8],
    set: SetRef<'a>,
}

/// Looks every key up for reading, in order; WRONGTYPE at the first that is not a set.
fn look_up(ctx: &mut Ctx<'_>, keys: &[&[u8]]) -> CmdResult {
    for key in keys {
        if let Some(slot) = ctx.lookup_read(key) {
            if ctx.db().get(slot).value_type() != ValueType::Set {
                return Err(CommandError::WrongType);
            }
        }
    }
    Ok(())
}

/// Views of the sets at `keys`, after [`look_up`]: `None` for a missing key.
fn operands<'a>(db: &'a Db, keys: &[&'a [u8]]) -> Vec<Option<Operand<'a>>> {
    keys.iter()
        .map(|&key| view(db, key).map(|set| Operand { key, set }))
        .collect()
}

/// Stores `result` at `dst`, replacing any value, or deletes `dst` if `result` is empty;
/// replies the result's size.
fn store(ctx: &mut Ctx<'_>, dst: &[u8], result: Set, out: &mut ReplyBuf) {
    let n = result.view().len();
    if n == 0 {
        // redis-server's dbDelete: whatever is there goes, live or not.
        if ctx.db().delete(dst) {
            ctx.modified(dst);
        }
        out.int(0);
        return;
    }
    let entry = Entry::new_value(dst, result, None, ctx.lru());
    match ctx.lookup_write(dst) {
        Lookup::Found(slot) => ctx.db().replace(slot, entry),
        Lookup::Missing(hash) => ctx.db().add(hash, entry),
    }
    ctx.modified(dst);
    out.int(n as i64);
}

/// What an intersection produces.
#[derive(Clone, Copy)]
enum Inter<'k> {
    /// The members, as a set reply.
    Reply,
    /// How many, stopping at a limit (0 = none).
    Card(u64),
    /// A set stored at this key.
    Store(&'k [u8]),
}

fn inter(ctx: &mut Ctx<'_>, keys: &[&[u8]], mode: Inter<'_>, out: &mut ReplyBuf) -> CmdResult {
    look_up(ctx, keys)?;
    let t = ctx.store.thresholds;
    let db = ctx.store.keyspace.db(ctx.session.db);
    let found = operands(db, keys);
    let result = if found.iter().any(Option::is_none) {
        // An empty set empties the intersection.
        match mode {
            Inter::Reply => out.set(0),
            Inter::Card(_) => out.int(0),
            Inter::Store(_) => {}
        }
        Set::new()
    } else {
        let mut sets: Vec<Operand<'_>> = found.into_iter().flatten().collect();
        // Smallest first; a stable sort keeps equal sizes in key order, as glibc's qsort
        // (a merge sort) does for redis-server.
        sets.sort_by_key(|o| o.set.len());
        // The arity checks guarantee a key (SINTERCARD's numkeys is at least 1).
        let Some((first, rest)) = sets.split_first() else {
            return Err(CommandError::Syntax);
        };
        let members = first.set.iter().filter(|&m| {
            rest.iter()
                .all(|o| o.key == first.key || o.set.contains_member(m))
        });
        match mode {
            Inter::Reply => {
                let all: Vec<Member<'_>> = members.collect();
                out.set(all.len());
                all.into_iter().for_each(|m| write_member(out, m));
                Set::new()
            }
            Inter::Card(limit) => {
                let mut n = 0u64;
                for _ in members {
                    n += 1;
                    if limit > 0 && n >= limit {
                        break;
                    }
                }
                out.int(n as i64);
                Set::new()
            }
            Inter::Store(_) => {
                let mut r = Set::new();
                members.for_each(|m| {
                    r.add_member(m, &t);
                });
                r
            }
        }
    };
    if let Inter::Store(dst) = mode {
        store(ctx, dst, result, out);
    }
    Ok(())
}

/// Union or difference.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Union,
    Diff,
}

/// The union or difference of `sets` (in command order; `None` = missing key).
fn combine(sets: &mut [Option<Operand<'_>>], op: Op, t: &Thresholds) -> Set {
    let mut r = Set::new();
    let len = |o: &Option<Operand<'_>>| o.map_or(0, |o| o.set.len());
    if op == Op::Union {
        for o in sets.iter().flatten() {
            o.set.iter().for_each(|m| {
                r.add_member(m, t);
            });
        }
        return r;
    }
    let Some((Some(first), others)) = sets.split_first_mut() else {
        return r;
    };
    let first = *first;
    if others.iter().flatten().any(|o| o.key == first.key) {
        // A set minus itself.
        return r;
    }
    // Probing the others per member of the first costs |first| per set; subtracting costs
    // every member of every set. redis-server halves the first estimate, its steps being
    // cheaper.
    let present = 1 + others.iter().flatten().count();
    let probe_work = first.set.len() * present / 2;
    let subtract_work: usize = first.set.len() + others.iter().map(len).sum::<usize>();
    if probe_work <= subtract_work {
        // Biggest first: the likeliest to hold a member, ending its probes soonest.
        others.sort_by_key(|o| std::cmp::Reverse(len(o)));
        for m in first.set.iter() {
            if !others.iter().flatten().any(|o| o.set.contains_member(m)) {
                r.add_member(m, t);
            }
        }
    } else {
        first.set.iter().for_each(|m| {
            r.add_member(m, t);
        });
        for o in others.iter().flatten() {
            if r.view().is_empty() {
                break;
            }
            o.set.iter().for_each(|m| {
                r.remove_member(m);
            });
        }
    }
    r
}

fn union_diff(
    ctx: &mut Ctx<'_>,
    keys: &[&[u8]],
    op: Op,
    dst: Option<&[u8]>,
    out: &mut ReplyBuf,
) -> CmdResult {
    look_up(ctx, keys)?;
    let t = ctx.store.thresholds;
    let db = ctx.store.keyspace.db(ctx.session.db);
    let result = combine(&mut operands(db, keys), op, &t);
    match dst {
        Some(dst) => store(ctx, dst, result, out),
        None => {
            out.set(result.view().len());
            result.view().iter().for_each(|m| write_member(out, m));
        }
    }
    Ok(())
}

/// SPOP's reply when it takes a whole set: the set as SUNION of it answers.
pub(crate) fn union_reply(ctx: &mut Ctx<'_>, key: &[u8], out: &mut ReplyBuf) -> CmdResult {
    union_diff(ctx, &[key], Op::Union, None, out)
}

fn keys_from<'a>(args: &Args<'a>, from: usize) -> Vec<&'a [u8]> {
    args.iter().skip(from).collect()
}

/// `SINTER key [key ...]`
pub fn sinter(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    inter(ctx, &keys_from(args, 1), Inter::Reply, out)
}

/// `SINTERSTORE destination key [key ...]`
pub fn sinterstore(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    inter(ctx, &keys_from(args, 2), Inter::Store(args.get(1)), out)
}

/// `SINTERCARD numkeys key [key ...] [LIMIT limit]`
pub fn sintercard(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    use cachegate_protocols::number::parse_i64;
    let numkeys = parse_i64(args.get(1))
        .filter(|&n| n >= 1)
        .ok_or(CommandError::Static("ERR numkeys should be greater than 0"))?;
    let numkeys = usize::try_from(numkeys).unwrap_or(usize::MAX);
    if numkeys > args.len() - 2 {
        return Err(CommandError::Static(
            "ERR Number of keys can't be greater than number of args",
        ));
    }
    let mut limit = 0u64;
    let mut i = 2 + numkeys;
    while i < args.len() {
        if is(args.get(i), "LIMIT") && i + 1 < args.len() {
            limit = parse_i64(args.get(i + 1))
                .and_then(|l| u64::try_from(l).ok())
                .ok_or(CommandError::Static("ERR LIMIT can't be negative"))?;
            i += 2;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    let keys: Vec<&[u8]> = args.iter().skip(2).take(numkeys).collect();
    inter(ctx, &keys, Inter::Card(limit), out)
}

/// `SUNION key [key ...]`
pub fn sunion(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    union_diff(ctx, &keys_from(args, 1), Op::Union, None, out)
}

/// `SUNIONSTORE destination key [key ...]`
pub fn sunionstore(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    union_diff(ctx, &keys_from(args, 2), Op::Union, Some(args.get(1)), out)
}

/// `SDIFF key [key ...]`
pub fn sdiff(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    union_diff(ctx, &keys_from(args, 1), Op::Diff, None, out)
}

/// `SDIFFSTORE destination key [key ...]`
pub fn sdiffstore(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    union_diff(ctx, &keys_from(args, 2), Op::Diff, Some(args.get(1)), out)
}

/// The set algebra commands this module runs.
pub(crate) const HANDLERS: &[(&str, StoreFn)] = &[
    ("sinter", sinter),
    ("sintercard", sintercard),
    ("sinterstore", sinterstore),
    ("sunion", sunion),
    ("sunionstore", sunionstore),
    ("sdiff", sdiff),
    ("sdiffstore", sdiffstore),
];
