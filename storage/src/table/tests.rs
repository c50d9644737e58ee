//! The index against set models, and SCAN's guarantee across resizes.
use super::*;
use std::collections::HashSet;

/// Test entries: a boxed key.
struct Boxed;
unsafe impl TableEntry for Boxed {
    unsafe fn key<'a>(ptr: NonNull<u8>) -> &'a [u8] {
        &*(ptr.as_ptr() as *const Vec<u8>)
    }
    unsafe fn free(ptr: NonNull<u8>) {
        drop(Box::from_raw(ptr.as_ptr() as *mut Vec<u8>));
    }
}

fn boxed(key: &[u8]) -> NonNull<u8> {
    NonNull::from(Box::leak(Box::new(key.to_vec()))).cast()
}

fn insert(t: &mut Table<Boxed>, key: &[u8]) {
    let h = t.hash(key);
    assert!(t.find(h, key).is_none());
    t.insert(h, boxed(key), false);
}

fn remove(t: &mut Table<Boxed>, key: &[u8]) -> bool {
    let h = t.hash(key);
    match t.find(h, key) {
        Some(i) => {
            let p = t.remove_at(i);
            unsafe { Boxed::free(p) };
            true
        }
        None => false,
    }
}

fn key_of(p: NonNull<u8>) -> Vec<u8> {
    unsafe { Boxed::key(p) }.to_vec()
}

#[test]
fn insert_find_remove() {
    let mut t = Table::<Boxed>::new();
    for i in 0..5000u32 {
        insert(&mut t, &i.to_le_bytes());
    }
    assert_eq!(t.len(), 5000);
    for i in 0..5000u32 {
        let k = i.to_le_bytes();
        assert!(t.find(t.hash(&k), &k).is_some());
    }
    for i in (0..5000u32).step_by(2) {
        assert!(remove(&mut t, &i.to_le_bytes()));
    }
    for i in 0..5000u32 {
        let k = i.to_le_bytes();
        assert_eq!(t.find(t.hash(&k), &k).is_some(), i % 2 == 1);
    }
    t.maintain();
    while t.is_resizing() {
        t.maintain();
    }
    for i in (1..5000u32).step_by(2) {
        let k = i.to_le_bytes();
        assert!(t.find(t.hash(&k), &k).is_some());
    }
}

#[test]
fn scan_survives_resizes() {
    let mut t = Table::<Boxed>::new();
    for i in 0..1000u32 {
        insert(&mut t, &i.to_le_bytes());
    }
    let mut seen = HashSet::new();
    let mut cursor = 0;
    let mut steps = 0;
    loop {
        cursor = t.scan(cursor, |p, _| {
            seen.insert(key_of(p));
        });
        steps += 1;
        // Grow in the middle of the iteration, then shrink.
        if steps == 100 {
            for i in 1000..20000u32 {
                insert(&mut t, &i.to_le_bytes());
            }
        }
        if steps == 3000 {
            for i in 1000..20000u32 {
                remove(&mut t, &i.to_le_bytes());
            }
            t.maintain();
            while t.is_resizing() {
                t.maintain();
            }
        }
        if cursor == 0 {
            break;
        }
    }
    for i in 0..1000u32 {
        assert!(seen.contains(i.to_le_bytes().as_slice()), "missed {i}");
    }
}

/// SCAN with a resize in progress between calls — growing, then shrinking — and keys
/// added and deleted between calls: every key present throughout is returned.
#[test]
fn scan_while_a_resize_is_in_progress() {
    for seed in 0..4u32 {
        let mut t = Table::<Boxed>::new();
        // Just under the growth point of a 16384-slot array.
        let stable: Vec<Vec<u8>> = (0..14_000u32)
            .map(|i| format!("s{seed}:{i}").into_bytes())
            .collect();
        for k in &stable {
            insert(&mut t, k);
        }
        let mut seen = HashSet::new();
        let (mut cursor, mut steps, mut resizing_steps, mut extra) = (0u64, 0u32, 0u32, 0u32);
        let mut shrinking = false;
        loop {
            cursor = t.scan(cursor, |p, _| {
                seen.insert(key_of(p));
            });
            steps += 1;
            if t.is_resizing() {
                resizing_steps += 1;
            }
            if !shrinking {
                // One key comes (and sometimes goes) per call, so the growth resize
                // advances slowly.
                let k = format!("x{seed}:{extra}").into_bytes();
                insert(&mut t, &k);
                if extra % 3 == 0 {
                    remove(&mut t, &k);
                }
                extra += 1;
            } else if extra > 0 {
                // Only deletions now: nothing moves the shrink along, so both arrays
                // stay live, and cursors handed out by the big array meet them.
                extra -= 1;
                remove(&mut t, format!("x{seed}:{extra}").as_bytes());
            }
            if steps == 3_000 + seed * 500 && !shrinking {
                assert!(!t.is_resizing(), "the growth has finished");
                shrinking = true;
                for k in stable.iter().skip(2_000) {
                    remove(&mut t, k);
                }
                // Leave some transient keys to delete one per call; remove the rest.
                for j in 1_000..extra {
                    remove(&mut t, format!("x{seed}:{j}").as_bytes());
                }
                extra = extra.min(1_000);
                t.maintain();
                assert!(t.is_resizing(), "a shrink has started");
            }
            if cursor == 0 {
                break;
            }
        }
        assert!(
            resizing_steps > 100,
            "a resize was in progress during the scan"
        );
        let kept = if shrinking {
            &stable[..2_000]
        } else {
            &stable[..]
        };
        for k in kept {
            assert!(seen.contains(k), "missed {}", String::from_utf8_lossy(k));
        }
    }
}

