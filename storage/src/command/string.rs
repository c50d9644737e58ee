//! String commands (redis-server's t_string.c): GET/SET and their variants, counters,
//! APPEND, ranges and LCS. Each handler's doc line is its syntax.

use cachegate_protocols::resp::request::Args;
use cachegate_protocols::resp::ReplyBuf;

use super::args::{self, is};
use super::spec::StoreFn;
use super::{CmdResult, CommandError, Ctx};
use crate::keyspace::entry::{Encoding, ValueType};
use crate::keyspace::{Lookup, Slot, Ttl};
use crate::long_double::{self, FloatError};

const OVERFLOW: CommandError = CommandError::Static("ERR increment or decrement would overflow");
const TOO_BIG: CommandError =
    CommandError::Static("ERR string exceeds maximum allowed size (proto-max-bulk-len)");

/// Which command's options are being parsed: SET and GETEX accept different sets.
#[derive(Clone, Copy, PartialEq, Eq)]
enum OptsFor {
    Set,
    GetEx,
}

/// How an expiry argument is to be read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ExpireKind {
    /// Relative seconds.
    Ex,
    /// Relative milliseconds.
    Px,
    /// Absolute Unix seconds.
    ExAt,
    /// Absolute Unix milliseconds.
    PxAt,
}

/// Parsed `[NX|XX] [GET] [EX|PX|EXAT|PXAT n|KEEPTTL|PERSIST]`.
#[derive(Default, Clone, Copy)]
struct SetOpts<'a> {
    nx: bool,
    xx: bool,
    get: bool,
    keepttl: bool,
    persist: bool,
    expire: Option<(ExpireKind, &'a [u8])>,
}

impl<'a> SetOpts<'a> {
    /// Parses options from argument `from` on, with redis-server's rules: each option may
    /// repeat, conflicting ones are a syntax error, an expiry needs its value.
    fn parse(args: &Args<'a>, from: usize, cmd: OptsFor) -> Result<Self, CommandError> {
        let mut o = SetOpts::default();
        let mut j = from;
        while j < args.len() {
            let opt = args.get(j);
            let has_next = j + 1 < args.len();
            let set = cmd == OptsFor::Set;
            let kind = o.expire.map(|(k, _)| k);
            let no_expire_but = |allowed: ExpireKind| kind.is_none() || kind == Some(allowed);
            if is(opt, "NX") && !o.xx && set {
                o.nx = true;
            } else if is(opt, "XX") && !o.nx && set {
                o.xx = true;
            } else if is(opt, "GET") && set {
                o.get = true;
            } else if is(opt, "KEEPTTL") && !o.persist && kind.is_none() && set {
                o.keepttl = true;
            } else if is(opt, "PERSIST") && !set && kind.is_none() && !o.keepttl {
                o.persist = true;
            } else if let Some(k) = [
                ("EX", ExpireKind::Ex),
                ("PX", ExpireKind::Px),
                ("EXAT", ExpireKind::ExAt),
                ("PXAT", ExpireKind::PxAt),
            ]
            .iter()
            .find(|(w, _)| is(opt, w))
            .map(|&(_, k)| k)
            .filter(|&k| !o.keepttl && !o.persist && no_expire_but(k) && has_next)
            {
                o.expire = Some((k, args.get(j + 1)));
                j += 1;
            } else {
                return Err(CommandError::Syntax);
            }
            j += 1;
        }
        Ok(o)
    }
}

/// Converts an expiry argument to absolute Unix ms (`getExpireMillisecondsOrReply`).
fn expire_at(
    now: i64,
    kind: ExpireKind,
    arg: &[u8],
    cmd: &'static str,
) -> Result<i64, CommandError> {
    let v = args::int(arg)?;
    let seconds = matches!(kind, ExpireKind::Ex | ExpireKind::ExAt);
    if v <= 0 || (seconds && v > i64::MAX / 1000) {
        return Err(CommandError::InvalidExpireTime(cmd));
    }
    let mut ms = if seconds { v * 1000 } else { v };
    if matches!(kind, ExpireKind::Ex | ExpireKind::Px) {
        ms = ms.wrapping_add(now);
    }
    if ms <= 0 {
        return Err(CommandError::InvalidExpireTime(cmd));
    }
    Ok(ms)
}

