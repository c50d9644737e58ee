//! Differential test: cachegate against redis-server 7.0.15, reply for reply, byte for byte.
//!
//! The test starts a real `redis-server` and a cachegate on free loopback ports, replays every
//! command script in `tests/scripts/redis/*.redis` against both, and compares what each sends
//! back. It fails, listing every mismatch (script, line, command, both replies escaped), if
//! any reply differs beyond the allowed differences below. `DIFF_SCRIPT=<substring>` runs
//! only the scripts whose file name contains the substring.
//!
//! # Script format
//!
//! One step per line; blank lines and lines starting with `#` are ignored.
//!
//! * `SET "a key" "\x00\xff"` — a command, tokenized like `redis-cli` and inline requests
//!   (blanks separate arguments; `"…"` takes `\n \r \t \b \a \xHH \"` escapes, `'…'` takes
//!   `\'`; `""` is an empty argument). It is sent as a RESP array; exactly one reply is read
//!   from each server and the two are compared byte for byte.
//! * `%protocols 2 3` — (anywhere, usually first) replay the whole script over RESP2 and then
//!   over RESP3 (after `HELLO 3`). The default is RESP2 only.
//! * `"A" %repeat 70000` (in any line) — the token before it, repeated: long arguments and
//!   oversized protocol lines without kilobytes of script.
//! * `%raw "GET k\r\n" "*1\r\n"` — raw bytes (the tokens concatenated, nothing added) written
//!   to the connection. Everything each server sends back until it closes the connection or
//!   goes quiet is compared, and so is whether it closed. A closed connection is reopened
//!   (with `HELLO 3` in the RESP3 pass) for the next step.
//! * `%reconnect` — drop the connection and open a fresh one on both servers.
//! * `%sleep <ms>` — wait, for scripts that let a TTL run out (keep it to a few ms).
//! * `%scan SCAN 0 MATCH k*` — iterate a cursor command to the end on each server (the cursor
//!   is argument 1) and compare the sets of keys returned.
//! * `%cachegate "<reply>" CMD …` — a command only cachegate has: it is sent to cachegate
//!   alone and its reply must be exactly `<reply>` (escapes as in `%raw`).
//!
//! A command (or `%scan`) may be preceded by modifiers, which relax the comparison of its
//! reply for one of the allowed differences below; each use in a script carries a comment
//! saying which and why:
//!
//! * `%sort` — sort an array or set reply, a map's entries, or the lines of each section of
//!   a text reply.
//! * `%map` — read a RESP2 array of alternating names and values as the map it stands for.
//! * `%cursor` — a `SCAN` reply: the cursor compared only as zero / non-zero, keys as a set.
//! * `%sortsub` — COMMAND INFO / DOCS: subcommand lists in name order.
//! * `%approx <n>` — integers may differ by up to `n`.
//! * `%fields` — text made of fields (INFO's `name:value` lines, CLIENT LIST's `name=value`
//!   words): compare the field names and layout, not the values — except the values of the
//!   fields listed with `%keep <name>[,<name>…]`, which are data and must match.
//! * `%ignore <name>[,<name>…]` — mask the values of the named fields: map entries (RESP3 maps
//!   and RESP2 name/value arrays) and text fields (including `k=v` items inside INFO values).
//! * `%shape` — compare only the reply's types and structure, no scalar values.
//! * `%help` — a HELP reply without its indented description lines.
//! * `%docs` — COMMAND DOCS without its prose: `summary`, `complexity`, history notes.
//! * `%subset` — cachegate's top-level elements (or map entries) must all be in
//!   redis-server's reply, which may have more.
//! * `%drop <name>` — remove what is called `<name>` (an element, an entry whose first field
//!   it is, a map key) from the top level of cachegate's reply before comparing.
//!
//! Each script pass starts on a clean server: `RESET` on the connection, `FLUSHALL`,
//! `CONFIG RESETSTAT`, and a wait until the server has noticed every earlier connection
//! closing, so scripts are independent of each other and of their order.
//!
//! # Allowed differences
//!
//! Kept small on purpose; everything else must match exactly.
//!
//! 1. **Hash order** (`%sort`, `%map`, `%cursor`, `%scan`, `%sortsub`). KEYS and SCAN list
//!    keys in the order of each server's hash table, which is not part of the contract; SCAN
//!    cursors are positions in that table, so only "finished" (0) versus "more" is compared.
//!    redis-server's other dictionaries are seeded randomly at startup, so CONFIG GET with
//!    several matches, the subcommands of COMMAND INFO / DOCS, and INFO commandstats and
//!    latencystats lines come in an order that changes from run to run.
//! 2. **Time** (`%approx`, `%ignore avg_ttl`). PTTL and OBJECT IDLETIME depend on the moment
//!    each server ran the command; INFO's avg_ttl on when the expiry cycle last sampled.
//! 3. **Values that describe the process, not the data** (`%fields`, `%ignore`, `%shape`).
//!    INFO and CLIENT LIST/INFO values (pids, ports, memory, CPU, counters), client ids
//!    (CLIENT ID, HELLO), the port in CONFIG GET, and TIME differ between any two servers;
//!    their names and layout are compared instead. Two kinds of fields exist only in cachegate
//!    and are dropped whenever fields are masked: INFO fields named `cachegate_*` (documented
//!    cachegate additions) and CLIENT LIST/INFO's `lib-name=`/`lib-ver=` (see 4).
//! 4. **Redis 7.2's CLIENT SETINFO** (`%cachegate`, `%drop`). Client libraries send it on
//!    connect, so cachegate implements it; redis-server 7.0.15 does not, so it is checked
//!    against expected replies, and dropped from CLIENT HELP, COMMAND and COMMAND LIST.
//! 5. **cachegate implements a subset** (`%subset`, `%drop`, `%shape`). Fewer commands,
//!    subcommands and CONFIG parameters: COMMAND, COMMAND COUNT/LIST/INFO/DOCS without
//!    arguments, CONFIG GET patterns, and CLIENT/CONFIG HELP list fewer entries; the CLIENT
//!    and CONFIG containers are compared subcommand by subcommand.
//! 6. **Our own words** (`%help`, `%docs`). HELP descriptions and COMMAND DOCS summaries,
//!    complexities and history notes are written for cachegate, not copied; the syntax lines,
//!    versions and every structured field are compared.
//! 7. **io-threads** (`%ignore io-threads`). CONFIG GET io-threads reports cachegate's own
//!    network thread setting (0 = one per core), not redis-server's (1 = no extra threads).

