//! The set encodings against a `BTreeSet` model, and the conversions between them.

use super::*;
use proptest::prelude::*;
use std::collections::BTreeSet;

fn thresholds(max_intset: usize) -> Thresholds {
    Thresholds {
        set_max_intset_entries: max_intset,
        ..Thresholds::default()
    }
}

fn members(s: &Set) -> BTreeSet<Vec<u8>> {
    s.view().iter().map(Member::to_vec).collect()
}

fn add_all(s: &mut Set, ms: &[&[u8]], t: &Thresholds) {
    for m in ms {
        s.add(m, t);
    }
}

#[test]
fn intset_until_a_string_or_too_many() {
    let t = thresholds(4);
    let mut s = Set::new();
    add_all(&mut s, &[b"1", b"-5", b"32768", b"2147483648"], &t);
    assert_eq!(s.encoding(), "intset");
    assert!(!s.add(b"1", &t));
    assert_eq!(s.encoding(), "intset");
    assert!(s.add(b"7", &t));
    assert!(matches!(s, Set::Packed(_)), "five small members: packed");
    assert_eq!(s.encoding(), "hashtable");
    // Never back, even when it shrinks to integers again.
    assert!(s.remove(b"7") && s.remove(b"1"));
    assert_eq!(s.encoding(), "hashtable");
    assert!(s.view().contains(b"-5") && s.view().contains_member(Member::Int(32768)));

    // Non-canonical integers are strings.
    for m in [
        &b"01"[..],
        b"+1",
        b"-0",
        b" 1",
        b"1 ",
        b"9223372036854775808",
        b"",
    ] {
        let mut s = Set::new();
        s.add(b"1", &t);
        assert!(s.add(m, &t));
        assert_eq!(
            s.encoding(),
            "hashtable",
            "{:?}",
            String::from_utf8_lossy(m)
        );
        assert!(s.view().contains(m) && s.view().contains(b"1"));
    }
    let mut s = Set::new();
    s.add(b"-9223372036854775808", &t);
    assert_eq!(s.encoding(), "intset");
    assert!(s.view().contains(b"-9223372036854775808"));

    // set-max-intset-entries 0: even one integer is too many.
    let mut s = Set::new();
    s.add(b"1", &thresholds(0));
    assert_eq!(s.encoding(), "hashtable");
}

#[test]
fn packed_until_its_limits() {
    let t = thresholds(512);
    let mut s = Set::new();
    for i in 0..PACKED_MAX_ENTRIES {
        s.add(format!("m{i}").as_bytes(), &t);
    }
    assert!(matches!(s, Set::Packed(_)));
    s.add(b"one more", &t);
    assert!(matches!(s, Set::Table(_)));
    assert_eq!(s.len(), PACKED_MAX_ENTRIES + 1);

    let mut s = Set::new();
    s.add(b"short", &t);
    s.add(&[b'x'; PACKED_MAX_MEMBER], &t);
    assert!(matches!(s, Set::Packed(_)));
    s.add(&[b'x'; PACKED_MAX_MEMBER + 1], &t);
    assert!(matches!(s, Set::Table(_)));

    // An intset meeting a long member goes straight to the table.
    let mut s = Set::new();
    s.add(b"1", &t);
    s.add(&[b'y'; 100], &t);
    assert!(matches!(s, Set::Table(_)));
    // And a big intset overflowing goes to the table too.
    let mut s = Set::new();
    for i in 0..=512 {
        s.add(i.to_string().as_bytes(), &t);
    }
    assert!(matches!(s, Set::Table(_)));
    assert_eq!(s.len(), 513);
}

#[test]
fn inline_forms_round_trip() {
    let t = thresholds(100_000);
    let mut s = Set::new();
    add_all(&mut s, &[b"3", b"1", b"2"], &t);
    let (k, bytes) = s.as_inline().expect("a small intset is inline");
    assert_eq!(k, kind::SET_INTSET);
    assert_eq!(inline_len(k, bytes), 3);
    let back = Set::from_inline(k, bytes);
    assert_eq!(members(&back), members(&s));
    let order: Vec<Member<'_>> = Set::inline_ref(k, bytes).iter().collect();
    assert_eq!(order, vec![Member::Int(1), Member::Int(2), Member::Int(3)]);

    s.add(b"x", &t);
    let (k, bytes) = s.as_inline().expect("a packed set is inline");
    assert_eq!(k, kind::SET_PACKED);
    assert_eq!(members(&Set::from_inline(k, bytes)), members(&s));

    // A huge intset (a raised set-max-intset-entries) is boxed.
    let mut big = Set::new();
    for i in 0..5000 {
        big.add_member(Member::Int(i * 1_000_000_000), &t);
    }
    assert_eq!(big.encoding(), "intset");
    assert!(big.as_inline().is_none());
}

