//! `DEBUG`: the subcommands client libraries and test suites use, behind
//! `enable-debug-command` (`no` by default, as in Redis 7.0; `local` allows loopback and Unix
//! socket clients).
//!
//! DIGEST and DIGEST-VALUE are redis-server's SHA-1 digests (see
//! `cachegate_storage::digest`), so a dataset can be compared across servers. OBJECT reports
//! what it can of cachegate's own entry: its address, encoding, LRU clock and idle time; its
//! `serializedlength` is the RDB size without LZF compression (cachegate has no RDB writer
//! yet, so this is computed, not measured). SLEEP holds the keyspace, as redis-server's
//! blocks its event loop. CHANGE-REPL-ID has nothing to change until replication exists and
//! answers OK. Other redis-server subcommands (RELOAD, JMAP, SEGFAULT…) answer the unknown
//! subcommand error.

use cachegate_config::ProtectedCommand;
use cachegate_protocols::number::parse_i64;
use cachegate_protocols::resp::request::Args;
use cachegate_protocols::resp::ReplyBuf;
use cachegate_storage::command::args::is;
use cachegate_storage::command::conn::help;
use cachegate_storage::command::{CmdResult, CommandError};
use cachegate_storage::digest;
use cachegate_storage::keyspace::entry::{ValueType, View};
use cachegate_storage::keyspace::{idle_seconds, lru_clock, Lookup};

use super::resp::RespConn;
use crate::clients::Peer;
use crate::engine::Shared;

const NOT_ALLOWED: CommandError = CommandError::Static(
    "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.",
);

/// True if the caller may run DEBUG under `enable-debug-command`.
fn allowed(s: &Shared, conn: &RespConn) -> bool {
    match s.config.enable_debug_command {
        ProtectedCommand::Yes => true,
        ProtectedCommand::No => false,
        ProtectedCommand::Local => s.clients.get(conn.id).is_some_and(|c| match &c.peer {
            Peer::Unix(_) => true,
            Peer::Tcp { peer, .. } => peer.ip().is_loopback(),
        }),
    }
}

/// `DEBUG subcommand [argument ...]`
pub(super) fn debug(
    s: &mut Shared,
    conn: &mut RespConn,
    args: &Args<'_>,
    out: &mut ReplyBuf,
) -> CmdResult {
    if !allowed(s, conn) {
        return Err(NOT_ALLOWED);
    }
    let sub = args.get(1);
    let n = args.len();
    if n == 2 && is(sub, "HELP") {
        help_text(out);
    } else if n == 2 && is(sub, "DIGEST") {
        let d = digest::dataset_digest(&s.store.keyspace);
        out.simple(digest::hex(&d).as_bytes());
    } else if is(sub, "DIGEST-VALUE") {
        // Logically expired keys are digested too: no lookup, no lazy expiry.
        let db = s.store.keyspace.db(conn.session.db);
        out.array(n - 2);
        for key in args.iter().skip(2) {
            let mut d = [0u8; 20];
            if let Lookup::Found(slot) = db.find(key) {
                digest::value_digest(&db.get(slot), &mut d);
            }
            out.simple(digest::hex(&d).as_bytes());
        }
    } else if n == 3 && is(sub, "OBJECT") {
        let db = s.store.keyspace.db(conn.session.db);
        let Lookup::Found(slot) = db.find(args.get(2)) else {
            return Err(CommandError::NoSuchKey);
        };
        let v = db.get(slot);
        let line = format!(
            "Value at:{:p} refcount:{} encoding:{} serializedlength:{} lru:{} lru_seconds_idle:{}",
            v.address(),
            if v.is_shared() { i32::MAX } else { 1 },
            v.encoding_name(),
            serialized_len(&v),
            v.lru(),
            idle_seconds(lru_clock(s.store.now_ms()), v.lru()),
        );
        out.simple(line.as_bytes());
    } else if n == 3 && is(sub, "SLEEP") {
        let secs = strtod(args.get(2));
        if secs > 0.0 && secs.is_finite() {
            std::thread::sleep(std::time::Duration::from_secs_f64(secs.min(3600.0)));
        }
        out.ok();
    } else if n == 3 && is(sub, "SET-ACTIVE-EXPIRE") {
        s.store.active_expire_enabled = atoi(args.get(2)) != 0;
        out.ok();
    } else if n == 3 && is(sub, "PROTOCOL") {
        protocol(args.get(2), out)?;
    } else if n == 2 && is(sub, "CHANGE-REPL-ID") {
        out.ok();
    } else if n == 3 && is(sub, "QUICKLIST-PACKED-THRESHOLD") {
        match parse_memory(args.get(2)) {
            Some(v) if v < (1u64 << 32) => {
                s.store.thresholds.quicklist_packed_threshold = v as usize;
                out.ok();
            }
            _ => {
                return Err(CommandError::Static(
                    "ERR argument must be a memory value bigger than 1 and smaller than 4gb",
                ))
            }
        }
    } else if n == 3 && is(sub, "LISTPACK") {
        let db = s.store.keyspace.db(conn.session.db);
        let Lookup::Found(slot) = db.find(args.get(2)) else {
            return Err(CommandError::NoSuchKey);
        };
        let v = db.get(slot);
        if v.encoding_name() != "listpack" {
            return Err(CommandError::Static("ERR Not a listpack encoded object."));
        }
        tracing::info!(key = %String::from_utf8_lossy(args.get(2)), elements = v.elements(), bytes = v.alloc_size(), "DEBUG LISTPACK");
        out.simple(b"Listpack structure printed on stdout");
    } else if n == 2 && is(sub, "STRINGMATCH-TEST") {
        stringmatch_test();
        out.simple(b"Apparently Redis did not crash: test passed");
    } else {
        return Err(CommandError::subcommand_syntax(args));
    }
    Ok(())
}

