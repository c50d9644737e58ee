//! SORT and SORT_RO (redis-server's sort.c): sorting a list, set or sorted set by its
//! elements or by weights found through a key pattern, with LIMIT, GET patterns and STORE.
//!
//! The rules that decide the output are redis-server 7.0's: numeric weights are read with
//! `strtod` and must parse whole (else `ERR One or more scores can't be converted into
//! double`), a weight key that is missing weighs 0, equal weights are ordered by the
//! elements' bytes; ALPHA compares as C strings (`strcoll` in the C locale) unless STORE is
//! given (then byte for byte); a BY pattern without `*` means "don't sort" — lists and
//! sorted sets keep their order, and a set is still sorted (ALPHA) when the result is
//! stored, so it replays identically. `GET #` is the element itself; `key*->field` reads a
//! hash field. The sort is stable, like glibc's `qsort` (a merge sort).

use std::cmp::Ordering;

use cachegate_protocols::resp::request::Args;
use cachegate_protocols::resp::ReplyBuf;

use super::args::{self, is};
use super::spec::StoreFn;
use super::{CmdResult, CommandError, Ctx};
use crate::keyspace::entry::{Entry, ValueType};
use crate::keyspace::Lookup;
use crate::types::list::End;
use crate::types::{Hash, List, Set, ZSet};

const NOT_DOUBLE: CommandError =
    CommandError::Static("ERR One or more scores can't be converted into double");

/// One element being sorted.
struct Item {
    value: Vec<u8>,
    score: f64,
    /// ALPHA with BY: the weight's bytes, or `None` when its key is missing.
    cmp: Option<Vec<u8>>,
}

/// Parsed options.
struct Opts<'a> {
    desc: bool,
    alpha: bool,
    limit: Option<(i64, i64)>,
    by: Option<&'a [u8]>,
    dontsort: bool,
    gets: Vec<&'a [u8]>,
    store: Option<&'a [u8]>,
}

fn parse<'a>(args: &Args<'a>, readonly: bool) -> Result<Opts<'a>, CommandError> {
    let mut o = Opts {
        desc: false,
        alpha: false,
        limit: None,
        by: None,
        dontsort: false,
        gets: Vec::new(),
        store: None,
    };
    let mut j = 2;
    while j < args.len() {
        let left = args.len() - j - 1;
        let a = args.get(j);
        if is(a, "ASC") {
            o.desc = false;
        } else if is(a, "DESC") {
            o.desc = true;
        } else if is(a, "ALPHA") {
            o.alpha = true;
        } else if is(a, "LIMIT") && left >= 2 {
            o.limit = Some((args::int(args.get(j + 1))?, args::int(args.get(j + 2))?));
            j += 2;
        } else if !readonly && is(a, "STORE") && left >= 1 {
            o.store = Some(args.get(j + 1));
            j += 1;
        } else if is(a, "BY") && left >= 1 {
            let p = args.get(j + 1);
            o.by = Some(p);
            o.dontsort = !args::cstr(p).contains(&b'*');
            j += 1;
        } else if is(a, "GET") && left >= 1 {
            o.gets.push(args.get(j + 1));
            j += 1;
        } else {
            return Err(CommandError::Syntax);
        }
        j += 1;
    }
    Ok(o)
}

