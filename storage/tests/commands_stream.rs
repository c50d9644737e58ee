//! Stream commands against an in-process store with a manual clock: what depends on time
//! (generated IDs, idle times, delivery and seen times, min-idle filters) exactly, and the
//! replayable forms each write gives the write stream.

mod common;

use cachegate_protocols::resp::request::{Batch, RequestLimits, RequestParser};
use cachegate_protocols::resp::Frame;
use common::*;

/// A reply as compact text: arrays in brackets, errors with `!`, nulls as `nil`.
fn show(f: &Frame) -> String {
    match f {
        Frame::Simple(b) | Frame::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
        Frame::Error(e) => format!("!{}", String::from_utf8_lossy(e)),
        Frame::Integer(n) => n.to_string(),
        Frame::NullBulk | Frame::NullArray | Frame::Null => "nil".into(),
        Frame::Array(v) => format!("[{}]", v.iter().map(show).collect::<Vec<_>>().join(" ")),
        other => format!("{other:?}"),
    }
}

fn run(h: &mut Harness, argv: &[&str]) -> String {
    show(&h.run(argv))
}

/// The commands the write stream took since the last call, one line each.
fn stream(h: &mut Harness) -> Vec<String> {
    let bytes = h.store.writes.take();
    let mut parser = RequestParser::new(RequestLimits::default());
    let mut batch = Batch::default();
    parser.parse(&bytes, &mut batch, usize::MAX);
    batch
        .requests
        .iter()
        .map(|r| {
            batch
                .args(&bytes, r)
                .iter()
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .filter(|c| !c.starts_with("SELECT"))
        .collect()
}

fn recording() -> Harness {
    let mut h = Harness::new();
    h.store.writes.enabled = true;
    h
}

#[test]
fn generated_ids_come_from_the_batch_clock() {
    let mut h = recording();
    assert_eq!(
        run(&mut h, &["XADD", "s", "*", "f", "v"]),
        format!("{T0}-0")
    );
    assert_eq!(
        run(&mut h, &["XADD", "s", "*", "f", "v"]),
        format!("{T0}-1")
    );
    h.clock.advance(5);
    assert_eq!(
        run(&mut h, &["XADD", "s", "*", "f", "v"]),
        format!("{}-0", T0 + 5)
    );
    // A clock going backwards keeps the IDs growing.
    h.clock.advance(-100);
    assert_eq!(
        run(&mut h, &["XADD", "s", "*", "f", "v"]),
        format!("{}-1", T0 + 5)
    );
    assert_eq!(
        run(&mut h, &["XADD", "s", &format!("{}-*", T0 + 5), "f", "v"]),
        format!("{}-2", T0 + 5)
    );
    // Generated IDs replay as the IDs they became.
    assert_eq!(
        stream(&mut h),
        vec![
            format!("XADD s {T0}-0 f v"),
            format!("XADD s {T0}-1 f v"),
            format!("XADD s {}-0 f v", T0 + 5),
            format!("XADD s {}-1 f v", T0 + 5),
            format!("XADD s {}-2 f v", T0 + 5),
        ]
    );
}

#[test]
fn approximate_trims_replay_as_exact_ones() {
    let mut h = recording();
    h.store.thresholds.stream_node_max_entries = 2;
    for i in 1..=6 {
        run(&mut h, &["XADD", "s", &i.to_string(), "f", "v"]);
    }
    stream(&mut h);
    // Nodes of two, then 7 alone: MAXLEN ~ 3 removes two nodes (3 left), and replays as
    // "= 3" (without LIMIT, which an exact trim refuses).
    assert_eq!(
        run(
            &mut h,
            &["XADD", "s", "MAXLEN", "~", "3", "LIMIT", "50", "7", "f", "v"]
        ),
        "7-0"
    );
    assert_eq!(run(&mut h, &["XLEN", "s"]), "3");
    assert_eq!(run(&mut h, &["XTRIM", "s", "MINID", "~", "7"]), "2");
    run(&mut h, &["XADD", "s", "8", "f", "v"]);
    // [7 8] is one node: nothing goes, and nothing is propagated.
    assert_eq!(run(&mut h, &["XTRIM", "s", "MAXLEN", "~", "1"]), "0");
    assert_eq!(run(&mut h, &["XTRIM", "s", "MAXLEN", "1"]), "1");
    assert_eq!(run(&mut h, &["XRANGE", "s", "-", "+"]), "[[8-0 [f v]]]");
    assert_eq!(
        stream(&mut h),
        vec![
            "XADD s MAXLEN = 3 7 f v",
            "XTRIM s MINID = 7-0",
            "XADD s 8 f v",
            "XTRIM s MAXLEN 1",
        ]
    );
}

#[test]
fn idle_times_and_min_idle_filters_follow_the_clock() {
    let mut h = recording();
    run(&mut h, &["XADD", "s", "1", "f", "v"]);
    run(&mut h, &["XADD", "s", "2", "f", "v"]);
    run(&mut h, &["XGROUP", "CREATE", "s", "g", "0"]);
    run(
        &mut h,
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "alice",
            "COUNT",
            "1",
            "STREAMS",
            "s",
            ">",
        ],
    );
    h.clock.advance(100);
    run(
        &mut h,
        &["XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">"],
    );
    h.clock.advance(50);
    assert_eq!(
        run(&mut h, &["XPENDING", "s", "g", "-", "+", "10"]),
        "[[1-0 alice 150 1] [2-0 bob 50 1]]"
    );
    assert_eq!(
        run(
            &mut h,
            &["XPENDING", "s", "g", "IDLE", "100", "-", "+", "10"]
        ),
        "[[1-0 alice 150 1]]"
    );
    assert_eq!(
        run(&mut h, &["XINFO", "CONSUMERS", "s", "g"]),
        "[[name alice pending 1 idle 150] [name bob pending 1 idle 50]]"
    );
    // Only entries idle for the minimum are claimed; the claim resets their idle time.
    assert_eq!(
        run(
            &mut h,
            &["XCLAIM", "s", "g", "carol", "120", "1", "2", "JUSTID"]
        ),
        "[1-0]"
    );
    assert_eq!(
        run(
            &mut h,
            &["XAUTOCLAIM", "s", "g", "dave", "40", "0", "JUSTID"]
        ),
        "[0-0 [2-0] []]"
    );
    h.clock.advance(10);
    assert_eq!(
        run(&mut h, &["XPENDING", "s", "g", "-", "+", "10"]),
        "[[1-0 carol 10 1] [2-0 dave 10 1]]"
    );
    // IDLE sets the delivery time in the past; TIME sets it outright (a future one is now).
    run(
        &mut h,
        &[
            "XCLAIM", "s", "g", "carol", "0", "1", "IDLE", "500", "JUSTID",
        ],
    );
    run(
        &mut h,
        &[
            "XCLAIM",
            "s",
            "g",
            "dave",
            "0",
            "2",
            "TIME",
            &(T0 + 1_000_000).to_string(),
            "JUSTID",
        ],
    );
    assert_eq!(
        run(&mut h, &["XPENDING", "s", "g", "-", "+", "10"]),
        "[[1-0 carol 500 1] [2-0 dave 0 1]]"
    );
    let full = run(&mut h, &["XINFO", "STREAM", "s", "FULL"]);
    let now = T0 + 160;
    assert!(
        full.contains(&format!("[1-0 carol {} 1]", now - 500)),
        "{full}"
    );
    assert!(
        full.contains(&format!("name alice seen-time {} pel-count 0", T0)),
        "{full}"
    );
}

#[test]
fn consumer_group_reads_replay_as_claims_and_positions() {
    let mut h = recording();
    run(&mut h, &["XADD", "s", "1", "f", "v"]);
    run(&mut h, &["XADD", "s", "2", "f", "v"]);
    run(&mut h, &["XGROUP", "CREATE", "s", "g", "0"]);
    stream(&mut h);
    run(
        &mut h,
        &["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">"],
    );
    let t = T0.to_string();
    assert_eq!(
        stream(&mut h),
        vec![
            format!("XCLAIM s g alice 0 1-0 TIME {t} RETRYCOUNT 1 FORCE JUSTID LASTID 1-0"),
            format!("XCLAIM s g alice 0 2-0 TIME {t} RETRYCOUNT 1 FORCE JUSTID LASTID 2-0"),
            "XGROUP SETID s g 2-0 ENTRIESREAD 2".to_string(),
        ]
    );
    // NOACK: the consumer and the group's position, nothing pending.
    run(&mut h, &["XADD", "s", "3", "f", "v"]);
    stream(&mut h);
    run(
        &mut h,
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "bob",
            "NOACK",
            "STREAMS",
            "s",
            ">",
        ],
    );
    assert_eq!(
        stream(&mut h),
        vec![
            "XGROUP CREATECONSUMER s g bob",
            "XGROUP SETID s g 3-0 ENTRIESREAD 3"
        ]
    );
    // A history read counts another delivery, and says so.
    h.clock.advance(7);
    run(
        &mut h,
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "alice",
            "COUNT",
            "1",
            "STREAMS",
            "s",
            "0",
        ],
    );
    assert_eq!(
        stream(&mut h),
        vec![format!(
            "XCLAIM s g alice 0 1-0 TIME {} RETRYCOUNT 2 FORCE JUSTID LASTID 3-0",
            T0 + 7
        )]
    );
    // A read that finds nothing changes nothing and propagates nothing.
    run(
        &mut h,
        &["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">"],
    );
    run(&mut h, &["XREAD", "STREAMS", "s", "0"]);
    assert!(stream(&mut h).is_empty());
}

#[test]
fn claims_replay_per_entry_and_drop_deleted_ones() {
    let mut h = recording();
    for i in 1..=3 {
        run(&mut h, &["XADD", "s", &i.to_string(), "f", "v"]);
    }
    run(&mut h, &["XGROUP", "CREATE", "s", "g", "0"]);
    run(
        &mut h,
        &["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">"],
    );
    run(&mut h, &["XDEL", "s", "2"]);
    stream(&mut h);
    assert_eq!(
        run(
            &mut h,
            &["XCLAIM", "s", "g", "bob", "0", "1", "2", "TIME", "1000", "JUSTID"]
        ),
        "[1-0]"
    );
    assert_eq!(
        stream(&mut h),
        vec![
            "XCLAIM s g bob 0 1 TIME 1000 RETRYCOUNT 1 FORCE JUSTID LASTID 3-0",
            &format!("XCLAIM s g alice 0 2 TIME {T0} RETRYCOUNT 1 FORCE JUSTID LASTID 3-0"),
        ]
    );
    assert_eq!(
        run(&mut h, &["XPENDING", "s", "g"]),
        "[2 1-0 3-0 [[alice 1] [bob 1]]]"
    );
    // LASTID alone moves the group: XGROUP SETID.
    run(
        &mut h,
        &["XCLAIM", "s", "g", "bob", "0", "JUSTID", "LASTID", "9-0"],
    );
    assert_eq!(stream(&mut h), vec!["XGROUP SETID s g 9-0 ENTRIESREAD 3"]);
    run(&mut h, &["XDEL", "s", "3"]);
    stream(&mut h);
    assert_eq!(
        run(
            &mut h,
            &["XAUTOCLAIM", "s", "g", "carol", "0", "0", "JUSTID"]
        ),
        "[0-0 [1-0] [3-0]]"
    );
    assert_eq!(
        stream(&mut h),
        vec![
            format!("XCLAIM s g carol 0 1-0 TIME {T0} RETRYCOUNT 1 FORCE JUSTID LASTID 9-0"),
            format!("XCLAIM s g alice 0 3-0 TIME {T0} RETRYCOUNT 1 FORCE JUSTID LASTID 9-0"),
        ]
    );
}

#[test]
fn blocking_inside_a_transaction_answers_at_once() {
    // Where blocking is denied (MULTI, scripts), BLOCK answers as a timeout would.
    let mut h = Harness::new();
    h.session.deny_blocking = true;
    run(&mut h, &["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
    assert_eq!(
        run(&mut h, &["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]),
        "nil"
    );
    assert_eq!(
        run(
            &mut h,
            &[
                "XREADGROUP",
                "GROUP",
                "g",
                "c",
                "BLOCK",
                "0",
                "STREAMS",
                "s",
                ">"
            ]
        ),
        "nil"
    );
}

#[test]
fn streams_are_one_boxed_value_and_keep_their_groups_when_copied() {
    let mut h = Harness::new();
    run(&mut h, &["XADD", "s", "1", "f", "v"]);
    run(&mut h, &["XGROUP", "CREATE", "s", "g", "0"]);
    run(
        &mut h,
        &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"],
    );
    assert_eq!(run(&mut h, &["OBJECT", "ENCODING", "s"]), "stream");
    assert_eq!(run(&mut h, &["COPY", "s", "t"]), "1");
    assert_eq!(run(&mut h, &["XACK", "s", "g", "1"]), "1");
    assert_eq!(run(&mut h, &["XPENDING", "t", "g"]), "[1 1-0 1-0 [[c 1]]]");
    assert_eq!(run(&mut h, &["XPENDING", "s", "g"]), "[0 nil nil nil]");
}