/// Replies with the string at `key` (or null); fails with WRONGTYPE for other types.
/// Returns whether the key existed.
fn get_generic(ctx: &mut Ctx<'_>, key: &[u8], out: &mut ReplyBuf) -> Result<bool, CommandError> {
    match ctx.lookup_read(key) {
        None => {
            out.null();
            Ok(false)
        }
        Some(slot) => {
            let v = ctx.db().get(slot);
            if v.value_type() != ValueType::String {
                return Err(CommandError::WrongType);
            }
            out.bulk(v.value());
            Ok(true)
        }
    }
}

/// What a SET-family command replies when it stores or aborts.
#[derive(Clone, Copy)]
enum SetReply {
    /// `+OK` / null (SET, SETEX, PSETEX).
    OkOrNull,
    /// `:1` / `:0` (SETNX).
    OneOrZero,
}

fn set_generic(
    ctx: &mut Ctx<'_>,
    opts: SetOpts<'_>,
    key: &[u8],
    value: &[u8],
    cmd: &'static str,
    reply: SetReply,
    out: &mut ReplyBuf,
) -> CmdResult {
    let expire = match opts.expire {
        Some((kind, arg)) => Some(expire_at(ctx.now(), kind, arg, cmd)?),
        None => None,
    };
    if opts.get {
        // Fails on a wrong type before writing; after this point nothing may fail.
        get_generic(ctx, key, out)?;
    }
    let at = ctx.lookup_write(key);
    let found = matches!(at, Lookup::Found(_));
    if (opts.nx && found) || (opts.xx && !found) {
        if !opts.get {
            match reply {
                SetReply::OkOrNull => out.null(),
                SetReply::OneOrZero => out.int(0),
            }
        }
        return Ok(());
    }
    let ttl = match (expire, opts.keepttl) {
        (Some(t), _) => Ttl::At(t),
        (None, true) => Ttl::Keep,
        (None, false) => Ttl::Clear,
    };
    let lru = ctx.lru();
    ctx.db()
        .set_string(key, at, value, Encoding::for_value(value), ttl, lru);
    ctx.modified(key);
    if let Some(t) = expire {
        // A relative TTL would replay against another clock: emit the absolute time.
        let mut n = itoa::Buffer::new();
        ctx.propagate(&[b"SET", key, value, b"PXAT", n.format(t).as_bytes()]);
    } else if cmd == "getset" {
        ctx.propagate(&[b"SET", key, value]);
    }
    if !opts.get {
        match reply {
            SetReply::OkOrNull => out.ok(),
            SetReply::OneOrZero => out.int(1),
        }
    }
    Ok(())
}

/// `GET key`
pub fn get(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    get_generic(ctx, args.get(1), out).map(|_| ())
}

/// `SET key value [NX|XX] [GET] [EX s|PX ms|EXAT ts|PXAT ts-ms|KEEPTTL]`
pub fn set(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let opts = SetOpts::parse(args, 3, OptsFor::Set)?;
    set_generic(
        ctx,
        opts,
        args.get(1),
        args.get(2),
        "set",
        SetReply::OkOrNull,
        out,
    )
}

/// `SETNX key value`
pub fn setnx(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let opts = SetOpts {
        nx: true,
        ..SetOpts::default()
    };
    set_generic(
        ctx,
        opts,
        args.get(1),
        args.get(2),
        "setnx",
        SetReply::OneOrZero,
        out,
    )
}

/// `SETEX key seconds value`
pub fn setex(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let opts = SetOpts {
        expire: Some((ExpireKind::Ex, args.get(2))),
        ..SetOpts::default()
    };
    set_generic(
        ctx,
        opts,
        args.get(1),
        args.get(3),
        "setex",
        SetReply::OkOrNull,
        out,
    )
}

