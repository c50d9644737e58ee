//! One request line to one command, the way memcached 1.6.18's `process_command_ascii` and
//! the `process_*_command` functions in `proto_text.c` read it.
//!
//! memcached splits a line on single spaces (tabs and other bytes belong to the words), keeps
//! at most 23 words plus a marker for "more follows" (`MAX_TOKENS` = 24), dispatches on the
//! first word's first letter, checks the word count, and only then looks for `noreply` in the
//! last word. The order of those checks decides which errors a `noreply` request still gets,
//! so it is kept exactly; the comments name the memcached checks they mirror.

use super::number::{safe_strtol32, safe_strtoul32, safe_strtoull};
use super::request::{CloseReason, Command, ErrorReply, Get, Keys, Request, StoreCommand};

/// Longest key memcached accepts (`KEY_MAX_LENGTH`).
pub const KEY_MAX_LEN: usize = 250;

/// memcached's token array size, the terminal marker included.
const MAX_TOKENS: usize = 24;

/// The words of a line as memcached's `tokenize_command` sees them.
struct Tokens<'a> {
    line: &'a [u8],
    words: [&'a [u8]; MAX_TOKENS - 1],
    len: usize,
}

impl<'a> Tokens<'a> {
    fn new(line: &'a [u8]) -> Self {
        let mut t = Tokens {
            line,
            words: [&[]; MAX_TOKENS - 1],
            len: 0,
        };
        for w in Keys::new(line).take(MAX_TOKENS - 1) {
            t.words[t.len] = w;
            t.len += 1;
        }
        t
    }

    /// memcached's `ntokens`: the words kept plus the terminal token.
    fn ntokens(&self) -> usize {
        self.len + 1
    }

    /// Word `i`, or an empty slice past the end (memcached's terminal token).
    fn word(&self, i: usize) -> &'a [u8] {
        if i < self.len {
            self.words[i]
        } else {
            &[]
        }
    }

    /// `set_noreply_maybe`: is the last word kept `noreply`?
    fn noreply(&self) -> bool {
        self.len > 0 && self.words[self.len - 1] == b"noreply"
    }

    /// The rest of the line after word `i`.
    fn after(&self, i: usize) -> &'a [u8] {
        let w = self.word(i);
        // Words are sub-slices of `line`, so the difference of their addresses is an offset.
        let off = (w.as_ptr() as usize)
            .saturating_sub(self.line.as_ptr() as usize)
            .saturating_add(w.len())
            .min(self.line.len());
        &self.line[off..]
    }
}

/// A storage command's line, before its data block has been looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StoreLine<'a> {
    pub command: StoreCommand,
    pub key: &'a [u8],
    pub flags: u32,
    pub exptime: i32,
    /// Length of the data block, without its CRLF.
    pub len: usize,
    pub cas: u64,
    pub noreply: bool,
}

