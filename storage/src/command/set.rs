//! Set commands on one key (redis-server's t_set.c): SADD, SREM, SMOVE, the membership
//! reads, SPOP, SRANDMEMBER and SSCAN. The commands combining several sets (SINTER, SUNION,
//! SDIFF and their STORE forms, SINTERCARD) are in [`super::setops`]; the data structure is
//! [`crate::types::Set`]. Each handler's doc line is its syntax.
//!
//! Every write counts dirty and signals its keys. SPOP chooses at random, so it is emitted
//! in its replayable form (see [`crate::writes`]): without a count as `SREM key member`;
//! with a count as `SREM`s of the popped members (batched, up to [`SREM_BATCH`] members
//! each, where 7.0.15 sends one SREM per member), or `DEL` when it takes the whole set.
//! Random choices come from [`crate::Store::random`].

use std::collections::HashSet;

use cachegate_protocols::resp::request::Args;
use cachegate_protocols::resp::ReplyBuf;

use super::args;
use super::scan::ScanOpts;
use super::spec::StoreFn;
use super::{setops, CmdResult, CommandError, Ctx};
use crate::keyspace::entry::ValueType;
use crate::keyspace::{Db, Lookup};
use crate::types::set::{Member, SetRef};
use crate::types::Set;

/// Members per SREM in SPOP's replayable form (redis-server 7.2's batch size).
pub const SREM_BATCH: usize = 1024;

/// SPOP with a count rebuilds the set from the members it keeps, instead of popping, once
/// it pops more than this many times what it keeps (redis-server's
/// `SPOP_MOVE_STRATEGY_MUL`; it decides the resulting encoding, see [`spop`]).
const SPOP_MOVE_STRATEGY_MUL: usize = 5;

/// SRANDMEMBER with a positive count copies the whole set once the set is at most this many
/// times the count (`SRANDMEMBER_SUB_STRATEGY_MUL`), and samples otherwise.
const SRANDMEMBER_SUB_STRATEGY_MUL: usize = 3;

/// Writes a member as a bulk string.
pub(crate) fn write_member(out: &mut ReplyBuf, m: Member<'_>) {
    match m {
        Member::Int(v) => out.bulk_i64(v),
        Member::Bytes(b) => out.bulk(b),
    }
}

/// The set at `key` without a lookup (no statistics, no expiry): for commands that looked
/// every key up first and now need views of several at once.
pub(crate) fn view<'a>(db: &'a Db, key: &[u8]) -> Option<SetRef<'a>> {
    match db.find(key) {
        Lookup::Found(slot) => db.get(slot).collection::<Set>(),
        Lookup::Missing(_) => None,
    }
}

/// The type at `key`, looked up for writing (lazy expiry, LRU; no hit/miss statistics).
fn type_for_write(ctx: &mut Ctx<'_>, key: &[u8]) -> Option<ValueType> {
    match ctx.lookup_write(key) {
        Lookup::Found(slot) => Some(ctx.db().get(slot).value_type()),
        Lookup::Missing(_) => None,
    }
}

/// Members copied out of a set, in one buffer (one allocation however many).
#[derive(Default)]
struct Picked {
    data: Vec<u8>,
    ends: Vec<usize>,
}

impl Picked {
    fn push(&mut self, m: Member<'_>) {
        m.with_bytes(|b| self.data.extend_from_slice(b));
        self.ends.push(self.data.len());
    }

    fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts.zip(self.ends.iter()).map(|(s, &e)| &self.data[s..e])
    }
}

/// The random numbers of one command, seeded from the store's generator.
struct Rng(u64);

