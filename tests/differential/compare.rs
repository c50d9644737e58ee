//! Comparing replies: the modifiers that normalise a reply for an allowed difference, the
//! comparison itself, and readable mismatch reports.

use bytes::Bytes;
use cachegate_protocols::resp::Frame;

use crate::script::Mods;
use crate::server::Reply;
use crate::shared::show_pair;

/// Which server a reply came from: `%drop` only applies to cachegate's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Redis,
    Cachegate,
}

fn masked() -> Frame {
    Frame::simple("<ignored>")
}

/// Applies the modifiers that rewrite a reply (all but `%approx` and `%subset`, which are
/// comparisons).
fn normalize(frame: Frame, mods: &Mods, origin: Origin) -> Frame {
    let mut f = frame;
    if mods.map {
        f = as_map(f);
    }
    if origin == Origin::Cachegate && !mods.drop.is_empty() {
        f = drop_elements(f, &mods.drop);
    }
    if mods.help {
        f = help_lines(f);
    }
    if mods.docs {
        f = docs_text(f);
    }
    if mods.sortsub {
        f = sort_subcommands(f);
    }
    if mods.shape {
        f = shape(f);
    }
    if !mods.ignore.is_empty() {
        f = ignore_fields(f, &mods.ignore);
    }
    if mods.fields {
        f = map_text(f, &|t| mask_field_values(t, &[], &mods.keep));
    }
    if mods.cursor {
        f = scan_cursor(f);
    }
    if mods.sort {
        f = sort(f);
    }
    f
}

/// A map reply in RESP2 is an array of alternating names and values; this makes it a map
/// again so that `%sort` and `%subset` keep names and values together.
fn as_map(f: Frame) -> Frame {
    match f {
        Frame::Array(items) if items.len() % 2 == 0 => {
            let mut pairs = Vec::with_capacity(items.len() / 2);
            let mut it = items.into_iter();
            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                pairs.push((k, v));
            }
            Frame::Map(pairs)
        }
        other => other,
    }
}

/// What an element is called: its text, or the text of its first field (a COMMAND INFO
/// entry).
fn identity(f: &Frame) -> Option<&[u8]> {
    match f {
        Frame::Array(v) => v.first().and_then(name_of),
        other => name_of(other),
    }
}

/// Removes what is named one of `names` from the top level of a reply: elements (by their
/// identity) and map entries (by key).
fn drop_elements(f: Frame, names: &[Vec<u8>]) -> Frame {
    let named = |n: Option<&[u8]>| n.is_some_and(|n| names.iter().any(|t| t == n));
    match f {
        Frame::Array(v) => Frame::Array(v.into_iter().filter(|x| !named(identity(x))).collect()),
        Frame::Set(v) => Frame::Set(v.into_iter().filter(|x| !named(identity(x))).collect()),
        Frame::Map(p) => Frame::Map(p.into_iter().filter(|(k, _)| !named(name_of(k))).collect()),
        other => other,
    }
}

/// A HELP reply without its indented description lines: the header, one line per
/// subcommand with its syntax, and the HELP entry remain.
fn help_lines(f: Frame) -> Frame {
    match f {
        Frame::Array(v) => Frame::Array(
            v.into_iter()
                .filter(|x| !name_of(x).is_some_and(|t| t.starts_with(b" ")))
                .collect(),
        ),
        other => other,
    }
}

/// Applies `g` to every pair of a map, whether a RESP3 map or a RESP2 array of alternating
/// names and values, at any depth; `g` sees each pair after its value was visited.
fn map_pairs(f: Frame, g: &dyn Fn(&Frame, Frame) -> Frame) -> Frame {
    match f {
        Frame::Map(pairs) => Frame::Map(
            pairs
                .into_iter()
                .map(|(k, v)| {
                    let v = g(&k, map_pairs(v, g));
                    (k, v)
                })
                .collect(),
        ),
        Frame::Array(items) => {
            let pairs = items.len() % 2 == 0
                && items.iter().step_by(2).all(|k| matches!(k, Frame::Bulk(_)));
            let mut out = Vec::with_capacity(items.len());
            let mut key: Option<Frame> = None;
            for item in items {
                let item = map_pairs(item, g);
                match key.take() {
                    Some(k) if pairs => {
                        let v = g(&k, item);
                        out.push(k);
                        out.push(v);
                    }
                    _ if pairs => key = Some(item),
                    _ => out.push(item),
                }
            }
            Frame::Array(out)
        }
        Frame::Set(v) => Frame::Set(v.into_iter().map(|x| map_pairs(x, g)).collect()),
        other => other,
    }
}

