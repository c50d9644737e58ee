//! Set commands against an in-process store: SPOP's replayable forms (SREM, batched; DEL;
//! DEL and SADD where popping re-encodes the set), dirty counts, signals, and the keyspace
//! hits of commands reading several keys.

mod common;

use std::collections::BTreeSet;

use cachegate_protocols::resp::request::{Batch, RequestLimits, RequestParser};
use cachegate_protocols::resp::Frame;
use common::*;

/// The commands in the write stream so far (SELECTs left out), taking them.
fn take_stream(h: &mut Harness) -> Vec<Vec<Vec<u8>>> {
    let bytes = h.store.writes.take();
    let mut parser = RequestParser::new(RequestLimits::default());
    let mut batch = Batch::default();
    parser.parse(&bytes, &mut batch, usize::MAX);
    batch
        .requests
        .iter()
        .map(|r| batch.args(&bytes, r).to_vecs())
        .filter(|argv| !argv[0].eq_ignore_ascii_case(b"SELECT"))
        .collect()
}

/// Replays commands into `h`.
fn replay(h: &mut Harness, cmds: &[Vec<Vec<u8>>]) {
    for argv in cmds {
        let refs: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
        let reply = h.run_bytes(&refs);
        assert!(!reply.is_error(), "replayed {argv:?}: {reply:?}");
    }
}

fn members(f: &Frame) -> BTreeSet<Vec<u8>> {
    match f {
        Frame::Array(v) | Frame::Set(v) => v
            .iter()
            .map(|e| match e {
                Frame::Bulk(b) => b.to_vec(),
                other => panic!("not a bulk: {other:?}"),
            })
            .collect(),
        other => panic!("not an array: {other:?}"),
    }
}

fn recording() -> Harness {
    let mut h = Harness::new();
    h.store.writes.enabled = true;
    h
}

fn s(v: &[u8]) -> Vec<u8> {
    v.to_vec()
}

#[test]
fn spop_is_replayed_as_srem() {
    let mut h = recording();
    h.run(&["SADD", "s", "1", "2", "3"]);
    take_stream(&mut h);
    let Frame::Bulk(m) = h.run(&["SPOP", "s"]) else {
        panic!("a member")
    };
    assert_eq!(
        take_stream(&mut h),
        vec![vec![s(b"SREM"), s(b"s"), m.to_vec()]]
    );
    let dirty = h.store.writes.dirty;
    assert_eq!(h.run(&["SPOP", "s", "0"]), Frame::Array(vec![]));
    assert_eq!(h.store.writes.dirty, dirty);
    assert!(take_stream(&mut h).is_empty());
}

#[test]
fn spop_with_a_count_is_replayed_as_srem_batches() {
    let mut h = recording();
    let all: Vec<String> = (0..3000).map(|i| format!("member:{i}")).collect();
    let mut argv = vec!["SADD", "big"];
    argv.extend(all.iter().map(String::as_str));
    h.run(&argv);
    let mut replica = Harness::new();
    replay(&mut replica, &take_stream(&mut h));
    let dirty = h.store.writes.dirty;

    let popped = members(&h.run(&["SPOP", "big", "2000"]));
    assert_eq!(popped.len(), 2000);
    assert_eq!(h.store.writes.dirty, dirty + 2000);
    let stream = take_stream(&mut h);
    let sizes: Vec<usize> = stream.iter().map(|c| c.len() - 2).collect();
    assert_eq!(sizes, vec![1024, 976]);
    let removed: BTreeSet<Vec<u8>> = stream
        .iter()
        .inspect(|c| assert_eq!((&c[0][..], &c[1][..]), (&b"SREM"[..], &b"big"[..])))
        .flat_map(|c| c[2..].to_vec())
        .collect();
    assert_eq!(removed, popped);
    replay(&mut replica, &stream);
    assert_eq!(
        members(&replica.run(&["SMEMBERS", "big"])),
        members(&h.run(&["SMEMBERS", "big"]))
    );
    assert_eq!(h.run(&["SCARD", "big"]), int(1000));
}

