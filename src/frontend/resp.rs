//! Running one pipelined batch of RESP requests against [`Shared`].
//!
//! The connection task parses every complete request in its buffer, then calls
//! [`execute_batch`] once under the executor: every reply goes into one output buffer, the
//! client registry entry is refreshed once, and the batch's execution time is shared among
//! its commands. A protocol error found after the complete requests is answered after their
//! replies and closes the connection, as redis-server does.

use cachegate_protocols::resp::request::{Args, Batch};
use cachegate_protocols::resp::ReplyBuf;
use cachegate_storage::command::{Outcome, Session};
use std::time::Instant;

use super::admin;
use crate::engine::Shared;
use crate::mailbox::Mail;

/// When a connection is to close.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Close {
    /// Keep serving.
    #[default]
    Open,
    /// Close once the pending replies are written (QUIT, protocol errors).
    AfterReply,
    /// Close without writing anything more (HTTP-looking requests, SHUTDOWN).
    Now,
}

/// A Redis connection's state as the engine sees it.
#[derive(Debug, Default)]
pub struct RespConn {
    /// CLIENT ID.
    pub id: u64,
    /// Selected database and other storage-side state.
    pub session: Session,
    /// Whether the connection is closing.
    pub close: Close,
    /// True once the client has authenticated (always, while no password is configured).
    pub authenticated: bool,
    /// Set when the batch stopped at a blocking command: its deadline (Unix ms), if any.
    pub blocked: Option<Option<i64>>,
    /// Set when the batch stopped at a command CLIENT PAUSE holds: when the pause ends
    /// (Unix ms).
    pub paused: Option<i64>,
}

/// Buffer sizes the connection reports with each batch, for CLIENT LIST and INFO.
#[derive(Debug, Clone, Copy, Default)]
pub struct BatchIo {
    /// Bytes read since the last batch.
    pub bytes_in: u64,
    /// Socket reads since the last batch.
    pub reads: u64,
    /// Socket writes since the last batch.
    pub writes: u64,
    /// Bytes of the input buffer still unparsed after this batch.
    pub qbuf: usize,
    /// Free capacity of the input buffer.
    pub qbuf_free: usize,
}

/// Output size after which a batch stops early so its replies can be written: a client
/// that pipelines many large GETs and reads slowly costs the server about this much
/// memory, not the sum of all its replies.
pub const OUTPUT_SOFT_LIMIT: usize = 1024 * 1024;

/// Executes the requests of `batch` (parsed from `input`) from index `from` on, appending
/// replies to `out`. Returns the index of the first request not executed: the batch stops
/// early once `out` passes [`OUTPUT_SOFT_LIMIT`] or the connection is closing. A protocol
/// error after the requests is answered once they have all run.
pub fn execute_batch(
    s: &mut Shared,
    conn: &mut RespConn,
    input: &[u8],
    batch: &Batch,
    from: usize,
    out: &mut ReplyBuf,
    io: BatchIo,
) -> usize {
    let started = Instant::now();
    s.store.begin_batch();
    let mut last = None;
    let mut next = from;
    for request in batch.requests.iter().skip(from) {
        let args = batch.args(input, request);
        if let Some(until) = paused(s, &args) {
            conn.paused = Some(until);
            break;
        }
        next += 1;
        match s.store.execute(&mut conn.session, &args, out) {
            Outcome::Done => {}
            Outcome::Server(id) => {
                let result = admin::run(s, conn, id, &args, out);
                let error = result.err().map(|e| {
                    let msg = e.message();
                    e.write(out);
                    msg.into_owned()
                });
                s.store
                    .record_server_call(id, error.as_deref().map(str::as_bytes));
            }
            Outcome::Close => {
                conn.close = Close::Now;
            }
            Outcome::Blocked { deadline } => {
                conn.blocked = Some(deadline);
            }
        }
        if s.store.blocking.has_ready() {
            deliver_unblocked(s);
        }
        if let Some(id) = s.store.last_command() {
            last = Some(id);
        }
        if conn.close != Close::Open || conn.blocked.is_some() || out.len() >= OUTPUT_SOFT_LIMIT {
            break;
        }
    }
    let waiting = conn.blocked.is_some() || conn.paused.is_some();
    if conn.close == Close::Open && !waiting && next == batch.requests.len() {
        if let Some(e) = batch.error {
            let msg = e.message();
            out.error(msg.as_bytes());
            s.store.count_error_reply(msg.as_bytes());
            conn.close = Close::AfterReply;
        }
    }
    s.store.end_batch(started.elapsed().as_micros() as u64);
    if s.store.has_lazyfree() {
        s.lazyfree.hand_over(&mut s.store);
    }
    s.counters.net_input_bytes += io.bytes_in;
    s.counters.reads_processed += io.reads;
    s.counters.writes_processed += io.writes;
    s.counters.net_output_bytes += out.len() as u64;
    let now = s.store.now_ms() / 1000;
    if let Some(c) = s.clients.get_mut(conn.id) {
        c.db = conn.session.db;
        c.last_interaction = now;
        c.resp = out.version().number();
        c.qbuf = io.qbuf;
        c.qbuf_free = io.qbuf_free;
        c.obuf = out.len();
        if last.is_some() {
            c.last_cmd = last;
        }
    }
    next
}

/// Serves the clients blocked on keys the last command readied, and posts each reply to
/// its connection's mailbox.
pub fn deliver_unblocked(s: &mut Shared) {
    for u in s.store.serve_blocked() {
        s.clients.post(u.client_id, Mail::Reply(u.reply));
    }
}

/// If a CLIENT PAUSE holds this command, when the pause ends. WRITE holds the commands that
/// may change the dataset or reach replicas (redis-server's write and may-replicate
/// commands); ALL holds everything. An expired pause is cleared here.
fn paused(s: &mut Shared, args: &Args<'_>) -> Option<i64> {
    let p = s.pause?;
    if p.until_ms <= s.store.now_ms() {
        s.pause = None;
        return None;
    }
    if p.all {
        return Some(p.until_ms);
    }
    let id = s.store.commands.resolve(args).ok()?;
    s.store.commands.may_write(id).then_some(p.until_ms)
}