/// What a line turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Line<'a> {
    /// A complete request.
    Request(Request<'a>),
    /// A storage command whose data block follows the line.
    Store(StoreLine<'a>),
}

fn reply(command: Command<'_>, noreply: bool) -> Line<'_> {
    Line::Request(Request { command, noreply })
}

fn error(e: ErrorReply, noreply: bool) -> Line<'static> {
    reply(Command::Error(e), noreply)
}

/// Reads one request line (without its line ending, cut at the first NUL byte).
pub(crate) fn parse_line(line: &[u8]) -> Line<'_> {
    let t = Tokens::new(line);
    let n = t.ntokens();
    let cmd = t.word(0);
    // "All commands need a minimum of two tokens … no valid commands shorter than two bytes."
    if n < 2 || cmd.len() < 2 {
        return error(ErrorReply::Error, false);
    }
    match cmd[0] {
        // Meta commands (mg, ms, md, ma, mn, me) are not spoken yet.
        b'm' if cmd.len() == 2 => error(ErrorReply::Error, false),
        b'g' => {
            if n < 3 {
                return error(ErrorReply::Error, false);
            }
            match cmd {
                b"get" => get(&t, false, false),
                b"gets" => get(&t, true, false),
                b"gat" => get(&t, false, true),
                b"gats" => get(&t, true, true),
                _ => error(ErrorReply::Error, false),
            }
        }
        b's' => match cmd {
            b"set" => update(&t, StoreCommand::Set),
            b"stats" => reply(
                Command::Stats {
                    args: Keys::new(t.after(0)),
                },
                false,
            ),
            b"shutdown" => reply(Command::Shutdown, false),
            _ => error(ErrorReply::Error, false),
        },
        b'a' => match cmd {
            b"add" => update(&t, StoreCommand::Add),
            b"append" => update(&t, StoreCommand::Append),
            _ => error(ErrorReply::Error, false),
        },
        b'c' => match cmd {
            b"cas" => update(&t, StoreCommand::Cas),
            _ => error(ErrorReply::Error, false),
        },
        b'i' => match cmd {
            b"incr" => arith(&t, true),
            _ => error(ErrorReply::Error, false),
        },
        b'd' => match cmd {
            b"delete" => delete(&t),
            b"decr" => arith(&t, false),
            _ => error(ErrorReply::Error, false),
        },
        b't' => match cmd {
            b"touch" => touch(&t),
            _ => error(ErrorReply::Error, false),
        },
        _ => match cmd {
            b"replace" => update(&t, StoreCommand::Replace),
            b"prepend" => update(&t, StoreCommand::Prepend),
            b"bget" if n >= 3 => get(&t, false, false),
            b"flush_all" => flush_all(&t),
            b"version" => reply(Command::Version, false),
            b"quit" => reply(Command::Quit, false),
            b"verbosity" => verbosity(&t),
            _ if t.word(n - 2).starts_with(b"HTTP/") => {
                reply(Command::Close(CloseReason::Http), false)
            }
            _ => error(ErrorReply::Error, false),
        },
    }
}

/// `process_get_command`. Never silent: `get` does not look for `noreply`.
fn get<'a>(t: &Tokens<'a>, cas: bool, touch: bool) -> Line<'a> {
    let (touch, keys_after) = if touch {
        match safe_strtol32(t.word(1)) {
            Some(e) => (Some(e), 1),
            None => return error(ErrorReply::InvalidExptime, false),
        }
    } else {
        (None, 0)
    };
    let keys = Keys::new(t.after(keys_after));
    if keys.clone().any(|k| k.len() > KEY_MAX_LEN) {
        return reply(Command::GetKeyTooLong, false);
    }
    reply(Command::Get(Get { cas, touch, keys }), false)
}

/// `process_update_command`, after the word count check of its caller.
fn update<'a>(t: &Tokens<'a>, command: StoreCommand) -> Line<'a> {
    let n = t.ntokens();
    let ok_count = match command {
        StoreCommand::Cas => n == 7 || n == 8,
        _ => n == 6 || n == 7,
    };
    if !ok_count {
        return error(ErrorReply::Error, false);
    }
    let noreply = t.noreply();
    let key = t.word(1);
    if key.len() > KEY_MAX_LEN {
        return error(ErrorReply::BadCommandLineFormat, noreply);
    }
    let (Some(flags), Some(exptime), Some(len)) = (
        safe_strtoul32(t.word(2)),
        safe_strtol32(t.word(3)),
        safe_strtol32(t.word(4)),
    ) else {
        return error(ErrorReply::BadCommandLineFormat, noreply);
    };
    let cas = if command == StoreCommand::Cas {
        match safe_strtoull(t.word(5)) {
            Some(c) => c,
            None => return error(ErrorReply::BadCommandLineFormat, noreply),
        }
    } else {
        0
    };
    // memcached adds 2 for the CRLF to an int, hence the INT_MAX - 2 bound.
    if !(0..=i32::MAX - 2).contains(&len) {
        return error(ErrorReply::BadCommandLineFormat, noreply);
    }
    Line::Store(StoreLine {
        command,
        key,
        flags,
        exptime,
        len: len as usize,
        cas,
        noreply,
    })
}

/// `process_arithmetic_command`.
fn arith<'a>(t: &Tokens<'a>, incr: bool) -> Line<'a> {
    let n = t.ntokens();
    if n != 4 && n != 5 {
        return error(ErrorReply::Error, false);
    }
    let noreply = t.noreply();
    let key = t.word(1);
    if key.len() > KEY_MAX_LEN {
        return error(ErrorReply::BadCommandLineFormat, noreply);
    }
    match safe_strtoull(t.word(2)) {
        Some(delta) => reply(Command::Arith { incr, key, delta }, noreply),
        None => error(ErrorReply::InvalidDelta, noreply),
    }
}

