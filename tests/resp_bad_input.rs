//! Bad input and bad clients over real sockets: each gets redis-server's reply (or the
//! connection closed where redis-server closes it), nothing panics, and other clients never
//! notice. Exact protocol error bytes are also compared against redis-server by the
//! differential tester; here the focus is on the server staying healthy.

mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use cachegate_protocols::resp::Frame;
use common::*;

/// A second client still gets prompt answers.
fn assert_healthy(cg: &Cachegate) {
    let mut c = cg.redis();
    let started = Instant::now();
    assert_eq!(cmd(&mut c, &["PING"]), Frame::simple("PONG"));
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "PING took {:?}",
        started.elapsed()
    );
}

#[test]
fn garbage_bytes_never_take_the_server_down() {
    let cg = Cachegate::start(&[]);
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    for round in 0..20 {
        let mut c = cg.redis();
        let mut junk = Vec::with_capacity(4096);
        for _ in 0..4096 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            junk.push(state as u8);
        }
        if round % 2 == 0 {
            junk[0] = b'*';
        }
        let _ = exchange(&mut c, &junk, Duration::from_millis(50));
    }
    assert_healthy(&cg);
}

#[test]
fn protocol_errors_reply_then_close() {
    let cg = Cachegate::start(&[]);
    let cases: &[(&[u8], &[u8])] = &[
        (
            b"*9223372036854775807\r\n",
            b"-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*1\r\n$9223372036854775807\r\n",
            b"-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*1\r\n$-5\r\n",
            b"-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*1\r\nx\r\n",
            b"-ERR Protocol error: expected '$', got 'x'\r\n",
        ),
        (
            b"SET a \"b\r\n",
            b"-ERR Protocol error: unbalanced quotes in request\r\n",
        ),
        (
            b"PING\r\n*abc\r\n",
            b"+PONG\r\n-ERR Protocol error: invalid multibulk length\r\n",
        ),
    ];
    for (req, want) in cases {
        let mut c = cg.redis();
        let (got, closed) = exchange(&mut c, req, Duration::from_secs(2));
        assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(want));
        assert!(
            closed,
            "connection should close after {:?}",
            String::from_utf8_lossy(req)
        );
    }
    // A negative multibulk count is an empty request: the connection carries on.
    let mut c = cg.redis();
    let (got, closed) = exchange(&mut c, b"*-1\r\nPING\r\n", Duration::from_millis(300));
    assert_eq!(got, b"+PONG\r\n");
    assert!(!closed);
    // So is an empty inline line.
    let (got, _) = exchange(&mut c, b"\r\n\r\nPING\r\n", Duration::from_millis(300));
    assert_eq!(got, b"+PONG\r\n");
    assert_healthy(&cg);
}

#[test]
fn too_big_inline_request_closes() {
    let cg = Cachegate::start(&[]);
    let mut c = cg.redis();
    let big = vec![b'a'; 70 * 1024];
    let (got, closed) = exchange(&mut c, &big, Duration::from_secs(2));
    assert_eq!(got, b"-ERR Protocol error: too big inline request\r\n");
    assert!(closed);
    assert_healthy(&cg);
}

#[test]
fn big_and_binary_keys_and_values() {
    let cg = Cachegate::start(&[]);
    let mut c = cg.redis();
    let key = vec![b'k'; 1024 * 1024];
    let value = vec![0xffu8; 3 * 1024 * 1024];
    let set = Frame::command([b"SET".as_slice(), &key, &value]);
    c.write_all(&set.to_bytes()).unwrap();
    assert_eq!(read_reply(&mut c, &mut Vec::new()), Frame::simple("OK"));
    c.write_all(&Frame::command([b"GET".as_slice(), &key]).to_bytes())
        .unwrap();
    assert_eq!(read_reply(&mut c, &mut Vec::new()), Frame::bulk(&value));
    let binary = b"k\x00e\r\ny\xff";
    c.write_all(&Frame::command([b"SET".as_slice(), binary, b"v\r\n\x00"]).to_bytes())
        .unwrap();
    assert_eq!(read_reply(&mut c, &mut Vec::new()), Frame::simple("OK"));
    c.write_all(&Frame::command([b"GET".as_slice(), binary]).to_bytes())
        .unwrap();
    assert_eq!(
        read_reply(&mut c, &mut Vec::new()),
        Frame::bulk(b"v\r\n\x00")
    );
    assert_eq!(
        cmd(&mut c, &["GET"]),
        Frame::error("ERR wrong number of arguments for 'get' command")
    );
    assert_eq!(cmd(&mut c, &["DBSIZE"]), Frame::Integer(2));
}

