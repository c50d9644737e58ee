//! The command table clients see: the facts of `table/` joined with the handlers the family
//! modules register, indexed by name, with each command's runtime statistics beside it.
//!
//! The facts cover every command redis-server 7.0.15 has; a command exists for clients only
//! if a handler is registered for it. Each family module ends with a `HANDLERS` list of
//! `("name", handler)` pairs (`"container|sub"` for subcommands), and [`SERVER_COMMANDS`]
//! names the commands `src/` executes because they need connections or configuration. A
//! container exists as soon as one of its subcommands (or the container itself) is
//! registered. Registering a name that has no facts is a programming error: a unit test
//! fails, and debug builds panic when the table is built.
//!
//! Lookups stay cheap: [`CommandTable::find`] lower-cases into a stack buffer and probes one
//! hash map (no allocation), and a [`CommandId`] indexes a `Vec`.

use std::collections::HashMap;

use cachegate_protocols::resp::request::Args;

use super::spec::{CommandSpec, Handler, StoreFn};
use super::{
    bitmap, conn, db, geo, hash, hyperloglog, introspect, keys, latency, list, set, setops, sort,
    stream, string, table, zset,
};

/// The store-side handler lists, one per family module.
const FAMILIES: &[&[(&str, StoreFn)]] = &[
    string::HANDLERS,
    keys::HANDLERS,
    hash::HANDLERS,
    bitmap::HANDLERS,
    hyperloglog::HANDLERS,
    set::HANDLERS,
    setops::HANDLERS,
    list::HANDLERS,
    sort::HANDLERS,
    stream::HANDLERS,
    db::HANDLERS,
    conn::HANDLERS,
    introspect::HANDLERS,
    zset::HANDLERS,
    geo::HANDLERS,
];

/// Commands the server executes rather than the store (QUIT, HELLO, INFO, CONFIG, CLIENT…):
/// `src/` registers a function for each of these names at startup, and [`super::Store::execute`]
/// hands them back as [`super::Outcome::Server`].
pub const SERVER_COMMANDS: &[&str] = &[
    "quit",
    "hello",
    "auth",
    "reset",
    "info",
    "shutdown",
    "config|get",
    "config|set",
    "config|resetstat",
    "config|help",
    "client|id",
    "client|setname",
    "client|getname",
    "client|list",
    "client|info",
    "client|setinfo",
    "client|help",
    "client|kill",
    "client|unblock",
    "client|pause",
    "client|unpause",
    "client|no-evict",
    "debug",
];

/// Commands that may reach replicas without the `write` flag (redis-server's hidden
/// `may_replicate` flag, which `COMMAND INFO` does not show, so it is not in the generated
/// facts): CLIENT PAUSE WRITE holds them too.
const MAY_REPLICATE: &[&str] = &[
    "eval",
    "evalsha",
    "fcall",
    "publish",
    "spublish",
    "pfcount",
    "wait",
    "script|load",
    "script|flush",
    "function|load",
    "function|delete",
    "function|flush",
    "function|restore",
];

/// Runtime statistics of one command (`INFO commandstats`).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CommandStats {
    /// Executions.
    pub calls: u64,
    /// Microseconds spent executing.
    pub usec: u64,
    /// Refused before running (arity…).
    pub rejected_calls: u64,
    /// Ran and replied with an error.
    pub failed_calls: u64,
}

/// Identifies a command (or subcommand) in the [`CommandTable`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CommandId(pub usize);

/// One command in the table: its facts, its handler, its parent if it is a subcommand, its
/// statistics.
#[derive(Debug)]
pub struct TableEntry {
    /// The facts.
    pub spec: &'static CommandSpec,
    /// How it runs.
    pub handler: Handler,
    /// The container, for subcommands.
    pub parent: Option<CommandId>,
    /// `name` or `parent|name`, as redis-server calls it in errors and stats.
    pub full_name: String,
    /// Statistics.
    pub stats: CommandStats,
    /// Call durations (`INFO latencystats`), from the first call on.
    pub latency: Option<Box<latency::LatencyHistogram>>,
    subs: HashMap<Vec<u8>, CommandId>,
}

/// Every registered command, indexed by lower-case name, with statistics.
#[derive(Debug)]
pub struct CommandTable {
    entries: Vec<TableEntry>,
    by_name: HashMap<Vec<u8>, CommandId, ahash::RandomState>,
    top_level: Vec<CommandId>,
}

/// Longest command name looked up without allocation; longer names are unknown anyway.
const MAX_NAME: usize = 32;

/// Why a name did not resolve to a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookupError {
    /// No such command.
    Unknown,
    /// A container without such a subcommand.
    UnknownSubcommand(CommandId),
}

fn lower_into<'b>(name: &[u8], buf: &'b mut [u8; MAX_NAME]) -> Option<&'b [u8]> {
    if name.len() > MAX_NAME {
        return None;
    }
    for (d, s) in buf.iter_mut().zip(name) {
        *d = s.to_ascii_lowercase();
    }
    Some(&buf[..name.len()])
}

