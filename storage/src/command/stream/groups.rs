//! Consumer-group commands: XGROUP (CREATE, SETID, DESTROY, CREATECONSUMER, DELCONSUMER,
//! HELP), XACK, XPENDING, XCLAIM, XAUTOCLAIM.
//!
//! XCLAIM and XAUTOCLAIM are propagated as one `XCLAIM … FORCE JUSTID LASTID …` per entry
//! they claimed or dropped (an entry deleted from the stream leaves the PEL, and the same
//! XCLAIM removes it on a replica), and an XCLAIM whose LASTID only moved the group as
//! `XGROUP SETID`, as redis-server 7.0 does.
//!
//! Deviation: redis-server 7.0 allocates XAUTOCLAIM's list of deleted IDs for the whole
//! COUNT up front and answers `Insufficient memory` when that fails (how large depends on
//! the machine); cachegate grows the list as it finds deleted entries and never fails.

use cachegate_protocols::resp::request::Args;
use cachegate_protocols::resp::ReplyBuf;

use super::super::args::{self, is};
use super::super::{CmdResult, CommandError, Ctx};
use super::read::{setid_form, xclaim_form, xclaim_form_arg};
use super::{
    bulk_id, parse_id, parse_interval, parse_strict, quoting_names, subcommand_syntax_error,
    write_entry, Forms,
};
use crate::keyspace::entry::ValueType;
use crate::keyspace::Lookup;
use crate::types::stream::{Stream, StreamId};

fn nogroup_key(key: &[u8], group: &[u8]) -> CommandError {
    quoting_names(&[
        b"NOGROUP No such key '",
        key,
        b"' or consumer group '",
        group,
        b"'",
    ])
}

/// The stream at `key` without counting a lookup (after one was made).
fn peek<'a>(ctx: &'a Ctx<'_>, key: &[u8]) -> Option<&'a Stream> {
    let db = ctx.store.keyspace.db(ctx.session.db);
    match db.find(key) {
        Lookup::Found(slot) => db.get(slot).collection::<Stream>(),
        Lookup::Missing(_) => None,
    }
}

/// What the key holds, looked up for writing: `Ok(false)` if missing, WRONGTYPE if not a
/// stream.
fn stream_for_write(ctx: &mut Ctx<'_>, key: &[u8]) -> Result<bool, CommandError> {
    let _ = ctx.lookup_write(key);
    match ctx.type_of(key) {
        None => Ok(false),
        Some(ValueType::Stream) => Ok(true),
        Some(_) => Err(CommandError::WrongType),
    }
}

