//! ZRANDMEMBER and ZSCAN.
//!
//! Random picks are uniform over ranks (select by rank is O(log n) on the tree), where
//! redis-server samples its dict; which members come out is random in both, and the rules
//! that are not random are redis-server's: a count at least the size returns the whole set
//! (in reverse order), a negative count allows repetitions, WITHSCORES pairs nest in RESP3.

use cachegate_protocols::resp::request::Args;
use cachegate_protocols::resp::ReplyBuf;

use super::{CmdResult, CommandError, Ctx};
use crate::command::args::{self, is};
use crate::command::scan::{self, ScanOpts};
use crate::types::zset::ZSetRef;
use crate::types::ZSet;

/// xorshift step for the picks of one command.
fn next(mut x: u64) -> u64 {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    x
}

/// Picks by rank, with the packed encoding read into a vector once (so each pick is O(1)
/// there and O(log n) on the tree).
struct Picker<'a> {
    z: ZSetRef<'a>,
    all: Vec<(&'a [u8], f64)>,
}

impl<'a> Picker<'a> {
    fn new(z: ZSetRef<'a>) -> Self {
        let all = if z.is_packed() {
            z.iter().collect()
        } else {
            Vec::new()
        };
        Picker { z, all }
    }

    fn at(&self, rank: usize) -> Option<(&'a [u8], f64)> {
        if self.z.is_packed() {
            self.all.get(rank).copied()
        } else {
            self.z.get(rank)
        }
    }
}

/// `ZRANDMEMBER key [count [WITHSCORES]]`
pub fn zrandmember(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let count = if args.len() >= 3 {
        Some(args::int_range(args.get(2), -i64::MAX, i64::MAX)?)
    } else {
        None
    };
    if args.len() > 4 || (args.len() == 4 && !is(args.get(3), "withscores")) {
        return Err(CommandError::Syntax);
    }
    let withscores = args.len() == 4;
    if withscores && count.is_some_and(|c| !(-i64::MAX / 2..=i64::MAX / 2).contains(&c)) {
        return Err(CommandError::Static("ERR value is out of range"));
    }
    let mut rng = ctx.store.random();
    let Some(z) = ctx.read::<ZSet>(args.get(1))? else {
        match count {
            None => out.null(),
            Some(_) => out.array(0),
        }
        return Ok(());
    };
    let len = z.len();
    let Some(count) = count else {
        if let Some((m, _)) = z.get((rng % len as u64) as usize) {
            out.bulk(m);
        }
        return Ok(());
    };
    if count == 0 {
        out.array(0);
        return Ok(());
    }
    let items = |n: usize, out: &mut ReplyBuf| {
        if withscores && !out.is_resp3() {
            out.array(2 * n);
        } else {
            out.array(n);
        }
    };
    let emit = |out: &mut ReplyBuf, m: &[u8], s: f64| {
        if withscores {
            if out.is_resp3() {
                out.array(2);
            }
            out.bulk(m);
            out.double(s);
        } else {
            out.bulk(m);
        }
    };
    let picker = Picker::new(z);
    if count < 0 || count == 1 {
        // Repetitions allowed: independent picks.
        let n = count.unsigned_abs() as usize;
        items(n, out);
        for _ in 0..n {
            rng = next(rng);
            if let Some((m, s)) = picker.at((rng % len as u64) as usize) {
                emit(out, m, s);
            }
        }
        return Ok(());
    }
    let count = count as usize;
    if count >= len {
        // The whole set, last first: redis-server's set-operation iterator walks from the
        // tail.
        items(len, out);
        for (m, s) in z.iter_rev_from(len - 1) {
            emit(out, m, s);
        }
        return Ok(());
    }
    items(count, out);
    if count * 3 > len {
        // Most of the set: shuffle the first `count` ranks of a list of all of them.
        let mut ranks: Vec<usize> = (0..len).collect();
        for i in 0..count {
            rng = next(rng);
            let j = i + (rng % (len - i) as u64) as usize;
            ranks.swap(i, j);
            if let Some((m, s)) = picker.at(ranks[i]) {
                emit(out, m, s);
            }
        }
    } else {
        // A small part: pick ranks until `count` distinct ones came up.
        let mut seen = std::collections::HashSet::with_capacity(count);
        while seen.len() < count {
            rng = next(rng);
            let r = (rng % len as u64) as usize;
            if seen.insert(r) {
                if let Some((m, s)) = picker.at(r) {
                    emit(out, m, s);
                }
            }
        }
    }
    Ok(())
}

/// A score as redis-server's listpack holds it (`d2string`): whole numbers within ±2⁶² as
/// integers, the rest `%.17g`.
fn d2string(v: f64, out: &mut Vec<u8>) {
    const HALF: f64 = (i64::MAX / 2) as f64;
    if v.is_finite() && v != 0.0 && (-HALF..=HALF).contains(&v) && v.fract() == 0.0 {
        let mut b = itoa::Buffer::new();
        out.extend_from_slice(b.format(v as i64).as_bytes());
    } else {
        cachegate_protocols::number::write_g17(out, v);
    }
}

/// `ZSCAN key cursor [MATCH pattern] [COUNT count]`
pub fn zscan(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let mut cursor = args::cursor(args.get(2))?;
    let opts = ScanOpts::parse(args, 3, false)?;
    let Some(z) = ctx.read::<ZSet>(args.get(1))? else {
        scan::reply::<&[u8]>(out, 0, &[]);
        return Ok(());
    };
    let packed = z.is_packed();
    let mut items: Vec<Vec<u8>> = Vec::new();
    let mut budget = opts.count.saturating_mul(10);
    loop {
        cursor = z.scan(cursor, |m, s| {
            if opts.matches(m) {
                items.push(m.to_vec());
                let mut text = Vec::with_capacity(24);
                if packed {
                    d2string(s, &mut text);
                } else {
                    cachegate_protocols::number::write_g17(&mut text, s);
                }
                items.push(text);
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
