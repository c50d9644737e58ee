//! One Redis client connection: read, parse every complete request, execute them as one
//! batch, write every reply with one write; wait on the socket and the mailbox at once.
//!
//! The input buffer is a `BytesMut`; the parsed prefix is split off and frozen so the batch
//! (and its argument spans) can move to the executor without copying, while the unparsed
//! tail stays behind for the next read. A slow reader only blocks its own task in
//! `write_all` — it never holds the keyspace — and a client that sends half a request and
//! stalls costs nothing but its buffer. The connection closes where redis-server closes it:
//! after a protocol error reply, after QUIT, on an HTTP-looking request, when the query
//! buffer passes `client-query-buffer-limit`, after `timeout` idle seconds (never while
//! blocked), and when killed.
//!
//! **Blocked.** A batch that ends in a blocking command (BLPOP …) leaves the connection
//! blocked: it still reads (buffering what arrives, noticing a disconnect) but runs nothing
//! until its mailbox brings the reply — a write on another connection served it — or its
//! deadline passes, when it unblocks itself under the lock and answers the timeout reply.
//! Then the rest of its pipeline runs.
//!
//! **Paused.** A command CLIENT PAUSE holds stops the batch before it; the connection waits
//! for the pause to end (or CLIENT UNPAUSE) and then runs it.
//!
//! **Idle memory.** Nothing is allocated until the socket is readable, and the input and
//! output buffers are given back once the connection has been quiet for
//! [`RELEASE_AFTER`], as redis-server frees an idle client's query buffer.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use cachegate_protocols::resp::request::{Batch, RequestLimits, RequestParser};
use cachegate_protocols::resp::{ProtocolVersion, ReplyBuf};
use cachegate_storage::blocking::UnblockReason;
use tokio::io::AsyncWriteExt;
use tokio::time::Instant;

use super::socket::{read_some, Read, Socket};
use crate::frontend::resp::{execute_batch, BatchIo, Close, RespConn, OUTPUT_SOFT_LIMIT};
use crate::mailbox::{Mail, Mailbox};
use crate::server::ServerCtx;

/// Requests executed per batch at most, so one connection's pipeline cannot hold the
/// keyspace for long; the rest is parsed and run right after, without waiting to read.
pub const MAX_BATCH: usize = 256;

/// Room to make in the input buffer before a read.
const READ_ROOM: usize = 16 * 1024;

/// How long a connection stays quiet before it gives its buffers back.
pub const RELEASE_AFTER: Duration = Duration::from_secs(1);

/// Parsed requests waiting to run: the frozen input they came from, their spans, and the
/// first one not executed yet (a batch stops early when its output grows large, or at a
/// blocking command).
struct Work {
    chunk: Bytes,
    batch: Batch,
    next: usize,
}

/// What the executor hands back after running (part of) a batch.
struct Returned {
    conn: RespConn,
    work: Work,
    out: ReplyBuf,
    shutdown: bool,
}

