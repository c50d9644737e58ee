//! Redis commands that need the server rather than the keyspace: QUIT, HELLO, AUTH, RESET,
//! INFO, SHUTDOWN, CONFIG and CLIENT. Their facts (arity, flags, docs) are in the storage
//! crate's command table like every other command's, which marks them as executed by the
//! server; this module registers a function for each by name ([`HANDLERS`]) and runs them
//! with access to connections and configuration.
//!
//! Authentication: no password can be configured yet, so every connection is authenticated as
//! the `default` user with no password, and AUTH/HELLO AUTH answer as redis-server does in
//! that state.

use cachegate_config::redis_params;
use cachegate_protocols::resp::request::Args;
use cachegate_protocols::resp::{ProtocolVersion, ReplyBuf};
use cachegate_storage::command::args::{self, is};
use cachegate_storage::command::conn::help;
use cachegate_storage::command::spec::Handler;
use cachegate_storage::command::{CmdResult, CommandError, CommandId, CommandTable, Session};

use super::resp::{Close, RespConn};
use crate::clients::valid_name;
use crate::engine::{Shared, ShutdownRequest};
use crate::info;

const WRONGPASS: CommandError =
    CommandError::Static("WRONGPASS invalid username-password pair or user is disabled.");
const BAD_NAME: CommandError =
    CommandError::Static("ERR Client names cannot contain spaces, newlines or special characters.");

