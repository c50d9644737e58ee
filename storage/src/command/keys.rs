//! Generic key commands (redis-server's db.c and expire.c): deleting, inspecting, renaming,
//! copying and iterating keys, TTLs, and OBJECT. Each handler's doc line is its syntax.

use cachegate_config::glob::{Case, Pattern};
use cachegate_protocols::resp::request::Args;
use cachegate_protocols::resp::ReplyBuf;

use super::args::{self, is};
use super::scan::{self, ScanOpts};
use super::spec::StoreFn;
use super::{CmdResult, CommandError, Ctx};
use crate::keyspace::{idle_seconds, lru_clock, Lookup};

fn del_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, lazy: bool, out: &mut ReplyBuf) -> CmdResult {
    let mut deleted = 0;
    for key in args.iter().skip(1) {
        // An expired key is reclaimed (and counted as expired), not as deleted.
        if let Lookup::Found(slot) = ctx.lookup_write(key) {
            let entry = ctx.db().remove(slot);
            if lazy {
                ctx.store.free_lazily(entry);
            }
            ctx.modified(key);
            deleted += 1;
        }
    }
    out.int(deleted);
    Ok(())
}

/// `DEL key [key ...]`
pub fn del(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    del_generic(ctx, args, false, out)
}

/// `UNLINK key [key ...]` — a value of more than 64 elements is freed in the background.
pub fn unlink(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    del_generic(ctx, args, true, out)
}

/// `EXISTS key [key ...]`
pub fn exists(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let mut n = 0;
    for key in args.iter().skip(1) {
        if ctx.lookup_read_notouch(key).is_some() {
            n += 1;
        }
    }
    out.int(n);
    Ok(())
}

/// `TOUCH key [key ...]`
pub fn touch(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let mut n = 0;
    for key in args.iter().skip(1) {
        if ctx.lookup_read(key).is_some() {
            n += 1;
        }
    }
    out.int(n);
    Ok(())
}

/// `TYPE key`
pub fn type_(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    match ctx.lookup_read_notouch(args.get(1)) {
        Some(slot) => {
            let name = ctx.db().get(slot).value_type().name();
            out.simple(name.as_bytes());
        }
        None => out.simple(b"none"),
    }
    Ok(())
}

/// `NX | XX | GT | LT` of the EXPIRE family.
#[derive(Default)]
struct ExpireFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

fn parse_expire_flags(args: &Args<'_>) -> Result<ExpireFlags, CommandError> {
    let mut f = ExpireFlags::default();
    for opt in args.iter().skip(3) {
        if is(opt, "NX") {
            f.nx = true;
        } else if is(opt, "XX") {
            f.xx = true;
        } else if is(opt, "GT") {
            f.gt = true;
        } else if is(opt, "LT") {
            f.lt = true;
        } else {
            return Err(CommandError::quoting(&[
                b"ERR Unsupported option ",
                args::cstr(opt),
            ]));
        }
    }
    if f.nx && (f.xx || f.gt || f.lt) {
        return Err(CommandError::Static(
            "ERR NX and XX, GT or LT options at the same time are not compatible",
        ));
    }
    if f.gt && f.lt {
        return Err(CommandError::Static(
            "ERR GT and LT options at the same time are not compatible",
        ));
    }
    Ok(f)
}

/// EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT: `base` is added (now for relative forms, 0 for
/// absolute), `seconds` says the unit.
fn expire_generic(
    ctx: &mut Ctx<'_>,
    args: &Args<'_>,
    base: i64,
    seconds: bool,
    cmd: &'static str,
    out: &mut ReplyBuf,
) -> CmdResult {
    let flags = parse_expire_flags(args)?;
    let mut when = args::int(args.get(2))?;
    if seconds {
        when = when
            .checked_mul(1000)
            .ok_or(CommandError::InvalidExpireTime(cmd))?;
    }
    if when > i64::MAX - base {
        return Err(CommandError::InvalidExpireTime(cmd));
    }
    when += base;
    let Lookup::Found(slot) = ctx.lookup_write(args.get(1)) else {
        out.int(0);
        return Ok(());
    };
    let current = ctx.db().get(slot).expire();
    let refused = (flags.nx && current.is_some())
        || (flags.xx && current.is_none())
        // GT treats a key without a TTL as an infinite TTL: never greater.
        || (flags.gt && !matches!(current, Some(c) if when > c))
        || (flags.lt && current.is_some_and(|c| when >= c));
    if refused {
        out.int(0);
        return Ok(());
    }
    let key = args.get(1);
    if when <= ctx.now() {
        ctx.db().remove(slot);
        ctx.propagate(&[b"DEL", key]);
    } else {
        ctx.db().set_expire(slot, Some(when));
        // Every form replays as an absolute time in ms, conditions kept.
        let mut n = itoa::Buffer::new();
        let mut argv: Vec<&[u8]> = vec![b"PEXPIREAT", key, n.format(when).as_bytes()];
        argv.extend(args.iter().skip(3));
        ctx.propagate(&argv);
    }
    ctx.modified(key);
    out.int(1);
    Ok(())
}

/// `EXPIRE key seconds [NX|XX|GT|LT]`
pub fn expire(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let now = ctx.now();
    expire_generic(ctx, args, now, true, "expire", out)
}

/// `PEXPIRE key milliseconds [NX|XX|GT|LT]`
pub fn pexpire(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let now = ctx.now();
    expire_generic(ctx, args, now, false, "pexpire", out)
}

/// `EXPIREAT key unix-time-seconds [NX|XX|GT|LT]`
pub fn expireat(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    expire_generic(ctx, args, 0, true, "expireat", out)
}

/// `PEXPIREAT key unix-time-milliseconds [NX|XX|GT|LT]`
pub fn pexpireat(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    expire_generic(ctx, args, 0, false, "pexpireat", out)
}

/// TTL, PTTL, EXPIRETIME, PEXPIRETIME.
fn ttl_generic(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    ms: bool,
    absolute: bool,
    out: &mut ReplyBuf,
) -> CmdResult {
    let Some(slot) = ctx.lookup_read_notouch(key) else {
        out.int(-2);
        return Ok(());
    };
    let Some(at) = ctx.db().get(slot).expire() else {
        out.int(-1);
        return Ok(());
    };
    let ttl = if absolute { at } else { at - ctx.now() }.max(0);
    out.int(if ms { ttl } else { (ttl + 500) / 1000 });
    Ok(())
}

/// `TTL key`
pub fn ttl(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    ttl_generic(ctx, args.get(1), false, false, out)
}

/// `PTTL key`
pub fn pttl(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    ttl_generic(ctx, args.get(1), true, false, out)
}

/// `EXPIRETIME key`
pub fn expiretime(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    ttl_generic(ctx, args.get(1), false, true, out)
}

/// `PEXPIRETIME key`
pub fn pexpiretime(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    ttl_generic(ctx, args.get(1), true, true, out)
}

/// `PERSIST key`
pub fn persist(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    match ctx.lookup_write(args.get(1)) {
        Lookup::Found(slot) if ctx.db().get(slot).expire().is_some() => {
            ctx.db().set_expire(slot, None);
            ctx.modified(args.get(1));
            out.int(1);
        }
        _ => out.int(0),
    }
    Ok(())
}

/// `KEYS pattern`
pub fn keys(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let pattern = args.get(1);
    let all = pattern == b"*";
    let matcher = Pattern::new(pattern, Case::Sensitive);
    let now = ctx.now();
    let db = ctx.db();
    let found: Vec<&[u8]> = db
        .iter()
        .filter(|v| all || matcher.matches(v.key()))
        .filter(|v| !matches!(v.expire(), Some(at) if now > at))
        .map(|v| v.key())
        .collect();
    out.array(found.len());
    for k in found {
        out.bulk(k);
    }
    Ok(())
}

