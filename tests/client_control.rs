//! Reaching other connections through the client registry, end to end with the `redis`
//! crate: CLIENT KILL (old form and filters), CLIENT PAUSE WRITE / ALL and UNPAUSE, CLIENT
//! NO-EVICT, and what CLIENT LIST shows of them. Every wait is bounded.

mod common;

use std::time::{Duration, Instant};

use common::Cachegate;
use redis::Commands;

fn client(cg: &Cachegate) -> redis::Connection {
    let c = redis::Client::open(format!("redis://127.0.0.1:{}/", cg.port)).expect("url");
    let conn = c
        .get_connection_with_timeout(Duration::from_secs(5))
        .expect("connect");
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    conn
}

fn id_of(c: &mut redis::Connection) -> i64 {
    redis::cmd("CLIENT").arg("ID").query(c).expect("CLIENT ID")
}

fn addr_of(c: &mut redis::Connection) -> String {
    let info: String = redis::cmd("CLIENT")
        .arg("INFO")
        .query(c)
        .expect("CLIENT INFO");
    info.split(' ')
        .find_map(|f| f.strip_prefix("addr="))
        .expect("addr= field")
        .to_string()
}

#[test]
fn kill_by_address_and_by_filters() {
    let cg = Cachegate::start(&[]);
    let mut admin = client(&cg);
    let mut a = client(&cg);
    let mut b = client(&cg);
    let a_addr = addr_of(&mut a);
    let b_id = id_of(&mut b);

    let ok: String = redis::cmd("CLIENT")
        .arg("KILL")
        .arg(&a_addr)
        .query(&mut admin)
        .expect("old form");
    assert_eq!(ok, "OK");
    assert!(
        redis::cmd("PING").query::<String>(&mut a).is_err(),
        "the killed connection is closed"
    );
    let missing = redis::cmd("CLIENT")
        .arg("KILL")
        .arg(&a_addr)
        .query::<String>(&mut admin)
        .expect_err("gone");
    assert!(missing.to_string().contains("No such client"), "{missing}");

    let n: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("ID")
        .arg(b_id)
        .query(&mut admin)
        .expect("by id");
    assert_eq!(n, 1);
    assert!(redis::cmd("PING").query::<String>(&mut b).is_err());

    // TYPE normal kills everyone else, but not the caller (SKIPME yes by default).
    let mut c = client(&cg);
    let mut d = client(&cg);
    let n: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("TYPE")
        .arg("normal")
        .query(&mut admin)
        .expect("by type");
    assert_eq!(n, 2);
    assert!(redis::cmd("PING").query::<String>(&mut c).is_err());
    assert!(redis::cmd("PING").query::<String>(&mut d).is_err());
    let pong: String = redis::cmd("PING").query(&mut admin).expect("still here");
    assert_eq!(pong, "PONG");

    // MAXAGE: nobody is a minute old yet.
    let _e = client(&cg);
    let n: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("MAXAGE")
        .arg(60)
        .query(&mut admin)
        .expect("by age");
    assert_eq!(n, 0);
    // SKIPME no with the caller's own id closes the caller after the reply.
    let me = id_of(&mut admin);
    let n: i64 = redis::cmd("CLIENT")
        .arg(&["KILL", "ID", &me.to_string(), "SKIPME", "no"])
        .query(&mut admin)
        .expect("self");
    assert_eq!(n, 1);
    assert!(redis::cmd("PING").query::<String>(&mut admin).is_err());
}

#[test]
fn pause_write_holds_writes_until_unpause() {
    let cg = Cachegate::start(&[]);
    let mut admin = client(&cg);
    let mut other = client(&cg);
    let _: () = other.set("k", "before").expect("set");
    let ok: String = redis::cmd("CLIENT")
        .arg(&["PAUSE", "10000", "WRITE"])
        .query(&mut admin)
        .expect("pause");
    assert_eq!(ok, "OK");
    // Reads go on.
    let v: String = other.get("k").expect("get while paused");
    assert_eq!(v, "before");
    // A write waits; unpause from another connection after a while.
    let port = cg.port;
    let unpauser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        let c = redis::Client::open(format!("redis://127.0.0.1:{port}/")).expect("url");
        let mut c = c.get_connection().expect("connect");
        redis::cmd("CLIENT")
            .arg("UNPAUSE")
            .query::<String>(&mut c)
            .expect("unpause")
    });
    let started = Instant::now();
    let _: () = other.set("k", "after").expect("set after the pause");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(250),
        "the write waited for UNPAUSE ({waited:?})"
    );
    assert!(
        waited < Duration::from_secs(5),
        "UNPAUSE released it ({waited:?})"
    );
    assert_eq!(unpauser.join().expect("thread"), "OK");
    let v: String = other.get("k").expect("get");
    assert_eq!(v, "after");
}

#[test]
fn pause_all_holds_every_command_until_it_ends() {
    let cg = Cachegate::start(&[]);
    let mut admin = client(&cg);
    let mut other = client(&cg);
    let ok: String = redis::cmd("CLIENT")
        .arg(&["PAUSE", "400", "ALL"])
        .query(&mut admin)
        .expect("pause");
    assert_eq!(ok, "OK");
    let started = Instant::now();
    let pong: String = redis::cmd("PING").query(&mut other).expect("ping");
    assert_eq!(pong, "PONG");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(300),
        "PING waited ({waited:?})"
    );
    assert!(waited < Duration::from_secs(5));
}

#[test]
fn no_evict_shows_in_client_list() {
    let cg = Cachegate::start(&[]);
    let mut c = client(&cg);
    let ok: String = redis::cmd("CLIENT")
        .arg(&["NO-EVICT", "on"])
        .query(&mut c)
        .expect("no-evict");
    assert_eq!(ok, "OK");
    let info: String = redis::cmd("CLIENT")
        .arg("INFO")
        .query(&mut c)
        .expect("info");
    assert!(info.contains(" flags=e "), "{info}");
    let _: String = redis::cmd("CLIENT")
        .arg(&["NO-EVICT", "off"])
        .query(&mut c)
        .expect("off");
    let info: String = redis::cmd("CLIENT")
        .arg("INFO")
        .query(&mut c)
        .expect("info");
    assert!(info.contains(" flags=N "), "{info}");
}

#[test]
fn debug_is_refused_unless_enabled() {
    let cg = Cachegate::start(&[]);
    let mut c = client(&cg);
    let e = redis::cmd("DEBUG")
        .arg("DIGEST")
        .query::<String>(&mut c)
        .expect_err("refused by default");
    assert!(e.to_string().contains("DEBUG command not allowed"), "{e}");
    let local = Cachegate::start(&["--set", "enable_debug_command=local"]);
    let mut c = client(&local);
    let d: String = redis::cmd("DEBUG")
        .arg("DIGEST")
        .query(&mut c)
        .expect("allowed over loopback");
    assert_eq!(d, "0".repeat(40));
}