impl CommandTable {
    /// The table of every command cachegate implements.
    pub fn new() -> Self {
        let (table, problems) = Self::build();
        debug_assert!(problems.is_empty(), "command registrations: {problems:?}");
        table
    }

    /// Joins the facts with every family's registrations; also returns what is wrong with
    /// the registrations, which a test requires to be nothing.
    fn build() -> (Self, Vec<String>) {
        let store = FAMILIES
            .iter()
            .flat_map(|f| f.iter())
            .map(|(name, f)| (*name, Handler::Store(*f)));
        let server = SERVER_COMMANDS.iter().map(|name| (*name, Handler::Server));
        Self::build_from(store.chain(server))
    }

    /// Joins the facts with `registrations`; also returns what is wrong with them (names
    /// without facts, names registered twice).
    fn build_from<'a>(
        registrations: impl Iterator<Item = (&'a str, Handler)>,
    ) -> (Self, Vec<String>) {
        let mut problems = Vec::new();
        let mut regs: HashMap<&str, Handler> = HashMap::new();
        for (name, handler) in registrations {
            if regs.insert(name, handler).is_some() {
                problems.push(format!("{name} is registered twice"));
            }
        }
        let mut t = CommandTable {
            entries: Vec::new(),
            by_name: HashMap::default(),
            top_level: Vec::new(),
        };
        let newer: Vec<_> = table::newer_subcommands().collect();
        for spec in table::all() {
            let own = regs.remove(spec.name);
            let subs: Vec<(&'static CommandSpec, Handler)> = spec
                .subcommands
                .iter()
                .chain(
                    newer
                        .iter()
                        .filter(|(p, _)| *p == spec.name)
                        .map(|(_, s)| *s),
                )
                .filter_map(|sub| {
                    let full = format!("{}|{}", spec.name, sub.name);
                    regs.remove(full.as_str()).map(|h| (sub, h))
                })
                .collect();
            if own.is_none() && subs.is_empty() {
                continue;
            }
            let id = t.push(spec, own.unwrap_or(Handler::Container), None);
            t.top_level.push(id);
            t.by_name.insert(spec.name.as_bytes().to_vec(), id);
            for (sub, handler) in subs {
                let sid = t.push(sub, handler, Some(id));
                t.entries[id.0]
                    .subs
                    .insert(sub.name.as_bytes().to_vec(), sid);
            }
        }
        let mut unknown: Vec<&str> = regs.into_keys().collect();
        unknown.sort_unstable();
        problems.extend(
            unknown
                .into_iter()
                .map(|name| format!("{name} is registered but has no facts")),
        );
        (t, problems)
    }

    fn push(
        &mut self,
        spec: &'static CommandSpec,
        handler: Handler,
        parent: Option<CommandId>,
    ) -> CommandId {
        let full_name = match parent {
            Some(p) => format!("{}|{}", self.entries[p.0].spec.name, spec.name),
            None => spec.name.to_string(),
        };
        self.entries.push(TableEntry {
            spec,
            handler,
            parent,
            full_name,
            stats: CommandStats::default(),
            latency: None,
            subs: HashMap::new(),
        });
        CommandId(self.entries.len() - 1)
    }

    /// Finds a top-level command by name, any case.
    pub fn find(&self, name: &[u8]) -> Option<CommandId> {
        let mut buf = [0u8; MAX_NAME];
        let lower = lower_into(name, &mut buf)?;
        self.by_name.get(lower).copied()
    }

    /// Finds a subcommand of `parent` by name, any case.
    pub fn find_sub(&self, parent: CommandId, name: &[u8]) -> Option<CommandId> {
        let mut buf = [0u8; MAX_NAME];
        let lower = lower_into(name, &mut buf)?;
        self.entries[parent.0].subs.get(lower).copied()
    }

    /// True if command `id` may change the dataset or reach replicas: the `write` flag or
    /// redis-server's hidden `may_replicate` (what CLIENT PAUSE WRITE holds).
    pub fn may_write(&self, id: CommandId) -> bool {
        let e = &self.entries[id.0];
        e.spec.has(super::spec::flag::WRITE) || MAY_REPLICATE.contains(&e.full_name.as_str())
    }

    /// Resolves a full command line to the command that runs it, as redis-server does: a
    /// container with at least one more argument resolves to its subcommand.
    pub fn resolve(&self, args: &Args<'_>) -> Result<CommandId, LookupError> {
        let id = self.find(args.get(0)).ok_or(LookupError::Unknown)?;
        let entry = &self.entries[id.0];
        if args.len() < 2 || entry.spec.subcommands.is_empty() {
            return Ok(id);
        }
        self.find_sub(id, args.get(1))
            .ok_or(LookupError::UnknownSubcommand(id))
    }

    /// Resolves `name` or `container|sub` (COMMAND INFO, COMMAND DOCS).
    pub fn find_full(&self, name: &[u8]) -> Option<CommandId> {
        match memchr::memchr(b'|', name) {
            Some(bar) => {
                let parent = self.find(&name[..bar])?;
                self.find_sub(parent, &name[bar + 1..])
            }
            None => self.find(name),
        }
    }

    /// A command's table entry.
    pub fn entry(&self, id: CommandId) -> &TableEntry {
        &self.entries[id.0]
    }

    /// A command's facts.
    pub fn spec(&self, id: CommandId) -> &'static CommandSpec {
        self.entries[id.0].spec
    }

