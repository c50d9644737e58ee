//! memcached text replies as the differential tester sees them: where a reply stream looks
//! complete (to stop reading early), CAS values turned into comparable labels, and `STAT`
//! lists reduced to what both servers must agree on (allowed differences 1–3 in
//! `tests/differential_memcache.rs`).

use std::collections::HashMap;

/// `STAT` fields whose values describe the process, its clock, its connections or its
/// memory layout, not the data: masked wherever `%stats` compares a list (allowed
/// difference 2).
const PROCESS_FIELDS: &[&str] = &[
    // The process and its clock.
    "pid",
    "uptime",
    "time",
    "rusage_user",
    "rusage_system",
    // Connections: memcached counts its listeners; both count the tester's reconnects.
    "curr_connections",
    "total_connections",
    "rejected_connections",
    "conn_yields",
    // Thread counts and ports are each server's own settings.
    "threads",
    "num_threads",
    "tcpport",
    // The bytes sent differ by the CAS digits, those received by the stats themselves.
    "bytes_read",
    "bytes_written",
    // Memory layout: cachegate's items and index are not memcached's slabs and hash table.
    "bytes",
    "hash_bytes",
    "total_malloced",
    // Both crawlers walk the items on their own schedule.
    "crawler_items_checked",
    "crawler_reclaimed",
];

/// One unit of a reply stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit<'a> {
    /// `VALUE <key> <flags> <bytes>[ <cas>]\r\n<data>\r\n`, split into the header's words
    /// and the data block with its CRLF.
    Value {
        words: [&'a [u8]; 5],
        n: usize,
        block: &'a [u8],
    },
    /// A whole line, CRLF included.
    Line(&'a [u8]),
    /// Trailing bytes that are not a whole unit (yet).
    Partial(&'a [u8]),
}

/// Splits a reply stream into units. A `VALUE` header is trusted for its length only if it
/// has the shape memcached gives it; anything else is a plain line.
fn units(bytes: &[u8]) -> Vec<Unit<'_>> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let Some(nl) = rest.windows(2).position(|w| w == b"\r\n") else {
            out.push(Unit::Partial(rest));
            break;
        };
        let line = &rest[..nl];
        if let Some((words, n, len)) = value_header(line) {
            let start = nl + 2;
            match rest.get(start..start + len + 2) {
                Some(block) => {
                    out.push(Unit::Value { words, n, block });
                    rest = &rest[start + len + 2..];
                }
                None => {
                    out.push(Unit::Partial(rest));
                    break;
                }
            }
            continue;
        }
        out.push(Unit::Line(&rest[..nl + 2]));
        rest = &rest[nl + 2..];
    }
    out
}

/// The words of a `VALUE` header (4 or 5, `VALUE` included) and its data length.
fn value_header(line: &[u8]) -> Option<([&[u8]; 5], usize, usize)> {
    if !line.starts_with(b"VALUE ") {
        return None;
    }
    let mut words: [&[u8]; 5] = [&[]; 5];
    let mut n = 0;
    for w in line.split(|&b| b == b' ') {
        if n == 5 {
            return None;
        }
        words[n] = w;
        n += 1;
    }
    let len = std::str::from_utf8(words[3]).ok()?.parse().ok()?;
    (n == 4 || n == 5).then_some((words, n, len))
}

/// True if `bytes` ends where a reply can end: after a whole line that is not a `VALUE` or
/// `STAT` entry (those are followed by `END`), outside any data block. The tester then waits
/// only a short moment for more.
pub fn looks_complete(bytes: &[u8]) -> bool {
    match units(bytes).last() {
        Some(Unit::Line(l)) => !(l.starts_with(b"STAT ") || l.starts_with(b"PREFIX ")),
        _ => false,
    }
}

/// One server's CAS values in one script: labels by first appearance, and the value last
/// returned for each key (for `${key}`).
#[derive(Debug, Default)]
pub struct CasBook {
    labels: HashMap<Vec<u8>, usize>,
    pub by_key: HashMap<Vec<u8>, Vec<u8>>,
}

impl CasBook {
    /// The labels in the order of the CAS values they stand for. Both servers hand out CAS
    /// values from one counter, in the order of the modifications, so this order must be
    /// the same on both even though the numbers are not.
    pub fn order(&self) -> Vec<usize> {
        let mut by_value: Vec<(u64, usize)> = self
            .labels
            .iter()
            .map(|(v, &l)| {
                let v = std::str::from_utf8(v).ok().and_then(|v| v.parse().ok());
                (v.unwrap_or(u64::MAX), l)
            })
            .collect();
        by_value.sort_unstable();
        by_value.into_iter().map(|(_, l)| l).collect()
    }
}