/// `PSETEX key milliseconds value`
pub fn psetex(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let opts = SetOpts {
        expire: Some((ExpireKind::Px, args.get(2))),
        ..SetOpts::default()
    };
    set_generic(
        ctx,
        opts,
        args.get(1),
        args.get(3),
        "psetex",
        SetReply::OkOrNull,
        out,
    )
}

/// `GETSET key value`
pub fn getset(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let opts = SetOpts {
        get: true,
        ..SetOpts::default()
    };
    set_generic(
        ctx,
        opts,
        args.get(1),
        args.get(2),
        "getset",
        SetReply::OkOrNull,
        out,
    )
}

/// `GETDEL key`
pub fn getdel(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let key = args.get(1);
    if get_generic(ctx, key, out)? {
        ctx.db().delete(key);
        ctx.modified(key);
        ctx.propagate(&[b"DEL", key]);
    }
    Ok(())
}

/// `GETEX key [EX s|PX ms|EXAT ts|PXAT ts-ms|PERSIST]`
pub fn getex(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let opts = SetOpts::parse(args, 2, OptsFor::GetEx)?;
    let key = args.get(1);
    let Some(slot) = ctx.lookup_read(key) else {
        out.null();
        return Ok(());
    };
    if ctx.db().get(slot).value_type() != ValueType::String {
        return Err(CommandError::WrongType);
    }
    let expire = match opts.expire {
        Some((kind, arg)) => Some((kind, expire_at(ctx.now(), kind, arg, "getex")?)),
        None => None,
    };
    out.bulk(ctx.db().get(slot).value());
    let now = ctx.now();
    match expire {
        Some((ExpireKind::ExAt | ExpireKind::PxAt, at)) if at <= now => {
            ctx.db().remove(slot);
            ctx.modified(key);
            ctx.propagate(&[b"DEL", key]);
        }
        Some((_, at)) => {
            ctx.db().set_expire(slot, Some(at));
            ctx.modified(key);
            let mut n = itoa::Buffer::new();
            ctx.propagate(&[b"PEXPIREAT", key, n.format(at).as_bytes()]);
        }
        None if opts.persist && ctx.db().get(slot).expire().is_some() => {
            ctx.db().set_expire(slot, None);
            ctx.modified(key);
            ctx.propagate(&[b"PERSIST", key]);
        }
        None => {}
    }
    Ok(())
}

/// `MGET key [key ...]`
pub fn mget(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    out.array(args.len() - 1);
    for key in args.iter().skip(1) {
        match ctx.lookup_read(key) {
            Some(slot) => {
                let v = ctx.db().get(slot);
                if v.value_type() == ValueType::String {
                    out.bulk(v.value());
                } else {
                    out.null();
                }
            }
            None => out.null(),
        }
    }
    Ok(())
}

fn mset_generic(
    ctx: &mut Ctx<'_>,
    args: &Args<'_>,
    nx: bool,
    name: &str,
    out: &mut ReplyBuf,
) -> CmdResult {
    if args.len().is_multiple_of(2) {
        return Err(CommandError::WrongArity(name.to_string()));
    }
    if nx {
        let pairs = (1..args.len()).step_by(2);
        for j in pairs {
            if matches!(ctx.lookup_write(args.get(j)), Lookup::Found(_)) {
                out.int(0);
                return Ok(());
            }
        }
    }
    let lru = ctx.lru();
    for j in (1..args.len()).step_by(2) {
        let (key, value) = (args.get(j), args.get(j + 1));
        let at = ctx.lookup_write(key);
        ctx.db()
            .set_string(key, at, value, Encoding::for_value(value), Ttl::Clear, lru);
        ctx.modified(key);
    }
    if nx {
        out.int(1);
    } else {
        out.ok();
    }
    Ok(())
}

/// `MSET key value [key value ...]`
pub fn mset(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    mset_generic(ctx, args, false, "mset", out)
}

/// `MSETNX key value [key value ...]`
pub fn msetnx(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    mset_generic(ctx, args, true, "msetnx", out)
}

