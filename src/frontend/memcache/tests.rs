//! Raw conversations, bytes in → bytes out. The expected bytes are what memcached 1.6.18
//! answered to the same input (captured with a socket script against `memcached -U 0`).

use std::time::Duration;

use cachegate_storage::clock::ManualClock;
use cachegate_storage::mc::{McConfig, McStore};

use super::*;

const T0: i64 = 1_700_000_000_000;

fn new_store() -> (McStore, ManualClock) {
    let clock = ManualClock::new(T0);
    (
        McStore::new(McConfig::default(), Box::new(clock.clone())),
        clock,
    )
}

fn info() -> McServerInfo {
    McServerInfo {
        pid: 4242,
        uptime: 105,
        time: 1_795_328_549,
        rusage_user: Duration::from_micros(18_480),
        rusage_system: Duration::from_micros(16_922),
        curr_connections: 1,
        total_connections: 32,
        threads: 4,
        ..McServerInfo::default()
    }
}

/// Feeds `input` to a fresh session in one call; returns the output and the result.
fn talk(store: &McStore, input: &[u8]) -> (Vec<u8>, Processed) {
    let mut session = McSession::default();
    let mut out = Vec::new();
    let p = session.process(input, store, &info, &mut out);
    (out, p)
}

/// The output as text, for readable assertion failures.
fn run(store: &McStore, input: &[u8]) -> String {
    String::from_utf8_lossy(&talk(store, input).0).into_owned()
}

fn fresh(input: &[u8]) -> String {
    run(&new_store().0, input)
}

#[test]
fn basic_conversation() {
    let (s, _) = new_store();
    assert_eq!(
        run(
            &s,
            b"set a 5 0 3\r\nabc\r\nget a b\r\nadd a 0 0 1\r\nx\r\ndelete a\r\ndelete a\r\nget a\r\n"
        ),
        "STORED\r\nVALUE a 5 3\r\nabc\r\nEND\r\nNOT_STORED\r\nDELETED\r\nNOT_FOUND\r\nEND\r\n"
    );
    assert_eq!(
        run(&s, b"version\r\nverbosity 1\r\n"),
        "VERSION 1.6.18\r\nOK\r\n"
    );
}

#[test]
fn cas_conversation() {
    let (s, _) = new_store();
    let out = run(&s, b"set c 5 0 1\r\na\r\ngets c\r\n");
    let cas: u64 = out
        .lines()
        .nth(1)
        .and_then(|l| l.split(' ').nth(4))
        .and_then(|c| c.parse().ok())
        .expect("gets prints a cas");
    assert_eq!(out, format!("STORED\r\nVALUE c 5 1 {cas}\r\na\r\nEND\r\n"));
    let input = format!(
        "cas c 0 0 1 {}\r\nb\r\ncas c 0 0 1 0\r\nb\r\ncas x 0 0 1 5\r\nb\r\n\
         cas c 0 0 1 abc\r\nb\r\ncas c 0 0 1\r\nb\r\ncas c 0 0 1 {cas}\r\nz\r\n",
        cas + 999
    );
    assert_eq!(
        run(&s, input.as_bytes()),
        "EXISTS\r\nEXISTS\r\nNOT_FOUND\r\nCLIENT_ERROR bad command line format\r\nERROR\r\n\
         ERROR\r\nERROR\r\nSTORED\r\n"
    );
}

#[test]
fn append_prepend_add_replace() {
    let (s, _) = new_store();
    let out = run(
        &s,
        b"append x 0 0 1\r\na\r\nprepend x 0 0 1\r\na\r\nreplace x 0 0 1\r\na\r\nadd x 3 0 1\r\na\r\n\
          add x 0 0 1\r\nb\r\nappend x 7 0 2\r\nbc\r\nprepend x 9 0 1\r\nz\r\nget x\r\n",
    );
    assert_eq!(
        out,
        "NOT_STORED\r\nNOT_STORED\r\nNOT_STORED\r\nSTORED\r\nNOT_STORED\r\nSTORED\r\nSTORED\r\n\
         VALUE x 3 4\r\nzabc\r\nEND\r\n"
    );
}

