//! Redis commands: the command table, the dispatcher, and the handlers by family.
//!
//! A command's facts (name, arity, flags, key specs, docs, see [`spec::CommandSpec`]) are
//! generated into `table/` from redis-server 7.0.15 itself; its handler is registered, one
//! line, at the end of its family module. [`CommandTable`] (in [`registry`]) joins the two,
//! indexes the registered commands by name and keeps each one's runtime statistics beside it
//! (`INFO commandstats`). [`Store::execute`]
//! does what redis-server's `processCommand` does before calling a handler — the security
//! check, lookup (`unknown command`), subcommand lookup, arity — then runs the handler and
//! counts the outcome.
//!
//! Handlers have the signature of [`spec::StoreFn`]: they read arguments, work on the store
//! through [`Ctx`], and write their reply with [`ReplyBuf`], whose methods say what a reply is
//! (a null, a map) and render it for RESP2 or RESP3. On failure a handler returns a
//! [`CommandError`] *before* writing anything; the dispatcher renders it with redis-server's
//! exact text. Writing replies directly rather than returning a reply tree keeps a GET free of
//! allocation.
//!
//! Families: [`string`] (t_string), [`keys`] (generic key commands), [`db`] (databases),
//! [`conn`] (PING, ECHO, TIME), [`introspect`] (COMMAND), [`bitmap`] and [`bitfield`]
//! (bitops), [`hyperloglog`], [`set`] and [`setops`] (t_set). Commands needing the server itself
//! (INFO, CONFIG, CLIENT, HELLO…) are marked [`spec::Handler::Server`] here (see
//! [`registry::SERVER_COMMANDS`]) and executed by the server, which owns connections and
//! configuration and registers its own functions for them.

pub mod args;
pub mod bitfield;
pub mod bitmap;
pub mod conn;
pub mod db;
pub mod geo;
pub mod hash;
pub mod hyperloglog;
pub mod introspect;
pub mod keys;
pub mod latency;
pub mod list;
pub mod registry;
pub mod scan;
pub mod set;
pub mod setops;
pub mod sort;
pub mod spec;
pub mod stream;
pub mod string;
pub mod table;
pub mod zset;

use std::borrow::Cow;

use cachegate_protocols::resp::request::Args;
use cachegate_protocols::resp::ReplyBuf;

use crate::blocking::{write_timeout_reply, BlockOn, Parked};
use crate::keyspace::entry::{Entry, Kind, ValueType};
use crate::keyspace::{lru_clock, Db, Lookup, Slot, ValueGuard};
use crate::Store;
use spec::Handler;

pub use registry::{CommandId, CommandStats, CommandTable, LookupError, TableEntry};

