//! Bitmap, BITFIELD and HyperLogLog commands against an in-process store: what the
//! differential scripts cannot see (dirty counts, the write stream, memory of big bitmaps,
//! limits too costly to reach on a real server) and PFSELFTEST, too slow for them.

mod common;
use cachegate_protocols::resp::Frame;
use common::*;
use proptest::prelude::*;

fn value(h: &mut Harness, key: &str) -> Vec<u8> {
    match h.run(&["GET", key]) {
        Frame::Bulk(b) => b.to_vec(),
        other => panic!("not a string: {other:?}"),
    }
}

fn dirty_of(h: &mut Harness, argv: &[&str]) -> u64 {
    let before = h.store.writes.dirty;
    h.run(argv);
    h.store.writes.dirty - before
}

#[test]
fn bit_writes_count_dirty_only_when_something_changes() {
    let mut h = Harness::new();
    assert_eq!(dirty_of(&mut h, &["SETBIT", "b", "10", "1"]), 1);
    assert_eq!(dirty_of(&mut h, &["SETBIT", "b", "10", "1"]), 0);
    assert_eq!(dirty_of(&mut h, &["SETBIT", "b", "11", "0"]), 0);
    assert_eq!(dirty_of(&mut h, &["SETBIT", "b", "100", "0"]), 1, "grown");
    assert_eq!(
        dirty_of(&mut h, &["BITFIELD", "b", "SET", "u8", "8", "0"]),
        1,
        "bit 10 cleared"
    );
    assert_eq!(
        dirty_of(&mut h, &["BITFIELD", "b", "SET", "u8", "8", "0"]),
        0
    );
    assert_eq!(
        dirty_of(
            &mut h,
            &[
                "BITFIELD", "b", "INCRBY", "u4", "0", "1", "INCRBY", "u4", "4", "2", "GET", "u8",
                "0"
            ]
        ),
        2
    );
    assert_eq!(dirty_of(&mut h, &["BITFIELD", "b", "GET", "u8", "0"]), 0);
    // A key a failed write creates counts (redis-server leaves it out).
    assert_eq!(
        dirty_of(
            &mut h,
            &["BITFIELD", "n", "OVERFLOW", "FAIL", "SET", "u2", "0", "9"]
        ),
        1
    );
    assert_eq!(h.run(&["EXISTS", "n"]), int(1));
    // An int-encoded string made raw by a bit command that changes no bit.
    h.run(&["SET", "i", "5"]);
    assert_eq!(dirty_of(&mut h, &["SETBIT", "i", "0", "0"]), 1);
    assert_eq!(h.run(&["OBJECT", "ENCODING", "i"]), bulk("raw"));
    assert_eq!(dirty_of(&mut h, &["SETBIT", "i", "0", "0"]), 0);
}

#[test]
fn bitop_counts_and_deletes() {
    let mut h = Harness::new();
    h.run(&["SET", "a", "\u{1}"]);
    assert_eq!(dirty_of(&mut h, &["BITOP", "AND", "d", "a"]), 1);
    assert_eq!(dirty_of(&mut h, &["BITOP", "AND", "d", "nokey"]), 1);
    assert_eq!(h.run(&["EXISTS", "d"]), int(0));
    assert_eq!(dirty_of(&mut h, &["BITOP", "AND", "d", "nokey"]), 0);
}

#[test]
fn big_bitmaps_grow_in_place_without_copies() {
    let mut h = Harness::new();
    // 1 MiB of bitmap written a bit at a time from the end: one allocation of the size.
    assert_eq!(h.run(&["SETBIT", "big", "8388607", "1"]), int(0));
    let size = h.store.keyspace.db(0).used_bytes();
    assert!(size < (1 << 20) + 4096, "{size}");
    for i in (0..8_388_607).step_by(65_537) {
        h.run(&["SETBIT", "big", &i.to_string(), "1"]);
    }
    assert_eq!(h.store.keyspace.db(0).used_bytes(), size);
    assert_eq!(h.run(&["BITCOUNT", "big"]), int(129));
    assert_eq!(h.run(&["BITPOS", "big", "1", "1"]), int(65_537));
    // Growing from small to big: greedy room, like an sds string.
    for i in 0..200 {
        h.run(&["SETBIT", "grow", &(i * 400).to_string(), "1"]);
    }
    assert_eq!(h.run(&["STRLEN", "grow"]), int(199 * 50 + 1));
    assert_eq!(h.run(&["BITCOUNT", "grow"]), int(200));
}

