//! Ranges of a sorted set: ZRANGE (and its older forms ZREVRANGE, ZRANGEBYSCORE,
//! ZREVRANGEBYSCORE, ZRANGEBYLEX, ZREVRANGEBYLEX), ZRANGESTORE, ZCOUNT, ZLEXCOUNT and the
//! ZREMRANGEBY* deletions (redis-server's `zrangeGenericCommand` and friends).
//!
//! Every range becomes an interval of ranks: a score or lex bound is the number of members
//! before it ([`crate::types::zset::ZSetRef::partition`], O(log n) on the tree), so counting
//! is O(log n) and a reply is written straight from the structure, walking from its first
//! rank.

use cachegate_protocols::resp::request::Args;
use cachegate_protocols::resp::ReplyBuf;

use super::{finish_store, CmdResult, CommandError, Ctx};
use crate::command::args::{self, is};
use crate::types::zset::{score, ZSetRef};
use crate::types::ZSet;

const NOT_FLOAT_RANGE: CommandError = CommandError::Static("ERR min or max is not a float");
const NOT_LEX_RANGE: CommandError =
    CommandError::Static("ERR min or max not valid string range item");

/// A score interval (`zrangespec`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct ScoreRange {
    pub min: f64,
    pub minex: bool,
    pub max: f64,
    pub maxex: bool,
}

impl ScoreRange {
    /// Parses `min` and `max` as ZRANGEBYSCORE reads them.
    pub fn parse(min: &[u8], max: &[u8]) -> Result<ScoreRange, CommandError> {
        let (min, minex) = score::parse_bound(min).ok_or(NOT_FLOAT_RANGE)?;
        let (max, maxex) = score::parse_bound(max).ok_or(NOT_FLOAT_RANGE)?;
        Ok(ScoreRange {
            min,
            minex,
            max,
            maxex,
        })
    }

    /// The ranks `lo..hi` of the members in range.
    pub fn ranks(&self, z: &ZSetRef<'_>) -> (usize, usize) {
        let lo = if self.minex {
            z.partition(|s, _| s <= self.min)
        } else {
            z.partition(|s, _| s < self.min)
        };
        let hi = if self.maxex {
            z.partition(|s, _| s < self.max)
        } else {
            z.partition(|s, _| s <= self.max)
        };
        (lo, hi.max(lo))
    }
}

/// One end of a lex range.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Lex<'a> {
    /// `-`
    Min,
    /// `+`
    Max,
    /// `[member` (inclusive) or `(member` (exclusive).
    At(&'a [u8], bool),
}

impl<'a> Lex<'a> {
    fn parse(arg: &'a [u8]) -> Option<Lex<'a>> {
        // Read as redis-server reads it: the first byte, and for `+`/`-` whether the C string
        // ends after it.
        match arg.first() {
            Some(b'+') if arg.get(1).is_none_or(|&c| c == 0) => Some(Lex::Max),
            Some(b'-') if arg.get(1).is_none_or(|&c| c == 0) => Some(Lex::Min),
            Some(b'(') => Some(Lex::At(&arg[1..], true)),
            Some(b'[') => Some(Lex::At(&arg[1..], false)),
            _ => None,
        }
    }

    /// True if `m` is strictly below this bound taken as a minimum (not `>= min`).
    fn below_min(&self, m: &[u8]) -> bool {
        match *self {
            Lex::Min => false,
            Lex::Max => true,
            Lex::At(v, ex) => {
                if ex {
                    m <= v
                } else {
                    m < v
                }
            }
        }
    }

    /// True if `m` is within this bound taken as a maximum (`<= max`).
    fn within_max(&self, m: &[u8]) -> bool {
        match *self {
            Lex::Min => false,
            Lex::Max => true,
            Lex::At(v, ex) => {
                if ex {
                    m < v
                } else {
                    m <= v
                }
            }
        }
    }
}

/// A lex interval (`zlexrangespec`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct LexRange<'a> {
    pub min: Lex<'a>,
    pub max: Lex<'a>,
}

