//! End to end with real Redis clients: the `redis` crate over RESP2 and RESP3, and
//! `redis-cli`.

mod common;

use common::*;
use redis::Commands;

#[test]
fn redis_crate_resp2() {
    let cg = Cachegate::start(&[]);
    let client = redis::Client::open(format!("redis://127.0.0.1:{}/", cg.port)).unwrap();
    let mut con = client.get_connection().unwrap();
    let _: () = con.set("greeting", "hello").unwrap();
    let v: String = con.get("greeting").unwrap();
    assert_eq!(v, "hello");
    let n: i64 = con.incr("counter", 5).unwrap();
    assert_eq!(n, 5);
    let _: () = con.set_ex("temp", "x", 100).unwrap();
    let ttl: i64 = con.ttl("temp").unwrap();
    assert_eq!(ttl, 100);
    let missing: Option<String> = con.get("nope").unwrap();
    assert_eq!(missing, None);
    let vals: Vec<Option<String>> = con.mget(&["greeting", "nope"]).unwrap();
    assert_eq!(vals, vec![Some("hello".to_string()), None]);
    let err = con.incr::<_, _, i64>("greeting", 1).unwrap_err();
    assert!(err.to_string().contains("not an integer"), "{err}");
    let keys: Vec<String> = con.scan_match::<_, String>("gree*").unwrap().collect();
    assert_eq!(keys, vec!["greeting".to_string()]);
}

#[test]
fn redis_crate_resp3() {
    let cg = Cachegate::start(&[]);
    let client =
        redis::Client::open(format!("redis://127.0.0.1:{}/?protocol=resp3", cg.port)).unwrap();
    let mut con = client.get_connection().unwrap();
    let _: () = con.set("k", "v").unwrap();
    let v: String = con.get("k").unwrap();
    assert_eq!(v, "v");
    let missing: Option<String> = con.get("nope").unwrap();
    assert_eq!(missing, None);
    // CONFIG GET answers a RESP3 map.
    let cfg: std::collections::HashMap<String, String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("maxclients")
        .query(&mut con)
        .unwrap();
    assert_eq!(cfg.get("maxclients").map(String::as_str), Some("10000"));
    let info: String = redis::cmd("INFO").arg("server").query(&mut con).unwrap();
    assert!(info.contains("redis_version:7.0.15"), "{info}");
}

#[test]
fn redis_cli_works_unchanged() {
    let cg = Cachegate::start(&[]);
    let cli = require("redis-cli");
    let run = |args: &[&str]| {
        let out = std::process::Command::new(&cli)
            .arg("-p")
            .arg(cg.port.to_string())
            .args(args)
            .output()
            .expect("run redis-cli");
        assert!(out.status.success(), "redis-cli {args:?} failed");
        String::from_utf8_lossy(&out.stdout).trim_end().to_string()
    };
    assert_eq!(run(&["PING"]), "PONG");
    assert_eq!(run(&["SET", "a", "1"]), "OK");
    assert_eq!(run(&["INCRBY", "a", "41"]), "42");
    assert_eq!(run(&["GET", "a"]), "42");
    assert_eq!(run(&["DBSIZE"]), "1");
    assert_eq!(
        run(&["FOO"]),
        "ERR unknown command 'FOO', with args beginning with:"
    );
    assert_eq!(run(&["--no-raw", "TYPE", "a"]), "string");
    // RESP3 through redis-cli -3.
    assert_eq!(run(&["-3", "GET", "missing"]), "");
    let info = run(&["INFO", "keyspace"]);
    assert!(info.contains("db0:keys=1,expires=0"), "{info}");
}