/// Why a command failed; rendered with redis-server's text by [`CommandError::message`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandError {
    /// `ERR syntax error`
    Syntax,
    /// `WRONGTYPE Operation against a key holding the wrong kind of value`
    WrongType,
    /// `ERR value is not an integer or out of range`
    NotInteger,
    /// `ERR value is not a valid float`
    NotFloat,
    /// `ERR no such key`
    NoSuchKey,
    /// `ERR source and destination objects are the same`
    SameObject,
    /// `ERR DB index is out of range`
    DbIndexOutOfRange,
    /// `ERR invalid expire time in '<command>' command`
    InvalidExpireTime(&'static str),
    /// `ERR wrong number of arguments for '<command>' command`
    WrongArity(String),
    /// A fixed message, code included (`ERR …`).
    Static(&'static str),
    /// A formatted message, code included; CR/LF are made safe when it is written.
    Owned(String),
    /// A formatted message that quotes request bytes (code included). Kept as bytes because
    /// redis-server echoes arguments as sent, even when they are not UTF-8.
    Bytes(Vec<u8>),
}

impl CommandError {
    /// The reply text without the leading `-`.
    pub fn message(&self) -> Cow<'static, str> {
        match self {
            CommandError::Syntax => "ERR syntax error".into(),
            CommandError::WrongType => {
                "WRONGTYPE Operation against a key holding the wrong kind of value".into()
            }
            CommandError::NotInteger => "ERR value is not an integer or out of range".into(),
            CommandError::NotFloat => "ERR value is not a valid float".into(),
            CommandError::NoSuchKey => "ERR no such key".into(),
            CommandError::SameObject => "ERR source and destination objects are the same".into(),
            CommandError::DbIndexOutOfRange => "ERR DB index is out of range".into(),
            CommandError::InvalidExpireTime(cmd) => {
                format!("ERR invalid expire time in '{cmd}' command").into()
            }
            CommandError::WrongArity(cmd) => {
                format!("ERR wrong number of arguments for '{cmd}' command").into()
            }
            CommandError::Static(s) => (*s).into(),
            CommandError::Owned(s) => s.clone().into(),
            CommandError::Bytes(b) => String::from_utf8_lossy(b).into_owned().into(),
        }
    }

    /// The reply text without the leading `-`, byte for byte as it is sent.
    pub fn message_bytes(&self) -> Cow<'static, [u8]> {
        match self {
            CommandError::Bytes(b) => b.clone().into(),
            other => match other.message() {
                Cow::Borrowed(s) => Cow::Borrowed(s.as_bytes()),
                Cow::Owned(s) => Cow::Owned(s.into_bytes()),
            },
        }
    }

    /// redis-server's `addReplySubcommandSyntaxError`: a container's subcommand called with
    /// arguments it does not take (the subcommand quoted as sent, the container upper-cased).
    pub fn subcommand_syntax(args: &Args<'_>) -> CommandError {
        let sub = args::cstr(args.get(1));
        let container = args::cstr(args.get(0)).to_ascii_uppercase();
        CommandError::quoting(&[
            b"ERR unknown subcommand or wrong number of arguments for '",
            &sub[..sub.len().min(128)],
            b"'. Try ",
            &container,
            b" HELP.",
        ])
    }

    /// Builds a [`CommandError::Bytes`] from pieces of text and request bytes.
    pub fn quoting(parts: &[&[u8]]) -> CommandError {
        CommandError::Bytes(parts.concat())
    }

    /// Writes this error as a reply.
    pub fn write(&self, out: &mut ReplyBuf) {
        out.error_sanitized(&self.message_bytes());
    }
}

/// Shorthand for handler results.
pub type CmdResult = Result<(), CommandError>;

/// Per-connection state the store needs.
#[derive(Debug, Default, Clone)]
pub struct Session {
    /// The selected database.
    pub db: usize,
    /// The connection's CLIENT ID (0 for in-process callers).
    pub client_id: u64,
    /// Blocking commands answer at once, as if timed out (inside MULTI, scripts).
    pub deny_blocking: bool,
}

/// What a handler works with: the store and the calling connection's session.
pub struct Ctx<'a> {
    /// The store.
    pub store: &'a mut Store,
    /// The calling connection.
    pub session: &'a mut Session,
}

