//! Shared harness for the end-to-end tests: start cachegate and the reference servers on
//! free loopback ports, talk to them over real sockets, and stop them when the test ends.
//!
//! Reference binaries (`redis-server`, `memcached`, `redis-cli`) must be installed; a test
//! that needs one fails loudly when it is missing — it never skips.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    l.local_addr().expect("local address").port()
}

/// Waits until `port` accepts connections, or panics after 10 s.
pub fn wait_for_port(port: u16, child: &mut Child, what: &str) {
    if let Err(e) = try_wait_for_port(port, child, what) {
        panic!("{e}");
    }
}

/// Waits until `port` accepts connections; an error if the process exits first (another
/// process took the port between [`free_port`] and the bind, usually) or after 10 s.
pub fn try_wait_for_port(port: u16, child: &mut Child, what: &str) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("{what} exited while starting: {status}"));
        }
        if Instant::now() >= deadline {
            return Err(format!("{what} did not listen on port {port} within 10 s"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Path of a required binary, or a panic explaining how to install it.
pub fn require(binary: &str) -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(binary))
            .find(|p| p.is_file())
    });
    found.unwrap_or_else(|| {
        panic!(
            "`{binary}` is required by this test but is not installed; run the README's test \
             command (scripts/test), which installs redis-server, redis-tools and memcached"
        )
    })
}

/// A server process killed (by pid) when dropped.
pub struct Proc {
    pub child: Child,
    pub port: u16,
    pub name: &'static str,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A running cachegate.
pub struct Cachegate {
    pub proc: Proc,
    /// Redis port.
    pub port: u16,
    /// memcached port (0 if disabled).
    pub mc_port: u16,
    /// Metrics port (0 if disabled).
    pub metrics_port: u16,
}

impl Cachegate {
    /// Starts cachegate with both protocols and metrics on free ports, plus `extra` flags.
    pub fn start(extra: &[&str]) -> Cachegate {
        Cachegate::try_start(extra).unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`Cachegate::start`], with an error rather than a panic if it does not come up (for
    /// callers that retry when a free port was taken before cachegate bound it).
    pub fn try_start(extra: &[&str]) -> Result<Cachegate, String> {
        let (port, mc_port, metrics_port) = (free_port(), free_port(), free_port());
        let mut args: Vec<String> = vec![
            "--port".into(),
            port.to_string(),
            "--memcache-port".into(),
            mc_port.to_string(),
            "--metrics-port".into(),
            metrics_port.to_string(),
            "--loglevel".into(),
            "warning".into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let child = Command::new(env!("CARGO_BIN_EXE_cachegate"))
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start cachegate");
        // Owned by a Proc at once, so that it is killed on every way out.
        let mut proc = Proc {
            child,
            port,
            name: "cachegate",
        };
        try_wait_for_port(port, &mut proc.child, "cachegate")?;
        // The other listeners start a moment later; wait for those this call chose.
        for (flag, p) in [
            ("--memcache-port", mc_port),
            ("--metrics-port", metrics_port),
        ] {
            if !extra.contains(&flag) {
                try_wait_for_port(p, &mut proc.child, "cachegate")?;
            }
        }
        Ok(Cachegate {
            proc,
            port,
            mc_port,
            metrics_port,
        })
    }

    /// A raw connection to the Redis port.
    pub fn redis(&self) -> TcpStream {
        connect(self.port)
    }

    /// A raw connection to the memcached port.
    pub fn memcache(&self) -> TcpStream {
        connect(self.mc_port)
    }
}

/// Fails loudly unless `bin --version`-style output (`flag`) names `want`: the
/// differential tests compare against one reference release and mean nothing against
/// another.
pub fn require_version(bin: &std::path::Path, flag: &str, want: &str) {
    let out = Command::new(bin)
        .arg(flag)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {} {flag}: {e}", bin.display()));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(want),
        "{} is not the reference release the tests expect ({want}): it reports {text:?}",
        bin.display()
    );
}

/// Starts redis-server 7.0 (the reference) on a free port, without persistence, with DEBUG
/// enabled (the differential scripts compare DEBUG DIGEST and friends).
pub fn redis_server() -> Proc {
    let bin = require("redis-server");
    require_version(&bin, "--version", "Redis server v=7.0.");
    let port = free_port();
    let mut child = Command::new(bin)
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--dir",
            &std::env::temp_dir().display().to_string(),
            "--logfile",
            "",
            "--loglevel",
            "warning",
            "--enable-debug-command",
            "yes",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start redis-server");
    wait_for_port(port, &mut child, "redis-server");
    Proc {
        child,
        port,
        name: "redis-server",
    }
}

/// Starts memcached 1.6 (the reference) on a free port, UDP off.
pub fn memcached() -> Proc {
    memcached_with(&[])
}

/// Starts memcached 1.6 on a free port, UDP off, with `extra` flags (`-I`, `-m`…).
pub fn memcached_with(extra: &[&str]) -> Proc {
    try_memcached_with(extra).unwrap_or_else(|e| panic!("{e}"))
}

/// [`memcached_with`], with an error rather than a panic if it does not come up (for callers
/// that retry when a free port was taken before memcached bound it).
pub fn try_memcached_with(extra: &[&str]) -> Result<Proc, String> {
    let bin = require("memcached");
    require_version(&bin, "-V", "memcached 1.6.18");
    let port = free_port();
    let mut cmd = Command::new(bin);
    cmd.args([
        "-p",
        &port.to_string(),
        "-l",
        "127.0.0.1",
        "-U",
        "0",
        "-t",
        "2",
    ]);
    cmd.args(extra);
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        cmd.args(["-u", "root"]);
    }
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start memcached");
    // Owned by a Proc at once, so that it is killed on every way out.
    let mut proc = Proc {
        child,
        port,
        name: "memcached",
    };
    try_wait_for_port(port, &mut proc.child, "memcached")?;
    Ok(proc)
}

/// A TCP connection to a loopback port with a read timeout.
pub fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    s.set_nodelay(true).expect("nodelay");
    s
}

