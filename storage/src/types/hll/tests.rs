//! Tests of the HLL encodings: known answers from redis-server 7.0.15, sparse against dense
//! and against a register model, and every reader on arbitrary bytes.

use super::*;
use proptest::prelude::*;

/// The registers of any HLL, one per byte.
fn registers(s: &[u8]) -> Vec<u8> {
    let d = to_dense(s).expect("a valid HLL");
    (0..REGISTERS)
        .map(|i| dense_get(&d[HEADER_LEN..], i))
        .collect()
}

fn sparse_of(elements: &[&[u8]]) -> Vec<u8> {
    let mut s = new_sparse();
    for e in elements {
        add(&mut s, e, 3000).expect("valid");
    }
    s
}

#[test]
fn matches_redis_server_bytes() {
    // `PFADD h a b c` then `GET h` on redis-server 7.0.15.
    let s = sparse_of(&[b"a", b"b", b"c"]);
    let mut want = b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80".to_vec();
    want.extend_from_slice(b"\x60\xf3\x80\x50\xb1\x84\x4b\xfb\x80\x42\x5a");
    assert_eq!(s, want);
    assert_eq!(
        sparse::decode(&s),
        "Z:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603"
    );
    assert_eq!(estimate(&histogram(&s).unwrap()), 3);
    assert_eq!(sparse::decode(&new_sparse()), "Z:16384");
    assert_eq!(check(&new_sparse()), Some(Encoding::Sparse));
}

#[test]
fn header_checks() {
    let d = to_dense(&new_sparse()).unwrap();
    assert_eq!(check(&d), Some(Encoding::Dense));
    assert_eq!(check(&d[..DENSE_LEN - 1]), None, "dense length is exact");
    let mut bad = new_sparse();
    bad[4] = 2;
    assert_eq!(check(&bad), None);
    assert_eq!(check(b"HYLL"), None);
    assert_eq!(check(b"HYLX\x01\0\0\0\0\0\0\0\0\0\0\0"), None);
    let mut s = new_sparse();
    assert_eq!(cached(&s), Some(0));
    invalidate(&mut s);
    assert_eq!(cached(&s), None);
    s[8..16].copy_from_slice(&card_bytes(1234));
    assert_eq!(cached(&s), Some(1234));
}

#[test]
fn estimates_are_close_and_empty_is_zero() {
    assert_eq!(estimate(&histogram(&new_sparse()).unwrap()), 0);
    let mut d = to_dense(&new_sparse()).unwrap();
    for n in 0..20_000u32 {
        add(&mut d, &n.to_le_bytes(), 3000).unwrap();
    }
    let e = estimate(&histogram(&d).unwrap()) as f64;
    assert!((e - 20_000.0).abs() < 20_000.0 * 0.03, "{e}");
}

#[test]
fn promotes_at_the_size_limit_and_at_value_33() {
    for limit in [0usize, 40, 300, 3000] {
        let mut s = new_sparse();
        let mut n = 0u32;
        while check(&s) == Some(Encoding::Sparse) {
            assert!(
                s.len() <= limit.max(HEADER_LEN + 2),
                "{} > {limit}",
                s.len()
            );
            add(&mut s, &n.to_le_bytes(), limit).unwrap();
            n += 1;
        }
        assert_eq!(s.len(), DENSE_LEN);
    }
    // A register value the sparse form cannot hold.
    let mut s = new_sparse();
    assert_eq!(raise(&mut s, 5, 33, 3000), Ok(true));
    assert_eq!(check(&s), Some(Encoding::Dense));
    assert_eq!(registers(&s)[5], 33);
}

#[test]
fn corrupt_sparse_is_detected() {
    let mut s = sparse_of(&[b"a", b"b", b"c"]);
    s.extend_from_slice(b"hello");
    assert_eq!(histogram(&s), Err(Corrupt));
    // Short of registers: everything but the header.
    let short = &s[..HEADER_LEN + 1];
    assert_eq!(histogram(short), Err(Corrupt));
    assert_eq!(to_dense(short), Err(Corrupt));
    let mut max = [0u8; REGISTERS];
    assert_eq!(merge_into(&mut max, short), Err(Corrupt));
    let mut only_header = s[..HEADER_LEN].to_vec();
    assert_eq!(raise(&mut only_header, 0, 1, 3000), Err(Corrupt));
    // Any opcode past the last register is corruption, even after a complete cover.
    for extra in [val_byte(3), 0x00] {
        let mut trailing = new_sparse();
        trailing.push(extra);
        assert_eq!(to_dense(&trailing), Err(Corrupt));
        assert_eq!(merge_into(&mut max, &trailing), Err(Corrupt));
        assert_eq!(histogram(&trailing), Err(Corrupt));
    }
}

