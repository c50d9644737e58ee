//! Clients blocked on keys (BLPOP, BZPOPMIN, XREAD BLOCK …): who waits on what, and serving
//! them when a write makes their keys ready (redis-server's blocked.c, DESIGN decision 15).
//!
//! A blocking command that finds nothing to serve calls [`crate::command::Ctx::block`]; the
//! dispatcher then parks the client here (its command line, its session, the keys, the type
//! that can serve it, its deadline) and answers [`crate::command::Outcome::Blocked`]: the
//! connection writes nothing and waits on its mailbox.
//!
//! Every `signal_modified` of a key someone waits on marks it ready. After each command
//! the server calls [`crate::Store::serve_blocked`]: for each ready key, in the order keys
//! became ready, the clients blocked on it are retried first-blocked first — their command
//! runs again as they sent it, under the same lock as the write that readied the key, so
//! ordering is Redis's `handleClientsBlockedOnKeys`. A retry that still finds nothing keeps
//! its place in the queue. A key that now holds another type than the one the client waits
//! for does not serve it (redis-server 7.0 leaves such a client blocked). Replies, and the
//! commands' replayable forms, are produced there; the server delivers each reply through
//! the client's mailbox.
//!
//! Timeouts are the connection's: it knows its deadline and calls [`crate::Store::unblock`],
//! as CLIENT UNBLOCK and a disconnect do.

use std::collections::{HashMap, HashSet, VecDeque};

use cachegate_protocols::resp::request::{lay_out, Args};
use cachegate_protocols::resp::{ProtocolVersion, ReplyBuf};

use crate::command::{CommandError, Outcome, Session};
use crate::keyspace::entry::ValueType;
use crate::keyspace::Lookup;
use crate::Store;

/// The error CLIENT UNBLOCK … ERROR answers.
pub const UNBLOCKED_ERROR: &str = "UNBLOCKED client unblocked via CLIENT UNBLOCK";

/// A blocking command's timeout in seconds (fractions allowed; `0` waits forever) as the
/// absolute deadline in Unix ms from `now`, `None` for no deadline. redis-server's
/// `getTimeoutFromObjectOrReply`: the value is read as a `long double` and rounded up to
/// whole milliseconds; out-of-range values read as negative, as they do there.
pub fn parse_timeout(now: i64, arg: &[u8]) -> Result<Option<i64>, CommandError> {
    let ms = crate::long_double::timeout_ms(arg).ok_or(CommandError::Static(
        "ERR timeout is not a float or out of range",
    ))?;
    if ms < 0 {
        return Err(CommandError::Static("ERR timeout is negative"));
    }
    Ok((ms > 0).then(|| now.saturating_add(ms)))
}

/// Writes a timeout reply.
pub(crate) fn write_timeout_reply(r: TimeoutReply, out: &mut ReplyBuf) {
    match r {
        TimeoutReply::NullArray => out.null_array(),
        TimeoutReply::NullBulk => out.null(),
    }
}

/// What a blocked client answers when its timeout passes (or CLIENT UNBLOCK … TIMEOUT).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutReply {
    /// A null array (`*-1` in RESP2): what every blocking command of redis-server 7.0
    /// answers when its timeout passes (BLMOVE and BRPOPLPUSH included).
    NullArray,
    /// A null bulk string (`$-1`): BLMOVE and BRPOPLPUSH when they may not block at all
    /// (inside MULTI, scripts).
    NullBulk,
}

/// What a blocking command asks for when it cannot be served now.
#[derive(Debug, Clone)]
pub struct BlockOn {
    /// The keys to wait on, in the command's order.
    pub keys: Vec<Vec<u8>>,
    /// The type a key must hold to serve the client.
    pub kind: ValueType,
    /// Absolute deadline in Unix ms, or `None` to wait forever.
    pub deadline: Option<i64>,
    /// What to answer at the deadline.
    pub timeout_reply: TimeoutReply,
    /// The command line to retry with, when it differs from the one sent (XREAD's `$`
    /// resolved to the last ID at blocking time).
    pub retry_argv: Option<Vec<Vec<u8>>>,
}

