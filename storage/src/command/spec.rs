//! What a command *is*: [`CommandSpec`], the facts of a command's name, arity, flags, ACL
//! categories, key positions and documentation; and [`Handler`], how a registered command
//! runs.
//!
//! The dispatcher checks arity and flags from here, `COMMAND INFO/DOCS/LIST/COUNT/GETKEYS`
//! render it, and `INFO commandstats` walks it. The flag and category tables are in the order
//! redis-server prints them, so `COMMAND INFO` matches byte for byte.

use cachegate_protocols::resp::request::Args;
use cachegate_protocols::resp::ReplyBuf;

use super::{CommandError, Ctx};

/// Command flags (`COMMAND INFO` field 3), as bits.
pub type Flags = u32;

/// The command flag bits.
pub mod flag {
    use super::Flags;
    /// May modify the dataset.
    pub const WRITE: Flags = 1 << 0;
    /// Only reads the dataset.
    pub const READONLY: Flags = 1 << 1;
    /// May grow memory; refused when out of memory.
    pub const DENYOOM: Flags = 1 << 2;
    /// Implemented by a module.
    pub const MODULE: Flags = 1 << 3;
    /// Administrative.
    pub const ADMIN: Flags = 1 << 4;
    /// Pub/sub related.
    pub const PUBSUB: Flags = 1 << 5;
    /// Not allowed from scripts.
    pub const NOSCRIPT: Flags = 1 << 6;
    /// May block the client.
    pub const BLOCKING: Flags = 1 << 7;
    /// Allowed while loading the dataset.
    pub const LOADING: Flags = 1 << 8;
    /// Allowed on a replica with stale data.
    pub const STALE: Flags = 1 << 9;
    /// Not shown in MONITOR.
    pub const SKIP_MONITOR: Flags = 1 << 10;
    /// Not logged in SLOWLOG.
    pub const SKIP_SLOWLOG: Flags = 1 << 11;
    /// Cluster ASKING.
    pub const ASKING: Flags = 1 << 12;
    /// O(1) or O(log N), never blocks.
    pub const FAST: Flags = 1 << 13;
    /// Allowed before authentication.
    pub const NO_AUTH: Flags = 1 << 14;
    /// May be replicated even if not a write (hidden in COMMAND INFO).
    pub const MAY_REPLICATE: Flags = 1 << 15;
    /// Keys may be absent.
    pub const NO_MANDATORY_KEYS: Flags = 1 << 16;
    /// Refused while loading asynchronously.
    pub const NO_ASYNC_LOADING: Flags = 1 << 17;
    /// Not allowed inside MULTI.
    pub const NO_MULTI: Flags = 1 << 18;
    /// Key positions depend on the arguments.
    pub const MOVABLE_KEYS: Flags = 1 << 19;
    /// Allowed while a script is busy.
    pub const ALLOW_BUSY: Flags = 1 << 20;
    /// Sentinel command (hidden).
    pub const SENTINEL: Flags = 1 << 21;
    /// Only in sentinel mode (hidden).
    pub const ONLY_SENTINEL: Flags = 1 << 22;
    /// Protected by a config switch (hidden).
    pub const PROTECTED: Flags = 1 << 23;
}

/// Flag names in the order `COMMAND INFO` prints them; hidden flags are absent.
pub const FLAG_NAMES: &[(Flags, &str)] = &[
    (flag::WRITE, "write"),
    (flag::READONLY, "readonly"),
    (flag::DENYOOM, "denyoom"),
    (flag::MODULE, "module"),
    (flag::ADMIN, "admin"),
    (flag::PUBSUB, "pubsub"),
    (flag::NOSCRIPT, "noscript"),
    (flag::BLOCKING, "blocking"),
    (flag::LOADING, "loading"),
    (flag::STALE, "stale"),
    (flag::SKIP_MONITOR, "skip_monitor"),
    (flag::SKIP_SLOWLOG, "skip_slowlog"),
    (flag::ASKING, "asking"),
    (flag::FAST, "fast"),
    (flag::NO_AUTH, "no_auth"),
    (flag::NO_MANDATORY_KEYS, "no_mandatory_keys"),
    (flag::NO_ASYNC_LOADING, "no_async_loading"),
    (flag::NO_MULTI, "no_multi"),
    (flag::MOVABLE_KEYS, "movablekeys"),
    (flag::ALLOW_BUSY, "allow_busy"),
];

