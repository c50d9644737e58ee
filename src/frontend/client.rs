//! The CLIENT family: naming and listing connections, and reaching other connections through
//! the client registry and their mailboxes (KILL, UNBLOCK), CLIENT PAUSE / UNPAUSE, and the
//! per-connection flags (NO-EVICT). Each handler's doc line is its syntax.
//!
//! KILL and UNBLOCK never touch another connection's task directly: a kill is a
//! [`Mail::Kill`] in its mailbox, an unblock takes the client out of the storage's blocked
//! registry under the lock and posts its reply. A pause is state in [`Shared`] that each
//! connection checks before running a command (see `frontend::resp`).
//!
//! `CLIENT KILL … MAXAGE` (Redis 7.4) is accepted because the issue asks for it; 7.0.15
//! answers it with a syntax error.

use cachegate_protocols::resp::request::Args;
use cachegate_protocols::resp::ReplyBuf;
use cachegate_storage::blocking::UnblockReason;
use cachegate_storage::command::args::{self, is};
use cachegate_storage::command::conn::help;
use cachegate_storage::command::{CmdResult, CommandError};

use super::resp::{Close, RespConn};
use crate::clients::{valid_name, ClientInfo};
use crate::engine::{Pause, Shared};
use crate::mailbox::Mail;

const BAD_NAME: CommandError =
    CommandError::Static("ERR Client names cannot contain spaces, newlines or special characters.");

/// `CLIENT ID`
pub(super) fn id(
    _s: &mut Shared,
    conn: &mut RespConn,
    _a: &Args<'_>,
    out: &mut ReplyBuf,
) -> CmdResult {
    out.int(conn.id as i64);
    Ok(())
}

/// `CLIENT GETNAME`
pub(super) fn getname(
    s: &mut Shared,
    conn: &mut RespConn,
    _a: &Args<'_>,
    out: &mut ReplyBuf,
) -> CmdResult {
    match s.clients.get(conn.id) {
        Some(c) if !c.name.is_empty() => out.bulk(&c.name),
        _ => out.null(),
    }
    Ok(())
}

/// `CLIENT SETNAME connection-name`
pub(super) fn setname(
    s: &mut Shared,
    conn: &mut RespConn,
    args: &Args<'_>,
    out: &mut ReplyBuf,
) -> CmdResult {
    set_name(s, conn.id, args.get(2))?;
    out.ok();
    Ok(())
}

/// Sets a client's name (CLIENT SETNAME, HELLO … SETNAME).
pub(super) fn set_name(s: &mut Shared, id: u64, name: &[u8]) -> CmdResult {
    if !valid_name(name) {
        return Err(BAD_NAME);
    }
    if let Some(c) = s.clients.get_mut(id) {
        c.name = name.to_vec();
    }
    Ok(())
}

/// The `CLIENT LIST` line of `c`, with what only the shared state knows.
fn line(s: &Shared, c: &ClientInfo, now: i64) -> String {
    let cmd = c
        .last_cmd
        .map_or("NULL", |id| s.store.commands.entry(id).full_name.as_str());
    c.line(now, s.store.blocking.is_blocked(c.id), cmd)
}

/// `CLIENT INFO`
pub(super) fn info(
    s: &mut Shared,
    conn: &mut RespConn,
    _a: &Args<'_>,
    out: &mut ReplyBuf,
) -> CmdResult {
    refresh_self(s, conn, out);
    let now = s.store.now_ms() / 1000;
    let mut text = s
        .clients
        .get(conn.id)
        .map(|c| line(s, c, now))
        .unwrap_or_default();
    text.push('\n');
    out.verbatim(b"txt", text.as_bytes());
    Ok(())
}

/// Brings the caller's registry entry up to date before it is reported on.
pub(super) fn refresh_self(s: &mut Shared, conn: &RespConn, out: &ReplyBuf) {
    let last = s.store.last_command();
    if let Some(c) = s.clients.get_mut(conn.id) {
        c.db = conn.session.db;
        c.resp = out.version().number();
        if last.is_some() {
            c.last_cmd = last;
        }
    }
}

