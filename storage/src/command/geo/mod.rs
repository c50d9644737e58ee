//! Geo commands (redis-server's geo.c): GEOADD, GEOHASH, GEOPOS, GEODIST here; the searches
//! (GEOSEARCH, GEOSEARCHSTORE, GEORADIUS, GEORADIUSBYMEMBER and their `_RO` forms) in
//! [`search`]. A geo set is a sorted set whose scores are 52-bit geohashes
//! ([`crate::types::geohash`]); every sorted set command works on it.
//!
//! GEOADD replays as the ZADD it amounts to (the scores computed), as redis-server rewrites
//! it; the searches replay as sent.

pub mod search;

use cachegate_protocols::resp::request::Args;
use cachegate_protocols::resp::ReplyBuf;

use super::args::is;
use super::spec::StoreFn;
use super::zset::{zset_add, AddFlags};
use super::{CmdResult, CommandError, Ctx};
use crate::keyspace::entry::ValueType;
use crate::types::geohash;
use crate::types::zset::score;
use crate::types::ZSet;

/// Reads a longitude and latitude (`extractLongLatOrReply`).
pub(crate) fn lon_lat(lon: &[u8], lat: &[u8]) -> Result<(f64, f64), CommandError> {
    let lon = score::parse(lon).ok_or(CommandError::NotFloat)?;
    let lat = score::parse(lat).ok_or(CommandError::NotFloat)?;
    if !(geohash::LON_MIN..=geohash::LON_MAX).contains(&lon)
        || !(geohash::LAT_MIN..=geohash::LAT_MAX).contains(&lat)
    {
        return Err(CommandError::Owned(format!(
            "ERR invalid longitude,latitude pair {lon:.6},{lat:.6}"
        )));
    }
    Ok((lon, lat))
}

/// A distance unit in metres (`extractUnitOrReply`).
pub(crate) fn unit(arg: &[u8]) -> Result<f64, CommandError> {
    if is(arg, "m") {
        Ok(1.0)
    } else if is(arg, "km") {
        Ok(1000.0)
    } else if is(arg, "ft") {
        Ok(0.3048)
    } else if is(arg, "mi") {
        Ok(1609.34)
    } else {
        Err(CommandError::Static(
            "ERR unsupported unit provided. please use M, KM, FT, MI",
        ))
    }
}

/// A distance as redis-server prints it: rounded (half to even) to four decimals.
pub(crate) fn write_distance(out: &mut ReplyBuf, d: f64) {
    let v = (d * 10000.0).round_ties_even() as i64;
    let s = if v < 0 {
        format!(
            "-{}.{:04}",
            v.unsigned_abs() / 10000,
            v.unsigned_abs() % 10000
        )
    } else {
        format!("{}.{:04}", v / 10000, v % 10000)
    };
    out.bulk(s.as_bytes());
}

/// A coordinate as redis-server prints it (`addReplyHumanLongDouble`): `%.17Lf` without
/// trailing zeros, a bulk string in RESP2 and a double in RESP3.
pub(crate) fn write_coord(out: &mut ReplyBuf, v: f64) {
    let mut s = format!("{v:.17}");
    if s.contains('.') {
        let trimmed = s.trim_end_matches('0').trim_end_matches('.').len();
        s.truncate(trimmed);
    }
    if s == "-0" {
        s = "0".into();
    }
    if out.is_resp3() {
        out.raw(b",");
        out.raw(s.as_bytes());
        out.raw(b"\r\n");
    } else {
        out.bulk(s.as_bytes());
    }
}

