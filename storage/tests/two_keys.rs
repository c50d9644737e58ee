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
    ("SORT STORE", |a, b| args(&["SORT", a, "ALPHA", "STORE", b])),
    ("SORT BY GET", |a, b| {
        args(&[
            "SORT", a, "BY", "k*", "GET", "#", "GET", "k*", "ALPHA", "STORE", b,
        ])
    }),
    ("BITOP", |a, b| args(&["BITOP", "OR", a, b, a])),
    ("BITOP dest", |a, b| args(&["BITOP", "AND", b, a])),
    ("PFMERGE", |a, b| args(&["PFMERGE", a, b])),
    ("PFMERGE dest", |a, b| args(&["PFMERGE", b, a])),
    ("PFCOUNT", |a, b| args(&["PFCOUNT", a, b, a])),
    ("SMOVE", |a, b| args(&["SMOVE", a, b, "1"])),
    ("SMOVE missing", |a, b| args(&["SMOVE", a, b, "nope"])),
    ("SINTER", |a, b| args(&["SINTER", a, b, a])),
    ("SINTERCARD", |a, b| args(&["SINTERCARD", "3", b, a, a])),
    ("SINTERSTORE", |a, b| args(&["SINTERSTORE", b, a, a])),
    ("SINTERSTORE empty", |a, b| args(&["SINTERSTORE", a, a, b])),
    ("SUNION", |a, b| args(&["SUNION", a, b, a])),
    ("SUNIONSTORE", |a, b| args(&["SUNIONSTORE", a, b, a])),
    ("SDIFF", |a, b| args(&["SDIFF", a, b, a])),
    ("SDIFFSTORE", |a, b| args(&["SDIFFSTORE", b, a, b])),
    ("LMOVE", |a, b| args(&["LMOVE", a, b, "LEFT", "RIGHT"])),
    ("RPOPLPUSH", |a, b| args(&["RPOPLPUSH", a, b])),
    ("BLMOVE", |a, b| {
        args(&["BLMOVE", a, b, "RIGHT", "LEFT", "0"])
    }),
    ("BRPOPLPUSH", |a, b| args(&["BRPOPLPUSH", a, b, "0"])),
    ("LMPOP", |a, b| {
        args(&["LMPOP", "2", b, a, "LEFT", "COUNT", "2"])
    }),
    ("BLPOP", |a, b| args(&["BLPOP", b, a, "0"])),
    ("BRPOP", |a, b| args(&["BRPOP", a, b, "0.5"])),
    ("BLMPOP", |a, b| args(&["BLMPOP", "0", "2", b, a, "RIGHT"])),
    ("ZUNIONSTORE", |a, b| args(&["ZUNIONSTORE", a, "2", b, a])),
    ("ZINTERSTORE", |a, b| args(&["ZINTERSTORE", b, "2", a, b])),
    ("ZDIFFSTORE", |a, b| args(&["ZDIFFSTORE", a, "2", a, b])),
    ("ZUNION", |a, b| {
        args(&["ZUNION", "3", a, b, a, "WITHSCORES"])
    }),
    ("ZINTER", |a, b| args(&["ZINTER", "2", a, b])),
    ("ZDIFF", |a, b| args(&["ZDIFF", "2", a, b])),
    ("ZINTERCARD", |a, b| args(&["ZINTERCARD", "2", a, b])),
    ("ZRANGESTORE", |a, b| {
        args(&["ZRANGESTORE", a, b, "0", "-1"])
    }),
    ("ZMPOP", |a, b| args(&["ZMPOP", "2", a, b, "MIN"])),
    ("BZPOPMIN", |a, b| args(&["BZPOPMIN", a, b, "0"])),
    ("GEOSEARCHSTORE", |a, b| {
        args(&[
            "GEOSEARCHSTORE",
            a,
            b,
            "FROMLONLAT",
            "0",
            "0",
            "BYRADIUS",
            "1",
            "km",
        ])
    }),
    ("GEORADIUS STORE", |a, b| {
        args(&["GEORADIUS", a, "0", "0", "1", "km", "STORE", b])
    }),
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
            // A blocking command with nothing to pop answers at once (as inside MULTI).
            h.session.deny_blocking = true;
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
fn sorted_sets_survive_expired_neighbours() {
    // Both encodings: the second key of every other pair is big.
    run_all(|h, k| {
        h.run(&["GEOADD", k, "0", "0", "m", "0.001", "0", "n"]);
        if k.ends_with('0') {
            for i in 0..200 {
                let m = format!("x{i}");
                h.run(&["ZADD", k, "1", &m]);
            }
        }
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
fn hyperloglogs_survive_expired_neighbours() {
    run_all(|h, k| {
        h.run(&["PFADD", k, "a", "b", k]);
    });
}

#[test]
fn set_values_survive_expired_neighbours() {
    run_all(|h, k| {
        h.run(&["SADD", k, "1", "2", "x"]);
    });
}

#[test]
fn intsets_survive_expired_neighbours() {
    run_all(|h, k| {
        h.run(&["SADD", k, "1", "2", "3"]);
    });
}

#[test]
fn list_values_survive_expired_neighbours() {
    run_all(|h, k| {
        h.run(&["RPUSH", k, "a", "b", "c"]);
    });
}

#[test]
fn stream_values_survive_expired_neighbours() {
    run_all(|h, k| {
        h.run(&["XADD", k, "1-1", "f", "v"]);
        h.run(&["XGROUP", "CREATE", k, "g", "0"]);
    });
}