/// `SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]`
pub fn scan(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let mut cursor = args::cursor(args.get(1))?;
    let opts = ScanOpts::parse(args, 2, true)?;
    let (count, type_filter) = (opts.count, opts.type_filter);
    let mut keys: Vec<Vec<u8>> = Vec::new();
    let mut budget = count.saturating_mul(10);
    {
        let db = ctx.db();
        loop {
            cursor = db.scan(cursor, |v| keys.push(v.key().to_vec()));
            budget -= 1;
            if cursor == 0 || budget <= 0 || keys.len() as i64 >= count {
                break;
            }
        }
    }
    let mut kept = Vec::with_capacity(keys.len());
    for key in keys {
        if !opts.matches(&key) {
            continue;
        }
        if let Some(t) = type_filter {
            let name = match ctx.lookup_read_notouch(&key) {
                Some(slot) => ctx.db().get(slot).value_type().name(),
                None => "none",
            };
            if !t.eq_ignore_ascii_case(name.as_bytes()) {
                continue;
            }
            // redis-server quirk, kept because it is observable: the TYPE lookup has just
            // reclaimed an expired key, so the expiry check below finds nothing to expire
            // and `TYPE none` returns the key.
            if name == "none" {
                kept.push(key);
                continue;
            }
        }
        // Expired keys are reclaimed here rather than returned; live ones are not touched.
        if ctx.expire_if_needed(&key) {
            continue;
        }
        kept.push(key);
    }
    scan::reply(out, cursor, &kept);
    Ok(())
}

/// `RANDOMKEY`
pub fn randomkey(ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    loop {
        let r = ctx.store.random();
        let Some(slot) = ctx.db().random_slot(r) else {
            out.null();
            return Ok(());
        };
        let key = ctx.db().get(slot).key().to_vec();
        // An expired pick is reclaimed and another one drawn; a live one is not touched.
        if !ctx.expire_if_needed(&key) {
            out.bulk(&key);
            return Ok(());
        }
    }
}

fn rename_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, nx: bool, out: &mut ReplyBuf) -> CmdResult {
    let (src, dst) = (args.get(1), args.get(2));
    if !matches!(ctx.lookup_write(src), Lookup::Found(_)) {
        return Err(CommandError::NoSuchKey);
    }
    if src == dst {
        if nx {
            out.int(0);
        } else {
            out.ok();
        }
        return Ok(());
    }
    if let Lookup::Found(dslot) = ctx.lookup_write(dst) {
        if nx {
            out.int(0);
            return Ok(());
        }
        ctx.db().remove(dslot);
    }
    // Looking `dst` up (it may have been reclaimed as expired) and removing it may have
    // moved `src`: find it again.
    let Lookup::Found(slot) = ctx.db().find(src) else {
        unreachable!("the source was found live in this command");
    };
    // The value moves to the new key without being copied.
    let entry = ctx.db().remove(slot).rekey(dst);
    let Lookup::Missing(hash) = ctx.db().find(dst) else {
        unreachable!("the destination was removed above");
    };
    ctx.db().add(hash, entry);
    ctx.modified(src);
    ctx.signal(dst);
    if nx {
        out.int(1);
    } else {
        out.ok();
    }
    Ok(())
}

/// `RENAME key newkey`
pub fn rename(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    rename_generic(ctx, args, false, out)
}

/// `RENAMENX key newkey`
pub fn renamenx(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    rename_generic(ctx, args, true, out)
}