/// COMMAND DOCS with its prose masked: `summary`, `complexity` and the description of each
/// `history` entry are our own words (allowed difference 6); versions and structure remain.
fn docs_text(f: Frame) -> Frame {
    map_pairs(f, &|k, v| match name_of(k) {
        Some(b"summary") | Some(b"complexity") => masked(),
        Some(b"history") => {
            let mask_change = |e: Frame| match e {
                Frame::Array(mut pair) if pair.len() == 2 => {
                    pair[1] = masked();
                    Frame::Array(pair)
                }
                other => other,
            };
            match v {
                Frame::Set(x) => Frame::Set(x.into_iter().map(mask_change).collect()),
                Frame::Array(x) => Frame::Array(x.into_iter().map(mask_change).collect()),
                other => other,
            }
        }
        _ => v,
    })
}

/// Subcommand lists in name order: COMMAND INFO's tenth field and COMMAND DOCS's
/// `subcommands` map follow redis-server's command dictionary, whose order depends on a hash
/// seed chosen at startup (allowed difference 1).
fn sort_subcommands(f: Frame) -> Frame {
    let f = match f {
        Frame::Array(mut v) if v.len() == 10 && matches!(v[0], Frame::Bulk(_)) => {
            if let Frame::Array(subs) = std::mem::replace(&mut v[9], Frame::Null) {
                let mut subs: Vec<Frame> = subs.into_iter().map(sort_subcommands).collect();
                subs.sort_by_key(|x| x.to_bytes());
                v[9] = Frame::Array(subs);
            }
            Frame::Array(v.into_iter().map(sort_subcommands).collect())
        }
        Frame::Array(v) => Frame::Array(v.into_iter().map(sort_subcommands).collect()),
        Frame::Set(v) => Frame::Set(v.into_iter().map(sort_subcommands).collect()),
        Frame::Map(p) => Frame::Map(
            p.into_iter()
                .map(|(k, v)| (k, sort_subcommands(v)))
                .collect(),
        ),
        other => other,
    };
    map_pairs(f, &|k, v| {
        if name_of(k) != Some(b"subcommands") {
            return v;
        }
        match v {
            Frame::Map(mut pairs) => {
                pairs.sort_by_key(|(k, _)| k.to_bytes());
                Frame::Map(pairs)
            }
            Frame::Array(items) if items.len() % 2 == 0 => {
                let mut pairs: Vec<(Frame, Frame)> = Vec::new();
                let mut it = items.into_iter();
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    pairs.push((k, v));
                }
                pairs.sort_by_key(|(k, _)| k.to_bytes());
                Frame::Array(pairs.into_iter().flat_map(|(k, v)| [k, v]).collect())
            }
            other => other,
        }
    })
}

/// Replaces every scalar by a placeholder naming its type.
fn shape(f: Frame) -> Frame {
    let kind = |k: &str| Frame::simple(format!("<{k}>"));
    match f {
        Frame::Simple(_) => kind("simple"),
        Frame::Error(_) => kind("error"),
        Frame::Integer(_) => kind("integer"),
        Frame::Bulk(_) => kind("bulk"),
        Frame::Double(_) => kind("double"),
        Frame::Boolean(_) => kind("boolean"),
        Frame::BigNumber(_) => kind("bignumber"),
        Frame::Verbatim { .. } => kind("verbatim"),
        Frame::BlobError(_) => kind("bloberror"),
        Frame::Array(v) => Frame::Array(v.into_iter().map(shape).collect()),
        Frame::Set(v) => Frame::Set(v.into_iter().map(shape).collect()),
        Frame::Push(v) => Frame::Push(v.into_iter().map(shape).collect()),
        Frame::Map(v) => Frame::Map(v.into_iter().map(|(k, v)| (shape(k), shape(v))).collect()),
        other => other,
    }
}

fn name_of(f: &Frame) -> Option<&[u8]> {
    match f {
        Frame::Simple(b) | Frame::Bulk(b) => Some(b),
        _ => None,
    }
}

