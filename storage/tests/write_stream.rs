//! The write stream as a contract (DESIGN decisions 6 and 14): random command sequences of
//! every type, with TTLs and a moving clock, run on one store with the stream recorded; the
//! stream is replayed into a fresh store at the same times; both keyspaces must then be
//! equal key by key (type, encoding, value, TTL). And every key a command changed must have
//! been signalled.
//!
//! The replaying store runs [`LAG`] ms behind the original, so a relative TTL that reached
//! the stream unconverted shows up as a different expiry; keys are compared as live at the
//! original's time.
//!
//! Each type adds its commands to [`TEMPLATES`]: a template turns a few random parameters
//! into one command line.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use cachegate_storage::command::Session;
use common::{dump_keyspace, replay, Harness};
use proptest::prelude::*;

/// Random parameters a template reads: small numbers and a short value.
#[derive(Debug, Clone)]
struct P {
    n: [u8; 6],
    v: Vec<u8>,
}

impl P {
    fn key(&self, i: usize) -> Vec<u8> {
        format!("k{}", self.n[i] % 8).into_bytes()
    }
    fn num(&self, i: usize) -> Vec<u8> {
        self.n[i].to_string().into_bytes()
    }
    fn ttl(&self, i: usize) -> Vec<u8> {
        (u32::from(self.n[i]) * 4 + 1).to_string().into_bytes()
    }
    fn field(&self, i: usize) -> Vec<u8> {
        format!("f{}", self.n[i] % 12).into_bytes()
    }
    /// A set member: mostly small integers (intsets), sometimes strings.
    fn member(&self, i: usize) -> Vec<u8> {
        match self.n[i] % 16 {
            0..=9 => (self.n[i] % 10).to_string().into_bytes(),
            10..=13 => format!("m{}", self.n[i] % 4).into_bytes(),
            14 => b"01".to_vec(),
            _ => (-40000 - i64::from(self.n[i])).to_string().into_bytes(),
        }
    }
}

type Template = fn(&P) -> Vec<Vec<u8>>;

/// How far behind the original the replaying store's clock runs, in ms.
const LAG: i64 = 5_000;

fn v(parts: &[&[u8]]) -> Vec<Vec<u8>> {
    parts.iter().map(|p| p.to_vec()).collect()
}

