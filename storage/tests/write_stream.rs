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

use cachegate_protocols::resp::request::{Args, Batch, RequestLimits, RequestParser};
use cachegate_protocols::resp::{ProtocolVersion, ReplyBuf};
use cachegate_storage::command::{Outcome, Session};
use common::{dump_keyspace, Harness};
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
    // hashes
    |p| v(&[b"HSET", &p.key(0), &p.field(1), &p.v, &p.field(2), b"x"]),
    |p| v(&[b"HMSET", &p.key(0), &p.field(1), &p.v]),
    |p| v(&[b"HSETNX", &p.key(0), &p.field(1), &p.v]),
    |p| v(&[b"HDEL", &p.key(0), &p.field(1), &p.field(2)]),
    |p| v(&[b"HINCRBY", &p.key(0), &p.field(1), &p.num(2)]),
    |p| v(&[b"HINCRBYFLOAT", &p.key(0), &p.field(1), b"0.3"]),
    |p| v(&[b"HGET", &p.key(0), &p.field(1)]),
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

/// Replays RESP commands into `h` (its session follows the stream's SELECTs).
fn replay(h: &mut Harness, stream: &[u8]) {
    let mut parser = RequestParser::new(RequestLimits::default());
    let mut batch = Batch::default();
    parser.parse(stream, &mut batch, usize::MAX);
    assert!(batch.error.is_none(), "the stream is valid RESP");
    assert_eq!(
        batch.consumed,
        stream.len(),
        "the stream holds whole commands"
    );
    h.store.begin_batch();
    for r in &batch.requests {
        let args: Args<'_> = batch.args(stream, r);
        let mut out = ReplyBuf::new(ProtocolVersion::Resp2);
        let outcome = h.store.execute(&mut h.session, &args, &mut out);
        assert_eq!(outcome, Outcome::Done);
        assert!(
            !out.as_bytes().starts_with(b"-"),
            "replayed {:?} failed: {}",
            args.to_vecs()
                .iter()
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect::<Vec<_>>(),
            String::from_utf8_lossy(out.as_bytes())
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]
    #[test]
    fn replaying_the_stream_rebuilds_the_keyspace(steps in proptest::collection::vec(step(), 1..120)) {
        // Small encoding thresholds, so values change encoding along the way.
        let small = cachegate_storage::types::Thresholds {
            hash_max_listpack_entries: 3,
            hash_max_listpack_value: 4,
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
        let mut session = Session::default();
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