mod common;

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bytes::Bytes;
use cachegate_protocols::resp::inline::split_args;
use cachegate_protocols::resp::{decode, DecodeLimits, Frame};

/// How long a server may stay silent after a raw send before we decide it will not answer
/// at all. Replies on loopback take well under a millisecond; the margin covers a busy
/// machine.
const QUIET: Duration = Duration::from_millis(150);
/// Once a server has started answering a raw send, how long it may pause before we decide
/// it has said everything. redis-server writes a batch's replies together.
const QUIET_AFTER_DATA: Duration = Duration::from_millis(50);
/// How long to wait for one command's reply.
const REPLY_TIMEOUT: Duration = Duration::from_secs(5);
/// How much of a long reply a mismatch report shows around the first difference.
const REPORT_WINDOW: usize = 240;

// ---------------------------------------------------------------------------------------
// Scripts
// ---------------------------------------------------------------------------------------

/// Comparison modifiers of one step.
#[derive(Debug, Default, Clone)]
struct Mods {
    sort: bool,
    cursor: bool,
    approx: Option<i64>,
    fields: bool,
    ignore: Vec<Vec<u8>>,
    shape: bool,
    help: bool,
    subset: bool,
    drop: Vec<Vec<u8>>,
    docs: bool,
    sortsub: bool,
    map: bool,
    keep: Vec<Vec<u8>>,
}

impl Mods {
    fn any(&self) -> bool {
        self.sort
            || self.cursor
            || self.approx.is_some()
            || self.fields
            || !self.ignore.is_empty()
            || self.shape
            || self.help
            || self.subset
            || !self.drop.is_empty()
            || self.docs
            || self.sortsub
            || self.map
            || !self.keep.is_empty()
    }
}

/// Which server a reply came from: `%drop` only applies to cachegate's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    Redis,
    Cachegate,
}

#[derive(Debug, Clone)]
enum Action {
    /// Send a command, compare one reply.
    Command(Vec<Vec<u8>>),
    /// Send bytes, compare everything until close or quiet.
    Raw(Vec<u8>),
    /// Iterate a cursor command to the end, compare the key sets.
    Scan(Vec<Vec<u8>>),
    /// A command only cachegate has, with its expected reply.
    CachegateOnly { expect: Vec<u8>, args: Vec<Vec<u8>> },
    /// Drop the connections and open new ones.
    Reconnect,
    /// Wait.
    Sleep(Duration),
}

#[derive(Debug, Clone)]
struct Step {
    line: usize,
    text: String,
    action: Action,
    mods: Mods,
}

#[derive(Debug)]
struct Script {
    path: PathBuf,
    name: String,
    protocols: Vec<u8>,
    steps: Vec<Step>,
}

/// Tokenizes a script line the way redis-cli does (quotes and escapes).
fn tokens(line: &str) -> Result<Vec<Vec<u8>>, String> {
    let (mut spans, mut scratch) = (Vec::new(), Vec::new());
    split_args(line.as_bytes(), &mut spans, &mut scratch)
        .map_err(|_| "unbalanced quotes".to_string())?;
    Ok(spans
        .iter()
        .map(|s| scratch[s.start..s.start + s.len].to_vec())
        .collect())
}

/// Expands `<token> %repeat <n>` into the token repeated `n` times (long arguments and
/// oversized protocol lines without kilobytes of script); `None` if a count is missing.
fn expand_repeats(toks: Vec<Vec<u8>>) -> Option<Vec<Vec<u8>>> {
    let mut out: Vec<Vec<u8>> = Vec::with_capacity(toks.len());
    let mut it = toks.into_iter();
    while let Some(tok) = it.next() {
        if tok == b"%repeat" {
            let n: usize = it
                .next()
                .and_then(|n| String::from_utf8(n).ok())
                .and_then(|n| n.parse().ok())
                .filter(|&n| n >= 1)?;
            let last = out.pop()?;
            out.push(last.repeat(n));
        } else {
            out.push(tok);
        }
    }
    Some(out)
}