#[test]
fn bad_data_chunks_and_bad_lengths() {
    assert_eq!(
        fresh(b"set k 0 0 1\r\nabc\r\nget k\r\n"),
        "CLIENT_ERROR bad data chunk\r\nERROR\r\nEND\r\n"
    );
    assert_eq!(
        fresh(b"set k 0 0 1\r\nab\r\nversion\r\n"),
        "CLIENT_ERROR bad data chunk\r\nERROR\r\nVERSION 1.6.18\r\n"
    );
    assert_eq!(
        fresh(b"set k 0 0 1 noreply\r\nabc\r\nversion\r\n"),
        "ERROR\r\nVERSION 1.6.18\r\n"
    );
    // A bad line swallows nothing: the data is read as a command.
    for input in [
        &b"set k 0 0 -1\r\nhello\r\n"[..],
        b"set k 0 0 abc\r\nhello\r\n",
        b"set k 1 0 2147483647\r\nhello\r\n",
    ] {
        assert_eq!(
            fresh(input),
            "CLIENT_ERROR bad command line format\r\nERROR\r\n"
        );
    }
}

#[test]
fn number_quirks() {
    let (s, _) = new_store();
    let cases: &[(&[u8], &str)] = &[
        (
            b"set k 4294967295 0 1\r\na\r\nget k\r\n",
            "STORED\r\nVALUE k 4294967295 1\r\na\r\nEND\r\n",
        ),
        (
            b"set k 4294967296 0 1\r\na\r\nget k\r\n",
            "STORED\r\nVALUE k 0 1\r\na\r\nEND\r\n",
        ),
        (
            b"set k 18446744073709551615 0 1\r\na\r\nget k\r\n",
            "STORED\r\nVALUE k 4294967295 1\r\na\r\nEND\r\n",
        ),
        (
            b"set k +5 0 1\r\na\r\nget k\r\n",
            "STORED\r\nVALUE k 5 1\r\na\r\nEND\r\n",
        ),
        (
            b"set k  5  0 1\r\na\r\nget k\r\n",
            "STORED\r\nVALUE k 5 1\r\na\r\nEND\r\n",
        ),
        (
            b"set k 05 0 01\r\na\r\nget k\r\n",
            "STORED\r\nVALUE k 5 1\r\na\r\nEND\r\n",
        ),
        (
            b"set k 5 -0 1\r\na\r\nget k\r\n",
            "STORED\r\nVALUE k 5 1\r\na\r\nEND\r\n",
        ),
        (b"set k 5 -1 1\r\na\r\nget k\r\n", "STORED\r\nEND\r\n"),
        // 2^31 wraps to a negative exptime: stored already expired.
        (
            b"set k 1 2147483648 1\r\na\r\nget k\r\n",
            "STORED\r\nEND\r\n",
        ),
        // A length of 2^32 + 1 is read as 1.
        (
            b"set k 1 0 4294967297\r\na\r\nget k\r\n",
            "STORED\r\nVALUE k 1 1\r\na\r\nEND\r\n",
        ),
        (
            b"set k -1 0 1\r\na\r\nget k\r\n",
            "CLIENT_ERROR bad command line format\r\nERROR\r\nVALUE k 1 1\r\na\r\nEND\r\n",
        ),
        (
            b"set k\t0 0 1\r\na\r\nset k 0 \t0 1\r\nb\r\n",
            "ERROR\r\nERROR\r\nSTORED\r\n",
        ),
    ];
    for (input, expect) in cases {
        assert_eq!(
            run(&s, input),
            *expect,
            "{}",
            String::from_utf8_lossy(input)
        );
    }
}

#[test]
fn noreply() {
    let (s, _) = new_store();
    assert_eq!(
        run(&s, b"set k 5 0 1 noreply\r\na\r\nget k\r\n"),
        "VALUE k 5 1\r\na\r\nEND\r\n"
    );
    assert_eq!(
        run(&s, b"set k 5 0 1 norepl\r\na\r\n"),
        "STORED\r\n",
        "only the exact word counts"
    );
    assert_eq!(run(&s, b"set k abc 0 1 noreply\r\na\r\n"), "ERROR\r\n");
    assert_eq!(
        run(&s, b"set k 0 0 1 2 noreply\r\na\r\n"),
        "ERROR\r\nERROR\r\n"
    );
    assert_eq!(
        run(&s, b"get k noreply\r\n"),
        "VALUE k 5 1\r\na\r\nEND\r\n",
        "get has no noreply: it is a key"
    );
    assert_eq!(
        run(
            &s,
            b"incr n 1 noreply\r\nincr n b noreply\r\ndelete n noreply\r\ntouch n x noreply\r\n"
        ),
        ""
    );
}