/// `COPY source destination [DB destination-db] [REPLACE]`
pub fn copy_(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let src_db = ctx.session.db;
    let mut dst_db = src_db;
    let mut replace = false;
    let mut j = 3;
    while j < args.len() {
        let opt = args.get(j);
        if is(opt, "REPLACE") {
            replace = true;
        } else if is(opt, "DB") && j + 1 < args.len() {
            let id = args::int32(args.get(j + 1))?;
            if id < 0 || id as usize >= ctx.store.keyspace.len() {
                return Err(CommandError::DbIndexOutOfRange);
            }
            dst_db = id as usize;
            j += 1;
        } else {
            return Err(CommandError::Syntax);
        }
        j += 1;
    }
    let (src, dst) = (args.get(1), args.get(2));
    if src_db == dst_db && src == dst {
        return Err(CommandError::SameObject);
    }
    let Some(slot) = ctx.lookup_read(src) else {
        out.int(0);
        return Ok(());
    };
    let lru = ctx.lru();
    let entry = ctx.db().copy_entry(slot, dst, lru);
    let target = match ctx.lookup_write_in(dst_db, dst) {
        Lookup::Found(dslot) if replace => {
            let db = ctx.store.keyspace.db_mut(dst_db);
            db.remove(dslot);
            db.find(dst)
        }
        Lookup::Found(_) => {
            out.int(0);
            return Ok(());
        }
        missing => missing,
    };
    if let Lookup::Missing(hash) = target {
        ctx.store.keyspace.db_mut(dst_db).add(hash, entry);
    }
    ctx.dirty(1);
    ctx.store.signal_modified(dst_db, dst);
    out.int(1);
    Ok(())
}

/// Looks up the key of an OBJECT subcommand: counts hits and misses but leaves the LRU
/// clock alone, and replies null when missing.
fn object_lookup(
    ctx: &mut Ctx<'_>,
    args: &Args<'_>,
    out: &mut ReplyBuf,
) -> Option<crate::keyspace::Slot> {
    let slot = ctx.lookup_read_notouch(args.get(2));
    if slot.is_none() {
        out.null();
    }
    slot
}

/// `OBJECT ENCODING key`
pub fn object_encoding(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    if let Some(slot) = object_lookup(ctx, args, out) {
        let enc = ctx.db().get(slot).encoding_name();
        out.bulk(enc.as_bytes());
    }
    Ok(())
}

/// `OBJECT REFCOUNT key`
pub fn object_refcount(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    if let Some(slot) = object_lookup(ctx, args, out) {
        // Shared integers report INT_MAX, as redis-server's shared objects do.
        let shared = ctx.db().get(slot).is_shared();
        out.int(if shared { i64::from(i32::MAX) } else { 1 });
    }
    Ok(())
}

/// `OBJECT IDLETIME key`
pub fn object_idletime(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    if let Some(slot) = object_lookup(ctx, args, out) {
        let then = ctx.db().get(slot).lru();
        out.int(i64::from(idle_seconds(lru_clock(ctx.now()), then)));
    }
    Ok(())
}

/// `OBJECT FREQ key` — access frequency is only tracked under an LFU eviction policy, and
/// cachegate has no maxmemory policy yet, so this answers as redis-server does under LRU.
pub fn object_freq(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    if object_lookup(ctx, args, out).is_some() {
        return Err(CommandError::Static(
            "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.",
        ));
    }
    Ok(())
}

/// `OBJECT HELP`
pub fn object_help(_ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    super::conn::help(
        out,
        "OBJECT",
        &[
            "ENCODING <key>",
            "    Return the internal representation of the value at <key>.",
            "FREQ <key>",
            "    Return the logarithmic access frequency counter of <key> (LFU policies only).",
            "IDLETIME <key>",
            "    Return the approximate number of seconds since <key> was last accessed.",
            "REFCOUNT <key>",
            "    Return the number of references to the value at <key>.",
        ],
    );
    Ok(())
}

/// The generic key commands this module implements, by name.
pub(crate) const HANDLERS: &[(&str, StoreFn)] = &[
    ("del", del),
    ("unlink", unlink),
    ("exists", exists),
    ("type", type_),
    ("expire", expire),
    ("pexpire", pexpire),
    ("expireat", expireat),
    ("pexpireat", pexpireat),
    ("ttl", ttl),
    ("pttl", pttl),
    ("expiretime", expiretime),
    ("pexpiretime", pexpiretime),
    ("persist", persist),
    ("keys", keys),
    ("scan", scan),
    ("randomkey", randomkey),
    ("rename", rename),
    ("renamenx", renamenx),
    ("copy", copy_),
    ("touch", touch),
    ("object|encoding", object_encoding),
    ("object|refcount", object_refcount),
    ("object|idletime", object_idletime),
    ("object|freq", object_freq),
    ("object|help", object_help),
];