/// Every command family's writes (and a few reads, which may expire keys).
const TEMPLATES: &[Template] = &[
    // strings
    |p| v(&[b"SET", &p.key(0), &p.v]),
    |p| v(&[b"SET", &p.key(0), &p.v, b"PX", &p.ttl(1)]),
    |p| v(&[b"SET", &p.key(0), &p.v, b"EX", b"100", b"NX"]),
    |p| v(&[b"SET", &p.key(0), &p.v, b"KEEPTTL", b"XX"]),
    |p| v(&[b"SETEX", &p.key(0), b"7", &p.v]),
    |p| v(&[b"PSETEX", &p.key(0), &p.ttl(1), &p.v]),
    |p| v(&[b"GETSET", &p.key(0), &p.v]),
    |p| v(&[b"GETDEL", &p.key(0)]),
    |p| v(&[b"GETEX", &p.key(0), b"PX", &p.ttl(1)]),
    |p| v(&[b"GETEX", &p.key(0), b"PERSIST"]),
    |p| v(&[b"MSET", &p.key(0), &p.v, &p.key(1), b"x"]),
    |p| v(&[b"MSETNX", &p.key(0), &p.v, &p.key(1), b"y"]),
    |p| v(&[b"INCR", &p.key(0)]),
    |p| v(&[b"INCRBY", &p.key(0), &p.num(1)]),
    |p| v(&[b"INCRBYFLOAT", &p.key(0), b"1.1"]),
    |p| v(&[b"APPEND", &p.key(0), &p.v]),
    |p| v(&[b"SETRANGE", &p.key(0), &p.num(1), &p.v]),
    |p| v(&[b"GET", &p.key(0)]),
    // generic
    |p| v(&[b"DEL", &p.key(0), &p.key(1)]),
    |p| v(&[b"UNLINK", &p.key(0)]),
    |p| v(&[b"EXPIRE", &p.key(0), &p.num(1)]),
    |p| v(&[b"PEXPIRE", &p.key(0), &p.ttl(1)]),
    |p| v(&[b"PEXPIRE", &p.key(0), &p.ttl(1), b"GT"]),
    |p| v(&[b"EXPIRE", &p.key(0), b"-1"]),
    |p| v(&[b"PERSIST", &p.key(0)]),
    |p| v(&[b"RENAME", &p.key(0), &p.key(1)]),
    |p| v(&[b"RENAMENX", &p.key(0), &p.key(1)]),
    |p| v(&[b"COPY", &p.key(0), &p.key(1), b"REPLACE"]),
    |p| v(&[b"COPY", &p.key(0), &p.key(1), b"DB", b"1"]),
    |p| v(&[b"MOVE", &p.key(0), b"1"]),
    |p| v(&[b"SELECT", &p.num(0)[..1]]),
    |p| v(&[b"SWAPDB", b"0", &p.num(0)[..1]]),
    |_| v(&[b"FLUSHDB"]),
    |p| v(&[b"EXISTS", &p.key(0)]),
    |_| v(&[b"RANDOMKEY"]),
    |_| v(&[b"SCAN", b"0", b"COUNT", b"100"]),
    // SORT … STORE
    |p| v(&[b"SORT", &p.key(0), b"ALPHA", b"STORE", &p.key(1)]),
    |p| v(&[b"SORT", &p.key(0), b"BY", b"nosort", b"STORE", &p.key(1)]),
    |p| {
        v(&[
            b"SORT",
            &p.key(0),
            b"BY",
            b"k*",
            b"GET",
            b"#",
            b"GET",
            b"k*",
            b"ALPHA",
            b"STORE",
            &p.key(1),
        ])
    },
    // hashes
    |p| v(&[b"HSET", &p.key(0), &p.field(1), &p.v, &p.field(2), b"x"]),
    |p| v(&[b"HMSET", &p.key(0), &p.field(1), &p.v]),
    |p| v(&[b"HSETNX", &p.key(0), &p.field(1), &p.v]),
    |p| v(&[b"HDEL", &p.key(0), &p.field(1), &p.field(2)]),
    |p| v(&[b"HINCRBY", &p.key(0), &p.field(1), &p.num(2)]),
    |p| v(&[b"HINCRBYFLOAT", &p.key(0), &p.field(1), b"0.3"]),
    |p| v(&[b"HGET", &p.key(0), &p.field(1)]),
    // bitmaps
    |p| v(&[b"SETBIT", &p.key(0), &p.num(1), &[b'0' + p.n[2] % 2]]),
    |p| v(&[b"SETBIT", &p.key(0), &p.num(1), b"0"]),
    |p| {
        let op: &[u8] = [&b"AND"[..], b"OR", b"XOR"][usize::from(p.n[3] % 3)];
        v(&[b"BITOP", op, &p.key(0), &p.key(1), &p.key(2)])
    },
    |p| v(&[b"BITOP", b"NOT", &p.key(0), &p.key(1)]),
    |p| {
        let mode: &[u8] = [&b"WRAP"[..], b"SAT", b"FAIL"][usize::from(p.n[3] % 3)];
        v(&[
            b"BITFIELD",
            &p.key(0),
            b"OVERFLOW",
            mode,
            b"INCRBY",
            b"i5",
            &p.num(1),
            &p.num(2),
            b"SET",
            b"u3",
            b"#2",
            &p.num(4),
            b"GET",
            b"u8",
            b"0",
        ])
    },
    |p| {
        v(&[
            b"BITFIELD",
            &p.key(0),
            b"OVERFLOW",
            b"FAIL",
            b"SET",
            b"u2",
            &p.num(1),
            &p.num(2),
        ])
    },
    |p| v(&[b"BITFIELD_RO", &p.key(0), b"GET", b"i7", &p.num(1)]),
    // hyperloglogs
    |p| v(&[b"PFADD", &p.key(0), &p.v, &p.num(1), &p.num(2)]),
    |p| v(&[b"PFADD", &p.key(0)]),
    |p| v(&[b"PFMERGE", &p.key(0), &p.key(1), &p.key(2)]),
    |p| v(&[b"PFCOUNT", &p.key(0)]),
    |p| v(&[b"PFCOUNT", &p.key(0), &p.key(1)]),
    |p| v(&[b"PFDEBUG", b"TODENSE", &p.key(0)]),
    |p| v(&[b"PFDEBUG", b"GETREG", &p.key(0)]),
    // sets
    |p| v(&[b"SADD", &p.key(0), &p.member(1), &p.member(2), &p.member(3)]),
    |p| {
        v(&[
            b"SADD",
            &p.key(0),
            &p.member(1),
            &p.member(2),
            &p.member(3),
            &p.member(4),
            &p.member(5),
        ])
    },
    |p| v(&[b"SADD", &p.key(0), &p.v]),
    |p| v(&[b"SREM", &p.key(0), &p.member(1), &p.member(2)]),
    |p| v(&[b"SMOVE", &p.key(0), &p.key(1), &p.member(2)]),
    |p| v(&[b"SPOP", &p.key(0)]),
    |p| v(&[b"SPOP", &p.key(0), (p.n[1] % 8).to_string().as_bytes()]),
    // A set big enough for SPOP to rebuild it from the few members it keeps.
    |p| {
        v(&[
            b"SADD",
            &p.key(0),
            b"0",
            b"1",
            b"2",
            b"3",
            b"4",
            b"5",
            b"6",
            b"7",
            b"8",
            &p.member(1),
        ])
    },
    |p| v(&[b"SPOP", &p.key(0), (5 + p.n[1] % 8).to_string().as_bytes()]),
    |p| v(&[b"SPOP", &p.key(0), &p.num(1)]),
    |p| v(&[b"SRANDMEMBER", &p.key(0), b"-3"]),
    |p| v(&[b"SISMEMBER", &p.key(0), &p.member(1)]),
    |p| v(&[b"SINTERSTORE", &p.key(0), &p.key(1), &p.key(2)]),
    |p| v(&[b"SUNIONSTORE", &p.key(0), &p.key(1), &p.key(2)]),
    |p| v(&[b"SDIFFSTORE", &p.key(0), &p.key(1), &p.key(2), &p.key(3)]),
    |p| v(&[b"SINTERCARD", b"2", &p.key(0), &p.key(1)]),
    |p| v(&[b"SUNION", &p.key(0), &p.key(1)]),
    // lists (blocking commands run with blocking denied, as in MULTI: served when there is
    // data, the timeout reply otherwise)
    |p| v(&[b"LPUSH", &p.key(0), &p.v, b"x"]),
    |p| v(&[b"RPUSH", &p.key(0), &p.v, b"x", b"y"]),
    |p| v(&[b"LPUSHX", &p.key(0), &p.v]),
    |p| v(&[b"RPUSHX", &p.key(0), &p.v]),
    |p| v(&[b"LPOP", &p.key(0)]),
    |p| v(&[b"RPOP", &p.key(0), &p.num(1)[..1]]),
    |p| v(&[b"LSET", &p.key(0), &p.num(1)[..1], &p.v]),
    |p| v(&[b"LSET", &p.key(0), b"-1", b"z"]),
    |p| v(&[b"LINSERT", &p.key(0), b"BEFORE", b"x", &p.v]),
    |p| v(&[b"LINSERT", &p.key(0), b"AFTER", &p.v, b"y"]),
    |p| v(&[b"LREM", &p.key(0), b"-1", b"x"]),
    |p| v(&[b"LREM", &p.key(0), b"0", &p.v]),
    |p| v(&[b"LTRIM", &p.key(0), &p.num(1)[..1], b"-2"]),
    |p| v(&[b"LMOVE", &p.key(0), &p.key(1), b"LEFT", b"RIGHT"]),
    |p| v(&[b"LMOVE", &p.key(0), &p.key(0), b"RIGHT", b"LEFT"]),
    |p| v(&[b"RPOPLPUSH", &p.key(0), &p.key(1)]),
    |p| {
        v(&[
            b"LMPOP",
            b"2",
            &p.key(0),
            &p.key(1),
            b"LEFT",
            b"COUNT",
            &p.num(2)[..1],
        ])
    },
    |p| v(&[b"LMPOP", b"1", &p.key(0), b"RIGHT"]),
    |p| v(&[b"BLPOP", &p.key(0), &p.key(1), b"0.01"]),
    |p| v(&[b"BRPOP", &p.key(0), b"0"]),
    |p| v(&[b"BLMOVE", &p.key(0), &p.key(1), b"RIGHT", b"LEFT", b"0"]),
    |p| v(&[b"BRPOPLPUSH", &p.key(0), &p.key(1), b"1"]),
    |p| {
        v(&[
            b"BLMPOP",
            b"0",
            b"2",
            &p.key(0),
            &p.key(1),
            b"RIGHT",
            b"COUNT",
            b"2",
        ])
    },
    |p| v(&[b"LRANGE", &p.key(0), b"0", b"-1"]),
    |p| v(&[b"LINDEX", &p.key(0), b"0"]),
    // sorted sets
    |p| {
        v(&[
            b"ZADD",
            &p.key(0),
            &p.num(1),
            &p.field(2),
            &p.num(3),
            &p.field(4),
        ])
    },
    |p| v(&[b"ZADD", &p.key(0), b"NX", b"CH", &p.num(1), &p.field(2)]),
    |p| v(&[b"ZADD", &p.key(0), b"XX", b"GT", &p.num(1), &p.field(2)]),
    |p| v(&[b"ZADD", &p.key(0), b"INCR", b"0.1", &p.field(1)]),
    |p| v(&[b"ZADD", &p.key(0), &p.num(1), &p.v]),
    |p| v(&[b"ZINCRBY", &p.key(0), b"-1.5", &p.field(1)]),
    |p| v(&[b"ZREM", &p.key(0), &p.field(1), &p.field(2)]),
    |p| v(&[b"ZPOPMIN", &p.key(0)]),
    |p| v(&[b"ZPOPMAX", &p.key(0), &p.num(1)[..1]]),
    |p| v(&[b"ZMPOP", b"2", &p.key(0), &p.key(1), b"MIN", b"COUNT", b"2"]),
    |p| v(&[b"BZPOPMIN", &p.key(0), &p.key(1), b"0"]),
    |p| v(&[b"BZMPOP", b"0", b"1", &p.key(0), b"MAX"]),
    |p| v(&[b"ZREMRANGEBYRANK", &p.key(0), b"0", &p.num(1)[..1]]),
    |p| v(&[b"ZREMRANGEBYSCORE", &p.key(0), b"-inf", &p.num(1)]),
    |p| v(&[b"ZREMRANGEBYLEX", &p.key(0), b"[f1", b"(f5"]),
    |p| v(&[b"ZRANGESTORE", &p.key(0), &p.key(1), b"0", &p.num(2)[..1]]),
    |p| {
        v(&[
            b"ZRANGESTORE",
            &p.key(0),
            &p.key(1),
            b"+inf",
            b"(5",
            b"BYSCORE",
            b"REV",
            b"LIMIT",
            b"1",
            b"2",
        ])
    },
    |p| {
        v(&[
            b"ZUNIONSTORE",
            &p.key(0),
            b"2",
            &p.key(1),
            &p.key(2),
            b"WEIGHTS",
            b"0.5",
            b"3",
        ])
    },
    |p| {
        v(&[
            b"ZINTERSTORE",
            &p.key(0),
            b"2",
            &p.key(1),
            &p.key(2),
            b"AGGREGATE",
            b"MAX",
        ])
    },
    |p| v(&[b"ZDIFFSTORE", &p.key(0), b"2", &p.key(1), &p.key(2)]),
    |p| v(&[b"ZRANGE", &p.key(0), b"0", b"-1"]),
    // geo
    |p| {
        v(&[
            b"GEOADD",
            &p.key(0),
            &p.num(1),
            &p.num(2)[..1],
            &p.field(3),
            b"13.361389",
            b"38.115556",
            b"palermo",
        ])
    },
    |p| {
        v(&[
            b"GEOADD",
            &p.key(0),
            b"XX",
            b"CH",
            b"15.087269",
            b"37.502669",
            &p.field(1),
        ])
    },
    |p| {
        v(&[
            b"GEOSEARCHSTORE",
            &p.key(0),
            &p.key(1),
            b"FROMLONLAT",
            b"14",
            b"38",
            b"BYRADIUS",
            &p.num(2),
            b"km",
            b"ASC",
            b"COUNT",
            b"3",
        ])
    },
    |p| {
        v(&[
            b"GEOSEARCHSTORE",
            &p.key(0),
            &p.key(1),
            b"FROMMEMBER",
            b"palermo",
            b"BYBOX",
            b"400",
            b"400",
            b"km",
            b"STOREDIST",
        ])
    },
    |p| {
        v(&[
            b"GEORADIUS",
            &p.key(0),
            b"14",
            b"38",
            &p.num(1),
            b"km",
            b"STORE",
            &p.key(2),
        ])
    },
    // streams where they meet other types (the rest: write_stream_streams.rs)
    |p| v(&[b"XADD", &p.key(0), b"*", b"f", &p.v]),
    |p| v(&[b"XGROUP", b"CREATE", &p.key(0), b"g", b"0", b"MKSTREAM"]),
    |p| {
        v(&[
            b"XREADGROUP",
            b"GROUP",
            b"g",
            b"c",
            b"STREAMS",
            &p.key(0),
            b">",
        ])
    },
];