/// A parked client.
#[derive(Debug)]
pub struct Parked {
    /// The connection's session (database, client id) the retry runs in.
    pub session: Session,
    /// The command line to retry.
    pub argv: Vec<Vec<u8>>,
    /// The keys it waits on.
    pub keys: Vec<Vec<u8>>,
    /// The type that can serve it.
    pub kind: ValueType,
    /// The protocol its reply is rendered in.
    pub version: ProtocolVersion,
    /// Its deadline, Unix ms.
    pub deadline: Option<i64>,
    /// What it answers at the deadline.
    pub timeout_reply: TimeoutReply,
}

/// A reply for a client that is no longer blocked, to deliver through its mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unblocked {
    /// The client.
    pub client_id: u64,
    /// Its reply, rendered in its protocol.
    pub reply: Vec<u8>,
}

/// Why a client is unblocked from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnblockReason {
    /// Its timeout passed, or CLIENT UNBLOCK … TIMEOUT: the timeout reply.
    Timeout,
    /// CLIENT UNBLOCK … ERROR: the `-UNBLOCKED` error.
    Error,
    /// It disconnected or was killed: no reply.
    Gone,
}

/// The registry of blocked clients; see the module doc.
#[derive(Debug, Default)]
pub struct Blocking {
    by_key: HashMap<(usize, Vec<u8>), VecDeque<u64>>,
    clients: HashMap<u64, Parked>,
    ready: VecDeque<(usize, Vec<u8>)>,
    ready_set: HashSet<(usize, Vec<u8>)>,
}

impl Blocking {
    /// Number of blocked clients (`blocked_clients`).
    pub fn len(&self) -> usize {
        self.clients.len()
    }

    /// True if nobody is blocked.
    pub fn is_empty(&self) -> bool {
        self.clients.is_empty()
    }

    /// True if `client` is blocked.
    pub fn is_blocked(&self, client: u64) -> bool {
        self.clients.contains_key(&client)
    }

    /// A blocked client's entry.
    pub fn get(&self, client: u64) -> Option<&Parked> {
        self.clients.get(&client)
    }

    /// Number of keys some client waits on (`blocking_keys`).
    pub fn keys(&self) -> usize {
        self.by_key.len()
    }

    /// Parks `client` with what it waits for.
    pub(crate) fn park(&mut self, client: u64, parked: Parked) {
        for key in &parked.keys {
            let q = self
                .by_key
                .entry((parked.session.db, key.clone()))
                .or_default();
            // A command naming a key twice waits on it once.
            if !q.contains(&client) {
                q.push_back(client);
            }
        }
        self.clients.insert(client, parked);
    }

    /// Removes `client` from every queue and returns its entry.
    pub(crate) fn remove(&mut self, client: u64) -> Option<Parked> {
        let parked = self.clients.remove(&client)?;
        for key in &parked.keys {
            let k = (parked.session.db, key.clone());
            if let Some(q) = self.by_key.get_mut(&k) {
                q.retain(|&c| c != client);
                if q.is_empty() {
                    self.by_key.remove(&k);
                }
            }
        }
        Some(parked)
    }

    /// Marks `key` ready if someone waits on it.
    pub(crate) fn signal(&mut self, db: usize, key: &[u8]) {
        if self.by_key.is_empty() {
            return;
        }
        let k = (db, key.to_vec());
        if self.by_key.contains_key(&k) && self.ready_set.insert(k.clone()) {
            self.ready.push_back(k);
        }
    }

    /// Marks every waited-on key of database `db` ready (FLUSHDB, SWAPDB).
    pub(crate) fn signal_db(&mut self, db: usize) {
        let keys: Vec<(usize, Vec<u8>)> = self
            .by_key
            .keys()
            .filter(|(d, _)| *d == db)
            .cloned()
            .collect();
        for (d, k) in keys {
            self.signal(d, &k);
        }
    }

    /// The next ready key, in the order keys became ready.
    pub(crate) fn next_ready(&mut self) -> Option<(usize, Vec<u8>)> {
        let k = self.ready.pop_front()?;
        self.ready_set.remove(&k);
        Some(k)
    }

    /// The clients waiting on `key`, first-blocked first.
    pub(crate) fn waiting(&self, db: usize, key: &[u8]) -> Vec<u64> {
        self.by_key
            .get(&(db, key.to_vec()))
            .map(|q| q.iter().copied().collect())
            .unwrap_or_default()
    }

