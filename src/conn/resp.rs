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

use bytes::{Buf, BytesMut};
use cachegate_protocols::resp::request::{Batch, RequestLimits, RequestParser};
use cachegate_protocols::resp::{ProtocolVersion, ReplyBuf};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::frontend::resp::{execute_batch, BatchIo, Close, RespConn};
use crate::server::ServerCtx;

/// Requests executed per batch at most, so one connection's pipeline cannot hold the
/// keyspace for long; the rest is parsed and run right after, without waiting to read.
pub const MAX_BATCH: usize = 256;

/// Input buffer size to start with and to shrink back to after a burst.
const BUF_SIZE: usize = 16 * 1024;

/// What the executor hands back after a batch.
struct Returned {
    conn: RespConn,
    batch: Batch,
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
    let mut conn = Some(RespConn {
        id,
        authenticated: true,
        ..RespConn::default()
    });
    let mut batch = Some(Batch::default());
    let mut out = Some(ReplyBuf::new(ProtocolVersion::Resp2));
    let mut shutdown = ctx.shutdown.subscribe();
    let mut unaccounted_in: u64 = 0;
    let mut parse_again = false;
    'conn: loop {
        if !parse_again {
            let timeout = ctx.tunables.timeout_secs.load(Ordering::Relaxed);
            let read = stream.read_buf(&mut input);
            let n = tokio::select! {
                r = read => r,
                _ = shutdown.changed() => break 'conn,
                _ = idle(timeout) => break 'conn,
            };
            match n {
                Ok(0) | Err(_) => break 'conn,
                Ok(n) => unaccounted_in += n as u64,
            }
        }
        parser.limits.max_bulk_len =
            usize::try_from(ctx.tunables.proto_max_bulk_len.load(Ordering::Relaxed))
                .unwrap_or(usize::MAX);
        let Some(mut b) = batch.take() else { break };
        parser.parse(&input, &mut b, MAX_BATCH);
        parse_again = b.requests.len() == MAX_BATCH;
        if b.requests.is_empty() && b.error.is_none() {
            // Nothing complete yet (or only empty requests, which are skipped).
            input.advance(b.consumed);
            batch = Some(b);
            if input.len() as u64 > ctx.tunables.query_buffer_limit.load(Ordering::Relaxed) {
                tracing::warn!(
                    client = id,
                    "closing client that reached max query buffer length"
                );
                break;
            }
            if b_need(&batch) > input.capacity() {
                let need = b_need(&batch);
                input.reserve(need - input.len());
            }
            continue;
        }
        let consumed = b.consumed;
        let chunk = input.split_to(consumed).freeze();
        let io = BatchIo {
            bytes_in: std::mem::take(&mut unaccounted_in),
            qbuf: input.len(),
            qbuf_free: input.capacity() - input.len(),
        };
        let (Some(mut c), Some(mut o)) = (conn.take(), out.take()) else {
            break;
        };
        let r = ctx
            .executor
            .run(move |s| {
                execute_batch(s, &mut c, &chunk, &b, &mut o, io);
                let shutdown = s.shutdown.is_some();
                Returned {
                    conn: c,
                    batch: b,
                    out: o,
                    shutdown,
                }
            })
            .await;
        let Returned {
            conn: c,
            batch: b,
            out: mut o,
            shutdown: stop,
        } = r;
        let close = c.close;
        if close != Close::Now && !o.is_empty() && stream.write_all(o.as_bytes()).await.is_err() {
            break;
        }
        if o.len() > 1024 * 1024 {
            // Do not keep a huge reply buffer around after a big reply.
            o = ReplyBuf::new(o.version());
        } else {
            o.clear();
        }
        conn = Some(c);
        batch = Some(b);
        out = Some(o);
        if stop {
            let _ = ctx.shutdown.send(true);
        }
        if close != Close::Open || stop {
            break;
        }
        if input.is_empty() && input.capacity() > 4 * BUF_SIZE {
            input = BytesMut::with_capacity(BUF_SIZE);
        }
    }
    let _ = stream.shutdown().await;
    ctx.executor.run(move |s| s.clients.remove(id)).await;
    ctx.resp_connections.fetch_sub(1, Ordering::Relaxed);
}

fn b_need(batch: &Option<Batch>) -> usize {
    batch.as_ref().map_or(0, |b| b.need)
}

/// Resolves after `secs` seconds, or never when `secs` is 0.
async fn idle(secs: u64) {
    if secs == 0 {
        std::future::pending::<()>().await;
    } else {
        tokio::time::sleep(Duration::from_secs(secs)).await;
    }
}
