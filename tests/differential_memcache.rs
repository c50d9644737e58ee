//! Differential test: cachegate's memcached port against memcached 1.6.18, reply for reply,
//! byte for byte.
//!
//! For every conversation script in `tests/scripts/memcache/*.mc` the test starts a fresh
//! memcached and a fresh cachegate on free loopback ports (so every script begins with empty
//! caches, zeroed counters and fresh CAS sequences, without relying on `flush_all` or
//! `stats reset`; memcached without its LRU maintainer and crawler threads, whose timing
//! would otherwise make its own answers vary, see [`server_flags`]), replays the script
//! against both over one connection each, and compares
//! everything each server sends back, and whether it closed the connection. It fails,
//! listing every mismatch (script, line, what was sent, both replies escaped), if anything
//! differs beyond the allowed differences below. `DIFF_SCRIPT=<substring>` runs only the
//! scripts whose path contains the substring; `DIFF_VERBOSE=1` prints every step with
//! memcached's (normalised) reply, for writing scripts.
//!
//! # Script format
//!
//! One step per line; blank lines and lines starting with `#` are ignored, and every line is
//! trimmed (write `\s` for a space that matters at either end). Nothing waits for time to
//! pass: memcached's clock ticks in whole seconds, so no TTL or delayed flush runs out in a
//! script; exptimes are chosen so that the outcome does not depend on when a step runs.
//!
//! * `get a b` — a request line: its bytes, then `\r\n`, are written to both servers. Then
//!   everything each server sends is read until it closes the connection or goes quiet, and
//!   the two are compared byte for byte, as is whether each closed. memcached has no framing
//!   for errors, so "quiet" is a short idle window: [`QUIET`] before the first byte or after
//!   bytes that cannot end a reply, [`SETTLE`] after bytes that look like a whole reply.
//! * `| hello` — a continuation line: more bytes (and `\r\n`) for the step above, sent in the
//!   same write. Data blocks are continuation lines, and so are further commands that must
//!   arrive together (a `noreply` command followed by one that answers, so that silence costs
//!   no idle window; pipelines whose replies memcached would hold back or discard).
//! * Escapes in request and continuation lines: `\r \n \t \0 \s` (space) `\\ \xHH`; `\c` at
//!   the end of a line sends it without its `\r\n` (like `echo -e`). `{{text*N}}` is `text`
//!   (escapes allowed) repeated N times: long keys and lines without kilobytes of script.
//! * `${key}` — the CAS value this server last returned for `key` in a `gets`/`gats` reply,
//!   so that each server gets its own: `cas` success and `EXISTS` are really tested.
//! * `%reconnect` — close both connections and open new ones. After a server closes the
//!   connection, the next step reconnects by itself.
//! * `%memcached -I <bytes> -m <MiB>` — before the first step: start this script's servers
//!   with a different item size limit (`-I` ↔ `--memcache-max-item-size`) or memory limit
//!   (`-m` ↔ `--memcache-memory-limit`). memcached also needs `-o slab_chunk_max` for an
//!   `-I` below its default 512 KiB chunk size; the runner adds it (it changes nothing the
//!   protocol shows for items that small).
//!
//! A request line may start with modifiers that relax its comparison for one of the allowed
//! differences below; each use in a script carries a comment saying which and why:
//!
//! * `%stats` — compare the `STAT` lines as a list: names and order, and the values of
//!   fields that are data (allowed differences 2 and 3).
//! * `%ignore <name>[,<name>…]` — with `%stats`: mask the values of these fields too
//!   (allowed differences 4, 5 and 7).
//! * `%held` — the step ends inside a data block, whose replies memcached holds back until
//!   the block is complete while cachegate sends them at once: what each server sent is
//!   compared together with its replies to the next step (allowed difference 6).
//!
//! # Allowed differences
//!
//! Kept small on purpose; everything else must match exactly.
//!
//! 1. **CAS values** (always, no modifier). Each server numbers its CAS values its own way
//!    (memcached's counter also moves for things cachegate does not count), so in every
//!    `VALUE` line with a CAS the number is replaced by `<casN>`, N numbering the distinct
//!    values in the order that server first returned them in the script. Which items share a
//!    CAS, which changed and which did not is compared, and so is the order of the values
//!    (both take them from one counter, in the order of the modifications); the digits are
//!    not. `${key}` feeds each server its own value.
//! 2. **Process values in `stats`** (`%stats`). pid, uptime, time, CPU times, connection
//!    counts (memcached counts its listeners), thread counts, the port, bytes read and
//!    written (the CAS digits sent differ), memory layout (`bytes`, `hash_bytes`,
//!    `total_malloced`: cachegate has no slabs) and the background crawlers' counters
//!    describe the process, not the data; their values are masked (list in
//!    `differential/mc_reply.rs`). Data fields (`cmd_*`, `get_*`, `curr_items`,
//!    `total_items`…), settings and `version` are compared.
//! 3. **cachegate prints a subset of memcached's `stats` fields** (`%stats`). Documented in
//!    `src/frontend/memcache/stats.rs`: fields cachegate does not really have (slab
//!    reassignment, extstore, per-slab-class lines of `stats slabs` / `stats items`…) are
//!    left out rather than faked, and its own are named `cachegate_*`. memcached's list is
//!    reduced to the fields cachegate prints and the `cachegate_*` ones are dropped; what
//!    remains must be the same names in the same order.
//! 4. **Statistics cachegate keeps differently on purpose** (`%ignore`, documented in
//!    `src/frontend/memcache.rs` and `stats.rs`): `cmd_set` does not count a storage
//!    command whose data block was malformed, nor `cmd_flush` a `flush_all` with a bad
//!    delay; `stats slabs` reports no slab classes (`active_slabs`); and cachegate speaks
//!    the text protocol only, so `binding_protocol` is `ascii`, not `auto-negotiate`.
//! 5. **Background reclaiming** (`%ignore`). cachegate's crawler reclaims expired and
//!    flushed items in the background, ten times a second, so after items expire or are
//!    flushed the counters that depend on whether a command or the crawler got there first
//!    (`curr_items`, `get_expired`, `get_flushed`, `reclaimed`, `expired_unfetched`) are not
//!    compared.
//! 6. **Replies while a data block arrives** (`%held`). memcached sends nothing while it
//!    reads (or throws away) a data block, so the replies of the same read, and the
//!    `SERVER_ERROR` of an item too large, wait for the block's end; cachegate sends what it
//!    has when a read is used up (documented in `src/frontend/memcache.rs`). The bytes and
//!    their order are the same, only the moment differs.
//! 7. **A get naming a key over 250 bytes** (`%ignore cmd_get,get_hits…`). Both answer only
//!    `CLIENT_ERROR bad command line format`, but memcached has looked up (and counted,
//!    and for `gat` touched) the keys before the long one, cachegate none of them
//!    (documented in `src/frontend/memcache.rs`); scripts compare no counters and read no
//!    touched item after such a get, or mask the counters it changes.