/// `DEBUG PROTOCOL <type>`: one reply of each RESP type, for client libraries' tests.
fn protocol(name: &[u8], out: &mut ReplyBuf) -> CmdResult {
    if is(name, "string") {
        out.bulk(b"Hello World");
    } else if is(name, "integer") {
        out.int(12345);
    } else if is(name, "double") {
        // redis-server replies with this literal, not with pi.
        #[allow(clippy::approx_constant)]
        out.double(3.141);
    } else if is(name, "bignum") {
        out.big_number(b"1234567999999999999999999999999999999");
    } else if is(name, "null") {
        out.null();
    } else if is(name, "array") || is(name, "set") {
        if is(name, "set") {
            out.set(3);
        } else {
            out.array(3);
        }
        for j in 0..3 {
            out.int(j);
        }
    } else if is(name, "map") {
        out.map(3);
        for j in 0..3 {
            out.int(j);
            out.bool(j == 1);
        }
    } else if is(name, "attrib") {
        if out.is_resp3() {
            out.attribute(1);
            out.bulk(b"key-popularity");
            out.array(2);
            out.bulk(b"key:123");
            out.int(90);
        }
        out.bulk(b"Some real reply following the attribute");
    } else if is(name, "push") {
        if !out.is_resp3() {
            return Err(CommandError::Static(
                "ERR RESP2 is not supported by this command",
            ));
        }
        out.push(2);
        out.bulk(b"server-cpu-usage");
        out.int(42);
        out.bulk(b"Some real reply following the push reply");
    } else if is(name, "true") {
        out.bool(true);
    } else if is(name, "false") {
        out.bool(false);
    } else if is(name, "verbatim") {
        out.verbatim(b"txt", b"This is a verbatim\nstring");
    } else {
        return Err(CommandError::Static("ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false"));
    }
    Ok(())
}

/// The bytes an RDB string of `s` takes without compression: an integer that fits 32 bits
/// is stored in 2, 3 or 5 bytes, anything else as a length and the bytes.
fn rdb_string_len(s: &[u8]) -> usize {
    if s.len() <= 11 {
        if let Some(v) = parse_i64(s) {
            if i8::try_from(v).is_ok() {
                return 2;
            }
            if i16::try_from(v).is_ok() {
                return 3;
            }
            if i32::try_from(v).is_ok() {
                return 5;
            }
        }
    }
    let prefix = if s.len() < 64 {
        1
    } else if s.len() < 16384 {
        2
    } else if s.len() <= u32::MAX as usize {
        5
    } else {
        9
    };
    prefix + s.len()
}

/// DEBUG OBJECT's `serializedlength`: the value's RDB size without LZF compression. Strings
/// are exact; collections count their elements as RDB strings (cachegate has no RDB writer
/// yet, so the packed encodings' blobs are estimated the same way).
fn serialized_len(v: &View<'_>) -> usize {
    match v.value_type() {
        ValueType::String => rdb_string_len(v.value()),
        _ => {
            let mut total = 1;
            cachegate_storage::types::for_each_element(v, &mut |e| total += rdb_string_len(e));
            total
        }
    }
}

/// `strtod` as DEBUG SLEEP reads its argument: the longest numeric prefix, 0 if none.
fn strtod(arg: &[u8]) -> f64 {
    let text = String::from_utf8_lossy(arg);
    let t = text.trim_start();
    let mut end = 0;
    for i in (1..=t.len()).rev() {
        if t.is_char_boundary(i) && t[..i].parse::<f64>().is_ok() {
            end = i;
            break;
        }
    }
    t[..end].parse().unwrap_or(0.0)
}

