//! Database-level commands: SELECT, SWAPDB, MOVE, DBSIZE, FLUSHDB, FLUSHALL.

use cachegate_protocols::resp::request::Args;
use cachegate_protocols::resp::ReplyBuf;

use super::args::{self, is};
use super::spec::StoreFn;
use super::{CmdResult, CommandError, Ctx};
use crate::keyspace::Lookup;

/// A database index argument, checked against the number of databases.
fn db_index(ctx: &Ctx<'_>, id: i32) -> Result<usize, CommandError> {
    if id < 0 || id as usize >= ctx.store.keyspace.len() {
        return Err(CommandError::DbIndexOutOfRange);
    }
    Ok(id as usize)
}

/// `SELECT index`
pub fn select(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let id = args::int32(args.get(1))?;
    ctx.session.db = db_index(ctx, id)?;
    out.ok();
    Ok(())
}

/// `SWAPDB index1 index2`
pub fn swapdb(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let a = args::int32_or(args.get(1), "ERR invalid first DB index")?;
    let b = args::int32_or(args.get(2), "ERR invalid second DB index")?;
    let (a, b) = (db_index(ctx, a)?, db_index(ctx, b)?);
    ctx.store.keyspace.swap(a, b);
    ctx.dirty(1);
    ctx.store.signal_db_changed(a);
    ctx.store.signal_db_changed(b);
    out.ok();
    Ok(())
}

/// `MOVE key db`
pub fn move_(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let id = args::int32(args.get(2))?;
    let dst = db_index(ctx, id)?;
    let src = ctx.session.db;
    if src == dst {
        return Err(CommandError::SameObject);
    }
    let key = args.get(1);
    let Lookup::Found(slot) = ctx.lookup_write(key) else {
        out.int(0);
        return Ok(());
    };
    let Lookup::Missing(hash) = ctx.lookup_write_in(dst, key) else {
        out.int(0);
        return Ok(());
    };
    let (from, to) = ctx.store.keyspace.two_mut(src, dst);
    let entry = from.remove(slot);
    to.add(hash, entry);
    ctx.modified(key);
    ctx.store.signal_modified(dst, key);
    out.int(1);
    Ok(())
}

/// `DBSIZE`
pub fn dbsize(ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let n = ctx.db().len();
    out.int(n as i64);
    Ok(())
}

/// The optional `ASYNC | SYNC` of FLUSHDB and FLUSHALL: true for ASYNC, which frees the
/// entries in the background (the default is SYNC, as redis-server's
/// `lazyfree-lazy-user-flush no`).
fn flush_mode(args: &Args<'_>) -> Result<bool, CommandError> {
    match args.len() {
        1 => Ok(false),
        2 if is(args.get(1), "SYNC") => Ok(false),
        2 if is(args.get(1), "ASYNC") => Ok(true),
        _ => Err(CommandError::Syntax),
    }
}

/// `FLUSHDB [ASYNC|SYNC]`
pub fn flushdb(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let lazy = flush_mode(args)?;
    let removed = ctx.db().len() as u64;
    if lazy {
        let all = ctx.db().take_all();
        ctx.store.free_all_lazily(all);
    } else {
        ctx.db().clear();
    }
    ctx.dirty(removed);
    // Replicas get it even when there was nothing to delete.
    ctx.store.writes.force();
    let db = ctx.session.db;
    ctx.store.signal_db_changed(db);
    out.ok();
    Ok(())
}

/// `FLUSHALL [ASYNC|SYNC]`
pub fn flushall(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let lazy = flush_mode(args)?;
    let removed = ctx.store.keyspace.total_keys() as u64;
    for i in 0..ctx.store.keyspace.len() {
        if lazy {
            let all = ctx.store.keyspace.db_mut(i).take_all();
            ctx.store.free_all_lazily(all);
        } else {
            ctx.store.keyspace.db_mut(i).clear();
        }
    }
    // redis-server counts the deleted keys plus one (its save of the empty dataset).
    ctx.dirty(removed + 1);
    ctx.store.writes.force();
    for db in 0..ctx.store.keyspace.len() {
        ctx.store.signal_db_changed(db);
    }
    out.ok();
    Ok(())
}

/// The database commands this module implements, by name.
pub(crate) const HANDLERS: &[(&str, StoreFn)] = &[
    ("select", select),
    ("swapdb", swapdb),
    ("move", move_),
    ("dbsize", dbsize),
    ("flushdb", flushdb),
    ("flushall", flushall),
];
