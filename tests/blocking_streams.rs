//! XREAD BLOCK and XREADGROUP BLOCK end to end with the `redis` crate: one client blocks,
//! another writes, and the blocked client's answer is checked — against expectations and
//! against redis-server 7.0 running the same scenario. Every connection has a read timeout,
//! so a client that is never served fails the test instead of hanging it.

mod common;

use std::thread;
use std::time::{Duration, Instant};

use common::*;
use redis::{Connection, Value};

const READ_TIMEOUT: Duration = Duration::from_secs(10);

fn connect(port: u16, resp3: bool) -> Connection {
    let url = if resp3 {
        format!("redis://127.0.0.1:{port}/?protocol=resp3")
    } else {
        format!("redis://127.0.0.1:{port}/")
    };
    let client = redis::Client::open(url).expect("client");
    let con = client.get_connection().expect("connect");
    con.set_read_timeout(Some(READ_TIMEOUT))
        .expect("read timeout");
    con
}

/// A reply as compact text: arrays in brackets, maps in braces, errors with `!`.
fn render(v: &Value) -> String {
    match v {
        Value::Nil => "nil".into(),
        Value::Int(n) => n.to_string(),
        Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        Value::SimpleString(s) => s.clone(),
        Value::Okay => "OK".into(),
        Value::Array(items) | Value::Set(items) => {
            let parts: Vec<String> = items.iter().map(render).collect();
            format!("[{}]", parts.join(" "))
        }
        Value::Map(pairs) => {
            let parts: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("{}:{}", render(k), render(v)))
                .collect();
            format!("{{{}}}", parts.join(" "))
        }
        Value::ServerError(e) => format!("!{}", e.details().unwrap_or("")).trim().to_string(),
        other => format!("{other:?}"),
    }
}

/// Runs a command, rendering errors as replies.
fn run(con: &mut Connection, args: &[&str]) -> String {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    match c.query::<Value>(con) {
        Ok(v) => render(&v),
        Err(e) => format!("!{} {}", e.code().unwrap_or(""), e.detail().unwrap_or("")),
    }
}

/// Waits until a client other than `con` is running (blocked in) a command named `name`.
fn wait_blocked(con: &mut Connection, name: &str) {
    let deadline = Instant::now() + READ_TIMEOUT;
    let needle = format!("cmd={name} ");
    loop {
        let list: String = redis::cmd("CLIENT")
            .arg("LIST")
            .query(con)
            .expect("CLIENT LIST");
        if list.lines().any(|l| l.contains(&needle)) {
            return;
        }
        assert!(Instant::now() < deadline, "no client blocked in {name}");
        thread::sleep(Duration::from_millis(5));
    }
}

/// Runs `setup` on a connection, then `blocking` on another (in a thread), waits until it
/// blocks, runs `writes`, and returns the blocked client's reply and the `after` replies.
fn scenario(
    port: u16,
    resp3: bool,
    setup: &[&[&str]],
    blocking: &[&str],
    writes: &[&[&str]],
    after: &[&[&str]],
) -> (String, Vec<String>) {
    let mut con = connect(port, resp3);
    run(&mut con, &["FLUSHALL"]);
    for c in setup {
        run(&mut con, c);
    }
    let argv: Vec<String> = blocking.iter().map(|s| s.to_string()).collect();
    let waiter = thread::spawn(move || {
        let mut b = connect(port, resp3);
        let refs: Vec<&str> = argv.iter().map(String::as_str).collect();
        run(&mut b, &refs)
    });
    wait_blocked(&mut con, &blocking[0].to_ascii_lowercase());
    for c in writes {
        run(&mut con, c);
    }
    let got = waiter.join().expect("the blocked client's thread");
    let rest = after.iter().map(|c| run(&mut con, c)).collect();
    (got, rest)
}