#[test]
fn arithmetic() {
    let (s, _) = new_store();
    assert_eq!(
        run(
            &s,
            b"set n 0 0 2\r\n10\r\ndecr n 1\r\nget n\r\nincr n 95\r\nget n\r\n"
        ),
        "STORED\r\n9\r\nVALUE n 0 2\r\n9 \r\nEND\r\n104\r\nVALUE n 0 3\r\n104\r\nEND\r\n"
    );
    assert_eq!(
        run(
            &s,
            b"set n 0 0 20\r\n18446744073709551615\r\nincr n 2\r\nget n\r\n"
        ),
        "STORED\r\n1\r\nVALUE n 0 20\r\n1                   \r\nEND\r\n"
    );
    assert_eq!(
        run(
            &s,
            b"set n 0 0 3\r\nabc\r\nincr n 1\r\nincr n abc\r\nincr n -1\r\nincr nx 1\r\n\
              decr n 1 noreply\r\nincr n 1 noreply\r\n"
        ),
        "STORED\r\nCLIENT_ERROR cannot increment or decrement non-numeric value\r\n\
         CLIENT_ERROR invalid numeric delta argument\r\nCLIENT_ERROR invalid numeric delta argument\r\n\
         NOT_FOUND\r\n"
    );
    assert_eq!(
        run(&s, b"set n 0 0 5\r\n 12 x\r\nincr n 1\r\nget n\r\n"),
        "STORED\r\n13\r\nVALUE n 0 5\r\n13   \r\nEND\r\n"
    );
    assert_eq!(
        run(&s, b"set n 0 0 0\r\n\r\nincr n 1\r\n"),
        "STORED\r\nCLIENT_ERROR cannot increment or decrement non-numeric value\r\n"
    );
    assert_eq!(
        run(
            &s,
            b"set n 0 0 1\r\n5\r\ndecr n 10\r\nincr n 18446744073709551616\r\nincr n 18446744073709551615\r\n"
        ),
        "STORED\r\n0\r\nCLIENT_ERROR invalid numeric delta argument\r\n18446744073709551615\r\n"
    );
    assert_eq!(
        run(
            &s,
            b"incr\r\nincr a\r\nincr a 1 2 3\r\nincr a 1 noreply\r\nincr a b noreply\r\n"
        ),
        "ERROR\r\nERROR\r\nERROR\r\n"
    );
}

#[test]
fn delete_touch_verbosity_flush_forms() {
    let (s, _) = new_store();
    run(&s, b"set a 0 0 1\r\n1\r\n");
    assert_eq!(
        run(
            &s,
            b"delete\r\ndelete a b c d\r\ndelete a 0\r\ndelete a 1\r\ndelete a noreply\r\n\
              delete a 0 noreply\r\ndelete a 1 noreply\r\ndelete a x noreply\r\nversion\r\n"
        ),
        "ERROR\r\nERROR\r\nDELETED\r\n\
         CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\nVERSION 1.6.18\r\n"
    );
    assert_eq!(
        run(
            &s,
            b"touch a\r\ntouch a 10\r\ntouch a x\r\ntouch a x noreply\r\nset a 0 0 1\r\n1\r\n\
              touch a 10\r\ntouch a 10 noreply\r\ntouch a 10 x\r\n"
        ),
        "ERROR\r\nNOT_FOUND\r\nCLIENT_ERROR invalid exptime argument\r\nSTORED\r\nTOUCHED\r\nTOUCHED\r\n"
    );
    assert_eq!(
        run(
            &s,
            b"verbosity\r\nverbosity 1\r\nverbosity x\r\nverbosity 1 noreply\r\nverbosity noreply\r\n\
              verbosity 1 2\r\nverbosity 1 2 3\r\nversion\r\n"
        ),
        "ERROR\r\nOK\r\nCLIENT_ERROR bad command line format\r\nOK\r\nERROR\r\nVERSION 1.6.18\r\n"
    );
    assert_eq!(
        run(
            &s,
            b"flush_all\r\nflush_all 0\r\nflush_all x\r\nflush_all noreply\r\nflush_all 1 noreply\r\n\
              flush_all noreply 1\r\nflush_all 1 2\r\nflush_all 1 2 3\r\nflush_all -5\r\nversion\r\n"
        ),
        "OK\r\nOK\r\nCLIENT_ERROR invalid exptime argument\r\nCLIENT_ERROR invalid exptime argument\r\n\
         OK\r\nERROR\r\nOK\r\nVERSION 1.6.18\r\n"
    );
}

