//! One benchmark connection: the batch loop, its buffers and its counters.
//!
//! Owns what happens on a socket: build a batch of `pipeline` requests into a reused
//! buffer, send it with one write, read until every reply of the batch has been framed,
//! record each reply's latency and outcome, repeat until the run's end. Nothing here
//! allocates per request: the write buffer, the read buffer and the per-batch list of
//! operations are sized up front and only grow if a reply is larger than anything seen.

use std::cell::RefCell;
use std::fmt;
use std::io;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::request::{Encoder, Op, Protocol};
use crate::rng::Rng;
use crate::scan::{self, resp::Framer, Outcome, Scan};
use crate::template::{Vars, MAX_COMMANDS};

/// Latencies are recorded in nanoseconds; anything above this is clamped to it.
const HIST_MAX_NS: u64 = 3_600 * 1_000_000_000;

/// The latency histogram of one driver thread, shared by all its connections.
///
/// One histogram per connection would be 50 × ~350 KB of counters touched at random:
/// every record a cache miss, a few % of the generator's CPU time. One per thread stays
/// in cache. Tasks of a thread run on that thread only (a `LocalSet`), so a `RefCell`
/// is enough.
#[derive(Debug, Clone)]
pub struct Recorder(Rc<RefCell<Histogram<u64>>>);

impl Recorder {
    /// An empty histogram covering 1 ns to an hour at 3 significant digits, allocated
    /// once so recording never allocates.
    pub fn new() -> Self {
        // Bounds and precision are constants that hdrhistogram accepts; failing here
        // would be a bug in this file, not something a user or server can cause.
        Recorder(Rc::new(RefCell::new(
            Histogram::new_with_bounds(1, HIST_MAX_NS, 3)
                .expect("constant histogram bounds are valid"),
        )))
    }

    /// Records `count` replies that all took `latency` (the replies framed after one read
    /// share their arrival time, so one histogram update covers them all).
    #[inline]
    pub fn record(&self, latency: Duration, count: u64) {
        if count == 0 {
            return;
        }
        let ns = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX);
        self.0.borrow_mut().saturating_record_n(ns.max(1), count);
    }

    /// Adds everything recorded into `stats`.
    pub fn add_to(&self, stats: &mut Stats) {
        // Both histograms share the same bounds or auto-resize, so adding cannot fail
        // on range; if it ever did, percentiles would be off, which is better than
        // aborting a report.
        let _ = stats.latency.add(&*self.0.borrow());
    }
}

/// The time limit of a batch, as one timer reused for the whole run.
///
/// `tokio::time::timeout` per batch would register and cancel a timer-wheel entry every
/// time; pushing a registered timer's deadline later is one atomic store, and the wheel
/// only sees the timer when it is due (then it is re-filed at its new deadline).
pub(crate) struct Deadline {
    sleep: std::pin::Pin<Box<tokio::time::Sleep>>,
    timeout: Duration,
}

impl Deadline {
    pub(crate) fn new(timeout: Duration) -> Self {
        Deadline {
            sleep: Box::pin(tokio::time::sleep(timeout)),
            timeout,
        }
    }

    /// Runs `fut`, started at `now`; fails with [`ConnError::Timeout`] if it is not done
    /// by `now` + the timeout.
    pub(crate) async fn run<T>(
        &mut self,
        now: Instant,
        fut: impl std::future::Future<Output = Result<T, ConnError>>,
    ) -> Result<T, ConnError> {
        self.sleep
            .as_mut()
            .reset(tokio::time::Instant::from_std(now + self.timeout));
        tokio::select! {
            biased;
            done = fut => done,
            () = self.sleep.as_mut() => Err(ConnError::Timeout(self.timeout)),
        }
    }
}

impl Default for Recorder {
    fn default() -> Self {
        Self::new()
    }
}

/// Free space the read buffer keeps before a `read`, so most reads can take a whole batch
/// of small replies at once.
pub(crate) const READ_CHUNK: usize = 64 * 1024;