fn parse_script(path: &Path) -> Result<Script, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut script = Script {
        path: path.to_path_buf(),
        name,
        protocols: vec![2],
        steps: Vec::new(),
    };
    for (i, raw_line) in text.lines().enumerate() {
        let line = i + 1;
        let trimmed = raw_line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let fail = |msg: &str| format!("{}:{line}: {msg}: {trimmed}", script.name);
        let mut toks = expand_repeats(tokens(trimmed).map_err(|e| fail(&e))?)
            .ok_or_else(|| fail("%repeat needs a count >= 1 after a token"))?;
        toks.reverse(); // pop() from the front
        let mut mods = Mods::default();
        let action = loop {
            let Some(tok) = toks.pop() else {
                return Err(fail("modifiers without a command"));
            };
            let arg = |toks: &mut Vec<Vec<u8>>| {
                toks.pop()
                    .ok_or_else(|| fail(&format!("{} needs an argument", show_str(&tok))))
            };
            let rest = |toks: &mut Vec<Vec<u8>>| {
                let mut v = std::mem::take(toks);
                v.reverse();
                v
            };
            match tok.as_slice() {
                b"%protocols" => {
                    script.protocols = rest(&mut toks)
                        .iter()
                        .map(|p| match p.as_slice() {
                            b"2" => Ok(2),
                            b"3" => Ok(3),
                            _ => Err(fail("protocols are 2 and/or 3")),
                        })
                        .collect::<Result<_, _>>()?;
                    break None;
                }
                b"%sort" => mods.sort = true,
                b"%cursor" => mods.cursor = true,
                b"%fields" => mods.fields = true,
                b"%shape" => mods.shape = true,
                b"%help" => mods.help = true,
                b"%docs" => mods.docs = true,
                b"%map" => mods.map = true,
                b"%keep" => {
                    let names = arg(&mut toks)?;
                    mods.keep
                        .extend(names.split(|&b| b == b',').map(<[u8]>::to_vec));
                }
                b"%sortsub" => mods.sortsub = true,
                b"%subset" => mods.subset = true,
                b"%drop" => mods.drop.push(arg(&mut toks)?),
                b"%approx" => {
                    let n = arg(&mut toks)?;
                    let n = std::str::from_utf8(&n)
                        .ok()
                        .and_then(|s| s.parse().ok())
                        .ok_or_else(|| fail("%approx needs a number"))?;
                    mods.approx = Some(n);
                }
                b"%ignore" => {
                    let names = arg(&mut toks)?;
                    mods.ignore
                        .extend(names.split(|&b| b == b',').map(<[u8]>::to_vec));
                }
                b"%raw" => break Some(Action::Raw(rest(&mut toks).concat())),
                b"%scan" => break Some(Action::Scan(rest(&mut toks))),
                b"%reconnect" => break Some(Action::Reconnect),
                b"%sleep" => {
                    let ms = arg(&mut toks)?;
                    let ms: u64 = std::str::from_utf8(&ms)
                        .ok()
                        .and_then(|s| s.parse().ok())
                        .ok_or_else(|| fail("%sleep needs milliseconds"))?;
                    break Some(Action::Sleep(Duration::from_millis(ms)));
                }
                b"%cachegate" => {
                    let expect = arg(&mut toks)?;
                    break Some(Action::CachegateOnly {
                        expect,
                        args: rest(&mut toks),
                    });
                }
                t if t.starts_with(b"%") => return Err(fail("unknown directive")),
                _ => {
                    let mut args = vec![tok];
                    args.extend(rest(&mut toks));
                    break Some(Action::Command(args));
                }
            }
        };
        if let Some(action) = action {
            if let Action::Scan(a) | Action::CachegateOnly { args: a, .. } = &action {
                if a.is_empty() {
                    return Err(fail("a command is missing"));
                }
            }
            script.steps.push(Step {
                line,
                text: trimmed.to_string(),
                action,
                mods,
            });
        }
    }
    Ok(script)
}

fn load_scripts() -> Vec<Script> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scripts/redis");
    let filter = std::env::var("DIFF_SCRIPT").ok();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "redis"))
        .filter(|p| match filter.as_deref() {
            Some(f) => p.to_string_lossy().contains(f),
            None => true,
        })
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no scripts in {}", dir.display());
    paths
        .iter()
        .map(|p| parse_script(p).unwrap_or_else(|e| panic!("bad script: {e}")))
        .collect()
}

// ---------------------------------------------------------------------------------------
// Talking to a server
// ---------------------------------------------------------------------------------------

/// What a server answered to one step.
#[derive(Debug, Clone)]
enum Reply {
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
    /// Several replies folded into one comparable value (`%scan`).
    Derived(Frame),
}

/// One server and our connection to it.
struct Side {
    name: &'static str,
    port: u16,
    stream: Option<TcpStream>,
    buf: Vec<u8>,
}

impl Side {
    fn new(name: &'static str, port: u16) -> Side {
        Side {
            name,
            port,
            stream: None,
            buf: Vec::new(),
        }
    }