mod common;
// The crate root is `tests/`, so the tester's own modules are named by path.
#[path = "differential/mc_reply.rs"]
mod mc_reply;
#[path = "differential/mc_script.rs"]
mod mc_script;
#[path = "differential/shared.rs"]
mod shared;

use std::io::Write;
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mc_reply::{label_cas, looks_complete, reduce_stats, CasBook};
use mc_script::{load_scripts, Action, Piece, Script, Step};
use shared::{read_until_quiet, show_pair};

/// How long a server may stay silent, before its first byte or after bytes that cannot end
/// a reply, before we decide it has nothing (more) to say. Replies on loopback take well
/// under a millisecond; the margin covers a busy machine.
const QUIET: Duration = Duration::from_millis(150);
/// How long to wait for more after bytes that look like a whole reply. Both servers write
/// the replies to one read together, so more would only come from a later read of a large
/// step, or a close right after the reply.
const SETTLE: Duration = Duration::from_millis(20);
/// Steps larger than this may be read by a server in several pieces, with replies in
/// between: they get [`QUIET`] even after a whole reply.
const SMALL_STEP: usize = 8 * 1024;

/// Scripts replayed at once.
const WORKERS: usize = 4;

/// What one server answered to one step.
struct Answer {
    bytes: Vec<u8>,
    closed: bool,
}

/// One server, our connection to it and its CAS values.
struct Side {
    name: &'static str,
    port: u16,
    stream: Option<TcpStream>,
    book: CasBook,
}

impl Side {
    fn new(name: &'static str, port: u16) -> Side {
        Side {
            name,
            port,
            stream: None,
            book: CasBook::default(),
        }
    }

    fn connect(&mut self) -> Result<(), String> {
        if self.stream.is_none() {
            let s = TcpStream::connect(("127.0.0.1", self.port))
                .map_err(|e| format!("{}: connect: {e}", self.name))?;
            s.set_nodelay(true).map_err(|e| e.to_string())?;
            self.stream = Some(s);
        }
        Ok(())
    }

