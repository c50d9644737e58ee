//! XINFO STREAM [FULL [COUNT n]], XINFO GROUPS, XINFO CONSUMERS, XINFO HELP, in redis-server
//! 7.0's reply shapes: `entries-read` and `lag` per group (null where 7.0 cannot tell),
//! `seen-time` per consumer in FULL and its `idle` in CONSUMERS.

use cachegate_protocols::resp::request::Args;
use cachegate_protocols::resp::ReplyBuf;

use super::super::args::{self, is};
use super::super::{CmdResult, CommandError, Ctx};
use super::{bulk_id, quoting_names, subcommand_syntax_error, write_entries, write_entry};
use crate::types::stream::group::Group;
use crate::types::stream::{Log, Stream, StreamId};

/// `XINFO STREAM key [FULL [COUNT count]]`, `XINFO GROUPS key`, `XINFO CONSUMERS key group`
pub fn xinfo(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let sub = args.get(1);
    let key = args.get(2);
    let now = ctx.now();
    let Some(s) = ctx.read::<Stream>(key)? else {
        return Err(CommandError::NoSuchKey);
    };
    if is(sub, "consumers") && args.len() == 4 {
        let name = args.get(3);
        let Some(g) = s.group(name) else {
            return Err(quoting_names(&[
                b"NOGROUP No such consumer group '",
                name,
                b"' for key name '",
                key,
                b"'",
            ]));
        };
        out.array(g.consumer_count());
        for c in g.consumers() {
            out.map(3);
            out.bulk(b"name");
            out.bulk(&c.name);
            out.bulk(b"pending");
            out.int(c.pel.len() as i64);
            out.bulk(b"idle");
            out.int((now - c.seen_time).max(0));
        }
    } else if is(sub, "groups") && args.len() == 3 {
        out.array(s.group_count());
        for (name, g) in s.groups().into_iter().flat_map(|gs| gs.iter()) {
            out.map(6);
            out.bulk(b"name");
            out.bulk(name);
            out.bulk(b"consumers");
            out.int(g.consumer_count() as i64);
            out.bulk(b"pending");
            out.int(g.pel().len() as i64);
            out.bulk(b"last-delivered-id");
            bulk_id(out, g.last_id);
            entries_read(out, g);
            lag(out, &s.log, g);
        }
    } else if is(sub, "stream") {
        stream_info(s, args, out)?;
    } else {
        return Err(subcommand_syntax_error(args));
    }
    Ok(())
}

fn entries_read(out: &mut ReplyBuf, g: &Group) {
    out.bulk(b"entries-read");
    if g.entries_read == -1 {
        out.null();
    } else {
        out.int(g.entries_read);
    }
}

/// A group's lag: entries not yet delivered to it, or null where the stream's deletions
/// make it unknowable (`streamReplyWithCGLag`).
fn lag(out: &mut ReplyBuf, log: &Log, g: &Group) {
    out.bulk(b"lag");
    let added = log.entries_added() as i64;
    let lag = if added == 0 {
        Some(0)
    } else if g.entries_read != -1 && !log.range_has_tombstones(Some(g.last_id), None) {
        Some(added - g.entries_read)
    } else {
        log.distance_from_first(g.last_id)
            .map(|read| added - read as i64)
    };
    match lag {
        Some(n) => out.int(n),
        None => out.null(),
    }
}

fn stream_info(s: &Stream, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let opts = args.len() - 3;
    let mut count: i64 = 10;
    let full = opts > 0;
    if full {
        if (opts != 1 && opts != 3) || !is(args.get(3), "full") {
            return Err(subcommand_syntax_error(args));
        }
        if opts == 3 {
            if !is(args.get(4), "count") {
                return Err(subcommand_syntax_error(args));
            }
            count = args::int(args.get(5))?;
            if count < 0 {
                count = 10;
            }
        }
    }
    let log = &s.log;
    out.map(if full { 9 } else { 10 });
    out.bulk(b"length");
    out.int(log.len() as i64);
    out.bulk(b"radix-tree-keys");
    out.int(log.node_count() as i64);
    out.bulk(b"radix-tree-nodes");
    out.int(log.rax_nodes() as i64);
    out.bulk(b"last-generated-id");
    bulk_id(out, log.last_id());
    out.bulk(b"max-deleted-entry-id");
    bulk_id(out, log.max_deleted());
    out.bulk(b"entries-added");
    out.int(log.entries_added() as i64);
    out.bulk(b"recorded-first-entry-id");
    bulk_id(out, log.first_id());
    if !full {
        out.bulk(b"groups");
        out.int(s.group_count() as i64);
        out.bulk(b"first-entry");
        match log.range(StreamId::MIN, StreamId::MAX).next() {
            Some(e) => write_entry(out, &e),
            None => out.null(),
        }
        out.bulk(b"last-entry");
        match log.range_rev(StreamId::MIN, StreamId::MAX).next() {
            Some(e) => write_entry(out, &e),
            None => out.null(),
        }
        return Ok(());
    }
    // COUNT 0 lists everything.
    let take = if count == 0 {
        usize::MAX
    } else {
        count as usize
    };
    out.bulk(b"entries");
    let entries: Vec<_> = log.range(StreamId::MIN, StreamId::MAX).take(take).collect();
    write_entries(out, &entries);
    out.bulk(b"groups");
    out.array(s.group_count());
    for (name, g) in s.groups().into_iter().flat_map(|gs| gs.iter()) {
        out.map(7);
        out.bulk(b"name");
        out.bulk(name);
        out.bulk(b"last-delivered-id");
        bulk_id(out, g.last_id);
        entries_read(out, g);
        lag(out, log, g);
        out.bulk(b"pel-count");
        out.int(g.pel().len() as i64);
        out.bulk(b"pending");
        let pending: Vec<_> = g.pel().iter().take(take).collect();
        out.array(pending.len());
        for (id, n) in pending {
            out.array(4);
            bulk_id(out, *id);
            out.bulk(g.owner(n));
            out.int(n.delivery_time);
            out.int(n.delivery_count as i64);
        }
        out.bulk(b"consumers");
        out.array(g.consumer_count());
        for c in g.consumers() {
            out.map(4);
            out.bulk(b"name");
            out.bulk(&c.name);
            out.bulk(b"seen-time");
            out.int(c.seen_time);
            out.bulk(b"pel-count");
            out.int(c.pel.len() as i64);
            out.bulk(b"pending");
            let mine: Vec<_> = c.pel.iter().take(take).collect();
            out.array(mine.len());
            for id in mine {
                // A consumer's PEL is part of its group's.
                let (time, count) = g
                    .pel()
                    .get(id)
                    .map_or((0, 0), |n| (n.delivery_time, n.delivery_count));
                out.array(3);
                bulk_id(out, *id);
                out.int(time);
                out.int(count as i64);
            }
        }
    }
    Ok(())
}

/// `XINFO HELP`
pub fn xinfo_help(_ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    super::super::conn::help(
        out,
        "XINFO",
        &[
            "CONSUMERS <key> <groupname>",
            "    List the consumers of the group.",
            "GROUPS <key>",
            "    List the consumer groups of the stream.",
            "STREAM <key> [FULL [COUNT <count>]",
            "    Describe the stream (FULL: with its entries and groups).",
        ],
    );
    Ok(())
}
