//! Property tests of the stream log against a plain ordered map, under node limits small
//! enough that entries spread over many nodes, and unit tests of its Redis rules.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::log::{Log, Trim};
use super::node::Limits;
use super::{Collection, Stream, StreamId};

type Model = BTreeMap<StreamId, Vec<(Vec<u8>, Vec<u8>)>>;
type Entries = Vec<(StreamId, Vec<(Vec<u8>, Vec<u8>)>)>;

fn fields_of(e: &super::node::EntryRef<'_>) -> Vec<(Vec<u8>, Vec<u8>)> {
    e.fields().map(|(f, v)| (f.to_vec(), v.to_vec())).collect()
}

fn add(
    log: &mut Log,
    model: &mut Model,
    id: StreamId,
    pairs: &[(Vec<u8>, Vec<u8>)],
    limits: Limits,
) {
    let it = pairs.iter().map(|(f, v)| (f.as_slice(), v.as_slice()));
    assert!(log.append(id, it, limits).is_ok());
    model.insert(id, pairs.to_vec());
}

#[derive(Debug, Clone)]
enum Op {
    Add {
        ms_step: u8,
        seq_step: u8,
        shape: u8,
        value: u8,
    },
    Del(u8),
    MaxLen(u8, bool),
    MinId(u8, bool),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0u8..4, 0u8..4, 0u8..4, 0u8..40).prop_map(|(ms_step, seq_step, shape, value)| Op::Add { ms_step, seq_step, shape, value }),
        2 => any::<u8>().prop_map(Op::Del),
        1 => (any::<u8>(), any::<bool>()).prop_map(|(n, a)| Op::MaxLen(n, a)),
        1 => (any::<u8>(), any::<bool>()).prop_map(|(n, a)| Op::MinId(n, a)),
    ]
}

fn pairs_for(shape: u8, value: u8) -> Vec<(Vec<u8>, Vec<u8>)> {
    let v = vec![b'a' + value % 26; value as usize];
    match shape {
        0 => vec![(b"f".to_vec(), v)],
        1 => vec![(b"f".to_vec(), v), (b"g".to_vec(), b"1".to_vec())],
        2 => vec![(b"g".to_vec(), v)],
        _ => vec![(b"".to_vec(), v.clone()), (b"f".to_vec(), v)],
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]
    /// Appends, deletes and exact trims agree with the model; approximate trims remove a
    /// prefix and never too much; ranges in both directions, lookups and counters agree.
    #[test]
    fn log_agrees_with_a_map(ops in proptest::collection::vec(op(), 1..150), max_entries in 0usize..6, max_bytes in prop_oneof![Just(0usize), 20usize..200]) {
        let limits = Limits { max_bytes, max_entries };
        let mut log = Log::default();
        let mut model = Model::new();
        let mut next = StreamId::new(1, 0);
        for op in ops {
            match op {
                Op::Add { ms_step, seq_step, shape, value } => {
                    next = match ms_step {
                        0 => StreamId::new(next.ms, next.seq + 1 + u64::from(seq_step) * 300),
                        1 => StreamId::new(next.ms + 1, u64::from(seq_step)),
                        2 => StreamId::new(next.ms + 1000 * u64::from(seq_step) + 200, 0),
                        _ => StreamId::new(next.ms + (1 << 40), u64::from(seq_step)),
                    };
                    add(&mut log, &mut model, next, &pairs_for(shape, value), limits);
                }
                Op::Del(i) => {
                    let ids: Vec<StreamId> = model.keys().copied().collect();
                    let id = if ids.is_empty() { StreamId::new(5, 5) } else { ids[i as usize % ids.len()] };
                    let was = model.remove(&id).is_some();
                    prop_assert_eq!(log.delete(&[id, id]), u64::from(was));
                    if was {
                        prop_assert!(log.max_deleted() >= id);
                    }
                }
                Op::MaxLen(n, approx) => {
                    let max = u64::from(n % 40);
                    let before = model.len() as u64;
                    let removed = log.trim(Trim::MaxLen(max), approx, 0);
                    for _ in 0..removed {
                        let first = *model.keys().next().unwrap_or(&StreamId::MIN);
                        model.remove(&first);
                    }
                    if approx {
                        prop_assert!(model.len() as u64 >= max.min(before));
                    } else {
                        prop_assert_eq!(model.len() as u64, max.min(before));
                    }
                }
                Op::MinId(n, approx) => {
                    let ids: Vec<StreamId> = model.keys().copied().collect();
                    let min = if ids.is_empty() { StreamId::new(3, 0) } else { ids[n as usize % ids.len()] };
                    let removed = log.trim(Trim::MinId(min), approx, 0);
                    let below = model.range(..min).count() as u64;
                    if approx {
                        prop_assert!(removed <= below);
                    } else {
                        prop_assert_eq!(removed, below);
                    }
                    for _ in 0..removed {
                        let first = *model.keys().next().unwrap_or(&StreamId::MIN);
                        model.remove(&first);
                    }
                }
            }
            prop_assert_eq!(log.len(), model.len() as u64);
            // A copy holds the same entries and counts its own (smaller) buffers.
            let copy = log.clone();
            prop_assert!(copy.heap_bytes() <= log.heap_bytes());
            prop_assert_eq!(copy.range(StreamId::MIN, StreamId::MAX).count() as u64, copy.len());
            let fwd: Entries = log.range(StreamId::MIN, StreamId::MAX).map(|e| (e.id, fields_of(&e))).collect();
            let want: Entries = model.iter().map(|(k, v)| (*k, v.clone())).collect();
            prop_assert_eq!(&fwd, &want);
            let mut rev: Vec<StreamId> = log.range_rev(StreamId::MIN, StreamId::MAX).map(|e| e.id).collect();
            rev.reverse();
            prop_assert_eq!(rev, model.keys().copied().collect::<Vec<_>>());
            if let (Some(a), Some(b)) = (model.keys().nth(1), model.keys().nth_back(1)) {
                if a <= b {
                    let got: Vec<StreamId> = log.range(*a, *b).map(|e| e.id).collect();
                    prop_assert_eq!(got, model.range(*a..=*b).map(|(k, _)| *k).collect::<Vec<_>>());
                    let got: Vec<StreamId> = log.range_rev(*a, *b).map(|e| e.id).collect();
                    prop_assert_eq!(got, model.range(*a..=*b).rev().map(|(k, _)| *k).collect::<Vec<_>>());
                }
            }
            for id in model.keys() {
                prop_assert!(log.contains(*id));
            }
            prop_assert_eq!(log.first_live(), model.keys().next().copied());
            prop_assert_eq!(log.last_live(), model.keys().next_back().copied());
            if model.is_empty() {
                prop_assert_eq!(log.first_id(), StreamId::MIN);
            } else {
                prop_assert!(log.first_id() <= *model.keys().next().unwrap_or(&StreamId::MAX));
            }
        }
    }
}