    /// How a command runs.
    pub fn handler(&self, id: CommandId) -> Handler {
        self.entries[id.0].handler
    }

    /// Mutable statistics of a command.
    pub fn stats_mut(&mut self, id: CommandId) -> &mut CommandStats {
        &mut self.entries[id.0].stats
    }

    /// The top-level commands, in declaration order.
    pub fn top_level(&self) -> &[CommandId] {
        &self.top_level
    }

    /// The subcommands of `id`.
    pub fn subcommands(&self, id: CommandId) -> impl Iterator<Item = CommandId> + '_ {
        let parent = Some(id);
        self.entries
            .iter()
            .enumerate()
            .filter(move |(_, e)| e.parent == parent)
            .map(|(i, _)| CommandId(i))
    }

    /// Every command and subcommand.
    pub fn iter(&self) -> impl Iterator<Item = (CommandId, &TableEntry)> {
        self.entries
            .iter()
            .enumerate()
            .map(|(i, e)| (CommandId(i), e))
    }

    /// Adds `usec` of execution time to one call of `id`: its total and its latency
    /// histogram.
    pub fn record_time(&mut self, id: CommandId, usec: u64) {
        let e = &mut self.entries[id.0];
        e.stats.usec += usec;
        e.latency
            .get_or_insert_with(Default::default)
            .record(usec.saturating_mul(1000));
    }

    /// Clears every command's statistics (`CONFIG RESETSTAT`).
    pub fn reset_stats(&mut self) {
        for e in &mut self.entries {
            e.stats = CommandStats::default();
            e.latency = None;
        }
    }
}

impl Default for CommandTable {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_registered_name_has_facts() {
        let (_, problems) = CommandTable::build();
        assert!(problems.is_empty(), "{problems:#?}");
    }

    #[test]
    fn a_typo_is_reported() {
        let regs = ["get", "object|encodin", "gett", "get", "client|setinfo"]
            .into_iter()
            .map(|n| (n, Handler::Server));
        let (t, problems) = CommandTable::build_from(regs);
        assert_eq!(
            problems,
            [
                "get is registered twice",
                "gett is registered but has no facts",
                "object|encodin is registered but has no facts",
            ]
        );
        assert!(t.find(b"get").is_some());
        assert!(t.find_full(b"client|setinfo").is_some());
        assert!(t.find(b"object").is_none());
    }

    #[test]
    fn only_registered_commands_exist() {
        let t = CommandTable::new();
        assert!(t.find(b"GET").is_some());
        // A command with facts but no handler (in no family, not a server command, no
        // subcommand registered) does not exist for clients.
        let registered: Vec<&str> = FAMILIES
            .iter()
            .flat_map(|f| f.iter().map(|(n, _)| *n))
            .chain(SERVER_COMMANDS.iter().copied())
            .collect();
        let unregistered = table::all()
            .find(|c| {
                !registered
                    .iter()
                    .any(|n| *n == c.name || n.starts_with(&format!("{}|", c.name)))
            })
            .expect("some command has no handler yet");
        assert!(t.find(unregistered.name.as_bytes()).is_none());
        // CONFIG exists through its registered subcommands, without CONFIG REWRITE.
        let config = t.find(b"config").expect("config");
        assert!(matches!(t.handler(config), Handler::Container));
        assert!(t.find_sub(config, b"get").is_some());
        assert!(t.find_sub(config, b"rewrite").is_none());
        // COMMAND is a container with a handler of its own.
        let command = t.find(b"command").expect("command");
        assert!(matches!(t.handler(command), Handler::Store(_)));
        let info = t.find_full(b"info").expect("info");
        assert!(matches!(t.handler(info), Handler::Server));
    }

    #[test]
    fn every_name_fits_the_lookup_buffer() {
        for c in table::all() {
            assert!(c.name.len() <= MAX_NAME, "{}", c.name);
            for s in c.subcommands {
                assert!(s.name.len() <= MAX_NAME, "{}|{}", c.name, s.name);
            }
        }
    }

    #[test]
    fn server_commands_are_not_also_store_commands() {
        for name in SERVER_COMMANDS {
            for family in FAMILIES {
                assert!(family.iter().all(|(n, _)| n != name), "{name} twice");
            }
        }
    }
}