impl<'a> LexRange<'a> {
    /// Parses `min` and `max` as ZRANGEBYLEX reads them.
    pub fn parse(min: &'a [u8], max: &'a [u8]) -> Result<LexRange<'a>, CommandError> {
        match (Lex::parse(min), Lex::parse(max)) {
            (Some(min), Some(max)) => Ok(LexRange { min, max }),
            _ => Err(NOT_LEX_RANGE),
        }
    }

    /// The ranks `lo..hi` of the members in range (members are compared alone, as
    /// redis-server does: meaningful when they all have the same score).
    pub fn ranks(&self, z: &ZSetRef<'_>) -> (usize, usize) {
        let lo = z.partition(|_, m| self.min.below_min(m));
        let hi = z.partition(|_, m| self.max.within_max(m));
        (lo, hi.max(lo))
    }
}

/// Which kind of range.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum RangeType {
    Auto,
    Rank,
    Score,
    Lex,
}

/// Which direction.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    Auto,
    Forward,
    Reverse,
}

/// Sanitises rank indexes as redis-server does: negative from the end, clamped; `None`
/// when the range is empty. Returns the first rank and the number of members.
pub(crate) fn rank_span(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let llen = len as i64;
    let mut start = if start < 0 { llen + start } else { start };
    let mut end = if end < 0 { llen + end } else { end };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= llen {
        return None;
    }
    if end >= llen {
        end = llen - 1;
    }
    Some((start as usize, (end - start + 1) as usize))
}

/// Where a range's members go: to the client, or into a new set (ZRANGESTORE).
enum Sink<'o> {
    Client {
        out: &'o mut ReplyBuf,
        withscores: bool,
    },
    Store(Vec<(Vec<u8>, f64)>),
}

impl Sink<'_> {
    fn begin(&mut self, n: usize) {
        match self {
            Sink::Client { out, withscores } => {
                if *withscores && !out.is_resp3() {
                    out.array(2 * n);
                } else {
                    out.array(n);
                }
            }
            Sink::Store(v) => v.reserve(n.min(1 << 16)),
        }
    }

    #[inline]
    fn emit(&mut self, m: &[u8], s: f64) {
        match self {
            Sink::Client { out, withscores } => {
                if *withscores {
                    if out.is_resp3() {
                        out.array(2);
                    }
                    out.bulk(m);
                    out.double(s);
                } else {
                    out.bulk(m);
                }
            }
            Sink::Store(v) => v.push((m.to_vec(), s)),
        }
    }
}

/// Emits `n` members from rank `first`, or (`rev`) from reverse rank `first`, i.e. forward
/// rank `len - 1 - first`, walking down.
fn emit_ranks(z: &ZSetRef<'_>, first: usize, n: usize, rev: bool, sink: &mut Sink<'_>) {
    let from = if rev { z.len() - 1 - first } else { first };
    emit_from(z, from, n, rev, sink);
}

/// Emits the members of ranks `lo..hi` after `offset` of them, at most `limit` (negative:
/// no limit), from `lo` up or (`rev`) from `hi - 1` down. A negative offset gives nothing,
/// as redis-server's skip loop runs off the end.
fn emit_interval(
    z: &ZSetRef<'_>,
    (lo, hi): (usize, usize),
    offset: i64,
    limit: i64,
    rev: bool,
    sink: &mut Sink<'_>,
) {
    let count = hi - lo;
    if offset < 0 || offset as u64 >= count as u64 {
        sink.begin(0);
        return;
    }
    let offset = offset as usize;
    let mut n = count - offset;
    if limit >= 0 && (limit as u64) < n as u64 {
        n = limit as usize;
    }
    if rev {
        emit_from(z, hi - 1 - offset, n, true, sink);
    } else {
        emit_from(z, lo + offset, n, false, sink);
    }
}