/// The string at a key found for writing, type-checked.
fn string_at(ctx: &mut Ctx<'_>, at: Lookup) -> Result<Option<(Slot, Vec<u8>)>, CommandError> {
    match at {
        Lookup::Missing(_) => Ok(None),
        Lookup::Found(slot) => {
            let v = ctx.db().get(slot);
            if v.value_type() != ValueType::String {
                return Err(CommandError::WrongType);
            }
            Ok(Some((slot, v.value().to_vec())))
        }
    }
}

fn incr_decr(ctx: &mut Ctx<'_>, key: &[u8], incr: i64, out: &mut ReplyBuf) -> CmdResult {
    let at = ctx.lookup_write(key);
    let current = match at {
        Lookup::Missing(_) => 0,
        Lookup::Found(slot) => {
            let v = ctx.db().get(slot);
            if v.value_type() != ValueType::String {
                return Err(CommandError::WrongType);
            }
            args::int(v.value())?
        }
    };
    let value = current.checked_add(incr).ok_or(OVERFLOW)?;
    let mut buf = itoa::Buffer::new();
    let text = buf.format(value).as_bytes();
    let lru = ctx.lru();
    ctx.db()
        .set_string(key, at, text, Encoding::Int, Ttl::Keep, lru);
    ctx.modified(key);
    out.int(value);
    Ok(())
}

/// `INCR key`
pub fn incr(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    incr_decr(ctx, args.get(1), 1, out)
}

/// `DECR key`
pub fn decr(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    incr_decr(ctx, args.get(1), -1, out)
}

/// `INCRBY key increment`
pub fn incrby(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let by = args::int(args.get(2))?;
    incr_decr(ctx, args.get(1), by, out)
}

/// `DECRBY key decrement`
pub fn decrby(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let by = args::int(args.get(2))?;
    if by == i64::MIN {
        return Err(CommandError::Static("ERR decrement would overflow"));
    }
    incr_decr(ctx, args.get(1), -by, out)
}

/// `INCRBYFLOAT key increment`
pub fn incrbyfloat(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let key = args.get(1);
    let at = ctx.lookup_write(key);
    let current = string_at(ctx, at)?;
    let value = long_double::add(current.as_ref().map(|(_, v)| v.as_slice()), args.get(2))
        .map_err(|e| match e {
            FloatError::NotFloat => CommandError::NotFloat,
            FloatError::NanOrInfinity => {
                CommandError::Static("ERR increment would produce NaN or Infinity")
            }
        })?;
    // redis-server builds the result as a plain string object: embstr or raw, never int.
    let encoding = if value.len() <= 44 {
        Encoding::Embstr
    } else {
        Encoding::Raw
    };
    let lru = ctx.lru();
    ctx.db()
        .set_string(key, at, &value, encoding, Ttl::Keep, lru);
    ctx.modified(key);
    // Float arithmetic may differ elsewhere: replay the result, not the increment.
    ctx.propagate(&[b"SET", key, &value, b"KEEPTTL"]);
    out.bulk(&value);
    Ok(())
}

/// Spare room to leave after a string that grew to `len` bytes: sds's greedy rule (double
/// below 1 MiB, then 1 MiB more), so repeated APPENDs stay amortised O(1).
pub(super) fn growth_spare(len: usize) -> usize {
    const MAX_PREALLOC: usize = 1024 * 1024;
    if len < MAX_PREALLOC {
        len
    } else {
        MAX_PREALLOC
    }
}

/// `APPEND key value`
pub fn append(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let (key, tail) = (args.get(1), args.get(2));
    let at = ctx.lookup_write(key);
    let lru = ctx.lru();
    let Lookup::Found(slot) = at else {
        ctx.db()
            .set_string(key, at, tail, Encoding::for_value(tail), Ttl::Keep, lru);
        ctx.modified(key);
        out.int(tail.len() as i64);
        return Ok(());
    };
    let max = ctx.max_string_len();
    let view = ctx.db().get(slot);
    if view.value_type() != ValueType::String {
        return Err(CommandError::WrongType);
    }
    let old_len = view.value().len();
    let total = old_len.checked_add(tail.len()).ok_or(TOO_BIG)?;
    if total > max {
        return Err(TOO_BIG);
    }
    if !ctx.db().write_in_place(slot, old_len, tail) {
        let mut joined = Vec::with_capacity(total);
        joined.extend_from_slice(ctx.db().get(slot).value());
        joined.extend_from_slice(tail);
        store_grown(ctx, key, at, &joined);
    }
    ctx.modified(key);
    out.int(total as i64);
    Ok(())
}