#[test]
fn node_boundaries_follow_the_entry_limit() {
    let limits = Limits {
        max_bytes: 4096,
        max_entries: 3,
    };
    let mut log = Log::default();
    let mut model = Model::new();
    for i in 1..=10 {
        add(
            &mut log,
            &mut model,
            StreamId::new(i, 0),
            &[(b"f".to_vec(), b"v".to_vec())],
            limits,
        );
    }
    // Redis: nodes of 3, 3, 3, 1.
    assert_eq!(log.node_count(), 4);
    // MAXLEN ~ 5 removes whole nodes only: 10 -> 7 -> 4 would pass 5, so one node goes.
    assert_eq!(log.trim(Trim::MaxLen(5), true, 0), 3);
    assert_eq!(log.len(), 7);
    // An exact trim flags entries inside the head node.
    assert_eq!(log.trim(Trim::MaxLen(5), false, 0), 2);
    assert_eq!(log.node_count(), 3);
    assert_eq!(log.first_id(), StreamId::new(6, 0));
    // LIMIT stops before a node that would pass it.
    assert_eq!(log.trim(Trim::MaxLen(0), true, 2), 1);
}

#[test]
fn node_boundaries_follow_the_byte_limit() {
    // A fresh node of `f 0123456789` is 38 listpack bytes and each further entry 20: three
    // fit under 80 with the 11-byte payload of the next.
    let limits = Limits {
        max_bytes: 80,
        max_entries: 0,
    };
    let mut log = Log::default();
    let mut model = Model::new();
    for i in 1..=6 {
        add(
            &mut log,
            &mut model,
            StreamId::new(i, 0),
            &[(b"f".to_vec(), b"0123456789".to_vec())],
            limits,
        );
    }
    assert_eq!(log.node_count(), 2);
}

#[test]
fn rax_node_counts() {
    let limits = Limits {
        max_bytes: 0,
        max_entries: 1,
    };
    let mut log = Log::default();
    assert_eq!(log.rax_nodes(), 1);
    let mut model = Model::new();
    let one = [(b"f".to_vec(), b"v".to_vec())];
    add(&mut log, &mut model, StreamId::new(1, 0), &one, limits);
    assert_eq!(log.rax_nodes(), 2);
    add(&mut log, &mut model, StreamId::new(1, 1), &one, limits);
    // A shared 15-byte chain, a branch, two keys.
    assert_eq!(log.rax_nodes(), 4);
    add(&mut log, &mut model, StreamId::new(2, 0), &one, limits);
    // Chain of 7, branch (byte 7: 1 or 2), under 1: chain of 7, branch, two keys;
    // under 2: chain of 8, key.
    assert_eq!(log.rax_nodes(), 1 + 1 + (1 + 1 + 2) + 2);
}

#[test]
fn empty_streams_stay() {
    let s = Stream::new();
    assert!(!s.is_empty());
    assert_eq!(s.len(), 0);
    assert_eq!(s.encoding(), "stream");
}
