//! The blocking list commands: BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP (redis-server's
//! blocking half of t_list.c). Each handler's doc line is its syntax.
//!
//! A command that finds something to pop is served at once exactly as its non-blocking form
//! would be, and is propagated as that form (BLPOP → `LPOP key`, BLMOVE → `LMOVE …`,
//! BRPOPLPUSH → `RPOPLPUSH …`, BLMPOP → `LPOP key n` / `RPOP key n`), as redis-server 7.0
//! rewrites it. Otherwise it asks to block on its keys ([`Ctx::block`]); when one of them
//! is written, the server runs it again as sent, first-blocked first, and the same code
//! serves it and gives the same replayable form. Inside MULTI (blocking denied) an empty
//! wait answers at once with the timeout reply.
//!
//! Every one of them answers a null array when its timeout passes (redis-server 7.0's
//! `replyToBlockedClientTimedOut`), BLMOVE and BRPOPLPUSH included — though where blocking
//! is denied those two answer a null bulk string at once.
//!
//! Timeouts are seconds with fractions, read as redis-server reads them (see
//! [`crate::blocking::parse_timeout`]).

use cachegate_protocols::resp::request::Args;
use cachegate_protocols::resp::ReplyBuf;

use super::{end_arg, end_word, move_one, pop_one, Mpop};
use crate::blocking::parse_timeout;
use crate::blocking::{BlockOn, TimeoutReply};
use crate::command::{CmdResult, CommandError, Ctx};
use crate::keyspace::entry::ValueType;
use crate::types::list::End;

fn block(
    ctx: &mut Ctx<'_>,
    keys: Vec<Vec<u8>>,
    deadline: Option<i64>,
    reply: TimeoutReply,
    out: &mut ReplyBuf,
) {
    ctx.block(
        BlockOn {
            keys,
            kind: ValueType::List,
            deadline,
            timeout_reply: reply,
            retry_argv: None,
        },
        out,
    );
}

fn bpop(ctx: &mut Ctx<'_>, args: &Args<'_>, end: End, out: &mut ReplyBuf) -> CmdResult {
    let last = args.len() - 1;
    let deadline = parse_timeout(ctx.now(), args.get(last))?;
    for key in args.iter().take(last).skip(1) {
        match ctx.type_of(key) {
            None => continue,
            Some(ValueType::List) => {}
            // A retry serves the key that became ready, as redis-server serves a blocked
            // client from that key alone: another key's type is no error then.
            Some(_) if ctx.retrying() => continue,
            Some(_) => return Err(CommandError::WrongType),
        }
        pop_one(ctx, key, end, true, out)?;
        let verb: &[u8] = if end == End::Front { b"LPOP" } else { b"RPOP" };
        ctx.propagate(&[verb, key]);
        return Ok(());
    }
    let keys = args.iter().take(last).skip(1).map(<[u8]>::to_vec).collect();
    block(ctx, keys, deadline, TimeoutReply::NullArray, out);
    Ok(())
}

/// `BLPOP key [key ...] timeout`
pub fn blpop(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    bpop(ctx, args, End::Front, out)
}

/// `BRPOP key [key ...] timeout`
pub fn brpop(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    bpop(ctx, args, End::Back, out)
}

/// BLMOVE's and BRPOPLPUSH's work once their arguments are read; `replay` is the
/// non-blocking form to propagate when served.
fn bmove(
    ctx: &mut Ctx<'_>,
    args: &Args<'_>,
    (from, to): (End, End),
    deadline: Option<i64>,
    replay: &[&[u8]],
    out: &mut ReplyBuf,
) -> CmdResult {
    let (src, dst) = (args.get(1), args.get(2));
    match ctx.type_of(src) {
        // Where blocking is denied redis-server answers a null bulk at once, but a client
        // that blocked and timed out gets a null array, as every list wait does.
        None if ctx.session.deny_blocking => {
            out.null();
            return Ok(());
        }
        // Only the source is waited on; the destination's type is checked when served.
        None => {
            let keys = vec![src.to_vec()];
            block(ctx, keys, deadline, TimeoutReply::NullArray, out);
            return Ok(());
        }
        Some(ValueType::List) => {}
        Some(_) => return Err(CommandError::WrongType),
    }
    if move_one(ctx, src, dst, from, to, out)? {
        ctx.propagate(replay);
    }
    Ok(())
}

/// `BLMOVE source destination <LEFT | RIGHT> <LEFT | RIGHT> timeout`
pub fn blmove(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let from = end_arg(args.get(3))?;
    let to = end_arg(args.get(4))?;
    let deadline = parse_timeout(ctx.now(), args.get(5))?;
    let replay: [&[u8]; 5] = [
        b"LMOVE",
        args.get(1),
        args.get(2),
        end_word(from),
        end_word(to),
    ];
    bmove(ctx, args, (from, to), deadline, &replay, out)
}

/// `BRPOPLPUSH source destination timeout`
pub fn brpoplpush(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let deadline = parse_timeout(ctx.now(), args.get(3))?;
    let replay: [&[u8]; 3] = [b"RPOPLPUSH", args.get(1), args.get(2)];
    bmove(ctx, args, (End::Back, End::Front), deadline, &replay, out)
}

/// `BLMPOP timeout numkeys key [key ...] <LEFT | RIGHT> [COUNT count]`
pub fn blmpop(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    // redis-server reads numkeys, the end and COUNT before the timeout.
    let m = Mpop::parse(args, 2)?;
    let deadline = parse_timeout(ctx.now(), args.get(1))?;
    if m.run(ctx, args, out)? {
        return Ok(());
    }
    let keys = args
        .iter()
        .skip(m.first_key)
        .take(m.numkeys)
        .map(<[u8]>::to_vec)
        .collect();
    block(ctx, keys, deadline, TimeoutReply::NullArray, out);
    Ok(())
}