    /// The step's bytes for this server: `${key}` becomes its own CAS value.
    fn render(&self, pieces: &[Piece]) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        for p in pieces {
            match p {
                Piece::Bytes(b) => out.extend_from_slice(b),
                Piece::Cas(key) => match self.book.by_key.get(key) {
                    Some(cas) => out.extend_from_slice(cas),
                    None => {
                        return Err(format!(
                            "{}: no CAS value seen for key {:?} yet",
                            self.name,
                            String::from_utf8_lossy(key)
                        ))
                    }
                },
            }
        }
        Ok(out)
    }

    /// Writes `bytes` (a failed write is a closed connection, found by the read).
    fn write(&mut self, bytes: &[u8]) {
        if let Some(s) = self.stream.as_mut() {
            if s.write_all(bytes).is_err() {
                let _ = s.shutdown(std::net::Shutdown::Write);
            }
        }
    }

    /// Reads until the server closes or goes quiet; see [`QUIET`] and [`SETTLE`].
    fn read(&mut self, large: bool) -> Answer {
        let mut bytes = Vec::new();
        let closed = match self.stream.as_mut() {
            Some(s) => read_until_quiet(s, &mut bytes, |b| {
                if !large && looks_complete(b) {
                    SETTLE
                } else {
                    QUIET
                }
            }),
            None => true,
        };
        if closed {
            self.stream = None;
        }
        Answer { bytes, closed }
    }
}

/// Replays scripts against both servers and collects the mismatches.
struct Runner {
    failures: Vec<String>,
}

impl Runner {
    fn fail(&mut self, script: &Script, step: &Step, detail: String) {
        self.failures.push(format!(
            "{}:{}\n    sent:      {}\n{detail}",
            script.path.display(),
            step.line,
            step.text
        ));
    }

    /// Replays one script on a fresh pair of servers.
    fn run(&mut self, script: &Script) {
        let (mc_flags, cg_flags) = server_flags(&script.server_flags);
        let mc_flags: Vec<&str> = mc_flags.iter().map(String::as_str).collect();
        let cg_flags: Vec<&str> = cg_flags.iter().map(String::as_str).collect();
        let (mc, cg) = match start_servers(&mc_flags, &cg_flags) {
            Ok(pair) => pair,
            Err(e) => {
                self.failures.push(format!(
                    "{}: servers did not start: {e}",
                    script.path.display()
                ));
                return;
            }
        };
        let mut sides = [
            Side::new("memcached", mc.port),
            Side::new("cachegate", cg.mc_port),
        ];
        // Replies of `%held` steps, per server, and the line of the first such step.
        let mut held: ([Vec<u8>; 2], Option<usize>) = Default::default();
        let mut cas_order_failed = false;
        for step in &script.steps {
            let pieces = match &step.action {
                Action::Send(p) => p,
                Action::Reconnect => {
                    for side in &mut sides {
                        side.stream = None;
                    }
                    continue;
                }
            };
            let (mut a, mut b) = match exchange(&mut sides, pieces) {
                Ok(answers) => answers,
                Err(e) => {
                    self.fail(script, step, format!("    {e}"));
                    return;
                }
            };
            // Replies held over from `%held` steps come first.
            let [held_mc, held_cg] = &mut held.0;
            for (answer, earlier) in [(&mut a, held_mc), (&mut b, held_cg)] {
                earlier.append(&mut answer.bytes);
                std::mem::swap(earlier, &mut answer.bytes);
            }
            if step.mods.held && !a.closed && !b.closed {
                held = ([a.bytes, b.bytes], held.1.or(Some(step.line)));
                continue;
            }
            let held_from = held.1.take();
            let [mcs, cgs] = &mut sides;
            let (mut x, mut y) = (
                label_cas(&a.bytes, &mut mcs.book),
                label_cas(&b.bytes, &mut cgs.book),
            );
            if step.mods.stats {
                (x, y) = reduce_stats(&x, &y, &step.mods.ignore);
            }
            let state = |closed| {
                if closed {
                    " (then closed)"
                } else {
                    " (connection open)"
                }
            };
            if std::env::var_os("DIFF_VERBOSE").is_some() {
                let (x, _) = show_pair(&x, &x);
                eprintln!(
                    "{}:{} {}\n    -> {x}{}",
                    script.name,
                    step.line,
                    step.text,
                    state(a.closed)
                );
            }
            if mcs.book.order() != cgs.book.order() && !cas_order_failed {
                // Reported once: every later step would repeat it.
                cas_order_failed = true;
                self.fail(
                    script,
                    step,
                    format!(
                        "    CAS values, labels in the order of their values:\n    \
                         memcached: {:?}\n    cachegate: {:?}",
                        mcs.book.order(),
                        cgs.book.order()
                    ),
                );
            }
            if x != y || a.closed != b.closed {
                let (x, y) = show_pair(&x, &y);
                let held = match held_from {
                    Some(line) => format!("\n    (with the replies held from line {line})"),
                    None => String::new(),
                };
                self.fail(
                    script,
                    step,
                    format!(
                        "    memcached: {x}{}\n    cachegate: {y}{}{held}",
                        state(a.closed),
                        state(b.closed)
                    ),
                );
            }
        }
    }
}