impl Ctx<'_> {
    /// The time of the current batch, Unix ms.
    pub fn now(&self) -> i64 {
        self.store.now
    }

    /// The LRU clock of the current batch.
    pub fn lru(&self) -> u32 {
        lru_clock(self.store.now)
    }

    /// The selected database.
    pub fn db(&mut self) -> &mut Db {
        self.store.keyspace.db_mut(self.session.db)
    }

    /// Looks `key` up for reading: lazy expiry, hit/miss statistics, LRU update.
    pub fn lookup_read(&mut self, key: &[u8]) -> Option<Slot> {
        let lru = self.lru();
        self.lookup_read_in(self.session.db, key, true, lru)
    }

    /// Like [`Ctx::lookup_read`] but without updating the LRU clock (TTL, TYPE, EXISTS).
    pub fn lookup_read_notouch(&mut self, key: &[u8]) -> Option<Slot> {
        let lru = self.lru();
        self.lookup_read_in(self.session.db, key, false, lru)
    }

    /// Looks `key` up in database `db`; an expired key is deleted, emitted as `DEL` and
    /// signalled, as redis-server's `expireIfNeeded` does.
    fn lookup_in(&mut self, db: usize, key: &[u8]) -> Lookup {
        let now = self.store.now;
        let store = &mut *self.store;
        let (found, expired) =
            store
                .keyspace
                .db_mut(db)
                .lookup_expiring(key, now, &mut store.stats);
        if expired {
            store.key_expired(db, key);
        }
        found
    }

    fn lookup_read_in(&mut self, db: usize, key: &[u8], touch: bool, lru: u32) -> Option<Slot> {
        match self.lookup_in(db, key) {
            Lookup::Found(slot) => {
                self.store.stats.keyspace_hits += 1;
                if touch {
                    self.store.keyspace.db_mut(db).touch(slot, lru);
                }
                Some(slot)
            }
            Lookup::Missing(_) => {
                self.store.stats.keyspace_misses += 1;
                None
            }
        }
    }

    /// Looks `key` up for writing: lazy expiry and LRU update, no hit/miss statistics.
    pub fn lookup_write(&mut self, key: &[u8]) -> Lookup {
        let db = self.session.db;
        self.lookup_write_in(db, key)
    }

    /// [`Ctx::lookup_write`] in database `db`.
    pub fn lookup_write_in(&mut self, db: usize, key: &[u8]) -> Lookup {
        let lru = self.lru();
        let found = self.lookup_in(db, key);
        if let Lookup::Found(slot) = found {
            self.store.keyspace.db_mut(db).touch(slot, lru);
        }
        found
    }

    /// Deletes `key` if its TTL has passed, without counting a hit or a miss or touching its
    /// LRU clock (redis-server's `expireIfNeeded`, which SCAN and RANDOMKEY use). Returns
    /// true if it was expired (and is now gone); false if it is live or absent.
    pub fn expire_if_needed(&mut self, key: &[u8]) -> bool {
        let db = self.session.db;
        let existed = matches!(self.store.keyspace.db(db).find(key), Lookup::Found(_));
        existed && matches!(self.lookup_in(db, key), Lookup::Missing(_))
    }

    /// Reads the collection of type `T` at `key` (lookup for reading: hits, misses, LRU):
    /// `Ok(None)` if the key is missing, WRONGTYPE if it holds another type.
    pub fn read<T: Kind>(&mut self, key: &[u8]) -> Result<Option<T::Ref<'_>>, CommandError> {
        let Some(slot) = self.lookup_read(key) else {
            return Ok(None);
        };
        let db = self.store.keyspace.db(self.session.db);
        match db.get(slot).collection::<T>() {
            Some(v) => Ok(Some(v)),
            None => Err(CommandError::WrongType),
        }
    }

    /// Edits the collection of type `T` at `key` (lookup for writing): `Ok(None)` if the key
    /// is missing, WRONGTYPE if it holds another type. The guard deletes the key if the
    /// collection is left empty.
    pub fn edit<T: Kind>(&mut self, key: &[u8]) -> Result<Option<ValueGuard<'_, T>>, CommandError> {
        let Lookup::Found(slot) = self.lookup_write(key) else {
            return Ok(None);
        };
        let db = self.store.keyspace.db_mut(self.session.db);
        db.edit::<T>(slot).map(Some).ok_or(CommandError::WrongType)
    }

    /// Like [`Ctx::edit`], creating an empty `T` if the key is missing (the guard deletes it
    /// again if the command leaves it empty).
    pub fn edit_or_create<T: Kind + Default>(
        &mut self,
        key: &[u8],
    ) -> Result<ValueGuard<'_, T>, CommandError> {
        let lru = self.lru();
        let slot = match self.lookup_write(key) {
            Lookup::Found(slot) => slot,
            Lookup::Missing(hash) => {
                let entry = Entry::new_value(key, T::default(), None, lru);
                self.db().add_and_locate(hash, entry)
            }
        };
        let db = self.store.keyspace.db_mut(self.session.db);
        db.edit::<T>(slot).ok_or(CommandError::WrongType)
    }

    /// The type of the value at `key` without counting a lookup or touching it (for the
    /// WRONGTYPE checks commands make before writing), or `None` if missing.
    pub fn type_of(&mut self, key: &[u8]) -> Option<ValueType> {
        let db = self.session.db;
        match self.lookup_in(db, key) {
            Lookup::Found(slot) => Some(self.store.keyspace.db(db).get(slot).value_type()),
            Lookup::Missing(_) => None,
        }
    }

    /// Counts `n` changes to the keyspace (`dirty`).
    pub fn dirty(&mut self, n: u64) {
        self.store.writes.add_dirty(n);
    }

    /// Signals that `key` in the selected database was modified.
    pub fn signal(&mut self, key: &[u8]) {
        let db = self.session.db;
        self.store.signal_modified(db, key);
    }

    /// One change to `key` in the selected database: counts dirty and signals it.
    pub fn modified(&mut self, key: &[u8]) {
        self.dirty(1);
        self.signal(key);
    }

    /// Gives (one command of) the replayable form of the command running, in place of the
    /// command as sent (see [`crate::writes`]).
    pub fn propagate(&mut self, argv: &[&[u8]]) {
        self.store.writes.propagate(argv);
    }

    /// A blocking command found nothing to serve: park the client on `on` (see
    /// [`crate::blocking`]). Write nothing and return `Ok` after calling this. Where
    /// blocking is not allowed (MULTI, scripts) the timeout reply is written at once.
    pub fn block(&mut self, on: BlockOn, out: &mut ReplyBuf) {
        if self.session.deny_blocking {
            write_timeout_reply(on.timeout_reply, out);
            return;
        }
        self.store.pending_block = Some(on);
    }

    /// True while a blocked client's command is retried because its key became ready.
    pub fn retrying(&self) -> bool {
        self.store.retrying
    }

    /// The `proto-max-bulk-len` limit strings may grow to.
    pub fn max_string_len(&self) -> usize {
        self.store.limits.proto_max_bulk_len
    }
}