/// `atoi`: optional sign and leading digits, 0 otherwise.
fn atoi(arg: &[u8]) -> i64 {
    let mut it = arg
        .iter()
        .skip_while(|b| b.is_ascii_whitespace())
        .peekable();
    let neg = match it.peek() {
        Some(b'-') => {
            it.next();
            true
        }
        Some(b'+') => {
            it.next();
            false
        }
        _ => false,
    };
    let mut v: i64 = 0;
    for &b in it.take_while(|b| b.is_ascii_digit()) {
        v = v.wrapping_mul(10).wrapping_add(i64::from(b - b'0'));
    }
    if neg {
        v.wrapping_neg()
    } else {
        v
    }
}

/// A memory size as redis-server's `memtoull` reads it (`1kb`, `5mb`, `2gb`, plain bytes).
fn parse_memory(arg: &[u8]) -> Option<u64> {
    let s = std::str::from_utf8(arg).ok()?.to_ascii_lowercase();
    let (num, mul) = [
        ("gb", 1u64 << 30),
        ("mb", 1 << 20),
        ("kb", 1 << 10),
        ("g", 1_000_000_000),
        ("m", 1_000_000),
        ("k", 1_000),
        ("b", 1),
    ]
    .iter()
    .find_map(|(suffix, mul)| s.strip_suffix(suffix).map(|n| (n.to_string(), *mul)))
    .unwrap_or((s.clone(), 1));
    let n: u64 = num.parse().ok()?;
    n.checked_mul(mul)
}

/// DEBUG STRINGMATCH-TEST: the glob matcher on random patterns and strings must not crash
/// (nor take long: Redis's matcher had exponential cases).
fn stringmatch_test() {
    use cachegate_config::glob::{Case, Pattern};
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for _ in 0..1000 {
        let alphabet = b"ab*?[]^\\-";
        let plen = (next() % 32) as usize;
        let pat: Vec<u8> = (0..plen).map(|_| alphabet[(next() % 9) as usize]).collect();
        let slen = (next() % 32) as usize;
        let s: Vec<u8> = (0..slen).map(|_| alphabet[(next() % 9) as usize]).collect();
        let _ = Pattern::new(&pat, Case::Sensitive).matches(&s);
    }
}

fn help_text(out: &mut ReplyBuf) {
    help(
        out,
        "DEBUG",
        &[
            "CHANGE-REPL-ID",
            "    Accepted for compatibility: there are no replication IDs to change yet.",
            "DIGEST",
            "    Return a digest of the whole dataset (40 zeros when it is empty).",
            "DIGEST-VALUE <key> [<key> ...]",
            "    Return a digest of each key's value.",
            "LISTPACK <key>",
            "    Log the packed structure of a key held in a listpack.",
            "OBJECT <key>",
            "    Describe the value stored at <key>.",
            "PROTOCOL <type>",
            "    Reply with one value of a RESP type: string|integer|double|bignum|null|",
            "    array|set|map|attrib|push|verbatim|true|false.",
            "QUICKLIST-PACKED-THRESHOLD <size>",
            "    Set the size above which list elements are stored on their own.",
            "SET-ACTIVE-EXPIRE <0|1>",
            "    Turn the periodic expiry of keys off or on.",
            "SLEEP <seconds>",
            "    Stop the server for <seconds> (fractions allowed).",
            "STRINGMATCH-TEST",
            "    Run the glob matcher on random input.",
        ],
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_number_readers() {
        assert_eq!(strtod(b"0.5"), 0.5);
        assert_eq!(strtod(b"2abc"), 2.0);
        assert_eq!(strtod(b"abc"), 0.0);
        assert_eq!(atoi(b"12x"), 12);
        assert_eq!(atoi(b"-3"), -3);
        assert_eq!(atoi(b"x"), 0);
        assert_eq!(parse_memory(b"1kb"), Some(1024));
        assert_eq!(parse_memory(b"7"), Some(7));
        assert_eq!(parse_memory(b"x"), None);
    }

    #[test]
    fn rdb_lengths() {
        assert_eq!(rdb_string_len(b"v"), 2);
        assert_eq!(rdb_string_len(b"100"), 2);
        assert_eq!(rdb_string_len(b"1000"), 3);
        assert_eq!(rdb_string_len(b"100000"), 5);
        assert_eq!(rdb_string_len(&[b'a'; 64]), 66);
    }
}