/// ACL category bits.
pub mod acl {
    #![allow(missing_docs)]
    pub const KEYSPACE: u32 = 1 << 0;
    pub const READ: u32 = 1 << 1;
    pub const WRITE: u32 = 1 << 2;
    pub const SET: u32 = 1 << 3;
    pub const SORTEDSET: u32 = 1 << 4;
    pub const LIST: u32 = 1 << 5;
    pub const HASH: u32 = 1 << 6;
    pub const STRING: u32 = 1 << 7;
    pub const BITMAP: u32 = 1 << 8;
    pub const HYPERLOGLOG: u32 = 1 << 9;
    pub const GEO: u32 = 1 << 10;
    pub const STREAM: u32 = 1 << 11;
    pub const PUBSUB: u32 = 1 << 12;
    pub const ADMIN: u32 = 1 << 13;
    pub const FAST: u32 = 1 << 14;
    pub const SLOW: u32 = 1 << 15;
    pub const BLOCKING: u32 = 1 << 16;
    pub const DANGEROUS: u32 = 1 << 17;
    pub const CONNECTION: u32 = 1 << 18;
    pub const TRANSACTION: u32 = 1 << 19;
    pub const SCRIPTING: u32 = 1 << 20;
}

/// ACL category names in the order redis-server prints them.
pub const ACL_NAMES: &[(u32, &str)] = &[
    (acl::KEYSPACE, "keyspace"),
    (acl::READ, "read"),
    (acl::WRITE, "write"),
    (acl::SET, "set"),
    (acl::SORTEDSET, "sortedset"),
    (acl::LIST, "list"),
    (acl::HASH, "hash"),
    (acl::STRING, "string"),
    (acl::BITMAP, "bitmap"),
    (acl::HYPERLOGLOG, "hyperloglog"),
    (acl::GEO, "geo"),
    (acl::STREAM, "stream"),
    (acl::PUBSUB, "pubsub"),
    (acl::ADMIN, "admin"),
    (acl::FAST, "fast"),
    (acl::SLOW, "slow"),
    (acl::BLOCKING, "blocking"),
    (acl::DANGEROUS, "dangerous"),
    (acl::CONNECTION, "connection"),
    (acl::TRANSACTION, "transaction"),
    (acl::SCRIPTING, "scripting"),
];

/// Key-spec flag bits.
pub mod keyflag {
    #![allow(missing_docs)]
    pub const RO: u32 = 1 << 0;
    pub const RW: u32 = 1 << 1;
    pub const OW: u32 = 1 << 2;
    pub const RM: u32 = 1 << 3;
    pub const ACCESS: u32 = 1 << 4;
    pub const UPDATE: u32 = 1 << 5;
    pub const INSERT: u32 = 1 << 6;
    pub const DELETE: u32 = 1 << 7;
    pub const NOT_KEY: u32 = 1 << 8;
    pub const INCOMPLETE: u32 = 1 << 9;
    pub const VARIABLE_FLAGS: u32 = 1 << 10;
}

/// Key-spec flag names in print order.
pub const KEY_FLAG_NAMES: &[(u32, &str)] = &[
    (keyflag::RO, "RO"),
    (keyflag::RW, "RW"),
    (keyflag::OW, "OW"),
    (keyflag::RM, "RM"),
    (keyflag::ACCESS, "access"),
    (keyflag::UPDATE, "update"),
    (keyflag::INSERT, "insert"),
    (keyflag::DELETE, "delete"),
    (keyflag::NOT_KEY, "not_key"),
    (keyflag::INCOMPLETE, "incomplete"),
    (keyflag::VARIABLE_FLAGS, "variable_flags"),
];

/// Where the search for a command's keys begins.
#[derive(Debug, Clone, Copy)]
pub enum BeginSearch {
    /// At a fixed argument index.
    Index(i32),
    /// After a keyword, searching from `startfrom` (negative = from the end).
    Keyword {
        /// The keyword, e.g. `STREAMS`.
        keyword: &'static str,
        /// Index to start searching at.
        startfrom: i32,
    },
    /// Not describable.
    Unknown,
}