/// Masks the values of the named fields in maps, name/value arrays and text.
fn ignore_fields(f: Frame, names: &[Vec<u8>]) -> Frame {
    let hit = |k: &Frame| name_of(k).is_some_and(|n| names.iter().any(|x| x == n));
    match f {
        Frame::Map(pairs) => Frame::Map(
            pairs
                .into_iter()
                .map(|(k, v)| {
                    let v = if hit(&k) {
                        masked()
                    } else {
                        ignore_fields(v, names)
                    };
                    (k, v)
                })
                .collect(),
        ),
        Frame::Array(items) => {
            let mut out: Vec<Frame> = Vec::with_capacity(items.len());
            let mut mask_next = false;
            // In RESP2 a map is an array of alternating names and values.
            let pairs = items.len() % 2 == 0;
            for (i, item) in items.into_iter().enumerate() {
                if mask_next {
                    out.push(masked());
                    mask_next = false;
                    continue;
                }
                mask_next = pairs && i % 2 == 0 && hit(&item);
                out.push(ignore_fields(item, names));
            }
            Frame::Array(out)
        }
        Frame::Set(v) => Frame::Set(v.into_iter().map(|x| ignore_fields(x, names)).collect()),
        text @ (Frame::Simple(_) | Frame::Bulk(_) | Frame::Verbatim { .. }) => {
            map_text(text, &|t| mask_field_values(t, names, &[]))
        }
        other => other,
    }
}

/// Rewrites the text of a simple, bulk or verbatim reply.
fn map_text(f: Frame, g: &dyn Fn(&[u8]) -> Vec<u8>) -> Frame {
    match f {
        Frame::Simple(b) => Frame::Simple(Bytes::from(g(&b))),
        Frame::Bulk(b) => Frame::Bulk(Bytes::from(g(&b))),
        Frame::Verbatim { format, text } => Frame::Verbatim {
            format,
            text: Bytes::from(g(&text)),
        },
        other => other,
    }
}

/// Field text: INFO's `name:value` lines (values may be `k=v,k=v` lists), CLIENT LIST's
/// `name=value` words and DEBUG OBJECT's `name:value` words (after a leading word). Masks the values of `names`, or of every field if `names` is empty,
/// except those in `keep`.
/// Fields only cachegate has (allowed difference 3) are dropped: `lib-name=`/`lib-ver=`
/// always, `cachegate_*` INFO lines when every field is masked.
fn mask_field_values(text: &[u8], names: &[Vec<u8>], keep: &[Vec<u8>]) -> Vec<u8> {
    let all = names.is_empty();
    let listed = |list: &[Vec<u8>], n: &[u8]| list.iter().any(|x| x == n);
    let wanted = |n: &[u8]| (all || listed(names, n)) && !listed(keep, n);
    let mut out = Vec::with_capacity(text.len());
    for piece in text.split_inclusive(|&b| b == b'\n') {
        let (line, eol) = split_eol(piece);
        let is_client_line = line.contains(&b' ') && line.contains(&b'=') && !line.contains(&b':')
            || line.starts_with(b"id=");
        let words: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
        let is_word_line = words.len() > 2 && words[1..].iter().all(|w| w.contains(&b':'));
        if line.is_empty() || line.starts_with(b"#") {
            out.extend_from_slice(line);
        } else if is_word_line {
            let masked: Vec<Vec<u8>> = words
                .iter()
                .map(|w| match w.iter().position(|&b| b == b':') {
                    Some(c) if wanted(&w[..c]) => w[..=c].to_vec(),
                    _ => w.to_vec(),
                })
                .collect();
            out.extend_from_slice(&masked.join(&b' '));
        } else if is_client_line {
            let words: Vec<Vec<u8>> = line
                .split(|&b| b == b' ')
                .filter(|w| !(w.starts_with(b"lib-name=") || w.starts_with(b"lib-ver=")))
                .map(|w| match w.iter().position(|&b| b == b'=') {
                    Some(eq) if wanted(&w[..eq]) => w[..=eq].to_vec(),
                    _ => w.to_vec(),
                })
                .collect();
            out.extend_from_slice(&words.join(&b' '));
        } else if let Some(colon) = line.iter().position(|&b| b == b':') {
            let (name, value) = (&line[..colon], &line[colon + 1..]);
            if all && name.starts_with(b"cachegate_") {
                continue;
            }
            out.extend_from_slice(&line[..=colon]);
            if value.contains(&b'=') {
                // A `k=v,k=v` list (keyspace, commandstats): mask each wanted value.
                let subfields: Vec<&[u8]> = value
                    .split(|&b| b == b',')
                    .map(|kv| match kv.iter().position(|&b| b == b'=') {
                        Some(eq)
                            if !listed(keep, &kv[..eq]) && (wanted(name) || wanted(&kv[..eq])) =>
                        {
                            &kv[..=eq]
                        }
                        _ => kv,
                    })
                    .collect();
                out.extend_from_slice(&subfields.join(&b','));
            } else if !wanted(name) {
                out.extend_from_slice(value);
            }
        } else {
            out.extend_from_slice(line);
        }
        out.extend_from_slice(eol);
    }
    out
}