#[test]
fn expiry_and_gat() {
    let (s, clock) = new_store();
    assert_eq!(
        run(&s, b"set x 3 10 4\r\nzabc\r\ngat x\r\ngat abc x\r\ngat 100 x y\r\n"),
        "STORED\r\nCLIENT_ERROR invalid exptime argument\r\nCLIENT_ERROR invalid exptime argument\r\n\
         VALUE x 3 4\r\nzabc\r\nEND\r\n"
    );
    clock.advance(99_999);
    let out = run(&s, b"gats 100 x\r\ngat 100 x noreply\r\ngat 10\r\n");
    assert!(out.starts_with("VALUE x 3 4 "), "{out}");
    assert!(
        out.ends_with("\r\nzabc\r\nEND\r\nVALUE x 3 4\r\nzabc\r\nEND\r\nEND\r\n"),
        "{out}"
    );
    clock.advance(100_000);
    assert_eq!(run(&s, b"get x\r\ntouch x 0\r\n"), "END\r\nNOT_FOUND\r\n");
    // Absolute exptimes (beyond 30 days) are Unix seconds.
    let at = T0 / 1000 + 1_000;
    run(&s, format!("set y 0 {at} 1\r\ny\r\n").as_bytes());
    assert_eq!(run(&s, b"get y\r\n"), "VALUE y 0 1\r\ny\r\nEND\r\n");
    clock.set(at * 1000);
    assert_eq!(run(&s, b"get y\r\n"), "END\r\n");
}

#[test]
fn delayed_flush() {
    let (s, clock) = new_store();
    assert_eq!(
        run(&s, b"set a 0 0 1\r\n1\r\nflush_all 10\r\nget a\r\n"),
        "STORED\r\nOK\r\nVALUE a 0 1\r\n1\r\nEND\r\n"
    );
    clock.advance(10_000);
    assert_eq!(
        run(&s, b"get a\r\nset b 0 0 1\r\n2\r\nget b\r\n"),
        "END\r\nSTORED\r\nVALUE b 0 1\r\n2\r\nEND\r\n"
    );
}

#[test]
fn too_large_items() {
    let (s, _) = new_store();
    let mut input = b"set k 0 0 2000000\r\n".to_vec();
    input.extend(vec![b'x'; 2_000_000]);
    input.extend_from_slice(b"\r\nget k\r\n");
    assert_eq!(
        run(&s, &input),
        "SERVER_ERROR object too large for cache\r\nEND\r\n"
    );
    // A set that is too large removes the old value; an add leaves it.
    let big = |cmd: &str| {
        let cas = if cmd == "cas" { " 1" } else { "" };
        let mut v = format!("set kk 0 0 1\r\na\r\n{cmd} kk 0 0 2000000{cas}\r\n").into_bytes();
        v.extend(vec![b'x'; 2_000_000]);
        v.extend_from_slice(b"\r\nget kk\r\n");
        v
    };
    assert_eq!(
        run(&s, &big("set")),
        "STORED\r\nSERVER_ERROR object too large for cache\r\nEND\r\n"
    );
    assert_eq!(
        run(&s, &big("add")),
        "STORED\r\nSERVER_ERROR object too large for cache\r\nVALUE kk 0 1\r\na\r\nEND\r\n"
    );
    // So does a cas (memcached drops the old item for a plain set only).
    assert_eq!(
        run(&s, &big("cas")),
        "STORED\r\nSERVER_ERROR object too large for cache\r\nVALUE kk 0 1\r\na\r\nEND\r\n"
    );
    // noreply silences it; the exact -I boundary matches memcached's.
    let mut input = b"set k 0 0 2000000 noreply\r\n".to_vec();
    input.extend(vec![b'x'; 2_000_000]);
    input.extend_from_slice(b"\r\nversion\r\n");
    assert_eq!(run(&s, &input), "VERSION 1.6.18\r\n");
    for (flags, n, ok) in [
        (0, 1_048_516, true),
        (0, 1_048_517, false),
        (1, 1_048_512, true),
        (1, 1_048_513, false),
    ] {
        let mut v = format!("set k {flags} 0 {n}\r\n").into_bytes();
        v.extend(vec![b'x'; n]);
        v.extend_from_slice(b"\r\n");
        let expect = if ok {
            "STORED\r\n"
        } else {
            "SERVER_ERROR object too large for cache\r\n"
        };
        assert_eq!(run(&s, &v), expect, "flags {flags} len {n}");
    }
    assert_eq!(s.stats().counters.store_too_large, 7);
}