/// `XGROUP CREATE key group id|$ [MKSTREAM] [ENTRIESREAD n]`, `XGROUP SETID key group id|$
/// [ENTRIESREAD n]`, `XGROUP DESTROY key group`, `XGROUP CREATECONSUMER key group consumer`,
/// `XGROUP DELCONSUMER key group consumer`
pub fn xgroup(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let sub = args.get(1);
    let argc = args.len();
    let (create, setid) = (is(sub, "create"), is(sub, "setid"));
    let mut mkstream = false;
    let mut entries_read: i64 = -1;
    let mut i = 5;
    while i < argc {
        if create && is(args.get(i), "mkstream") {
            mkstream = true;
            i += 1;
        } else if (create || setid) && is(args.get(i), "entriesread") && i + 1 < argc {
            entries_read = args::int(args.get(i + 1))?;
            if entries_read < 0 && entries_read != -1 {
                return Err(CommandError::Static(
                    "ERR value for ENTRIESREAD must be positive or -1",
                ));
            }
            i += 2;
        } else {
            return Err(subcommand_syntax_error(args));
        }
    }
    let (key, name) = (args.get(2), args.get(3));
    let exists = stream_for_write(ctx, key)?;
    let has_group = exists && peek(ctx, key).is_some_and(|s| s.group(name).is_some());
    if !mkstream {
        if !exists {
            return Err(CommandError::Static(
                "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.",
            ));
        }
        if !has_group && (setid || is(sub, "createconsumer") || is(sub, "delconsumer")) {
            return Err(quoting_names(&[
                b"NOGROUP No such consumer group '",
                name,
                b"' for key name '",
                key,
                b"'",
            ]));
        }
    }
    let now = ctx.now();
    if create && (5..=8).contains(&argc) {
        let id = if args::cstr(args.get(4)) == b"$" {
            peek(ctx, key).map_or(StreamId::MIN, |s| s.log.last_id())
        } else {
            parse_strict(args.get(4), 0)?
        };
        let mut s = ctx.edit_or_create::<Stream>(key)?;
        let created = s.parts_mut().1.create(name, id, entries_read);
        drop(s);
        if !created {
            return Err(CommandError::Static(
                "BUSYGROUP Consumer Group name already exists",
            ));
        }
        ctx.modified(key);
        out.ok();
    } else if setid && (argc == 5 || argc == 7) {
        let id = if args::cstr(args.get(4)) == b"$" {
            peek(ctx, key).map_or(StreamId::MIN, |s| s.log.last_id())
        } else {
            parse_id(args.get(4), 0)?
        };
        edit_group(ctx, key, name, |g| {
            g.last_id = id;
            g.entries_read = entries_read;
        })?;
        ctx.modified(key);
        out.ok();
    } else if is(sub, "destroy") && argc == 4 {
        let gone = has_group
            && ctx
                .edit::<Stream>(key)?
                .is_some_and(|mut s| s.parts_mut().1.destroy(name));
        if gone {
            ctx.modified(key);
        }
        out.int(i64::from(gone));
    } else if is(sub, "createconsumer") && argc == 5 {
        let created = edit_group(ctx, key, name, |g| {
            g.create_consumer(args.get(4), now).is_some()
        })?;
        if created {
            ctx.modified(key);
        }
        out.int(i64::from(created));
    } else if is(sub, "delconsumer") && argc == 5 {
        let pending = edit_group(ctx, key, name, |g| {
            g.consumer_id(args.get(4)).map(|c| g.delete_consumer(c))
        })?;
        if pending.is_some() {
            ctx.modified(key);
        }
        out.int(pending.unwrap_or(0) as i64);
    } else {
        return Err(subcommand_syntax_error(args));
    }
    Ok(())
}

/// Runs `f` on group `name` of the stream at `key` (both known to exist).
fn edit_group<R>(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    name: &[u8],
    f: impl FnOnce(&mut crate::types::stream::Group) -> R,
) -> Result<R, CommandError> {
    let mut s = ctx.edit::<Stream>(key)?.ok_or(CommandError::NoSuchKey)?;
    let (_, groups) = s.parts_mut();
    let mut g = groups.get_mut(name).ok_or(CommandError::NoSuchKey)?;
    Ok(f(&mut g))
}

/// `XGROUP HELP`
pub fn xgroup_help(_ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    super::super::conn::help(
        out,
        "XGROUP",
        &[
            "CREATE <key> <groupname> <id|$> [option]",
            "    Make a consumer group that starts after <id> ($: the last entry). Options:",
            "    * MKSTREAM",
            "      Make an empty stream at <key> if there is none.",
            "    * ENTRIESREAD entries_read",
            "      Start the group's read counter at this value (internal use).",
            "CREATECONSUMER <key> <groupname> <consumer>",
            "    Add a consumer to the group.",
            "DELCONSUMER <key> <groupname> <consumer>",
            "    Remove a consumer and its pending entries.",
            "DESTROY <key> <groupname>",
            "    Remove the group.",
            "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
            "    Move the group's last delivered ID and read counter.",
        ],
    );
    Ok(())
}