/// How keys are found once the search has begun.
#[derive(Debug, Clone, Copy)]
pub enum FindKeys {
    /// A range: the last key relative to the first (-1 = last argument), the step, and a
    /// limit dividing the remaining arguments.
    Range {
        /// Last key index, relative to the first key; negative counts from the end.
        lastkey: i32,
        /// Step between keys.
        keystep: i32,
        /// If `lastkey` is -1, only `1/limit` of the remaining arguments are keys.
        limit: i32,
    },
    /// A count argument followed by the keys.
    Keynum {
        /// Index of the count, relative to the search start.
        keynumidx: i32,
        /// First key, relative to the search start.
        firstkey: i32,
        /// Step between keys.
        keystep: i32,
    },
    /// Not describable.
    Unknown,
}

/// One key specification (Redis 7 key specs).
#[derive(Debug, Clone, Copy)]
pub struct KeySpec {
    /// Free-form notes.
    pub notes: Option<&'static str>,
    /// [`keyflag`] bits.
    pub flags: u32,
    /// Where the search begins.
    pub begin: BeginSearch,
    /// How keys are found.
    pub find: FindKeys,
}

/// An argument's type, as `COMMAND DOCS` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgKind {
    /// `string`
    String,
    /// `integer`
    Integer,
    /// `double`
    Double,
    /// `key`
    Key,
    /// `pattern`
    Pattern,
    /// `unix-time`
    UnixTime,
    /// `pure-token`
    PureToken,
    /// `oneof`
    Oneof,
    /// `block`
    Block,
}

impl ArgKind {
    /// The name `COMMAND DOCS` prints.
    pub fn name(self) -> &'static str {
        match self {
            ArgKind::String => "string",
            ArgKind::Integer => "integer",
            ArgKind::Double => "double",
            ArgKind::Key => "key",
            ArgKind::Pattern => "pattern",
            ArgKind::UnixTime => "unix-time",
            ArgKind::PureToken => "pure-token",
            ArgKind::Oneof => "oneof",
            ArgKind::Block => "block",
        }
    }
}

/// Argument flag bits.
pub mod argflag {
    /// The argument may be left out.
    pub const OPTIONAL: u8 = 1 << 0;
    /// The argument may repeat.
    pub const MULTIPLE: u8 = 1 << 1;
    /// The argument repeats with its token each time.
    pub const MULTIPLE_TOKEN: u8 = 1 << 2;
}

/// Argument flag names in print order.
pub const ARG_FLAG_NAMES: &[(u8, &str)] = &[
    (argflag::OPTIONAL, "optional"),
    (argflag::MULTIPLE, "multiple"),
    (argflag::MULTIPLE_TOKEN, "multiple_token"),
];

/// One documented argument.
#[derive(Debug, Clone, Copy)]
pub struct Arg {
    /// Argument name.
    pub name: &'static str,
    /// Argument type.
    pub kind: ArgKind,
    /// Index into the command's key specs, for keys.
    pub key_spec_index: Option<u32>,
    /// The literal token that introduces it, if any.
    pub token: Option<&'static str>,
    /// Version that added it.
    pub since: Option<&'static str>,
    /// Version that deprecated it.
    pub deprecated_since: Option<&'static str>,
    /// [`argflag`] bits.
    pub flags: u8,
    /// Nested arguments of a `oneof` or `block`.
    pub args: &'static [Arg],
}

/// Command groups as `COMMAND DOCS` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// `generic`: keys of any type.
    Generic,
    /// `string`
    String,
    /// `list`
    List,
    /// `set`
    Set,
    /// `sorted-set`
    SortedSet,
    /// `hash`
    Hash,
    /// `pubsub`
    Pubsub,
    /// `transactions`
    Transactions,
    /// `connection`
    Connection,
    /// `server`
    Server,
    /// `scripting`
    Scripting,
    /// `hyperloglog`
    Hyperloglog,
    /// `cluster`
    Cluster,
    /// `sentinel`
    Sentinel,
    /// `geo`
    Geo,
    /// `stream`
    Stream,
    /// `bitmap`
    Bitmap,
}

