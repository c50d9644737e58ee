//! Ping-pong mode (`--pingpong`): blocking-pop round trips between pairs of connections.
//!
//! Owns the pairing of connections and the round-trip loop. Connections are paired in
//! order — connection 2i pops and connection 2i+1 pushes, on the list `q<i>` of its own —
//! and each pair is driven by one task:
//!
//! 1. the popper sends `BLPOP q<i> 0` (it blocks: the list is empty),
//! 2. the pusher sends `LPUSH q<i> x` and reads its reply,
//! 3. the popper's `BLPOP` reply arrives: one round trip, timed from the `LPUSH` write,
//!    and the pair starts over.
//!
//! So every pair has exactly one request blocked in the server at a time and every round
//! trip exercises the server's wake-a-blocked-client path. The `BLPOP` is written before
//! the `LPUSH`; a server that happens to read the `LPUSH` first serves the `BLPOP` from the
//! list without blocking, which is still one round trip. Nothing allocates per round: both
//! requests are rendered once per pair.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::conn::{protocol_error, ConnError, Deadline, ReadBuf, Recorder, Shared, Stats};
use crate::request::Op;
use crate::scan::resp::Framer;
use crate::scan::{Outcome, Scan};
use crate::template::{Template, Vars};

/// The op under which round trips are counted (the report's only command).
const ROUND: Op = Op::Command(0);

/// Which pair connection `i` belongs to and whether it pops (`true`) or pushes.
pub fn role(i: usize) -> (usize, bool) {
    (i / 2, i.is_multiple_of(2))
}

/// The list pair `pair` blocks on.
pub fn queue_key(pair: usize) -> String {
    format!("q{pair}")
}

/// The two requests of pair `pair`: `BLPOP q<pair> 0` and `LPUSH q<pair> x`.
pub fn requests(pair: usize) -> (Vec<u8>, Vec<u8>) {
    let key = queue_key(pair);
    let render = |t: String| {
        let mut out = Vec::new();
        // The templates are constant text built here, so compiling cannot fail.
        Template::compile(&t, b"")
            .expect("built-in ping-pong template")
            .encode(
                Vars {
                    key: 0,
                    n: 0,
                    conn: 0,
                },
                &mut out,
            );
        out
    };
    (
        render(format!("BLPOP {key} 0")),
        render(format!("LPUSH {key} x")),
    )
}

/// One side of a pair: its socket, read buffer and framer.
struct Side {
    stream: TcpStream,
    rbuf: ReadBuf,
    framer: Framer,
}

impl Side {
    fn new(stream: TcpStream) -> Self {
        Side {
            stream,
            rbuf: ReadBuf::new(0),
            framer: Framer::new(),
        }
    }

    async fn send(&mut self, request: &[u8]) -> Result<(), ConnError> {
        self.stream
            .write_all(request)
            .await
            .map_err(|e| ConnError::Io("write", e))
    }

    /// Reads until one whole reply is framed; returns its outcome and when it arrived.
    async fn reply(&mut self) -> Result<(Outcome, Instant), ConnError> {
        loop {
            match self.framer.scan(self.rbuf.pending()) {
                Scan::Complete { len, outcome } => {
                    self.rbuf.start += len;
                    if self.rbuf.start != self.rbuf.end {
                        return Err(protocol_error(&self.rbuf, "more replies than requests"));
                    }
                    return Ok((outcome, Instant::now()));
                }
                Scan::Incomplete => {}
                Scan::Invalid(why) => return Err(protocol_error(&self.rbuf, why)),
            }
            self.rbuf.make_room();
            let end = self.rbuf.end;
            let n = self
                .stream
                .read(&mut self.rbuf.buf[end..])
                .await
                .map_err(|e| ConnError::Io("read", e))?;
            if n == 0 {
                return Err(ConnError::Closed { outstanding: 1 });
            }
            self.rbuf.end += n;
        }
    }
}

/// A popper and a pusher connection on one list.
pub struct Pair {
    popper: Side,
    pusher: Side,
    blpop: Vec<u8>,
    lpush: Vec<u8>,
    shared: Arc<Shared>,
    stats: Stats,
    latency: Recorder,
}

impl Pair {
    /// Pair number `pair`, from its two connected sockets.
    pub fn new(
        pair: usize,
        popper: TcpStream,
        pusher: TcpStream,
        shared: Arc<Shared>,
        latency: Recorder,
    ) -> Self {
        let (blpop, lpush) = requests(pair);
        Pair {
            popper: Side::new(popper),
            pusher: Side::new(pusher),
            blpop,
            lpush,
            shared,
            stats: Stats::new(),
            latency,
        }
    }

    /// Runs round trips until the deadline, the request budget or an abort.
    pub async fn run(mut self) -> Result<Stats, ConnError> {
        let mut deadline = Deadline::new(self.shared.io_timeout);
        loop {
            if self.shared.abort.load(Ordering::Relaxed) {
                break;
            }
            let now = Instant::now();
            if self.shared.deadline.is_some_and(|d| now >= d) {
                break;
            }
            let measured = now >= self.shared.measure_start;
            if measured && self.shared.claim(1) == 0 {
                break;
            }
            deadline.run(now, self.round(measured)).await?;
        }
        Ok(self.stats)
    }

    /// One round trip: BLPOP, LPUSH, both replies.
    async fn round(&mut self, measured: bool) -> Result<(), ConnError> {
        self.popper.send(&self.blpop).await?;
        let sent = Instant::now();
        self.pusher.send(&self.lpush).await?;
        let (pushed, _) = self.pusher.reply().await?;
        let (popped, arrived) = self.popper.reply().await?;
        if !measured {
            self.stats.warmup_ops += 1;
            return Ok(());
        }
        if pushed == Outcome::Error {
            self.stats.errors += 1;
        }
        self.stats.count(ROUND, popped);
        self.latency.record(arrived - sent, 1);
        self.stats.last_reply = Some(arrived);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_pair_in_order_with_a_list_each() {
        let roles: Vec<_> = (0..6).map(role).collect();
        assert_eq!(
            roles,
            [
                (0, true),
                (0, false),
                (1, true),
                (1, false),
                (2, true),
                (2, false)
            ]
        );
        assert_eq!(queue_key(11), "q11");
    }

    #[test]
    fn pair_requests_use_the_pair_key() {
        let (blpop, lpush) = requests(7);
        assert_eq!(blpop, b"*3\r\n$5\r\nBLPOP\r\n$2\r\nq7\r\n$1\r\n0\r\n");
        assert_eq!(lpush, b"*3\r\n$5\r\nLPUSH\r\n$2\r\nq7\r\n$1\r\nx\r\n");
    }
}