impl Rng {
    fn new(ctx: &mut Ctx<'_>) -> Rng {
        Rng(ctx.store.random() | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

/// Emits `SREM key <members>` in batches: the replayable form of members taken at random.
fn propagate_srem(ctx: &mut Ctx<'_>, key: &[u8], picked: &Picked) {
    let mut argv: Vec<&[u8]> = Vec::with_capacity(2 + SREM_BATCH.min(picked.ends.len()));
    let mut it = picked.iter().peekable();
    while it.peek().is_some() {
        argv.clear();
        argv.push(b"SREM");
        argv.push(key);
        argv.extend(it.by_ref().take(SREM_BATCH));
        ctx.propagate(&argv);
    }
}

/// `SADD key member [member ...]`
pub fn sadd(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let key = args.get(1);
    let t = ctx.store.thresholds;
    let mut s = ctx.edit_or_create::<Set>(key)?;
    let bytes = args.iter().skip(2).map(<[u8]>::len).sum();
    s.reserve(args.len() - 2, bytes);
    let mut added = 0;
    for m in args.iter().skip(2) {
        added += u64::from(s.add(m, &t));
    }
    drop(s);
    if added > 0 {
        ctx.dirty(added);
        ctx.signal(key);
    }
    out.int(added as i64);
    Ok(())
}

/// `SREM key member [member ...]`
pub fn srem(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let key = args.get(1);
    let Some(mut s) = ctx.edit::<Set>(key)? else {
        out.int(0);
        return Ok(());
    };
    let mut removed = 0;
    for m in args.iter().skip(2) {
        if s.remove(m) {
            removed += 1;
            if s.view().is_empty() {
                break;
            }
        }
    }
    drop(s);
    if removed > 0 {
        ctx.dirty(removed);
        ctx.signal(key);
    }
    out.int(removed as i64);
    Ok(())
}

/// `SMOVE source destination member`
pub fn smove(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let (src, dst, m) = (args.get(1), args.get(2), args.get(3));
    let src_type = type_for_write(ctx, src);
    let dst_type = type_for_write(ctx, dst);
    let Some(src_type) = src_type else {
        out.int(0);
        return Ok(());
    };
    if src_type != ValueType::Set || dst_type.is_some_and(|t| t != ValueType::Set) {
        return Err(CommandError::WrongType);
    }
    if src == dst {
        let db = ctx.store.keyspace.db(ctx.session.db);
        let found = view(db, src).is_some_and(|s| s.contains(m));
        out.int(i64::from(found));
        return Ok(());
    }
    let removed = match ctx.edit::<Set>(src)? {
        Some(mut s) => s.remove(m),
        None => false,
    };
    if !removed {
        out.int(0);
        return Ok(());
    }
    ctx.modified(src);
    let t = ctx.store.thresholds;
    let added = ctx.edit_or_create::<Set>(dst)?.add(m, &t);
    if added {
        ctx.modified(dst);
    }
    out.int(1);
    Ok(())
}

/// `SISMEMBER key member`
pub fn sismember(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let found = ctx
        .read::<Set>(args.get(1))?
        .is_some_and(|s| s.contains(args.get(2)));
    out.int(i64::from(found));
    Ok(())
}

/// `SMISMEMBER key member [member ...]`
pub fn smismember(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let s = ctx.read::<Set>(args.get(1))?;
    out.array(args.len() - 2);
    for m in args.iter().skip(2) {
        out.int(i64::from(s.is_some_and(|s| s.contains(m))));
    }
    Ok(())
}

/// `SCARD key`
pub fn scard(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let n = ctx.read::<Set>(args.get(1))?.map_or(0, |s| s.len());
    out.int(n as i64);
    Ok(())
}

/// `SMEMBERS key`
pub fn smembers(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let s = ctx.read::<Set>(args.get(1))?;
    out.set(s.map_or(0, |s| s.len()));
    for m in s.iter().flat_map(SetRef::iter) {
        write_member(out, m);
    }
    Ok(())
}

/// SPOP and SPOP's count: `getPositiveLongFromObjectOrReply`, whose message redis-server
/// also gives for a count that is not an integer.
fn positive_count(arg: &[u8]) -> Result<usize, CommandError> {
    const RANGE: CommandError = CommandError::Static("ERR value is out of range, must be positive");
    match cachegate_protocols::number::parse_i64(arg) {
        Some(v) if v >= 0 => usize::try_from(v).map_err(|_| RANGE),
        _ => Err(RANGE),
    }
}

/// `SPOP key [count]`
///
/// With a count smaller than the set, redis-server pops members one by one while it keeps
/// more than a fifth of them; otherwise it draws the members to *keep* into a new set and
/// returns the rest. That new set is built like any other — an intset if everything kept is
/// an integer and fits `set-max-intset-entries` — so a `hashtable` set can come out as an
/// `intset`. cachegate does the same; since SREMs could not reproduce that encoding, in that
/// one case the replayable form is `DEL key` and `SADD key <kept members>`.
pub fn spop(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    match args.len() {
        3 => return spop_count(ctx, args, out),
        n if n > 3 => return Err(CommandError::Syntax),
        _ => {}
    }
    let key = args.get(1);
    let mut rng = Rng::new(ctx);
    let Some(mut s) = ctx.edit::<Set>(key)? else {
        out.null();
        return Ok(());
    };
    let mut picked = Picked::default();
    s.pop_random(rng.next(), |m| picked.push(m));
    drop(s);
    let Some(m) = picked.iter().next() else {
        out.null();
        return Ok(());
    };
    out.bulk(m);
    ctx.modified(key);
    ctx.propagate(&[b"SREM", key, m]);
    Ok(())
}

fn spop_count(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let key = args.get(1);
    let count = positive_count(args.get(2))?;
    let t = ctx.store.thresholds;
    let mut rng = Rng::new(ctx);
    let Some(mut s) = ctx.edit::<Set>(key)? else {
        out.set(0);
        return Ok(());
    };
    let size = s.view().len();
    if count == 0 {
        drop(s);
        out.set(0);
        return Ok(());
    }
    if count >= size {
        // The whole set, answered as SUNION of it would be (redis-server calls it).
        drop(s);
        setops::union_reply(ctx, key, out)?;
        ctx.db().delete(key);
        ctx.dirty(size as u64);
        ctx.signal(key);
        ctx.propagate(&[b"DEL", key]);
        return Ok(());
    }
    out.set(count);
    let remaining = size - count;
    let mut picked = Picked::default();
    if remaining * SPOP_MOVE_STRATEGY_MUL > count {
        for _ in 0..count {
            s.pop_random(rng.next(), |m| {
                write_member(out, m);
                picked.push(m);
            });
        }
        drop(s);
        propagate_srem(ctx, key, &picked);
    } else {
        let mut keep = Set::new();
        for _ in 0..remaining {
            s.pop_random(rng.next(), |m| {
                keep.add_member(m, &t);
            });
        }
        for m in s.view().iter() {
            write_member(out, m);
            picked.push(m);
        }
        let reencoded = !s.view().is_intset() && keep.view().is_intset();
        let mut kept = Picked::default();
        if reencoded {
            keep.view().iter().for_each(|m| kept.push(m));
        }
        *s = keep;
        drop(s);
        if reencoded {
            ctx.propagate(&[b"DEL", key]);
            let mut argv: Vec<&[u8]> = vec![b"SADD", key];
            argv.extend(kept.iter());
            ctx.propagate(&argv);
        } else {
            propagate_srem(ctx, key, &picked);
        }
    }
    ctx.dirty(count as u64);
    ctx.signal(key);
    Ok(())
}

/// `SRANDMEMBER key [count]`
pub fn srandmember(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    if args.len() > 3 {
        return Err(CommandError::Syntax);
    }
    let count = match args.len() {
        3 => Some(args::int_range(args.get(2), -i64::MAX, i64::MAX)?),
        _ => None,
    };
    let mut rng = Rng::new(ctx);
    let Some(s) = ctx.read::<Set>(args.get(1))? else {
        match count {
            None => out.null(),
            Some(_) => out.array(0),
        }
        return Ok(());
    };
    let Some(count) = count else {
        match s.random(rng.next()) {
            Some((_, m)) => write_member(out, m),
            None => out.null(),
        }
        return Ok(());
    };
    let n = count.unsigned_abs() as usize;
    if n == 0 {
        out.array(0);
        return Ok(());
    }
    if count < 0 || n == 1 {
        // Independent picks, repetitions allowed. The reply is written as it goes: a huge
        // count costs output, not an allocation up front.
        out.array(n);
        for _ in 0..n {
            if let Some((_, m)) = s.random(rng.next()) {
                write_member(out, m);
            }
        }
        return Ok(());
    }
    let size = s.len();
    if n >= size {
        out.array(size);
        s.iter().for_each(|m| write_member(out, m));
        return Ok(());
    }
    out.array(n);
    if n * SRANDMEMBER_SUB_STRATEGY_MUL > size {
        // Most of the set: shuffle a copy of its members partly.
        let mut all: Vec<Member<'_>> = s.iter().collect();
        for i in 0..n {
            let j = i + (rng.next() % (all.len() - i) as u64) as usize;
            all.swap(i, j);
            write_member(out, all[i]);
        }
    } else {
        // A small part of a big set: sample, skipping members already picked.
        let mut seen = HashSet::with_capacity(n);
        let mut written = 0;
        while written < n {
            let Some((id, m)) = s.random(rng.next()) else {
                break;
            };
            if seen.insert(id) {
                write_member(out, m);
                written += 1;
            }
        }
    }
    Ok(())
}

/// `SSCAN key cursor [MATCH pattern] [COUNT count]`
pub fn sscan(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let mut cursor = args::cursor(args.get(2))?;
    // redis-server answers a missing key before it reads the options.
    let Some(s) = ctx.read::<Set>(args.get(1))? else {
        scan_reply(out, 0, &[]);
        return Ok(());
    };
    let opts = ScanOpts::parse(args, 3, false)?;
    let mut items: Vec<Member<'_>> = Vec::new();
    let mut budget = opts.count.saturating_mul(10);
    loop {
        cursor = s.scan(cursor, |m| {
            if m.with_bytes(|b| opts.matches(b)) {
                items.push(m);
            }
        });
        budget -= 1;
        if cursor == 0 || budget <= 0 || items.len() as i64 >= opts.count {
            break;
        }
    }
    scan_reply(out, cursor, &items);
    Ok(())
}

fn scan_reply(out: &mut ReplyBuf, cursor: u64, items: &[Member<'_>]) {
    out.array(2);
    out.bulk(itoa::Buffer::new().format(cursor).as_bytes());
    out.array(items.len());
    for &m in items {
        write_member(out, m);
    }
}

/// The set commands on one key this module runs.
pub(crate) const HANDLERS: &[(&str, StoreFn)] = &[
    ("sadd", sadd),
    ("srem", srem),
    ("smove", smove),
    ("sismember", sismember),
    ("smismember", smismember),
    ("scard", scard),
    ("smembers", smembers),
    ("spop", spop),
    ("srandmember", srandmember),
    ("sscan", sscan),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picked_members_come_back_in_order() {
        let mut p = Picked::default();
        p.push(Member::Int(-12));
        p.push(Member::Bytes(b""));
        p.push(Member::Bytes(b"abc"));
        let all: Vec<&[u8]> = p.iter().collect();
        assert_eq!(all, vec![&b"-12"[..], b"", b"abc"]);
    }

    #[test]
    fn counts() {
        assert_eq!(positive_count(b"0"), Ok(0));
        assert_eq!(positive_count(b"7"), Ok(7));
        assert!(positive_count(b"-1").is_err());
        assert!(positive_count(b"x").is_err());
    }
}