    /// True if some waited-on key became ready since the last serve.
    pub fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }

    /// Blocked clients with a timeout (`clients_in_timeout_table`).
    pub fn with_deadline(&self) -> usize {
        self.clients
            .values()
            .filter(|p| p.deadline.is_some())
            .count()
    }

    /// The earliest deadline of any blocked client.
    pub fn next_deadline(&self) -> Option<i64> {
        self.clients.values().filter_map(|p| p.deadline).min()
    }

    /// Clients whose deadline is before `now`.
    pub fn expired(&self, now: i64) -> Vec<u64> {
        self.clients
            .iter()
            .filter(|(_, p)| matches!(p.deadline, Some(d) if d <= now))
            .map(|(&id, _)| id)
            .collect()
    }
}

impl Store {
    /// Serves the clients blocked on keys that became ready, first-blocked first, until no
    /// ready key is left (a served client may ready more keys: BLMOVE chains). Returns the
    /// replies to deliver. Call after each command that may have signalled keys.
    pub fn serve_blocked(&mut self) -> Vec<Unblocked> {
        let mut served = Vec::new();
        while let Some((db, key)) = self.blocking.next_ready() {
            for id in self.blocking.waiting(db, &key) {
                let Some(parked) = self.blocking.get(id) else {
                    continue;
                };
                // A blocked XREADGROUP is also answered when its key goes away or changes
                // type (with -UNBLOCKED), as redis-server's unblockDeletedStreamReadgroupClients.
                let readgroup = parked
                    .argv
                    .first()
                    .is_some_and(|n| n.eq_ignore_ascii_case(b"xreadgroup"));
                if !readgroup && !self.key_serves(db, &key, parked.kind) {
                    continue;
                }
                let (mut session, argv, version) =
                    (parked.session.clone(), parked.argv.clone(), parked.version);
                let refs: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
                let (base, spans) = lay_out(&refs);
                let args = Args::new(&base, &spans);
                let mut out = ReplyBuf::new(version);
                self.retrying = true;
                let outcome = self.execute(&mut session, &args, &mut out);
                self.retrying = false;
                if matches!(outcome, Outcome::Blocked { .. }) {
                    // Still nothing for it (another client took it first): keep its place.
                    continue;
                }
                self.blocking.remove(id);
                served.push(Unblocked {
                    client_id: id,
                    reply: out.take(),
                });
            }
        }
        served
    }

    /// True if `key` in `db` is live and of type `kind`.
    fn key_serves(&self, db: usize, key: &[u8], kind: ValueType) -> bool {
        let d = self.keyspace.db(db);
        match d.find(key) {
            Lookup::Found(slot) => {
                let v = d.get(slot);
                v.value_type() == kind && !matches!(v.expire(), Some(at) if self.now_ms() > at)
            }
            Lookup::Missing(_) => false,
        }
    }

    /// Unblocks `client` from outside (its timeout, CLIENT UNBLOCK, a disconnect). Returns
    /// its reply, or `None` if it was not blocked (or is gone). The command counts as one
    /// call, as redis-server counts a blocked command when it is unblocked.
    pub fn unblock(&mut self, client: u64, reason: UnblockReason) -> Option<Vec<u8>> {
        let parked = self.blocking.remove(client)?;
        let mut out = ReplyBuf::new(parked.version);
        let refs: Vec<&[u8]> = parked.argv.iter().map(Vec::as_slice).collect();
        let (base, spans) = lay_out(&refs);
        let id = self.commands.resolve(&Args::new(&base, &spans)).ok();
        match reason {
            UnblockReason::Gone => return None,
            UnblockReason::Timeout => write_timeout_reply(parked.timeout_reply, &mut out),
            UnblockReason::Error => CommandError::Static(UNBLOCKED_ERROR).write(&mut out),
        }
        self.stats.total_commands_processed += 1;
        if let Some(id) = id {
            self.commands.stats_mut(id).calls += 1;
            if reason == UnblockReason::Error {
                self.commands.stats_mut(id).failed_calls += 1;
            }
        }
        if reason == UnblockReason::Error {
            self.stats.count_error(UNBLOCKED_ERROR.as_bytes());
        }
        Some(out.take())
    }
}