/// Runs a scenario on cachegate and on redis-server; both must answer alike. Returns
/// cachegate's answers.
fn both(
    resp3: bool,
    setup: &[&[&str]],
    blocking: &[&str],
    writes: &[&[&str]],
    after: &[&[&str]],
) -> (String, Vec<String>) {
    let cg = Cachegate::start(&[]);
    let redis = redis_server();
    let ours = scenario(cg.port, resp3, setup, blocking, writes, after);
    let theirs = scenario(redis.port, resp3, setup, blocking, writes, after);
    assert_eq!(
        ours, theirs,
        "cachegate (left) and redis-server (right) differ"
    );
    ours
}

#[test]
fn xread_block_is_served_by_a_later_xadd() {
    let (got, _) = both(
        false,
        &[&["XADD", "s", "1-0", "old", "x"]],
        &["XREAD", "BLOCK", "0", "STREAMS", "s", "$"],
        &[&["XADD", "s", "2-0", "new", "y"]],
        &[],
    );
    // `$` was resolved when the client blocked: the entry added before is not returned.
    assert_eq!(got, "[[s [[2-0 [new y]]]]]");
}

#[test]
fn xread_block_in_resp3_answers_a_map() {
    let (got, _) = both(
        true,
        &[],
        &["XREAD", "BLOCK", "0", "STREAMS", "nokey", "$"],
        &[&["XADD", "nokey", "5-1", "f", "v"]],
        &[],
    );
    assert_eq!(got, "{nokey:[[5-1 [f v]]]}");
}

#[test]
fn xread_block_on_several_keys_answers_with_the_one_written() {
    let (got, _) = both(
        false,
        &[
            &["XADD", "a", "1-0", "f", "v"],
            &["XADD", "b", "1-0", "f", "v"],
        ],
        &["XREAD", "BLOCK", "0", "STREAMS", "a", "b", "$", "$"],
        &[&["SET", "unrelated", "x"], &["XADD", "b", "2-0", "g", "w"]],
        &[],
    );
    assert_eq!(got, "[[b [[2-0 [g w]]]]]");
}

#[test]
fn xread_block_times_out_with_a_null() {
    let cg = Cachegate::start(&[]);
    let mut con = connect(cg.port, false);
    run(&mut con, &["XADD", "s", "1-0", "f", "v"]);
    let start = Instant::now();
    let got = run(&mut con, &["XREAD", "BLOCK", "50", "STREAMS", "s", "$"]);
    assert_eq!(got, "nil");
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_millis(45),
        "answered after {waited:?}"
    );
    assert!(waited < Duration::from_secs(5), "answered after {waited:?}");
}

#[test]
fn xread_block_survives_the_key_being_deleted_and_recreated() {
    let (got, _) = both(
        false,
        &[&["XADD", "s", "666", "f", "v"]],
        &["XREAD", "BLOCK", "0", "STREAMS", "s", "$"],
        &[
            &["DEL", "s"],
            &["SET", "s", "string"],
            &["DEL", "s"],
            &["XADD", "s", "667", "f", "v"],
        ],
        &[],
    );
    assert_eq!(got, "[[s [[667-0 [f v]]]]]");
}

#[test]
fn xreadgroup_block_is_served_and_records_the_entry_as_pending() {
    let (got, after) = both(
        false,
        &[&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]],
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "alice",
            "BLOCK",
            "0",
            "STREAMS",
            "s",
            ">",
        ],
        &[&["XADD", "s", "1-0", "f", "v"]],
        &[&["XPENDING", "s", "g"], &["XINFO", "GROUPS", "s"]],
    );
    assert_eq!(got, "[[s [[1-0 [f v]]]]]");
    assert_eq!(after[0], "[1 1-0 1-0 [[alice 1]]]");
    assert!(
        after[1].contains("last-delivered-id 1-0 entries-read 1 lag 0"),
        "{}",
        after[1]
    );
}

#[test]
fn xreadgroup_block_noack_leaves_nothing_pending() {
    let (got, after) = both(
        false,
        &[&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]],
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "bob",
            "COUNT",
            "1",
            "NOACK",
            "BLOCK",
            "0",
            "STREAMS",
            "s",
            ">",
        ],
        &[&["XADD", "s", "1-0", "f", "v"]],
        &[&["XPENDING", "s", "g"]],
    );
    assert_eq!(got, "[[s [[1-0 [f v]]]]]");
    assert_eq!(after[0], "[0 nil nil nil]");
}

