//! Lists against a `VecDeque` model on random operations, with node rules small enough that
//! nodes split and merge all along.

use std::collections::VecDeque;

use proptest::prelude::*;

use super::*;

fn thresholds(size: i64) -> Thresholds {
    Thresholds {
        list_max_listpack_size: size,
        ..Thresholds::default()
    }
}

fn contents(l: &List) -> Vec<Vec<u8>> {
    l.view().iter().map(|e| e.to_vec()).collect()
}

#[derive(Debug, Clone)]
enum Op {
    Push(End, Vec<u8>),
    Pop(End, usize),
    Insert(usize, Vec<u8>),
    Set(usize, Vec<u8>),
    Remove(i64, usize),
    Trim(usize, usize),
}

fn elem() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => (0u16..300).prop_map(|i| format!("value:{i:06}").into_bytes()),
        2 => proptest::collection::vec(b'a'..b'd', 0..4),
        1 => proptest::collection::vec(any::<u8>(), 0..700),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let end = prop_oneof![Just(End::Front), Just(End::Back)];
    prop_oneof![
        8 => (end.clone(), elem()).prop_map(|(e, v)| Op::Push(e, v)),
        2 => (end, 0usize..5).prop_map(|(e, n)| Op::Pop(e, n)),
        3 => (any::<usize>(), elem()).prop_map(|(i, v)| Op::Insert(i, v)),
        2 => (any::<usize>(), elem()).prop_map(|(i, v)| Op::Set(i, v)),
        1 => (-3i64..4, any::<usize>()).prop_map(|(c, i)| Op::Remove(c, i)),
        1 => (0usize..4, 0usize..4).prop_map(|(a, b)| Op::Trim(a, b)),
    ]
}

fn apply(l: &mut List, m: &mut VecDeque<Vec<u8>>, op: &Op, t: &Thresholds) {
    match op {
        Op::Push(End::Front, v) => {
            l.push(End::Front, v, t);
            m.push_front(v.clone());
        }
        Op::Push(End::Back, v) => {
            l.push(End::Back, v, t);
            m.push_back(v.clone());
        }
        Op::Pop(end, n) => {
            let n = (*n).min(m.len());
            let want: Vec<Vec<u8>> = match end {
                End::Front => m.drain(..n).collect(),
                End::Back => m.drain(m.len() - n..).rev().collect(),
            };
            let got: Vec<Vec<u8>> = match end {
                End::Front => l.view().iter().take(n).map(|e| e.to_vec()).collect(),
                End::Back => l.view().iter_rev().take(n).map(|e| e.to_vec()).collect(),
            };
            assert_eq!(got, want);
            l.remove(*end, n);
        }
        Op::Insert(i, v) => {
            let i = i % (m.len() + 1);
            l.insert(i, v, t);
            m.insert(i, v.clone());
        }
        Op::Set(i, v) if !m.is_empty() => {
            let i = i % m.len();
            l.set(i, v, t);
            m[i] = v.clone();
        }
        Op::Set(..) => {}
        Op::Remove(count, i) => {
            let Some(want) = m.get(i % m.len().max(1)).cloned() else {
                return;
            };
            let limit = count.unsigned_abs() as usize;
            let mut hits: Vec<usize> = (0..m.len()).filter(|&k| m[k] == want).collect();
            if *count < 0 {
                hits.reverse();
            }
            if limit != 0 {
                hits.truncate(limit);
            }
            hits.sort_unstable();
            for k in hits.iter().rev() {
                m.remove(*k);
            }
            assert_eq!(l.remove_matching(&want, *count, t), hits.len());
        }
        Op::Trim(a, b) => {
            let a = (*a).min(m.len());
            let b = (*b).min(m.len() - a);
            l.remove(End::Front, a);
            l.remove(End::Back, b);
            m.drain(..a);
            m.truncate(m.len() - b);
        }
    }
}

