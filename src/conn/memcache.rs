//! One memcached client connection: read, run every complete request through the memcached
//! front end, write all replies with one write.
//!
//! The memcached store is concurrent (sharded locks), so unlike Redis connections these take
//! no server-wide lock: each request locks only its key's shard. Limits are memcached's:
//! `max_connections` (refused with `ERROR Too many open connections`), item size and line
//! lengths (enforced by the parser), and the connection is closed where memcached closes it.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use bytes::{Buf, BytesMut};
use cachegate_protocols::memcache::ParserConfig;
use cachegate_storage::mc::McStore;
use tokio::io::AsyncWriteExt;
use tokio::time::Sleep;

use super::pool;
use super::resp::RELEASE_AFTER;
use super::socket::{poll_read_some, Read, Socket};
use tokio::sync::watch;

use crate::frontend::memcache::{McServerInfo, McSession};

/// Room made in the input buffer before a read.
const BUF_SIZE: usize = 16 * 1024;

/// What a waiting connection woke up for.
enum Wake {
    Stop,
    Read(Read),
    Release,
}

/// Counters of the memcached side (`stats`).
#[derive(Debug, Default)]
pub struct McCounters {
    /// `curr_connections`.
    pub curr_connections: AtomicU64,
    /// `total_connections`.
    pub total_connections: AtomicU64,
    /// `rejected_connections`.
    pub rejected_connections: AtomicU64,
    /// `bytes_read`.
    pub bytes_read: AtomicU64,
    /// `bytes_written`.
    pub bytes_written: AtomicU64,
    /// `conn_yields`.
    pub conn_yields: AtomicU64,
}

/// What memcached connections share.
pub struct McCtx {
    /// The memcached store.
    pub store: Arc<McStore>,
    /// Connection and byte counters.
    pub counters: McCounters,
    /// `-c`.
    pub max_connections: u64,
    /// Parser limits (item size).
    pub parser: ParserConfig,
    /// When the server started.
    pub started: Instant,
    /// Network threads (`threads`).
    pub threads: u64,
    /// The memcached TCP port (`tcpport`).
    pub tcp_port: u16,
    /// Flips to true when the server stops.
    pub shutdown: watch::Sender<bool>,
}

impl McCtx {
    /// The server-level values `stats` reports.
    pub fn info(&self) -> McServerInfo {
        let (user, sys) = crate::sys::cpu_times();
        let c = &self.counters;
        McServerInfo {
            uptime: self.started.elapsed().as_secs(),
            time: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64),
            rusage_user: Duration::from_secs_f64(user),
            rusage_system: Duration::from_secs_f64(sys),
            max_connections: self.max_connections,
            curr_connections: c.curr_connections.load(Ordering::Relaxed),
            total_connections: c.total_connections.load(Ordering::Relaxed),
            rejected_connections: c.rejected_connections.load(Ordering::Relaxed),
            threads: self.threads,
            conn_yields: c.conn_yields.load(Ordering::Relaxed),
            bytes_read: c.bytes_read.load(Ordering::Relaxed),
            bytes_written: c.bytes_written.load(Ordering::Relaxed),
            tcp_port: self.tcp_port,
            ..McServerInfo::default()
        }
    }
}

/// Admits a connection (or refuses it at `max_connections`, as memcached does) and serves
/// it until it closes.
pub async fn serve<S: Socket>(mut stream: S, ctx: Arc<McCtx>) {
    let c = &ctx.counters;
    if c.curr_connections.fetch_add(1, Ordering::Relaxed) >= ctx.max_connections {
        c.curr_connections.fetch_sub(1, Ordering::Relaxed);
        c.rejected_connections.fetch_add(1, Ordering::Relaxed);
        let _ = stream
            .write_all(b"ERROR Too many open connections\r\n")
            .await;
        let _ = stream.shutdown().await;
        return;
    }
    c.total_connections.fetch_add(1, Ordering::Relaxed);
    run(&mut stream, &ctx).await;
    let _ = stream.shutdown().await;
    ctx.counters
        .curr_connections
        .fetch_sub(1, Ordering::Relaxed);
}

async fn run<S: Socket>(stream: &mut S, ctx: &McCtx) {
    let mut session = McSession::new(ctx.parser);
    // Nothing is allocated until the socket is readable; both buffers are given back when
    // the connection has been quiet for a while (see `conn::socket`).
    let mut input = BytesMut::new();
    let mut out: Vec<u8> = Vec::new();
    let mut shutdown = ctx.shutdown.subscribe();
    let mut stop = std::pin::pin!(shutdown.changed());
    // Armed while the connection holds buffers; when it fires after a quiet period the
    // buffers go back. Re-armed (not reset per request) when there were reads since.
    let mut release: Option<Pin<Box<Sleep>>> = None;
    let mut reads: u64 = 0;
    let mut reads_at_arm: u64 = 0;
    let info = || ctx.info();
    loop {
        // Waiting holds no input buffer unless it has part of a request in it.
        pool::give_input(&mut input);
        let holding = input.capacity() > 0 || out.capacity() > 0;
        if !holding {
            release = None;
        } else if release.is_none() {
            release = Some(Box::pin(tokio::time::sleep(RELEASE_AFTER)));
            reads_at_arm = reads;
        }
        // One poll_fn over the shutdown, the socket and the timer keeps the wait an idle
        // connection spends its life in to a few references (see `conn::socket`).
        let event = std::future::poll_fn(|cx| {
            if stop.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Wake::Stop);
            }
            if let Poll::Ready(r) = poll_read_some(&mut *stream, &mut input, BUF_SIZE, cx) {
                return Poll::Ready(Wake::Read(r));
            }
            if let Some(t) = release.as_mut() {
                if t.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Wake::Release);
                }
            }
            Poll::Pending
        })
        .await;
        let read = match event {
            Wake::Stop => return,
            Wake::Release => {
                if reads == reads_at_arm {
                    if input.is_empty() {
                        input = BytesMut::new();
                    }
                    out = Vec::new();
                }
                release = None;
                continue;
            }
            Wake::Read(r) => r,
        };
        reads += 1;
        match read {
            Read::Closed => return,
            Read::Data(n) => {
                ctx.counters
                    .bytes_read
                    .fetch_add(n as u64, Ordering::Relaxed);
            }
        }
        loop {
            if out.capacity() == 0 {
                out = pool::take_output();
            }
            let done = session.process(&input, &ctx.store, &info, &mut out);
            input.advance(done.consumed);
            if !out.is_empty() {
                if stream.write_all(&out).await.is_err() {
                    return;
                }
                ctx.counters
                    .bytes_written
                    .fetch_add(out.len() as u64, Ordering::Relaxed);
                // Back to the thread's cache (which frees a huge one rather than keep it).
                pool::give_output(std::mem::take(&mut out));
            }
            if done.close {
                return;
            }
            if let Some(need) = done.need {
                input.reserve(need.saturating_sub(input.len()));
            }
            // Otherwise `process` stopped at an incomplete request: go read more.
            if !done.more {
                break;
            }
            ctx.counters.conn_yields.fetch_add(1, Ordering::Relaxed);
        }
        if input.is_empty() && input.capacity() > 4 * BUF_SIZE {
            input = BytesMut::new();
        }
    }
}
