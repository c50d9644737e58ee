//! The stream log's commands: XADD, XTRIM, XDEL, XLEN, XRANGE, XREVRANGE, XSETID.
//!
//! XADD and XTRIM share redis-server's option parser (`streamParseAddOrTrimArgsOrReply`),
//! quirks included: options may come in any order before the ID, `MAXLEN`/`MINID` take an
//! optional `=` or `~`, `LIMIT` needs `~`, and XADD stops at the first argument that is
//! not an option and reads it as the ID.

use cachegate_protocols::resp::request::Args;
use cachegate_protocols::resp::ReplyBuf;

use super::super::args::{self, is};
use super::super::{CmdResult, CommandError, Ctx};
use super::{bulk_id, parse_interval, parse_strict, write_entries, INVALID_ID};
use crate::keyspace::entry::ValueType;
use crate::types::stream::node::Limits;
use crate::types::stream::{AddError, ParsedId, Stream, StreamId, Trim};

/// The parsed options of XADD or XTRIM.
#[derive(Debug, Default)]
struct TrimArgs {
    /// The strategy, if one was given.
    how: Option<Trim>,
    /// `~` was given.
    approx: bool,
    /// Entries to trim at most (0 = no limit), as it applies.
    limit: u64,
    /// Index of the `MAXLEN`/`MINID` threshold argument.
    threshold_at: usize,
    /// Indexes of `LIMIT` keywords (left out of the replayable form).
    limit_at: Vec<usize>,
    /// XADD: the ID argument's index and what it says (`None` for `*`).
    id_at: usize,
    id: Option<ParsedId>,
    /// XADD: NOMKSTREAM.
    no_mkstream: bool,
}

impl TrimArgs {
    fn parse(args: &Args<'_>, xadd: bool, max_entries: usize) -> Result<TrimArgs, CommandError> {
        const BOTH: CommandError = CommandError::Static(
            "ERR syntax error, MAXLEN and MINID options at the same time are not compatible",
        );
        let mut t = TrimArgs::default();
        let mut limit_given = false;
        let mut limit: i64 = 0;
        let argc = args.len();
        let mut i = 2;
        while i < argc {
            let more = argc - 1 - i;
            let opt = args.get(i);
            if xadd && args::cstr(opt) == b"*" {
                break;
            } else if is(opt, "maxlen") && more > 0 {
                if t.how.is_some() {
                    return Err(BOTH);
                }
                i += t.operator(args, i, more);
                let max = args::int(args.get(i + 1))?;
                if max < 0 {
                    return Err(CommandError::Static(
                        "ERR The MAXLEN argument must be >= 0.",
                    ));
                }
                i += 1;
                t.how = Some(Trim::MaxLen(max as u64));
                t.threshold_at = i;
            } else if is(opt, "minid") && more > 0 {
                if t.how.is_some() {
                    return Err(BOTH);
                }
                i += t.operator(args, i, more);
                let min = parse_strict(args.get(i + 1), 0)?;
                i += 1;
                t.how = Some(Trim::MinId(min));
                t.threshold_at = i;
            } else if is(opt, "limit") && more > 0 {
                limit = args::int(args.get(i + 1))?;
                if limit < 0 {
                    return Err(CommandError::Static("ERR The LIMIT argument must be >= 0."));
                }
                limit_given = true;
                t.limit_at.push(i);
                i += 1;
            } else if xadd && is(opt, "nomkstream") {
                t.no_mkstream = true;
            } else if xadd {
                t.id = Some(StreamId::parse_for_add(opt).map_err(|_| INVALID_ID)?);
                break;
            } else {
                return Err(CommandError::Syntax);
            }
            i += 1;
        }
        t.id_at = i;
        if limit != 0 && t.how.is_none() {
            return Err(CommandError::Static(
                "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy",
            ));
        }
        if !xadd && t.how.is_none() {
            return Err(CommandError::Static(
                "ERR syntax error, XTRIM must be called with a trimming strategy",
            ));
        }
        if limit_given {
            if !t.approx {
                return Err(CommandError::Static(
                    "ERR syntax error, LIMIT cannot be used without the special ~ option",
                ));
            }
            t.limit = limit as u64;
        } else if t.approx {
            // At most 100 nodes' worth of work, capped on both sides as Redis caps it.
            let l = (max_entries as u64).saturating_mul(100);
            t.limit = if l == 0 { 10_000 } else { l.min(1_000_000) };
        }
        Ok(t)
    }

