//! One Redis client connection: read, parse every complete request, execute them as one
//! batch, write every reply with one write; wait on the socket and the mailbox at once.
//!
//! The input buffer is a `BytesMut`; the parsed prefix is split off and frozen so the batch
//! (and its argument spans) can move to the executor without copying, while the unparsed
//! tail stays behind for the next read. A slow reader only blocks its own task in
//! `write_all` — it never holds the keyspace — and a client that sends half a request and
//! stalls costs nothing but its buffer. The connection closes where redis-server closes it:
//! after a protocol error reply, after QUIT, on an HTTP-looking request, when the query
//! buffer passes `client-query-buffer-limit`, and when killed (CLIENT KILL, the `timeout`
//! of an idle client and shutdown all arrive as a kill in the mailbox).
//!
//! **Blocked.** A batch that ends in a blocking command (BLPOP …) leaves the connection
//! blocked: it still reads (buffering what arrives, noticing a disconnect) but runs nothing
//! until its mailbox brings the reply — a write on another connection served it — or its
//! deadline passes, when it unblocks itself under the lock and answers the timeout reply.
//! Then the rest of its pipeline runs.
//!
//! **Paused.** A command CLIENT PAUSE holds stops the batch before it; the connection waits
//! for the pause to end (or for CLIENT UNPAUSE's mail) and then runs it.
//!
//! **Idle memory.** What every idle connection costs is this task's future, so the future
//! holds little: the socket, a pointer to the connection's [`State`] (parser, session,
//! buffers), and the two futures it waits on. Nothing is allocated for reading until the
//! socket is readable; the periodic client sweep (`server::clients_cron`) tells a client
//! quiet for [`RELEASE_AFTER`] to give its buffers back, as redis-server frees an idle
//! client's query buffer. A timer exists only while a blocked command has a deadline or a
//! pause holds the connection.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use cachegate_protocols::resp::request::{Batch, RequestLimits, RequestParser};
use cachegate_protocols::resp::{ProtocolVersion, ReplyBuf};
use cachegate_storage::blocking::UnblockReason;
use tokio::io::AsyncWriteExt;
use tokio::time::{Instant, Sleep};

use super::pool;
use super::socket::{poll_read_some, Read, Socket};
use crate::clients::{ClientInfo, Peer};
use crate::engine::Shared;
use crate::frontend::resp::{execute_batch, BatchIo, Close, RespConn};
use crate::mailbox::{Mail, Mailbox};
use crate::server::ServerCtx;

/// Requests executed per batch at most, so one connection's pipeline cannot hold the
/// keyspace for long; the rest is parsed and run right after, without waiting to read.
pub const MAX_BATCH: usize = 256;

/// Room to make in the input buffer before a read.
const READ_ROOM: usize = 16 * 1024;

/// How long a connection stays quiet before the client sweep asks it to give its buffers
/// back.
pub const RELEASE_AFTER: Duration = Duration::from_secs(2);

/// Parsed requests waiting to run: the frozen input they came from, their spans, and the
/// first one not executed yet (a batch stops early when its output grows large, or at a
/// blocking command).
struct Work {
    chunk: Bytes,
    batch: Batch,
    next: usize,
}

/// Everything a connection keeps between reads, on the heap so the task's future stays
/// small; it moves into the executor for a batch and back.
struct State {
    input: BytesMut,
    parser: RequestParser,
    conn: RespConn,
    out: ReplyBuf,
    spare: Batch,
    /// Requests a batch left to run (boxed: rare, and large).
    pending: Option<Box<Work>>,
    /// Bytes read, reads and writes not yet reported to the shared counters.
    io: BatchIo,
    /// The buffer may hold more complete requests than the last parse took.
    parse_again: bool,
}

impl State {
    fn new(id: u64) -> Box<State> {
        let mut conn = RespConn {
            id,
            authenticated: true,
            ..RespConn::default()
        };
        conn.session.client_id = id;
        Box::new(State {
            input: BytesMut::new(),
            parser: RequestParser::new(RequestLimits::default()),
            conn,
            out: ReplyBuf::new(ProtocolVersion::Resp2),
            spare: Batch::default(),
            pending: None,
            io: BatchIo::default(),
            parse_again: false,
        })
    }