fn split_eol(piece: &[u8]) -> (&[u8], &[u8]) {
    let n = piece.len();
    if piece.ends_with(b"\r\n") {
        (&piece[..n - 2], &piece[n - 2..])
    } else if piece.ends_with(b"\n") {
        (&piece[..n - 1], &piece[n - 1..])
    } else {
        (piece, &[])
    }
}

/// A SCAN reply: the cursor becomes "0" or "more", the keys a sorted set.
fn scan_cursor(f: Frame) -> Frame {
    match f {
        Frame::Array(mut v) if v.len() == 2 => {
            if let Frame::Bulk(c) = &v[0] {
                let c = if c.as_ref() == b"0" { "0" } else { "<more>" };
                v[0] = Frame::bulk(c);
            }
            let keys = std::mem::replace(&mut v[1], Frame::Null);
            v[1] = sort(keys);
            Frame::Array(v)
        }
        other => other,
    }
}

/// Sorts an aggregate's elements (by their encoding), a map's entries (by key), or the lines
/// of each section of a text (a section starts after a blank line; its `#` header stays
/// first).
fn sort(f: Frame) -> Frame {
    let sorted = |mut v: Vec<Frame>| {
        v.sort_by_key(|x| x.to_bytes());
        v
    };
    match f {
        Frame::Array(v) => Frame::Array(sorted(v)),
        Frame::Set(v) => Frame::Set(sorted(v)),
        Frame::Map(mut p) => {
            p.sort_by_key(|(k, _)| k.to_bytes());
            Frame::Map(p)
        }
        text @ (Frame::Bulk(_) | Frame::Verbatim { .. }) => map_text(text, &|t| {
            let mut out = Vec::with_capacity(t.len());
            let mut section: Vec<&[u8]> = Vec::new();
            let flush = |section: &mut Vec<&[u8]>, out: &mut Vec<u8>| {
                let body = if section.first().is_some_and(|l| l.starts_with(b"#")) {
                    1
                } else {
                    0
                };
                section[body..].sort();
                out.extend(section.drain(..).flatten());
            };
            for line in t.split_inclusive(|&b| b == b'\n') {
                if split_eol(line).0.is_empty() {
                    flush(&mut section, &mut out);
                    out.extend_from_slice(line);
                } else {
                    section.push(line);
                }
            }
            flush(&mut section, &mut out);
            out
        }),
        other => other,
    }
}

/// Structural equality where integers may differ by `tol`.
fn close_enough(a: &Frame, b: &Frame, tol: i64) -> bool {
    let all = |x: &[Frame], y: &[Frame]| {
        x.len() == y.len() && x.iter().zip(y).all(|(p, q)| close_enough(p, q, tol))
    };
    match (a, b) {
        (Frame::Integer(x), Frame::Integer(y)) => x.abs_diff(*y) <= tol.unsigned_abs(),
        (Frame::Array(x), Frame::Array(y))
        | (Frame::Set(x), Frame::Set(y))
        | (Frame::Push(x), Frame::Push(y)) => all(x, y),
        (Frame::Map(x), Frame::Map(y)) => {
            x.len() == y.len()
                && x.iter().zip(y).all(|((k1, v1), (k2, v2))| {
                    close_enough(k1, k2, tol) && close_enough(v1, v2, tol)
                })
        }
        _ => a == b,
    }
}

/// True if every element of `part` is in `whole` (same aggregate kind): cachegate's reply
/// lists a subset of what redis-server lists.
fn is_subset(part: &Frame, whole: &Frame, tol: i64) -> bool {
    let within =
        |x: &[Frame], y: &[Frame]| x.iter().all(|p| y.iter().any(|q| close_enough(p, q, tol)));
    match (part, whole) {
        (Frame::Array(x), Frame::Array(y)) | (Frame::Set(x), Frame::Set(y)) => within(x, y),
        (Frame::Map(x), Frame::Map(y)) => x.iter().all(|(k, v)| {
            y.iter()
                .any(|(k2, v2)| close_enough(k, k2, tol) && close_enough(v, v2, tol))
        }),
        _ => false,
    }
}

