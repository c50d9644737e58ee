//! SCAN's guarantee through the commands: an iteration returns every element present for
//! its whole duration at least once, while the index grows and then shrinks between calls
//! and elements come and go. SCAN over the keyspace (shrunk by the periodic maintenance) and
//! HSCAN, SSCAN and ZSCAN over the big encodings of hashes, sets and sorted sets (shrunk as
//! elements are deleted).

mod common;

use std::collections::HashSet;

use cachegate_protocols::resp::Frame;
use common::Harness;

/// Runs a cursor command to the end, calling `between(h, step)` after each call, and returns
/// every element (for HSCAN, the fields) the iteration produced.
fn iterate(
    h: &mut Harness,
    argv: &[&str],
    cursor_at: usize,
    pairs: bool,
    mut between: impl FnMut(&mut Harness, usize),
) -> HashSet<Vec<u8>> {
    let mut seen = HashSet::new();
    let mut cursor = b"0".to_vec();
    for step in 0.. {
        let mut args: Vec<Vec<u8>> = argv.iter().map(|a| a.as_bytes().to_vec()).collect();
        args[cursor_at] = cursor.clone();
        let refs: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
        let Frame::Array(reply) = h.run_bytes(&refs) else {
            panic!("a scan reply");
        };
        let (Some(Frame::Bulk(next)), Some(Frame::Array(items))) = (reply.first(), reply.get(1))
        else {
            panic!("cursor and items");
        };
        for (i, item) in items.iter().enumerate() {
            if pairs && i % 2 == 1 {
                continue;
            }
            if let Frame::Bulk(b) = item {
                seen.insert(b.to_vec());
            }
        }
        if next.as_ref() == b"0" {
            break;
        }
        cursor = next.to_vec();
        between(h, step);
    }
    seen
}

#[test]
fn scan_survives_growing_and_shrinking() {
    let mut h = Harness::new();
    let stable: Vec<String> = (0..3_000).map(|i| format!("stable:{i}")).collect();
    for k in &stable {
        h.run(&["SET", k, "v"]);
    }
    let seen = iterate(
        &mut h,
        &["SCAN", "0", "COUNT", "20"],
        1,
        false,
        |h, step| {
            if step < 150 {
                // Grow: many keys between calls.
                for j in 0..100 {
                    h.run(&["SET", &format!("tmp:{step}:{j}"), "v"]);
                }
            } else if step == 150 {
                // Shrink: delete them all, and let the periodic maintenance start a resize.
                for s in 0..150 {
                    for j in 0..100 {
                        h.run(&["DEL", &format!("tmp:{s}:{j}")]);
                    }
                }
                h.store.maintain();
            } else if step % 5 == 0 {
                h.store.maintain();
            }
        },
    );
    for k in &stable {
        assert!(seen.contains(k.as_bytes()), "SCAN missed {k}");
    }
}

#[test]
fn hscan_survives_growing_and_shrinking() {
    let mut h = Harness::new();
    let stable: Vec<String> = (0..2_000).map(|i| format!("f{i}")).collect();
    for f in &stable {
        h.run(&["HSET", "h", f, "v"]);
    }
    assert_eq!(
        h.run(&["OBJECT", "ENCODING", "h"]),
        Frame::bulk("hashtable")
    );
    let seen = iterate(
        &mut h,
        &["HSCAN", "h", "0", "COUNT", "10"],
        2,
        true,
        |h, step| {
            if step < 100 {
                for j in 0..100 {
                    h.run(&["HSET", "h", &format!("tmp:{step}:{j}"), "v"]);
                }
            } else if step < 200 {
                // Delete the transient fields a batch per call: the table shrinks as it empties.
                let s = step - 100;
                for j in 0..100 {
                    h.run(&["HDEL", "h", &format!("tmp:{s}:{j}")]);
                }
            }
        },
    );
    for f in &stable {
        assert!(seen.contains(f.as_bytes()), "HSCAN missed {f}");
    }
}

/// SSCAN and ZSCAN the same way as HSCAN: a big value, elements added between calls, then
/// deleted again (the index grows, then shrinks).
fn collection_scan_survives(add: &str, del: &str, scan: &str, extra: &[&str], pairs: bool) {
    let mut h = Harness::new();
    let stable: Vec<String> = (0..2_000).map(|i| format!("m{i}")).collect();
    let argv = |cmd: &str, m: &str| -> Vec<String> {
        let mut v = vec![cmd.to_string(), "c".to_string()];
        v.extend(extra.iter().map(|s| s.to_string()));
        v.push(m.to_string());
        v
    };
    let run = |h: &mut Harness, v: Vec<String>| {
        let r: Vec<&str> = v.iter().map(String::as_str).collect();
        h.run(&r);
    };
    for m in &stable {
        run(&mut h, argv(add, m));
    }
    let seen = iterate(
        &mut h,
        &[scan, "c", "0", "COUNT", "10"],
        2,
        pairs,
        |h, step| {
            if step < 100 {
                for j in 0..100 {
                    run(h, argv(add, &format!("tmp:{step}:{j}")));
                }
            } else if step < 200 {
                let s = step - 100;
                for j in 0..100 {
                    let mut v = vec![del.to_string(), "c".to_string()];
                    v.push(format!("tmp:{s}:{j}"));
                    run(h, v);
                }
            }
        },
    );
    for m in &stable {
        assert!(seen.contains(m.as_bytes()), "{scan} missed {m}");
    }
}

#[test]
fn sscan_survives_growing_and_shrinking() {
    collection_scan_survives("SADD", "SREM", "SSCAN", &[], false);
}

#[test]
fn zscan_survives_growing_and_shrinking() {
    collection_scan_survives("ZADD", "ZREM", "ZSCAN", &["1"], true);
}
