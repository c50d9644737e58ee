//! Geo searches: GEOSEARCH, GEOSEARCHSTORE, GEORADIUS, GEORADIUSBYMEMBER and their `_RO`
//! forms (redis-server's `georadiusGeneric`).
//!
//! A search looks in the centre's geohash cell and its eight neighbours, at a cell size
//! estimated from the area ([`geohash::Search::cells`]); each cell is a score interval of
//! the sorted set, found in O(log n), whose members are then checked against the exact
//! area. Results come in the order they were found unless sorted by distance (ASC/DESC,
//! and COUNT without ANY sorts ascending); the sort is stable.

use cachegate_protocols::resp::request::Args;
use cachegate_protocols::resp::ReplyBuf;

use super::{lon_lat, unit, write_coord, write_distance};
use crate::command::args::is;
use crate::command::zset::{delete_key, store_value};
use crate::command::{CmdResult, CommandError, Ctx};
use crate::types::geohash::{self, Search, Shape};
use crate::types::zset::ZSetRef;
use crate::types::ZSet;

/// Which command.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// GEORADIUS[_RO]: `key longitude latitude radius unit`.
    RadiusCoords,
    /// GEORADIUSBYMEMBER[_RO]: `key member radius unit`.
    RadiusMember,
    /// GEOSEARCH / GEOSEARCHSTORE: the centre and area are options.
    Search,
}

/// A point found.
struct Found<'a> {
    member: &'a [u8],
    score: f64,
    dist: f64,
    lon: f64,
    lat: f64,
}

/// The centre of a member, or `ERR could not decode requested zset member`.
fn member_pos(z: &ZSetRef<'_>, member: &[u8]) -> Result<(f64, f64), CommandError> {
    z.score(member)
        .map(geohash::decode_score)
        .ok_or(CommandError::Static(
            "ERR could not decode requested zset member",
        ))
}

/// The sorted set at `key` after the command's one counted lookup (no statistics, no LRU).
fn view<'c>(ctx: &'c Ctx<'_>, key: &[u8]) -> Option<ZSetRef<'c>> {
    let db = ctx.store.keyspace.db(ctx.session.db);
    match db.find(key) {
        crate::keyspace::Lookup::Found(slot) => db.get(slot).collection::<ZSet>(),
        crate::keyspace::Lookup::Missing(_) => None,
    }
}

/// A distance argument (`extractDistanceOrReply`).
fn radius(arg: &[u8], unit_arg: &[u8]) -> Result<(f64, f64), CommandError> {
    let r = crate::types::zset::score::parse(arg)
        .ok_or(CommandError::Static("ERR need numeric radius"))?;
    if r < 0.0 {
        return Err(CommandError::Static("ERR radius cannot be negative"));
    }
    Ok((r, unit(unit_arg)?))
}

/// Members of `z` inside `search`, looking cell by cell; stops at `limit` (0: none).
fn find<'a>(z: &ZSetRef<'a>, search: &Search, limit: usize) -> Vec<Found<'a>> {
    let mut found = Vec::new();
    let cells = search.cells();
    let mut last: Option<geohash::Cell> = None;
    for cell in cells.iter().flatten() {
        // Huge areas make neighbours coincide: skip a cell equal to the one just searched.
        if last == Some(*cell) {
            continue;
        }
        if limit > 0 && found.len() >= limit {
            break;
        }
        last = Some(*cell);
        let (min, max) = geohash::score_range(*cell);
        let (min, max) = (min as f64, max as f64);
        let lo = z.partition(|s, _| s < min);
        for (m, s) in z.iter_from(lo) {
            if s >= max {
                break;
            }
            let (lon, lat) = geohash::decode_score(s);
            if let Some(dist) = search.contains(lon, lat) {
                found.push(Found {
                    member: m,
                    score: s,
                    dist,
                    lon,
                    lat,
                });
            }
            if limit > 0 && found.len() >= limit {
                break;
            }
        }
    }
    found
}