    /// Opens the connection if there is none; in a RESP3 pass, switches it to RESP3.
    fn connect(&mut self, proto: u8) -> Result<(), String> {
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
    fn setup(&mut self, cmd: &[&str]) -> Result<(), String> {
        let args: Vec<Vec<u8>> = cmd.iter().map(|a| a.as_bytes().to_vec()).collect();
        match self.command(&args) {
            Reply::Value { frame, .. } if !frame.is_error() => Ok(()),
            other => Err(format!("{}: {cmd:?} failed: {other:?}", self.name)),
        }
    }

    /// Waits (up to a second) until this connection is the server's only client: a server
    /// notices a client-side close only when it next polls, and CLIENT LIST or INFO clients
    /// must not see connections of earlier steps.
    fn settle(&mut self) {
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

    fn drop_connection(&mut self) {
        self.stream = None;
        self.buf.clear();
    }

    fn write(&mut self, bytes: &[u8]) -> bool {
        match self.stream.as_mut() {
            Some(s) => s.write_all(bytes).is_ok(),
            None => false,
        }
    }

    /// Sends a command as a RESP array and reads one reply.
    fn command(&mut self, args: &[Vec<u8>]) -> Reply {
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
    fn read_reply(&mut self) -> Reply {
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
    fn read_until_quiet(&mut self) -> Reply {
        let mut bytes = std::mem::take(&mut self.buf);
        let mut chunk = [0u8; 64 * 1024];
        let closed = loop {
            let Some(stream) = self.stream.as_mut() else {
                break true;
            };
            let wait = if bytes.is_empty() {
                QUIET
            } else {
                QUIET_AFTER_DATA
            };
            let _ = stream.set_read_timeout(Some(wait));
            match stream.read(&mut chunk) {
                Ok(0) => break true,
                Ok(n) => bytes.extend_from_slice(&chunk[..n]),
                Err(e) if is_timeout(&e) => break false,
                Err(_) => break true,
            }
        };
        if closed {
            self.drop_connection();
        }
        Reply::Raw { bytes, closed }
    }
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}

// ---------------------------------------------------------------------------------------
// Normalising and comparing replies
// ---------------------------------------------------------------------------------------

fn masked() -> Frame {
    Frame::simple("<ignored>")
}

/// Applies the modifiers that rewrite a reply (all but `%approx` and `%subset`, which are
/// comparisons).
fn normalize(frame: Frame, mods: &Mods, origin: Origin) -> Frame {
    let mut f = frame;
    if mods.map {
        f = as_map(f);
    }
    if origin == Origin::Cachegate && !mods.drop.is_empty() {
        f = drop_elements(f, &mods.drop);
    }
    if mods.help {
        f = help_lines(f);
    }
    if mods.docs {
        f = docs_text(f);
    }
    if mods.sortsub {
        f = sort_subcommands(f);
    }
    if mods.shape {
        f = shape(f);
    }
    if !mods.ignore.is_empty() {
        f = ignore_fields(f, &mods.ignore);
    }
    if mods.fields {
        f = map_text(f, &|t| mask_field_values(t, &[], &mods.keep));
    }
    if mods.cursor {
        f = scan_cursor(f);
    }
    if mods.sort {
        f = sort(f);
    }
    f
}

/// A map reply in RESP2 is an array of alternating names and values; this makes it a map
/// again so that `%sort` and `%subset` keep names and values together.
fn as_map(f: Frame) -> Frame {
    match f {
        Frame::Array(items) if items.len() % 2 == 0 => {
            let mut pairs = Vec::with_capacity(items.len() / 2);
            let mut it = items.into_iter();
            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                pairs.push((k, v));
            }
            Frame::Map(pairs)
        }
        other => other,
    }
}

/// What an element is called: its text, or the text of its first field (a COMMAND INFO
/// entry).
fn identity(f: &Frame) -> Option<&[u8]> {
    match f {
        Frame::Array(v) => v.first().and_then(name_of),
        other => name_of(other),
    }
}

/// Removes what is named one of `names` from the top level of a reply: elements (by their
/// identity) and map entries (by key).
fn drop_elements(f: Frame, names: &[Vec<u8>]) -> Frame {
    let named = |n: Option<&[u8]>| n.is_some_and(|n| names.iter().any(|t| t == n));
    match f {
        Frame::Array(v) => Frame::Array(v.into_iter().filter(|x| !named(identity(x))).collect()),
        Frame::Set(v) => Frame::Set(v.into_iter().filter(|x| !named(identity(x))).collect()),
        Frame::Map(p) => Frame::Map(p.into_iter().filter(|(k, _)| !named(name_of(k))).collect()),
        other => other,
    }
}

/// A HELP reply without its indented description lines: the header, one line per
/// subcommand with its syntax, and the HELP entry remain.
fn help_lines(f: Frame) -> Frame {
    match f {
        Frame::Array(v) => Frame::Array(
            v.into_iter()
                .filter(|x| !name_of(x).is_some_and(|t| t.starts_with(b" ")))
                .collect(),
        ),
        other => other,
    }
}

/// Applies `g` to every pair of a map, whether a RESP3 map or a RESP2 array of alternating
/// names and values, at any depth; `g` sees each pair after its value was visited.
fn map_pairs(f: Frame, g: &dyn Fn(&Frame, Frame) -> Frame) -> Frame {
    match f {
        Frame::Map(pairs) => Frame::Map(
            pairs
                .into_iter()
                .map(|(k, v)| {
                    let v = g(&k, map_pairs(v, g));
                    (k, v)
                })
                .collect(),
        ),
        Frame::Array(items) => {
            let pairs = items.len() % 2 == 0
                && items.iter().step_by(2).all(|k| matches!(k, Frame::Bulk(_)));
            let mut out = Vec::with_capacity(items.len());
            let mut key: Option<Frame> = None;
            for item in items {
                let item = map_pairs(item, g);
                match key.take() {
                    Some(k) if pairs => {
                        let v = g(&k, item);
                        out.push(k);
                        out.push(v);
                    }
                    _ if pairs => key = Some(item),
                    _ => out.push(item),
                }
            }
            Frame::Array(out)
        }
        Frame::Set(v) => Frame::Set(v.into_iter().map(|x| map_pairs(x, g)).collect()),
        other => other,
    }
}

/// COMMAND DOCS with its prose masked: `summary`, `complexity` and the description of each
/// `history` entry are our own words (allowed difference 6); versions and structure remain.
fn docs_text(f: Frame) -> Frame {
    map_pairs(f, &|k, v| match name_of(k) {
        Some(b"summary") | Some(b"complexity") => masked(),
        Some(b"history") => {
            let mask_change = |e: Frame| match e {
                Frame::Array(mut pair) if pair.len() == 2 => {
                    pair[1] = masked();
                    Frame::Array(pair)
                }
                other => other,
            };
            match v {
                Frame::Set(x) => Frame::Set(x.into_iter().map(mask_change).collect()),
                Frame::Array(x) => Frame::Array(x.into_iter().map(mask_change).collect()),
                other => other,
            }
        }
        _ => v,
    })
}

/// Subcommand lists in name order: COMMAND INFO's tenth field and COMMAND DOCS's
/// `subcommands` map follow redis-server's command dictionary, whose order depends on a hash
/// seed chosen at startup (allowed difference 1).
fn sort_subcommands(f: Frame) -> Frame {
    let f = match f {
        Frame::Array(mut v) if v.len() == 10 && matches!(v[0], Frame::Bulk(_)) => {
            if let Frame::Array(subs) = std::mem::replace(&mut v[9], Frame::Null) {
                let mut subs: Vec<Frame> = subs.into_iter().map(sort_subcommands).collect();
                subs.sort_by_key(|x| x.to_bytes());
                v[9] = Frame::Array(subs);
            }
            Frame::Array(v.into_iter().map(sort_subcommands).collect())
        }
        Frame::Array(v) => Frame::Array(v.into_iter().map(sort_subcommands).collect()),
        Frame::Set(v) => Frame::Set(v.into_iter().map(sort_subcommands).collect()),
        Frame::Map(p) => Frame::Map(
            p.into_iter()
                .map(|(k, v)| (k, sort_subcommands(v)))
                .collect(),
        ),
        other => other,
    };
    map_pairs(f, &|k, v| {
        if name_of(k) != Some(b"subcommands") {
            return v;
        }
        match v {
            Frame::Map(mut pairs) => {
                pairs.sort_by_key(|(k, _)| k.to_bytes());
                Frame::Map(pairs)
            }
            Frame::Array(items) if items.len() % 2 == 0 => {
                let mut pairs: Vec<(Frame, Frame)> = Vec::new();
                let mut it = items.into_iter();
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    pairs.push((k, v));
                }
                pairs.sort_by_key(|(k, _)| k.to_bytes());
                Frame::Array(pairs.into_iter().flat_map(|(k, v)| [k, v]).collect())
            }
            other => other,
        }
    })
}

/// Replaces every scalar by a placeholder naming its type.
fn shape(f: Frame) -> Frame {
    let kind = |k: &str| Frame::simple(format!("<{k}>"));
    match f {
        Frame::Simple(_) => kind("simple"),
        Frame::Error(_) => kind("error"),
        Frame::Integer(_) => kind("integer"),
        Frame::Bulk(_) => kind("bulk"),
        Frame::Double(_) => kind("double"),
        Frame::Boolean(_) => kind("boolean"),
        Frame::BigNumber(_) => kind("bignumber"),
        Frame::Verbatim { .. } => kind("verbatim"),
        Frame::BlobError(_) => kind("bloberror"),
        Frame::Array(v) => Frame::Array(v.into_iter().map(shape).collect()),
        Frame::Set(v) => Frame::Set(v.into_iter().map(shape).collect()),
        Frame::Push(v) => Frame::Push(v.into_iter().map(shape).collect()),
        Frame::Map(v) => Frame::Map(v.into_iter().map(|(k, v)| (shape(k), shape(v))).collect()),
        other => other,
    }
}

fn name_of(f: &Frame) -> Option<&[u8]> {
    match f {
        Frame::Simple(b) | Frame::Bulk(b) => Some(b),
        _ => None,
    }
}

/// Masks the values of the named fields in maps, name/value arrays and text.
fn ignore_fields(f: Frame, names: &[Vec<u8>]) -> Frame {
    let hit = |k: &Frame| name_of(k).is_some_and(|n| names.iter().any(|x| x == n));
    match f {
        Frame::Map(pairs) => Frame::Map(
            pairs
                .into_iter()
                .map(|(k, v)| {
                    let v = if hit(&k) {
                        masked()
                    } else {
                        ignore_fields(v, names)
                    };
                    (k, v)
                })
                .collect(),
        ),
        Frame::Array(items) => {
            let mut out: Vec<Frame> = Vec::with_capacity(items.len());
            let mut mask_next = false;
            // In RESP2 a map is an array of alternating names and values.
            let pairs = items.len() % 2 == 0;
            for (i, item) in items.into_iter().enumerate() {
                if mask_next {
                    out.push(masked());
                    mask_next = false;
                    continue;
                }
                mask_next = pairs && i % 2 == 0 && hit(&item);
                out.push(ignore_fields(item, names));
            }
            Frame::Array(out)
        }
        Frame::Set(v) => Frame::Set(v.into_iter().map(|x| ignore_fields(x, names)).collect()),
        text @ (Frame::Bulk(_) | Frame::Verbatim { .. }) => {
            map_text(text, &|t| mask_field_values(t, names, &[]))
        }
        other => other,
    }
}

/// Rewrites the text of a bulk or verbatim reply.
fn map_text(f: Frame, g: &dyn Fn(&[u8]) -> Vec<u8>) -> Frame {
    match f {
        Frame::Bulk(b) => Frame::Bulk(Bytes::from(g(&b))),
        Frame::Verbatim { format, text } => Frame::Verbatim {
            format,
            text: Bytes::from(g(&text)),
        },
        other => other,
    }
}

/// Field text: INFO's `name:value` lines (values may be `k=v,k=v` lists) and CLIENT LIST's
/// `name=value` words. Masks the values of `names`, or of every field if `names` is empty,
/// except those in `keep`.
/// Fields only cachegate has (allowed difference 3) are dropped: `lib-name=`/`lib-ver=`
/// always, `cachegate_*` INFO lines when every field is masked.
fn mask_field_values(text: &[u8], names: &[Vec<u8>], keep: &[Vec<u8>]) -> Vec<u8> {
    let all = names.is_empty();
    let listed = |list: &[Vec<u8>], n: &[u8]| list.iter().any(|x| x == n);
    let wanted = |n: &[u8]| (all || listed(names, n)) && !listed(keep, n);
    let mut out = Vec::with_capacity(text.len());
    for piece in text.split_inclusive(|&b| b == b'\n') {
        let (line, eol) = split_eol(piece);
        let is_client_line = line.contains(&b' ') && line.contains(&b'=') && !line.contains(&b':')
            || line.starts_with(b"id=");
        if line.is_empty() || line.starts_with(b"#") {
            out.extend_from_slice(line);
        } else if is_client_line {
            let words: Vec<Vec<u8>> = line
                .split(|&b| b == b' ')
                .filter(|w| !(w.starts_with(b"lib-name=") || w.starts_with(b"lib-ver=")))
                .map(|w| match w.iter().position(|&b| b == b'=') {
                    Some(eq) if wanted(&w[..eq]) => w[..=eq].to_vec(),
                    _ => w.to_vec(),
                })
                .collect();
            out.extend_from_slice(&words.join(&b' '));
        } else if let Some(colon) = line.iter().position(|&b| b == b':') {
            let (name, value) = (&line[..colon], &line[colon + 1..]);
            if all && name.starts_with(b"cachegate_") {
                continue;
            }
            out.extend_from_slice(&line[..=colon]);
            if value.contains(&b'=') {
                // A `k=v,k=v` list (keyspace, commandstats): mask each wanted value.
                let subfields: Vec<&[u8]> = value
                    .split(|&b| b == b',')
                    .map(|kv| match kv.iter().position(|&b| b == b'=') {
                        Some(eq)
                            if !listed(keep, &kv[..eq]) && (wanted(name) || wanted(&kv[..eq])) =>
                        {
                            &kv[..=eq]
                        }
                        _ => kv,
                    })
                    .collect();
                out.extend_from_slice(&subfields.join(&b','));
            } else if !wanted(name) {
                out.extend_from_slice(value);
            }
        } else {
            out.extend_from_slice(line);
        }
        out.extend_from_slice(eol);
    }
    out
}

fn split_eol(piece: &[u8]) -> (&[u8], &[u8]) {
    let n = piece.len();
    if piece.ends_with(b"\r\n") {
        (&piece[..n - 2], &piece[n - 2..])
    } else if piece.ends_with(b"\n") {
        (&piece[..n - 1], &piece[n - 1..])
    } else {
        (piece, &[])
    }
}

/// A SCAN reply: the cursor becomes "0" or "more", the keys a sorted set.
fn scan_cursor(f: Frame) -> Frame {
    match f {
        Frame::Array(mut v) if v.len() == 2 => {
            if let Frame::Bulk(c) = &v[0] {
                let c = if c.as_ref() == b"0" { "0" } else { "<more>" };
                v[0] = Frame::bulk(c);
            }
            let keys = std::mem::replace(&mut v[1], Frame::Null);
            v[1] = sort(keys);
            Frame::Array(v)
        }
        other => other,
    }
}

/// Sorts an aggregate's elements (by their encoding), a map's entries (by key), or the lines
/// of each section of a text (a section starts after a blank line; its `#` header stays
/// first).
fn sort(f: Frame) -> Frame {
    let sorted = |mut v: Vec<Frame>| {
        v.sort_by_key(|x| x.to_bytes());
        v
    };
    match f {
        Frame::Array(v) => Frame::Array(sorted(v)),
        Frame::Set(v) => Frame::Set(sorted(v)),
        Frame::Map(mut p) => {
            p.sort_by_key(|(k, _)| k.to_bytes());
            Frame::Map(p)
        }
        text @ (Frame::Bulk(_) | Frame::Verbatim { .. }) => map_text(text, &|t| {
            let mut out = Vec::with_capacity(t.len());
            let mut section: Vec<&[u8]> = Vec::new();
            let flush = |section: &mut Vec<&[u8]>, out: &mut Vec<u8>| {
                let body = if section.first().is_some_and(|l| l.starts_with(b"#")) {
                    1
                } else {
                    0
                };
                section[body..].sort();
                out.extend(section.drain(..).flatten());
            };
            for line in t.split_inclusive(|&b| b == b'\n') {
                if split_eol(line).0.is_empty() {
                    flush(&mut section, &mut out);
                    out.extend_from_slice(line);
                } else {
                    section.push(line);
                }
            }
            flush(&mut section, &mut out);
            out
        }),
        other => other,
    }
}

/// Structural equality where integers may differ by `tol`.
fn close_enough(a: &Frame, b: &Frame, tol: i64) -> bool {
    let all = |x: &[Frame], y: &[Frame]| {
        x.len() == y.len() && x.iter().zip(y).all(|(p, q)| close_enough(p, q, tol))
    };
    match (a, b) {
        (Frame::Integer(x), Frame::Integer(y)) => x.abs_diff(*y) <= tol.unsigned_abs(),
        (Frame::Array(x), Frame::Array(y))
        | (Frame::Set(x), Frame::Set(y))
        | (Frame::Push(x), Frame::Push(y)) => all(x, y),
        (Frame::Map(x), Frame::Map(y)) => {
            x.len() == y.len()
                && x.iter().zip(y).all(|((k1, v1), (k2, v2))| {
                    close_enough(k1, k2, tol) && close_enough(v1, v2, tol)
                })
        }
        _ => a == b,
    }
}

/// True if every element of `part` is in `whole` (same aggregate kind): cachegate's reply
/// lists a subset of what redis-server lists.
fn is_subset(part: &Frame, whole: &Frame, tol: i64) -> bool {
    let within =
        |x: &[Frame], y: &[Frame]| x.iter().all(|p| y.iter().any(|q| close_enough(p, q, tol)));
    match (part, whole) {
        (Frame::Array(x), Frame::Array(y)) | (Frame::Set(x), Frame::Set(y)) => within(x, y),
        (Frame::Map(x), Frame::Map(y)) => x.iter().all(|(k, v)| {
            y.iter()
                .any(|(k2, v2)| close_enough(k, k2, tol) && close_enough(v, v2, tol))
        }),
        _ => false,
    }
}

/// The comparable form of a reply and whether two replies match under `mods`.
fn comparable(r: &Reply, mods: &Mods, origin: Origin) -> Reply {
    match r {
        Reply::Value { frame, .. } if mods.any() => {
            Reply::Derived(normalize(frame.clone(), mods, origin))
        }
        Reply::Derived(frame) => Reply::Derived(normalize(frame.clone(), mods, origin)),
        other => other.clone(),
    }
}

fn replies_match(redis: &Reply, cg: &Reply, mods: &Mods) -> bool {
    let tol = mods.approx.unwrap_or(0);
    match (
        comparable(redis, mods, Origin::Redis),
        comparable(cg, mods, Origin::Cachegate),
    ) {
        (Reply::Value { bytes: x, .. }, Reply::Value { bytes: y, .. }) => x == y,
        (Reply::Derived(x), Reply::Derived(y)) if mods.subset => {
            // An error (or any scalar) still has to match exactly.
            is_subset(&y, &x, tol) || close_enough(&x, &y, tol)
        }
        (Reply::Derived(x), Reply::Derived(y)) => close_enough(&x, &y, tol),
        (
            Reply::Raw {
                bytes: x,
                closed: c,
            },
            Reply::Raw {
                bytes: y,
                closed: d,
            },
        ) => x == y && c == d,
        (Reply::Closed(x), Reply::Closed(y))
        | (Reply::Timeout(x), Reply::Timeout(y))
        | (Reply::Invalid(x), Reply::Invalid(y)) => x == y,
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------
// Reports
// ---------------------------------------------------------------------------------------

/// Bytes as a readable, escaped string.
fn escape(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() + 8);
    for &b in bytes {
        match b {
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            b'\t' => s.push_str("\\t"),
            b'\\' => s.push_str("\\\\"),
            b'"' => s.push_str("\\\""),
            0x20..=0x7e => s.push(b as char),
            _ => {
                let _ = write!(s, "\\x{b:02x}");
            }
        }
    }
    s
}

fn show_str(b: &[u8]) -> String {
    escape(b)
}

/// The bytes a reply is shown as.
fn shown_bytes(r: &Reply) -> (Vec<u8>, &'static str) {
    match r {
        Reply::Value { bytes, .. } => (bytes.clone(), ""),
        Reply::Derived(f) => (f.to_bytes(), " (normalized)"),
        Reply::Raw { bytes, closed } => (
            bytes.clone(),
            if *closed {
                " (then closed)"
            } else {
                " (connection open)"
            },
        ),
        Reply::Closed(b) => (b.clone(), " (connection closed)"),
        Reply::Timeout(b) => (b.clone(), " (timed out)"),
        Reply::Invalid(b) => (b.clone(), " (not RESP)"),
    }
}

/// Both replies, escaped; long ones cut to a window around the first difference.
fn describe_pair(redis: &Reply, cg: &Reply) -> (String, String) {
    let (a, note_a) = shown_bytes(redis);
    let (b, note_b) = shown_bytes(cg);
    let first_diff = a
        .iter()
        .zip(&b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()));
    let window = |v: &[u8]| {
        if v.len() <= REPORT_WINDOW * 2 {
            return format!("\"{}\"", escape(v));
        }
        let start = first_diff.saturating_sub(REPORT_WINDOW / 2).min(v.len());
        let end = (start + REPORT_WINDOW).min(v.len());
        format!(
            "[{} bytes, from byte {start}] …\"{}\"…",
            v.len(),
            escape(&v[start..end])
        )
    };
    (
        format!("{}{note_a}", window(&a)),
        format!("{}{note_b}", window(&b)),
    )
}

// ---------------------------------------------------------------------------------------
// Running scripts
// ---------------------------------------------------------------------------------------

struct Runner {
    redis: Side,
    cg: Side,
    failures: Vec<String>,
}

impl Runner {
    fn fail(&mut self, script: &Script, step: Option<&Step>, proto: u8, detail: String) {
        let place = match step {
            Some(s) => format!(
                "{}:{} (RESP{proto})\n    command:   {}",
                script.path.display(),
                s.line,
                s.text
            ),
            None => format!("{} (RESP{proto})", script.path.display()),
        };
        self.failures.push(format!("{place}\n{detail}"));
    }

    fn connect_both(&mut self, proto: u8) -> Result<(), String> {
        self.redis.connect(proto)?;
        self.cg.connect(proto)
    }

    /// Puts both servers in a clean state for a script pass.
    fn prepare(&mut self, proto: u8) -> Result<(), String> {
        for side in [&mut self.redis, &mut self.cg] {
            side.connect(2)?;
            side.setup(&["RESET"])?;
            side.settle();
            side.setup(&["FLUSHALL"])?;
            side.setup(&["CONFIG", "RESETSTAT"])?;
            if proto == 3 {
                side.setup(&["HELLO", "3"])?;
            }
        }
        Ok(())
    }

    fn run(&mut self, script: &Script, proto: u8) {
        if let Err(e) = self.prepare(proto) {
            self.fail(script, None, proto, format!("    setup failed: {e}"));
            return;
        }
        for step in &script.steps {
            if let Err(e) = self.connect_both(proto) {
                self.fail(script, Some(step), proto, format!("    {e}"));
                return;
            }
            let (r, c) = match &step.action {
                Action::Command(args) => (self.redis.command(args), self.cg.command(args)),
                Action::Raw(bytes) => self.raw(bytes),
                Action::Scan(args) => (
                    scan_all(&mut self.redis, args),
                    scan_all(&mut self.cg, args),
                ),
                Action::CachegateOnly { expect, args } => {
                    let got = self.cg.command(args);
                    let expected = Reply::Value {
                        bytes: expect.clone(),
                        frame: Frame::Null,
                    };
                    (expected, got)
                }
                Action::Reconnect => {
                    self.redis.drop_connection();
                    self.cg.drop_connection();
                    continue;
                }
                Action::Sleep(d) => {
                    std::thread::sleep(*d);
                    continue;
                }
            };
            if !replies_match(&r, &c, &step.mods) {
                let (a, b) = describe_pair(
                    &comparable(&r, &step.mods, Origin::Redis),
                    &comparable(&c, &step.mods, Origin::Cachegate),
                );
                let left = if matches!(step.action, Action::CachegateOnly { .. }) {
                    "expected: "
                } else {
                    "redis:    "
                };
                self.fail(
                    script,
                    Some(step),
                    proto,
                    format!("    {left} {a}\n    cachegate: {b}"),
                );
            }
        }
    }

    /// Writes `bytes` to both servers, then reads both until close or quiet, in parallel so
    /// the quiet period is waited once.
    fn raw(&mut self, bytes: &[u8]) -> (Reply, Reply) {
        let (redis, cg) = (&mut self.redis, &mut self.cg);
        redis.write(bytes);
        cg.write(bytes);
        std::thread::scope(|s| {
            let a = s.spawn(|| redis.read_until_quiet());
            let b = cg.read_until_quiet();
            let a = a.join().unwrap_or(Reply::Closed(Vec::new()));
            (a, b)
        })
    }
}

/// Iterates a SCAN-like command to cursor 0 and returns the sorted set of keys seen, or the
/// first reply that is not a `[cursor, keys]` pair (an error, usually).
fn scan_all(side: &mut Side, args: &[Vec<u8>]) -> Reply {
    let mut args = args.to_vec();
    if args.len() < 2 {
        return side.command(&args);
    }
    args[1] = b"0".to_vec();
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
        args[1] = cursor.to_vec();
    }
    Reply::Derived(Frame::error("SCAN did not finish in 100000 calls"))
}

#[test]
fn cachegate_matches_redis_server() {
    let scripts = load_scripts();
    let redis = common::redis_server();
    let cg = common::Cachegate::start(&[]);
    let started = Instant::now();
    let mut runner = Runner {
        redis: Side::new("redis-server", redis.port),
        cg: Side::new("cachegate", cg.port),
        failures: Vec::new(),
    };
    let mut passes = 0;
    for script in &scripts {
        let t = Instant::now();
        for &proto in &script.protocols {
            runner.run(script, proto);
            passes += 1;
        }
        eprintln!("  {:<24} {:>7.1?}", script.name, t.elapsed());
    }
    let n = runner.failures.len();
    eprintln!(
        "differential: {} scripts, {passes} passes, {n} mismatches, {:.1?}",
        scripts.len(),
        started.elapsed()
    );
    if n > 0 {
        panic!(
            "{n} mismatch(es) between redis-server and cachegate:\n\n{}",
            runner.failures.join("\n\n")
        );
    }
}

#[cfg(test)]
mod self_tests {
    use super::*;