/// Stores a string that outgrew its allocation (APPEND, SETRANGE): raw encoding, with spare
/// room for more growth.
fn store_grown(ctx: &mut Ctx<'_>, key: &[u8], at: Lookup, value: &[u8]) {
    let lru = ctx.lru();
    let spare = growth_spare(value.len());
    ctx.db()
        .set_string_with_spare(key, at, value, Encoding::Raw, Ttl::Keep, lru, spare);
}

/// `STRLEN key`
pub fn strlen(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    match ctx.lookup_read(args.get(1)) {
        None => out.int(0),
        Some(slot) => {
            let v = ctx.db().get(slot);
            if v.value_type() != ValueType::String {
                return Err(CommandError::WrongType);
            }
            out.int(v.value().len() as i64);
        }
    }
    Ok(())
}

/// `GETRANGE key start end`
pub fn getrange(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let start = args::int(args.get(2))?;
    let end = args::int(args.get(3))?;
    let Some(slot) = ctx.lookup_read(args.get(1)) else {
        out.bulk(b"");
        return Ok(());
    };
    let v = ctx.db().get(slot);
    if v.value_type() != ValueType::String {
        return Err(CommandError::WrongType);
    }
    let s = v.value();
    match clamp_range(start, end, s.len()) {
        Some((a, b)) => out.bulk(&s[a..=b]),
        None => out.bulk(b""),
    }
    Ok(())
}

/// GETRANGE's index arithmetic: negative indexes count from the end, the range is clamped
/// to the string, and `None` means empty.
fn clamp_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    if start < 0 && end < 0 && start > end {
        return None;
    }
    let len_i = len as i64;
    let mut start = if start < 0 {
        len_i.saturating_add(start)
    } else {
        start
    };
    let mut end = if end < 0 {
        len_i.saturating_add(end)
    } else {
        end
    };
    start = start.max(0);
    end = end.max(0);
    if end >= len_i {
        end = len_i - 1;
    }
    if start > end || len == 0 {
        return None;
    }
    Some((start as usize, end as usize))
}

/// `SUBSTR key start end` (the old name of GETRANGE)
pub fn substr(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    getrange(ctx, args, out)
}

/// `SETRANGE key offset value`
pub fn setrange(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let (key, patch) = (args.get(1), args.get(3));
    let offset = args::int(args.get(2))?;
    if offset < 0 {
        return Err(CommandError::Static("ERR offset is out of range"));
    }
    let offset = offset as u64;
    let at = ctx.lookup_write(key);
    let old = string_at(ctx, at)?;
    if patch.is_empty() {
        out.int(old.map_or(0, |(_, v)| v.len() as i64));
        return Ok(());
    }
    let total = offset.saturating_add(patch.len() as u64);
    if total > ctx.max_string_len() as u64 {
        return Err(TOO_BIG);
    }
    let offset = offset as usize;
    if let Some((slot, _)) = &old {
        if ctx.db().write_in_place(*slot, offset, patch) {
            ctx.modified(key);
            out.int(ctx.db().get(*slot).value().len() as i64);
            return Ok(());
        }
    }
    let mut value = old.map(|(_, v)| v).unwrap_or_default();
    if value.len() < offset + patch.len() {
        value.resize(offset + patch.len(), 0);
    }
    value[offset..offset + patch.len()].copy_from_slice(patch);
    if matches!(at, Lookup::Missing(_)) {
        // A new key gets exactly its size, like redis-server's fresh sds.
        let lru = ctx.lru();
        ctx.db()
            .set_string(key, at, &value, Encoding::Raw, Ttl::Keep, lru);
    } else {
        store_grown(ctx, key, at, &value);
    }
    ctx.modified(key);
    out.int(value.len() as i64);
    Ok(())
}

