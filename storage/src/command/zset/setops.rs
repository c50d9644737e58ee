//! ZUNION, ZINTER, ZDIFF, their *STORE forms and ZINTERCARD (redis-server's
//! `zunionInterDiffGenericCommand`). Plain sets are accepted as inputs, each member with
//! score 1.
//!
//! Scores are aggregated in redis-server's order, so sums of three or more inputs round the
//! same way: the inputs sorted by size (smallest first, a stable sort), each element's
//! first score weighted (NaN becomes 0, as `inf * 0` does), then each later one aggregated
//! (a NaN sum becomes 0).

use std::collections::HashMap;

use cachegate_protocols::resp::request::Args;
use cachegate_protocols::resp::ReplyBuf;

use super::{finish_store, CmdResult, CommandError, Ctx};
use crate::command::args::{self, is};
use crate::keyspace::entry::ValueType;
use crate::keyspace::Lookup;
use crate::types::zset::{packed::cmp, ZSetRef};
use crate::types::{Set, ZSet};

/// What to compute.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Union,
    Inter,
    Diff,
}

/// How scores of one member in several inputs combine.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

fn aggregate(target: &mut f64, v: f64, how: Aggregate) {
    match how {
        Aggregate::Sum => {
            *target += v;
            if target.is_nan() {
                *target = 0.0;
            }
        }
        Aggregate::Min => {
            if v < *target {
                *target = v;
            }
        }
        Aggregate::Max => {
            if v > *target {
                *target = v;
            }
        }
    }
}

/// A set as an input (every member weighs 1): its view, for membership, and its members
/// as bytes (an intset holds integers, so they are rendered once, up front).
mod plain_set {
    use crate::types::set::SetRef;
    pub type Ref<'a> = (SetRef<'a>, &'a [Vec<u8>]);
    pub fn len(s: &Ref<'_>) -> usize {
        s.1.len()
    }
    pub fn members<'a>(s: &Ref<'a>) -> impl Iterator<Item = &'a [u8]> + 'a {
        s.1.iter().map(Vec::as_slice)
    }
    pub fn contains(s: &Ref<'_>, m: &[u8]) -> bool {
        s.0.contains(m)
    }
}

/// One input.
#[derive(Clone, Copy)]
enum Input<'a> {
    Missing,
    Z(ZSetRef<'a>),
    S(plain_set::Ref<'a>),
}

#[derive(Clone, Copy)]
struct Source<'a> {
    input: Input<'a>,
    weight: f64,
    /// The position of the first input with the same key (the same object to redis-server).
    same_as: usize,
}

impl<'a> Source<'a> {
    fn len(&self) -> usize {
        match &self.input {
            Input::Missing => 0,
            Input::Z(z) => z.len(),
            Input::S(s) => plain_set::len(s),
        }
    }