    /// The next work to run: what a batch left, or what the buffer now holds. `Err` when
    /// the query buffer passed its limit.
    fn next_work(&mut self, ctx: &ServerCtx) -> Result<Option<Work>, ()> {
        if let Some(w) = self.pending.take() {
            return Ok(Some(*w));
        }
        if !self.parse_again && self.input.is_empty() {
            return Ok(None);
        }
        self.parser.limits.max_bulk_len =
            usize::try_from(ctx.tunables.proto_max_bulk_len.load(Ordering::Relaxed))
                .unwrap_or(usize::MAX);
        let mut batch = std::mem::take(&mut self.spare);
        self.parser.parse(&self.input, &mut batch, MAX_BATCH);
        self.parse_again = batch.requests.len() == MAX_BATCH;
        if batch.requests.is_empty() && batch.error.is_none() {
            // Nothing complete yet (or only empty requests, which are skipped).
            self.input.advance(batch.consumed);
            let need = batch.need;
            self.spare = batch;
            let limit = ctx.tunables.query_buffer_limit.load(Ordering::Relaxed);
            if self.input.len() as u64 > limit {
                return Err(());
            }
            if need > self.input.capacity() {
                self.input.reserve(need - self.input.len());
            }
            return Ok(None);
        }
        let chunk = self.input.split_to(batch.consumed).freeze();
        Ok(Some(Work {
            chunk,
            batch,
            next: 0,
        }))
    }

    /// Runs (part of) `work` against the shared state.
    fn run(&mut self, s: &mut Shared, mut work: Work) {
        let io = BatchIo {
            qbuf: self.input.len(),
            qbuf_free: self.input.capacity() - self.input.len(),
            ..std::mem::take(&mut self.io)
        };
        work.next = execute_batch(
            s,
            &mut self.conn,
            &work.chunk,
            &work.batch,
            work.next,
            &mut self.out,
            io,
        );
        if work.next < work.batch.requests.len() {
            self.pending = Some(Box::new(work));
        } else {
            self.spare = work.batch;
        }
    }

    /// Gives the buffers back (the connection has been quiet).
    fn release(&mut self) {
        if self.input.is_empty() {
            self.input = BytesMut::new();
        }
        self.out.release();
        if self.pending.is_none() {
            self.spare = Batch::default();
        }
    }
}

/// A connection accepted and not yet admitted: what [`serve`] registers. The acceptor boxes
/// it, so the task's future carries one pointer for it rather than the two addresses for
/// the connection's whole life.
pub struct Accepted<S> {
    /// The socket.
    pub stream: S,
    /// Where it connected from and to.
    pub peer: Peer,
    /// Its file descriptor (`fd=` in CLIENT LIST).
    pub fd: i64,
}