#[test]
fn pops_take_every_member_once() {
    let t = thresholds(512);
    for ms in [
        ["1", "2", "3", "40000"].map(String::from).to_vec(),
        ["a", "b", "1"].map(String::from).to_vec(),
        (0..300).map(|i| format!("member{i}")).collect(),
    ] {
        let mut s = Set::new();
        for m in &ms {
            s.add(m.as_bytes(), &t);
        }
        let want: BTreeSet<Vec<u8>> = ms.iter().map(|m| m.as_bytes().to_vec()).collect();
        let mut got = BTreeSet::new();
        let mut r = 0x1234_5678_9abc_def0u64;
        while s.pop_random(r, |m| {
            got.insert(m.to_vec());
        }) {
            r = r.rotate_left(7) ^ 0x9e37_79b9;
        }
        assert_eq!(got, want);
        assert!(s.is_empty());
    }
}

/// A member from one of a few spaces, so each encoding gets exercised.
fn member() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => (-20i64..20).prop_map(|v| v.to_string().into_bytes()),
        1 => prop_oneof![Just(i64::MIN), Just(i64::MAX), Just(32767), Just(32768), Just(-32769),
                         Just(2147483648), Just(-2147483649)].prop_map(|v| v.to_string().into_bytes()),
        1 => prop_oneof![Just(b"01".to_vec()), Just(b"+1".to_vec()), Just(b"-0".to_vec()), Just(Vec::new())],
        3 => (0u8..40).prop_map(|i| format!("s{i}").into_bytes()),
        1 => (0u8..10).prop_map(|i| vec![b'a' + i; 70]),
    ]
}

#[derive(Debug, Clone)]
enum Op {
    Add(Vec<u8>),
    Remove(Vec<u8>),
    Pop(u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => member().prop_map(Op::Add),
        2 => member().prop_map(Op::Remove),
        1 => any::<u64>().prop_map(Op::Pop),
    ]
}

proptest! {
    /// Every encoding answers like a `BTreeSet`, and the encoding follows redis-server's
    /// rule: an intset until a non-integer arrives or the count passes the threshold.
    #[test]
    fn encodings_agree_with_a_model(
        ops in proptest::collection::vec(op(), 0..400),
        max in prop_oneof![Just(0usize), Just(3), Just(16), Just(512)],
        ints_only in any::<bool>(),
    ) {
        let t = thresholds(max);
        let mut s = Set::new();
        let mut model: BTreeSet<Vec<u8>> = BTreeSet::new();
        let mut left_intset = false;
        for op in ops {
            match op {
                Op::Add(m) => {
                    if ints_only && parse_i64(&m).is_none() {
                        continue;
                    }
                    let new = model.insert(m.clone());
                    prop_assert_eq!(s.add(&m, &t), new);
                    if parse_i64(&m).is_none() || model.len() > max {
                        left_intset |= new;
                    }
                    prop_assert!(s.view().contains(&m));
                }
                Op::Remove(m) => {
                    prop_assert_eq!(s.remove(&m), model.remove(&m));
                    prop_assert!(!s.view().contains(&m));
                }
                Op::Pop(r) => {
                    let mut popped = None;
                    let any = s.pop_random(r, |m| popped = Some(m.to_vec()));
                    prop_assert_eq!(any, !model.is_empty());
                    if let Some(p) = popped {
                        prop_assert!(model.remove(&p));
                    }
                }
            }
            prop_assert_eq!(s.len(), model.len());
            prop_assert_eq!(s.encoding(), if left_intset { "hashtable" } else { "intset" });
            if let Set::Packed(p) = &s {
                prop_assert!(p.len() <= PACKED_MAX_ENTRIES);
                prop_assert!(p.view().iter().all(|m| m.len() <= PACKED_MAX_MEMBER));
            }
        }
        prop_assert_eq!(&members(&s), &model);
        if let Set::Ints(_) = &s {
            // Ascending, as redis-server's intset iterates.
            let order: Vec<i64> = s.view().iter().filter_map(Member::as_int).collect();
            let mut sorted = order.clone();
            sorted.sort_unstable();
            prop_assert_eq!(order, sorted);
        }
        for m in &model {
            prop_assert!(s.view().contains(m));
        }
        // The inline form, where there is one, reads back the same set.
        if let Some((k, bytes)) = s.as_inline() {
            prop_assert_eq!(inline_len(k, bytes), model.len());
            prop_assert_eq!(&members(&Set::from_inline(k, bytes)), &model);
        }
        // SSCAN visits every member.
        let mut seen = BTreeSet::new();
        let mut cursor = 0;
        loop {
            cursor = s.view().scan(cursor, |m| { seen.insert(m.to_vec()); });
            if cursor == 0 { break; }
        }
        prop_assert_eq!(&seen, &model);
        let c = s.clone();
        prop_assert_eq!(members(&c), model);
    }
}