#[test]
fn pending_replies_are_discarded() {
    // A get with a key over 250 bytes: memcached drops the unsent STORED too.
    let long = "k".repeat(251);
    let (s, _) = new_store();
    assert_eq!(
        run(
            &s,
            format!("set a 0 0 1\r\na\r\nget a {long}\r\nversion\r\n").as_bytes()
        ),
        "CLIENT_ERROR bad command line format\r\nVERSION 1.6.18\r\n"
    );
    assert_eq!(
        run(&s, b"get a\r\n"),
        "VALUE a 0 1\r\na\r\nEND\r\n",
        "the set did happen"
    );
    // So does closing on an HTTP request or a line without a newline.
    let (out, p) = talk(&s, b"version\r\nGET / HTTP/1.1\r\nversion\r\n");
    assert_eq!((out.as_slice(), p.close), (&b""[..], true));
    let mut junk = b"version\r\nset ".to_vec();
    junk.extend(vec![b'x'; 3000]);
    let (out, p) = talk(&s, &junk);
    assert_eq!((out.as_slice(), p.close), (&b""[..], true));
    // A get's reply is sent at once, so it survives a later close or long-key get.
    let (out, p) = talk(&s, b"gets 0 n\r\nversion\r\n\t1 HTTP/1.1\r\n");
    assert_eq!((out.as_slice(), p.close), (&b"END\r\n"[..], true));
    assert_eq!(
        run(&s, format!("get a\r\nversion\r\nget {long}\r\n").as_bytes()),
        "VALUE a 0 1\r\na\r\nEND\r\nCLIENT_ERROR bad command line format\r\n"
    );
    // And replies already handed to the caller are not taken back.
    let mut session = McSession::default();
    let mut out = Vec::new();
    session.process(b"version\r\n", &s, &info, &mut out);
    session.process(b"GET / HTTP/1.0\r\n", &s, &info, &mut out);
    assert_eq!(out, b"VERSION 1.6.18\r\n");
}

#[test]
fn replies_memcached_sent_before_a_discard_survive_it() {
    let long = "k".repeat(251);
    let (s, _) = new_store();
    // memcached sends its replies after the 21st request of a read, then every 20th.
    let mut input = b"set n 0 0 1\r\n0\r\n".to_vec();
    input.extend(b"incr n 1\r\n".repeat(44));
    input.extend(format!("get {long}\r\n").as_bytes());
    let expect: String = std::iter::once("STORED\r\n".to_string())
        .chain((1..=40).map(|i| format!("{i}\r\n")))
        .chain(std::iter::once(
            "CLIENT_ERROR bad command line format\r\n".to_string(),
        ))
        .collect();
    assert_eq!(run(&s, &input), expect);
    // A data block finished by a later read: memcached read it to its end and no further,
    // so its reply is sent before the next commands are read.
    let mut session = McSession::default();
    let mut out = Vec::new();
    let p = session.process(b"set s 0 0 3\r\nab", &s, &info, &mut out);
    assert_eq!((out.len(), p.consumed), (0, 0));
    let input = b"set s 0 0 3\r\nabc\r\nversion\r\nGET / HTTP/1.1\r\n";
    let p = session.process(input, &s, &info, &mut out);
    assert_eq!((out.as_slice(), p.close), (&b"STORED\r\n"[..], true));
    // A block that arrived whole with its line is not such a point.
    let (out, p) = talk(&s, input);
    assert_eq!((out.as_slice(), p.close), (&b""[..], true));
}

#[test]
fn quit_and_close() {
    let (s, _) = new_store();
    let (out, p) = talk(&s, b"version x\r\nquit x\r\nversion\r\n");
    assert_eq!(out, b"VERSION 1.6.18\r\n");
    assert_eq!((p.consumed, p.close), (19, true));
    let (out, p) = talk(&s, b"foo HTTP/1.0 x\r\nversion\r\n");
    assert_eq!(
        (out.as_slice(), p.close),
        (&b"ERROR\r\nVERSION 1.6.18\r\n"[..], false)
    );
    // A multiget line may be long; other lines may not.
    let mut get = b"get ".to_vec();
    get.extend(vec![b'k'; 3000]);
    let (out, p) = talk(&s, &get);
    assert_eq!((out.len(), p.close, p.consumed), (0, false, 0));
}

