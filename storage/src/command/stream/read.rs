//! XREAD and XREADGROUP (redis-server's `xreadCommand`), with BLOCK.
//!
//! Both check every stream first (type, group, ID), then serve the streams that have
//! something, in order: XREAD what lies after the given ID; XREADGROUP with `>` the entries
//! after the group's last delivered ID, recording them as pending for the consumer (unless
//! NOACK), and with an explicit ID the consumer's own pending history after it.
//!
//! **Blocking.** When nothing can be served and BLOCK was given, the client blocks on all
//! the keys, with XREAD's `$` resolved to the stream's last ID at that moment (the retried
//! command line carries it). A retry — the framework re-runs the command when a key it
//! waits on changes — serves the first stream that now has entries (Redis answers with the
//! one key that became ready), with a default COUNT of 1000 as Redis's blocked reads have.
//! A blocked XREADGROUP whose key disappeared or changed type answers `-UNBLOCKED the stream
//! key no longer exists`, and one whose group was destroyed `-NOGROUP the consumer group
//! this client was blocked on no longer exists`, as redis-server 7.0 does.
//!
//! Deviations on the retry path, all where Redis decides by *which* write readied the key
//! (the framework retries on any write): Redis serves a blocked reader as soon as the
//! stream's last ID passes its position even if those entries were deleted again in the
//! same transaction (answering an empty list), and does not wake a reader for `XGROUP
//! SETID` or `XSETID`; cachegate answers only with entries, whenever they are there.
//!
//! **Write stream.** XREADGROUP is propagated as 7.0 does it — an `XCLAIM … FORCE JUSTID
//! LASTID` per delivered entry, `XGROUP CREATECONSUMER` for a consumer a NOACK read
//! created, `XGROUP SETID … ENTRIESREAD` after a NOACK read — plus, so that a replica's
//! groups match: the `XGROUP SETID … ENTRIESREAD` after every read that moved the group
//! (7.0 leaves the replica's read counter behind; later Redis versions emit it too), the
//! consumer a history read created, and an XCLAIM for each entry a history read delivered
//! again (7.0 counts the delivery only on the primary).

use cachegate_protocols::resp::request::Args;
use cachegate_protocols::resp::ReplyBuf;

use super::super::args::{self, is};
use super::super::{CmdResult, CommandError, Ctx};
use super::{bulk_id, parse_strict, quoting_names, write_entry, Forms};
use crate::blocking::{BlockOn, TimeoutReply};
use crate::keyspace::entry::ValueType;
use crate::types::stream::group::Group;
use crate::types::stream::{Log, Nack, Stream, StreamId};

/// Entries a blocked read is served at most, when it gave no COUNT.
const BLOCKED_DEFAULT_COUNT: u64 = 1000;

/// `XREAD [COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]`
pub fn xread(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    read(ctx, args, out, false)
}

/// `XREADGROUP GROUP group consumer [COUNT count] [BLOCK milliseconds] [NOACK] STREAMS key [key ...] id [id ...]`
pub fn xreadgroup(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    read(ctx, args, out, true)
}

/// The parsed options.
struct ReadArgs<'a> {
    /// BLOCK: `Some(None)` to wait forever, `Some(Some(deadline))`.
    block: Option<Option<i64>>,
    count: u64,
    streams_at: usize,
    n: usize,
    group: Option<(&'a [u8], &'a [u8])>,
    noack: bool,
}