#[test]
fn limits_follow_proto_max_bulk_len() {
    let mut h = Harness::new();
    h.store.limits.proto_max_bulk_len = 16;
    let bad = err("ERR bit offset is not an integer or out of range");
    assert_eq!(h.run(&["SETBIT", "b", "128", "1"]), bad);
    assert_eq!(h.run(&["GETBIT", "b", "128"]), bad);
    assert_eq!(h.run(&["SETBIT", "b", "127", "1"]), int(0));
    assert_eq!(h.run(&["STRLEN", "b"]), int(16));
    assert_eq!(h.run(&["BITFIELD", "b", "GET", "u8", "128"]), bad);
    assert_eq!(
        h.run(&["BITFIELD", "b", "GET", "u8", "127"]),
        arr(vec![int(128)])
    );
    // A field that starts inside the limit but ends past it would grow the string past
    // proto-max-bulk-len (redis-server lets it).
    assert_eq!(
        h.run(&["BITFIELD", "b", "SET", "u8", "127", "1"]),
        err("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
    );
    assert_eq!(h.run(&["STRLEN", "b"]), int(16));
    assert_eq!(
        h.run(&["BITFIELD", "b", "SET", "u8", "120", "255"]),
        arr(vec![int(1)])
    );
}

#[test]
fn pfadd_and_pfcount_write_the_header() {
    let mut h = Harness::new();
    h.store.writes.enabled = true;
    assert_eq!(dirty_of(&mut h, &["PFADD", "h"]), 1);
    assert_eq!(dirty_of(&mut h, &["PFADD", "h", "a", "b", "c"]), 3);
    assert_eq!(dirty_of(&mut h, &["PFADD", "h", "a", "b", "c"]), 0);
    let _ = h.store.writes.take();
    // PFCOUNT caches the estimate: a write, replayed as sent.
    assert_eq!(dirty_of(&mut h, &["PFCOUNT", "h"]), 1);
    assert_eq!(value(&mut h, "h")[8..16], [3, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(dirty_of(&mut h, &["PFCOUNT", "h"]), 0);
    assert_eq!(dirty_of(&mut h, &["PFCOUNT", "h", "h"]), 0);
    let stream = String::from_utf8(h.store.writes.take()).unwrap();
    assert_eq!(stream.matches("PFCOUNT").count(), 1, "{stream}");
    // A corrupt HLL keeps what PFADD changed before the corruption; the stream carries a
    // PFADD of those elements only.
    h.run(&["SET", "c", "HYLL\u{1}\0\0\0\0\0\0\0\0\0\0\u{0}\u{5f}\u{3f}"]);
    let _ = h.store.writes.take();
    assert_eq!(
        h.run(&["PFADD", "c", "d", "f", "x1", "x2"]),
        err("INVALIDOBJ Corrupted HLL object detected")
    );
    let stream = String::from_utf8(h.store.writes.take()).unwrap();
    assert!(
        stream.ends_with("*4\r\n$5\r\nPFADD\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\nf\r\n"),
        "{stream:?}"
    );
}

#[test]
fn sparse_hlls_promote_at_the_configured_size() {
    let mut h = Harness::new();
    h.store.thresholds.hll_sparse_max_bytes = 60;
    let mut n = 0;
    loop {
        n += 1;
        h.run(&["PFADD", "p", &format!("e{n}")]);
        if h.run(&["PFDEBUG", "ENCODING", "p"]) == Frame::simple("dense") {
            break;
        }
        assert!(value(&mut h, "p").len() <= 60);
        assert!(n < 100, "never promoted");
    }
    assert!(n > 3, "promoted at {n}");
    assert_eq!(value(&mut h, "p").len(), 12304);
    assert_eq!(h.run(&["OBJECT", "ENCODING", "p"]), bulk("raw"));
    let Frame::Integer(card) = h.run(&["PFCOUNT", "p"]) else {
        panic!("PFCOUNT answers an integer");
    };
    assert!((card - n).abs() <= 1, "{card} for {n}");
}

#[test]
fn pfselftest_passes() {
    let mut h = Harness::new();
    assert_eq!(h.run(&["PFSELFTEST"]), ok());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Strings that look like HLLs but hold anything: every command answers (a value or
    /// an error) without panicking, and what it leaves is still a string.
    #[test]
    fn hll_commands_survive_arbitrary_strings(
        body in proptest::collection::vec(any::<u8>(), 0..80),
        dense: bool,
        elements in proptest::collection::vec("[a-z]{1,3}", 0..6),
    ) {
        let mut h = Harness::new();
        let mut s = b"HYLL".to_vec();
        s.push(u8::from(!dense));
        s.extend_from_slice(&[0; 11]);
        s.extend_from_slice(&body);
        if dense {
            s.resize(12304, 0x3c);
        }
        h.run_bytes(&[b"SET", b"x", &s]);
        h.run_bytes(&[b"SET", b"y", &s]);
        let mut add: Vec<&[u8]> = vec![b"PFADD", b"x"];
        add.extend(elements.iter().map(|e| e.as_bytes()));
        h.run_bytes(&add);
        for argv in [
            &[&b"PFCOUNT"[..], b"x"][..],
            &[b"PFCOUNT", b"x", b"y"],
            &[b"PFMERGE", b"z", b"x", b"y"],
            &[b"PFDEBUG", b"DECODE", b"y"],
            &[b"PFDEBUG", b"GETREG", b"y"],
            &[b"PFADD", b"y", b"q"],
            &[b"PFCOUNT", b"y"],
        ] {
            h.run_bytes(argv);
        }
        prop_assert_eq!(h.run(&["TYPE", "x"]), Frame::simple("string"));
        prop_assert_eq!(h.run(&["TYPE", "y"]), Frame::simple("string"));
    }
}
