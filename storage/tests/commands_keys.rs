//! Generic key and database commands against an in-process store.

mod common;
use common::*;

#[test]
fn del_exists_type_rename() {
    let mut h = Harness::new();
    h.run(&["MSET", "a", "1", "b", "2"]);
    assert_eq!(
        h.run(&["TYPE", "a"]),
        cachegate_protocols::resp::Frame::simple("string")
    );
    assert_eq!(
        h.run(&["TYPE", "zz"]),
        cachegate_protocols::resp::Frame::simple("none")
    );
    assert_eq!(h.run(&["RENAME", "a", "c"]), ok());
    assert_eq!(h.run(&["RENAME", "a", "c"]), err("ERR no such key"));
    assert_eq!(h.run(&["RENAMENX", "c", "b"]), int(0));
    assert_eq!(h.run(&["DEL", "b", "c", "d"]), int(2));
    assert_eq!(h.run(&["DBSIZE"]), int(0));
}

#[test]
fn expire_family() {
    let mut h = Harness::new();
    h.run(&["SET", "k", "v"]);
    assert_eq!(h.run(&["EXPIRE", "k", "100", "XX"]), int(0));
    assert_eq!(h.run(&["EXPIRE", "k", "100", "NX"]), int(1));
    assert_eq!(h.run(&["EXPIRE", "k", "50", "GT"]), int(0));
    assert_eq!(h.run(&["EXPIRE", "k", "50", "LT"]), int(1));
    assert_eq!(h.run(&["TTL", "k"]), int(50));
    assert_eq!(h.run(&["EXPIRETIME", "k"]), int(T0 / 1000 + 50));
    assert_eq!(h.run(&["PERSIST", "k"]), int(1));
    assert_eq!(h.run(&["PERSIST", "k"]), int(0));
    assert_eq!(
        h.run(&["EXPIRE", "k", "10", "NX", "XX"]),
        err("ERR NX and XX, GT or LT options at the same time are not compatible")
    );
    assert_eq!(
        h.run(&["EXPIRE", "k", "10", "FOO"]),
        err("ERR Unsupported option FOO")
    );
    assert_eq!(h.run(&["EXPIRE", "k", "-1"]), int(1));
    assert_eq!(h.run(&["EXISTS", "k"]), int(0));
}

#[test]
fn scan_covers_everything() {
    let mut h = Harness::new();
    for i in 0..1000 {
        h.run(&["SET", &format!("key:{i}"), "v"]);
    }
    let mut seen = std::collections::HashSet::new();
    let mut cursor = "0".to_string();
    loop {
        let reply = h.run(&["SCAN", &cursor, "COUNT", "50", "MATCH", "key:1*"]);
        let cachegate_protocols::resp::Frame::Array(parts) = reply else {
            panic!()
        };
        let cachegate_protocols::resp::Frame::Bulk(c) = &parts[0] else {
            panic!()
        };
        cursor = String::from_utf8(c.to_vec()).unwrap();
        if let cachegate_protocols::resp::Frame::Array(keys) = &parts[1] {
            for k in keys {
                if let cachegate_protocols::resp::Frame::Bulk(k) = k {
                    seen.insert(k.to_vec());
                }
            }
        }
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen.len(), 111);
    assert_eq!(h.run(&["SCAN", "x"]), err("ERR invalid cursor"));
    assert_eq!(h.run(&["SCAN", "0", "COUNT", "0"]), err("ERR syntax error"));
}

#[test]
fn databases() {
    let mut h = Harness::new();
    h.run(&["SET", "k", "v"]);
    assert_eq!(h.run(&["MOVE", "k", "1"]), int(1));
    assert_eq!(h.run(&["EXISTS", "k"]), int(0));
    assert_eq!(h.run(&["SELECT", "1"]), ok());
    assert_eq!(h.run(&["GET", "k"]), bulk("v"));
    assert_eq!(
        h.run(&["SELECT", "16"]),
        err("ERR DB index is out of range")
    );
    assert_eq!(h.run(&["SWAPDB", "0", "1"]), ok());
    assert_eq!(h.run(&["DBSIZE"]), int(0));
    assert_eq!(h.run(&["COPY", "nope", "x"]), int(0));
    assert_eq!(h.run(&["SELECT", "0"]), ok());
    assert_eq!(h.run(&["COPY", "k", "k2", "DB", "3"]), int(1));
    assert_eq!(
        h.run(&["COPY", "k", "k"]),
        err("ERR source and destination objects are the same")
    );
    assert_eq!(h.run(&["FLUSHALL"]), ok());
    assert_eq!(h.run(&["DBSIZE"]), int(0));
}

#[test]
fn unknown_and_arity() {
    let mut h = Harness::new();
    assert_eq!(
        h.run(&["FOO", "a", "b"]),
        err("ERR unknown command 'FOO', with args beginning with: 'a' 'b' ")
    );
    assert_eq!(
        h.run(&["GET"]),
        err("ERR wrong number of arguments for 'get' command")
    );
    assert_eq!(
        h.run(&["OBJECT", "FOO"]),
        err("ERR unknown subcommand 'FOO'. Try OBJECT HELP.")
    );
    assert_eq!(
        h.run(&["COMMAND", "COUNT"]),
        int(h.store.commands.top_level().len() as i64)
    );
    assert_eq!(
        h.run(&["COMMAND", "GETKEYS", "MSET", "a", "1", "b", "2"]),
        arr(vec![bulk("a"), bulk("b")])
    );
}

