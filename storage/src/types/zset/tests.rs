//! Both encodings against a model (a sorted `Vec`) on random operations, ranks and ranges
//! included.

use super::*;
use proptest::prelude::*;

/// The model: (score, member) pairs in order.
#[derive(Default)]
struct Model(Vec<(f64, Vec<u8>)>);

impl Model {
    fn find(&self, m: &[u8]) -> Option<usize> {
        self.0.iter().position(|(_, x)| x == m)
    }
    fn add(&mut self, m: &[u8], s: f64) {
        if let Some(i) = self.find(m) {
            self.0.remove(i);
        }
        let at = self
            .0
            .partition_point(|(x, xm)| packed::cmp(*x, xm, s, m) == std::cmp::Ordering::Less);
        self.0.insert(at, (s, m.to_vec()));
    }
}

fn small() -> Thresholds {
    Thresholds {
        zset_max_listpack_entries: 1 << 20,
        zset_max_listpack_value: 1 << 20,
        ..Thresholds::default()
    }
}

fn big() -> Thresholds {
    Thresholds {
        zset_max_listpack_entries: 0,
        ..Thresholds::default()
    }
}

fn all(z: &ZSet) -> Vec<(Vec<u8>, u64)> {
    z.view()
        .iter()
        .map(|(m, s)| (m.to_vec(), s.to_bits()))
        .collect()
}

fn model_all(m: &Model) -> Vec<(Vec<u8>, u64)> {
    m.0.iter().map(|(s, x)| (x.clone(), s.to_bits())).collect()
}

#[derive(Debug, Clone)]
enum Op {
    Add(u16, i8),
    Remove(u16),
    RemoveRanks(u16, u16),
    Pop(bool),
    Check(u16, i8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        10 => (0u16..600, any::<i8>()).prop_map(|(m, s)| Op::Add(m, s)),
        3 => (0u16..600).prop_map(Op::Remove),
        1 => (0u16..700, 0u16..40).prop_map(|(a, n)| Op::RemoveRanks(a, n)),
        1 => any::<bool>().prop_map(Op::Pop),
        3 => (0u16..700, any::<i8>()).prop_map(|(r, s)| Op::Check(r, s)),
    ]
}

fn member(i: u16) -> Vec<u8> {
    format!("m{i}").into_bytes()
}

fn score_of(s: i8) -> f64 {
    // Few distinct scores, so ties (ordered by member) are common; some fractions and
    // infinities.
    match s {
        i8::MIN => f64::NEG_INFINITY,
        i8::MAX => f64::INFINITY,
        s if s % 5 == 0 => f64::from(s / 16) + 0.5,
        s => f64::from(s / 16),
    }
}

fn apply(z: &mut ZSet, t: &Thresholds, m: &mut Model, op: &Op) -> Result<(), TestCaseError> {
    match *op {
        Op::Add(i, s) => {
            let (mem, sc) = (member(i), score_of(s));
            if z.view().score(&mem).is_some() {
                z.update(&mem, sc);
            } else {
                z.insert(&mem, sc, t);
            }
        }
        Op::Remove(i) => {
            let mem = member(i);
            let want = m.find(&mem).map(|j| m.0[j].0.to_bits());
            prop_assert_eq!(z.remove(&mem).map(f64::to_bits), want);
        }
        Op::RemoveRanks(a, n) => {
            let (a, e) = (a as usize, a as usize + n as usize);
            let want = e.min(m.0.len()).saturating_sub(a);
            prop_assert_eq!(z.remove_ranks(a, e), want);
        }
        Op::Pop(last) => {
            let want =
                if last { m.0.last() } else { m.0.first() }.map(|(s, x)| (x.clone(), s.to_bits()));
            prop_assert_eq!(z.pop(last).map(|(x, s)| (x, s.to_bits())), want);
        }
        Op::Check(r, s) => {
            let v = z.view();
            let r = r as usize;
            prop_assert_eq!(
                v.get(r).map(|(x, s)| (x.to_vec(), s.to_bits())),
                m.0.get(r).map(|(s, x)| (x.clone(), s.to_bits()))
            );
            let fwd: Vec<_> = v
                .iter_from(r)
                .map(|(x, s)| (x.to_vec(), s.to_bits()))
                .collect();
            let want: Vec<_> = model_all(m).into_iter().skip(r).collect();
            prop_assert_eq!(fwd, want);
            let back: Vec<_> = v
                .iter_rev_from(r)
                .map(|(x, s)| (x.to_vec(), s.to_bits()))
                .collect();
            let mut want: Vec<_> = if r < m.0.len() {
                model_all(m).into_iter().take(r + 1).collect()
            } else {
                Vec::new()
            };
            want.reverse();
            prop_assert_eq!(back, want);
            let bound = score_of(s);
            prop_assert_eq!(
                v.partition(|x, _| x < bound),
                m.0.iter().filter(|(x, _)| *x < bound).count()
            );
            prop_assert_eq!(
                v.partition(|x, _| x <= bound),
                m.0.iter().filter(|(x, _)| *x <= bound).count()
            );
            let mem = member(r as u16);
            prop_assert_eq!(v.rank(&mem), m.find(&mem));
            prop_assert_eq!(
                v.score(&mem).map(f64::to_bits),
                m.find(&mem).map(|j| m.0[j].0.to_bits())
            );
        }
    }
    Ok(())
}

