//! Talking to one server: sending commands and raw bytes, reading replies.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use cachegate_protocols::resp::{decode, DecodeLimits, Frame};

use crate::shared::{is_timeout, read_until_quiet};

/// How long a server may stay silent after a raw send before we decide it will not answer
/// at all. Replies on loopback take well under a millisecond; the margin covers a busy
/// machine.
const QUIET: Duration = Duration::from_millis(150);
/// Once a server has started answering a raw send, how long it may pause before we decide
/// it has said everything. redis-server writes a batch's replies together.
const QUIET_AFTER_DATA: Duration = Duration::from_millis(50);
/// How long to wait for one command's reply.
const REPLY_TIMEOUT: Duration = Duration::from_secs(5);

/// What a server answered to one step.
#[derive(Debug, Clone)]
pub enum Reply {
    /// One whole reply: its bytes and its decoded value.
    Value { bytes: Vec<u8>, frame: Frame },
    /// The connection closed (after sending `partial`, if anything).
    Closed(Vec<u8>),
    /// Nothing (or only `partial`) arrived in time.
    Timeout(Vec<u8>),
    /// Bytes that are not RESP.
    Invalid(Vec<u8>),
    /// Everything a raw send produced, and whether the connection closed.
    Raw { bytes: Vec<u8>, closed: bool },
    /// A reply normalised by modifiers, or several replies folded into one (`%scan`).
    Derived(Frame),
}

/// One server and our connection to it.
pub struct Side {
    /// Which server, for messages.
    pub name: &'static str,
    port: u16,
    stream: Option<TcpStream>,
    /// Bytes read past the last whole reply.
    buf: Vec<u8>,
}

impl Side {
    pub fn new(name: &'static str, port: u16) -> Side {
        Side {
            name,
            port,
            stream: None,
            buf: Vec::new(),
        }
    }

    /// Opens the connection if there is none; in a RESP3 pass, switches it to RESP3.
    pub fn connect(&mut self, proto: u8) -> Result<(), String> {
        if self.stream.is_some() {
            return Ok(());
        }
        let s = TcpStream::connect(("127.0.0.1", self.port))
            .map_err(|e| format!("{}: connect: {e}", self.name))?;
        s.set_nodelay(true).map_err(|e| e.to_string())?;
        self.stream = Some(s);
        self.buf.clear();
        if proto == 3 {
            self.setup(&["HELLO", "3"])?;
        }
        Ok(())
    }

    /// Runs a command of the test's own, which must not fail.
    pub fn setup(&mut self, cmd: &[&str]) -> Result<(), String> {
        let args: Vec<Vec<u8>> = cmd.iter().map(|a| a.as_bytes().to_vec()).collect();
        match self.command(&args) {
            Reply::Value { frame, .. } if !frame.is_error() => Ok(()),
            other => Err(format!("{}: {cmd:?} failed: {other:?}", self.name)),
        }
    }

    /// Waits (up to a second) until this connection is the server's only client: a server
    /// notices a client-side close only when it next polls, and CLIENT LIST or INFO clients
    /// must not see connections of earlier steps.
    pub fn settle(&mut self) {
        let info = [b"INFO".to_vec(), b"clients".to_vec()];
        for _ in 0..100 {
            match self.command(&info) {
                Reply::Value {
                    frame: Frame::Bulk(text) | Frame::Verbatim { text, .. },
                    ..
                } if text
                    .split(|&b| b == b'\n')
                    .any(|l| l.starts_with(b"connected_clients:1\r")) =>
                {
                    return
                }
                Reply::Value { .. } => std::thread::sleep(Duration::from_millis(10)),
                _ => return,
            }
        }
    }

    pub fn drop_connection(&mut self) {
        self.stream = None;
        self.buf.clear();
    }

    pub fn write(&mut self, bytes: &[u8]) -> bool {
        match self.stream.as_mut() {
            Some(s) => s.write_all(bytes).is_ok(),
            None => false,
        }
    }

    /// Sends a command as a RESP array and reads one reply.
    pub fn command(&mut self, args: &[Vec<u8>]) -> Reply {
        let mut req = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            req.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            req.extend_from_slice(a);
            req.extend_from_slice(b"\r\n");
        }
        if !self.write(&req) {
            self.drop_connection();
            return Reply::Closed(Vec::new());
        }
        let reply = self.read_reply();
        if !matches!(reply, Reply::Value { .. }) {
            self.drop_connection();
        }
        reply
    }

    /// Reads exactly one RESP value.
    pub fn read_reply(&mut self) -> Reply {
        let deadline = Instant::now() + REPLY_TIMEOUT;
        let mut chunk = [0u8; 64 * 1024];
        loop {
            match decode(&self.buf, &DecodeLimits::default()) {
                Ok(Some((frame, used))) => {
                    let bytes = self.buf.drain(..used).collect();
                    return Reply::Value { bytes, frame };
                }
                Ok(None) => {}
                Err(_) => return Reply::Invalid(std::mem::take(&mut self.buf)),
            }
            let Some(stream) = self.stream.as_mut() else {
                return Reply::Closed(std::mem::take(&mut self.buf));
            };
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Reply::Timeout(std::mem::take(&mut self.buf));
            }
            let _ = stream.set_read_timeout(Some(left));
            match stream.read(&mut chunk) {
                Ok(0) => return Reply::Closed(std::mem::take(&mut self.buf)),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if is_timeout(&e) => {}
                Err(_) => return Reply::Closed(std::mem::take(&mut self.buf)),
            }
        }
    }

    /// Reads until the server closes or goes quiet: [`QUIET`] before its first byte,
    /// [`QUIET_AFTER_DATA`] after its last.
    pub fn read_until_quiet(&mut self) -> Reply {
        let mut bytes = std::mem::take(&mut self.buf);
        let closed = match self.stream.as_mut() {
            Some(stream) => read_until_quiet(stream, &mut bytes, |b| {
                if b.is_empty() {
                    QUIET
                } else {
                    QUIET_AFTER_DATA
                }
            }),
            None => true,
        };
        if closed {
            self.drop_connection();
        }
        Reply::Raw { bytes, closed }
    }
}

/// Iterates a SCAN-like command to cursor 0 and returns the sorted set of keys seen, or the
/// first reply that is not a `[cursor, keys]` pair (an error, usually).
pub fn scan_all(side: &mut Side, args: &[Vec<u8>]) -> Reply {
    let mut args = args.to_vec();
    // SCAN's cursor is its first argument; HSCAN, SSCAN and ZSCAN name a key first.
    let at = if args
        .first()
        .is_some_and(|n| n.eq_ignore_ascii_case(b"SCAN"))
    {
        1
    } else {
        2
    };
    if args.len() <= at {
        return side.command(&args);
    }
    args[at] = b"0".to_vec();
    let mut keys: Vec<Frame> = Vec::new();
    for _ in 0..100_000 {
        let reply = side.command(&args);
        let Reply::Value {
            frame: Frame::Array(v),
            ..
        } = &reply
        else {
            return reply;
        };
        let (Some(Frame::Bulk(cursor)), Some(Frame::Array(found) | Frame::Set(found))) =
            (v.first(), v.get(1))
        else {
            return reply;
        };
        keys.extend(found.iter().cloned());
        if cursor.as_ref() == b"0" {
            keys.sort_by_key(|k| k.to_bytes());
            keys.dedup();
            return Reply::Derived(Frame::Set(keys));
        }
        args[at] = cursor.to_vec();
    }
    Reply::Derived(Frame::error("SCAN did not finish in 100000 calls"))
}