#[test]
fn odd_lines() {
    assert_eq!(
        fresh(b"\r\n\nab\r\nSET k 0 0 1\r\n"),
        "ERROR\r\nERROR\r\nERROR\r\nERROR\r\n"
    );
    assert_eq!(
        fresh(b"get a \x00b\r\nversion\r\n"),
        "END\r\nVERSION 1.6.18\r\n"
    );
    assert_eq!(
        fresh(b"get\r\ngat 10\r\nbget x\r\n"),
        "ERROR\r\nEND\r\nEND\r\n"
    );
    assert_eq!(
        fresh(b"shutdown\r\nmn\r\n"),
        "ERROR: shutdown not enabled\r\nERROR\r\n"
    );
    assert_eq!(
        talk(
            &new_store().0,
            b"set \xff\x01 0 0 1\r\na\r\nget \xff\x01\r\n"
        )
        .0,
        b"STORED\r\nVALUE \xff\x01 0 1\r\na\r\nEND\r\n".to_vec()
    );
}

#[test]
fn requests_arriving_in_pieces() {
    let (s, _) = new_store();
    let input = b"set k 1 0 10\r\n0123456789\r\nget k\r\n";
    for cut in 0..input.len() {
        let mut session = McSession::default();
        let mut out = Vec::new();
        let first = session.process(&input[..cut], &s, &info, &mut out);
        let rest = [&input[first.consumed..cut], &input[cut..]].concat();
        let second = session.process(&rest, &s, &info, &mut out);
        assert_eq!(first.consumed + second.consumed, input.len(), "cut {cut}");
        assert_eq!(
            out, b"STORED\r\nVALUE k 1 10\r\n0123456789\r\nEND\r\n",
            "cut {cut}"
        );
    }
    let mut session = McSession::default();
    let mut out = Vec::new();
    let p = session.process(b"set k 0 0 100\r\nabc", &s, &info, &mut out);
    assert_eq!((p.consumed, p.need), (0, Some(117)));
    assert!(session.has_pending());
}

#[test]
fn stats_output() {
    let (s, _) = new_store();
    run(
        &s,
        b"set a 0 0 1\r\n1\r\nget a b\r\nincr a 1\r\ntouch b 1\r\nflush_all\r\n",
    );
    let out = run(&s, b"stats\r\n");
    assert!(
        out.starts_with(
            "STAT pid 4242\r\nSTAT uptime 105\r\nSTAT time 1795328549\r\nSTAT version 1.6.18\r\n\
         STAT pointer_size 64\r\nSTAT rusage_user 0.018480\r\nSTAT rusage_system 0.016922\r\n"
        ),
        "{out}"
    );
    assert!(out.ends_with("END\r\n"));
    let stat = |name: &str| -> String {
        out.lines()
            .find_map(|l| l.strip_prefix(&format!("STAT {name} ")))
            .unwrap_or_else(|| panic!("no {name} in {out}"))
            .to_string()
    };
    for (name, value) in [
        ("cmd_get", "2"),
        ("cmd_set", "1"),
        ("cmd_flush", "1"),
        ("cmd_touch", "1"),
        ("get_hits", "1"),
        ("get_misses", "1"),
        ("incr_hits", "1"),
        ("touch_misses", "1"),
        ("curr_items", "1"),
        ("total_items", "1"),
        ("bytes", "26"),
        ("limit_maxbytes", "67108864"),
        ("threads", "4"),
        ("curr_connections", "1"),
        ("total_connections", "32"),
    ] {
        assert_eq!(stat(name), value, "{name}");
    }
    // Every line is `STAT <name> <value>`, as memcached_exporter expects.
    for line in out.lines().filter(|l| *l != "END") {
        assert_eq!(line.split(' ').count(), 3, "{line}");
    }
    assert_eq!(
        run(
            &s,
            b"stats reset\r\nstats detail\r\nstats detail on\r\nstats detail off\r\nstats foo\r\n\
                  stats items\r\nstats sizes\r\nstats cachedump 1 1\r\n"
        ),
        "RESET\r\nCLIENT_ERROR usage: stats detail on|off|dump\r\nOK\r\nOK\r\nERROR\r\nEND\r\n\
         STAT sizes_status disabled\r\nEND\r\nCLIENT_ERROR stats cachedump not allowed\r\n"
    );
    assert!(run(&s, b"stats\r\n").contains("STAT cmd_get 0\r\n"));
    let settings = run(&s, b"stats settings\r\n");
    assert!(
        settings.contains("STAT maxbytes 67108864\r\n")
            && settings.contains("STAT item_size_max 1048576\r\n")
    );
    let slabs = run(&s, b"stats slabs\r\n");
    assert!(
        slabs.starts_with("STAT active_slabs 0\r\nSTAT total_malloced ")
            && slabs.ends_with("END\r\n")
    );
}