/// The common body; `src` is the index of the source key, `dst` GEOSEARCHSTORE's
/// destination, `ro` the `_RO` forms (no STORE).
fn generic(
    ctx: &mut Ctx<'_>,
    args: &Args<'_>,
    src: usize,
    kind: Kind,
    dst_fixed: Option<&[u8]>,
    ro: bool,
    out: &mut ReplyBuf,
) -> CmdResult {
    let key = args.get(src);
    let exists = ctx.read::<ZSet>(key)?.is_some();
    let mut storekey: Option<&[u8]> = dst_fixed;
    let mut storedist = false;
    let mut center: Option<(f64, f64)> = None;
    let mut shape: Option<(Shape, f64)> = None;
    let base = match kind {
        Kind::RadiusCoords => {
            center = Some(lon_lat(args.get(2), args.get(3))?);
            let (r, u) = radius(args.get(4), args.get(5))?;
            shape = Some((Shape::Radius(r), u));
            6
        }
        Kind::RadiusMember => {
            if let Some(z) = view(ctx, key) {
                center = Some(member_pos(&z, args.get(2))?);
                let (r, u) = radius(args.get(3), args.get(4))?;
                shape = Some((Shape::Radius(r), u));
            }
            5
        }
        Kind::Search => {
            if dst_fixed.is_some() {
                3
            } else {
                2
            }
        }
    };
    let search_kind = kind == Kind::Search;
    let store_form = dst_fixed.is_some();
    let (mut withdist, mut withhash, mut withcoord, mut any) = (false, false, false, false);
    let (mut frommember, mut fromloc, mut byradius, mut bybox) = (false, false, false, false);
    #[derive(PartialEq, Clone, Copy)]
    enum Sort {
        None,
        Asc,
        Desc,
    }
    let mut sort = Sort::None;
    let mut count: i64 = 0;
    let remaining = args.len().saturating_sub(base);
    let mut i = 0;
    while i < remaining {
        let a = args.get(base + i);
        if is(a, "withdist") {
            withdist = true;
        } else if is(a, "withhash") {
            withhash = true;
        } else if is(a, "withcoord") {
            withcoord = true;
        } else if is(a, "any") {
            any = true;
        } else if is(a, "asc") {
            sort = Sort::Asc;
        } else if is(a, "desc") {
            sort = Sort::Desc;
        } else if is(a, "count") && i + 1 < remaining {
            count = crate::command::args::int(args.get(base + i + 1))?;
            if count <= 0 {
                return Err(CommandError::Static("ERR COUNT must be > 0"));
            }
            i += 1;
        } else if (is(a, "store") || is(a, "storedist")) && i + 1 < remaining && !ro && !search_kind
        {
            storekey = Some(args.get(base + i + 1));
            storedist = is(a, "storedist");
            i += 1;
        } else if is(a, "storedist") && search_kind && store_form {
            storedist = true;
        } else if is(a, "frommember") && i + 1 < remaining && search_kind && !fromloc {
            if let Some(z) = view(ctx, key) {
                center = Some(member_pos(&z, args.get(base + i + 1))?);
            }
            frommember = true;
            i += 1;
        } else if is(a, "fromlonlat") && i + 2 < remaining && search_kind && !frommember {
            center = Some(lon_lat(args.get(base + i + 1), args.get(base + i + 2))?);
            fromloc = true;
            i += 2;
        } else if is(a, "byradius") && i + 2 < remaining && search_kind && !bybox {
            let (r, u) = radius(args.get(base + i + 1), args.get(base + i + 2))?;
            shape = Some((Shape::Radius(r), u));
            byradius = true;
            i += 2;
        } else if is(a, "bybox") && i + 3 < remaining && search_kind && !byradius {
            let w = crate::types::zset::score::parse(args.get(base + i + 1))
                .ok_or(CommandError::Static("ERR need numeric width"))?;
            let h = crate::types::zset::score::parse(args.get(base + i + 2))
                .ok_or(CommandError::Static("ERR need numeric height"))?;
            if h < 0.0 || w < 0.0 {
                return Err(CommandError::Static(
                    "ERR height or width cannot be negative",
                ));
            }
            let u = unit(args.get(base + i + 3))?;
            shape = Some((
                Shape::Box {
                    width: w,
                    height: h,
                },
                u,
            ));
            bybox = true;
            i += 3;
        } else {
            return Err(CommandError::Syntax);
        }
        i += 1;
    }
    if storekey.is_some() && (withdist || withhash || withcoord) {
        return Err(CommandError::Static(if store_form {
            "ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
        } else {
            "ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
        }));
    }
    if search_kind && !(frommember || fromloc) {
        return Err(CommandError::quoting(&[
            b"ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for ",
            args.get(0),
        ]));
    }
    if search_kind && !(byradius || bybox) {
        return Err(CommandError::quoting(&[
            b"ERR exactly one of BYRADIUS and BYBOX can be specified for ",
            args.get(0),
        ]));
    }
    if any && count == 0 {
        return Err(CommandError::Static(
            "ERR the ANY argument requires COUNT argument",
        ));
    }
    let (true, Some((lon, lat)), Some((shape, unit))) = (exists, center, shape) else {
        // The source key is missing.
        match storekey {
            Some(dst) => {
                if delete_key(ctx, dst) {
                    ctx.modified(dst);
                }
                out.int(0);
            }
            None => out.array(0),
        }
        return Ok(());
    };
    if count != 0 && sort == Sort::None && !any {
        sort = Sort::Asc;
    }
    let search = Search {
        lon,
        lat,
        shape,
        unit,
    };
    let limit = if any { count as usize } else { 0 };
    let Some(z) = view(ctx, key) else {
        out.array(0);
        return Ok(());
    };
    let mut found = find(&z, &search, limit);
    match sort {
        Sort::Asc => found.sort_by(|a, b| a.dist.total_cmp(&b.dist)),
        Sort::Desc => found.sort_by(|a, b| b.dist.total_cmp(&a.dist)),
        Sort::None => {}
    }
    let n = if count == 0 {
        found.len()
    } else {
        found.len().min(count as usize)
    };
    found.truncate(n);
    let Some(dst) = storekey else {
        let options = usize::from(withdist) + usize::from(withhash) + usize::from(withcoord);
        out.array(n);
        for f in &found {
            if options > 0 {
                out.array(options + 1);
            }
            out.bulk(f.member);
            if withdist {
                write_distance(out, f.dist / unit);
            }
            if withhash {
                out.int(f.score as i64);
            }
            if withcoord {
                out.array(2);
                write_coord(out, f.lon);
                write_coord(out, f.lat);
            }
        }
        return Ok(());
    };
    let mut items: Vec<(Vec<u8>, f64)> = found
        .iter()
        .map(|f| {
            (
                f.member.to_vec(),
                if storedist { f.dist / unit } else { f.score },
            )
        })
        .collect();
    drop(found);
    items.sort_by(|a, b| crate::types::zset::packed::cmp(a.1, &a.0, b.1, &b.0));
    let t = ctx.store.thresholds;
    if n > 0 {
        let zs = ZSet::build(&items, &t);
        store_value(ctx, dst, zs);
        ctx.dirty(n as u64);
        ctx.signal(dst);
    } else if delete_key(ctx, dst) {
        ctx.modified(dst);
    }
    out.int(n as i64);
    Ok(())
}