/// A client type name as CLIENT LIST and CLIENT KILL take it; `Ok(true)` for `normal`, the
/// only kind of client cachegate has so far (no replicas, masters or pub/sub yet).
fn client_type(t: &[u8]) -> Result<bool, CommandError> {
    let known = ["normal", "master", "replica", "slave", "pubsub"];
    if !known.iter().any(|k| is(t, k)) {
        return Err(CommandError::quoting(&[
            b"ERR Unknown client type '",
            args::cstr(t),
            b"'",
        ]));
    }
    Ok(is(t, "normal"))
}

/// `CLIENT LIST [TYPE NORMAL|MASTER|REPLICA|PUBSUB] [ID client-id ...]`
pub(super) fn list(
    s: &mut Shared,
    conn: &mut RespConn,
    args: &Args<'_>,
    out: &mut ReplyBuf,
) -> CmdResult {
    refresh_self(s, conn, out);
    let now = s.store.now_ms() / 1000;
    let mut text = String::new();
    if args.len() == 4 && is(args.get(2), "TYPE") {
        if client_type(args.get(3))? {
            for c in s.clients.iter() {
                text.push_str(&line(s, c, now));
                text.push('\n');
            }
        }
    } else if args.len() > 3 && is(args.get(2), "ID") {
        let mut ids = Vec::new();
        for a in args.iter().skip(3) {
            let id = cachegate_protocols::number::parse_i64(a)
                .ok_or(CommandError::Static("ERR Invalid client ID"))?;
            ids.push(id);
        }
        for id in ids {
            if let Some(c) = u64::try_from(id).ok().and_then(|id| s.clients.get(id)) {
                text.push_str(&line(s, c, now));
                text.push('\n');
            }
        }
    } else if args.len() != 2 {
        return Err(CommandError::Syntax);
    } else {
        for c in s.clients.iter() {
            text.push_str(&line(s, c, now));
            text.push('\n');
        }
    }
    out.verbatim(b"txt", text.as_bytes());
    Ok(())
}

/// `CLIENT SETINFO LIB-NAME name | LIB-VER version` (Redis 7.2's, which clients send on
/// connect).
pub(super) fn setinfo(
    s: &mut Shared,
    conn: &mut RespConn,
    args: &Args<'_>,
    out: &mut ReplyBuf,
) -> CmdResult {
    let (attr, value) = (args.get(2), args.get(3));
    let is_name = is(attr, "LIB-NAME");
    if !is_name && !is(attr, "LIB-VER") {
        return Err(CommandError::quoting(&[
            b"ERR Unrecognized option '",
            args::cstr(attr),
            b"'",
        ]));
    }
    if !valid_name(value) {
        return Err(CommandError::Owned(format!(
            "ERR {} cannot contain spaces, newlines or special characters.",
            if is_name { "lib-name" } else { "lib-ver" }
        )));
    }
    if let Some(c) = s.clients.get_mut(conn.id) {
        let lib = c.lib.get_or_insert_with(Default::default);
        if is_name {
            lib.name = value.to_vec();
        } else {
            lib.ver = value.to_vec();
        }
    }
    out.ok();
    Ok(())
}

/// Which clients a `CLIENT KILL` with filters names.
#[derive(Default)]
struct KillFilter<'a> {
    id: Option<u64>,
    /// `Some(false)` for a type with no clients (master, replica, pubsub).
    normal: Option<bool>,
    user: Option<&'a [u8]>,
    addr: Option<&'a [u8]>,
    laddr: Option<&'a [u8]>,
    skipme: bool,
    max_age: Option<i64>,
}

impl KillFilter<'_> {
    fn matches(&self, c: &ClientInfo, me: u64, now: i64) -> bool {
        self.id.is_none_or(|id| id == c.id)
            && self.normal != Some(false)
            && self.user.is_none_or(|u| u == b"default")
            && self.addr.is_none_or(|a| a == c.addr().as_bytes())
            && self.laddr.is_none_or(|a| a == c.laddr().as_bytes())
            && !(self.skipme && c.id == me)
            && self.max_age.is_none_or(|m| now - c.connected_at >= m)
    }
}

