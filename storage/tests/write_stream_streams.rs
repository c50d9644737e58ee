//! The write-stream contract (see `write_stream.rs`) for stream writes on their own: random
//! XADD / XTRIM / XDEL / XSETID / XGROUP / XREADGROUP / XACK / XCLAIM / XAUTOCLAIM sequences,
//! with RENAME, COPY and DEL, on two keys with two groups and two consumers, so that groups,
//! deliveries, history reads and claims of deleted entries meet often. (In the keyspace-wide
//! run they are spread over too many keys and databases to meet.) The stream is replayed
//! into a second store running [`LAG`] ms behind after every step; both keyspaces must be
//! equal (`common::canonical` renders streams and groups, without the times a replica sets
//! from its own clock), and every key a command changed must have been signalled.
//!
//! This file keeps its own small driver rather than sharing `write_stream.rs`'s, so that the
//! type-wide test stays one table other types add to.

mod common;

use std::collections::BTreeSet;

use cachegate_storage::clock::Clock;
use common::{dump_keyspace, replay, Harness};
use proptest::prelude::*;

/// How far behind the original the replaying store's clock runs, in ms.
const LAG: i64 = 5_000;

/// Command patterns; placeholders take random parameter `i`: `{s<i>}` one of two keys,
/// `{g<i>}` a group, `{c<i>}` a consumer, `{sid<i>}` an ID `<0..8>-<0..3>`, `{auto<i>}`
/// `<0..8>-*`, `{small<i>}` 0..5, `{n<i>}` 0..256, `{v}` a short value.
const PATTERNS: &[&str] = &[
    "XADD {s0} {auto1} f {v}",
    "XADD {s0} {auto1} f {v}",
    "XADD {s0} {auto1} g {v} f 1",
    "XADD {s0} * f {v}",
    "XADD {s0} NOMKSTREAM {sid1} f {v}",
    "XADD {s0} MAXLEN ~ {small2} {auto1} f {v}",
    "XADD {s0} MAXLEN ~ {small2} LIMIT {small3} {auto1} f v",
    "XADD {s0} MINID ~ {sid2} {auto1} f {v}",
    "XADD {s0} MAXLEN {small2} * f {v}",
    "XTRIM {s0} MAXLEN ~ {small1}",
    "XTRIM {s0} MINID {sid1}",
    "XTRIM {s0} MINID ~ {sid1} LIMIT {small2}",
    "XDEL {s0} {sid1} {sid2}",
    "XDEL {s0} {sid1}",
    "XSETID {s0} {sid1} ENTRIESADDED {n2}",
    "XGROUP CREATE {s0} {g1} 0 MKSTREAM",
    "XGROUP CREATE {s0} {g1} 0",
    "XGROUP CREATE {s0} {g1} {sid2}",
    "XGROUP CREATE {s0} {g1} $ ENTRIESREAD {small2}",
    "XGROUP SETID {s0} {g1} {sid2}",
    "XGROUP DESTROY {s0} {g1}",
    "XGROUP CREATECONSUMER {s0} {g1} {c2}",
    "XGROUP DELCONSUMER {s0} {g1} {c2}",
    "XREADGROUP GROUP {g1} {c2} COUNT {small3} STREAMS {s0} >",
    "XREADGROUP GROUP {g1} {c2} COUNT 2 STREAMS {s0} >",
    "XREADGROUP GROUP {g1} {c2} NOACK STREAMS {s0} >",
    "XREADGROUP GROUP {g1} {c2} STREAMS {s0} 0",
    "XREADGROUP GROUP {g1} {c2} COUNT {small3} STREAMS {s0} {sid4}",
    "XREADGROUP GROUP {g1} {c2} STREAMS {s0} {s3} > >",
    "XACK {s0} {g1} {sid2} {sid3}",
    "XCLAIM {s0} {g1} {c2} 0 {sid3} {sid4}",
    "XCLAIM {s0} {g1} {c2} 50 {sid3} IDLE {n4} RETRYCOUNT {small5}",
    "XCLAIM {s0} {g1} {c2} 0 {sid3} FORCE JUSTID LASTID {sid4}",
    "XAUTOCLAIM {s0} {g1} {c2} {n3} 0 COUNT {small4}",
    "XAUTOCLAIM {s0} {g1} {c2} 0 {sid3} JUSTID",
    "XAUTOCLAIM {s0} {g1} {c2} 0 - COUNT 3",
    "XREAD COUNT 2 STREAMS {s0} 0",
    "RENAME {s0} {s1}",
    "COPY {s0} {s1}",
    "DEL {s0}",
];

/// A command line from a pattern and random parameters.
fn command(pattern: &str, n: &[u8; 6], v: &[u8]) -> Vec<Vec<u8>> {
    pattern
        .split(' ')
        .map(|w| {
            let Some(name) = w.strip_prefix('{').and_then(|w| w.strip_suffix('}')) else {
                return w.as_bytes().to_vec();
            };
            if name == "v" {
                return v.to_vec();
            }
            let split = name
                .find(|c: char| c.is_ascii_digit())
                .unwrap_or(name.len());
            let x = n[name[split..].parse::<usize>().unwrap_or(0) % 6];
            match &name[..split] {
                "s" => format!("x{}", x % 2),
                "g" => format!("g{}", x % 2),
                "c" => format!("c{}", x % 2),
                "sid" => format!("{}-{}", x % 8, x / 8 % 3),
                "auto" => format!("{}-*", x % 8),
                "small" => (x % 5).to_string(),
                "n" => x.to_string(),
                other => panic!("unknown placeholder {other}"),
            }
            .into_bytes()
        })
        .collect()
}

#[derive(Debug, Clone)]
enum Step {
    Command(usize, [u8; 6], Vec<u8>),
    Advance(u16),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        8 => (0..PATTERNS.len(), any::<[u8; 6]>(), proptest::collection::vec(b'a'..b'e', 0..4))
            .prop_map(|(t, n, v)| Step::Command(t, n, v)),
        1 => (0u16..200).prop_map(Step::Advance),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]
    #[test]
    fn replaying_stream_writes_rebuilds_the_streams(steps in proptest::collection::vec(step(), 1..120)) {
        // Nodes of three entries, so approximate trims remove some.
        let small = cachegate_storage::types::Thresholds {
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
        for s in steps {
            let now = a.clock.now_ms();
            let before = dump_keyspace(&a.store, now);
            match s {
                Step::Command(t, n, v) => {
                    let argv = command(PATTERNS[t], &n, &v);
                    let refs: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
                    a.run_bytes(&refs);
                }
                Step::Advance(ms) => {
                    a.clock.advance(i64::from(ms));
                    b.clock.advance(i64::from(ms));
                }
            }
            let after = dump_keyspace(&a.store, now);
            let signalled: BTreeSet<(usize, Vec<u8>)> =
                a.store.signal_log.replace(Vec::new()).unwrap_or_default().into_iter().collect();
            for k in before.keys().chain(after.keys()) {
                prop_assert!(
                    before.get(k) == after.get(k) || signalled.contains(k),
                    "key {:?} changed without a signal: {:?} -> {:?}",
                    String::from_utf8_lossy(&k.1), before.get(k), after.get(k)
                );
            }
            replay(&mut b, &a.store.writes.take());
            prop_assert_eq!(&dump_keyspace(&b.store, now), &after);
        }
    }
}