/// Emits `n` members from forward rank `from`, up or (`rev`) down.
fn emit_from(z: &ZSetRef<'_>, from: usize, n: usize, rev: bool, sink: &mut Sink<'_>) {
    sink.begin(n);
    if n == 0 {
        return;
    }
    if rev {
        for (m, s) in z.iter_rev_from(from).take(n) {
            sink.emit(m, s);
        }
    } else {
        for (m, s) in z.iter_from(from).take(n) {
            sink.emit(m, s);
        }
    }
}

/// The common body of every ZRANGE form: `first` is the index of the source key, `store`
/// the destination of ZRANGESTORE.
fn zrange_generic(
    ctx: &mut Ctx<'_>,
    args: &Args<'_>,
    first: usize,
    store: Option<&[u8]>,
    mut rangetype: RangeType,
    mut direction: Direction,
    out: &mut ReplyBuf,
) -> CmdResult {
    let key = args.get(first);
    let mut minidx = first + 1;
    let mut maxidx = first + 2;
    let mut withscores = false;
    let mut offset = 0i64;
    let mut limit = -1i64;
    let mut j = first + 3;
    while j < args.len() {
        let left = args.len() - j - 1;
        let a = args.get(j);
        if store.is_none() && is(a, "withscores") {
            withscores = true;
        } else if is(a, "limit") && left >= 2 {
            offset = args::int(args.get(j + 1))?;
            limit = args::int(args.get(j + 2))?;
            j += 2;
        } else if direction == Direction::Auto && is(a, "rev") {
            direction = Direction::Reverse;
        } else if rangetype == RangeType::Auto && is(a, "bylex") {
            rangetype = RangeType::Lex;
        } else if rangetype == RangeType::Auto && is(a, "byscore") {
            rangetype = RangeType::Score;
        } else {
            return Err(CommandError::Syntax);
        }
        j += 1;
    }
    if direction == Direction::Auto {
        direction = Direction::Forward;
    }
    if rangetype == RangeType::Auto {
        rangetype = RangeType::Rank;
    }
    if limit != -1 && rangetype == RangeType::Rank {
        return Err(CommandError::Static(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if withscores && rangetype == RangeType::Lex {
        return Err(CommandError::Static(
            "ERR syntax error, WITHSCORES not supported in combination with BYLEX",
        ));
    }
    let rev = direction == Direction::Reverse;
    if rev && rangetype != RangeType::Rank {
        std::mem::swap(&mut minidx, &mut maxidx);
    }
    enum Parsed<'a> {
        Rank(i64, i64),
        Score(ScoreRange),
        Lex(LexRange<'a>),
    }
    let parsed = match rangetype {
        RangeType::Score => Parsed::Score(ScoreRange::parse(args.get(minidx), args.get(maxidx))?),
        RangeType::Lex => Parsed::Lex(LexRange::parse(args.get(minidx), args.get(maxidx))?),
        _ => Parsed::Rank(args::int(args.get(minidx))?, args::int(args.get(maxidx))?),
    };
    let mut sink = match store {
        Some(_) => Sink::Store(Vec::new()),
        None => Sink::Client {
            out: &mut *out,
            withscores,
        },
    };
    {
        let z = ctx.read::<ZSet>(key)?;
        if let Some(z) = z {
            match parsed {
                Parsed::Rank(start, end) => match rank_span(start, end, z.len()) {
                    Some((s, n)) => emit_ranks(&z, s, n, rev, &mut sink),
                    None => sink.begin(0),
                },
                Parsed::Score(r) => {
                    let iv = if offset > 0 && offset as u64 >= z.len() as u64 {
                        (0, 0)
                    } else {
                        r.ranks(&z)
                    };
                    emit_interval(&z, iv, offset, limit, rev, &mut sink);
                }
                Parsed::Lex(r) => {
                    let iv = if offset > 0 && offset as u64 >= z.len() as u64 {
                        (0, 0)
                    } else {
                        r.ranks(&z)
                    };
                    emit_interval(&z, iv, offset, limit, rev, &mut sink);
                }
            }
        } else {
            sink.begin(0);
        }
    }
    if let (Some(dst), Sink::Store(mut items)) = (store, sink) {
        if rev {
            items.reverse();
        }
        let t = ctx.store.thresholds;
        let z = ZSet::build(&items, &t);
        drop(items);
        finish_store(ctx, dst, z, out);
    }
    Ok(())
}

/// `ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]`
pub fn zrange(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    zrange_generic(ctx, args, 1, None, RangeType::Auto, Direction::Auto, out)
}

/// `ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]`
pub fn zrangestore(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let dst = args.get(1);
    zrange_generic(
        ctx,
        args,
        2,
        Some(dst),
        RangeType::Auto,
        Direction::Auto,
        out,
    )
}

/// `ZREVRANGE key start stop [WITHSCORES]`
pub fn zrevrange(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    zrange_generic(ctx, args, 1, None, RangeType::Rank, Direction::Reverse, out)
}

/// `ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]`
pub fn zrangebyscore(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    zrange_generic(
        ctx,
        args,
        1,
        None,
        RangeType::Score,
        Direction::Forward,
        out,
    )
}

/// `ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]`
pub fn zrevrangebyscore(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    zrange_generic(
        ctx,
        args,
        1,
        None,
        RangeType::Score,
        Direction::Reverse,
        out,
    )
}

/// `ZRANGEBYLEX key min max [LIMIT offset count]`
pub fn zrangebylex(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    zrange_generic(ctx, args, 1, None, RangeType::Lex, Direction::Forward, out)
}

/// `ZREVRANGEBYLEX key max min [LIMIT offset count]`
pub fn zrevrangebylex(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    zrange_generic(ctx, args, 1, None, RangeType::Lex, Direction::Reverse, out)
}

/// `ZCOUNT key min max`
pub fn zcount(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let r = ScoreRange::parse(args.get(2), args.get(3))?;
    let n = ctx.read::<ZSet>(args.get(1))?.map_or(0, |z| {
        let (lo, hi) = r.ranks(&z);
        hi - lo
    });
    out.int(n as i64);
    Ok(())
}

/// `ZLEXCOUNT key min max`
pub fn zlexcount(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let r = LexRange::parse(args.get(2), args.get(3))?;
    let n = ctx.read::<ZSet>(args.get(1))?.map_or(0, |z| {
        let (lo, hi) = r.ranks(&z);
        hi - lo
    });
    out.int(n as i64);
    Ok(())
}

/// Deletes the members of ranks `lo..hi` that a ZREMRANGEBY* command chose.
fn remove_interval(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    pick: impl FnOnce(&ZSetRef<'_>) -> (usize, usize),
    out: &mut ReplyBuf,
) -> CmdResult {
    let Some(mut z) = ctx.edit::<ZSet>(key)? else {
        out.int(0);
        return Ok(());
    };
    let (lo, hi) = pick(&z.view());
    let deleted = z.remove_ranks(lo, hi);
    drop(z);
    if deleted > 0 {
        ctx.dirty(deleted as u64);
        ctx.signal(key);
    }
    out.int(deleted as i64);
    Ok(())
}

/// `ZREMRANGEBYRANK key start stop`
pub fn zremrangebyrank(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let start = args::int(args.get(2))?;
    let end = args::int(args.get(3))?;
    remove_interval(
        ctx,
        args.get(1),
        |z| match rank_span(start, end, z.len()) {
            Some((s, n)) => (s, s + n),
            None => (0, 0),
        },
        out,
    )
}

/// `ZREMRANGEBYSCORE key min max`
pub fn zremrangebyscore(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let r = ScoreRange::parse(args.get(2), args.get(3))?;
    remove_interval(ctx, args.get(1), |z| r.ranks(z), out)
}

/// `ZREMRANGEBYLEX key min max`
pub fn zremrangebylex(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let r = LexRange::parse(args.get(2), args.get(3))?;
    remove_interval(ctx, args.get(1), |z| r.ranks(z), out)
}