/// `process_delete_command`: `delete <key> [0] [noreply]`; the `0` is a relic of the removed
/// hold time, still accepted.
fn delete<'a>(t: &Tokens<'a>) -> Line<'a> {
    let n = t.ntokens();
    if !(3..=5).contains(&n) {
        return error(ErrorReply::Error, false);
    }
    let mut noreply = false;
    if n > 3 {
        let hold_is_zero = t.word(2) == b"0";
        noreply = t.noreply();
        let valid = (n == 4 && (hold_is_zero || noreply)) || (n == 5 && hold_is_zero && noreply);
        if !valid {
            return error(ErrorReply::DeleteUsage, noreply);
        }
    }
    let key = t.word(1);
    if key.len() > KEY_MAX_LEN {
        return error(ErrorReply::BadCommandLineFormat, noreply);
    }
    reply(Command::Delete { key }, noreply)
}

/// `process_touch_command`.
fn touch<'a>(t: &Tokens<'a>) -> Line<'a> {
    let n = t.ntokens();
    if n != 4 && n != 5 {
        return error(ErrorReply::Error, false);
    }
    let noreply = t.noreply();
    let key = t.word(1);
    if key.len() > KEY_MAX_LEN {
        return error(ErrorReply::BadCommandLineFormat, noreply);
    }
    match safe_strtol32(t.word(2)) {
        Some(exptime) => reply(Command::Touch { key, exptime }, noreply),
        None => error(ErrorReply::InvalidExptime, noreply),
    }
}

/// `process_verbosity_command`: `verbosity noreply` reads `noreply` as the level, fails, and
/// stays silent about it.
fn verbosity<'a>(t: &Tokens<'a>) -> Line<'a> {
    let n = t.ntokens();
    if n != 3 && n != 4 {
        return error(ErrorReply::Error, false);
    }
    let noreply = t.noreply();
    match safe_strtoul32(t.word(1)) {
        Some(level) => reply(Command::Verbosity { level }, noreply),
        None => error(ErrorReply::BadCommandLineFormat, noreply),
    }
}