/// `LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]`
pub fn lcs(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    // Each value is copied right after its lookup: looking the second key up may reclaim it
    // as expired, which moves the first key's slot.
    let value_of = |ctx: &mut Ctx<'_>, key: &[u8]| -> Result<Vec<u8>, CommandError> {
        match ctx.lookup_read(key) {
            None => Ok(Vec::new()),
            Some(slot) => {
                let v = ctx.db().get(slot);
                if v.value_type() != ValueType::String {
                    return Err(CommandError::Static(
                        "ERR The specified keys must contain string values",
                    ));
                }
                Ok(v.value().to_vec())
            }
        }
    };
    // Both lookups happen (and count) before either type is checked, as in redis-server.
    let a = value_of(ctx, args.get(1));
    let b = value_of(ctx, args.get(2));
    let (a, b) = (a?, b?);
    let (mut getlen, mut getidx, mut withmatchlen, mut minmatchlen) = (false, false, false, 0i64);
    let mut j = 3;
    while j < args.len() {
        let opt = args.get(j);
        if is(opt, "IDX") {
            getidx = true;
        } else if is(opt, "LEN") {
            getlen = true;
        } else if is(opt, "WITHMATCHLEN") {
            withmatchlen = true;
        } else if is(opt, "MINMATCHLEN") && j + 1 < args.len() {
            minmatchlen = args::int(args.get(j + 1))?.max(0);
            j += 1;
        } else {
            return Err(CommandError::Syntax);
        }
        j += 1;
    }
    if getlen && getidx {
        return Err(CommandError::Static(
            "ERR If you want both the length and indexes, please just use IDX.",
        ));
    }
    if a.len() >= u32::MAX as usize - 1 || b.len() >= u32::MAX as usize - 1 {
        return Err(CommandError::Static("ERR String too long for LCS"));
    }
    let cells = (a.len() as u64 + 1) * (b.len() as u64 + 1);
    if cells * 4 > ctx.max_string_len() as u64 {
        return Err(CommandError::Static(
            "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len",
        ));
    }
    let mut table: Vec<u32> = Vec::new();
    if table.try_reserve_exact(cells as usize).is_err() {
        return Err(CommandError::Static(
            "ERR Insufficient memory, failed allocating transient memory for LCS",
        ));
    }
    let r = crate::lcs::solve(&a, &b, &mut table, minmatchlen as u64, getidx || !getlen);
    if getidx {
        out.map(2);
        out.bulk(b"matches");
        out.array(r.ranges.len());
        for m in &r.ranges {
            out.array(2 + usize::from(withmatchlen));
            out.array(2);
            out.int(i64::from(m.a.0));
            out.int(i64::from(m.a.1));
            out.array(2);
            out.int(i64::from(m.b.0));
            out.int(i64::from(m.b.1));
            if withmatchlen {
                out.int(i64::from(m.len));
            }
        }
        out.bulk(b"len");
        out.int(i64::from(r.len));
    } else if getlen {
        out.int(i64::from(r.len));
    } else {
        out.bulk(&r.common);
    }
    Ok(())
}

/// The string commands this module implements, by name.
pub(crate) const HANDLERS: &[(&str, StoreFn)] = &[
    ("get", get),
    ("set", set),
    ("setnx", setnx),
    ("setex", setex),
    ("psetex", psetex),
    ("mget", mget),
    ("mset", mset),
    ("msetnx", msetnx),
    ("getset", getset),
    ("getdel", getdel),
    ("getex", getex),
    ("incr", incr),
    ("decr", decr),
    ("incrby", incrby),
    ("decrby", decrby),
    ("incrbyfloat", incrbyfloat),
    ("append", append),
    ("strlen", strlen),
    ("getrange", getrange),
    ("setrange", setrange),
    ("substr", substr),
    ("lcs", lcs),
];