fn model_apply(m: &mut Model, op: &Op) {
    match *op {
        Op::Add(i, s) => m.add(&member(i), score_of(s)),
        Op::Remove(i) => {
            if let Some(j) = m.find(&member(i)) {
                m.0.remove(j);
            }
        }
        Op::RemoveRanks(a, n) => {
            let a = (a as usize).min(m.0.len());
            let e = (a + n as usize).min(m.0.len());
            m.0.drain(a..e);
        }
        Op::Pop(last) => {
            if last {
                m.0.pop();
            } else if !m.0.is_empty() {
                m.0.remove(0);
            }
        }
        Op::Check(..) => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The packed and tree encodings agree with the model, and so with each other.
    #[test]
    fn encodings_agree(ops in proptest::collection::vec(op(), 0..1500)) {
        let (ts, tb) = (small(), big());
        let mut a = ZSet::new();
        let mut b = ZSet::new();
        b.convert();
        let mut model = Model::default();
        for op in &ops {
            apply(&mut a, &ts, &mut model, op)?;
            apply(&mut b, &tb, &mut model, op)?;
            model_apply(&mut model, op);
        }
        prop_assert_eq!(a.encoding(), "listpack");
        prop_assert_eq!(b.encoding(), "skiplist");
        prop_assert_eq!(all(&a), model_all(&model));
        prop_assert_eq!(all(&b), model_all(&model));
        if let ZSet::Tree(z) = &b {
            z.check();
        }
        let c = b.clone();
        prop_assert_eq!(all(&c), model_all(&model));
    }
}

#[test]
fn big_tree_stays_consistent() {
    // Enough members for three levels, inserted in an order that splits at both ends and
    // in the middle, then deleted down to nothing.
    let mut z = ZTree::new();
    let n = 20_000u32;
    for i in 0..n {
        let k = (i * 7919) % n;
        z.insert(format!("{k:08}").as_bytes(), f64::from(k % 97));
    }
    for i in 0..n {
        z.insert(format!("asc{i:08}").as_bytes(), f64::from(i) + 1000.0);
    }
    for i in 0..n {
        z.insert(format!("desc{i:08}").as_bytes(), -f64::from(i));
    }
    z.check();
    assert_eq!(z.len(), 3 * n as usize);
    for (r, (m, _)) in z.iter_from(0).enumerate().step_by(97) {
        assert_eq!(z.rank(m), Some(r));
    }
    for i in 0..n {
        assert!(z.remove(format!("{i:08}").as_bytes()).is_some());
        if i % 5000 == 0 {
            z.check();
        }
    }
    z.check();
    assert_eq!(z.remove_ranks(100, 30_000), 29_900);
    z.check();
    while !z.is_empty() {
        let m = z
            .get(z.len() / 2)
            .map(|(m, _)| m.to_vec())
            .unwrap_or_default();
        z.remove(&m);
    }
    z.check();
    assert_eq!(z.heap_bytes(), z.index_bytes_for_tests());
}

#[test]
fn converts_at_the_thresholds() {
    let t = Thresholds {
        zset_max_listpack_entries: 3,
        zset_max_listpack_value: 4,
        ..Thresholds::default()
    };
    let mut z = ZSet::new();
    for (i, m) in ["a", "b", "c"].iter().enumerate() {
        z.insert(m.as_bytes(), i as f64, &t);
    }
    assert_eq!(z.encoding(), "listpack");
    z.insert(b"d", 0.5, &t);
    assert_eq!(z.encoding(), "skiplist");
    assert_eq!(all(&z)[1].0, b"d");
    let mut z = ZSet::new();
    z.insert(b"abcd", 1.0, &t);
    assert_eq!(z.encoding(), "listpack");
    z.insert(b"abcde", 1.0, &t);
    assert_eq!(z.encoding(), "skiplist");
    let items = [(b"x".to_vec(), 1.0), (b"y".to_vec(), 2.0)];
    assert_eq!(ZSet::build(&items, &t).encoding(), "listpack");
    let items = [(b"xxxxx".to_vec(), 1.0)];
    assert_eq!(ZSet::build(&items, &t).encoding(), "skiplist");
}