/// State shared by every connection of a run, on every thread.
#[derive(Debug)]
pub struct Shared {
    /// Batches started before this instant are warm-up: sent, but not measured.
    pub measure_start: Instant,
    /// No batch is started at or after this instant (`None`: no time limit).
    pub deadline: Option<Instant>,
    /// Measured requests still to be sent (`None`: no request limit). Connections claim
    /// a whole batch at a time, so this is touched once per batch, not per request.
    pub budget: Option<AtomicU64>,
    /// Set when any connection fails, so the others stop after their current batch.
    pub abort: AtomicBool,
    /// Longest time a batch may take from its write to its last reply.
    pub io_timeout: Duration,
}

impl Shared {
    /// Claims up to `want` requests from the budget; 0 means the budget is spent.
    pub(crate) fn claim(&self, want: u64) -> u64 {
        let Some(budget) = &self.budget else {
            return want;
        };
        let mut left = budget.load(Ordering::Relaxed);
        loop {
            let take = left.min(want);
            if take == 0 {
                return 0;
            }
            match budget.compare_exchange_weak(
                left,
                left - take,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return take,
                Err(now) => left = now,
            }
        }
    }
}

/// What requests a connection sends.
#[derive(Debug, Clone)]
pub enum Workload {
    /// Random keys from `0..keyspace`, SET with probability `sets / (sets + gets)`.
    Mixed {
        /// Number of distinct keys.
        keyspace: u64,
        /// SET weight of the SET:GET ratio.
        sets: u64,
        /// GET weight of the SET:GET ratio.
        gets: u64,
        /// This connection's random stream.
        rng: Rng,
    },
    /// Random keys from `0..keyspace`, each request one of the `--command` templates,
    /// picked with their weights.
    Commands {
        /// Number of distinct keys.
        keyspace: u64,
        /// Cumulative template weights: template `i` is picked when a draw below the last
        /// entry falls below `cumulative[i]` and not below the previous entry.
        cumulative: Vec<u64>,
        /// This connection's random stream.
        rng: Rng,
    },
    /// Every key of `first..end` in order, `passes` times (the `--load` mode): one SET per
    /// key, or with templates every template once per key, in order.
    Load {
        /// First key of this connection's range.
        first: u64,
        /// Next key to write.
        next: u64,
        /// One past the last key to write.
        end: u64,
        /// Walks of the range still to start after the current one.
        passes_left: u64,
        /// Number of templates (0: SET).
        templates: u8,
        /// Template to send next for key `next`.
        template: u8,
    },
}

impl Workload {
    /// The next request, or `None` when a load range is exhausted.
    #[inline]
    fn next(&mut self) -> Option<(Op, u64)> {
        match self {
            Workload::Mixed {
                keyspace,
                sets,
                gets,
                rng,
            } => {
                let op = if rng.below(*sets + *gets) < *sets {
                    Op::Set
                } else {
                    Op::Get
                };
                Some((op, rng.below(*keyspace)))
            }
            Workload::Commands {
                keyspace,
                cumulative,
                rng,
            } => {
                let op = match cumulative.as_slice() {
                    [_] => 0,
                    all => {
                        let total = all[all.len() - 1];
                        let draw = rng.below(total);
                        all.iter().position(|&c| draw < c).unwrap_or(0)
                    }
                };
                // At most MAX_COMMANDS templates, so the index fits a u8.
                Some((Op::Command(op as u8), rng.below(*keyspace)))
            }
            Workload::Load {
                first,
                next,
                end,
                passes_left,
                templates,
                template,
            } => {
                if next >= end {
                    if *passes_left == 0 || first >= end {
                        return None;
                    }
                    *passes_left -= 1;
                    *next = *first;
                }
                let key = *next;
                if *templates == 0 {
                    *next += 1;
                    return Some((Op::Set, key));
                }
                let op = Op::Command(*template);
                *template += 1;
                if *template == *templates {
                    *template = 0;
                    *next += 1;
                }
                Some((op, key))
            }
        }
    }

    /// Whether this workload stops by itself (load ranges) rather than by time/budget.
    fn is_load(&self) -> bool {
        matches!(self, Workload::Load { .. })
    }
}