/// `GEOADD key [NX|XX] [CH] longitude latitude member [longitude latitude member ...]`
pub fn geoadd(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let key = args.get(1);
    let (mut nx, mut xx, mut ch) = (false, false, false);
    let mut at = 2;
    while at < args.len() {
        let opt = args.get(at);
        if is(opt, "nx") {
            nx = true;
        } else if is(opt, "xx") {
            xx = true;
        } else if is(opt, "ch") {
            ch = true;
        } else {
            break;
        }
        at += 1;
    }
    let rest = args.len() - at;
    if !rest.is_multiple_of(3) || rest == 0 || (xx && nx) {
        return Err(CommandError::Syntax);
    }
    let mut points = Vec::with_capacity((rest / 3).min(1024));
    for i in 0..rest / 3 {
        let j = at + 3 * i;
        let (lon, lat) = lon_lat(args.get(j), args.get(j + 1))?;
        let s = geohash::score_of(lon, lat).unwrap_or(0);
        points.push((s, args.get(j + 2)));
    }
    let exists = match ctx.type_of(key) {
        Some(ValueType::ZSet) => true,
        Some(_) => return Err(CommandError::WrongType),
        None => false,
    };
    let flags = AddFlags {
        nx,
        xx,
        ..AddFlags::default()
    };
    let t = ctx.store.thresholds;
    let (mut added, mut updated) = (0u64, 0u64);
    if exists || !xx {
        let mut z = ctx.edit_or_create::<ZSet>(key)?;
        for &(s, m) in &points {
            let r = zset_add(&mut z, m, s as f64, flags, &t)?;
            added += u64::from(r.added);
            updated += u64::from(r.updated);
        }
    }
    if added + updated > 0 {
        ctx.dirty(added + updated);
        ctx.signal(key);
    }
    // The ZADD it amounts to: the options as sent, then score/member pairs.
    if added + updated == 0 || !ctx.store.writes.enabled {
        out.int((if ch { added + updated } else { added }) as i64);
        return Ok(());
    }
    let scores: Vec<String> = points.iter().map(|(s, _)| s.to_string()).collect();
    let mut argv: Vec<&[u8]> = Vec::with_capacity(at + 2 * points.len());
    argv.push(b"zadd");
    for i in 1..at {
        argv.push(args.get(i));
    }
    for (i, (_, m)) in points.iter().enumerate() {
        argv.push(scores[i].as_bytes());
        argv.push(m);
    }
    ctx.propagate(&argv);
    out.int((if ch { added + updated } else { added }) as i64);
    Ok(())
}

/// `GEOHASH key [member [member ...]]`
pub fn geohash(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let z = ctx.read::<ZSet>(args.get(1))?;
    out.array(args.len() - 2);
    for m in args.iter().skip(2) {
        match z.and_then(|z| z.score(m)) {
            Some(s) => out.bulk(&geohash::hash_string(s)),
            None => out.null(),
        }
    }
    Ok(())
}

/// `GEOPOS key [member [member ...]]`
pub fn geopos(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let z = ctx.read::<ZSet>(args.get(1))?;
    out.array(args.len() - 2);
    for m in args.iter().skip(2) {
        match z.and_then(|z| z.score(m)) {
            Some(s) => {
                let (lon, lat) = geohash::decode_score(s);
                out.array(2);
                write_coord(out, lon);
                write_coord(out, lat);
            }
            None => out.null_array(),
        }
    }
    Ok(())
}

/// `GEODIST key member1 member2 [M|KM|FT|MI]`
pub fn geodist(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let to_meter = match args.len() {
        5 => unit(args.get(4))?,
        n if n > 5 => return Err(CommandError::Syntax),
        _ => 1.0,
    };
    let Some(z) = ctx.read::<ZSet>(args.get(1))? else {
        out.null();
        return Ok(());
    };
    match (z.score(args.get(2)), z.score(args.get(3))) {
        (Some(a), Some(b)) => {
            let (lon1, lat1) = geohash::decode_score(a);
            let (lon2, lat2) = geohash::decode_score(b);
            write_distance(out, geohash::distance(lon1, lat1, lon2, lat2) / to_meter);
        }
        _ => out.null(),
    }
    Ok(())
}

/// The geo commands this module runs.
pub(crate) const HANDLERS: &[(&str, StoreFn)] = &[
    ("geoadd", geoadd),
    ("geohash", geohash),
    ("geopos", geopos),
    ("geodist", geodist),
    ("geosearch", search::geosearch),
    ("geosearchstore", search::geosearchstore),
    ("georadius", search::georadius),
    ("georadius_ro", search::georadius_ro),
    ("georadiusbymember", search::georadiusbymember),
    ("georadiusbymember_ro", search::georadiusbymember_ro),
];