/// What a pattern names for element `e`: `#` is the element; `prefix*suffix` a string key;
/// `prefix*suffix->field` a hash field. `None` when the pattern has no `*`, the key is
/// missing, or holds another type (redis-server's `lookupKeyByPattern`, lookups counted).
fn by_pattern(ctx: &mut Ctx<'_>, pattern: &[u8], e: &[u8]) -> Option<Vec<u8>> {
    if pattern == b"#" {
        return Some(e.to_vec());
    }
    let c = args::cstr(pattern);
    let star = memchr::memchr(b'*', c)?;
    let field = memchr::memmem::find(&c[star + 1..], b"->")
        .map(|f| star + 1 + f)
        .filter(|&f| f + 2 < c.len());
    let key_end = field.unwrap_or(pattern.len());
    let mut key = Vec::with_capacity(key_end + e.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(e);
    key.extend_from_slice(&pattern[star + 1..key_end]);
    let slot = ctx.lookup_read(&key)?;
    let v = ctx.db().get(slot);
    match field {
        Some(f) => v
            .collection::<Hash>()
            .and_then(|h| h.get(&pattern[f + 2..]).map(<[u8]>::to_vec)),
        None => (v.value_type() == ValueType::String).then(|| v.value().to_vec()),
    }
}

extern "C" {
    fn cachegate_sort_score(
        s: *const std::os::raw::c_char,
        len: usize,
        out: *mut f64,
    ) -> std::os::raw::c_int;
}

/// `strtod` of the value as SORT reads a weight.
fn score_of(v: &[u8]) -> Option<f64> {
    let mut out = 0.0;
    // SAFETY: the pointer/length pair describes `v`; the C side reads `len` bytes and
    // writes one double.
    let ok = unsafe { cachegate_sort_score(v.as_ptr() as *const _, v.len(), &mut out) };
    (ok == 1).then_some(out)
}

/// C-string comparison (`strcmp`, i.e. `strcoll` in the C locale).
fn cmp_cstr(a: &[u8], b: &[u8]) -> Ordering {
    args::cstr(a).cmp(args::cstr(b))
}

fn sort_generic(
    ctx: &mut Ctx<'_>,
    args: &Args<'_>,
    readonly: bool,
    out: &mut ReplyBuf,
) -> CmdResult {
    let mut o = parse(args, readonly)?;
    // The elements, in the value's own order.
    let (kind, mut items): (ValueType, Vec<Vec<u8>>) = match ctx.lookup_read(args.get(1)) {
        None => (ValueType::List, Vec::new()),
        Some(slot) => {
            let v = ctx.db().get(slot);
            if let Some(l) = v.collection::<List>() {
                (ValueType::List, l.iter().map(|e| e.to_vec()).collect())
            } else if let Some(s) = v.collection::<Set>() {
                (ValueType::Set, s.iter().map(|m| m.to_vec()).collect())
            } else if let Some(z) = v.collection::<ZSet>() {
                // redis-server also converts a small sorted set it sorts to its skiplist
                // encoding, for good. cachegate leaves it as it is: sorting changes no data,
                // and a conversion nothing propagates would leave replicas in another
                // encoding.
                (ValueType::ZSet, z.iter().map(|(m, _)| m.to_vec()).collect())
            } else {
                return Err(CommandError::WrongType);
            }
        }
    };
    if o.dontsort && kind == ValueType::Set && o.store.is_some() {
        // Set order is the table's: sort it, so what is stored replays identically.
        o.dontsort = false;
        o.alpha = true;
        o.by = None;
    }
    let len = items.len() as i64;
    let (lstart, lcount) = o.limit.unwrap_or((0, -1));
    let mut start = lstart.max(0).min(len);
    let count = lcount.max(-1).min(len);
    let mut end = if count < 0 {
        len - 1
    } else {
        start + count - 1
    };
    if start >= len {
        start = len - 1;
        end = len - 2;
    }
    end = end.min(len - 1);
    if o.dontsort && kind != ValueType::Set && o.desc {
        items.reverse();
    }
    let mut vector: Vec<Item> = items
        .into_iter()
        .map(|value| Item {
            value,
            score: 0.0,
            cmp: None,
        })
        .collect();
    let mut bad_score = false;
    if !o.dontsort {
        for it in &mut vector {
            let weight = match o.by {
                Some(p) => match by_pattern(ctx, p, &it.value) {
                    Some(w) => w,
                    None => continue,
                },
                None => it.value.clone(),
            };
            if o.alpha {
                if o.by.is_some() {
                    it.cmp = Some(weight);
                }
            } else {
                match score_of(&weight) {
                    Some(s) => it.score = s,
                    None => bad_score = true,
                }
            }
        }
        let (alpha, by, store, desc) = (o.alpha, o.by.is_some(), o.store.is_some(), o.desc);
        vector.sort_by(|a, b| {
            let c = if !alpha {
                a.score
                    .partial_cmp(&b.score)
                    .unwrap_or(Ordering::Equal)
                    .then_with(|| a.value.cmp(&b.value))
            } else if by {
                match (&a.cmp, &b.cmp) {
                    (None, None) => Ordering::Equal,
                    (None, Some(_)) => Ordering::Less,
                    (Some(_), None) => Ordering::Greater,
                    (Some(x), Some(y)) if store => x.cmp(y),
                    (Some(x), Some(y)) => cmp_cstr(x, y),
                }
            } else if store {
                a.value.cmp(&b.value)
            } else {
                cmp_cstr(&a.value, &b.value)
            };
            if desc {
                c.reverse()
            } else {
                c
            }
        });
    }
    if bad_score {
        return Err(NOT_DOUBLE);
    }
    let range: &[Item] = if end >= start {
        &vector[start as usize..=end as usize]
    } else {
        &[]
    };
    // The output, element by element: the element itself, or one value per GET.
    let mut output: Vec<Option<Vec<u8>>> = Vec::new();
    for it in range {
        if o.gets.is_empty() {
            output.push(Some(it.value.clone()));
        }
        for &g in &o.gets {
            output.push(by_pattern(ctx, g, &it.value));
        }
    }
    let Some(dst) = o.store else {
        out.array(output.len());
        for v in &output {
            match v {
                Some(b) => out.bulk(b),
                None => out.null(),
            }
        }
        return Ok(());
    };
    let n = output.len();
    if n > 0 {
        let mut list = List::default();
        let t = ctx.store.thresholds;
        for v in &output {
            list.push(End::Back, v.as_deref().unwrap_or(b""), &t);
        }
        let lru = ctx.lru();
        let entry = Entry::new_value(dst, list, None, lru);
        match ctx.lookup_write(dst) {
            Lookup::Found(slot) => ctx.db().replace(slot, entry),
            Lookup::Missing(hash) => ctx.db().add(hash, entry),
        }
        ctx.dirty(n as u64);
        ctx.signal(dst);
    } else if let Lookup::Found(slot) = ctx.lookup_write(dst) {
        ctx.db().remove(slot);
        ctx.modified(dst);
    }
    out.int(n as i64);
    Ok(())
}

/// `SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA]
/// [STORE destination]`
pub fn sort(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    sort_generic(ctx, args, false, out)
}

/// `SORT_RO key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA]`
pub fn sort_ro(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    sort_generic(ctx, args, true, out)
}

/// The commands this module runs.
pub(crate) const HANDLERS: &[(&str, StoreFn)] = &[("sort", sort), ("sort_ro", sort_ro)];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_parse_as_strtod_does() {
        assert_eq!(score_of(b"2.5"), Some(2.5));
        assert_eq!(score_of(b" 2"), Some(2.0));
        assert_eq!(score_of(b""), Some(0.0));
        assert_eq!(score_of(b"1\0junk"), Some(1.0));
        assert_eq!(score_of(b"abc"), None);
        assert_eq!(score_of(b"1e400"), None, "overflow");
        assert_eq!(score_of(b"1e-400"), None, "underflow");
        assert_eq!(score_of(b"nan"), None);
        assert_eq!(score_of(b"inf"), Some(f64::INFINITY));
        // An ERANGE from one weight does not leak into the next (redis-server's does).
        assert_eq!(score_of(b"3"), Some(3.0));
    }
}