/// Admits a connection (or refuses it over `maxclients`, as redis-server does), registers
/// it with a mailbox, and serves it until it closes.
pub async fn serve<S: Socket>(accepted: Box<Accepted<S>>, ctx: Arc<ServerCtx>) {
    // Boxed: admission's state is needed once, and would otherwise widen the future every
    // idle connection keeps.
    let Some((mut stream, id, mailbox)) = Box::pin(admit(accepted, &ctx)).await else {
        return;
    };
    let mut st = State::new(id);
    // Set while a blocking command waits: its deadline, if it has one.
    let mut blocked: Option<Option<Instant>> = None;
    // Set while CLIENT PAUSE holds the next command: when the pause ends.
    let mut paused: Option<Instant> = None;
    // The one timer, armed only while blocked with a deadline or paused.
    let mut timer: Option<Pin<Box<Sleep>>> = None;
    'serve: loop {
        if blocked.is_none() && paused.is_none() {
            let work = match st.next_work(&ctx) {
                Ok(w) => w,
                Err(()) => {
                    tracing::warn!(
                        client = id,
                        "closing client that reached max query buffer length"
                    );
                    break 'serve;
                }
            };
            if let Some(work) = work {
                if st.out.capacity() == 0 {
                    st.out.set_storage(pool::take_output());
                }
                let (back, shutdown) = crate::exec!(ctx.executor, move |s: &mut Shared| {
                    let mut st = st;
                    st.run(s, work);
                    (st, s.shutdown.is_some())
                });
                st = back;
                let close = st.conn.close;
                if close != Close::Now && !st.out.is_empty() {
                    if stream.write_all(st.out.as_bytes()).await.is_err() {
                        break 'serve;
                    }
                    st.io.writes += 1;
                }
                // The replies are out: the buffer goes back to the thread's cache (which
                // frees a huge one rather than keep it).
                pool::give_output(st.out.take_storage());
                if shutdown {
                    let _ = ctx.shutdown.send(true);
                }
                if close != Close::Open || shutdown {
                    break 'serve;
                }
                if let Some(deadline) = st.conn.blocked.take() {
                    blocked = Some(deadline.map(instant_at));
                }
                if let Some(until) = st.conn.paused.take() {
                    paused = Some(instant_at(until));
                }
                continue 'serve;
            }
        }
        // Nothing to run: wait for the socket or the mailbox (and the timer, if armed),
        // holding no input buffer unless it has part of a request in it.
        pool::give_input(&mut st.input);
        match blocked.flatten().or(paused) {
            Some(at) => match timer.as_mut() {
                Some(t) => t.as_mut().reset(at),
                None => timer = Some(Box::pin(tokio::time::sleep_until(at))),
            },
            None => timer = None,
        }
        // Mail first: a kill or a reply posted before more input arrived is handled first,
        // as redis-server frees a killed client before reading from it again. One poll_fn
        // over all three keeps this wait (where an idle connection spends its life) to a
        // few references in the task's future.
        let event = std::future::poll_fn(|cx| {
            if let Poll::Ready(mail) = mailbox.poll_take(cx) {
                return Poll::Ready(Event::Mail(mail));
            }
            if let Poll::Ready(r) = poll_read_some(&mut stream, &mut st.input, READ_ROOM, cx) {
                return Poll::Ready(Event::Read(r));
            }
            if let Some(t) = timer.as_mut() {
                if t.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Event::Timer);
                }
            }
            Poll::Pending
        })
        .await;
        match event {
            Event::Mail(Mail::Kill) | Event::Read(Read::Closed) => break 'serve,
            Event::Mail(Mail::Reply(bytes)) => {
                if stream.write_all(&bytes).await.is_err() {
                    break 'serve;
                }
                st.io.writes += 1;
                blocked = None;
            }
            Event::Mail(Mail::Unpause) => paused = None,
            Event::Mail(Mail::Release) => {
                if blocked.is_none() {
                    st.release();
                }
            }
            Event::Read(Read::Data(n)) => {
                st.io.bytes_in += n as u64;
                st.io.reads += 1;
                if blocked.is_some() {
                    let limit = ctx.tunables.query_buffer_limit.load(Ordering::Relaxed);
                    if st.input.len() as u64 > limit {
                        break 'serve;
                    }
                }
            }
            Event::Timer if paused.is_some() => paused = None,
            Event::Timer => {
                let reply = crate::exec!(ctx.executor, move |s: &mut Shared| {
                    s.store.unblock(id, UnblockReason::Timeout)
                });
                match reply {
                    Some(bytes) => {
                        if stream.write_all(&bytes).await.is_err() {
                            break 'serve;
                        }
                        st.io.writes += 1;
                        blocked = None;
                    }
                    // Served in the meantime: the reply is in the mailbox.
                    None => blocked = Some(None),
                }
            }
        }
    }
    let _ = stream.shutdown().await;
    crate::exec!(ctx.executor, move |s: &mut Shared| {
        s.store.unblock(id, UnblockReason::Gone);
        s.clients.remove(id);
    });
    ctx.resp_connections.fetch_sub(1, Ordering::Relaxed);
}

/// Counts the connection against `maxclients` and registers it; `None` (after answering
/// redis-server's error and closing) when the server is full.
async fn admit<S: Socket>(
    accepted: Box<Accepted<S>>,
    ctx: &ServerCtx,
) -> Option<(S, u64, Arc<Mailbox>)> {
    let Accepted {
        mut stream,
        peer,
        fd,
    } = *accepted;
    let max = ctx.tunables.maxclients.load(Ordering::Relaxed) as usize;
    if ctx.resp_connections.fetch_add(1, Ordering::Relaxed) >= max {
        ctx.resp_connections.fetch_sub(1, Ordering::Relaxed);
        let _ = stream
            .write_all(b"-ERR max number of clients reached\r\n")
            .await;
        let _ = stream.shutdown().await;
        crate::exec!(ctx.executor, |s: &mut Shared| s
            .counters
            .rejected_connections +=
            1);
        return None;
    }
    let mailbox = Arc::new(Mailbox::new());
    let registered = mailbox.clone();
    let id = crate::exec!(ctx.executor, move |s: &mut Shared| {
        s.counters.connections_received += 1;
        let id = s.clients.next_id();
        let now = s.store.clock_us() / 1_000_000;
        s.clients
            .add(ClientInfo::new(id, peer, fd, now, registered));
        id
    });
    Some((stream, id, mailbox))
}

/// The instant of Unix time `ms` (the server's store runs on the system clock).
fn instant_at(ms: i64) -> Instant {
    let now_ms = cachegate_storage::clock::Clock::now_ms(&cachegate_storage::clock::SystemClock);
    Instant::now() + Duration::from_millis(ms.saturating_sub(now_ms).max(0) as u64)
}

/// What a waiting connection woke up for.
enum Event {
    Mail(Mail),
    Read(Read),
    Timer,
}