    fn for_each(&self, mut f: impl FnMut(&'a [u8], f64)) {
        match &self.input {
            Input::Missing => {}
            Input::Z(z) => {
                for (m, s) in z.iter() {
                    f(m, s);
                }
            }
            Input::S(s) => {
                for m in plain_set::members(s) {
                    f(m, 1.0);
                }
            }
        }
    }

    fn score(&self, m: &[u8]) -> Option<f64> {
        match &self.input {
            Input::Missing => None,
            Input::Z(z) => z.score(m),
            Input::S(s) => plain_set::contains(s, m).then_some(1.0),
        }
    }
}

/// Parsed command line.
struct Parsed {
    keys_at: usize,
    numkeys: usize,
    weights: Vec<f64>,
    how: Aggregate,
    withscores: bool,
    limit: usize,
}

fn parse(
    ctx: &mut Ctx<'_>,
    args: &Args<'_>,
    numkeys_at: usize,
    op: Op,
    store: bool,
    card: bool,
    name: &str,
) -> Result<Parsed, CommandError> {
    let n = args::int(args.get(numkeys_at))?;
    if n < 1 {
        return Err(CommandError::Owned(format!(
            "ERR at least 1 input key is needed for '{name}' command"
        )));
    }
    let keys_at = numkeys_at + 1;
    if n as u64 > (args.len() - keys_at) as u64 {
        return Err(CommandError::Syntax);
    }
    let numkeys = n as usize;
    // Inputs are looked up (and type-checked) before the options are read.
    for i in 0..numkeys {
        let key = args.get(keys_at + i);
        if let Some(slot) = ctx.lookup_read(key) {
            let t = ctx.store.keyspace.db(ctx.session.db).get(slot).value_type();
            if t != ValueType::ZSet && t != ValueType::Set {
                return Err(CommandError::WrongType);
            }
        }
    }
    let mut p = Parsed {
        keys_at,
        numkeys,
        weights: vec![1.0; numkeys],
        how: Aggregate::Sum,
        withscores: false,
        limit: 0,
    };
    let mut j = keys_at + numkeys;
    while j < args.len() {
        let remaining = args.len() - j;
        let a = args.get(j);
        if op != Op::Diff && !card && remaining > numkeys && is(a, "weights") {
            j += 1;
            for i in 0..numkeys {
                p.weights[i] = super::score::parse(args.get(j))
                    .ok_or(CommandError::Static("ERR weight value is not a float"))?;
                j += 1;
            }
        } else if op != Op::Diff && !card && remaining >= 2 && is(a, "aggregate") {
            let v = args.get(j + 1);
            p.how = if is(v, "sum") {
                Aggregate::Sum
            } else if is(v, "min") {
                Aggregate::Min
            } else if is(v, "max") {
                Aggregate::Max
            } else {
                return Err(CommandError::Syntax);
            };
            j += 2;
        } else if !store && !card && is(a, "withscores") {
            p.withscores = true;
            j += 1;
        } else if card && remaining >= 2 && is(a, "limit") {
            let l = cachegate_protocols::number::parse_i64(args.get(j + 1))
                .filter(|&l| l >= 0)
                .ok_or(CommandError::Static("ERR LIMIT can't be negative"))?;
            p.limit = usize::try_from(l).unwrap_or(usize::MAX);
            j += 2;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    Ok(p)
}

/// Computes the result: members with their scores, in (score, member) order (or only the
/// count, for ZINTERCARD).
fn compute(
    ctx: &mut Ctx<'_>,
    args: &Args<'_>,
    p: &Parsed,
    op: Op,
    card: bool,
) -> (Vec<(Vec<u8>, f64)>, usize) {
    let db = ctx.store.keyspace.db(ctx.session.db);
    // Sets' members as bytes, rendered before any input is borrowed.
    let members: Vec<Vec<Vec<u8>>> = (0..p.numkeys)
        .map(|i| match db.find(args.get(p.keys_at + i)) {
            Lookup::Found(slot) => db
                .get(slot)
                .collection::<Set>()
                .map(|s| s.iter().map(|m| m.to_vec()).collect())
                .unwrap_or_default(),
            Lookup::Missing(_) => Vec::new(),
        })
        .collect();
    let mut src: Vec<Source<'_>> = Vec::with_capacity(p.numkeys);
    for (i, set_members) in members.iter().enumerate() {
        let key = args.get(p.keys_at + i);
        let input = match db.find(key) {
            Lookup::Found(slot) => {
                let v = db.get(slot);
                match (v.collection::<ZSet>(), v.collection::<Set>()) {
                    (Some(z), _) => Input::Z(z),
                    (None, Some(s)) => Input::S((s, set_members)),
                    _ => Input::Missing,
                }
            }
            Lookup::Missing(_) => Input::Missing,
        };
        let same_as = (0..i)
            .find(|&k| args.get(p.keys_at + k) == key)
            .unwrap_or(i);
        src.push(Source {
            input,
            weight: p.weights[i],
            same_as,
        });
    }
    if op != Op::Diff {
        src.sort_by_key(Source::len);
    }
    let mut result: Vec<(&[u8], f64)> = Vec::new();
    let mut count = 0usize;
    match op {
        Op::Inter => {
            if src[0].len() > 0 {
                let first = src[0];
                let mut stop = false;
                first.for_each(|m, s| {
                    if stop {
                        return;
                    }
                    let mut score = first.weight * s;
                    if score.is_nan() {
                        score = 0.0;
                    }
                    for other in &src[1..] {
                        let v = if other.same_as == first.same_as {
                            s * other.weight
                        } else {
                            match other.score(m) {
                                Some(v) => v * other.weight,
                                None => return,
                            }
                        };
                        aggregate(&mut score, v, p.how);
                    }
                    if card {
                        count += 1;
                        if p.limit > 0 && count >= p.limit {
                            stop = true;
                        }
                    } else {
                        result.push((m, score));
                    }
                });
            }
        }
        Op::Union => {
            let mut acc: HashMap<&[u8], f64> = HashMap::new();
            let mut order: Vec<&[u8]> = Vec::new();
            for s in &src {
                s.for_each(|m, sc| {
                    let mut v = s.weight * sc;
                    match acc.get_mut(m) {
                        Some(t) => aggregate(t, v, p.how),
                        None => {
                            if v.is_nan() {
                                v = 0.0;
                            }
                            acc.insert(m, v);
                            order.push(m);
                        }
                    }
                });
            }
            result = order.into_iter().map(|m| (m, acc[m])).collect();
        }
        Op::Diff => {
            let first = src[0];
            if src[1..].iter().all(|o| o.same_as != first.same_as) {
                first.for_each(|m, s| {
                    if src[1..].iter().all(|o| o.score(m).is_none()) {
                        result.push((m, s));
                    }
                });
            }
        }
    }
    if card {
        return (Vec::new(), count);
    }
    result.sort_by(|a, b| cmp(a.1, a.0, b.1, b.0));
    let n = result.len();
    (
        result.into_iter().map(|(m, s)| (m.to_vec(), s)).collect(),
        n,
    )
}

fn generic(
    ctx: &mut Ctx<'_>,
    args: &Args<'_>,
    op: Op,
    store: bool,
    name: &str,
    out: &mut ReplyBuf,
) -> CmdResult {
    let numkeys_at = if store { 2 } else { 1 };
    let p = parse(ctx, args, numkeys_at, op, store, false, name)?;
    let (items, _) = compute(ctx, args, &p, op, false);
    if store {
        let t = ctx.store.thresholds;
        let z = ZSet::build(&items, &t);
        drop(items);
        finish_store(ctx, args.get(1), z, out);
        return Ok(());
    }
    if p.withscores && !out.is_resp3() {
        out.array(2 * items.len());
    } else {
        out.array(items.len());
    }
    for (m, s) in &items {
        if p.withscores {
            if out.is_resp3() {
                out.array(2);
            }
            out.bulk(m);
            out.double(*s);
        } else {
            out.bulk(m);
        }
    }
    Ok(())
}

/// `ZUNION numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]`
pub fn zunion(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    generic(ctx, args, Op::Union, false, "zunion", out)
}

/// `ZINTER numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]`
pub fn zinter(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    generic(ctx, args, Op::Inter, false, "zinter", out)
}

/// `ZDIFF numkeys key [key ...] [WITHSCORES]`
pub fn zdiff(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    generic(ctx, args, Op::Diff, false, "zdiff", out)
}

/// `ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM|MIN|MAX]`
pub fn zunionstore(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    generic(ctx, args, Op::Union, true, "zunionstore", out)
}

/// `ZINTERSTORE destination numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM|MIN|MAX]`
pub fn zinterstore(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    generic(ctx, args, Op::Inter, true, "zinterstore", out)
}

/// `ZDIFFSTORE destination numkeys key [key ...]`
pub fn zdiffstore(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    generic(ctx, args, Op::Diff, true, "zdiffstore", out)
}

/// `ZINTERCARD numkeys key [key ...] [LIMIT limit]`
pub fn zintercard(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let p = parse(ctx, args, 1, Op::Inter, false, true, "zintercard")?;
    let (_, n) = compute(ctx, args, &p, Op::Inter, true);
    out.int(n as i64);
    Ok(())
}
