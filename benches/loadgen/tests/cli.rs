//! End-to-end tests of the `cachegate-loadgen` binary against tiny fake servers.
//!
//! Owns the guarantees that only show from outside the process: exact request limits,
//! outcome counting, the JSON report, and that every failure (refused connection, server
//! hang-up, silence, garbage) ends the run quickly with a non-zero exit and a clear
//! message instead of hanging or panicking. The fake servers understand just enough of
//! the requests to count them: with a pure GET or pure SET mix every request has the same
//! shape, so counting one marker byte per request is enough.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Output};
use std::thread;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_cachegate-loadgen");

/// How a fake server answers.
#[derive(Clone, Copy)]
enum Fake {
    /// Sends `reply` once per request, counting requests by occurrences of `marker`
    /// divided by `per_request`.
    Reply {
        marker: u8,
        per_request: usize,
        reply: &'static [u8],
    },
    /// Closes each connection as soon as it is accepted.
    HangUp,
    /// Accepts and reads, never answers.
    Silent,
    /// Answers anything with bytes that are not a reply.
    Garbage,
}

/// Starts a fake server on a free loopback port; its threads die with the test process.
fn fake_server(kind: Fake) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let port = listener.local_addr().expect("local addr").port();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            thread::spawn(move || serve(stream, kind));
        }
    });
    port
}

fn serve(mut stream: TcpStream, kind: Fake) {
    let mut buf = [0u8; 64 * 1024];
    let mut seen = 0usize;
    let mut out = Vec::new();
    loop {
        if matches!(kind, Fake::HangUp) {
            return;
        }
        let n = match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        match kind {
            Fake::Reply {
                marker,
                per_request,
                reply,
            } => {
                seen += buf[..n].iter().filter(|&&b| b == marker).count();
                out.clear();
                while seen >= per_request {
                    seen -= per_request;
                    out.extend_from_slice(reply);
                }
                if stream.write_all(&out).is_err() {
                    return;
                }
            }
            Fake::Garbage => {
                let _ = stream.write_all(b"?garbage\r\n");
            }
            Fake::Silent | Fake::HangUp => {}
        }
    }
}

fn loadgen(port: u16, args: &[&str]) -> Output {
    let port = port.to_string();
    Command::new(BIN)
        .args(["--host", "127.0.0.1", "--port", &port])
        .args(args)
        .output()
        .expect("run cachegate-loadgen")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The value of a numeric field in the flat JSON report.
fn field(json: &str, name: &str) -> u64 {
    let key = format!("\"{name}\":");
    let at = json
        .find(&key)
        .unwrap_or_else(|| panic!("{name} in {json}"))
        + key.len();
    let digits: String = json[at..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("{name} in {json}"))
}

#[test]
fn resp_request_limit_is_exact_and_outcomes_are_counted() {
    let ok = fake_server(Fake::Reply {
        marker: b'*',
        per_request: 1,
        reply: b"+OK\r\n",
    });
    let out = loadgen(
        ok,
        &[
            "-c", "3", "-P", "7", "--ratio", "1:0", "-n", "1000", "--json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let json = stdout(&out);
    assert_eq!(json.lines().count(), 1, "one JSON object: {json}");
    assert_eq!(field(&json, "ops"), 1000);
    assert_eq!(field(&json, "sets"), 1000);
    assert_eq!(field(&json, "errors"), 0);

    let nil = fake_server(Fake::Reply {
        marker: b'*',
        per_request: 1,
        reply: b"$-1\r\n",
    });
    let out = loadgen(
        nil,
        &[
            "-c", "2", "-P", "4", "--ratio", "0:1", "-n", "200", "--json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let json = stdout(&out);
    assert_eq!(field(&json, "misses"), 200);
    assert_eq!(field(&json, "hits"), 0);

    let err = fake_server(Fake::Reply {
        marker: b'*',
        per_request: 1,
        reply: b"-ERR nope\r\n",
    });
    let out = loadgen(err, &["-c", "1", "--ratio", "0:1", "-n", "50", "--json"]);
    assert!(out.status.success(), "error replies are counted, not fatal");
    assert_eq!(field(&stdout(&out), "errors"), 50);
}

#[test]
fn memcache_gets_and_sets_are_counted() {
    // A get is one line; a set is a command line plus a data line.
    let hit = fake_server(Fake::Reply {
        marker: b'\n',
        per_request: 1,
        reply: b"VALUE key:000000000001 0 5\r\nab\r\nc\r\nEND\r\n",
    });
    let out = loadgen(
        hit,
        &[
            "--protocol",
            "memcache",
            "-c",
            "4",
            "-P",
            "16",
            "--ratio",
            "0:1",
            "-n",
            "640",
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let json = stdout(&out);
    assert_eq!(field(&json, "hits"), 640);
    assert_eq!(field(&json, "gets"), 640);

    let stored = fake_server(Fake::Reply {
        marker: b'\n',
        per_request: 2,
        reply: b"STORED\r\n",
    });
    let out = loadgen(
        stored,
        &[
            "--protocol",
            "memcache",
            "--load",
            "-k",
            "1001",
            "-c",
            "3",
            "-P",
            "10",
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let json = stdout(&out);
    assert_eq!(field(&json, "sets"), 1001, "--load writes every key once");
    assert!(json.contains("\"mode\":\"load\""));
}

#[test]
fn load_fails_when_sets_fail() {
    let full = fake_server(Fake::Reply {
        marker: b'\n',
        per_request: 2,
        reply: b"SERVER_ERROR out of memory storing object\r\n",
    });
    let out = loadgen(
        full,
        &["--protocol", "memcache", "--load", "-k", "10", "-c", "1"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("failed during --load"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn duration_bounds_the_run() {
    let ok = fake_server(Fake::Reply {
        marker: b'*',
        per_request: 1,
        reply: b"+OK\r\n",
    });
    let started = Instant::now();
    let out = loadgen(
        ok,
        &[
            "-c",
            "2",
            "--ratio",
            "1:0",
            "--duration",
            "0.5",
            "--warmup",
            "0.2",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(stdout(&out).contains("ops/s"), "{}", stdout(&out));
}

/// Runs the binary expecting a quick failure with exit status 1 and one of `needles` on
/// stderr.
fn assert_fails_fast(port: u16, needles: &[&str]) {
    let started = Instant::now();
    let out = loadgen(port, &["-c", "2", "--duration", "30", "--timeout", "0.5"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(needles.iter().any(|n| err.contains(n)), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn refused_connection_fails_fast() {
    // Bind then drop a listener to get a port nobody is listening on.
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    assert_fails_fast(port, &["cannot connect"]);
}

#[test]
fn server_hang_up_fails_fast() {
    // Depending on timing the hang-up shows as end of stream or as a reset on write.
    assert_fails_fast(
        fake_server(Fake::HangUp),
        &["closed the connection", "write failed", "read failed"],
    );
}

#[test]
fn silent_server_hits_the_timeout() {
    assert_fails_fast(fake_server(Fake::Silent), &["--timeout"]);
}

#[test]
fn garbage_is_a_protocol_error() {
    assert_fails_fast(fake_server(Fake::Garbage), &["protocol error"]);
}

#[test]
fn bad_usage_exits_2() {
    let out = Command::new(BIN)
        .args(["--ratio", "0:0"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(BIN)
        .args(["--pipeline", "0", "--port", "1"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
}
