//! Blocking list commands end to end with the `redis` crate (and raw sockets where the
//! bytes matter): timeouts with fractions, first-blocked-first service, clients leaving
//! while blocked, BLMOVE chains, pipelines that end in a blocking command, RESP3 replies,
//! CLIENT UNBLOCK and CLIENT KILL of a blocked client, INFO blocked_clients and the `b` flag
//! — against both execution models.
//!
//! Every wait is bounded: connections get read timeouts, and the helpers that wait for a
//! client to block poll CLIENT LIST for at most a few seconds. A client counts as blocked
//! once CLIENT LIST shows its blocking command as its last one: the server updates that
//! line in the same step that parks the client.

mod common;

use std::io::Write;
use std::thread;
use std::time::{Duration, Instant};

use cachegate_protocols::resp::Frame;
use common::*;
use redis::Commands;

/// Longest any single wait in these tests may take.
const BOUND: Duration = Duration::from_secs(5);

fn client(cg: &Cachegate) -> redis::Client {
    redis::Client::open(format!("redis://127.0.0.1:{}/", cg.port)).expect("client")
}

fn connect_redis(cg: &Cachegate) -> redis::Connection {
    let con = client(cg)
        .get_connection_with_timeout(BOUND)
        .expect("connect");
    con.set_read_timeout(Some(BOUND)).expect("read timeout");
    con.set_write_timeout(Some(BOUND)).expect("write timeout");
    con
}

/// The CLIENT LIST lines of the clients whose last command is `cmd`.
fn clients_on(con: &mut redis::Connection, cmd: &str) -> Vec<String> {
    let list: String = redis::cmd("CLIENT")
        .arg("LIST")
        .query(con)
        .expect("CLIENT LIST");
    let field = format!(" cmd={cmd} ");
    list.lines()
        .filter(|l| l.contains(&field))
        .map(str::to_string)
        .collect()
}

/// Waits until `n` clients' last command is `cmd` (they are blocked in it).
fn wait_blocked(con: &mut redis::Connection, cmd: &str, n: usize) {
    let deadline = Instant::now() + BOUND;
    while clients_on(con, cmd).len() < n {
        assert!(
            Instant::now() < deadline,
            "{n} clients did not block in {cmd}"
        );
        thread::sleep(Duration::from_millis(5));
    }
}