/// What [`Store::execute`] did with a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Executed (or rejected); the reply is written.
    Done,
    /// A command marked [`Handler::Server`]: the caller executes it, then calls
    /// [`Store::record_server_call`].
    Server(CommandId),
    /// A request that looks like HTTP (`POST`, `Host:`): close the connection without a
    /// reply, as redis-server does against cross-protocol attacks.
    Close,
    /// A blocking command parked the client (nothing written): the connection waits on its
    /// mailbox until this deadline (Unix ms), if any, then calls [`Store::unblock`].
    Blocked {
        /// When the command times out.
        deadline: Option<i64>,
    },
}

/// Formats redis-server's unknown-command error: the name and the first arguments, each cut
/// at a NUL byte as C strings are, within 128 bytes, quoted as sent (not necessarily UTF-8).
fn unknown_command_error(args: &Args<'_>) -> CommandError {
    let mut listed: Vec<u8> = Vec::new();
    for arg in args.iter().skip(1) {
        if listed.len() >= 128 {
            break;
        }
        let room = 128 - listed.len();
        let arg = args::cstr(arg);
        listed.push(b'\'');
        listed.extend_from_slice(&arg[..arg.len().min(room)]);
        listed.extend_from_slice(b"' ");
    }
    let name = args::cstr(args.get(0));
    let name = &name[..name.len().min(128)];
    CommandError::quoting(&[
        b"ERR unknown command '",
        name,
        b"', with args beginning with: ",
        &listed,
    ])
}