    #[test]
    fn masks_info_and_client_fields() {
        let info = b"# Server\r\nredis_version:7.0.15\r\ncachegate_version:0.1\r\n\r\n# Keyspace\r\ndb0:keys=1,expires=0\r\n";
        assert_eq!(
            mask_field_values(info, &[], &[]),
            b"# Server\r\nredis_version:\r\n\r\n# Keyspace\r\ndb0:keys=,expires=\r\n".to_vec()
        );
        assert_eq!(
            mask_field_values(
                b"db0:keys=1,expires=1,avg_ttl=99\r\n",
                &[b"avg_ttl".to_vec()],
                &[]
            ),
            b"db0:keys=1,expires=1,avg_ttl=\r\n".to_vec()
        );
        let client = b"id=7 addr=127.0.0.1:5 name= lib-name=x lib-ver=1\n";
        assert_eq!(
            mask_field_values(client, &[], &[b"name".to_vec()]),
            b"id= addr= name=\n".to_vec()
        );
        assert_eq!(
            mask_field_values(client, &[b"addr".to_vec()], &[]),
            b"id=7 addr= name=\n".to_vec()
        );
    }

    #[test]
    fn script_lines_parse() {
        assert_eq!(
            tokens(r#"SET "a b" '' "\x00""#).unwrap(),
            vec![b"SET".to_vec(), b"a b".to_vec(), Vec::new(), vec![0]]
        );
    }

    #[test]
    fn approx_and_sort() {
        let a = Frame::Array(vec![
            Frame::Integer(100),
            Frame::bulk("b"),
            Frame::bulk("a"),
        ]);
        let b = Frame::Array(vec![Frame::Integer(98), Frame::bulk("a"), Frame::bulk("b")]);
        let mods = Mods {
            sort: true,
            ..Mods::default()
        };
        let (a, b) = (
            normalize(a, &mods, Origin::Redis),
            normalize(b, &mods, Origin::Cachegate),
        );
        assert!(!close_enough(&a, &b, 0));
        let a = Frame::Array(vec![Frame::Integer(100)]);
        let b = Frame::Array(vec![Frame::Integer(98)]);
        assert!(close_enough(&a, &b, 2));
        assert!(!close_enough(&a, &b, 1));
    }
}