/// `XACK key group id [id ...]`
pub fn xack(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let (key, name) = (args.get(1), args.get(2));
    let has_group = ctx
        .read::<Stream>(key)?
        .is_some_and(|s| s.group(name).is_some());
    if !has_group {
        out.int(0);
        return Ok(());
    }
    // All IDs are checked before any is acknowledged.
    let ids = args
        .iter()
        .skip(3)
        .map(|a| parse_strict(a, 0))
        .collect::<Result<Vec<_>, _>>()?;
    let acked = edit_group(ctx, key, name, |g| {
        ids.iter().filter(|&&id| g.ack(id)).count()
    })?;
    if acked > 0 {
        ctx.dirty(acked as u64);
        ctx.signal(key);
    }
    out.int(acked as i64);
    Ok(())
}

/// `XPENDING key group [[IDLE min-idle-time] start end count [consumer]]`
pub fn xpending(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let argc = args.len();
    let (key, name) = (args.get(1), args.get(2));
    if argc != 3 && !(6..=9).contains(&argc) {
        return Err(CommandError::Syntax);
    }
    let mut range = None;
    if argc >= 6 {
        let mut at = 3;
        let mut min_idle = 0;
        if is(args.get(3), "idle") {
            min_idle = args::int(args.get(4))?;
            if argc < 8 {
                return Err(CommandError::Syntax);
            }
            at += 2;
        }
        let count = args::int(args.get(at + 2))?.max(0);
        let start = parse_interval(args.get(at), true)?;
        let end = parse_interval(args.get(at + 1), false)?;
        let consumer = (at + 3 < argc).then(|| args.get(at + 3));
        range = Some((min_idle, start, end, count, consumer));
    }
    let now = ctx.now();
    let Some(g) = ctx.read::<Stream>(key)?.and_then(|s| s.group(name)) else {
        return Err(nogroup_key(key, name));
    };
    let Some((min_idle, start, end, count, consumer)) = range else {
        // The summary: count, smallest and largest ID, and the consumers with pending.
        out.array(4);
        out.int(g.pel().len() as i64);
        match (g.pel().keys().next(), g.pel().keys().next_back()) {
            (Some(&first), Some(&last)) => {
                bulk_id(out, first);
                bulk_id(out, last);
                let owners: Vec<_> = g.consumers().filter(|c| !c.pel.is_empty()).collect();
                out.array(owners.len());
                for c in owners {
                    out.array(2);
                    out.bulk(&c.name);
                    out.bulk_i64(c.pel.len() as i64);
                }
            }
            _ => {
                out.null();
                out.null();
                out.null_array();
            }
        }
        return Ok(());
    };
    let pel = match consumer {
        Some(c) => match g.consumer_id(c) {
            Some(cid) => Some(&g.consumer(cid).pel),
            None => {
                out.array(0);
                return Ok(());
            }
        },
        None => None,
    };
    let mut rows = Vec::new();
    if start <= end && count > 0 {
        let ids: Box<dyn Iterator<Item = StreamId> + '_> = match pel {
            Some(p) => Box::new(p.range(start..=end).copied()),
            None => Box::new(g.pel().range(start..=end).map(|(k, _)| *k)),
        };
        for id in ids {
            let Some(n) = g.pel().get(&id) else { continue };
            if min_idle == 0 || now - n.delivery_time >= min_idle {
                rows.push((id, n));
                if rows.len() as i64 == count {
                    break;
                }
            }
        }
    }
    out.array(rows.len());
    for (id, n) in rows {
        out.array(4);
        bulk_id(out, id);
        out.bulk(g.owner(n));
        out.int((now - n.delivery_time).max(0));
        out.int(n.delivery_count as i64);
    }
    Ok(())
}