/// A cursor handed out by a big array, used once a shrink to a quarter of its size has
/// started: the call must visit exactly the expansions of the small cursor that come
/// after it in reverse-binary order, or keys still in the big array are missed.
#[test]
fn scan_from_a_big_cursor_into_a_shrink() {
    let mut missed = 0;
    for round in 0..3_000u32 {
        let mut t = Table::<Boxed>::new();
        let keys: Vec<Vec<u8>> = (0..20u32)
            .map(|i| format!("r{round}:{i}").into_bytes())
            .collect();
        for k in &keys {
            insert(&mut t, k);
        }
        assert_eq!(t.capacity(), 32);
        let mut seen = HashSet::new();
        let mut cursor = 0;
        for _ in 0..(round % 31) + 1 {
            cursor = t.scan(cursor, |p, _| {
                seen.insert(key_of(p));
            });
        }
        if cursor == 0 {
            continue;
        }
        // Keep two keys: the index shrinks from 32 to 8 slots, both arrays live.
        for k in &keys[2..] {
            remove(&mut t, k);
        }
        t.maintain();
        assert!(t.is_resizing());
        while cursor != 0 {
            cursor = t.scan(cursor, |p, _| {
                seen.insert(key_of(p));
            });
        }
        missed += keys[..2].iter().filter(|k| !seen.contains(*k)).count();
    }
    assert_eq!(missed, 0, "keys present throughout were missed");
}

#[test]
fn inserts_alone_finish_a_resize() {
    let mut t = Table::<Boxed>::with_hasher(RandomState::new());
    for i in 0..62_500u32 {
        let k = format!("key:{i:012}");
        insert(&mut t, k.as_bytes());
    }
    assert!(!t.is_resizing(), "cap {} len {}", t.capacity(), t.len());
}

#[test]
fn lookups_and_removals_during_a_resize() {
    let mut t = Table::<Boxed>::new();
    let mut live = HashSet::new();
    let mut saw_resize = false;
    for i in 0..20_000u32 {
        insert(&mut t, &i.to_le_bytes());
        live.insert(i);
        saw_resize |= t.is_resizing();
        if i % 3 == 0 && t.is_resizing() {
            // Remove an older key, wherever it lives now.
            let victim = i / 2;
            assert_eq!(remove(&mut t, &victim.to_le_bytes()), live.remove(&victim));
        }
        if i % 97 == 0 {
            for j in (0..=i).step_by(7) {
                let k = j.to_le_bytes();
                assert_eq!(
                    t.find(t.hash(&k), &k).is_some(),
                    live.contains(&j),
                    "key {j} at {i}"
                );
            }
        }
    }
    assert!(saw_resize);
    assert_eq!(t.len(), live.len());
    while t.is_resizing() {
        t.maintain();
    }
    let keys: HashSet<Vec<u8>> = t.iter().map(|(p, _)| key_of(p)).collect();
    let want: HashSet<Vec<u8>> = live.iter().map(|k| k.to_le_bytes().to_vec()).collect();
    assert_eq!(keys, want);
}

proptest::proptest! {
    #[test]
    fn behaves_like_a_set(ops in proptest::collection::vec((proptest::bool::ANY, 0u16..300), 0..600)) {
        let mut t = Table::<Boxed>::new();
        let mut model = HashSet::new();
        for (add, k) in ops {
            let key = k.to_le_bytes();
            if add {
                if model.insert(k) { insert(&mut t, &key); }
            } else {
                proptest::prop_assert_eq!(remove(&mut t, &key), model.remove(&k));
            }
        }
        proptest::prop_assert_eq!(t.len(), model.len());
        let keys: HashSet<Vec<u8>> = t.iter().map(|(p, _)| key_of(p)).collect();
        let want: HashSet<Vec<u8>> = model.iter().map(|k| k.to_le_bytes().to_vec()).collect();
        proptest::prop_assert_eq!(keys, want);
    }
}