/// One step: a command from a template, or the clock moving, or an active expiry cycle.
#[derive(Debug, Clone)]
enum Step {
    Command(usize, P),
    Advance(u16),
    ActiveExpire,
}

fn step() -> impl Strategy<Value = Step> {
    let p = (
        any::<[u8; 6]>(),
        proptest::collection::vec(b'a'..b'e', 0..6),
    )
        .prop_map(|(n, v)| P { n, v });
    prop_oneof![
        8 => (0..TEMPLATES.len(), p).prop_map(|(t, p)| Step::Command(t, p)),
        2 => (0u16..400).prop_map(Step::Advance),
        1 => Just(Step::ActiveExpire),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]
    #[test]
    fn replaying_the_stream_rebuilds_the_keyspace(steps in proptest::collection::vec(step(), 1..120)) {
        // Small encoding thresholds, so values change encoding along the way.
        let small = cachegate_storage::types::Thresholds {
            hash_max_listpack_entries: 3,
            hash_max_listpack_value: 4,
            hll_sparse_max_bytes: 40,
            set_max_intset_entries: 4,
            // Two elements a node: lists become nodes, split and merge.
            list_max_listpack_size: 2,
            zset_max_listpack_entries: 3,
            zset_max_listpack_value: 4,
            stream_node_max_entries: 3,
            ..Default::default()
        };
        let mut a = Harness::new();
        a.store.thresholds = small;
        a.store.writes.enabled = true;
        a.store.signal_log = Some(Vec::new());
        let mut b = Harness::new();
        b.store.thresholds = small;
        b.clock.advance(-LAG);
        // Blocking commands answer at once when they would block (as inside MULTI).
        let mut session = Session { deny_blocking: true, ..Session::default() };
        for s in steps {
            let clock = a.clock.clone();
            let now = || cachegate_storage::clock::Clock::now_ms(&clock);
            let before = dump_keyspace(&a.store, now());
            let timed = matches!(s, Step::Advance(_));
            match s {
                Step::Command(t, p) => {
                    let argv = TEMPLATES[t](&p);
                    let refs: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
                    std::mem::swap(&mut a.session, &mut session);
                    a.run_bytes(&refs);
                    std::mem::swap(&mut a.session, &mut session);
                }
                Step::Advance(ms) => {
                    a.clock.advance(i64::from(ms));
                    b.clock.advance(i64::from(ms));
                }
                Step::ActiveExpire => a.store.active_expire(std::time::Duration::from_secs(1)),
            }
            let after = dump_keyspace(&a.store, now());
            // Every key whose value changed was signalled (or its whole database was).
            let signals = a.store.signal_log.replace(Vec::new()).unwrap_or_default();
            let signalled: BTreeSet<(usize, Vec<u8>)> = signals.into_iter().collect();
            let keys: BTreeSet<&(usize, Vec<u8>)> = before.keys().chain(after.keys()).collect();
            for k in keys {
                // Time passing ends keys without a command: nothing to signal.
                if !timed && before.get(k) != after.get(k) {
                    let whole_db = (k.0, b"*".to_vec());
                    prop_assert!(
                        signalled.contains(k) || signalled.contains(&whole_db),
                        "db {} key {:?} changed without a signal: {:?} -> {:?}",
                        k.0, String::from_utf8_lossy(&k.1), before.get(k), after.get(k)
                    );
                }
            }
            let stream = a.store.writes.take();
            replay(&mut b, &stream);
            let replayed = dump_keyspace(&b.store, now());
            let expect: BTreeMap<_, _> = after;
            prop_assert_eq!(&replayed, &expect);
        }
    }
}
