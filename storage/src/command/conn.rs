//! Connection-level commands that need nothing but the store: PING, ECHO, TIME, and the
//! shared layout of `HELP` replies.

use cachegate_protocols::resp::request::Args;
use cachegate_protocols::resp::ReplyBuf;

use super::spec::StoreFn;
use super::{CmdResult, CommandError, Ctx};

/// Writes a `<CONTAINER> HELP` reply: a header line, the given lines, and the HELP entry,
/// each as a status string, in redis-server's layout.
pub fn help(out: &mut ReplyBuf, container: &str, lines: &[&str]) {
    out.array(lines.len() + 3);
    out.simple(
        format!("{container} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:").as_bytes(),
    );
    for l in lines {
        out.simple(l.as_bytes());
    }
    out.simple(b"HELP");
    out.simple(b"    Print this help.");
}

/// `PING [message]`
pub fn ping(_ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    match args.len() {
        1 => out.simple(b"PONG"),
        2 => out.bulk(args.get(1)),
        _ => return Err(CommandError::WrongArity("ping".into())),
    }
    Ok(())
}

/// `ECHO message`
pub fn echo(_ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    out.bulk(args.get(1));
    Ok(())
}

/// `TIME`
pub fn time(ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let us = ctx.store.clock_us();
    out.array(2);
    out.bulk_i64(us.div_euclid(1_000_000));
    out.bulk_i64(us.rem_euclid(1_000_000));
    Ok(())
}

/// The connection commands this module implements, by name.
pub(crate) const HANDLERS: &[(&str, StoreFn)] = &[("ping", ping), ("echo", echo), ("time", time)];