/// A server command's implementation; on `Err` nothing has been written and the caller
/// renders the error.
pub type ServerFn = fn(&mut Shared, &mut RespConn, &Args<'_>, &mut ReplyBuf) -> CmdResult;

/// The commands the storage crate marks as executed by the server, by name
/// (`container|sub` for subcommands). [`ServerHandlers::new`] checks at startup that this
/// list and the storage crate's agree.
pub const HANDLERS: &[(&str, ServerFn)] = &[
    ("quit", quit),
    ("hello", hello),
    ("auth", auth),
    ("reset", reset),
    ("info", info),
    ("shutdown", shutdown),
    ("config|get", config_get),
    ("config|set", config_set),
    ("config|resetstat", config_resetstat),
    ("config|help", config_help),
    ("client|id", client_id),
    ("client|setname", client_setname),
    ("client|getname", client_getname),
    ("client|list", client_list),
    ("client|info", client_info),
    ("client|setinfo", client_setinfo),
    ("client|help", client_help),
];

/// [`HANDLERS`] indexed by [`CommandId`], built once at startup: finding a server command's
/// function is one index into a `Vec`.
pub struct ServerHandlers(Vec<Option<ServerFn>>);

impl ServerHandlers {
    /// Resolves [`HANDLERS`] against `table`. Fails, naming them, if a name is not a command
    /// the storage crate marks as executed by the server, or if such a command has no
    /// function here.
    pub fn new(table: &CommandTable) -> Result<Self, String> {
        let mut by_id: Vec<Option<ServerFn>> = vec![None; table.iter().count()];
        let mut problems = Vec::new();
        for (name, f) in HANDLERS {
            match table.find_full(name.as_bytes()) {
                Some(id) if matches!(table.handler(id), Handler::Server) => by_id[id.0] = Some(*f),
                Some(_) => problems.push(format!("{name} is not a server command")),
                None => problems.push(format!("{name} is not a command")),
            }
        }
        for (id, e) in table.iter() {
            if matches!(e.handler, Handler::Server) && by_id[id.0].is_none() {
                problems.push(format!("{} has no server handler", e.full_name));
            }
        }
        if problems.is_empty() {
            Ok(ServerHandlers(by_id))
        } else {
            Err(format!("server commands: {}", problems.join(", ")))
        }
    }

    /// The function of server command `id`.
    pub fn get(&self, id: CommandId) -> Option<ServerFn> {
        self.0.get(id.0).copied().flatten()
    }
}

/// Runs server command `id` (as [`Outcome::Server`] returned it).
///
/// [`Outcome::Server`]: cachegate_storage::command::Outcome::Server
pub fn run(
    s: &mut Shared,
    conn: &mut RespConn,
    id: CommandId,
    args: &Args<'_>,
    out: &mut ReplyBuf,
) -> CmdResult {
    // `ServerHandlers::new` refused to start the server if any were missing.
    let f = s.server_commands.get(id).ok_or(CommandError::Static(
        "ERR this server command is not available",
    ))?;
    f(s, conn, args, out)
}

/// `QUIT`
fn quit(_s: &mut Shared, conn: &mut RespConn, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    out.ok();
    conn.close = Close::AfterReply;
    Ok(())
}

/// `RESET`
fn reset(s: &mut Shared, conn: &mut RespConn, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    // The connection keeps its client id: blocked-client wake-ups and timeouts find it by id.
    conn.session = Session {
        client_id: conn.session.client_id,
        ..Session::default()
    };
    out.set_version(ProtocolVersion::Resp2);
    if let Some(c) = s.clients.get_mut(conn.id) {
        c.name.clear();
        c.db = 0;
        c.resp = 2;
    }
    out.simple(b"RESET");
    Ok(())
}

/// `INFO [section ...]`
fn info(s: &mut Shared, _conn: &mut RespConn, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let sel = info::Selection::parse(args.iter().skip(1));
    let text = info::render(s, &sel, s.tcp_port);
    out.verbatim(b"txt", text.as_bytes());
    Ok(())
}

/// `CONFIG GET parameter [parameter ...]`
fn config_get(
    s: &mut Shared,
    _conn: &mut RespConn,
    args: &Args<'_>,
    out: &mut ReplyBuf,
) -> CmdResult {
    let patterns: Vec<&[u8]> = args.iter().skip(2).collect();
    let found = redis_params::get_many(&s.config, &patterns);
    out.map(found.len());
    for (name, value) in found {
        out.bulk(name);
        out.bulk(value.as_bytes());
    }
    Ok(())
}

/// `CONFIG RESETSTAT`
fn config_resetstat(
    s: &mut Shared,
    _conn: &mut RespConn,
    _args: &Args<'_>,
    out: &mut ReplyBuf,
) -> CmdResult {
    s.store.stats.reset();
    s.store.commands.reset_stats();
    s.counters = Default::default();
    out.ok();
    Ok(())
}

/// `CONFIG HELP`
fn config_help(
    _s: &mut Shared,
    _conn: &mut RespConn,
    _args: &Args<'_>,
    out: &mut ReplyBuf,
) -> CmdResult {
    help(
        out,
        "CONFIG",
        &[
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
        ],
    );
    Ok(())
}

/// `CLIENT ID`
fn client_id(
    _s: &mut Shared,
    conn: &mut RespConn,
    _args: &Args<'_>,
    out: &mut ReplyBuf,
) -> CmdResult {
    out.int(conn.id as i64);
    Ok(())
}

/// `CLIENT GETNAME`
fn client_getname(
    s: &mut Shared,
    conn: &mut RespConn,
    _args: &Args<'_>,
    out: &mut ReplyBuf,
) -> CmdResult {
    match s.clients.get(conn.id) {
        Some(c) if !c.name.is_empty() => out.bulk(&c.name),
        _ => out.null(),
    }
    Ok(())
}

/// `CLIENT SETNAME connection-name`
fn client_setname(
    s: &mut Shared,
    conn: &mut RespConn,
    args: &Args<'_>,
    out: &mut ReplyBuf,
) -> CmdResult {
    set_name(s, conn.id, args.get(2))?;
    out.ok();
    Ok(())
}

/// `CLIENT INFO`
fn client_info(
    s: &mut Shared,
    conn: &mut RespConn,
    _args: &Args<'_>,
    out: &mut ReplyBuf,
) -> CmdResult {
    refresh_self(s, conn, out);
    let now = s.store.now_ms() / 1000;
    let mut line = s
        .clients
        .get(conn.id)
        .map(|c| c.line(now))
        .unwrap_or_default();
    line.push('\n');
    out.verbatim(b"txt", line.as_bytes());
    Ok(())
}

/// `CLIENT HELP`
fn client_help(
    _s: &mut Shared,
    _conn: &mut RespConn,
    _args: &Args<'_>,
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
            "LIST [options ...]",
            "    Return information about client connections. Options:",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Return clients of specified type.",
            "    * ID <client-id> [<client-id> ...]",
            "      Return clients with the given ids.",
            "SETNAME <name>",
            "    Assign the name <name> to the current connection.",
            "SETINFO <option> <value>",
            "    Set client meta attr. Options are:",
            "    * LIB-NAME: the client lib name.",
            "    * LIB-VER: the client lib version.",
        ],
    );
    Ok(())
}