    /// Reads an optional `=` or `~` after `MAXLEN`/`MINID` at `i`; returns how many
    /// arguments it took.
    fn operator(&mut self, args: &Args<'_>, i: usize, more: usize) -> usize {
        self.approx = false;
        let next = args::cstr(args.get(i + 1));
        if more >= 2 && next == b"~" {
            self.approx = true;
            1
        } else if more >= 2 && next == b"=" {
            1
        } else {
            0
        }
    }

    /// The replayable form after an approximate trim left `s` as it is: `~` becomes `=` and
    /// the threshold what resulted, as redis-server's `streamRewriteTrimArgument` does; the
    /// `LIMIT` pairs go (see the module doc of [`super`]).
    fn rewrite(&self, argv: &mut [Option<Vec<u8>>], s: &Stream) {
        if !self.approx {
            return;
        }
        argv[self.threshold_at - 1] = Some(b"=".to_vec());
        argv[self.threshold_at] = Some(match self.how {
            Some(Trim::MinId(_)) => s.log.first_edge().to_bytes(),
            _ => s.log.len().to_string().into_bytes(),
        });
        for &at in &self.limit_at {
            argv[at] = None;
            argv[at + 1] = None;
        }
    }
}

fn limits(ctx: &Ctx<'_>) -> Limits {
    Limits {
        max_bytes: ctx.store.thresholds.stream_node_max_bytes,
        max_entries: ctx.store.thresholds.stream_node_max_entries,
    }
}

/// The arguments as an editable command line.
fn editable(args: &Args<'_>) -> Vec<Option<Vec<u8>>> {
    args.iter().map(|a| Some(a.to_vec())).collect()
}

fn propagate_edited(ctx: &mut Ctx<'_>, argv: &[Option<Vec<u8>>]) {
    let refs: Vec<&[u8]> = argv.iter().flatten().map(Vec::as_slice).collect();
    ctx.propagate(&refs);
}

/// `XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value [field value ...]`
pub fn xadd(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let t = TrimArgs::parse(args, true, ctx.store.thresholds.stream_node_max_entries)?;
    let field_at = t.id_at + 1;
    let pairs = args.len() as i64 - field_at as i64;
    if pairs < 2 || pairs % 2 == 1 {
        return Err(CommandError::WrongArity("xadd".into()));
    }
    if matches!(t.id, Some(ParsedId::Full(id)) if id.is_zero()) {
        return Err(CommandError::Static(
            "ERR The ID specified in XADD must be greater than 0-0",
        ));
    }
    let key = args.get(1);
    if t.no_mkstream && ctx.type_of(key).is_none() {
        out.null();
        return Ok(());
    }
    let lim = limits(ctx);
    let now = u64::try_from(ctx.now()).unwrap_or(0);
    // The replayable form is only built while the write stream records.
    let recording = ctx.store.writes.enabled;
    let mut s = ctx.edit_or_create::<Stream>(key)?;
    if s.log.last_id() == StreamId::MAX {
        return Err(CommandError::Static(
            "ERR The stream has exhausted the last possible ID, unable to add more items",
        ));
    }
    let n = (args.len() - field_at) / 2;
    let fields = (0..n).map(|i| (args.get(field_at + 2 * i), args.get(field_at + 2 * i + 1)));
    let added = s
        .log
        .next_id(t.id, now)
        .and_then(|id| s.log.append(id, fields, lim).map(|()| id));
    let id =
        match added {
            Ok(id) => id,
            Err(AddError::NotGreater) => return Err(CommandError::Static(
                "ERR The ID specified in XADD is equal or smaller than the target stream top item",
            )),
            Err(AddError::TooLarge) => {
                return Err(CommandError::Static(
                    "ERR Elements are too large to be stored",
                ))
            }
        };
    let mut argv = None;
    if let Some(how) = t.how {
        s.log.trim(how, t.approx, t.limit);
        if t.approx && recording {
            let mut a = editable(args);
            t.rewrite(&mut a, &s);
            argv = Some(a);
        }
    }
    drop(s);
    bulk_id(out, id);
    ctx.modified(key);
    if recording && !matches!(t.id, Some(ParsedId::Full(_))) {
        let a = argv.get_or_insert_with(|| editable(args));
        a[t.id_at] = Some(id.to_bytes());
    }
    if let Some(a) = argv {
        propagate_edited(ctx, &a);
    }
    Ok(())
}