#[test]
fn errors_quote_arguments_as_sent() {
    let mut h = Harness::new();
    // Not UTF-8: echoed byte for byte, not replaced.
    assert_eq!(
        h.run_bytes(&[b"FOO", b"\xff\x00hidden"]),
        cachegate_protocols::resp::Frame::error(
            b"ERR unknown command 'FOO', with args beginning with: '\xff' "
        )
    );
    assert_eq!(
        h.run_bytes(&[b"OBJECT", b"\xfe"]),
        cachegate_protocols::resp::Frame::error(b"ERR unknown subcommand '\xfe'. Try OBJECT HELP.")
    );
    assert_eq!(
        h.run_bytes(&[b"EXPIRE", b"k", b"1", b"\xfd"]),
        cachegate_protocols::resp::Frame::error(b"ERR Unsupported option \xfd")
    );
}

#[test]
fn database_index_range() {
    let mut h = Harness::new();
    h.run(&["SET", "k", "v"]);
    // An integer outside `int` gets redis-server's range message; a non-integer does not.
    let range = err("ERR value is out of range, value must between -2147483648 and 2147483647");
    assert_eq!(h.run(&["SELECT", "2147483648"]), range);
    assert_eq!(h.run(&["MOVE", "k", "-2147483649"]), range);
    assert_eq!(h.run(&["COPY", "k", "d", "DB", "2147483648"]), range);
    assert_eq!(
        h.run(&["SELECT", "9223372036854775808"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        h.run(&["SELECT", "2147483647"]),
        err("ERR DB index is out of range")
    );
}

#[test]
fn scan_reclaims_without_touching() {
    let mut h = Harness::new();
    h.run(&["SET", "live", "v"]);
    h.clock.advance(10_000);
    h.run(&["SCAN", "0"]);
    h.run(&["RANDOMKEY"]);
    // Neither SCAN nor RANDOMKEY counts as an access.
    assert_eq!(h.run(&["OBJECT", "IDLETIME", "live"]), int(10));
    // An expired key is reclaimed by SCAN's expiry check...
    h.run(&["SET", "gone", "v", "PX", "1"]);
    h.clock.advance(2);
    assert_eq!(
        h.run(&["SCAN", "0", "TYPE", "string"]),
        arr(vec![bulk("0"), arr(vec![bulk("live")])])
    );
    assert_eq!(h.run(&["EXISTS", "gone"]), int(0));
    // ...except with TYPE none, where redis-server's type lookup reclaims it first and the
    // expiry check then finds nothing: the key is returned.
    h.run(&["SET", "gone", "v", "PX", "1"]);
    h.clock.advance(2);
    assert_eq!(
        h.run(&["SCAN", "0", "TYPE", "none"]),
        arr(vec![bulk("0"), arr(vec![bulk("gone")])])
    );
    assert_eq!(h.run(&["DBSIZE"]), int(1));
}

#[test]
fn keys_and_dbsize_do_not_reclaim() {
    let mut h = Harness::new();
    h.run(&["SET", "gone", "v", "PX", "1"]);
    h.clock.advance(2);
    // KEYS hides an expired key without deleting it, and DBSIZE counts it until something
    // reclaims it, as in redis-server.
    assert_eq!(h.run(&["KEYS", "*"]), arr(vec![]));
    assert_eq!(h.run(&["DBSIZE"]), int(1));
    assert_eq!(h.run(&["EXISTS", "gone"]), int(0));
    assert_eq!(h.run(&["DBSIZE"]), int(0));
}

#[test]
fn unlink_hands_big_values_to_the_background() {
    let mut h = Harness::new();
    for i in 0..65 {
        h.run(&["HSET", "big", &format!("f{i}"), "v"]);
    }
    h.run(&["HSET", "small", "f", "v"]);
    assert_eq!(h.run(&["UNLINK", "big", "small"]), int(2));
    let queued = h.store.take_lazyfree();
    assert_eq!(queued.len(), 1, "only the value over 64 elements");
    assert_eq!(queued[0].view().key(), b"big");
    assert_eq!(h.store.stats.lazyfreed_objects, 1);
    // DEL frees inline, whatever the size.
    for i in 0..65 {
        h.run(&["HSET", "big", &format!("f{i}"), "v"]);
    }
    h.run(&["DEL", "big"]);
    assert!(h.store.take_lazyfree().is_empty());
    // FLUSHALL ASYNC hands every entry over.
    h.run(&["SET", "a", "1"]);
    h.run(&["SET", "b", "2"]);
    h.run(&["FLUSHALL", "ASYNC"]);
    assert_eq!(h.store.take_lazyfree().len(), 2);
    assert_eq!(h.run(&["DBSIZE"]), int(0));
}