/// `process_flush_all_command`: the delay is read unless the line is exactly `flush_all` or
/// `flush_all noreply`; extra words after it are ignored.
fn flush_all<'a>(t: &Tokens<'a>) -> Line<'a> {
    let n = t.ntokens();
    if !(2..=4).contains(&n) {
        return error(ErrorReply::Error, false);
    }
    let noreply = t.noreply();
    let delay = if n != if noreply { 3 } else { 2 } {
        match safe_strtol32(t.word(1)) {
            Some(d) => d,
            None => return error(ErrorReply::InvalidExptime, noreply),
        }
    } else {
        0
    };
    reply(Command::FlushAll { delay }, noreply)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(line: &str) -> (Command<'_>, bool) {
        match parse_line(line.as_bytes()) {
            Line::Request(r) => (r.command, r.noreply),
            Line::Store(s) => panic!("unexpected store line {s:?}"),
        }
    }

    fn err(line: &str) -> (ErrorReply, bool) {
        match cmd(line) {
            (Command::Error(e), noreply) => (e, noreply),
            other => panic!("expected an error for {line:?}, got {other:?}"),
        }
    }

    #[test]
    fn word_counts() {
        for line in [
            "",
            "a",
            "get",
            "gets",
            "gat",
            "set k 0 0",
            "set k 0 0 1 2 3",
            "cas k 0 0 1",
            "incr k",
            "incr k 1 2 3",
            "delete",
            "delete a b c d",
            "touch k",
            "verbosity",
            "verbosity 1 2 3",
            "flush_all 1 2 3",
            "SET k 0 0 1",
            "mg k",
            "ab",
        ] {
            assert_eq!(err(line), (ErrorReply::Error, false), "{line:?}");
        }
    }

    #[test]
    fn noreply_silences_only_after_the_word_count() {
        assert_eq!(
            err("set k abc 0 1 noreply"),
            (ErrorReply::BadCommandLineFormat, true)
        );
        assert_eq!(err("set k 0 0 1 2 noreply"), (ErrorReply::Error, false));
        assert_eq!(err("delete a 1 noreply"), (ErrorReply::DeleteUsage, true));
        assert_eq!(err("delete a 1"), (ErrorReply::DeleteUsage, false));
        assert_eq!(err("incr a b noreply"), (ErrorReply::InvalidDelta, true));
        assert_eq!(err("touch a x noreply"), (ErrorReply::InvalidExptime, true));
        assert_eq!(
            err("verbosity noreply"),
            (ErrorReply::BadCommandLineFormat, true)
        );
        assert_eq!(
            err("flush_all noreply 1"),
            (ErrorReply::InvalidExptime, false)
        );
        assert_eq!(err("gat x k"), (ErrorReply::InvalidExptime, false));
    }

    #[test]
    fn accepted_forms() {
        assert_eq!(cmd("delete a 0"), (Command::Delete { key: b"a" }, false));
        assert_eq!(
            cmd("delete a noreply"),
            (Command::Delete { key: b"a" }, true)
        );
        assert_eq!(
            cmd("delete a 0 noreply"),
            (Command::Delete { key: b"a" }, true)
        );
        assert_eq!(cmd("flush_all"), (Command::FlushAll { delay: 0 }, false));
        assert_eq!(
            cmd("flush_all noreply"),
            (Command::FlushAll { delay: 0 }, true)
        );
        assert_eq!(
            cmd("flush_all 1 2"),
            (Command::FlushAll { delay: 1 }, false)
        );
        assert_eq!(
            cmd("flush_all -5"),
            (Command::FlushAll { delay: -5 }, false)
        );
        assert_eq!(
            cmd("verbosity 1 2"),
            (Command::Verbosity { level: 1 }, false)
        );
        assert_eq!(cmd("version x"), (Command::Version, false));
        assert_eq!(cmd("quit x"), (Command::Quit, false));
        assert_eq!(
            cmd("touch a 10 x"),
            (
                Command::Touch {
                    key: b"a",
                    exptime: 10
                },
                false
            )
        );
        assert_eq!(
            cmd("incr k 18446744073709551615"),
            (
                Command::Arith {
                    incr: true,
                    key: b"k",
                    delta: u64::MAX
                },
                false
            )
        );
    }

    #[test]
    fn storage_lines() {
        let Line::Store(s) = parse_line(b"set k 4294967296 2147483648 4294967297 norepl") else {
            panic!()
        };
        assert_eq!(
            (s.flags, s.exptime, s.len, s.noreply),
            (0, i32::MIN, 1, false)
        );
        let Line::Store(s) = parse_line(b"cas k 1 0 5 77 noreply") else {
            panic!()
        };
        assert_eq!((s.command, s.cas, s.noreply), (StoreCommand::Cas, 77, true));
        assert_eq!(
            err("set k 0 0 -1"),
            (ErrorReply::BadCommandLineFormat, false)
        );
        assert_eq!(
            err("set k 0 0 2147483646"),
            (ErrorReply::BadCommandLineFormat, false)
        );
        assert_eq!(
            err("cas k 0 0 1 abc"),
            (ErrorReply::BadCommandLineFormat, false)
        );
        let long = format!("set {} 0 0 1", "k".repeat(251));
        assert_eq!(err(&long), (ErrorReply::BadCommandLineFormat, false));
    }

    #[test]
    fn gets_and_http() {
        let (c, _) = cmd("gat 10");
        let Command::Get(g) = c else { panic!() };
        assert_eq!((g.touch, g.keys.count()), (Some(10), 0));
        let (c, _) = cmd("get a noreply");
        let Command::Get(g) = c else { panic!() };
        assert_eq!(g.keys.collect::<Vec<_>>(), vec![&b"a"[..], b"noreply"]);
        let long = format!("get a {}", "k".repeat(251));
        assert_eq!(cmd(&long), (Command::GetKeyTooLong, false));
        assert_eq!(
            cmd("GET / HTTP/1.1"),
            (Command::Close(CloseReason::Http), false)
        );
        assert_eq!(err("foo HTTP/1.0 x"), (ErrorReply::Error, false));
        // The HTTP check looks at the 23rd word when the line has more.
        let line = format!("foo {}HTTP/1.1 y", "x ".repeat(21));
        assert_eq!(cmd(&line), (Command::Close(CloseReason::Http), false));
        let line = format!("foo {}HTTP/1.1 y", "x ".repeat(22));
        assert_eq!(err(&line), (ErrorReply::Error, false));
    }
}