/// Sends a step to both servers (each with its own CAS values) and reads both answers.
fn exchange(sides: &mut [Side; 2], pieces: &[Piece]) -> Result<(Answer, Answer), String> {
    let [mcs, cgs] = sides;
    for side in [&mut *mcs, &mut *cgs] {
        side.connect()?;
    }
    let (to_mc, to_cg) = (mcs.render(pieces)?, cgs.render(pieces)?);
    mcs.write(&to_mc);
    cgs.write(&to_cg);
    let large = to_mc.len().max(to_cg.len()) > SMALL_STEP;
    // Both are read at once, so the idle window is waited once.
    Ok(std::thread::scope(|s| {
        let a = s.spawn(|| mcs.read(large));
        let b = cgs.read(large);
        (a.join().expect("reader"), b)
    }))
}

/// Starts memcached and cachegate (at once), retrying a few times: a port picked as free
/// can be taken, by another script's servers or by a client connection's local port,
/// before the server binds it.
fn start_servers(
    mc_flags: &[&str],
    cg_flags: &[&str],
) -> Result<(common::Proc, common::Cachegate), String> {
    let mut last = String::new();
    for _ in 0..5 {
        let (mc, cg) = std::thread::scope(|s| {
            let mc = s.spawn(|| common::try_memcached_with(mc_flags));
            let cg = common::Cachegate::try_start(cg_flags);
            (mc.join().expect("memcached starter"), cg)
        });
        match (mc, cg) {
            (Ok(mc), Ok(cg)) => return Ok((mc, cg)),
            (Err(e), _) | (_, Err(e)) => last = e,
        }
    }
    Err(last)
}

/// A script's `%memcached` flags as memcached's and cachegate's command-line flags.
fn server_flags(flags: &[String]) -> (Vec<String>, Vec<String>) {
    // memcached's LRU maintainer and LRU crawler threads hold short references to items
    // and reclaim expired ones on their own schedule, which makes memcached itself give
    // different answers to the same conversation: an incr/decr that meets such a
    // reference replaces the item instead of rewriting it in place (total_items + 1, and
    // no space padding), and counters depend on who reached an expired item first. With
    // both off memcached answers every request the same way; replies are otherwise
    // unaffected (they only move items between LRU segments and reclaim early).
    let mut mc = vec![
        "-o".to_string(),
        "no_lru_maintainer,no_lru_crawler".to_string(),
    ];
    let mut cg = Vec::new();
    let mut it = flags.iter();
    while let Some(flag) = it.next() {
        let value = it
            .next()
            .unwrap_or_else(|| panic!("%memcached {flag} needs a value"));
        match flag.as_str() {
            "-I" => {
                let bytes: u32 = value.parse().expect("-I in bytes");
                mc.extend(["-I".to_string(), value.clone()]);
                // memcached refuses an -I below its slab chunk size (512 KiB by default).
                if bytes < 512 * 1024 {
                    mc.extend(["-o".to_string(), format!("slab_chunk_max={bytes}")]);
                }
                cg.extend(["--memcache-max-item-size".to_string(), value.clone()]);
            }
            "-m" => {
                mc.extend(["-m".to_string(), value.clone()]);
                cg.extend(["--memcache-memory-limit".to_string(), value.clone()]);
            }
            other => panic!("%memcached: {other} has no cachegate equivalent here"),
        }
    }
    (mc, cg)
}

#[test]
fn cachegate_matches_memcached() {
    let scripts = load_scripts();
    let started = Instant::now();
    // Scripts are independent (each has its own servers) and mostly wait on sockets, so a
    // few run at once.
    let next = AtomicUsize::new(0);
    let mut failures: Vec<(usize, Vec<String>)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..WORKERS)
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(script) = scripts.get(i) else {
                            return done;
                        };
                        let t = Instant::now();
                        let mut runner = Runner {
                            failures: Vec::new(),
                        };
                        runner.run(script);
                        eprintln!("  {:<24} {:>7.1?}", script.name, t.elapsed());
                        done.push((i, runner.failures));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("worker"))
            .collect()
    });
    failures.sort_by_key(|(i, _)| *i);
    let failures: Vec<String> = failures.into_iter().flat_map(|(_, f)| f).collect();
    let n = failures.len();
    eprintln!(
        "differential (memcached): {} scripts, {n} mismatches, {:.1?}",
        scripts.len(),
        started.elapsed()
    );
    if n > 0 {
        panic!(
            "{n} mismatch(es) between memcached and cachegate:\n\n{}",
            failures.join("\n\n")
        );
    }
}
