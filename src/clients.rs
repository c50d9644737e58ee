//! The registry of connected Redis clients: what `CLIENT LIST`, `CLIENT INFO`, `INFO
//! clients` and `maxclients` see.
//!
//! It lives inside the engine's shared state, so a connection updates its own entry while it
//! already holds the keyspace for a batch — no extra lock or atomic per command. (This is why
//! `dashmap`, on the design card for registries like this one, is not used: a concurrent map
//! would add a second synchronisation to every batch.)

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use crate::mailbox::{Mail, Mailbox};

/// Where a client connected from and to.
#[derive(Debug, Clone)]
pub enum Peer {
    /// A TCP connection.
    Tcp {
        /// The client's address.
        peer: SocketAddr,
        /// The server's address.
        local: SocketAddr,
    },
    /// A Unix socket connection, with the socket's path.
    Unix(String),
}

/// One connected Redis client.
#[derive(Debug, Clone)]
pub struct ClientInfo {
    /// CLIENT ID: unique, increasing.
    pub id: u64,
    /// Where from.
    pub peer: Peer,
    /// The socket's file descriptor.
    pub fd: i64,
    /// CLIENT SETNAME.
    pub name: Vec<u8>,
    /// CLIENT SETINFO LIB-NAME and LIB-VER, boxed: most clients never set them, and every
    /// idle client pays for this entry.
    pub lib: Option<Box<LibInfo>>,
    /// Unix seconds when it connected.
    pub connected_at: i64,
    /// Unix seconds of its last command.
    pub last_interaction: i64,
    /// Selected database.
    pub db: usize,
    /// The last command run (`cmd=` shows its full name, `NULL` before any).
    pub last_cmd: Option<cachegate_storage::command::CommandId>,
    /// Protocol version, 2 or 3.
    pub resp: i64,
    /// Bytes of unparsed input buffered.
    pub qbuf: usize,
    /// Free capacity of the input buffer.
    pub qbuf_free: usize,
    /// Bytes of output not yet written.
    pub obuf: usize,
    /// CLIENT NO-EVICT.
    pub no_evict: bool,
    /// How the server reaches the connection.
    pub mailbox: Arc<Mailbox>,
}

impl ClientInfo {
    /// A fresh entry, reachable through `mailbox`.
    pub fn new(id: u64, peer: Peer, fd: i64, now_secs: i64, mailbox: Arc<Mailbox>) -> Self {
        ClientInfo {
            id,
            peer,
            fd,
            name: Vec::new(),
            lib: None,
            connected_at: now_secs,
            last_interaction: now_secs,
            db: 0,
            last_cmd: None,
            resp: 2,
            qbuf: 0,
            qbuf_free: 0,
            obuf: 0,
            no_evict: false,
            mailbox,
        }
    }

    /// `addr=`: where the client connected from.
    pub fn addr(&self) -> String {
        match &self.peer {
            Peer::Tcp { peer, .. } => peer.to_string(),
            Peer::Unix(path) => format!("{path}:0"),
        }
    }

    /// `laddr=`: the server address it connected to.
    pub fn laddr(&self) -> String {
        match &self.peer {
            Peer::Tcp { local, .. } => local.to_string(),
            Peer::Unix(path) => format!("{path}:0"),
        }
    }