/// Counters and latency histogram of one connection (or, merged, of a whole run).
#[derive(Debug, Clone)]
pub struct Stats {
    /// Measured replies received.
    pub ops: u64,
    /// Measured SET requests.
    pub sets: u64,
    /// Measured GET requests.
    pub gets: u64,
    /// Measured requests per `--command` template.
    pub commands: [u64; MAX_COMMANDS],
    /// GETs that returned a value; templated commands whose reply carried data (a bulk
    /// string or a non-empty aggregate).
    pub hits: u64,
    /// GETs that returned nil / `END` alone; templated commands answered with a null or
    /// an empty aggregate (LPOP on an empty list, LRANGE on a missing key).
    pub misses: u64,
    /// Error replies (`-ERR`, `SERVER_ERROR`, `NOT_STORED`, …), any operation.
    pub errors: u64,
    /// Latency of every measured reply, in nanoseconds (filled from the threads'
    /// [`Recorder`]s when a run's statistics are merged; empty per connection).
    pub latency: Histogram<u64>,
    /// When the last measured reply arrived.
    pub last_reply: Option<Instant>,
    /// Replies to warm-up requests (not in `ops`); with `ops` they are every reply the
    /// server sent, which is what its CPU time over the whole run was spent on.
    pub warmup_ops: u64,
}

impl Stats {
    /// Empty counters.
    pub fn new() -> Self {
        Stats {
            ops: 0,
            sets: 0,
            gets: 0,
            commands: [0; MAX_COMMANDS],
            hits: 0,
            misses: 0,
            errors: 0,
            // Auto-resizing and tiny until something is added: connections record into
            // their thread's Recorder, not here.
            latency: Histogram::new(3).expect("constant histogram precision is valid"),
            last_reply: None,
            warmup_ops: 0,
        }
    }

    /// Adds `other` into `self`.
    pub fn merge(&mut self, other: &Stats) {
        self.ops += other.ops;
        self.sets += other.sets;
        self.gets += other.gets;
        for (a, b) in self.commands.iter_mut().zip(other.commands) {
            *a += b;
        }
        self.hits += other.hits;
        self.misses += other.misses;
        self.errors += other.errors;
        // Both histograms share the same bounds, so adding cannot fail on range; if it
        // ever did, percentiles would be off, which is better than aborting a report.
        let _ = self.latency.add(&other.latency);
        self.last_reply = self.last_reply.max(other.last_reply);
        self.warmup_ops += other.warmup_ops;
    }

    /// Counts one measured reply (its latency is recorded separately, in a
    /// [`Recorder`]).
    #[inline]
    pub(crate) fn count(&mut self, op: Op, outcome: Outcome) {
        self.ops += 1;
        match op {
            Op::Set => self.sets += 1,
            Op::Get => self.gets += 1,
            Op::Command(i) => self.commands[usize::from(i)] += 1,
        }
        match (op, outcome) {
            (_, Outcome::Error) => self.errors += 1,
            (Op::Get, Outcome::Miss) => self.misses += 1,
            (Op::Get, _) => self.hits += 1,
            (Op::Set, _) => {}
            (Op::Command(_), Outcome::Miss) => self.misses += 1,
            (Op::Command(_), Outcome::Hit) => self.hits += 1,
            (Op::Command(_), Outcome::Ok) => {}
        }
    }
}

impl Default for Stats {
    fn default() -> Self {
        Self::new()
    }
}

/// Why a connection stopped before the end of the run.
#[derive(Debug)]
pub enum ConnError {
    /// A socket call failed.
    Io(&'static str, io::Error),
    /// The server closed the connection while replies were outstanding.
    Closed {
        /// Replies still expected for the current batch.
        outstanding: usize,
    },
    /// A batch did not complete within the I/O timeout.
    Timeout(Duration),
    /// The server sent bytes that are not a valid reply.
    Protocol {
        /// What the scanner objected to.
        why: &'static str,
        /// The first bytes of the offending data, escaped for printing.
        near: String,
    },
}

impl fmt::Display for ConnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnError::Io(what, e) => write!(f, "{what} failed: {e}"),
            ConnError::Closed { outstanding } => write!(
                f,
                "server closed the connection with {outstanding} replies outstanding"
            ),
            ConnError::Timeout(t) => write!(
                f,
                "no complete reply to a batch within {:.1} s (--timeout)",
                t.as_secs_f64()
            ),
            ConnError::Protocol { why, near } => {
                write!(f, "protocol error: {why}, near \"{near}\"")
            }
        }
    }
}