impl Group {
    /// The name `COMMAND DOCS` prints.
    pub fn name(self) -> &'static str {
        match self {
            Group::Generic => "generic",
            Group::String => "string",
            Group::List => "list",
            Group::Set => "set",
            Group::SortedSet => "sorted-set",
            Group::Hash => "hash",
            Group::Pubsub => "pubsub",
            Group::Transactions => "transactions",
            Group::Connection => "connection",
            Group::Server => "server",
            Group::Scripting => "scripting",
            Group::Hyperloglog => "hyperloglog",
            Group::Cluster => "cluster",
            Group::Sentinel => "sentinel",
            Group::Geo => "geo",
            Group::Stream => "stream",
            Group::Bitmap => "bitmap",
        }
    }
}

/// Documentation flag bits (`COMMAND DOCS` `doc_flags`).
pub mod docflag {
    /// The command is deprecated (see `deprecated_since` and `replaced_by`).
    pub const DEPRECATED: u32 = 1 << 0;
    /// A system command, not meant for users (REPLCONF, DEBUG…).
    pub const SYSCMD: u32 = 1 << 1;
}

/// Documentation flag names in print order.
pub const DOC_FLAG_NAMES: &[(u32, &str)] = &[
    (docflag::DEPRECATED, "deprecated"),
    (docflag::SYSCMD, "syscmd"),
];

/// Documentation of a command (`COMMAND DOCS`).
#[derive(Debug, Clone, Copy)]
pub struct Docs {
    /// One-line summary.
    pub summary: &'static str,
    /// Version that introduced it.
    pub since: &'static str,
    /// Group.
    pub group: Group,
    /// Time complexity (a few system commands have none).
    pub complexity: Option<&'static str>,
    /// [`docflag`] bits.
    pub doc_flags: u32,
    /// Deprecated since this version, if it is.
    pub deprecated_since: Option<&'static str>,
    /// What replaces it, if deprecated.
    pub replaced_by: Option<&'static str>,
    /// Changes by version: `(version, what changed)`, oldest first; the descriptions are
    /// our own words.
    pub history: &'static [(&'static str, &'static str)],
    /// Documented arguments.
    pub args: &'static [Arg],
}

/// Everything a handler can run against.
pub type StoreFn = fn(&mut Ctx<'_>, &Args<'_>, &mut ReplyBuf) -> Result<(), CommandError>;

/// How a registered command is executed (see `command::registry`); the facts in
/// [`CommandSpec`] say nothing about it.
#[derive(Clone, Copy)]
pub enum Handler {
    /// Runs against the store.
    Store(StoreFn),
    /// Runs in the server, which owns connections and configuration: `src/` registers a
    /// function for it by name and runs it when [`super::Outcome::Server`] comes back.
    Server,
    /// A container without a handler of its own: the second argument names a subcommand.
    Container,
}

impl std::fmt::Debug for Handler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Handler::Store(_) => f.write_str("Store"),
            Handler::Server => f.write_str("Server"),
            Handler::Container => f.write_str("Container"),
        }
    }
}

/// The facts of a command, as redis-server 7.0 reports them (see `table/`). Whether clients
/// can call it depends on whether a handler is registered.
#[derive(Debug, Clone, Copy)]
pub struct CommandSpec {
    /// Lower-case name as `COMMAND INFO` prints it (for subcommands, without the parent).
    pub name: &'static str,
    /// Redis's arity rule, name included: `2` means exactly 2, `-2` at least 2.
    pub arity: i32,
    /// [`flag`] bits.
    pub flags: Flags,
    /// [`acl`] bits.
    pub acl: u32,
    /// Legacy key positions: first key, last key (negative counts from the end), step.
    pub first_key: i32,
    /// See `first_key`.
    pub last_key: i32,
    /// See `first_key`.
    pub key_step: i32,
    /// Hints for clients and proxies (`nondeterministic_output`, `request_policy:…`).
    pub tips: &'static [&'static str],
    /// Key specifications.
    pub key_specs: &'static [KeySpec],
    /// Subcommands of a container (every one redis-server has, registered or not).
    pub subcommands: &'static [CommandSpec],
    /// Documentation.
    pub docs: Docs,
}

impl CommandSpec {
    /// True if `argc` arguments (name included) satisfy the arity.
    pub fn arity_ok(&self, argc: usize) -> bool {
        let argc = argc as i64;
        let arity = i64::from(self.arity);
        if arity >= 0 {
            argc == arity
        } else {
            argc >= -arity
        }
    }

    /// True if any of `bits` is set.
    pub fn has(&self, bits: Flags) -> bool {
        self.flags & bits != 0
    }
}