/// Brings the caller's registry entry up to date before it is reported on.
fn refresh_self(s: &mut Shared, conn: &RespConn, out: &ReplyBuf) {
    let name = s
        .store
        .last_command()
        .map(|id| s.store.commands.entry(id).full_name.clone());
    if let Some(c) = s.clients.get_mut(conn.id) {
        c.db = conn.session.db;
        c.resp = out.version().number();
        if let Some(n) = name {
            c.last_cmd = n;
        }
    }
}

fn set_name(s: &mut Shared, id: u64, name: &[u8]) -> CmdResult {
    if !valid_name(name) {
        return Err(BAD_NAME);
    }
    if let Some(c) = s.clients.get_mut(id) {
        c.name = name.to_vec();
    }
    Ok(())
}

/// `HELLO [protover [AUTH username password] [SETNAME clientname]]`
fn hello(s: &mut Shared, conn: &mut RespConn, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let mut version = None;
    let mut next = 1;
    if args.len() >= 2 {
        let v = cachegate_protocols::number::parse_i64(args.get(1)).ok_or(CommandError::Static(
            "ERR Protocol version is not an integer or out of range",
        ))?;
        if !(2..=3).contains(&v) {
            return Err(CommandError::Static("NOPROTO unsupported protocol version"));
        }
        version = Some(v);
        next = 2;
    }
    let mut j = next;
    while j < args.len() {
        let more = args.len() - 1 - j;
        let opt = args.get(j);
        if is(opt, "AUTH") && more >= 2 {
            if !authenticate(args.get(j + 1)) {
                return Err(WRONGPASS);
            }
            j += 2;
        } else if is(opt, "SETNAME") && more >= 1 {
            set_name(s, conn.id, args.get(j + 1))?;
            j += 1;
        } else {
            return Err(CommandError::quoting(&[
                b"ERR Syntax error in HELLO option '",
                args::cstr(opt),
                b"'",
            ]));
        }
        j += 1;
    }
    if let Some(v) = version {
        out.set_version(if v == 3 {
            ProtocolVersion::Resp3
        } else {
            ProtocolVersion::Resp2
        });
    }
    out.map(7);
    out.bulk(b"server");
    out.bulk(b"redis");
    out.bulk(b"version");
    out.bulk(crate::REDIS_VERSION.as_bytes());
    out.bulk(b"proto");
    out.int(out.version().number());
    out.bulk(b"id");
    out.int(conn.id as i64);
    out.bulk(b"mode");
    out.bulk(b"standalone");
    out.bulk(b"role");
    out.bulk(b"master");
    out.bulk(b"modules");
    out.array(0);
    Ok(())
}

/// With no users or passwords configured, only `default` exists and takes any password.
fn authenticate(user: &[u8]) -> bool {
    user == b"default"
}

/// `AUTH [username] password`
fn auth(_s: &mut Shared, _conn: &mut RespConn, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    match args.len() {
        2 => Err(CommandError::Static(
            "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
        )),
        3 if authenticate(args.get(1)) => {
            out.ok();
            Ok(())
        }
        3 => Err(WRONGPASS),
        _ => Err(CommandError::Syntax),
    }
}

