//! End to end over the memcached port: a real memcached client library, raw protocol
//! conversations, bad input, and stats.

mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use common::*;

fn client(cg: &Cachegate) -> memcache::Client {
    memcache::Client::connect(format!(
        "memcache://127.0.0.1:{}?protocol=ascii&timeout=5",
        cg.mc_port
    ))
    .expect("memcache client")
}

#[test]
fn memcache_crate_round_trips() {
    let cg = Cachegate::start(&[]);
    let c = client(&cg);
    c.set("greeting", "hello", 0).unwrap();
    let v: Option<String> = c.get("greeting").unwrap();
    assert_eq!(v.as_deref(), Some("hello"));
    // add on an existing key is NOT_STORED (the crate reports that as Ok): nothing changes.
    c.add("greeting", "again", 0).unwrap();
    let v: Option<String> = c.get("greeting").unwrap();
    assert_eq!(v.as_deref(), Some("hello"));
    c.append("greeting", " world").unwrap();
    let v: Option<String> = c.get("greeting").unwrap();
    assert_eq!(v.as_deref(), Some("hello world"));
    c.set("n", 10u64, 0).unwrap();
    assert_eq!(c.increment("n", 5).unwrap(), 15);
    assert_eq!(c.decrement("n", 20).unwrap(), 0);
    assert!(c.delete("n").unwrap());
    assert!(!c.delete("n").unwrap());
    let many: std::collections::HashMap<String, String> = c.gets(&["greeting", "missing"]).unwrap();
    assert_eq!(many.len(), 1);
    c.flush().unwrap();
    let v: Option<String> = c.get("greeting").unwrap();
    assert_eq!(v, None);
    let version = c.version().unwrap();
    assert_eq!(version[0].1, "1.6.18");
}

#[test]
fn raw_conversation_and_cas() {
    let cg = Cachegate::start(&[]);
    let mut s = cg.memcache();
    let idle = Duration::from_millis(300);
    let (r, _) = exchange(&mut s, b"set k 5 0 3\r\nabc\r\nget k\r\n", idle);
    assert_eq!(r, b"STORED\r\nVALUE k 5 3\r\nabc\r\nEND\r\n");
    let (r, _) = exchange(&mut s, b"gets k\r\n", idle);
    let text = String::from_utf8(r).unwrap();
    let cas: u64 = text.split_whitespace().nth(4).unwrap().parse().unwrap();
    let (r, _) = exchange(
        &mut s,
        format!("cas k 0 0 1 {}\r\nx\r\n", cas + 1).as_bytes(),
        idle,
    );
    assert_eq!(r, b"EXISTS\r\n");
    let (r, _) = exchange(
        &mut s,
        format!("cas k 0 0 1 {cas}\r\nx\r\n").as_bytes(),
        idle,
    );
    assert_eq!(r, b"STORED\r\n");
    let (r, _) = exchange(&mut s, b"set q 0 0 1 noreply\r\ny\r\nget q\r\n", idle);
    assert_eq!(r, b"VALUE q 0 1\r\ny\r\nEND\r\n");
    let (r, _) = exchange(&mut s, b"touch q 100\r\nbogus\r\n", idle);
    assert_eq!(r, b"TOUCHED\r\nERROR\r\n");
    let (r, closed) = exchange(&mut s, b"quit\r\n", idle);
    assert!(r.is_empty() && closed);
}