/// The comparable form of a reply and whether two replies match under `mods`.
pub fn comparable(r: &Reply, mods: &Mods, origin: Origin) -> Reply {
    match r {
        Reply::Value { frame, .. } if mods.any() => {
            Reply::Derived(normalize(frame.clone(), mods, origin))
        }
        Reply::Derived(frame) => Reply::Derived(normalize(frame.clone(), mods, origin)),
        other => other.clone(),
    }
}

pub fn replies_match(redis: &Reply, cg: &Reply, mods: &Mods) -> bool {
    let tol = mods.approx.unwrap_or(0);
    match (
        comparable(redis, mods, Origin::Redis),
        comparable(cg, mods, Origin::Cachegate),
    ) {
        (Reply::Value { bytes: x, .. }, Reply::Value { bytes: y, .. }) => x == y,
        (Reply::Derived(x), Reply::Derived(y)) if mods.subset => {
            // An error (or any scalar) still has to match exactly.
            is_subset(&y, &x, tol) || close_enough(&x, &y, tol)
        }
        (Reply::Derived(x), Reply::Derived(y)) => close_enough(&x, &y, tol),
        (
            Reply::Raw {
                bytes: x,
                closed: c,
            },
            Reply::Raw {
                bytes: y,
                closed: d,
            },
        ) => x == y && c == d,
        (Reply::Closed(x), Reply::Closed(y))
        | (Reply::Timeout(x), Reply::Timeout(y))
        | (Reply::Invalid(x), Reply::Invalid(y)) => x == y,
        _ => false,
    }
}

/// The bytes a reply is shown as.
fn shown_bytes(r: &Reply) -> (Vec<u8>, &'static str) {
    match r {
        Reply::Value { bytes, .. } => (bytes.clone(), ""),
        Reply::Derived(f) => (f.to_bytes(), " (normalized)"),
        Reply::Raw { bytes, closed } => (
            bytes.clone(),
            if *closed {
                " (then closed)"
            } else {
                " (connection open)"
            },
        ),
        Reply::Closed(b) => (b.clone(), " (connection closed)"),
        Reply::Timeout(b) => (b.clone(), " (timed out)"),
        Reply::Invalid(b) => (b.clone(), " (not RESP)"),
    }
}

/// Both replies, escaped; long ones cut to a window around the first difference.
pub fn describe_pair(redis: &Reply, cg: &Reply) -> (String, String) {
    let (a, note_a) = shown_bytes(redis);
    let (b, note_b) = shown_bytes(cg);
    let (a, b) = show_pair(&a, &b);
    (format!("{a}{note_a}"), format!("{b}{note_b}"))
}

#[cfg(test)]
mod self_tests {
    use super::*;

    #[test]
    fn masks_info_and_client_fields() {
        let info = b"# Server\r\nredis_version:7.0.15\r\ncachegate_version:0.1\r\n\r\n# Keyspace\r\ndb0:keys=1,expires=0\r\n";
        assert_eq!(
            mask_field_values(info, &[], &[]),
            b"# Server\r\nredis_version:\r\n\r\n# Keyspace\r\ndb0:keys=,expires=\r\n".to_vec()
        );
        assert_eq!(
            mask_field_values(
                b"db0:keys=1,expires=1,avg_ttl=99\r\n",
                &[b"avg_ttl".to_vec()],
                &[]
            ),
            b"db0:keys=1,expires=1,avg_ttl=\r\n".to_vec()
        );
        let client = b"id=7 addr=127.0.0.1:5 name= lib-name=x lib-ver=1\n";
        assert_eq!(
            mask_field_values(client, &[], &[b"name".to_vec()]),
            b"id= addr= name=\n".to_vec()
        );
        assert_eq!(
            mask_field_values(client, &[b"addr".to_vec()], &[]),
            b"id=7 addr= name=\n".to_vec()
        );
    }

    #[test]
    fn approx_and_sort() {
        let a = Frame::Array(vec![
            Frame::Integer(100),
            Frame::bulk("b"),
            Frame::bulk("a"),
        ]);
        let b = Frame::Array(vec![Frame::Integer(98), Frame::bulk("a"), Frame::bulk("b")]);
        let mods = Mods {
            sort: true,
            ..Mods::default()
        };
        let (a, b) = (
            normalize(a, &mods, Origin::Redis),
            normalize(b, &mods, Origin::Cachegate),
        );
        assert!(!close_enough(&a, &b, 0));
        let a = Frame::Array(vec![Frame::Integer(100)]);
        let b = Frame::Array(vec![Frame::Integer(98)]);
        assert!(close_enough(&a, &b, 2));
        assert!(!close_enough(&a, &b, 1));
    }
}