/// `XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-time-milliseconds] [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID id]`
pub fn xclaim(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let (key, name, consumer) = (args.get(1), args.get(2), args.get(3));
    let has_group = ctx
        .read::<Stream>(key)?
        .is_some_and(|s| s.group(name).is_some());
    if !has_group {
        return Err(nogroup_key(key, name));
    }
    let min_idle = args::int(args.get(4))
        .map_err(|_| CommandError::Static("ERR Invalid min-idle-time argument for XCLAIM"))?
        .max(0);
    let argc = args.len();
    let mut j = 5;
    let mut ids = Vec::new();
    while j < argc {
        match StreamId::parse_strict(args.get(j), 0) {
            Ok(id) => ids.push((id, args.get(j))),
            Err(_) => break,
        }
        j += 1;
    }
    let now = ctx.now();
    let (mut force, mut justid) = (false, false);
    let mut time: Option<i64> = None;
    let mut retry: Option<i64> = None;
    let mut last_id = StreamId::MIN;
    while j < argc {
        let more = argc - 1 - j;
        let opt = args.get(j);
        let option_int =
            |arg: &[u8], what: &'static str| args::int(arg).map_err(|_| CommandError::Static(what));
        if is(opt, "force") {
            force = true;
        } else if is(opt, "justid") {
            justid = true;
        } else if is(opt, "idle") && more > 0 {
            j += 1;
            let ms = option_int(args.get(j), "ERR Invalid IDLE option argument for XCLAIM")?;
            time = Some(now.wrapping_sub(ms));
        } else if is(opt, "time") && more > 0 {
            j += 1;
            time = Some(option_int(
                args.get(j),
                "ERR Invalid TIME option argument for XCLAIM",
            )?);
        } else if is(opt, "retrycount") && more > 0 {
            j += 1;
            retry = Some(option_int(
                args.get(j),
                "ERR Invalid RETRYCOUNT option argument for XCLAIM",
            )?);
        } else if is(opt, "lastid") && more > 0 {
            j += 1;
            last_id = parse_strict(args.get(j), 0)?;
        } else {
            return Err(CommandError::quoting(&[
                b"ERR Unrecognized XCLAIM option '",
                args::cstr(opt),
                b"'",
            ]));
        }
        j += 1;
    }
    // A bogus delivery time (negative, in the future) is taken as now, not refused.
    let time = match time {
        Some(t) if t >= 0 && t <= now => t,
        _ => now,
    };
    // RETRYCOUNT is a signed argument; a negative one is "not given".
    let retry = retry.and_then(|r| u64::try_from(r).ok());

    let mut props = Forms::new(ctx);
    let mut st = ctx.edit::<Stream>(key)?.ok_or(CommandError::NoSuchKey)?;
    let (log, groups) = st.parts_mut();
    let mut g = groups.get_mut(name).ok_or(CommandError::NoSuchKey)?;
    let mut dirty = 0u64;
    let mut set_last = false;
    if last_id > g.last_id {
        g.last_id = last_id;
        set_last = true;
    }
    let mut body = ReplyBuf::new(out.version());
    let mut claimed = 0;
    let mut cid = None;
    for (id, arg) in ids {
        if !log.contains(id) {
            if let Some(n) = g.pel().get(&id) {
                props.add(|| xclaim_form_arg(key, name, g.owner(n), arg, n, g.last_id));
                set_last = false;
                dirty += 1;
                g.ack(id);
            }
            continue;
        }
        if force && !g.pel().contains_key(&id) {
            g.force_pending(id, now);
        }
        let Some(n) = g.pel().get(&id) else {
            continue;
        };
        if !g.is_unassigned(id) && min_idle > 0 && now - n.delivery_time < min_idle {
            continue;
        }
        let c = match cid {
            Some(c) => c,
            None => {
                let (c, created) = g.lookup_or_create(consumer, now);
                if created {
                    dirty += 1;
                }
                cid = Some(c);
                c
            }
        };
        let Some(n) = g.claim(id, c, time, retry, justid).cloned() else {
            continue;
        };
        if justid {
            bulk_id(&mut body, id);
        } else if let Some(e) = log.get(id) {
            write_entry(&mut body, &e);
        }
        claimed += 1;
        props.add(|| xclaim_form_arg(key, name, consumer, arg, &n, g.last_id));
        set_last = false;
        dirty += 1;
    }
    if set_last {
        props.add(|| setid_form(key, name, &g));
        dirty += 1;
    }
    drop(g);
    drop(st);
    finish_claim(ctx, key, dirty, props);
    out.array(claimed);
    out.raw(body.as_bytes());
    Ok(())
}