/// INFO's `blocked_clients`.
fn blocked_clients(con: &mut redis::Connection) -> i64 {
    let info: String = redis::cmd("INFO").arg("clients").query(con).expect("INFO");
    info.lines()
        .find_map(|l| l.strip_prefix("blocked_clients:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("blocked_clients field")
}

/// Runs `f` on a fresh connection in a thread (it usually blocks there).
fn spawn<T: Send + 'static>(
    cg: &Cachegate,
    f: impl FnOnce(&mut redis::Connection) -> T + Send + 'static,
) -> thread::JoinHandle<T> {
    let mut con = connect_redis(cg);
    thread::spawn(move || f(&mut con))
}

#[test]
fn timeouts_with_fractions() {
    let cg = Cachegate::start(&[]);
    let mut con = connect_redis(&cg);
    for (timeout, at_least) in [(0.05, 50), (0.25, 250)] {
        let t = Instant::now();
        let got: Option<(String, String)> = con.blpop("missing", timeout).unwrap();
        let took = t.elapsed();
        assert_eq!(got, None);
        assert!(
            took >= Duration::from_millis(at_least),
            "{timeout}s took {took:?}"
        );
        assert!(took < Duration::from_secs(2), "{timeout}s took {took:?}");
    }
    // Every list wait answers a null array when it times out, BLMOVE included.
    let t = Instant::now();
    let got: Option<String> = con
        .blmove(
            "missing",
            "dst",
            redis::Direction::Left,
            redis::Direction::Right,
            0.05,
        )
        .unwrap();
    assert_eq!(got, None);
    assert!(t.elapsed() >= Duration::from_millis(50));
    let mut raw = cg.redis();
    assert_eq!(
        cmd(&mut raw, &["BRPOPLPUSH", "missing", "dst", "0.02"]),
        Frame::NullArray
    );
    assert_eq!(
        cmd(&mut raw, &["BLMPOP", "0.02", "1", "missing", "LEFT"]),
        Frame::NullArray
    );
    // The connection works normally afterwards.
    let n: i64 = con.rpush("l", "x").unwrap();
    assert_eq!(n, 1);
}

#[test]
fn first_blocked_is_served_first() {
    let cg = Cachegate::start(&[]);
    let mut admin = connect_redis(&cg);
    let mut waiters = Vec::new();
    for i in 0..3 {
        waiters.push(spawn(&cg, |c| {
            c.blpop::<_, Option<(String, String)>>("queue", 0.0)
                .unwrap()
        }));
        // Each blocks before the next one does.
        wait_blocked(&mut admin, "blpop", i + 1);
    }
    let _: i64 = admin.rpush("queue", &["a", "b", "c"]).unwrap();
    let got: Vec<_> = waiters.into_iter().map(|w| w.join().unwrap()).collect();
    let want = |e: &str| Some(("queue".to_string(), e.to_string()));
    assert_eq!(got, vec![want("a"), want("b"), want("c")]);
    let len: i64 = admin.llen("queue").unwrap();
    assert_eq!(len, 0, "every element went to a waiting client");

    // One element at a time: still in blocking order, over BRPOP and BLMPOP.
    let first = spawn(&cg, |c| {
        c.brpop::<_, Option<(String, String)>>(&["q1", "q2"], 0.0)
            .unwrap()
    });
    wait_blocked(&mut admin, "brpop", 1);
    let second = spawn(&cg, |c| {
        redis::cmd("BLMPOP")
            .arg(0)
            .arg(2)
            .arg("q2")
            .arg("q1")
            .arg("RIGHT")
            .arg("COUNT")
            .arg(5)
            .query::<Option<(String, Vec<String>)>>(c)
            .unwrap()
    });
    wait_blocked(&mut admin, "blmpop", 1);
    let _: i64 = admin.rpush("q2", &["x", "y"]).unwrap();
    assert_eq!(first.join().unwrap(), Some(("q2".into(), "y".into())));
    assert_eq!(
        second.join().unwrap(),
        Some(("q2".into(), vec!["x".into()]))
    );
}

#[test]
fn a_client_that_leaves_while_blocked_is_skipped() {
    let cg = Cachegate::start(&[]);
    let mut admin = connect_redis(&cg);
    let mut gone = cg.redis();
    let gone_id = match cmd(&mut gone, &["CLIENT", "ID"]) {
        Frame::Integer(id) => id,
        other => panic!("CLIENT ID: {other:?}"),
    };
    gone.write_all(&Frame::command(["BLPOP", "jobs", "0"]).to_bytes())
        .unwrap();
    wait_blocked(&mut admin, "blpop", 1);
    let stays = spawn(&cg, |c| {
        c.blpop::<_, Option<(String, String)>>("jobs", 0.0).unwrap()
    });
    wait_blocked(&mut admin, "blpop", 2);
    drop(gone);
    // The server notices the close and forgets the client.
    let deadline = Instant::now() + BOUND;
    let id_field = format!("id={gone_id} ");
    while clients_on(&mut admin, "blpop")
        .iter()
        .any(|l| l.starts_with(&id_field))
    {
        assert!(
            Instant::now() < deadline,
            "the closed client is still listed"
        );
        thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(blocked_clients(&mut admin), 1, "the one still waiting");
    let _: i64 = admin.rpush("jobs", "j1").unwrap();
    assert_eq!(stays.join().unwrap(), Some(("jobs".into(), "j1".into())));
    let len: i64 = admin.llen("jobs").unwrap();
    assert_eq!(len, 0);
}

#[test]
fn blmove_chains_serve_the_next_client() {
    let cg = Cachegate::start(&[]);
    let mut admin = connect_redis(&cg);
    // a → b (BLMOVE), b → c (BRPOPLPUSH), c popped (BLPOP): one push serves all three.
    let mover = spawn(&cg, |c| {
        c.blmove::<_, _, Option<String>>(
            "a",
            "b",
            redis::Direction::Right,
            redis::Direction::Left,
            0.0,
        )
        .unwrap()
    });
    wait_blocked(&mut admin, "blmove", 1);
    let second = spawn(&cg, |c| {
        redis::cmd("BRPOPLPUSH")
            .arg("b")
            .arg("c")
            .arg(0)
            .query::<Option<String>>(c)
            .unwrap()
    });
    wait_blocked(&mut admin, "brpoplpush", 1);
    let last = spawn(&cg, |c| {
        c.blpop::<_, Option<(String, String)>>("c", 0.0).unwrap()
    });
    wait_blocked(&mut admin, "blpop", 1);
    let _: i64 = admin.rpush("a", "item").unwrap();
    assert_eq!(mover.join().unwrap(), Some("item".into()));
    assert_eq!(second.join().unwrap(), Some("item".into()));
    assert_eq!(last.join().unwrap(), Some(("c".into(), "item".into())));
    let exists: i64 = admin.exists(&["a", "b", "c"]).unwrap();
    assert_eq!(exists, 0, "the element passed through every list");
}

#[test]
fn a_key_of_another_type_leaves_the_client_blocked() {
    let cg = Cachegate::start(&[]);
    let mut admin = connect_redis(&cg);
    let waiter = spawn(&cg, |c| {
        c.blpop::<_, Option<(String, String)>>("k", 0.0).unwrap()
    });
    wait_blocked(&mut admin, "blpop", 1);
    let _: () = admin.set("k", "a string").unwrap();
    let _: i64 = admin.del("k").unwrap();
    let _: i64 = admin.rpush("k", "v").unwrap();
    assert_eq!(waiter.join().unwrap(), Some(("k".into(), "v".into())));
    // Waiting on two keys: when the second is pushed, the first holding a string by then
    // is no error — the client is served from the list that became ready, as in 7.0.
    let waiter = spawn(&cg, |c| {
        c.brpop::<_, Option<(String, String)>>(&["k1", "k2"], 0.0)
            .unwrap()
    });
    wait_blocked(&mut admin, "brpop", 1);
    let _: () = admin.set("k1", "a string").unwrap();
    let _: i64 = admin.rpush("k2", "v2").unwrap();
    assert_eq!(waiter.join().unwrap(), Some(("k2".into(), "v2".into())));
    // A BLMOVE whose destination became a string answers WRONGTYPE when served, and the
    // element stays where it was.
    let mover = spawn(&cg, |c| {
        c.blmove::<_, _, Option<String>>(
            "src",
            "dst",
            redis::Direction::Left,
            redis::Direction::Left,
            0.0,
        )
    });
    wait_blocked(&mut admin, "blmove", 1);
    let _: () = admin.set("dst", "x").unwrap();
    let _: i64 = admin.rpush("src", "e").unwrap();
    let err = mover.join().unwrap().unwrap_err();
    assert!(err.to_string().contains("WRONGTYPE"), "{err}");
    let left: Vec<String> = admin.lrange("src", 0, -1).unwrap();
    assert_eq!(left, vec!["e".to_string()]);
}

#[test]
fn a_pipeline_ending_in_a_blocking_command() {
    let cg = Cachegate::start(&[]);
    let mut admin = connect_redis(&cg);
    let mut s = cg.redis();
    let mut req = Vec::new();
    for c in [
        &["RPUSH", "p", "1"][..],
        &["LLEN", "p"],
        &["BLPOP", "wait", "0"],
        &["PING"],
    ] {
        req.extend_from_slice(&Frame::command(c).to_bytes());
    }
    // The replies before the blocking command arrive while it blocks; PING waits behind it.
    let (got, closed) = exchange(&mut s, &req, Duration::from_millis(300));
    assert!(!closed);
    assert_eq!(got, b":1\r\n:1\r\n");
    wait_blocked(&mut admin, "blpop", 1);
    let _: i64 = admin.rpush("wait", "w").unwrap();
    s.set_read_timeout(Some(BOUND)).unwrap();
    let mut buf = Vec::new();
    assert_eq!(
        read_reply(&mut s, &mut buf),
        Frame::Array(vec![Frame::bulk("wait"), Frame::bulk("w")])
    );
    assert_eq!(read_reply(&mut s, &mut buf), Frame::simple("PONG"));
}

#[test]
fn resp3_replies_of_served_and_timed_out_clients() {
    let cg = Cachegate::start(&[]);
    let mut admin = connect_redis(&cg);
    let mut s = cg.redis();
    let _ = cmd(&mut s, &["HELLO", "3"]);
    assert_eq!(cmd(&mut s, &["BLPOP", "missing", "0.01"]), Frame::Null);
    assert_eq!(
        cmd(&mut s, &["BLMOVE", "missing", "d", "LEFT", "LEFT", "0.01"]),
        Frame::Null
    );
    s.write_all(&Frame::command(["BLMPOP", "0", "1", "r3", "LEFT", "COUNT", "2"]).to_bytes())
        .unwrap();
    wait_blocked(&mut admin, "blmpop", 1);
    let _: i64 = admin.rpush("r3", &["a", "b", "c"]).unwrap();
    let mut buf = Vec::new();
    s.set_read_timeout(Some(BOUND)).unwrap();
    assert_eq!(
        read_reply(&mut s, &mut buf),
        Frame::Array(vec![
            Frame::bulk("r3"),
            Frame::Array(vec![Frame::bulk("a"), Frame::bulk("b")])
        ])
    );
    let left: Vec<String> = admin.lrange("r3", 0, -1).unwrap();
    assert_eq!(left, vec!["c".to_string()]);
}

/// The id of a fresh raw connection, and the connection.
fn raw_with_id(cg: &Cachegate) -> (std::net::TcpStream, i64) {
    let mut s = cg.redis();
    match cmd(&mut s, &["CLIENT", "ID"]) {
        Frame::Integer(id) => (s, id),
        other => panic!("CLIENT ID: {other:?}"),
    }
}

fn client_unblock_answers_timeout_or_error(cg: &Cachegate) {
    let mut admin = connect_redis(cg);
    for (how, want) in [
        (None, Frame::NullArray),
        (Some("TIMEOUT"), Frame::NullArray),
        (
            Some("ERROR"),
            Frame::error("UNBLOCKED client unblocked via CLIENT UNBLOCK"),
        ),
    ] {
        let (mut raw, id) = raw_with_id(cg);
        raw.write_all(&Frame::command(["BLPOP", "nothing", "0"]).to_bytes())
            .unwrap();
        wait_blocked(&mut admin, "blpop", 1);
        assert_eq!(blocked_clients(&mut admin), 1);
        let line = clients_on(&mut admin, "blpop").pop().unwrap_or_default();
        assert!(line.contains(" flags=b "), "{line}");
        let mut c = redis::cmd("CLIENT");
        c.arg("UNBLOCK").arg(id);
        if let Some(h) = how {
            c.arg(h);
        }
        let n: i64 = c.query(&mut admin).expect("CLIENT UNBLOCK");
        assert_eq!(n, 1);
        let mut buf = Vec::new();
        assert_eq!(read_reply(&mut raw, &mut buf), want);
        assert_eq!(blocked_clients(&mut admin), 0);
        // Not blocked any more: nothing to unblock.
        let n: i64 = redis::cmd("CLIENT")
            .arg("UNBLOCK")
            .arg(id)
            .query(&mut admin)
            .expect("again");
        assert_eq!(n, 0);
        // The connection goes on.
        assert_eq!(cmd(&mut raw, &["PING"]), Frame::simple("PONG"));
    }
}

fn client_kill_of_a_blocked_client(cg: &Cachegate) {
    let mut admin = connect_redis(cg);
    let (mut raw, id) = raw_with_id(cg);
    raw.write_all(&Frame::command(["BRPOP", "q", "0"]).to_bytes())
        .unwrap();
    wait_blocked(&mut admin, "brpop", 1);
    let n: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("ID")
        .arg(id)
        .query(&mut admin)
        .expect("kill");
    assert_eq!(n, 1);
    assert_eq!(blocked_clients(&mut admin), 0);
    // A push now serves nobody: the element stays.
    let _: i64 = admin.rpush("q", "x").unwrap();
    let len: i64 = admin.llen("q").unwrap();
    assert_eq!(len, 1);
    let mut buf = [0u8; 16];
    raw.set_read_timeout(Some(BOUND)).unwrap();
    let n = std::io::Read::read(&mut raw, &mut buf).unwrap_or(0);
    assert_eq!(n, 0, "the killed connection is closed without a reply");
}

#[test]
fn client_unblock() {
    client_unblock_answers_timeout_or_error(&Cachegate::start(&[]));
}

#[test]
fn client_kill_while_blocked() {
    client_kill_of_a_blocked_client(&Cachegate::start(&[]));
}

#[test]
fn blocking_under_the_engine_model() {
    let cg = Cachegate::start(&["--execution-model", "engine"]);
    client_unblock_answers_timeout_or_error(&cg);
    client_kill_of_a_blocked_client(&cg);
    let mut admin = connect_redis(&cg);
    let waiter = spawn(&cg, |c| {
        c.blpop::<_, Option<(String, String)>>("eq", 0.0).unwrap()
    });
    wait_blocked(&mut admin, "blpop", 1);
    let _: i64 = admin.rpush("eq", "v").unwrap();
    assert_eq!(waiter.join().unwrap(), Some(("eq".into(), "v".into())));
}
