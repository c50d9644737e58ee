//! Random command sequences against the store and a plain model of Redis strings with TTLs:
//! values, lengths, TTLs and key counts must agree after every step. This exercises the
//! single-allocation entries' in-place paths (APPEND into spare room, SETRANGE, INCR of the
//! same length, TTLs added and removed) and index growth, shrinking and incremental resizes.

mod common;

use std::collections::HashMap;

use cachegate_protocols::resp::Frame;
use common::*;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Set(u8, Vec<u8>),
    SetPx(u8, Vec<u8>, u16),
    Append(u8, Vec<u8>),
    SetRange(u8, u8, Vec<u8>),
    Incr(u8),
    Del(u8),
    Expire(u8, u16),
    Persist(u8),
    Advance(u16),
    Rename(u8, u8),
}

fn op() -> impl Strategy<Value = Op> {
    let key = 0u8..24;
    let val = proptest::collection::vec(any::<u8>(), 0..40);
    prop_oneof![
        (key.clone(), val.clone()).prop_map(|(k, v)| Op::Set(k, v)),
        (key.clone(), val.clone(), 1u16..500).prop_map(|(k, v, t)| Op::SetPx(k, v, t)),
        (key.clone(), val.clone()).prop_map(|(k, v)| Op::Append(k, v)),
        (key.clone(), 0u8..60, val.clone()).prop_map(|(k, o, v)| Op::SetRange(k, o, v)),
        key.clone().prop_map(Op::Incr),
        key.clone().prop_map(Op::Del),
        (key.clone(), 1u16..500).prop_map(|(k, t)| Op::Expire(k, t)),
        key.clone().prop_map(Op::Persist),
        (0u16..300).prop_map(Op::Advance),
        (key.clone(), key).prop_map(|(a, b)| Op::Rename(a, b)),
    ]
}

/// The model: key → (value, absolute expiry ms).
#[derive(Default)]
struct Model {
    keys: HashMap<Vec<u8>, (Vec<u8>, Option<i64>)>,
}

impl Model {
    fn live(&mut self, now: i64, k: &[u8]) -> Option<&mut (Vec<u8>, Option<i64>)> {
        if matches!(self.keys.get(k), Some((_, Some(at))) if now > *at) {
            self.keys.remove(k);
        }
        self.keys.get_mut(k)
    }
}

fn name(k: u8) -> Vec<u8> {
    format!("key:{k}").into_bytes()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
    #[test]
    fn store_agrees_with_model(ops in proptest::collection::vec(op(), 1..200)) {
        let mut h = Harness::new();
        let mut m = Model::default();
        for op in ops {
            let now = cachegate_storage::clock::Clock::now_ms(&h.clock);
            match op {
                Op::Set(k, v) => {
                    h.run_bytes(&[b"SET", &name(k), &v]);
                    m.keys.insert(name(k), (v, None));
                }
                Op::SetPx(k, v, t) => {
                    h.run_bytes(&[b"SET", &name(k), &v, b"PX", t.to_string().as_bytes()]);
                    m.keys.insert(name(k), (v, Some(now + i64::from(t))));
                }
                Op::Append(k, v) => {
                    let got = h.run_bytes(&[b"APPEND", &name(k), &v]);
                    let e = m.live(now, &name(k));
                    let len = match e {
                        Some((old, _)) => { old.extend_from_slice(&v); old.len() }
                        None => { let l = v.len(); m.keys.insert(name(k), (v, None)); l }
                    };
                    prop_assert_eq!(got, Frame::Integer(len as i64));
                }
                Op::SetRange(k, off, v) => {
                    let got = h.run_bytes(&[b"SETRANGE", &name(k), off.to_string().as_bytes(), &v]);
                    let off = usize::from(off);
                    let len = match m.live(now, &name(k)) {
                        Some((old, _)) => {
                            if !v.is_empty() {
                                if old.len() < off + v.len() { old.resize(off + v.len(), 0); }
                                old[off..off + v.len()].copy_from_slice(&v);
                            }
                            old.len()
                        }
                        None if v.is_empty() => 0,
                        None => {
                            let mut nv = vec![0u8; off];
                            nv.extend_from_slice(&v);
                            let l = nv.len();
                            m.keys.insert(name(k), (nv, None));
                            l
                        }
                    };
                    prop_assert_eq!(got, Frame::Integer(len as i64));
                }
                Op::Incr(k) => {
                    let got = h.run_bytes(&[b"INCR", &name(k)]);
                    let cur = m.live(now, &name(k)).map(|(v, _)| v.clone());
                    let parsed = match &cur {
                        None => Some(0i64),
                        Some(v) => cachegate_protocols::number::parse_i64(v),
                    };
                    match parsed.and_then(|n| n.checked_add(1)) {
                        Some(n) => {
                            prop_assert_eq!(got, Frame::Integer(n));
                            let ttl = m.live(now, &name(k)).and_then(|e| e.1);
                            m.keys.insert(name(k), (n.to_string().into_bytes(), ttl));
                        }
                        None => prop_assert!(got.is_error()),
                    }
                }
                Op::Del(k) => {
                    let got = h.run_bytes(&[b"DEL", &name(k)]);
                    let existed = m.live(now, &name(k)).is_some();
                    m.keys.remove(&name(k));
                    prop_assert_eq!(got, Frame::Integer(i64::from(existed)));
                }
                Op::Expire(k, t) => {
                    let got = h.run_bytes(&[b"PEXPIRE", &name(k), t.to_string().as_bytes()]);
                    let hit = match m.live(now, &name(k)) {
                        Some(e) => { e.1 = Some(now + i64::from(t)); true }
                        None => false,
                    };
                    prop_assert_eq!(got, Frame::Integer(i64::from(hit)));
                }
                Op::Persist(k) => {
                    let got = h.run_bytes(&[b"PERSIST", &name(k)]);
                    let had = match m.live(now, &name(k)) {
                        Some(e) => e.1.take().is_some(),
                        None => false,
                    };
                    prop_assert_eq!(got, Frame::Integer(i64::from(had)));
                }
                Op::Advance(ms) => h.clock.advance(i64::from(ms)),
                Op::Rename(a, b) => {
                    let got = h.run_bytes(&[b"RENAME", &name(a), &name(b)]);
                    match m.live(now, &name(a)).cloned() {
                        Some(e) => {
                            prop_assert_eq!(got, Frame::simple("OK"));
                            m.keys.remove(&name(a));
                            m.keys.insert(name(b), e);
                        }
                        None => prop_assert!(got.is_error()),
                    }
                }
            }
            // Every key agrees on value and TTL.
            let now = cachegate_storage::clock::Clock::now_ms(&h.clock);
            for k in 0u8..24 {
                let want = m.live(now, &name(k)).cloned();
                let got = h.run_bytes(&[b"GET", &name(k)]);
                match &want {
                    Some((v, _)) => prop_assert_eq!(&got, &Frame::bulk(v)),
                    None => prop_assert_eq!(&got, &Frame::NullBulk),
                }
                let pttl = h.run_bytes(&[b"PTTL", &name(k)]);
                let want_ttl = match want {
                    None => -2,
                    Some((_, None)) => -1,
                    Some((_, Some(at))) => (at - now).max(0),
                };
                prop_assert_eq!(pttl, Frame::Integer(want_ttl));
            }
        }
    }
}