/// `CLIENT KILL ip:port` or `CLIENT KILL <filter> <value> ...`
pub(super) fn kill(
    s: &mut Shared,
    conn: &mut RespConn,
    args: &Args<'_>,
    out: &mut ReplyBuf,
) -> CmdResult {
    let now = s.store.now_ms() / 1000;
    if args.len() == 3 {
        // The old form: one address, +OK or an error.
        let addr = args.get(2);
        let victim = s
            .clients
            .iter()
            .find(|c| c.addr().as_bytes() == addr)
            .map(|c| c.id);
        let Some(id) = victim else {
            return Err(CommandError::Static("ERR No such client"));
        };
        kill_one(s, conn, id);
        out.ok();
        return Ok(());
    }
    if args.len() % 2 == 1 {
        return Err(CommandError::Syntax);
    }
    let mut f = KillFilter {
        skipme: true,
        ..KillFilter::default()
    };
    for i in (2..args.len()).step_by(2) {
        let (opt, v) = (args.get(i), args.get(i + 1));
        if is(opt, "ID") {
            match cachegate_protocols::number::parse_i64(v) {
                Some(id) if id > 0 => f.id = Some(id as u64),
                _ => {
                    return Err(CommandError::Static(
                        "ERR client-id should be greater than 0",
                    ))
                }
            }
        } else if is(opt, "TYPE") {
            f.normal = Some(client_type(v)?);
        } else if is(opt, "USER") {
            if v != b"default" {
                return Err(CommandError::quoting(&[
                    b"ERR No such user '",
                    args::cstr(v),
                    b"'",
                ]));
            }
            f.user = Some(v);
        } else if is(opt, "ADDR") {
            f.addr = Some(v);
        } else if is(opt, "LADDR") {
            f.laddr = Some(v);
        } else if is(opt, "SKIPME") {
            f.skipme = if is(v, "YES") {
                true
            } else if is(v, "NO") {
                false
            } else {
                return Err(CommandError::Syntax);
            };
        } else if is(opt, "MAXAGE") {
            f.max_age = Some(args::int(v)?);
        } else {
            return Err(CommandError::Syntax);
        }
    }
    let victims: Vec<u64> = s
        .clients
        .iter()
        .filter(|c| f.matches(c, conn.id, now))
        .map(|c| c.id)
        .collect();
    for &id in &victims {
        kill_one(s, conn, id);
    }
    out.int(victims.len() as i64);
    Ok(())
}

/// Closes client `id`: the caller itself after this reply, any other through its mailbox.
/// Another client leaves the registry at once, as redis-server frees it at once: its task
/// closes the socket when it reads the kill, but nothing can see or reach it meanwhile.
fn kill_one(s: &mut Shared, conn: &mut RespConn, id: u64) {
    if id == conn.id {
        conn.close = Close::AfterReply;
        return;
    }
    s.store.unblock(id, UnblockReason::Gone);
    s.clients.post(id, Mail::Kill);
    s.clients.remove(id);
}

/// `CLIENT UNBLOCK client-id [TIMEOUT|ERROR]`
pub(super) fn unblock(
    s: &mut Shared,
    _conn: &mut RespConn,
    args: &Args<'_>,
    out: &mut ReplyBuf,
) -> CmdResult {
    let id = args::int(args.get(2))?;
    let reason = match args.len() {
        3 => UnblockReason::Timeout,
        4 if is(args.get(3), "TIMEOUT") => UnblockReason::Timeout,
        4 if is(args.get(3), "ERROR") => UnblockReason::Error,
        4 => {
            return Err(CommandError::Static(
                "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR",
            ))
        }
        _ => return Err(CommandError::subcommand_syntax(args)),
    };
    let reply = u64::try_from(id).ok().and_then(|id| {
        let reply = s.store.unblock(id, reason)?;
        s.clients.post(id, Mail::Reply(reply));
        Some(())
    });
    out.int(i64::from(reply.is_some()));
    Ok(())
}