fn val_byte(v: u8) -> u8 {
    0x80 | (v - 1) << 2
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn sparse_and_dense_agree_with_a_register_model(
        elements in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..6), 0..400),
        raises in proptest::collection::vec((0usize..REGISTERS, 1u8..=40), 0..30),
        limit in prop_oneof![Just(3000usize), Just(200), Just(50)],
    ) {
        let mut sparse = new_sparse();
        let mut dense = to_dense(&new_sparse()).unwrap();
        let mut model = vec![0u8; REGISTERS];
        for e in &elements {
            let (i, c) = hash_element(e);
            let changed = c > model[i];
            model[i] = model[i].max(c);
            prop_assert_eq!(add(&mut sparse, e, limit), Ok(changed));
            prop_assert_eq!(add(&mut dense, e, limit), Ok(changed));
        }
        for &(i, c) in &raises {
            let changed = c > model[i];
            model[i] = model[i].max(c);
            prop_assert_eq!(raise(&mut sparse, i, c, limit), Ok(changed));
            prop_assert_eq!(raise(&mut dense, i, c, limit), Ok(changed));
        }
        prop_assert_eq!(&registers(&sparse), &model);
        prop_assert_eq!(&registers(&dense), &model);
        prop_assert_eq!(histogram(&sparse).unwrap(), histogram(&dense).unwrap());
        let mut max = [0u8; REGISTERS];
        merge_into(&mut max, &sparse).unwrap();
        prop_assert_eq!(&max[..], &model[..]);
        prop_assert_eq!(raw_histogram(&max), histogram(&dense).unwrap());
        if check(&sparse) == Some(Encoding::Sparse) {
            prop_assert!(sparse.len() <= limit.max(HEADER_LEN + 2));
            // No two adjacent VALs that could have been merged next to a change are left
            // uncovered: the opcodes still describe every register exactly once.
            let text = sparse::decode(&sparse);
            let covered: u64 = text.split(' ').map(|t| {
                let n = t.rsplit([':', ',']).next().unwrap_or("0");
                n.parse::<u64>().unwrap_or(0)
            }).sum();
            prop_assert_eq!(covered, REGISTERS as u64);
        }
    }

    #[test]
    fn readers_survive_arbitrary_bytes(
        body in proptest::collection::vec(any::<u8>(), 0..300),
        dense_flag in any::<bool>(),
        raises in proptest::collection::vec((0usize..REGISTERS, 1u8..=51), 0..8),
    ) {
        let mut s = new_sparse();
        s.truncate(HEADER_LEN);
        s.extend_from_slice(&body);
        if dense_flag {
            s[4] = 0;
            s.resize(DENSE_LEN, 0x5a);
        }
        if let Some(enc) = check(&s) {
            let _ = histogram(&s).map(|h| estimate(&h));
            let mut max = [0u8; REGISTERS];
            let _ = merge_into(&mut max, &s);
            let _ = to_dense(&s);
            let _ = sparse::decode(&s);
            let mut t = s.clone();
            for &(i, c) in &raises {
                let _ = raise(&mut t, i, c, 3000);
                // Whatever happened, the string is still an HLL of one encoding or the other.
                prop_assert!(check(&t).is_some());
            }
            prop_assert_eq!(enc == Encoding::Dense, s.len() == DENSE_LEN && s[4] == 0);
        }
    }

    #[test]
    fn dense_patches_equal_dense_sets(i in 0usize..REGISTERS, v in 1u8..64, fill in any::<u8>()) {
        let regs = vec![fill; DENSE_REGISTERS_LEN];
        let mut whole = regs.clone();
        let changed = dense_raise(&mut whole, i, v);
        match dense_patch(&regs, i, v) {
            None => prop_assert!(!changed),
            Some((at, w, n)) => {
                prop_assert!(changed);
                let mut patched = regs.clone();
                patched[at..at + n].copy_from_slice(&w[..n]);
                prop_assert_eq!(patched, whole);
            }
        }
    }
}

#[test]
fn self_test_passes() {
    let mut x = 0x1234_5678_9abc_def0u64;
    let random = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    assert_eq!(self_test_sized(random, 3000, 3, 100_000), Ok(()));
}