#[test]
fn bad_input_gets_memcached_errors_and_others_are_unaffected() {
    let cg = Cachegate::start(&[
        "--memcache-max-item-size",
        "1024",
        "--memcache-memory-limit",
        "2",
    ]);
    let idle = Duration::from_millis(300);
    let mut s = cg.memcache();
    let long_key = "k".repeat(251);
    let (r, _) = exchange(
        &mut s,
        format!("set {long_key} 0 0 1\r\nx\r\n").as_bytes(),
        idle,
    );
    assert!(
        String::from_utf8_lossy(&r).starts_with("CLIENT_ERROR"),
        "{:?}",
        String::from_utf8_lossy(&r)
    );
    let big = vec![b'x'; 2000];
    let mut req = b"set big 0 0 2000\r\n".to_vec();
    req.extend_from_slice(&big);
    req.extend_from_slice(b"\r\nget big\r\n");
    let (r, _) = exchange(&mut s, &req, idle);
    assert_eq!(r, b"SERVER_ERROR object too large for cache\r\nEND\r\n");
    let (r, _) = exchange(&mut s, b"set a 0 0 3\r\nabcde\r\n", idle);
    // memcached reads the 5 bytes as data, then the leftover CRLF as an empty command.
    assert_eq!(r, b"CLIENT_ERROR bad data chunk\r\nERROR\r\n");
    // A line without a newline longer than 2 KiB closes the connection.
    let mut junk = cg.memcache();
    let (_, closed) = exchange(&mut junk, &vec![b'z'; 4096], Duration::from_secs(2));
    assert!(closed);
    // Half a request, stalled: others carry on.
    let mut stalled = cg.memcache();
    stalled.write_all(b"set half 0 0 10\r\nabc").unwrap();
    let mut other = cg.memcache();
    let started = Instant::now();
    let (r, _) = exchange(&mut other, b"set x 0 0 1\r\n1\r\nget x\r\n", idle);
    assert_eq!(r, b"STORED\r\nVALUE x 0 1\r\n1\r\nEND\r\n");
    assert!(started.elapsed() < Duration::from_secs(1));
    // Filling the 2 MiB store evicts old items instead of failing.
    let value = vec![b'v'; 900];
    for i in 0..5000 {
        let mut req = format!("set fill{i} 0 0 900 noreply\r\n").into_bytes();
        req.extend_from_slice(&value);
        req.extend_from_slice(b"\r\n");
        other.write_all(&req).unwrap();
    }
    let (r, _) = exchange(&mut other, b"stats\r\n", Duration::from_millis(500));
    let stats = String::from_utf8_lossy(&r);
    let evictions: u64 = stats
        .lines()
        .find_map(|l| l.strip_prefix("STAT evictions "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap();
    assert!(evictions > 0, "{stats}");
    let (r, _) = exchange(&mut other, b"get fill4999\r\n", idle);
    assert!(r.starts_with(b"VALUE fill4999 0 900\r\n"));
}

#[test]
fn stats_have_memcached_field_names() {
    let cg = Cachegate::start(&[]);
    let mut s = cg.memcache();
    let (_, _) = exchange(
        &mut s,
        b"set a 0 0 1\r\n1\r\nget a\r\nget b\r\n",
        Duration::from_millis(200),
    );
    let (r, _) = exchange(&mut s, b"stats\r\n", Duration::from_millis(300));
    let text = String::from_utf8_lossy(&r);
    for field in [
        "STAT pid ",
        "STAT uptime ",
        "STAT version 1.6.18",
        "STAT curr_connections ",
        "STAT total_connections ",
        "STAT cmd_get 2",
        "STAT cmd_set 1",
        "STAT get_hits 1",
        "STAT get_misses 1",
        "STAT curr_items 1",
        "STAT total_items 1",
        "STAT bytes ",
        "STAT limit_maxbytes 67108864",
        "STAT evictions 0",
    ] {
        assert!(text.contains(field), "missing {field:?} in\n{text}");
    }
    assert!(text.ends_with("END\r\n"));
    let (r, _) = exchange(&mut s, b"stats settings\r\n", Duration::from_millis(300));
    assert!(String::from_utf8_lossy(&r).contains("STAT maxconns 1024"));
}

#[test]
fn memcache_metrics_are_exported() {
    let cg = Cachegate::start(&[]);
    let c = client(&cg);
    c.set("a", "1", 0).unwrap();
    let _: Option<String> = c.get("a").unwrap();
    let _: Option<String> = c.get("zz").unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut s = connect(cg.metrics_port);
        let (body, _) = exchange(
            &mut s,
            b"GET /metrics HTTP/1.0\r\n\r\n",
            Duration::from_millis(500),
        );
        let body = String::from_utf8_lossy(&body);
        if body.contains("memcached_current_items 1")
            && body.contains("memcached_commands_total{command=\"get\",status=\"hit\"} 1")
            && body.contains("memcached_commands_total{command=\"get\",status=\"miss\"} 1")
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "memcached metrics missing:\n{body}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn garbage_huge_lengths_and_non_reading_clients() {
    let cg = Cachegate::start(&[]);
    let idle = Duration::from_millis(300);
    // Garbage, with and without newlines: errors or a closed connection, never a crash.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..20 {
        let mut junk = Vec::with_capacity(4096);
        for _ in 0..4096 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            junk.push(state as u8);
        }
        let mut s = cg.memcache();
        let _ = exchange(&mut s, &junk, Duration::from_millis(50));
    }
    // Lengths near 2^64 and negative: memcached's errors, the connection carries on.
    let mut s = cg.memcache();
    let (r, closed) = exchange(&mut s, b"set k 0 0 18446744073709551615\r\n", idle);
    assert!(
        r.starts_with(b"CLIENT_ERROR") || r.starts_with(b"SERVER_ERROR"),
        "{:?}",
        String::from_utf8_lossy(&r)
    );
    assert!(!closed);
    let (r, _) = exchange(&mut s, b"set k 0 0 -1\r\n", idle);
    assert_eq!(r, b"CLIENT_ERROR bad command line format\r\n");
    let (r, _) = exchange(&mut s, b"version\r\n", idle);
    assert_eq!(r, b"VERSION 1.6.18\r\n");

    // A client that pipelines large gets and never reads stalls only itself.
    let mut setup = cg.memcache();
    let mut req = b"set big 0 0 262144\r\n".to_vec();
    req.extend(std::iter::repeat_n(b'x', 262_144));
    req.extend_from_slice(b"\r\n");
    let (r, _) = exchange(&mut setup, &req, idle);
    assert_eq!(r, b"STORED\r\n");
    let mut greedy = cg.memcache();
    let pipeline = b"get big\r\n".repeat(4000);
    let writer = std::thread::spawn(move || {
        greedy
            .set_write_timeout(Some(Duration::from_secs(3)))
            .unwrap();
        let _ = greedy.write_all(&pipeline);
        greedy
    });
    std::thread::sleep(Duration::from_millis(300));
    for _ in 0..20 {
        let started = Instant::now();
        let (r, _) = exchange(&mut setup, b"version\r\n", Duration::from_millis(50));
        assert_eq!(r, b"VERSION 1.6.18\r\n");
        assert!(started.elapsed() < Duration::from_secs(1));
    }
    drop(writer.join().unwrap());
}
