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

/// A 100-element array reply, as `LRANGE l 0 99` or `ZRANGE z 0 99` would send.
fn hundred_element_array() -> &'static [u8] {
    let mut r = b"*100\r\n".to_vec();
    for i in 0..100 {
        let m = format!("member:{i:04}");
        r.extend_from_slice(format!("${}\r\n{m}\r\n", m.len()).as_bytes());
    }
    Box::leak(r.into_boxed_slice())
}

#[test]
fn command_templates_are_sent_and_counted() {
    let int = fake_server(Fake::Reply {
        marker: b'*',
        per_request: 1,
        reply: b":1\r\n",
    });
    let out = loadgen(
        int,
        &[
            "-c",
            "3",
            "-P",
            "16",
            "-t",
            "2",
            "-k",
            "1000",
            "--command",
            "3:LPUSH list:{key} {value}",
            "--command",
            "ZADD z:{keynum} {n} m{conn}-{n}",
            "-n",
            "4000",
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let json = stdout(&out);
    assert_eq!(field(&json, "ops"), 4000);
    assert_eq!(field(&json, "errors"), 0);
    assert!(
        json.contains("\"name\":\"LPUSH\",\"weight\":3,\"count\":"),
        "{json}"
    );
    assert!(
        json.contains("\"name\":\"ZADD\",\"weight\":1,\"count\":"),
        "{json}"
    );

    // Big array replies are framed whole: one reply per request, all hits.
    let arrays = fake_server(Fake::Reply {
        marker: b'*',
        per_request: 1,
        reply: hundred_element_array(),
    });
    let out = loadgen(
        arrays,
        &[
            "-c",
            "4",
            "-P",
            "16",
            "--command",
            "LRANGE list:{key} 0 99",
            "-n",
            "2000",
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let json = stdout(&out);
    assert_eq!(field(&json, "ops"), 2000);
    assert_eq!(field(&json, "hits"), 2000);

    // Empty arrays (a range on a missing key) are misses.
    let empty = fake_server(Fake::Reply {
        marker: b'*',
        per_request: 1,
        reply: b"*0\r\n",
    });
    let out = loadgen(
        empty,
        &[
            "-c",
            "1",
            "--command",
            "ZRANGE z:{key} 0 99",
            "-n",
            "10",
            "--json",
        ],
    );
    assert_eq!(field(&stdout(&out), "misses"), 10);
}

#[test]
fn load_with_commands_walks_keys_per_template_and_pass() {
    let int = fake_server(Fake::Reply {
        marker: b'*',
        per_request: 1,
        reply: b":1\r\n",
    });
    let out = loadgen(
        int,
        &[
            "--load",
            "-k",
            "10",
            "--passes",
            "3",
            "-c",
            "3",
            "-P",
            "4",
            "--command",
            "RPUSH l:{key} a b c",
            "--command",
            "SADD s:{key} {keynum}",
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let json = stdout(&out);
    assert_eq!(field(&json, "ops"), 60, "10 keys x 2 templates x 3 passes");
    assert!(
        json.contains("\"name\":\"RPUSH\",\"weight\":1,\"count\":30"),
        "{json}"
    );

    let err = fake_server(Fake::Reply {
        marker: b'*',
        per_request: 1,
        reply: b"-ERR unknown command 'XADD'\r\n",
    });
    let out = loadgen(
        err,
        &[
            "--load",
            "-k",
            "5",
            "-c",
            "1",
            "--command",
            "XADD s 1-1 f v",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("5 of 5 requests failed during --load"),
        "{}",
        stderr(&out)
    );
}

/// A fake server that implements just BLPOP (blocking) and LPUSH on shared lists, and logs
/// which connection sent which command on which key.
mod fake_lists {
    use std::collections::{HashMap, VecDeque};
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::sync::{Arc, Condvar, Mutex};
    use std::thread;

    #[derive(Default)]
    pub struct State {
        lists: Mutex<HashMap<Vec<u8>, VecDeque<Vec<u8>>>>,
        pushed: Condvar,
        /// (connection number, command, key) of every request.
        pub log: Mutex<Vec<(usize, String, String)>>,
    }

    pub fn start() -> (u16, Arc<State>) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let state = Arc::new(State::default());
        let shared = Arc::clone(&state);
        thread::spawn(move || {
            for (id, stream) in listener.incoming().enumerate() {
                let Ok(stream) = stream else { return };
                let state = Arc::clone(&shared);
                thread::spawn(move || serve(id, stream, &state));
            }
        });
        (port, state)
    }

    /// Reads one RESP array of bulk strings.
    fn request(r: &mut BufReader<TcpStream>) -> Option<Vec<Vec<u8>>> {
        let mut line = String::new();
        let header = |r: &mut BufReader<TcpStream>, line: &mut String, kind: char| {
            line.clear();
            r.read_line(line).ok().filter(|&n| n > 0)?;
            line.strip_prefix(kind)?.trim_end().parse::<usize>().ok()
        };
        let n = header(r, &mut line, '*')?;
        let mut args = Vec::with_capacity(n);
        for _ in 0..n {
            let len = header(r, &mut line, '$')?;
            let mut arg = vec![0; len + 2];
            r.read_exact(&mut arg).ok()?;
            arg.truncate(len);
            args.push(arg);
        }
        Some(args)
    }

    fn serve(id: usize, stream: TcpStream, state: &State) {
        let mut out = stream.try_clone().expect("clone");
        let mut r = BufReader::new(stream);
        while let Some(args) = request(&mut r) {
            let cmd = String::from_utf8_lossy(&args[0]).to_ascii_uppercase();
            let key = args.get(1).cloned().unwrap_or_default();
            state.log.lock().unwrap().push((
                id,
                cmd.clone(),
                String::from_utf8_lossy(&key).into_owned(),
            ));
            let reply = match cmd.as_str() {
                "LPUSH" => {
                    let mut lists = state.lists.lock().unwrap();
                    let list = lists.entry(key).or_default();
                    list.push_front(args[2].clone());
                    let len = list.len();
                    state.pushed.notify_all();
                    format!(":{len}\r\n").into_bytes()
                }
                "BLPOP" => {
                    let mut lists = state.lists.lock().unwrap();
                    let value = loop {
                        if let Some(v) = lists.get_mut(&key).and_then(|l| l.pop_front()) {
                            break v;
                        }
                        lists = state.pushed.wait(lists).unwrap();
                    };
                    let mut reply = format!("*2\r\n${}\r\n", key.len()).into_bytes();
                    reply.extend_from_slice(&key);
                    reply.extend_from_slice(format!("\r\n${}\r\n", value.len()).as_bytes());
                    reply.extend_from_slice(&value);
                    reply.extend_from_slice(b"\r\n");
                    reply
                }
                _ => b"-ERR unknown command\r\n".to_vec(),
            };
            if out.write_all(&reply).is_err() {
                return;
            }
        }
    }
}

#[test]
fn pingpong_pairs_connections_on_a_list_each() {
    let (port, state) = fake_lists::start();
    let out = loadgen(
        port,
        &["--pingpong", "-c", "6", "-t", "2", "-n", "300", "--json"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let json = stdout(&out);
    assert_eq!(field(&json, "ops"), 300, "round trips");
    assert_eq!(field(&json, "hits"), 300, "every BLPOP got an element");
    assert_eq!(field(&json, "errors"), 0);
    assert!(json.contains("\"mode\":\"pingpong\""), "{json}");

    // Every connection sent one command on one key; each key has one popper and one
    // pusher, and each pair did as many pushes as pops.
    let log = state.log.lock().unwrap();
    let mut by_conn: std::collections::BTreeMap<usize, (String, String, usize)> =
        Default::default();
    for (id, cmd, key) in log.iter() {
        let e = by_conn
            .entry(*id)
            .or_insert_with(|| (cmd.clone(), key.clone(), 0));
        assert_eq!(
            (&e.0, &e.1),
            (cmd, key),
            "connection {id} changed command or key"
        );
        e.2 += 1;
    }
    assert_eq!(by_conn.len(), 6);
    let mut keys: std::collections::BTreeMap<&str, Vec<(&str, usize)>> = Default::default();
    for (cmd, key, count) in by_conn.values() {
        keys.entry(key).or_default().push((cmd, *count));
    }
    assert_eq!(keys.keys().copied().collect::<Vec<_>>(), ["q0", "q1", "q2"]);
    let mut total = 0;
    for (key, mut roles) in keys {
        roles.sort();
        assert_eq!(roles.len(), 2, "{key}");
        assert_eq!((roles[0].0, roles[1].0), ("BLPOP", "LPUSH"), "{key}");
        assert_eq!(roles[0].1, roles[1].1, "{key}: pops and pushes match");
        total += roles[0].1;
    }
    assert_eq!(total, 300);
}
