//! One Redis client connection: read, parse every complete request, execute them as one
//! batch, write every reply with one write.
//!
//! The input buffer is a `BytesMut`; the parsed prefix is split off and frozen so the batch
//! (and its argument spans) can move to the executor without copying, while the unparsed
//! tail stays behind for the next read. A slow reader only blocks its own task in
//! `write_all` — it never holds the keyspace — and a client that sends half a request and
//! stalls costs nothing but its buffer. The connection closes where redis-server closes it:
//! after a protocol error reply, after QUIT, on an HTTP-looking request, when the query
//! buffer passes `client-query-buffer-limit`, and after `timeout` idle seconds.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use cachegate_protocols::resp::request::{Batch, RequestLimits, RequestParser};
use cachegate_protocols::resp::{ProtocolVersion, ReplyBuf};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::frontend::resp::{execute_batch, BatchIo, Close, RespConn, OUTPUT_SOFT_LIMIT};
use crate::server::ServerCtx;

/// Requests executed per batch at most, so one connection's pipeline cannot hold the
/// keyspace for long; the rest is parsed and run right after, without waiting to read.
pub const MAX_BATCH: usize = 256;

/// Input buffer size to start with and to shrink back to after a burst.
const BUF_SIZE: usize = 16 * 1024;

/// Parsed requests waiting to run: the frozen input they came from, their spans, and the
/// first one not executed yet (a batch stops early when its output grows large).
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

/// Serves one connection until it closes. `id` is its registered CLIENT ID.
pub async fn serve<S>(mut stream: S, ctx: Arc<ServerCtx>, id: u64)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut input = BytesMut::with_capacity(BUF_SIZE);
    let mut parser = RequestParser::new(RequestLimits::default());
    let mut conn = RespConn {
        id,
        authenticated: true,
        ..RespConn::default()
    };
    let mut out = ReplyBuf::new(ProtocolVersion::Resp2);
    let mut spare = Batch::default();
    let mut pending: Option<Work> = None;
    let mut shutdown = ctx.shutdown.subscribe();
    let mut unaccounted_in: u64 = 0;
    let (mut reads, mut writes) = (0u64, 0u64);
    // True when the buffer may hold more complete requests than the last parse took.
    let mut parse_again = false;
    loop {
        let work = match pending.take() {
            Some(w) => w,
            None => {
                if !parse_again {
                    let timeout = ctx.tunables.timeout_secs.load(Ordering::Relaxed);
                    let n = tokio::select! {
                        r = stream.read_buf(&mut input) => r,
                        _ = shutdown.changed() => break,
                        _ = idle(timeout) => break,
                    };
                    match n {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            unaccounted_in += n as u64;
                            reads += 1;
                        }
                    }
                }
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
                    if input.len() as u64 > ctx.tunables.query_buffer_limit.load(Ordering::Relaxed)
                    {
                        tracing::warn!(
                            client = id,
                            "closing client that reached max query buffer length"
                        );
                        break;
                    }
                    if need > input.capacity() {
                        input.reserve(need - input.len());
                    }
                    continue;
                }
                let chunk = input.split_to(batch.consumed).freeze();
                Work {
                    chunk,
                    batch,
                    next: 0,
                }
            }
        };
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
                break;
            }
            writes += 1;
        }
        if out.len() > 4 * OUTPUT_SOFT_LIMIT {
            // Do not keep a huge reply buffer around after a big reply.
            out = ReplyBuf::new(out.version());
        } else {
            out.clear();
        }
        if returned.shutdown {
            let _ = ctx.shutdown.send(true);
        }
        if close != Close::Open || returned.shutdown {
            break;
        }
        if work.next < work.batch.requests.len() {
            pending = Some(work);
        } else {
            spare = work.batch;
        }
        if input.is_empty() && input.capacity() > 4 * BUF_SIZE {
            input = BytesMut::with_capacity(BUF_SIZE);
        }
    }
    let _ = stream.shutdown().await;
    ctx.executor.run(move |s| s.clients.remove(id)).await;
    ctx.resp_connections.fetch_sub(1, Ordering::Relaxed);
}

/// Resolves after `secs` seconds, or never when `secs` is 0.
async fn idle(secs: u64) {
    if secs == 0 {
        std::future::pending::<()>().await;
    } else {
        tokio::time::sleep(Duration::from_secs(secs)).await;
    }
}
