//! Sorted set commands in process: blocking pops parked and served, and what they replay
//! as; encodings at scale.

mod common;

use cachegate_protocols::resp::request::{lay_out, Args};
use cachegate_protocols::resp::{ProtocolVersion, ReplyBuf};
use cachegate_storage::command::{Outcome, Session};
use common::{bulk, int, Harness};

fn execute(h: &mut Harness, session: &mut Session, argv: &[&str]) -> (Outcome, Vec<u8>) {
    let v: Vec<&[u8]> = argv.iter().map(|s| s.as_bytes()).collect();
    let (base, spans) = lay_out(&v);
    let mut out = ReplyBuf::new(ProtocolVersion::Resp2);
    h.store.begin_batch();
    let o = h
        .store
        .execute(session, &Args::new(&base, &spans), &mut out);
    h.store.end_batch(1);
    (o, out.as_bytes().to_vec())
}

#[test]
fn blocked_pops_are_served_and_replay_as_zpop() {
    let mut h = Harness::new();
    h.store.writes.enabled = true;
    let mut waiter = Session {
        client_id: 7,
        ..Session::default()
    };
    let (o, reply) = execute(&mut h, &mut waiter, &["BZPOPMIN", "nokey", "z", "0"]);
    assert!(matches!(o, Outcome::Blocked { deadline: None }), "{o:?}");
    assert!(reply.is_empty());
    let mut second = Session {
        client_id: 8,
        ..Session::default()
    };
    let (o, _) = execute(
        &mut h,
        &mut second,
        &["BZMPOP", "1.5", "1", "z", "MAX", "COUNT", "2"],
    );
    assert!(matches!(o, Outcome::Blocked { deadline: Some(_) }), "{o:?}");
    let _ = h.store.writes.take();
    let mut writer = Session::default();
    h.run(&[
        "ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e",
    ]);
    let served = h.store.serve_blocked();
    assert_eq!(
        served.len(),
        2,
        "both clients are served, first blocked first"
    );
    assert_eq!(served[0].client_id, 7);
    assert_eq!(served[0].reply, b"*3\r\n$1\r\nz\r\n$1\r\na\r\n$1\r\n1\r\n");
    assert_eq!(served[1].client_id, 8);
    assert_eq!(
        served[1].reply,
        b"*2\r\n$1\r\nz\r\n*2\r\n*2\r\n$1\r\ne\r\n$1\r\n5\r\n*2\r\n$1\r\nd\r\n$1\r\n4\r\n"
    );
    let stream = String::from_utf8_lossy(&h.store.writes.take()).into_owned();
    assert!(stream.contains("ZADD"), "{stream}");
    assert!(stream.contains("ZPOPMIN\r\n$1\r\nz"), "{stream}");
    assert!(
        stream.contains("ZPOPMAX\r\n$1\r\nz\r\n$1\r\n2\r\n"),
        "{stream}"
    );
    assert!(!stream.contains("BZ"), "{stream}");
    // Non-blocking forms replay as redis-server rewrites them.
    let (_, reply) = execute(
        &mut h,
        &mut writer,
        &["ZMPOP", "1", "z", "MAX", "COUNT", "5"],
    );
    assert_eq!(
        reply,
        b"*2\r\n$1\r\nz\r\n*2\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"
    );
    let stream = String::from_utf8_lossy(&h.store.writes.take()).into_owned();
    assert!(
        stream.contains("ZPOPMAX\r\n$1\r\nz\r\n$1\r\n2\r\n"),
        "{stream}"
    );
    assert_eq!(h.run(&["EXISTS", "z"]), int(0));
}

#[test]
fn a_key_of_another_type_does_not_serve_a_blocked_pop() {
    let mut h = Harness::new();
    let mut waiter = Session {
        client_id: 9,
        ..Session::default()
    };
    let (o, _) = execute(&mut h, &mut waiter, &["BZPOPMAX", "k", "0"]);
    assert!(matches!(o, Outcome::Blocked { .. }));
    h.run(&["SET", "k", "string"]);
    assert!(h.store.serve_blocked().is_empty());
    h.run(&["DEL", "k"]);
    h.run(&["ZADD", "k", "5", "m"]);
    let served = h.store.serve_blocked();
    assert_eq!(served.len(), 1);
    assert_eq!(served[0].reply, b"*3\r\n$1\r\nk\r\n$1\r\nm\r\n$1\r\n5\r\n");
}

#[test]
fn geoadd_replays_as_zadd_with_the_scores() {
    let mut h = Harness::new();
    h.store.writes.enabled = true;
    h.run(&["GEOADD", "g", "CH", "13.361389", "38.115556", "Palermo"]);
    let stream = String::from_utf8_lossy(&h.store.writes.take()).into_owned();
    assert!(
        stream.contains("zadd\r\n$1\r\ng\r\n$2\r\nCH\r\n$16\r\n3479099956230698\r\n$7\r\nPalermo"),
        "{stream}"
    );
    assert_eq!(h.run(&["ZSCORE", "g", "Palermo"]), bulk("3479099956230698"));
}

#[test]
fn big_sets_keep_order_and_ranks() {
    let mut h = Harness::new();
    for i in 0..5000 {
        let (s, m) = ((i * 7919) % 5000, format!("m{i}"));
        h.run(&["ZADD", "big", &s.to_string(), &m]);
    }
    assert_eq!(h.run(&["OBJECT", "ENCODING", "big"]), bulk("skiplist"));
    assert_eq!(h.run(&["ZCARD", "big"]), int(5000));
    // Score s belongs to member i with i * 7919 ≡ s (mod 5000).
    assert_eq!(h.run(&["ZRANK", "big", "m0"]), int(0));
    assert_eq!(h.run(&["ZCOUNT", "big", "(100", "200"]), int(100));
    assert_eq!(h.run(&["ZREMRANGEBYSCORE", "big", "0", "999"]), int(1000));
    assert_eq!(h.run(&["ZCARD", "big"]), int(4000));
    let first = (0..5000).find(|i| (i * 7919) % 5000 == 1000).unwrap_or(0);
    assert_eq!(
        h.run(&["ZRANGE", "big", "0", "0", "WITHSCORES"]),
        common::arr(vec![bulk(&format!("m{first}")), bulk("1000")])
    );
}