/// Replaces the CAS of every `VALUE` header with a label numbering the distinct values in
/// the order this server first returned them (allowed difference 1), and records each key's
/// value for `${key}`.
pub fn label_cas(bytes: &[u8], book: &mut CasBook) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    for u in units(bytes) {
        match u {
            Unit::Value { words, n: 5, block } => {
                let next = book.labels.len() + 1;
                let label = *book.labels.entry(words[4].to_vec()).or_insert(next);
                book.by_key.insert(words[1].to_vec(), words[4].to_vec());
                out.extend_from_slice(&words[..4].join(&b' '));
                out.extend_from_slice(format!(" <cas{label}>\r\n").as_bytes());
                out.extend_from_slice(block);
            }
            Unit::Value { words, n, block } => {
                out.extend_from_slice(&words[..n].join(&b' '));
                out.extend_from_slice(b"\r\n");
                out.extend_from_slice(block);
            }
            Unit::Line(b) | Unit::Partial(b) => out.extend_from_slice(b),
        }
    }
    out
}

/// A `STAT <name> <value>` line's name and value (without the CRLF).
fn stat_line(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let body = line.strip_prefix(b"STAT ")?.strip_suffix(b"\r\n")?;
    let sp = body.iter().position(|&b| b == b' ')?;
    Some((&body[..sp], &body[sp + 1..]))
}

/// `%stats`: both replies with every `STAT` value masked whose field is a process field or
/// listed in `ignore`, cachegate's `cachegate_*` fields dropped, and memcached's list
/// reduced to the fields cachegate prints (allowed differences 2 and 3). The results are
/// equal only if cachegate's fields appear in memcached's order with the same data values.
pub fn reduce_stats(mc: &[u8], cg: &[u8], ignore: &[Vec<u8>]) -> (Vec<u8>, Vec<u8>) {
    let masked = |name: &[u8]| {
        PROCESS_FIELDS.iter().any(|f| f.as_bytes() == name) || ignore.iter().any(|f| f == name)
    };
    let lines = |b: &[u8]| -> Vec<Vec<u8>> {
        units(b)
            .iter()
            .map(|u| match u {
                Unit::Line(l) | Unit::Partial(l) => l.to_vec(),
                // Not expected in a stats reply; kept whole so that it is still compared.
                Unit::Value { words, n, block } => {
                    [&words[..*n].join(&b' '), &b"\r\n"[..], block].concat()
                }
            })
            .collect()
    };
    let cg_names: Vec<Vec<u8>> = lines(cg)
        .iter()
        .filter_map(|l| stat_line(l).map(|(n, _)| n.to_vec()))
        .filter(|n| !n.starts_with(b"cachegate_"))
        .collect();
    let render = |b: &[u8], keep: &dyn Fn(&[u8]) -> bool| -> Vec<u8> {
        let mut out = Vec::with_capacity(b.len());
        for l in lines(b) {
            match stat_line(&l) {
                Some((name, _)) if !keep(name) => {}
                Some((name, _)) if masked(name) => {
                    out.extend_from_slice(b"STAT ");
                    out.extend_from_slice(name);
                    out.extend_from_slice(b" <masked>\r\n");
                }
                _ => out.extend_from_slice(&l),
            }
        }
        out
    };
    (
        render(mc, &|n| cg_names.iter().any(|c| c == n)),
        render(cg, &|n| !n.starts_with(b"cachegate_")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completeness() {
        assert!(looks_complete(b"STORED\r\n"));
        assert!(looks_complete(b"VALUE k 0 2\r\nab\r\nEND\r\n"));
        assert!(!looks_complete(b"VALUE k 0 2\r\nab\r\n"));
        assert!(!looks_complete(b"VALUE k 0 5\r\nEND\r\n"));
        assert!(!looks_complete(b"STAT pid 1\r\n"));
        assert!(!looks_complete(b"STORED\r"));
        assert!(!looks_complete(b""));
    }

    #[test]
    fn cas_labels() {
        let mut book = CasBook::default();
        let a = label_cas(
            b"VALUE a 0 1 77\r\nx\r\nVALUE b 0 1 9\r\ny\r\nEND\r\n",
            &mut book,
        );
        assert_eq!(
            a,
            b"VALUE a 0 1 <cas1>\r\nx\r\nVALUE b 0 1 <cas2>\r\ny\r\nEND\r\n".to_vec()
        );
        let b = label_cas(b"VALUE a 0 1 9\r\nz\r\nEND\r\n", &mut book);
        assert_eq!(b, b"VALUE a 0 1 <cas2>\r\nz\r\nEND\r\n".to_vec());
        assert_eq!(book.by_key[&b"a"[..]], b"9".to_vec());
        assert_eq!(book.order(), vec![2, 1]);
    }

    #[test]
    fn stats_reduced() {
        let mc = b"STAT pid 1\r\nSTAT libevent 2\r\nSTAT cmd_get 3\r\nEND\r\n";
        let cg = b"STAT pid 2\r\nSTAT cmd_get 3\r\nSTAT cachegate_version 0\r\nEND\r\n";
        let (a, b) = reduce_stats(mc, cg, &[]);
        assert_eq!(a, b);
        assert_eq!(
            a,
            b"STAT pid <masked>\r\nSTAT cmd_get 3\r\nEND\r\n".to_vec()
        );
        let cg = b"STAT cmd_get 3\r\nSTAT pid 2\r\nEND\r\n";
        let (a, b) = reduce_stats(mc, cg, &[]);
        assert_ne!(a, b);
    }
}