/// Sends `req` and reads until `idle` passes with no new bytes or the peer closes.
/// Returns what was read and whether the connection was closed.
pub fn exchange(s: &mut TcpStream, req: &[u8], idle: Duration) -> (Vec<u8>, bool) {
    s.write_all(req).expect("write");
    read_until_idle(s, idle)
}

/// Reads until `idle` passes with nothing new, or EOF. Returns (bytes, closed).
pub fn read_until_idle(s: &mut TcpStream, idle: Duration) -> (Vec<u8>, bool) {
    s.set_read_timeout(Some(idle)).expect("timeout");
    let mut out = Vec::new();
    let mut buf = [0u8; 65536];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return (out, true),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return (out, false)
            }
            Err(_) => return (out, true),
        }
    }
}

/// Reads exactly one RESP reply (blocking up to the socket's timeout).
pub fn read_reply(s: &mut TcpStream, buf: &mut Vec<u8>) -> cachegate_protocols::resp::Frame {
    use cachegate_protocols::resp::{decode, DecodeLimits};
    let mut chunk = [0u8; 65536];
    loop {
        if let Some((frame, used)) = decode(buf, &DecodeLimits::default()).expect("valid RESP") {
            buf.drain(..used);
            return frame;
        }
        let n = s.read(&mut chunk).expect("read a reply");
        assert!(n > 0, "connection closed before a whole reply");
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Sends a command (as a RESP array) and reads its reply.
pub fn cmd(s: &mut TcpStream, args: &[&str]) -> cachegate_protocols::resp::Frame {
    let frame = cachegate_protocols::resp::Frame::command(args);
    s.write_all(&frame.to_bytes()).expect("write");
    read_reply(s, &mut Vec::new())
}