/// `GEOSEARCH key FROMMEMBER member|FROMLONLAT longitude latitude BYRADIUS radius M|KM|FT|MI|BYBOX width height M|KM|FT|MI [ASC|DESC] [COUNT count [ANY]] [WITHCOORD] [WITHDIST] [WITHHASH]`
pub fn geosearch(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    generic(ctx, args, 1, Kind::Search, None, false, out)
}

/// `GEOSEARCHSTORE destination source FROMMEMBER member|FROMLONLAT longitude latitude BYRADIUS radius M|KM|FT|MI|BYBOX width height M|KM|FT|MI [ASC|DESC] [COUNT count [ANY]] [STOREDIST]`
pub fn geosearchstore(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let dst = args.get(1);
    generic(ctx, args, 2, Kind::Search, Some(dst), false, out)
}

/// `GEORADIUS key longitude latitude radius M|KM|FT|MI [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC|DESC] [STORE key] [STOREDIST key]`
pub fn georadius(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    generic(ctx, args, 1, Kind::RadiusCoords, None, false, out)
}

/// `GEORADIUS_RO key longitude latitude radius M|KM|FT|MI [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC|DESC]`
pub fn georadius_ro(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    generic(ctx, args, 1, Kind::RadiusCoords, None, true, out)
}

/// `GEORADIUSBYMEMBER key member radius M|KM|FT|MI [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC|DESC] [STORE key] [STOREDIST key]`
pub fn georadiusbymember(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    generic(ctx, args, 1, Kind::RadiusMember, None, false, out)
}

/// `GEORADIUSBYMEMBER_RO key member radius M|KM|FT|MI [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC|DESC]`
pub fn georadiusbymember_ro(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    generic(ctx, args, 1, Kind::RadiusMember, None, true, out)
}