fn parse<'a>(
    ctx: &Ctx<'_>,
    args: &'a Args<'_>,
    group_cmd: bool,
) -> Result<ReadArgs<'a>, CommandError> {
    let mut r = ReadArgs {
        block: None,
        count: 0,
        streams_at: 0,
        n: 0,
        group: None,
        noack: false,
    };
    let argc = args.len();
    let mut i = 1;
    while i < argc {
        let more = argc - i - 1;
        let o = args.get(i);
        if is(o, "block") && more > 0 {
            i += 1;
            let t = cachegate_protocols::number::parse_i64(args.get(i)).ok_or(
                CommandError::Static("ERR timeout is not an integer or out of range"),
            )?;
            if t < 0 {
                return Err(CommandError::Static("ERR timeout is negative"));
            }
            r.block = Some((t > 0).then(|| ctx.now().saturating_add(t)));
        } else if is(o, "count") && more > 0 {
            i += 1;
            r.count = args::int(args.get(i))?.max(0) as u64;
        } else if is(o, "streams") && more > 0 {
            r.streams_at = i + 1;
            let left = argc - r.streams_at;
            if !left.is_multiple_of(2) {
                return Err(CommandError::Static(
                    "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.",
                ));
            }
            r.n = left / 2;
            break;
        } else if is(o, "group") && more >= 2 {
            if !group_cmd {
                return Err(CommandError::Static(
                    "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            r.group = Some((args.get(i + 1), args.get(i + 2)));
            i += 2;
        } else if is(o, "noack") {
            if !group_cmd {
                return Err(CommandError::Static(
                    "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            r.noack = true;
        } else {
            return Err(CommandError::Syntax);
        }
        i += 1;
    }
    if r.streams_at == 0 {
        return Err(CommandError::Syntax);
    }
    if group_cmd && r.group.is_none() {
        return Err(CommandError::Static(
            "ERR Missing GROUP option for XREADGROUP",
        ));
    }
    Ok(r)
}

const UNBLOCKED_GONE: CommandError =
    CommandError::Static("UNBLOCKED the stream key no longer exists");
const NOGROUP_GONE: CommandError =
    CommandError::Static("NOGROUP the consumer group this client was blocked on no longer exists");

fn read(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf, group_cmd: bool) -> CmdResult {
    let r = parse(ctx, args, group_cmd)?;
    let retrying = ctx.retrying();
    // Check every stream and resolve its ID; ">" is the largest ID, as in Redis.
    let mut ids = Vec::with_capacity(r.n.min(1024));
    let mut dollar = false;
    for i in 0..r.n {
        let key = args.get(r.streams_at + i);
        let id_arg = args.get(r.streams_at + r.n + i);
        let s = match ctx.read::<Stream>(key) {
            Ok(s) => s,
            Err(_) if retrying && group_cmd => return Err(UNBLOCKED_GONE),
            // Another key of a blocked XREAD changed type: it just serves nothing.
            Err(_) if retrying => None,
            Err(e) => return Err(e),
        };
        if let Some((group, _)) = r.group {
            match s {
                None if retrying => return Err(UNBLOCKED_GONE),
                Some(s) if s.group(group).is_some() => {}
                Some(_) if retrying => return Err(NOGROUP_GONE),
                _ => {
                    return Err(quoting_names(&[
                        b"NOGROUP No such key '",
                        key,
                        b"' or consumer group '",
                        group,
                        b"' in XREADGROUP with GROUP option",
                    ]))
                }
            }
        }
        let id = match args::cstr(id_arg) {
            b"$" => {
                if group_cmd {
                    return Err(CommandError::Static(
                        "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.",
                    ));
                }
                dollar = true;
                s.map_or(StreamId::MIN, |s| s.log.last_id())
            }
            b">" => {
                if !group_cmd {
                    return Err(CommandError::Static(
                        "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.",
                    ));
                }
                StreamId::MAX
            }
            _ => parse_strict(id_arg, 0)?,
        };
        ids.push(id);
    }

    let count = if retrying && r.count == 0 {
        BLOCKED_DEFAULT_COUNT
    } else {
        r.count
    };
    let mut body = ReplyBuf::new(out.version());
    let mut served = 0;
    let mut props = Forms::new(ctx);
    for (i, &gt) in ids.iter().enumerate() {
        let key = args.get(r.streams_at + i);
        let s = match ctx.read::<Stream>(key) {
            Ok(Some(s)) => s,
            Ok(None) => continue,
            Err(_) if retrying => continue,
            Err(e) => return Err(e),
        };
        // Where to start, if this stream has anything for us.
        let (start, history) = match r.group {
            Some((group, _)) => {
                let Some(g) = s.group(group) else { continue };
                if gt != StreamId::MAX {
                    (gt, true)
                } else if s.log.last_live().is_some_and(|top| top > g.last_id) {
                    (g.last_id, false)
                } else {
                    continue;
                }
            }
            None if s.log.last_live().is_some_and(|top| top > gt) => (gt, false),
            None => continue,
        };
        if retrying && served > 0 {
            // A blocked client is answered with one stream.
            break;
        }
        served += 1;
        let start = start.next().unwrap_or(StreamId::MAX);
        let take = if count == 0 {
            usize::MAX
        } else {
            count as usize
        };
        if !body.is_resp3() {
            body.array(2);
        }
        body.bulk(key);
        let Some((group, consumer)) = r.group else {
            let entries: Vec<_> = s.log.range(start, StreamId::MAX).take(take).collect();
            super::write_entries(&mut body, &entries);
            continue;
        };
        let now = ctx.now();
        let Some(mut st) = ctx.edit::<Stream>(key)? else {
            continue;
        };
        let Some((log, groups)) = st.groups_mut() else {
            continue;
        };
        let Some(mut g) = groups.get_mut(group) else {
            continue;
        };
        let mut dirty = 1;
        let (cid, created) = g.lookup_or_create(consumer, now);
        if created {
            dirty += 1;
            if r.noack || history {
                props.add(|| vecs(&[b"XGROUP", b"CREATECONSUMER", key, group, consumer]));
            }
        }
        if history {
            let pending: Vec<StreamId> = g
                .consumer(cid)
                .pel
                .range(start..)
                .take(take)
                .copied()
                .collect();
            body.array(pending.len());
            for id in pending {
                match log.get(id) {
                    Some(e) => {
                        write_entry(&mut body, &e);
                        if let Some(nack) = g.redeliver(id, now).cloned() {
                            props.add(|| xclaim_form(key, group, consumer, id, &nack, g.last_id));
                        }
                    }
                    None => {
                        body.array(2);
                        bulk_id(&mut body, id);
                        body.null_array();
                    }
                }
            }
        } else {
            let entries: Vec<_> = log.range(start, StreamId::MAX).take(take).collect();
            body.array(entries.len());
            let mut moved = false;
            for e in &entries {
                if e.id > g.last_id {
                    advance(&mut g, log, e.id);
                    moved = true;
                }
                write_entry(&mut body, e);
                if !r.noack {
                    let nack = g.deliver(e.id, cid, now).clone();
                    props.add(|| xclaim_form(key, group, consumer, e.id, &nack, g.last_id));
                }
            }
            if moved {
                props.add(|| setid_form(key, group, &g));
            }
        }
        drop(g);
        drop(st);
        ctx.dirty(dirty);
        ctx.signal(key);
    }

    props.emit(ctx);
    if served > 0 {
        if out.is_resp3() {
            out.map(served);
        } else {
            out.array(served);
        }
        out.raw(body.as_bytes());
        return Ok(());
    }
    if let Some(deadline) = r.block {
        let keys: Vec<Vec<u8>> = (0..r.n)
            .map(|i| args.get(r.streams_at + i).to_vec())
            .collect();
        // XREAD's `$` means "after the last ID now": the retry must not move it.
        let retry_argv = dollar.then(|| {
            let mut argv = args.to_vecs();
            for (i, id) in ids.iter().enumerate() {
                let at = r.streams_at + r.n + i;
                if args::cstr(&argv[at]) == b"$" {
                    argv[at] = id.to_bytes();
                }
            }
            argv
        });
        ctx.block(
            BlockOn {
                keys,
                kind: ValueType::Stream,
                deadline,
                timeout_reply: TimeoutReply::NullArray,
                retry_argv,
            },
            out,
        );
        return Ok(());
    }
    out.null_array();
    Ok(())
}

/// Moves the group past `id` (just delivered), keeping its read counter as Redis does.
fn advance(g: &mut Group, log: &Log, id: StreamId) {
    if g.entries_read != -1 && !log.range_has_tombstones(Some(id), None) {
        g.entries_read += 1;
    } else if log.entries_added() > 0 {
        g.entries_read = log.distance_from_first(id).map_or(-1, |n| n as i64);
    }
    g.last_id = id;
}

fn vecs(parts: &[&[u8]]) -> Vec<Vec<u8>> {
    parts.iter().map(|p| p.to_vec()).collect()
}

/// `XCLAIM key group consumer 0 id TIME t RETRYCOUNT n FORCE JUSTID LASTID last`
/// (`streamPropagateXCLAIM`): gives a replica the pending entry as it is here.
pub fn xclaim_form(
    key: &[u8],
    group: &[u8],
    consumer: &[u8],
    id: StreamId,
    nack: &Nack,
    last: StreamId,
) -> Vec<Vec<u8>> {
    xclaim_form_arg(key, group, consumer, &id.to_bytes(), nack, last)
}

/// [`xclaim_form`] with the ID as the argument the client sent.
pub fn xclaim_form_arg(
    key: &[u8],
    group: &[u8],
    consumer: &[u8],
    id_arg: &[u8],
    nack: &Nack,
    last: StreamId,
) -> Vec<Vec<u8>> {
    vec![
        b"XCLAIM".to_vec(),
        key.to_vec(),
        group.to_vec(),
        consumer.to_vec(),
        b"0".to_vec(),
        id_arg.to_vec(),
        b"TIME".to_vec(),
        nack.delivery_time.to_string().into_bytes(),
        b"RETRYCOUNT".to_vec(),
        nack.delivery_count.to_string().into_bytes(),
        b"FORCE".to_vec(),
        b"JUSTID".to_vec(),
        b"LASTID".to_vec(),
        last.to_bytes(),
    ]
}

/// `XGROUP SETID key group last ENTRIESREAD n` (`streamPropagateGroupID`).
pub fn setid_form(key: &[u8], group: &[u8], g: &Group) -> Vec<Vec<u8>> {
    vec![
        b"XGROUP".to_vec(),
        b"SETID".to_vec(),
        key.to_vec(),
        group.to_vec(),
        g.last_id.to_bytes(),
        b"ENTRIESREAD".to_vec(),
        g.entries_read.to_string().into_bytes(),
    ]
}