/// `CLIENT PAUSE timeout [WRITE|ALL]`
pub(super) fn pause(
    s: &mut Shared,
    _conn: &mut RespConn,
    args: &Args<'_>,
    out: &mut ReplyBuf,
) -> CmdResult {
    let ms = cachegate_protocols::number::parse_i64(args.get(2)).ok_or(CommandError::Static(
        "ERR timeout is not an integer or out of range",
    ))?;
    if ms < 0 {
        return Err(CommandError::Static("ERR timeout is negative"));
    }
    let all = match args.len() {
        3 => true,
        4 if is(args.get(3), "ALL") => true,
        4 if is(args.get(3), "WRITE") => false,
        4 => {
            return Err(CommandError::Static(
                "ERR CLIENT PAUSE mode must be WRITE or ALL",
            ))
        }
        _ => return Err(CommandError::subcommand_syntax(args)),
    };
    let until_ms = s.store.now_ms().saturating_add(ms);
    // As redis-server's pauseClients: a pause in force keeps the later end and the stricter
    // mode of the two.
    let merged = match s.pause {
        Some(p) if p.until_ms > s.store.now_ms() => Pause {
            until_ms: p.until_ms.max(until_ms),
            all: p.all || all,
        },
        _ => Pause { until_ms, all },
    };
    s.pause = Some(merged);
    out.ok();
    Ok(())
}

/// `CLIENT UNPAUSE`
pub(super) fn unpause(
    s: &mut Shared,
    _conn: &mut RespConn,
    _a: &Args<'_>,
    out: &mut ReplyBuf,
) -> CmdResult {
    s.pause = None;
    for c in s.clients.iter() {
        c.mailbox.post(Mail::Unpause);
    }
    out.ok();
    Ok(())
}

/// `CLIENT NO-EVICT ON|OFF`
pub(super) fn no_evict(
    s: &mut Shared,
    conn: &mut RespConn,
    args: &Args<'_>,
    out: &mut ReplyBuf,
) -> CmdResult {
    let on = if is(args.get(2), "ON") {
        true
    } else if is(args.get(2), "OFF") {
        false
    } else {
        return Err(CommandError::Syntax);
    };
    if let Some(c) = s.clients.get_mut(conn.id) {
        c.no_evict = on;
    }
    out.ok();
    Ok(())
}

/// `CLIENT HELP`
pub(super) fn help_text(
    _s: &mut Shared,
    _conn: &mut RespConn,
    _a: &Args<'_>,
    out: &mut ReplyBuf,
) -> CmdResult {
    help(
        out,
        "CLIENT",
        &[
            "GETNAME",
            "    Return the name of the current connection.",
            "ID",
            "    Return the ID of the current connection.",
            "INFO",
            "    Return information about the current client connection.",
            "KILL <ip:port>",
            "    Close the connection made from <ip:port>.",
            "KILL <option> <value> [<option> <value> [...]]",
            "    Close the connections that match every option. Options are:",
            "    * ADDR (<ip:port>|<unixsocket>:0)",
            "      Connections made from this address.",
            "    * LADDR (<ip:port>|<unixsocket>:0)",
            "      Connections made to this local address.",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Connections of this type.",
            "    * USER <username>",
            "      Connections authenticated as <username>.",
            "    * SKIPME (YES|NO)",
            "      Spare the current connection (default: yes).",
            "    * MAXAGE <seconds>",
            "      Connections at least this old.",
            "LIST [options ...]",
            "    Return information about client connections. Options:",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Return clients of specified type.",
            "    * ID <client-id> [<client-id> ...]",
            "      Return clients with the given ids.",
            "UNPAUSE",
            "    End a pause started with CLIENT PAUSE.",
            "PAUSE <timeout> [WRITE|ALL]",
            "    Hold every command, or only writes, of all clients for <timeout> ms.",
            "SETNAME <name>",
            "    Assign the name <name> to the current connection.",
            "SETINFO <option> <value>",
            "    Set client meta attr. Options are:",
            "    * LIB-NAME: the client lib name.",
            "    * LIB-VER: the client lib version.",
            "UNBLOCK <clientid> [TIMEOUT|ERROR]",
            "    Unblock a client blocked in a blocking command.",
            "NO-EVICT (ON|OFF)",
            "    Protect the current connection from client eviction.",
        ],
    );
    Ok(())
}
