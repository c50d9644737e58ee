//! Commands that look up two or more keys, run where the second lookup reclaims an expired
//! key: deleting it shifts the entries after it in its probe run, which is where a slot
//! found by the first lookup may sit. A slot used after that panics (the keyspace checks
//! every slot against the database's shape), so each command must look its first key up
//! again, or copy what it needs, after the later lookups. A dense database with every other
//! key expired puts expired neighbours next to live keys all over the index.

mod common;

use cachegate_protocols::resp::Frame;
use common::Harness;

/// Keys in the database; every odd one expires.
const KEYS: usize = 600;

/// How each command is run: `a` is a live key, `b` an expired one (or the other way round).
type Case = (&'static str, fn(&str, &str) -> Vec<String>);

fn args(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| s.to_string()).collect()
}

const CASES: &[Case] = &[
    ("LCS", |a, b| args(&["LCS", a, b])),
    ("RENAME", |a, b| args(&["RENAME", a, b])),
    ("RENAMENX", |a, b| args(&["RENAMENX", a, b])),
    ("COPY", |a, b| args(&["COPY", a, b])),
    ("COPY REPLACE", |a, b| args(&["COPY", a, b, "REPLACE"])),
    ("MGET", |a, b| args(&["MGET", a, b, a])),
    ("EXISTS", |a, b| args(&["EXISTS", a, b, a])),
    ("DEL", |a, b| args(&["DEL", b, a])),
    ("MSETNX", |a, b| args(&["MSETNX", a, "x", b, "y"])),
    ("XREAD", |a, b| {
        args(&["XREAD", "STREAMS", a, b, a, "0", "0", "0"])
    }),
    ("XREAD $", |a, b| {
        args(&["XREAD", "STREAMS", a, b, "$", "$"])
    }),
    ("XREADGROUP", |a, b| {
        args(&["XREADGROUP", "GROUP", "g", "c", "STREAMS", a, b, ">", ">"])
    }),
];

/// A database of `KEYS` strings (`ka<i>` for the live ones, `kb<i>` for the expired ones)
/// built from the same value kind `fill` gives.
fn fill(h: &mut Harness, fill: fn(&mut Harness, &str)) {
    for i in 0..KEYS {
        let key = if i % 2 == 0 {
            format!("ka{i}")
        } else {
            format!("kb{i}")
        };
        fill(h, &key);
        if i % 2 == 1 {
            h.run(&["PEXPIRE", &key, "1"]);
        }
    }
    h.clock.advance(10);
}

fn run_all(make: fn(&mut Harness, &str)) {
    for (name, case) in CASES {
        for order in 0..2 {
            let mut h = Harness::new();
            fill(&mut h, make);
            for i in (0..KEYS).step_by(2) {
                let live = format!("ka{i}");
                let gone = format!("kb{}", (i + 1) % KEYS);
                let argv = if order == 0 {
                    case(&live, &gone)
                } else {
                    case(&gone, &live)
                };
                let refs: Vec<&str> = argv.iter().map(String::as_str).collect();
                // A stale slot panics here; errors (no such key…) are fine answers.
                let reply = h.run(&refs);
                assert!(!matches!(reply, Frame::Null), "{name}: a reply");
            }
        }
    }
}

#[test]
fn string_commands_survive_expired_neighbours() {
    run_all(|h, k| {
        h.run(&["SET", k, "value"]);
    });
}

#[test]
fn hash_values_survive_expired_neighbours() {
    // The generic commands move and copy collections too.
    run_all(|h, k| {
        h.run(&["HSET", k, "f", "v"]);
    });
}

#[test]
fn stream_values_survive_expired_neighbours() {
    run_all(|h, k| {
        h.run(&["XADD", k, "1-1", "f", "v"]);
        h.run(&["XGROUP", "CREATE", k, "g", "0"]);
    });
}