#[test]
fn spop_of_the_whole_set_is_del() {
    let mut h = recording();
    h.run(&["SADD", "s", "3", "1", "2"]);
    take_stream(&mut h);
    let dirty = h.store.writes.dirty;
    assert_eq!(
        h.run(&["SPOP", "s", "10"]),
        arr(vec![bulk("1"), bulk("2"), bulk("3")])
    );
    assert_eq!(h.store.writes.dirty, dirty + 3);
    assert_eq!(take_stream(&mut h), vec![vec![s(b"DEL"), s(b"s")]]);
    assert_eq!(h.run(&["EXISTS", "s"]), int(0));
}

#[test]
fn popping_most_of_a_hashtable_of_integers_rebuilds_an_intset() {
    let mut h = recording();
    h.run(&[
        "SADD", "q", "x", "1", "2", "3", "4", "5", "6", "7", "8", "9",
    ]);
    h.run(&["SREM", "q", "x"]);
    let mut replica = Harness::new();
    replay(&mut replica, &take_stream(&mut h));
    assert_eq!(h.run(&["OBJECT", "ENCODING", "q"]), bulk("hashtable"));
    let popped = members(&h.run(&["SPOP", "q", "8"]));
    assert_eq!(popped.len(), 8);
    assert_eq!(h.run(&["OBJECT", "ENCODING", "q"]), bulk("intset"));
    let stream = take_stream(&mut h);
    assert_eq!(stream.len(), 2);
    assert_eq!(stream[0], vec![s(b"DEL"), s(b"q")]);
    assert_eq!(&stream[1][..2], &[s(b"SADD"), s(b"q")]);
    replay(&mut replica, &stream);
    assert_eq!(replica.run(&["OBJECT", "ENCODING", "q"]), bulk("intset"));
    assert_eq!(replica.run(&["SMEMBERS", "q"]), h.run(&["SMEMBERS", "q"]));

    // Strings kept: the set stays a hashtable, and SREMs replay it.
    h.run(&[
        "SADD", "t", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l",
    ]);
    replay(&mut replica, &take_stream(&mut h));
    members(&h.run(&["SPOP", "t", "11"]));
    let stream = take_stream(&mut h);
    assert!(stream.iter().all(|c| c[0] == b"SREM"));
    replay(&mut replica, &stream);
    assert_eq!(replica.run(&["SMEMBERS", "t"]), h.run(&["SMEMBERS", "t"]));
    assert_eq!(h.run(&["OBJECT", "ENCODING", "t"]), bulk("hashtable"));
}

#[test]
fn dirty_and_signals() {
    let mut h = recording();
    h.store.signal_log = Some(Vec::new());
    h.run(&["SADD", "a", "1", "2", "3"]);
    let dirty = h.store.writes.dirty;
    assert_eq!(h.run(&["SADD", "a", "1", "2"]), int(0));
    assert_eq!(h.store.writes.dirty, dirty, "nothing added, nothing dirty");
    assert_eq!(h.run(&["SMOVE", "a", "b", "1"]), int(1));
    assert_eq!(h.store.writes.dirty, dirty + 2);
    h.run(&["SADD", "a", "1"]);
    assert_eq!(h.run(&["SMOVE", "a", "b", "1"]), int(1));
    assert_eq!(h.store.writes.dirty, dirty + 4, "b had it: only a changed");
    let log = h.store.signal_log.take().unwrap_or_default();
    let keys: Vec<&[u8]> = log.iter().map(|(_, k)| k.as_slice()).collect();
    assert_eq!(keys, vec![&b"a"[..], b"a", b"b", b"a", b"a"]);

    // A STORE with an empty result deletes the destination, counting one change.
    h.run(&["SET", "d", "x"]);
    let dirty = h.store.writes.dirty;
    assert_eq!(h.run(&["SINTERSTORE", "d", "a", "nokey"]), int(0));
    assert_eq!(h.store.writes.dirty, dirty + 1);
    assert_eq!(h.run(&["SINTERSTORE", "d", "a", "nokey"]), int(0));
    assert_eq!(h.store.writes.dirty, dirty + 1);
}