impl std::error::Error for ConnError {}

/// Growable read buffer with a consumed prefix, reused for the whole run.
pub(crate) struct ReadBuf {
    pub(crate) buf: Vec<u8>,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

impl ReadBuf {
    pub(crate) fn new(capacity: usize) -> Self {
        ReadBuf {
            // Twice the read chunk, so an unfinished reply shorter than one chunk can
            // always be compacted to the front without the buffer having to grow.
            buf: vec![0; capacity.max(2 * READ_CHUNK)],
            start: 0,
            end: 0,
        }
    }

    pub(crate) fn pending(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// Makes at least [`READ_CHUNK`] bytes free after `end`: rewinds when empty, moves an
    /// unfinished reply to the front, and grows only when that reply alone fills it.
    pub(crate) fn make_room(&mut self) {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        if self.buf.len() - self.end >= READ_CHUNK {
            return;
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.buf.len() - self.end < READ_CHUNK {
            let want = (self.end + READ_CHUNK).max(self.buf.len() * 2);
            self.buf.resize(want, 0);
        }
    }
}

/// One connection's loop; returns its measured stats, or why it had to stop.
pub struct Conn {
    stream: TcpStream,
    protocol: Protocol,
    pipeline: usize,
    encoder: Arc<Encoder>,
    shared: Arc<Shared>,
    workload: Workload,
    /// This connection's index (`{conn}` in templates).
    index: u64,
    /// Requests encoded so far (`{n}` in templates).
    counter: u64,
    wbuf: Vec<u8>,
    rbuf: ReadBuf,
    framer: Framer,
    ops: Vec<Op>,
    stats: Stats,
    latency: Recorder,
}

/// What every connection of one driver thread shares.
#[derive(Debug, Clone)]
pub struct ThreadCtx {
    /// Wire protocol.
    pub protocol: Protocol,
    /// Requests per batch.
    pub pipeline: usize,
    /// The run's pre-rendered requests.
    pub encoder: Arc<Encoder>,
    /// The run's shared limits and abort flag.
    pub shared: Arc<Shared>,
    /// The thread's latency histogram.
    pub latency: Recorder,
}

impl Conn {
    /// Prepares connection number `index`; `stream` must already be connected.
    pub fn new(stream: TcpStream, index: usize, workload: Workload, ctx: &ThreadCtx) -> Self {
        let ThreadCtx {
            protocol,
            pipeline,
            encoder,
            shared,
            latency,
        } = ctx.clone();
        let request_len = encoder.max_request_len();
        Conn {
            stream,
            protocol,
            pipeline,
            encoder,
            shared,
            workload,
            index: index as u64,
            counter: 0,
            wbuf: Vec::with_capacity(pipeline * request_len),
            // Replies to a batch are at most about as large as the requests (a GET hit
            // carries the value a SET would have sent), so this rarely needs to grow.
            rbuf: ReadBuf::new(pipeline * (request_len + 64)),
            framer: Framer::new(),
            ops: Vec::with_capacity(pipeline),
            stats: Stats::new(),
            latency,
        }
    }

    /// Runs batches until the deadline, the request budget, the end of a load range or an
    /// abort by another connection, whichever comes first.
    pub async fn run(mut self) -> Result<Stats, ConnError> {
        let load = self.workload.is_load();
        let mut deadline = Deadline::new(self.shared.io_timeout);
        loop {
            if self.shared.abort.load(Ordering::Relaxed) {
                break;
            }
            let now = Instant::now();
            if !load && self.shared.deadline.is_some_and(|d| now >= d) {
                break;
            }
            let measured = now >= self.shared.measure_start;
            // Warm-up batches do not count against the request budget.
            let want = if measured && !load {
                self.shared.claim(self.pipeline as u64) as usize
            } else {
                self.pipeline
            };
            if !self.fill_batch(want) {
                break;
            }
            deadline.run(now, self.batch(measured)).await?;
        }
        Ok(self.stats)
    }

    /// Encodes up to `want` requests; false when there is nothing to send.
    fn fill_batch(&mut self, want: usize) -> bool {
        self.wbuf.clear();
        self.ops.clear();
        for _ in 0..want {
            let Some((op, key)) = self.workload.next() else {
                break;
            };
            let vars = Vars {
                key,
                n: self.counter,
                conn: self.index,
            };
            self.counter += 1;
            self.encoder.encode(op, vars, &mut self.wbuf);
            self.ops.push(op);
        }
        !self.ops.is_empty()
    }

    /// Sends the encoded batch and reads its replies, recording them if `measured`.
    async fn batch(&mut self, measured: bool) -> Result<(), ConnError> {
        let sent = Instant::now();
        self.stream
            .write_all(&self.wbuf)
            .await
            .map_err(|e| ConnError::Io("write", e))?;
        // When the data completing the replies being framed arrived: taken right after
        // each read returns, so a reply's latency includes its share of the batch's wait
        // but not the time spent framing the replies before it.
        let mut arrived = sent;
        let mut next = 0;
        loop {
            // Frame every reply already buffered before reading again.
            let framed_before = next;
            while next < self.ops.len() {
                let op = self.ops[next];
                let scanned = match self.protocol {
                    Protocol::Resp => self.framer.scan(self.rbuf.pending()),
                    Protocol::Memcache => scan::memcache::scan(self.rbuf.pending(), op),
                };
                match scanned {
                    Scan::Complete { len, outcome } => {
                        self.rbuf.start += len;
                        next += 1;
                        if measured {
                            self.stats.count(op, outcome);
                        }
                    }
                    Scan::Incomplete => break,
                    Scan::Invalid(why) => return Err(self.protocol_error(why)),
                }
            }
            if measured {
                self.latency
                    .record(arrived - sent, (next - framed_before) as u64);
            } else {
                self.stats.warmup_ops += (next - framed_before) as u64;
            }
            if next == self.ops.len() {
                if self.rbuf.start != self.rbuf.end {
                    return Err(self.protocol_error("more replies than requests"));
                }
                if measured {
                    self.stats.last_reply = Some(arrived);
                }
                return Ok(());
            }
            self.rbuf.make_room();
            let end = self.rbuf.end;
            let n = self
                .stream
                .read(&mut self.rbuf.buf[end..])
                .await
                .map_err(|e| ConnError::Io("read", e))?;
            if n == 0 {
                return Err(ConnError::Closed {
                    outstanding: self.ops.len() - next,
                });
            }
            self.rbuf.end += n;
            arrived = Instant::now();
        }
    }

    fn protocol_error(&self, why: &'static str) -> ConnError {
        protocol_error(&self.rbuf, why)
    }
}

/// A protocol error quoting the first unframed bytes of `rbuf`.
pub(crate) fn protocol_error(rbuf: &ReadBuf, why: &'static str) -> ConnError {
    let pending = rbuf.pending();
    let near = pending[..pending.len().min(48)].escape_ascii().to_string();
    ConnError::Protocol { why, near }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared(budget: Option<u64>) -> Shared {
        Shared {
            measure_start: Instant::now(),
            deadline: None,
            budget: budget.map(AtomicU64::new),
            abort: AtomicBool::new(false),
            io_timeout: Duration::from_secs(1),
        }
    }

    #[test]
    fn budget_is_claimed_in_batches_until_spent() {
        let s = shared(Some(10));
        assert_eq!(s.claim(4), 4);
        assert_eq!(s.claim(4), 4);
        assert_eq!(s.claim(4), 2);
        assert_eq!(s.claim(4), 0);
        assert_eq!(shared(None).claim(16), 16);
    }

    #[test]
    fn load_workload_walks_its_range_once() {
        let mut w = Workload::Load {
            first: 3,
            next: 3,
            end: 6,
            passes_left: 0,
            templates: 0,
            template: 0,
        };
        let keys: Vec<_> = std::iter::from_fn(|| w.next()).collect();
        assert_eq!(keys, [(Op::Set, 3), (Op::Set, 4), (Op::Set, 5)]);
    }

    #[test]
    fn load_workload_sends_every_template_per_key_and_repeats_passes() {
        let mut w = Workload::Load {
            first: 0,
            next: 0,
            end: 2,
            passes_left: 1,
            templates: 2,
            template: 0,
        };
        let keys: Vec<_> = std::iter::from_fn(|| w.next()).collect();
        let (a, b) = (Op::Command(0), Op::Command(1));
        assert_eq!(
            keys,
            [
                (a, 0),
                (b, 0),
                (a, 1),
                (b, 1),
                (a, 0),
                (b, 0),
                (a, 1),
                (b, 1)
            ]
        );
        let mut empty = Workload::Load {
            first: 5,
            next: 5,
            end: 5,
            passes_left: 3,
            templates: 0,
            template: 0,
        };
        assert_eq!(empty.next(), None);
    }

    #[test]
    fn command_workload_honours_weights() {
        let mut w = Workload::Commands {
            keyspace: 1000,
            cumulative: vec![3, 4],
            rng: Rng::new(1, 0),
        };
        let mut seen = [0u32; 2];
        for _ in 0..40_000 {
            match w.next() {
                Some((Op::Command(i), k)) if k < 1000 => seen[usize::from(i)] += 1,
                other => panic!("{other:?}"),
            }
        }
        // 3:1 → about 30,000 and 10,000.
        assert!((28_500..31_500).contains(&seen[0]), "{seen:?}");
        let mut single = Workload::Commands {
            keyspace: 10,
            cumulative: vec![1],
            rng: Rng::new(1, 0),
        };
        assert!(matches!(single.next(), Some((Op::Command(0), _))));
    }

    #[test]
    fn mixed_workload_honours_pure_ratios() {
        let mut only_sets = Workload::Mixed {
            keyspace: 10,
            sets: 1,
            gets: 0,
            rng: Rng::new(1, 0),
        };
        let mut only_gets = Workload::Mixed {
            keyspace: 10,
            sets: 0,
            gets: 1,
            rng: Rng::new(1, 0),
        };
        for _ in 0..1000 {
            assert!(matches!(only_sets.next(), Some((Op::Set, k)) if k < 10));
            assert!(matches!(only_gets.next(), Some((Op::Get, k)) if k < 10));
        }
    }

    #[test]
    fn read_buffer_keeps_unfinished_reply_when_compacting() {
        let mut r = ReadBuf::new(0);
        let cap = r.buf.len();
        r.buf[cap - 10..cap - 5].copy_from_slice(b"hello");
        r.start = cap - 10;
        r.end = cap - 5;
        r.make_room();
        assert_eq!(r.pending(), b"hello");
        assert!(r.buf.len() - r.end >= READ_CHUNK);
        assert_eq!(r.buf.len(), cap, "compaction alone was enough");
    }

    #[test]
    fn stats_classify_outcomes() {
        let mut s = Stats::new();
        s.count(Op::Get, Outcome::Hit);
        s.count(Op::Get, Outcome::Miss);
        s.count(Op::Get, Outcome::Error);
        s.count(Op::Set, Outcome::Ok);
        s.count(Op::Set, Outcome::Error);
        assert_eq!((s.ops, s.gets, s.sets), (5, 3, 2));
        assert_eq!((s.hits, s.misses, s.errors), (1, 1, 2));
        s.count(Op::Command(1), Outcome::Hit);
        s.count(Op::Command(1), Outcome::Miss);
        s.count(Op::Command(0), Outcome::Ok);
        s.count(Op::Command(0), Outcome::Error);
        assert_eq!(s.ops, 9);
        assert_eq!(&s.commands[..3], &[2, 2, 0]);
        assert_eq!((s.hits, s.misses, s.errors), (2, 2, 3));
    }

    #[test]
    fn recorders_are_shared_and_merged() {
        let r = Recorder::new();
        let other_conn = r.clone();
        r.record(Duration::from_micros(10), 5);
        other_conn.record(Duration::from_millis(3), 2);
        r.record(Duration::from_micros(1), 0);
        let mut total = Stats::new();
        r.add_to(&mut total);
        Recorder::new().add_to(&mut total);
        assert_eq!(total.latency.len(), 7);
        assert!(total.latency.max() >= 2_990_000);
        let mut merged = Stats::new();
        merged.merge(&total);
        assert_eq!(merged.latency.len(), 7);
    }
}