/// `SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]`
fn shutdown(
    s: &mut Shared,
    conn: &mut RespConn,
    args: &Args<'_>,
    _out: &mut ReplyBuf,
) -> CmdResult {
    let (mut save, mut nosave, mut abort) = (false, false, false);
    for opt in args.iter().skip(1) {
        if is(opt, "NOSAVE") {
            nosave = true;
        } else if is(opt, "SAVE") {
            save = true;
        } else if is(opt, "NOW") || is(opt, "FORCE") {
        } else if is(opt, "ABORT") {
            abort = true;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    if (abort && args.len() != 2) || (save && nosave) {
        return Err(CommandError::Syntax);
    }
    if abort {
        return Err(CommandError::Static("ERR No shutdown in progress."));
    }
    if save {
        // There is no persistence to save to yet.
        return Err(CommandError::Static(
            "ERR Errors trying to SHUTDOWN. Check logs.",
        ));
    }
    tracing::warn!("user requested shutdown");
    s.shutdown = Some(ShutdownRequest::Now);
    conn.close = Close::Now;
    Ok(())
}

/// `CONFIG SET parameter value [parameter value ...]`
fn config_set(
    s: &mut Shared,
    _conn: &mut RespConn,
    args: &Args<'_>,
    out: &mut ReplyBuf,
) -> CmdResult {
    if args.len() % 2 == 1 {
        return Err(CommandError::Syntax);
    }
    let pairs: Vec<(&[u8], &[u8])> = (2..args.len())
        .step_by(2)
        .map(|i| (args.get(i), args.get(i + 1)))
        .collect();
    let before = s.config.clone();
    let changed =
        redis_params::set(&mut s.config, &pairs).map_err(|e| CommandError::Bytes(e.message()))?;
    if changed.iter().any(|n| *n == "port" || *n == "bind") {
        if let Some(rebind) = s.rebind.as_mut() {
            if let Err(reason) = rebind(&s.config) {
                let name = if changed.contains(&"port") {
                    "port"
                } else {
                    "bind"
                };
                s.config = before;
                let e = redis_params::ConfigSetError::ApplyFailed {
                    name,
                    reason: reason.into(),
                };
                return Err(CommandError::Bytes(e.message()));
            }
        }
    }
    s.tunables.update(&s.config);
    crate::server::configure_store(&mut s.store, &s.config);
    out.ok();
    Ok(())
}

/// `CLIENT SETINFO LIB-NAME name | LIB-VER version` (Redis 7.2's, which clients send on
/// connect).
fn client_setinfo(
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
        if is_name {
            c.lib_name = value.to_vec();
        } else {
            c.lib_ver = value.to_vec();
        }
    }
    out.ok();
    Ok(())
}

/// `CLIENT LIST [TYPE NORMAL|MASTER|REPLICA|PUBSUB] [ID client-id ...]`
fn client_list(
    s: &mut Shared,
    conn: &mut RespConn,
    args: &Args<'_>,
    out: &mut ReplyBuf,
) -> CmdResult {
    refresh_self(s, conn, out);
    let now = s.store.now_ms() / 1000;
    let mut text = String::new();
    if args.len() == 4 && is(args.get(2), "TYPE") {
        let t = args.get(3);
        let known = ["normal", "master", "replica", "slave", "pubsub"];
        if !known.iter().any(|k| is(t, k)) {
            return Err(CommandError::quoting(&[
                b"ERR Unknown client type '",
                args::cstr(t),
                b"'",
            ]));
        }
        if is(t, "normal") {
            for c in s.clients.iter() {
                text.push_str(&c.line(now));
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
                text.push_str(&c.line(now));
                text.push('\n');
            }
        }
    } else if args.len() != 2 {
        return Err(CommandError::Syntax);
    } else {
        for c in s.clients.iter() {
            text.push_str(&c.line(now));
            text.push('\n');
        }
    }
    out.verbatim(b"txt", text.as_bytes());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_server_command_has_a_handler() {
        let table = CommandTable::new();
        let handlers = ServerHandlers::new(&table).expect("handlers match the table");
        let id = table.find_full(b"config|get").expect("config|get");
        assert!(handlers.get(id).is_some());
        let get = table.find(b"get").expect("get");
        assert!(handlers.get(get).is_none());
    }
}
