//! Stream commands (redis-server 7.0's t_stream.c), by concern:
//!
//! * [`entries`] — XADD, XTRIM, XDEL, XLEN, XRANGE, XREVRANGE, XSETID — the log itself.
//! * [`read`] — XREAD and XREADGROUP, including BLOCK.
//! * [`groups`] — XGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM — consumer groups.
//! * [`info`] — XINFO.
//!
//! The data structure is [`crate::types::Stream`]. Times (generated IDs, delivery and seen
//! times, idle times) come from the batch clock, `ctx.now()`.
//!
//! **Write stream.** Every write counts dirty and signals its key. The replayable forms are
//! redis-server 7.0's: XADD with the ID it generated, approximate trims (`~`) as exact ones
//! to the length (or first ID) that resulted, XREADGROUP and XCLAIM/XAUTOCLAIM as `XCLAIM …
//! TIME … RETRYCOUNT … FORCE JUSTID LASTID …` per entry, group positions as `XGROUP SETID
//! … ENTRIESREAD …`, consumers created by a NOACK read as `XGROUP CREATECONSUMER`. Where 7.0
//! loses state on the way to a replica, cachegate emits a little more, so that a replica
//! ends up with the same groups (see [`read`]): the group's read counter after every
//! delivering read (as later Redis versions do), and the consumers and delivery counts a
//! history read creates or changes. And a trim's `LIMIT` is left out of the propagated
//! form, which is exact (`=`) and so needs none (7.0 keeps it, and its replicas ignore it).

pub mod entries;
pub mod groups;
pub mod info;
pub mod read;

use cachegate_protocols::resp::ReplyBuf;

use super::args;
use super::spec::StoreFn;
use super::CommandError;
use crate::types::stream::node::EntryRef;
use crate::types::stream::{IdBuf, StreamId};

/// `Invalid stream ID specified as stream command argument`.
pub const INVALID_ID: CommandError =
    CommandError::Static("ERR Invalid stream ID specified as stream command argument");

/// Parses an ID where `-` and `+` are allowed.
pub fn parse_id(arg: &[u8], missing_seq: u64) -> Result<StreamId, CommandError> {
    StreamId::parse(arg, missing_seq).map_err(|_| INVALID_ID)
}

/// Parses an ID where `-` and `+` are refused.
pub fn parse_strict(arg: &[u8], missing_seq: u64) -> Result<StreamId, CommandError> {
    StreamId::parse_strict(arg, missing_seq).map_err(|_| INVALID_ID)
}

/// Parses one end of a range (`streamParseIntervalIDOrReply` and the exclusive-range
/// adjustment after it): `(` makes it exclusive (and strict); `start` says which end, for
/// the incomplete-ID default and the error message.
pub fn parse_interval(arg: &[u8], start: bool) -> Result<StreamId, CommandError> {
    let missing_seq = if start { 0 } else { u64::MAX };
    if arg.len() > 1 && arg[0] == b'(' {
        let id = parse_strict(&arg[1..], missing_seq)?;
        let moved = if start { id.next() } else { id.prev() };
        return moved.ok_or(CommandError::Static(if start {
            "ERR invalid start ID for the interval"
        } else {
            "ERR invalid end ID for the interval"
        }));
    }
    parse_id(arg, missing_seq)
}

/// Writes an ID as a bulk string.
pub fn bulk_id(out: &mut ReplyBuf, id: StreamId) {
    out.bulk(id.format(&mut IdBuf::default()));
}

/// Writes one entry: its ID and its field-value pairs.
pub fn write_entry(out: &mut ReplyBuf, e: &EntryRef<'_>) {
    out.array(2);
    bulk_id(out, e.id);
    out.array(e.len() * 2);
    for (f, v) in e.fields() {
        out.bulk(f);
        out.bulk(v);
    }
}

/// Writes entries as an array.
pub fn write_entries(out: &mut ReplyBuf, entries: &[EntryRef<'_>]) {
    out.array(entries.len());
    for e in entries {
        write_entry(out, e);
    }
}

/// `ERR unknown subcommand or wrong number of arguments for '<sub>'. Try <CMD> HELP.`
/// (`addReplySubcommandSyntaxError`).
pub fn subcommand_syntax_error(
    args: &cachegate_protocols::resp::request::Args<'_>,
) -> CommandError {
    let cmd = args::cstr(args.get(0)).to_ascii_uppercase();
    let sub = args::cstr(args.get(1));
    CommandError::quoting(&[
        b"ERR unknown subcommand or wrong number of arguments for '",
        &sub[..sub.len().min(128)],
        b"'. Try ",
        &cmd,
        b" HELP.",
    ])
}

/// Formats `-NOGROUP`-style messages that quote a key and a group as C strings.
pub fn quoting_names(parts: &[&[u8]]) -> CommandError {
    let parts: Vec<&[u8]> = parts
        .iter()
        .enumerate()
        .map(|(i, p)| if i % 2 == 1 { args::cstr(p) } else { *p })
        .collect();
    CommandError::quoting(&parts)
}

/// Replayable forms a command collects while it holds its stream, given to the write stream
/// once it lets go. Built only while the write stream records (no AOF or replica: no cost).
pub struct Forms {
    on: bool,
    list: Vec<Vec<Vec<u8>>>,
}

impl Forms {
    /// Collects for the command running in `ctx`.
    pub fn new(ctx: &super::Ctx<'_>) -> Forms {
        Forms {
            on: ctx.store.writes.enabled,
            list: Vec::new(),
        }
    }

    /// Adds a command, built by `f` only if it will be recorded.
    pub fn add(&mut self, f: impl FnOnce() -> Vec<Vec<u8>>) {
        if self.on {
            self.list.push(f());
        }
    }

    /// Gives the forms, in place of the command as sent (which is never propagated).
    pub fn emit(self, ctx: &mut super::Ctx<'_>) {
        ctx.store.writes.propagate_nothing();
        for p in &self.list {
            let refs: Vec<&[u8]> = p.iter().map(Vec::as_slice).collect();
            ctx.propagate(&refs);
        }
    }
}

/// The stream commands this module runs.
pub(crate) const HANDLERS: &[(&str, StoreFn)] = &[
    ("xadd", entries::xadd),
    ("xtrim", entries::xtrim),
    ("xdel", entries::xdel),
    ("xlen", entries::xlen),
    ("xrange", entries::xrange),
    ("xrevrange", entries::xrevrange),
    ("xsetid", entries::xsetid),
    ("xread", read::xread),
    ("xreadgroup", read::xreadgroup),
    ("xgroup|create", groups::xgroup),
    ("xgroup|setid", groups::xgroup),
    ("xgroup|destroy", groups::xgroup),
    ("xgroup|createconsumer", groups::xgroup),
    ("xgroup|delconsumer", groups::xgroup),
    ("xgroup|help", groups::xgroup_help),
    ("xack", groups::xack),
    ("xpending", groups::xpending),
    ("xclaim", groups::xclaim),
    ("xautoclaim", groups::xautoclaim),
    ("xinfo|stream", info::xinfo),
    ("xinfo|groups", info::xinfo),
    ("xinfo|consumers", info::xinfo),
    ("xinfo|help", info::xinfo_help),
];