#[test]
fn multi_key_reads_count_a_lookup_per_key() {
    let mut h = Harness::new();
    h.run(&["SADD", "a", "1", "2"]);
    h.run(&["SADD", "b", "2", "3"]);
    let (hits, misses) = (h.store.stats.keyspace_hits, h.store.stats.keyspace_misses);
    assert_eq!(h.run(&["SINTER", "a", "b", "nokey", "a"]), arr(vec![]));
    assert_eq!(h.store.stats.keyspace_hits, hits + 3);
    assert_eq!(h.store.stats.keyspace_misses, misses + 1);
    // SMOVE looks its keys up for writing: no hits or misses.
    h.run(&["SMOVE", "a", "c", "1"]);
    assert_eq!(h.store.stats.keyspace_hits, hits + 3);
    assert_eq!(h.store.stats.keyspace_misses, misses + 1);
    // A wrong type stops the lookups where it is.
    h.run(&["SET", "s", "x"]);
    assert!(h.run(&["SUNION", "a", "s", "b"]).is_error());
    assert_eq!(h.store.stats.keyspace_hits, hits + 5);
}

#[test]
fn resp3_set_replies() {
    let mut h = Harness::new();
    h.resp3 = true;
    h.run(&["SADD", "a", "2", "1"]);
    assert_eq!(
        h.run(&["SMEMBERS", "a"]),
        Frame::Set(vec![bulk("1"), bulk("2")])
    );
    assert_eq!(h.run(&["SPOP", "nokey", "3"]), Frame::Set(vec![]));
    assert_eq!(h.run(&["SRANDMEMBER", "nokey", "3"]), Frame::Array(vec![]));
    assert_eq!(
        h.run(&["SRANDMEMBER", "a", "5"]),
        Frame::Array(vec![bulk("1"), bulk("2")])
    );
    assert_eq!(h.run(&["SPOP", "nokey"]), Frame::Null);
}

#[test]
fn a_big_intset_is_boxed_and_behaves_the_same() {
    let mut h = Harness::new();
    h.store.thresholds.set_max_intset_entries = 100_000;
    let ints: Vec<String> = (0..6000).map(|i| (i * 3).to_string()).collect();
    let mut argv = vec!["SADD", "big"];
    argv.extend(ints.iter().map(String::as_str));
    assert_eq!(h.run(&argv), int(6000));
    assert_eq!(h.run(&["OBJECT", "ENCODING", "big"]), bulk("intset"));
    assert_eq!(h.run(&["SISMEMBER", "big", "17997"]), int(1));
    assert_eq!(h.run(&["SISMEMBER", "big", "17998"]), int(0));
    assert_eq!(h.run(&["SADD", "big", "1", "70000"]), int(2));
    assert_eq!(h.run(&["OBJECT", "ENCODING", "big"]), bulk("intset"));
    assert_eq!(h.run(&["COPY", "big", "copy"]), int(1));
    assert_eq!(h.run(&["RENAME", "big", "moved"]), ok());
    assert_eq!(h.run(&["SCARD", "moved"]), int(6002));
    assert_eq!(h.run(&["SCARD", "copy"]), int(6002));
    // Shrinking brings it inline again, growing boxes it again; still an intset.
    let mut argv = vec!["SREM", "moved"];
    argv.extend(ints.iter().skip(100).map(String::as_str));
    assert_eq!(h.run(&argv), int(5900));
    assert_eq!(h.run(&["OBJECT", "ENCODING", "moved"]), bulk("intset"));
    assert_eq!(
        members(&h.run(&["SINTER", "moved", "copy"])).len(),
        102,
        "100 multiples of 3, 1 and 70000"
    );
    assert_eq!(h.run(&["SADD", "copy", "x"]), int(1));
    assert_eq!(h.run(&["OBJECT", "ENCODING", "copy"]), bulk("hashtable"));
    assert_eq!(h.run(&["SISMEMBER", "copy", "17997"]), int(1));
    // The database's byte count follows the value as it moves in and out of its entry.
    h.run(&["DEL", "copy", "moved"]);
    let db = h.store.keyspace.db(0);
    assert_eq!(db.len(), 0);
    assert_eq!(
        db.used_bytes(),
        db.index_bytes(),
        "every byte counted in was counted out"
    );
}