#[test]
fn blocked_xreadgroup_fails_when_the_key_goes() {
    let (got, _) = both(
        false,
        &[
            &["XADD", "s", "666", "f", "v"],
            &["XGROUP", "CREATE", "s", "g", "$"],
        ],
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "alice",
            "BLOCK",
            "0",
            "STREAMS",
            "s",
            ">",
        ],
        &[&["DEL", "s"]],
        &[],
    );
    assert_eq!(got, "!UNBLOCKED the stream key no longer exists");
}

#[test]
fn blocked_xreadgroup_fails_when_the_key_changes_type() {
    let (got, _) = both(
        false,
        &[
            &["XADD", "s", "666", "f", "v"],
            &["XGROUP", "CREATE", "s", "g", "$"],
        ],
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "alice",
            "BLOCK",
            "0",
            "STREAMS",
            "s",
            ">",
        ],
        &[&["SET", "s", "val"]],
        &[],
    );
    assert_eq!(got, "!UNBLOCKED the stream key no longer exists");
}

#[test]
fn blocked_xreadgroup_fails_when_the_group_is_destroyed() {
    let (got, _) = both(
        false,
        &[&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]],
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "alice",
            "BLOCK",
            "0",
            "STREAMS",
            "s",
            ">",
        ],
        &[&["XGROUP", "DESTROY", "s", "g"]],
        &[],
    );
    assert_eq!(
        got,
        "!NOGROUP the consumer group this client was blocked on no longer exists"
    );
}

#[test]
fn blocked_xreadgroup_is_served_by_a_rename_that_brings_the_group() {
    let (got, _) = both(
        false,
        &[
            &["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"],
            &["XGROUP", "CREATE", "s2", "g", "$", "MKSTREAM"],
            &["XADD", "s2", "100", "f1", "v1"],
        ],
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "alice",
            "BLOCK",
            "0",
            "STREAMS",
            "s",
            ">",
        ],
        &[&["RENAME", "s2", "s"]],
        &[],
    );
    assert_eq!(got, "[[s [[100-0 [f1 v1]]]]]");
}

#[test]
fn blocked_xreadgroup_gets_only_new_entries_after_another_consumer_read() {
    // Two consumers block on the same group; one XADD serves the first, the second stays
    // blocked until the next entry.
    let cg = Cachegate::start(&[]);
    let mut con = connect(cg.port, false);
    run(&mut con, &["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
    let port = cg.port;
    let spawn = |name: &'static str| {
        thread::spawn(move || {
            let mut b = connect(port, false);
            run(
                &mut b,
                &[
                    "XREADGROUP",
                    "GROUP",
                    "g",
                    name,
                    "BLOCK",
                    "0",
                    "STREAMS",
                    "s",
                    ">",
                ],
            )
        })
    };
    let first = spawn("c1");
    wait_blocked(&mut con, "xreadgroup");
    let second = spawn("c2");
    // Wait until both are blocked: two clients show the command.
    let deadline = Instant::now() + READ_TIMEOUT;
    loop {
        let list: String = redis::cmd("CLIENT")
            .arg("LIST")
            .query(&mut con)
            .expect("list");
        if list.matches("cmd=xreadgroup ").count() == 2 {
            break;
        }
        assert!(Instant::now() < deadline, "both clients should block");
        thread::sleep(Duration::from_millis(5));
    }
    run(&mut con, &["XADD", "s", "1-0", "f", "v"]);
    assert_eq!(first.join().expect("c1"), "[[s [[1-0 [f v]]]]]");
    run(&mut con, &["XADD", "s", "2-0", "f", "w"]);
    assert_eq!(second.join().expect("c2"), "[[s [[2-0 [f w]]]]]");
    assert_eq!(
        run(&mut con, &["XPENDING", "s", "g"]),
        "[2 1-0 2-0 [[c1 1] [c2 1]]]"
    );
}