    /// The `CLIENT LIST` line of this client (without newline), in redis-server 7.0's
    /// field order, plus 7.2's `lib-name` and `lib-ver` at the end (cachegate implements
    /// CLIENT SETINFO). Memory fields describe cachegate's own buffers. `blocked` says
    /// whether it waits in a blocking command (flag `b`), `cmd` the last command's full
    /// name.
    pub fn line(&self, now_secs: i64, blocked: bool, cmd: &str) -> String {
        // Flag letters in redis-server's order; `N` when there are none.
        let mut flags = String::new();
        if blocked {
            flags.push('b');
        }
        if matches!(self.peer, Peer::Unix(_)) {
            flags.push('U');
        }
        if self.no_evict {
            flags.push('e');
        }
        if flags.is_empty() {
            flags.push('N');
        }
        format!(
            "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub=0 psub=0 ssub=0 multi=-1 qbuf={} qbuf-free={} argv-mem=0 multi-mem=0 rbs={} rbp=0 obl={} oll=0 omem=0 tot-mem={} events=r cmd={} user=default redir=-1 resp={} lib-name={} lib-ver={}",
            self.id,
            self.addr(),
            self.laddr(),
            self.fd,
            String::from_utf8_lossy(&self.name),
            now_secs - self.connected_at,
            now_secs - self.last_interaction,
            flags,
            self.db,
            self.qbuf,
            self.qbuf_free,
            self.obuf,
            self.obuf,
            self.qbuf + self.qbuf_free + self.obuf,
            cmd,
            self.resp,
            String::from_utf8_lossy(self.lib.as_ref().map_or(&[][..], |l| &l.name)),
            String::from_utf8_lossy(self.lib.as_ref().map_or(&[][..], |l| &l.ver)),
        )
    }
}

/// What CLIENT SETINFO recorded.
#[derive(Debug, Clone, Default)]
pub struct LibInfo {
    /// LIB-NAME.
    pub name: Vec<u8>,
    /// LIB-VER.
    pub ver: Vec<u8>,
}

/// All connected Redis clients, by id.
#[derive(Debug, Default)]
pub struct Clients {
    /// Boxed so the map's nodes stay small: half-full nodes of whole entries would cost an
    /// idle client twice its entry.
    by_id: BTreeMap<u64, Box<ClientInfo>>,
    next_id: u64,
}

impl Clients {
    /// An empty registry; ids start at 1.
    pub fn new() -> Self {
        Clients {
            by_id: BTreeMap::new(),
            next_id: 1,
        }
    }

    /// The next client id (also used by memcached connections for uniqueness).
    pub fn next_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Registers a client.
    pub fn add(&mut self, info: ClientInfo) {
        self.by_id.insert(info.id, Box::new(info));
    }

    /// Forgets a client.
    pub fn remove(&mut self, id: u64) {
        self.by_id.remove(&id);
    }

    /// Posts `mail` to client `id`; false if it is gone or its mailbox is full.
    pub fn post(&self, id: u64, mail: Mail) -> bool {
        self.by_id.get(&id).is_some_and(|c| c.mailbox.post(mail))
    }

    /// Number of connected clients.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// True if nobody is connected.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// A client's entry.
    pub fn get(&self, id: u64) -> Option<&ClientInfo> {
        self.by_id.get(&id).map(|b| &**b)
    }

    /// A client's entry, mutable.
    pub fn get_mut(&mut self, id: u64) -> Option<&mut ClientInfo> {
        self.by_id.get_mut(&id).map(|b| &mut **b)
    }

    /// Every client, by id.
    pub fn iter(&self) -> impl Iterator<Item = &ClientInfo> {
        self.by_id.values().map(|b| &**b)
    }

    /// Every client, mutable.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut ClientInfo> {
        self.by_id.values_mut().map(|b| &mut **b)
    }

    /// Largest input buffer of any client (`client_recent_max_input_buffer`).
    pub fn max_input_buffer(&self) -> usize {
        self.by_id
            .values()
            .map(|c| c.qbuf + c.qbuf_free)
            .max()
            .unwrap_or(0)
    }

    /// Largest output buffer of any client (`client_recent_max_output_buffer`).
    pub fn max_output_buffer(&self) -> usize {
        self.by_id.values().map(|c| c.obuf).max().unwrap_or(0)
    }
}

/// True if `name` is a valid client name: printable ASCII without spaces (redis-server keeps
/// CLIENT LIST splittable on spaces).
pub fn valid_name(name: &[u8]) -> bool {
    name.iter().all(|&c| (b'!'..=b'~').contains(&c))
}
