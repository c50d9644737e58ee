//! Starting, configuring and stopping the server: config layering and errors, Unix
//! sockets, SHUTDOWN and signals.

mod common;

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cachegate_protocols::resp::Frame;
use common::*;

fn wait_exit(child: &mut std::process::Child, within: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "server did not exit within {within:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn bad_configuration_is_reported_all_at_once() {
    let out = Command::new(env!("CARGO_BIN_EXE_cachegate"))
        .args([
            "--set",
            "memcache.prot=1",
            "--port",
            "abc",
            "--set",
            "databases=0",
        ])
        .env("CACHEGATE_TIMEOUT", "soon")
        .output()
        .expect("run cachegate");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    for needle in [
        "memcache.prot: unknown key",
        "port: expected an integer",
        "databases",
        "CACHEGATE_TIMEOUT",
    ] {
        assert!(err.contains(needle), "missing {needle:?} in:\n{err}");
    }
}

#[test]
fn file_env_and_flags_layer_in_order() {
    let dir = std::env::temp_dir().join(format!("cachegate-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("cachegate.toml");
    std::fs::write(&file, "databases = 4\nmaxclients = 100\ntimeout = 7\n").unwrap();
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_cachegate"))
        .arg("--config")
        .arg(&file)
        .args([
            "--port",
            &port.to_string(),
            "--memcache-port",
            "0",
            "--metrics-port",
            "0",
            "--maxclients",
            "200",
        ])
        .env("CACHEGATE_MAXCLIENTS", "150")
        .env("CACHEGATE_TIMEOUT", "9")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut p = Proc {
        child,
        port,
        name: "cachegate",
    };
    wait_for_port(port, &mut p.child, "cachegate");
    let mut c = connect(port);
    let get = |c: &mut std::net::TcpStream, name: &str| match cmd(c, &["CONFIG", "GET", name]) {
        Frame::Array(v) => v[1].clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(get(&mut c, "databases"), Frame::bulk("4"));
    assert_eq!(get(&mut c, "timeout"), Frame::bulk("9"));
    assert_eq!(get(&mut c, "maxclients"), Frame::bulk("200"));
    assert_eq!(
        cmd(&mut c, &["SELECT", "4"]),
        Frame::error("ERR DB index is out of range")
    );
    drop(p);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unix_socket_with_permissions_and_sigterm() {
    let dir = std::env::temp_dir().join(format!("cachegate-sock-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sock = dir.join("redis.sock");
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_cachegate"))
        .args([
            "--port",
            &port.to_string(),
            "--memcache-port",
            "0",
            "--metrics-port",
            "0",
        ])
        .arg("--unixsocket")
        .arg(&sock)
        .args(["--unixsocketperm", "700"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_port(port, &mut child, "cachegate");
    let mode = std::fs::metadata(&sock).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
    let mut u = UnixStream::connect(&sock).unwrap();
    u.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    u.write_all(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\nCLIENT LIST\r\n")
        .unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.ends_with(b"\n\r\n") {
        let n = std::io::Read::read(&mut u, &mut chunk).unwrap();
        assert!(n > 0);
        buf.extend_from_slice(&chunk[..n]);
    }
    let text = String::from_utf8_lossy(&buf);
    assert!(text.starts_with("+OK\r\n"), "{text}");
    assert!(text.contains("flags=U"), "{text}");
    // SAFETY: kill sends a signal to the child we started.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = wait_exit(&mut child, Duration::from_secs(10));
    assert!(status.success(), "{status}");
    assert!(!sock.exists(), "socket file left behind");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn shutdown_command_stops_the_server() {
    let mut cg = Cachegate::start(&[]);
    let mut c = cg.redis();
    assert_eq!(
        cmd(&mut c, &["SHUTDOWN", "ABORT"]),
        Frame::error("ERR No shutdown in progress.")
    );
    let (reply, closed) = exchange(
        &mut c,
        &Frame::command(["SHUTDOWN", "NOSAVE"]).to_bytes(),
        Duration::from_secs(5),
    );
    assert!(reply.is_empty(), "{:?}", String::from_utf8_lossy(&reply));
    assert!(closed);
    let status = wait_exit(&mut cg.proc.child, Duration::from_secs(10));
    assert!(status.success(), "{status}");
}