/// Counts, signals and propagates what a claim did.
fn finish_claim(ctx: &mut Ctx<'_>, key: &[u8], dirty: u64, props: Forms) {
    if dirty > 0 {
        ctx.dirty(dirty);
        ctx.signal(key);
    }
    props.emit(ctx);
}

/// `XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]`
pub fn xautoclaim(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let (key, name, consumer) = (args.get(1), args.get(2), args.get(3));
    let min_idle = args::int(args.get(4))
        .map_err(|_| CommandError::Static("ERR Invalid min-idle-time argument for XAUTOCLAIM"))?
        .max(0);
    let start = parse_interval(args.get(5), true)?;
    let mut count: i64 = 100;
    let mut justid = false;
    let mut j = 6;
    while j < args.len() {
        let more = args.len() - 1 - j;
        if is(args.get(j), "count") && more > 0 {
            // COUNT times ten attempts, and its IDs, must not overflow.
            let max = i64::MAX / 16;
            count = args::int(args.get(j + 1))
                .ok()
                .filter(|c| (1..=max).contains(c))
                .ok_or(CommandError::Static("ERR COUNT must be > 0"))?;
            j += 1;
        } else if is(args.get(j), "justid") {
            justid = true;
        } else {
            return Err(CommandError::Syntax);
        }
        j += 1;
    }
    let has_group = ctx
        .read::<Stream>(key)?
        .is_some_and(|s| s.group(name).is_some());
    if !has_group {
        return Err(nogroup_key(key, name));
    }
    let now = ctx.now();
    let mut props = Forms::new(ctx);
    let mut st = ctx.edit::<Stream>(key)?.ok_or(CommandError::NoSuchKey)?;
    let (log, groups) = st.parts_mut();
    let mut g = groups.get_mut(name).ok_or(CommandError::NoSuchKey)?;
    let mut dirty = 0u64;
    let mut body = ReplyBuf::new(out.version());
    let mut claimed = 0;
    let mut deleted = Vec::new();
    let mut attempts = count.saturating_mul(10);
    let mut cid = None;
    let mut cursor = start;
    let mut next = StreamId::MIN;
    loop {
        if attempts == 0 || count == 0 {
            // The cursor is the next pending entry after the last one looked at.
            next = g
                .pel()
                .range(cursor..)
                .next()
                .map_or(StreamId::MIN, |(k, _)| *k);
            break;
        }
        attempts -= 1;
        let Some((&id, n)) = g.pel().range(cursor..).next() else {
            break;
        };
        cursor = match id.next() {
            Some(c) => c,
            None => StreamId::MAX,
        };
        let last_pel = id == StreamId::MAX;
        if !log.contains(id) {
            props.add(|| xclaim_form(key, name, g.owner(n), id, n, g.last_id));
            dirty += 1;
            g.ack(id);
            deleted.push(id);
            count -= 1;
        } else if min_idle == 0 || now - n.delivery_time >= min_idle {
            let c = match cid {
                Some(c) => c,
                None => {
                    let (c, created) = g.lookup_or_create(consumer, now);
                    if created {
                        dirty += 1;
                    }
                    cid = Some(c);
                    c
                }
            };
            if let Some(n) = g.claim(id, c, now, None, justid).cloned() {
                if justid {
                    bulk_id(&mut body, id);
                } else if let Some(e) = log.get(id) {
                    write_entry(&mut body, &e);
                }
                claimed += 1;
                count -= 1;
                props.add(|| xclaim_form(key, name, consumer, id, &n, g.last_id));
                dirty += 1;
            }
        }
        if last_pel {
            break;
        }
    }
    drop(g);
    drop(st);
    finish_claim(ctx, key, dirty, props);
    out.array(3);
    bulk_id(out, next);
    out.array(claimed);
    out.raw(body.as_bytes());
    out.array(deleted.len());
    for id in deleted {
        bulk_id(out, id);
    }
    Ok(())
}
