//! String commands against an in-process store.

mod common;
use common::*;

#[test]
fn set_get_and_options() {
    let mut h = Harness::new();
    assert_eq!(h.run(&["SET", "k", "v"]), ok());
    assert_eq!(h.run(&["GET", "k"]), bulk("v"));
    assert_eq!(h.run(&["SET", "k", "w", "NX"]), nil());
    assert_eq!(h.run(&["SET", "k", "w", "XX", "GET"]), bulk("v"));
    assert_eq!(h.run(&["SET", "missing", "w", "XX"]), nil());
    assert_eq!(
        h.run(&["SET", "k", "v", "NX", "XX"]),
        err("ERR syntax error")
    );
    assert_eq!(h.run(&["SET", "k", "v", "EX"]), err("ERR syntax error"));
    assert_eq!(
        h.run(&["SET", "k", "v", "EX", "0"]),
        err("ERR invalid expire time in 'set' command")
    );
    assert_eq!(
        h.run(&["SET", "k", "v", "EX", "x"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        h.run(&["SET", "k", "v", "KEEPTTL", "EX", "5"]),
        err("ERR syntax error")
    );
    assert_eq!(
        h.run(&["SET", "k"]),
        err("ERR wrong number of arguments for 'set' command")
    );
    assert_eq!(h.run(&["SETNX", "k", "x"]), int(0));
    assert_eq!(h.run(&["SETNX", "n", "x"]), int(1));
}

#[test]
fn expiry_is_lazy_and_exact() {
    let mut h = Harness::new();
    assert_eq!(h.run(&["SET", "k", "v", "PX", "100"]), ok());
    assert_eq!(h.run(&["PTTL", "k"]), int(100));
    h.clock.advance(100);
    // Live while now <= expiry.
    assert_eq!(h.run(&["GET", "k"]), bulk("v"));
    h.clock.advance(1);
    assert_eq!(h.run(&["GET", "k"]), nil());
    assert_eq!(h.store.stats.expired_keys, 1);
    assert_eq!(h.run(&["SET", "k", "v", "EX", "10"]), ok());
    assert_eq!(h.run(&["SET", "k", "w", "KEEPTTL"]), ok());
    assert_eq!(h.run(&["TTL", "k"]), int(10));
    assert_eq!(h.run(&["SET", "k", "w"]), ok());
    assert_eq!(h.run(&["TTL", "k"]), int(-1));
    assert_eq!(h.run(&["TTL", "nope"]), int(-2));
}

#[test]
fn active_expiry_reclaims_untouched_keys() {
    let mut h = Harness::new();
    for i in 0..500 {
        h.run(&["SET", &format!("k{i}"), "v", "PX", "50"]);
    }
    for i in 0..500 {
        h.run(&["SET", &format!("p{i}"), "v"]);
    }
    assert_eq!(h.run(&["DBSIZE"]), int(1000));
    h.clock.advance(51);
    h.store.active_expire(std::time::Duration::from_secs(5));
    assert_eq!(h.run(&["DBSIZE"]), int(500));
}

#[test]
fn counters() {
    let mut h = Harness::new();
    assert_eq!(h.run(&["INCR", "c"]), int(1));
    assert_eq!(h.run(&["INCRBY", "c", "41"]), int(42));
    assert_eq!(h.run(&["DECRBY", "c", "2"]), int(40));
    assert_eq!(h.run(&["DECR", "c"]), int(39));
    assert_eq!(h.run(&["OBJECT", "ENCODING", "c"]), bulk("int"));
    assert_eq!(h.run(&["SET", "c", "9223372036854775807"]), ok());
    assert_eq!(
        h.run(&["INCR", "c"]),
        err("ERR increment or decrement would overflow")
    );
    assert_eq!(
        h.run(&["DECRBY", "c", "-9223372036854775808"]),
        err("ERR decrement would overflow")
    );
    assert_eq!(h.run(&["SET", "s", "abc"]), ok());
    assert_eq!(
        h.run(&["INCR", "s"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(h.run(&["INCRBYFLOAT", "f", "10.5"]), bulk("10.5"));
    assert_eq!(h.run(&["INCRBYFLOAT", "f", "0.1"]), bulk("10.6"));
    assert_eq!(
        h.run(&["INCRBYFLOAT", "s", "1"]),
        err("ERR value is not a valid float")
    );
    assert_eq!(h.run(&["OBJECT", "ENCODING", "f"]), bulk("embstr"));
}

#[test]
fn append_and_ranges() {
    let mut h = Harness::new();
    assert_eq!(h.run(&["APPEND", "a", "hello"]), int(5));
    assert_eq!(h.run(&["APPEND", "a", " world"]), int(11));
    for _ in 0..100 {
        h.run(&["APPEND", "a", "!"]);
    }
    assert_eq!(h.run(&["STRLEN", "a"]), int(111));
    assert_eq!(h.run(&["GETRANGE", "a", "0", "4"]), bulk("hello"));
    assert_eq!(h.run(&["GETRANGE", "a", "-3", "-1"]), bulk("!!!"));
    assert_eq!(h.run(&["GETRANGE", "a", "5", "2"]), bulk(""));
    assert_eq!(h.run(&["OBJECT", "ENCODING", "a"]), bulk("raw"));
    assert_eq!(h.run(&["SETRANGE", "r", "3", "xy"]), int(5));
    assert_eq!(
        h.run_bytes(&[b"GET", b"r"]),
        cachegate_protocols::resp::Frame::bulk(b"\0\0\0xy")
    );
    assert_eq!(h.run(&["SETRANGE", "a", "0", "J"]), int(111));
    assert_eq!(h.run(&["GETRANGE", "a", "0", "4"]), bulk("Jello"));
    assert_eq!(
        h.run(&["SETRANGE", "a", "-1", "J"]),
        err("ERR offset is out of range")
    );
}

#[test]
fn multi_key_and_getex() {
    let mut h = Harness::new();
    assert_eq!(h.run(&["MSET", "a", "1", "b", "2"]), ok());
    assert_eq!(
        h.run(&["MGET", "a", "b", "c"]),
        arr(vec![bulk("1"), bulk("2"), nil()])
    );
    assert_eq!(h.run(&["MSETNX", "a", "1", "z", "2"]), int(0));
    assert_eq!(
        h.run(&["MSET", "a"]),
        err("ERR wrong number of arguments for 'mset' command")
    );
    assert_eq!(h.run(&["GETEX", "a", "EX", "100"]), bulk("1"));
    assert_eq!(h.run(&["TTL", "a"]), int(100));
    assert_eq!(h.run(&["GETEX", "a", "PERSIST"]), bulk("1"));
    assert_eq!(h.run(&["TTL", "a"]), int(-1));
    assert_eq!(h.run(&["GETDEL", "a"]), bulk("1"));
    assert_eq!(h.run(&["EXISTS", "a", "b"]), int(1));
    assert_eq!(h.run(&["GETSET", "b", "3"]), bulk("2"));
}

#[test]
fn lcs() {
    let mut h = Harness::new();
    h.run(&["MSET", "key1", "ohmytext", "key2", "mynewtext"]);
    assert_eq!(h.run(&["LCS", "key1", "key2"]), bulk("mytext"));
    assert_eq!(h.run(&["LCS", "key1", "key2", "LEN"]), int(6));
    let idx = h.run(&[
        "LCS",
        "key1",
        "key2",
        "IDX",
        "MINMATCHLEN",
        "4",
        "WITHMATCHLEN",
    ]);
    assert_eq!(
        idx,
        arr(vec![
            bulk("matches"),
            arr(vec![arr(vec![
                arr(vec![int(4), int(7)]),
                arr(vec![int(5), int(8)]),
                int(4)
            ])]),
            bulk("len"),
            int(6),
        ])
    );
}