/// `XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]`
pub fn xtrim(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let t = TrimArgs::parse(args, false, ctx.store.thresholds.stream_node_max_entries)?;
    let key = args.get(1);
    let recording = ctx.store.writes.enabled;
    let Some(mut s) = ctx.edit::<Stream>(key)? else {
        out.int(0);
        return Ok(());
    };
    let Some(how) = t.how else {
        unreachable!("XTRIM's parser requires a strategy");
    };
    let deleted = s.log.trim(how, t.approx, t.limit);
    let mut argv = None;
    if deleted > 0 && t.approx && recording {
        let mut a = editable(args);
        t.rewrite(&mut a, &s);
        argv = Some(a);
    }
    drop(s);
    if deleted > 0 {
        ctx.signal(key);
        ctx.dirty(deleted);
        if let Some(a) = argv {
            propagate_edited(ctx, &a);
        }
    }
    out.int(deleted as i64);
    Ok(())
}

/// `XDEL key id [id ...]`
pub fn xdel(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let key = args.get(1);
    // The key is looked up before the IDs are checked, as redis-server does.
    match ctx.type_of(key) {
        None => {
            out.int(0);
            return Ok(());
        }
        Some(ValueType::Stream) => {}
        Some(_) => return Err(CommandError::WrongType),
    }
    let ids = args
        .iter()
        .skip(2)
        .map(|a| parse_strict(a, 0))
        .collect::<Result<Vec<_>, _>>()?;
    let Some(mut s) = ctx.edit::<Stream>(key)? else {
        out.int(0);
        return Ok(());
    };
    let deleted = s.log.delete(&ids);
    drop(s);
    if deleted > 0 {
        ctx.signal(key);
        ctx.dirty(deleted);
    }
    out.int(deleted as i64);
    Ok(())
}

/// `XLEN key`
pub fn xlen(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let n = ctx.read::<Stream>(args.get(1))?.map_or(0, |s| s.log.len());
    out.int(n as i64);
    Ok(())
}

fn range(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf, rev: bool) -> CmdResult {
    let (start_arg, end_arg) = if rev {
        (args.get(3), args.get(2))
    } else {
        (args.get(2), args.get(3))
    };
    let start = parse_interval(start_arg, true)?;
    let end = parse_interval(end_arg, false)?;
    let mut count: i64 = -1;
    let mut j = 4;
    while j < args.len() {
        if is(args.get(j), "count") && j + 1 < args.len() {
            count = args::int(args.get(j + 1))?.max(0);
            j += 2;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    let Some(s) = ctx.read::<Stream>(args.get(1))? else {
        out.array(0);
        return Ok(());
    };
    if count == 0 {
        out.null_array();
        return Ok(());
    }
    let take = if count < 0 {
        usize::MAX
    } else {
        count as usize
    };
    let entries: Vec<_> = if rev {
        s.log.range_rev(start, end).take(take).collect()
    } else {
        s.log.range(start, end).take(take).collect()
    };
    write_entries(out, &entries);
    Ok(())
}

/// `XRANGE key start end [COUNT count]`
pub fn xrange(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    range(ctx, args, out, false)
}

/// `XREVRANGE key end start [COUNT count]`
pub fn xrevrange(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    range(ctx, args, out, true)
}

/// `XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]`
pub fn xsetid(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let id = parse_strict(args.get(2), 0)?;
    let mut entries_added: Option<u64> = None;
    let mut max_deleted = StreamId::MIN;
    let mut i = 3;
    while i < args.len() {
        let more = args.len() - 1 - i;
        let opt = args.get(i);
        if is(opt, "entriesadded") && more > 0 {
            let n = args::int(args.get(i + 1))?;
            if n < 0 {
                return Err(CommandError::Static("ERR entries_added must be positive"));
            }
            entries_added = Some(n as u64);
        } else if is(opt, "maxdeletedid") && more > 0 {
            max_deleted = parse_strict(args.get(i + 1), 0)?;
            if id < max_deleted {
                return Err(CommandError::Static(
                    "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id",
                ));
            }
        } else {
            return Err(CommandError::Syntax);
        }
        i += 2;
    }
    let key = args.get(1);
    let Some(mut s) = ctx.edit::<Stream>(key)? else {
        return Err(CommandError::NoSuchKey);
    };
    if !s.log.is_empty() {
        if s.log.last_live().is_some_and(|top| id < top) {
            return Err(CommandError::Static(
                "ERR The ID specified in XSETID is smaller than the target stream top item",
            ));
        }
        if entries_added.is_some_and(|n| s.log.len() > n) {
            return Err(CommandError::Static(
                "ERR The entries_added specified in XSETID is smaller than the target stream length",
            ));
        }
    }
    let max_deleted = (!max_deleted.is_zero()).then_some(max_deleted);
    s.log.set_id(id, entries_added, max_deleted);
    drop(s);
    ctx.modified(key);
    out.ok();
    Ok(())
}