/// Serves one connection until it closes. `id` is its registered CLIENT ID and `mailbox`
/// the one registered with it.
pub async fn serve<S: Socket>(mut stream: S, ctx: Arc<ServerCtx>, id: u64, mailbox: Arc<Mailbox>) {
    let mut input = BytesMut::new();
    let mut parser = RequestParser::new(RequestLimits::default());
    let mut conn = RespConn {
        id,
        authenticated: true,
        ..RespConn::default()
    };
    conn.session.client_id = id;
    let mut out = ReplyBuf::new(ProtocolVersion::Resp2);
    let mut spare = Batch::default();
    let mut pending: Option<Work> = None;
    let mut shutdown = ctx.shutdown.subscribe();
    let mut unaccounted_in: u64 = 0;
    let (mut reads, mut writes) = (0u64, 0u64);
    // True when the buffer may hold more complete requests than the last parse took.
    let mut parse_again = false;
    // Set while a blocking command waits: its deadline, if it has one.
    let mut blocked: Option<Option<Instant>> = None;
    // Set while CLIENT PAUSE holds the next command: when the pause ends.
    let mut paused: Option<Instant> = None;
    let mut unpaused = ctx.unpaused.clone();
    'serve: loop {
        if blocked.is_none() && paused.is_none() {
            let work = match pending.take() {
                Some(w) => Some(w),
                None if parse_again || !input.is_empty() => {
                    parser.limits.max_bulk_len =
                        usize::try_from(ctx.tunables.proto_max_bulk_len.load(Ordering::Relaxed))
                            .unwrap_or(usize::MAX);
                    let mut batch = std::mem::take(&mut spare);
                    parser.parse(&input, &mut batch, MAX_BATCH);
                    parse_again = batch.requests.len() == MAX_BATCH;
                    if batch.requests.is_empty() && batch.error.is_none() {
                        // Nothing complete yet (or only empty requests, which are skipped).
                        input.advance(batch.consumed);
                        let need = batch.need;
                        spare = batch;
                        let limit = ctx.tunables.query_buffer_limit.load(Ordering::Relaxed);
                        if input.len() as u64 > limit {
                            tracing::warn!(
                                client = id,
                                "closing client that reached max query buffer length"
                            );
                            break 'serve;
                        }
                        if need > input.capacity() {
                            input.reserve(need - input.len());
                        }
                        None
                    } else {
                        let chunk = input.split_to(batch.consumed).freeze();
                        Some(Work {
                            chunk,
                            batch,
                            next: 0,
                        })
                    }
                }
                None => None,
            };
            if let Some(work) = work {
                let io = BatchIo {
                    bytes_in: std::mem::take(&mut unaccounted_in),
                    reads: std::mem::take(&mut reads),
                    writes: std::mem::take(&mut writes),
                    qbuf: input.len(),
                    qbuf_free: input.capacity() - input.len(),
                };
                let returned = ctx
                    .executor
                    .run(move |s| {
                        let mut work = work;
                        let mut conn = conn;
                        let mut out = out;
                        work.next = execute_batch(
                            s,
                            &mut conn,
                            &work.chunk,
                            &work.batch,
                            work.next,
                            &mut out,
                            io,
                        );
                        let shutdown = s.shutdown.is_some();
                        Returned {
                            conn,
                            work,
                            out,
                            shutdown,
                        }
                    })
                    .await;
                conn = returned.conn;
                out = returned.out;
                let work = returned.work;
                let close = conn.close;
                if close != Close::Now && !out.is_empty() {
                    if stream.write_all(out.as_bytes()).await.is_err() {
                        break 'serve;
                    }
                    writes += 1;
                }
                if out.capacity() > 4 * OUTPUT_SOFT_LIMIT {
                    // Do not keep a huge reply buffer around after a big reply.
                    out.release();
                } else {
                    out.clear();
                }
                if returned.shutdown {
                    let _ = ctx.shutdown.send(true);
                }
                if close != Close::Open || returned.shutdown {
                    break 'serve;
                }
                if let Some(deadline) = conn.blocked.take() {
                    blocked = Some(deadline.map(instant_at));
                }
                if let Some(until) = conn.paused.take() {
                    paused = Some(instant_at(until));
                    unpaused.borrow_and_update();
                }
                if work.next < work.batch.requests.len() {
                    pending = Some(work);
                } else {
                    spare = work.batch;
                }
                continue 'serve;
            }
        }
        // Nothing to run: wait for the socket, the mailbox, a timer or shutdown.
        let idle_timeout = ctx.tunables.timeout_secs.load(Ordering::Relaxed);
        let holding = input.capacity() > 0 || out.capacity() > 0 || spare.spans.capacity() > 0;
        let deadline = blocked.flatten();
        // Biased: a kill or a reply posted before more input arrived is handled first, as
        // redis-server frees a killed client before reading from it again.
        tokio::select! {
            biased;
            _ = shutdown.changed() => break 'serve,
            mail = mailbox.take() => match mail {
                Mail::Reply(bytes) => {
                    if stream.write_all(&bytes).await.is_err() {
                        break 'serve;
                    }
                    writes += 1;
                    blocked = None;
                }
                Mail::Kill => break 'serve,
            },
            r = read_some(&stream, &mut input, READ_ROOM) => match r {
                Read::Data(n) => {
                    unaccounted_in += n as u64;
                    reads += 1;
                    if blocked.is_some() {
                        let limit = ctx.tunables.query_buffer_limit.load(Ordering::Relaxed);
                        if input.len() as u64 > limit {
                            break 'serve;
                        }
                    }
                }
                Read::Nothing => {}
                Read::Closed => break 'serve,
            },
            _ = sleep_until(deadline), if deadline.is_some() => {
                let reply = ctx
                    .executor
                    .run(move |s| s.store.unblock(id, UnblockReason::Timeout))
                    .await;
                match reply {
                    Some(bytes) => {
                        if stream.write_all(&bytes).await.is_err() {
                            break 'serve;
                        }
                        writes += 1;
                        blocked = None;
                    }
                    // Served in the meantime: the reply is in the mailbox.
                    None => blocked = Some(None),
                }
            },
            _ = sleep_until(paused), if paused.is_some() => paused = None,
            _ = unpaused.changed(), if paused.is_some() => paused = None,
            _ = idle(idle_timeout), if blocked.is_none() && paused.is_none() => break 'serve,
            _ = tokio::time::sleep(RELEASE_AFTER), if holding && blocked.is_none() => {
                if input.is_empty() {
                    input = BytesMut::new();
                }
                out.release();
                spare = Batch::default();
            },
        }
    }
    let _ = stream.shutdown().await;
    ctx.executor
        .run(move |s| {
            s.store.unblock(id, UnblockReason::Gone);
            s.clients.remove(id);
        })
        .await;
    ctx.resp_connections.fetch_sub(1, Ordering::Relaxed);
}

/// The instant of Unix time `ms` (the server's store runs on the system clock).
fn instant_at(ms: i64) -> Instant {
    let now_ms = cachegate_storage::clock::Clock::now_ms(&cachegate_storage::clock::SystemClock);
    Instant::now() + Duration::from_millis(ms.saturating_sub(now_ms).max(0) as u64)
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// Resolves after `secs` seconds, or never when `secs` is 0.
async fn idle(secs: u64) {
    if secs == 0 {
        std::future::pending::<()>().await;
    } else {
        tokio::time::sleep(Duration::from_secs(secs)).await;
    }
}