fn check(l: &List, m: &VecDeque<Vec<u8>>, t: &Thresholds) -> Result<(), TestCaseError> {
    let model: Vec<Vec<u8>> = m.iter().cloned().collect();
    prop_assert_eq!(l.len(), m.len());
    prop_assert_eq!(&contents(l), &model);
    let mut rev: Vec<Vec<u8>> = l.view().iter_rev().map(|e| e.to_vec()).collect();
    rev.reverse();
    prop_assert_eq!(&rev, &model);
    // Random access and iteration from any index, both ways.
    let v = l.view();
    for i in [0, m.len() / 3, m.len() / 2, m.len().saturating_sub(1)] {
        prop_assert_eq!(v.get(i).map(|e| e.to_vec()), m.get(i).cloned());
        let fwd: Vec<Vec<u8>> = v.iter_from(i).take(3).map(|e| e.to_vec()).collect();
        let want: Vec<Vec<u8>> = m.iter().skip(i).take(3).cloned().collect();
        prop_assert_eq!(fwd, want);
        let back: Vec<Vec<u8>> = v.iter_rev_from(i).take(3).map(|e| e.to_vec()).collect();
        let want: Vec<Vec<u8>> = m.iter().take(i + 1).rev().take(3).cloned().collect();
        prop_assert_eq!(back, want);
    }
    prop_assert!(v.get(m.len()).is_none());
    let fill = Fill::new(t.list_max_listpack_size);
    match l {
        List::Packed(n) => prop_assert!(n.size() <= INLINE_MAX && fill.fits(n.size(), n.len())),
        List::Quick(q) => {
            if let Err(e) = q.check(fill) {
                return Err(TestCaseError::fail(e));
            }
        }
    }
    prop_assert_eq!(Collection::heap_bytes(l) >= l.view().len(), true);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Every operation agrees with the model, and node bookkeeping holds, under node rules
    /// from one element per node to 64 KiB nodes.
    #[test]
    fn behaves_like_a_deque(size in prop_oneof![Just(-1i64), Just(-2), Just(-5), Just(-9), Just(0), Just(1), Just(3), Just(40)],
                            ops in proptest::collection::vec(op(), 0..250)) {
        let t = thresholds(size);
        let mut l = List::new();
        let mut m = VecDeque::new();
        for op in &ops {
            apply(&mut l, &mut m, op, &t);
            check(&l, &m, &t)?;
            // What the keyspace does between commands: inline again when small.
            if let Some((_, bytes)) = l.as_inline() {
                l = List::from_inline(kind::LIST_PACKED, bytes);
                check(&l, &m, &t)?;
            }
        }
    }
}

#[test]
fn grows_from_inline_to_nodes_and_back() {
    let t = Thresholds::default();
    let mut l = List::new();
    for i in 0..100 {
        l.push(End::Back, format!("value:{i:06}").as_bytes(), &t);
    }
    assert!(
        matches!(l, List::Packed(_)),
        "100 short elements stay inline"
    );
    for i in 100..20_000 {
        l.push(End::Back, format!("value:{i:06}").as_bytes(), &t);
    }
    let List::Quick(q) = &l else {
        panic!("a big list is nodes");
    };
    assert!(q.node_count() > 1);
    q.check(Fill::new(-2)).unwrap();
    // Five bytes an element, about: a third of a Redis listpack's.
    assert!(
        Collection::heap_bytes(&l) < 20_000 * 6,
        "{}",
        Collection::heap_bytes(&l)
    );
    assert!(l.as_inline().is_none());
    l.remove(End::Front, 19_990);
    assert!(l.as_inline().is_some(), "ten elements go inline again");
    assert_eq!(l.view().get(0).unwrap().to_vec(), b"value:019990");
    assert_eq!(l.encoding(), "quicklist");
}

#[test]
fn a_huge_element_gets_its_own_node() {
    let t = Thresholds::default();
    let mut l = List::new();
    l.push(End::Back, b"a", &t);
    l.push(End::Back, &vec![b'x'; 100_000], &t);
    l.push(End::Back, b"b", &t);
    let List::Quick(q) = &l else {
        panic!("too big to be inline");
    };
    assert_eq!(q.node_count(), 3);
    assert!(l.as_inline().is_none());
    l.set(1, b"small", &t);
    assert_eq!(
        contents(&l),
        vec![b"a".to_vec(), b"small".to_vec(), b"b".to_vec()]
    );
}