#[test]
fn half_a_request_stalls_only_its_own_client() {
    let cg = Cachegate::start(&[]);
    let mut stalled = cg.redis();
    stalled
        .write_all(b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$5\r\nhel")
        .unwrap();
    for _ in 0..20 {
        assert_healthy(&cg);
    }
    // The rest arrives later and the request completes.
    stalled.write_all(b"lo\r\n").unwrap();
    assert_eq!(
        read_reply(&mut stalled, &mut Vec::new()),
        Frame::simple("OK")
    );
    let mut c = cg.redis();
    assert_eq!(cmd(&mut c, &["GET", "a"]), Frame::bulk("hello"));
}

#[test]
fn a_client_that_never_reads_does_not_block_others() {
    let cg = Cachegate::start(&[]);
    let mut c = cg.redis();
    let value = "x".repeat(256 * 1024);
    assert_eq!(cmd(&mut c, &["SET", "big", &value]), Frame::simple("OK"));
    // 4000 GETs of 256 KiB is ~1 GB of replies; this client never reads any of them.
    let mut greedy = cg.redis();
    let one = Frame::command(["GET", "big"]).to_bytes();
    let pipeline: Vec<u8> = one.iter().copied().cycle().take(one.len() * 4000).collect();
    let writer = std::thread::spawn(move || {
        // The server stops reading once its socket buffers fill; stop trying after a while.
        greedy
            .set_write_timeout(Some(Duration::from_secs(3)))
            .unwrap();
        let _ = greedy.write_all(&pipeline);
        greedy
    });
    std::thread::sleep(Duration::from_millis(300));
    for _ in 0..20 {
        assert_healthy(&cg);
    }
    assert_eq!(cmd(&mut c, &["STRLEN", "big"]), Frame::Integer(256 * 1024));
    drop(writer.join().unwrap());
    assert_healthy(&cg);
}

#[test]
fn maxclients_refuses_with_redis_error() {
    let cg = Cachegate::start(&["--maxclients", "2"]);
    // The harness's readiness probe may still hold a slot for a moment: retry until two
    // clients are in.
    let admit = || {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let mut s = cg.redis();
            s.write_all(&Frame::command(["PING"]).to_bytes()).unwrap();
            let (got, _) = read_until_idle(&mut s, Duration::from_millis(200));
            if got == b"+PONG\r\n" {
                return s;
            }
            assert!(Instant::now() < deadline, "could not connect");
        }
    };
    let a = admit();
    let _b = admit();
    let mut c = cg.redis();
    let (got, closed) = read_until_idle(&mut c, Duration::from_secs(2));
    assert_eq!(got, b"-ERR max number of clients reached\r\n");
    assert!(closed);
    drop(a);
    // The slot frees once the first client is gone.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut d = cg.redis();
        d.write_all(&Frame::command(["PING"]).to_bytes()).unwrap();
        let (got, _) = read_until_idle(&mut d, Duration::from_millis(200));
        if got == b"+PONG\r\n" {
            break;
        }
        assert!(Instant::now() < deadline, "slot never freed");
    }
}

#[test]
fn idle_clients_are_closed_after_timeout() {
    let cg = Cachegate::start(&["--timeout", "1"]);
    let mut idle = cg.redis();
    assert_eq!(cmd(&mut idle, &["PING"]), Frame::simple("PONG"));
    let (got, closed) = read_until_idle(&mut idle, Duration::from_secs(4));
    assert!(got.is_empty());
    assert!(closed, "idle client was not closed");
    assert_healthy(&cg);
}

#[test]
fn query_buffer_and_bulk_limits() {
    let cg = Cachegate::start(&[]);
    let mut admin = cg.redis();
    assert_eq!(
        cmd(&mut admin, &["CONFIG", "SET", "proto-max-bulk-len", "1mb"]),
        Frame::simple("OK")
    );
    let mut c = cg.redis();
    let (got, closed) = exchange(
        &mut c,
        b"*2\r\n$3\r\nGET\r\n$2000000\r\n",
        Duration::from_secs(2),
    );
    assert_eq!(got, b"-ERR Protocol error: invalid bulk length\r\n");
    assert!(closed);
    assert_eq!(
        cmd(
            &mut admin,
            &[
                "CONFIG",
                "SET",
                "proto-max-bulk-len",
                "512mb",
                "client-query-buffer-limit",
                "1mb"
            ]
        ),
        Frame::simple("OK")
    );
    // A 2 MB argument still arriving passes the 1 MB query buffer limit: closed, no reply.
    let mut c = cg.redis();
    c.write_all(b"*2\r\n$3\r\nGET\r\n$2000000\r\n").unwrap();
    let _ = c.write_all(&vec![b'a'; 1_500_000]);
    let (got, closed) = read_until_idle(&mut c, Duration::from_secs(2));
    assert!(got.is_empty());
    assert!(closed);
    assert_healthy(&cg);
}

#[test]
fn http_requests_are_dropped() {
    let cg = Cachegate::start(&[]);
    let mut c = cg.redis();
    let (got, closed) = exchange(
        &mut c,
        b"POST / HTTP/1.1\r\nHost: x\r\n\r\n",
        Duration::from_secs(2),
    );
    assert!(got.is_empty(), "{:?}", String::from_utf8_lossy(&got));
    assert!(closed);
    assert_healthy(&cg);
}