impl Store {
    /// Runs one command line, writing its reply to `out` — except server commands, which are
    /// returned for the caller to run.
    pub fn execute(
        &mut self,
        session: &mut Session,
        args: &Args<'_>,
        out: &mut ReplyBuf,
    ) -> Outcome {
        // redis-server compares with strcasecmp, so a NUL ends the name: "post\0x" is POST.
        let name = args::cstr(args.get(0));
        if name.eq_ignore_ascii_case(b"host:") || name.eq_ignore_ascii_case(b"post") {
            return Outcome::Close;
        }
        self.last_call = None;
        let id = match self.commands.resolve(args) {
            Ok(id) => id,
            Err(LookupError::Unknown) => {
                self.reject(None, unknown_command_error(args), out);
                return Outcome::Done;
            }
            Err(LookupError::UnknownSubcommand(parent)) => {
                let sub = args::cstr(args.get(1));
                let sub = &sub[..sub.len().min(128)];
                let container = self.commands.spec(parent).name.to_ascii_uppercase();
                let err = CommandError::quoting(&[
                    b"ERR unknown subcommand '",
                    sub,
                    b"'. Try ",
                    container.as_bytes(),
                    b" HELP.",
                ]);
                self.reject(None, err, out);
                return Outcome::Done;
            }
        };
        self.last_call = Some(id);
        let spec = self.commands.spec(id);
        if !spec.arity_ok(args.len()) {
            let err = CommandError::WrongArity(self.commands.entry(id).full_name.clone());
            self.reject(Some(id), err, out);
            return Outcome::Done;
        }
        match self.commands.handler(id) {
            Handler::Store(f) => {
                let mark = out.len();
                let db = session.db;
                self.writes.begin_call();
                let result = f(
                    &mut Ctx {
                        store: self,
                        session,
                    },
                    args,
                    out,
                );
                self.writes.end_call(db, args);
                if let Some(on) = self.pending_block.take() {
                    debug_assert_eq!(out.len(), mark, "a handler that blocks writes nothing");
                    debug_assert!(result.is_ok());
                    let deadline = on.deadline;
                    if !self.retrying {
                        self.blocking.park(
                            session.client_id,
                            Parked {
                                session: session.clone(),
                                argv: on.retry_argv.unwrap_or_else(|| args.to_vecs()),
                                keys: on.keys,
                                kind: on.kind,
                                version: out.version(),
                                deadline,
                                timeout_reply: on.timeout_reply,
                            },
                        );
                    }
                    // Counted when it completes, as redis-server counts blocked commands.
                    return Outcome::Blocked { deadline };
                }
                self.finish_call(id, result, mark, out);
                Outcome::Done
            }
            Handler::Server => Outcome::Server(id),
            // A container called without a subcommand fails its arity check above.
            Handler::Container => {
                let err = CommandError::WrongArity(self.commands.entry(id).full_name.clone());
                self.reject(Some(id), err, out);
                Outcome::Done
            }
        }
    }

    fn finish_call(&mut self, id: CommandId, result: CmdResult, mark: usize, out: &mut ReplyBuf) {
        self.stats.total_commands_processed += 1;
        self.batch_calls.push(id);
        let stats = self.commands.stats_mut(id);
        stats.calls += 1;
        if let Err(e) = result {
            debug_assert_eq!(out.len(), mark, "handler wrote a reply before failing");
            out.truncate(mark);
            self.commands.stats_mut(id).failed_calls += 1;
            self.stats.count_error(&e.message_bytes());
            e.write(out);
        }
    }

    /// Records the result of a server command returned by [`Store::execute`]; `error` is the
    /// error reply it sent, if any.
    pub fn record_server_call(&mut self, id: CommandId, error: Option<&[u8]>) {
        self.stats.total_commands_processed += 1;
        self.batch_calls.push(id);
        let stats = self.commands.stats_mut(id);
        stats.calls += 1;
        if let Some(msg) = error {
            stats.failed_calls += 1;
            self.stats.count_error(msg);
        }
    }

    /// Sends an error for a command refused before it ran.
    pub fn reject(&mut self, id: Option<CommandId>, err: CommandError, out: &mut ReplyBuf) {
        if let Some(id) = id {
            self.commands.stats_mut(id).rejected_calls += 1;
        }
        self.stats.count_error(&err.message_bytes());
        err.write(out);
    }

    /// Counts an error reply sent outside a command (e.g. a protocol error).
    pub fn count_error_reply(&mut self, msg: &[u8]) {
        self.stats.count_error(msg);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use cachegate_protocols::resp::request::lay_out;
    use cachegate_protocols::resp::ProtocolVersion;

    fn outcome(argv: &[&[u8]]) -> Outcome {
        let (base, spans) = lay_out(argv);
        let mut store = Store::new(16, Box::new(ManualClock::new(0)));
        let mut out = ReplyBuf::new(ProtocolVersion::Resp2);
        store.execute(&mut Session::default(), &Args::new(&base, &spans), &mut out)
    }

    #[test]
    fn http_looking_requests_close_the_connection() {
        assert_eq!(outcome(&[b"POST", b"/"]), Outcome::Close);
        assert_eq!(outcome(&[b"Host:", b"x"]), Outcome::Close);
        // The name is a C string to redis-server: a NUL ends it.
        assert_eq!(outcome(&[b"post\0x"]), Outcome::Close);
        assert_eq!(outcome(&[b"posts"]), Outcome::Done);
    }
}
