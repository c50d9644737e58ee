//! The configuration schema: [`Config`] and its sections, the enums they
//! use, and `FIELDS`, the table giving every key its kind and typed access.
//!
//! Owns the shape of the configuration and the checks that span several
//! keys. Values live in `default.toml`, not here: every default below is
//! quoted from that file for the reader, and a test keeps them honest.
//! Loading (file, environment, overrides) is `load.rs`; Redis names for
//! `CONFIG GET/SET` are `redis_params.rs`.
//!
//! "Runtime: modifiable" marks keys `CONFIG SET` may change (Redis 7.0.15's
//! flags); everything else is read at startup only. The memcache and
//! metrics sections have no Redis names and are startup-only.

use serde::Deserialize;

use crate::error::{ConfigError, ConfigErrors};
use crate::kind::{Kind, Value};

/// Bytes in a MiB, the unit of `memcache.memory_limit`.
const MIB: u64 = 1 << 20;

/// cachegate's whole configuration. Build one with
/// [`Config::load`](crate::Config::load) or [`Config::default`].
///
/// The `Deserialize` impl expects normalised values (byte counts and
/// permissions as plain numbers, enum names in lower case); user input
/// with units or octal digits goes through `Config::load`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Addresses the Redis listener binds, as in redis.conf (`*` = every
    /// IPv4 address, a leading `-` = skip if unavailable); an empty list
    /// means every interface, as in Redis. At most 16. Default
    /// `["127.0.0.1"]` (Redis binds everywhere; we don't). Runtime: modifiable.
    pub bind: Vec<String>,
    /// Redis TCP port; 0 = no TCP listener. Default 6379. Runtime: modifiable.
    pub port: u16,
    /// Path of the Redis Unix socket; `""` = none. Default `""`. Runtime:
    /// startup only.
    pub unixsocket: String,
    /// Permission bits of the Redis Unix socket (the number itself, e.g.
    /// `0o700`; written in octal in TOML, `700`); 0 = leave as created.
    /// Default 0. Runtime: startup only.
    pub unixsocketperm: u32,
    /// `listen()` backlog of the Redis listener. Default 511. Runtime:
    /// startup only.
    pub tcp_backlog: u32,
    /// Seconds a Redis client may stay idle before it is closed; 0 = never.
    /// Default 0. Runtime: modifiable.
    pub timeout: u32,
    /// Seconds between TCP keepalive probes on client sockets; 0 = off.
    /// Default 300. Runtime: modifiable.
    pub tcp_keepalive: u32,
    /// Most simultaneous Redis clients. Default 10000. Runtime: modifiable.
    pub maxclients: u32,
    /// Number of Redis databases (SELECT 0..databases-1), 1..=2147483647 as
    /// in Redis. Default 16. Runtime: startup only.
    pub databases: u32,
    /// Bytes a client's unparsed query buffer may hold before the client is
    /// closed, at least 1 MiB. Default 1 GiB. Runtime: modifiable.
    pub client_query_buffer_limit: u64,
    /// Largest bulk string a client may send, in bytes, at least 1 MiB.
    /// Default 512 MiB. Runtime: modifiable.
    pub proto_max_bulk_len: u64,
    /// Background task frequency (expiry sampling, timeouts) in Hz. Like
    /// Redis, any 0..=2147483647 is accepted and clamped to 1..=500.
    /// Default 10. Runtime: modifiable.
    pub hz: u32,
    /// Least severe log level written. Default notice. Runtime: modifiable.
    pub loglevel: LogLevel,
    /// Log file path; `""` = standard error. Default `""`. Runtime: startup
    /// only.
    pub logfile: String,
    /// Network threads serving client connections; 0 = one per CPU core.
    /// Redis's `io-threads` (1..=128 there); cachegate adds 0 for "auto".
    /// Default 0. Runtime: startup only.
    pub io_threads: u32,
    /// How commands reach the single-threaded keyspace (DESIGN.md decision
    /// 1). cachegate-only, no Redis name. Default lock. Runtime: startup only.
    pub execution_model: ExecutionModel,
    /// A hash converts from its packed encoding after this many fields.
    /// Default 512 (redis-server's built-in default; its sample redis.conf
    /// says 128). Runtime: modifiable (alias `hash-max-ziplist-entries`).
    pub hash_max_listpack_entries: u64,
    /// …or once a field or value is longer than this, in bytes. Default 64.
    /// Runtime: modifiable (alias `hash-max-ziplist-value`).
    pub hash_max_listpack_value: u64,
    /// A set of integers converts from its packed encoding after this many
    /// members. Default 512. Runtime: modifiable.
    pub set_max_intset_entries: u64,
    /// A sorted set converts from its packed encoding after this many
    /// members. Default 128. Runtime: modifiable (alias
    /// `zset-max-ziplist-entries`).
    pub zset_max_listpack_entries: u64,
    /// …or once a member is longer than this, in bytes. Default 64. Runtime:
    /// modifiable (alias `zset-max-ziplist-value`).
    pub zset_max_listpack_value: u64,
    /// List node size: positive = entries per node, -1..-5 = 4, 8, 16, 32
    /// or 64 KiB per node. Default -2. Runtime: modifiable (alias
    /// `list-max-ziplist-size`).
    pub list_max_listpack_size: i64,
    /// List nodes at each end kept uncompressed; 0 = no compression.
    /// Default 0. Runtime: modifiable.
    pub list_compress_depth: u64,
    /// Largest stream node, in bytes (0 = no limit). Default 4096. Runtime:
    /// modifiable.
    pub stream_node_max_bytes: u64,
    /// Most entries in a stream node (0 = no limit). Default 100. Runtime:
    /// modifiable.
    pub stream_node_max_entries: u64,
    /// Who may run DEBUG: no, yes or local. Default no, as Redis 7.0.
    /// Runtime: startup only.
    pub enable_debug_command: ProtectedCommand,
    /// A sparse HyperLogLog converts to the dense encoding once it would
    /// grow past this many bytes (header included). Default 3000. Runtime:
    /// modifiable.
    pub hll_sparse_max_bytes: u64,
    /// The memcached front end.
    pub memcache: MemcacheConfig,
    /// The Prometheus endpoint.
    pub metrics: MetricsConfig,
}

/// `[memcache]`: the memcached listener and store (memcached 1.6 flags in
/// brackets). Startup only.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemcacheConfig {
    /// memcached TCP port (`-p`); 0 = off. Default 11211.
    pub port: u16,
    /// Addresses the memcached listeners bind (`-l`), at most 16; empty =
    /// every interface. Default `["127.0.0.1"]`.
    pub bind: Vec<String>,
    /// Path of the memcached Unix socket (`-s`); `""` = none. Default `""`.
    pub unixsocket: String,
    /// Permission bits of that socket (`-a`, octal in TOML). Default 700.
    pub unixsocketperm: u32,
    /// memcached UDP port (`-U`); 0 = off. Default 0: UDP amplifies
    /// attacks, so it is opt-in (DESIGN.md decision 11).
    pub udp_port: u16,
    /// Memory for items, in MiB (`-m`). Default 64.
    pub memory_limit: u64,
    /// Largest item in bytes (`-I`), 1 KiB..=1 GiB and at most half of
    /// `memory_limit`, as memcached requires. Default 1 MiB.
    pub max_item_size: u64,
    /// Most simultaneous memcached connections (`-c`). Default 1024.
    pub max_connections: u32,
    /// Where memcached keys live (DESIGN.md decision 3). Default separate.
    pub keyspace: Keyspace,
}

/// `[metrics]`: the Prometheus `/metrics` HTTP endpoint. Startup only.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// Address the endpoint binds. Default `"127.0.0.1"`.
    pub bind: String,
    /// TCP port of the endpoint; 0 = off. Default 9630.
    pub port: u16,
}

/// Declares a fieldless enum spelled in lower case in TOML and Redis.
macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant,)+
        }

        impl $name {
            /// Every accepted name, in declaration order.
            pub const NAMES: &'static [&'static str] = &[$($text),+];

            /// The name as written in TOML and printed by `CONFIG GET`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// The variant called `name` (exact, lower case).
            pub fn from_name(name: &str) -> Option<Self> {
                match name {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FieldType for $name {
            fn to_value(&self) -> Value {
                Value::Str(self.as_str().to_owned())
            }
            fn from_value(value: Value) -> Option<Self> {
                match value {
                    Value::Str(s) => Self::from_name(&s),
                    _ => None,
                }
            }
        }
    };
}

named_enum! {
    /// Log verbosity, Redis 7.0's four levels (`nothing` arrived in 7.2).
    LogLevel {
        /// Everything, for development.
        Debug = "debug",
        /// Rarely useful detail, less than debug.
        Verbose = "verbose",
        /// Moderately verbose, for production.
        Notice = "notice",
        /// Only very important or critical messages.
        Warning = "warning",
    }
}

named_enum! {
    /// How the connection threads serialise access to the keyspace.
    ExecutionModel {
        /// The thread that read a pipelined batch takes the keyspace lock
        /// once for the whole batch.
        Lock = "lock",
        /// One engine thread owns the keyspace; connection tasks send it
        /// batches and wait for the replies.
        Engine = "engine",
    }
}

named_enum! {
    /// Who may run DEBUG (redis-server's `enable-debug-command`).
    ProtectedCommand {
        /// Nobody.
        No = "no",
        /// Every client.
        Yes = "yes",
        /// Clients connected over loopback or a Unix socket.
        Local = "local",
    }
}

named_enum! {
    /// Where memcached clients' keys live.
    Keyspace {
        /// The memcached store: own namespace, memcached semantics.
        Separate = "separate",
        /// Redis strings in db 0, visible to Redis clients.
        Shared = "shared",
    }
}

/// A Rust field type that `FIELDS` can read and write as a [`Value`].
pub(crate) trait FieldType: Sized {
    /// The current value.
    fn to_value(&self) -> Value;
    /// Converts back; `None` when the value does not fit the type (which
    /// the kind's checks rule out, so a `None` is a schema bug).
    fn from_value(value: Value) -> Option<Self>;
}

macro_rules! int_field_type {
    ($($t:ty),+) => {$(
        impl FieldType for $t {
            fn to_value(&self) -> Value {
                // Every field type fits in i64 except u64 beyond i64::MAX,
                // which no kind admits; saturating keeps that case visible
                // to `validate` instead of panicking.
                Value::Int(i64::try_from(*self).unwrap_or(i64::MAX))
            }
            fn from_value(value: Value) -> Option<Self> {
                match value {
                    Value::Int(n) => <$t>::try_from(n).ok(),
                    _ => None,
                }
            }
        }
    )+};
}
int_field_type!(u16, u32, u64, i64);

impl FieldType for String {
    fn to_value(&self) -> Value {
        Value::Str(self.clone())
    }
    fn from_value(value: Value) -> Option<Self> {
        match value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
}

impl FieldType for Vec<String> {
    fn to_value(&self) -> Value {
        Value::List(self.clone())
    }
    fn from_value(value: Value) -> Option<Self> {
        match value {
            Value::List(items) => Some(items),
            _ => None,
        }
    }
}

/// One configuration key: its dotted path, its kind and typed access.
pub(crate) struct Field {
    /// Dotted TOML path, e.g. `memcache.port`.
    pub key: &'static str,
    /// What the key accepts.
    pub kind: Kind,
    /// Reads the field.
    pub get: fn(&Config) -> Value,
    /// Writes the field; false if the value does not fit its type.
    pub set: fn(&mut Config, Value) -> bool,
}

/// Builds a [`Field`] row from the field's path in `Config`.
macro_rules! field {
    (@row $key:expr, $kind:expr, $($path:ident).+) => {
        Field {
            key: $key,
            kind: $kind,
            get: |c| FieldType::to_value(&c.$($path).+),
            set: |c, v| match FieldType::from_value(v) {
                Some(x) => {
                    c.$($path).+ = x;
                    true
                }
                None => false,
            },
        }
    };
    ($name:ident, $kind:expr) => {
        field!(@row stringify!($name), $kind, $name)
    };
    ($section:ident . $name:ident, $kind:expr) => {
        field!(@row concat!(stringify!($section), ".", stringify!($name)), $kind, $section.$name)
    };
}

const I32_MAX: i64 = i32::MAX as i64;
const PORT: Kind = Kind::Int {
    min: 0,
    max: 65535,
    clamp: None,
};
const PERMISSION: Kind = Kind::Octal { min: 0, max: 0o777 };

/// Plain integer kind without clamping.
const fn int(min: i64, max: i64) -> Kind {
    Kind::Int {
        min,
        max,
        clamp: None,
    }
}

/// The tables of `Config`, by dotted path.
pub(crate) const SECTIONS: &[&str] = &["memcache", "metrics"];

/// Every key of the schema. Ranges are Redis 7.0.15's (or memcached
/// 1.6's) unless the field's doc says otherwise.
pub(crate) static FIELDS: &[Field] = &[
    field!(bind, Kind::AddrList),
    field!(port, PORT),
    field!(unixsocket, Kind::Str),
    field!(unixsocketperm, PERMISSION),
    field!(tcp_backlog, int(0, I32_MAX)),
    field!(timeout, int(0, I32_MAX)),
    field!(tcp_keepalive, int(0, I32_MAX)),
    field!(maxclients, int(1, u32::MAX as i64)),
    field!(databases, int(1, I32_MAX)),
    field!(
        client_query_buffer_limit,
        Kind::Memory {
            min: 1 << 20,
            max: i64::MAX
        }
    ),
    field!(
        proto_max_bulk_len,
        Kind::Memory {
            min: 1 << 20,
            max: i64::MAX
        }
    ),
    field!(
        hz,
        Kind::Int {
            min: 0,
            max: I32_MAX,
            clamp: Some((1, 500))
        }
    ),
    field!(loglevel, Kind::Enum(LogLevel::NAMES)),
    field!(logfile, Kind::Str),
    field!(io_threads, int(0, 128)),
    field!(execution_model, Kind::Enum(ExecutionModel::NAMES)),
    field!(hash_max_listpack_entries, int(0, i64::MAX)),
    field!(
        hash_max_listpack_value,
        Kind::Memory {
            min: 0,
            max: i64::MAX
        }
    ),
    field!(set_max_intset_entries, int(0, i64::MAX)),
    field!(zset_max_listpack_entries, int(0, i64::MAX)),
    field!(
        zset_max_listpack_value,
        Kind::Memory {
            min: 0,
            max: i64::MAX
        }
    ),
    field!(list_max_listpack_size, int(i32::MIN as i64, I32_MAX)),
    field!(list_compress_depth, int(0, I32_MAX)),
    field!(
        stream_node_max_bytes,
        Kind::Memory {
            min: 0,
            max: i64::MAX
        }
    ),
    field!(stream_node_max_entries, int(0, i64::MAX)),
    field!(enable_debug_command, Kind::Enum(ProtectedCommand::NAMES)),
    field!(
        hll_sparse_max_bytes,
        Kind::Memory {
            min: 0,
            max: i64::MAX
        }
    ),
    field!(memcache.port, PORT),
    field!(memcache.bind, Kind::AddrList),
    field!(memcache.unixsocket, Kind::Str),
    field!(memcache.unixsocketperm, PERMISSION),
    field!(memcache.udp_port, PORT),
    // Capped so that the limit in bytes fits in an i64.
    field!(memcache.memory_limit, int(1, i64::MAX >> 20)),
    field!(
        memcache.max_item_size,
        Kind::Memory {
            min: 1024,
            max: 1 << 30
        }
    ),
    field!(memcache.max_connections, int(1, I32_MAX)),
    field!(memcache.keyspace, Kind::Enum(Keyspace::NAMES)),
    field!(metrics.bind, Kind::Addr),
    field!(metrics.port, PORT),
];

/// The row for a dotted key.
pub(crate) fn field(key: &str) -> Option<&'static Field> {
    FIELDS.iter().find(|f| f.key == key)
}

/// Renders a value for messages: octal kinds in octal, strings quoted.
pub(crate) fn show(kind: &Kind, value: &Value) -> String {
    match (kind, value) {
        (Kind::Octal { .. }, Value::Int(n)) if *n >= 0 => format!("{n:o}"),
        (_, Value::Int(n)) => n.to_string(),
        (_, Value::Str(s)) => format!("{s:?}"),
        (_, Value::List(items)) => format!("{items:?}"),
    }
}

impl Config {
    /// Checks every key against its range and the rules that span keys,
    /// reporting every problem. [`Config::load`](crate::Config::load)
    /// already did this; call it after changing fields in code.
    pub fn validate(&self) -> Result<(), ConfigErrors> {
        let mut errors = Vec::new();
        for f in FIELDS {
            let value = (f.get)(self);
            if f.kind.check(&value).is_err() {
                let message = format!(
                    "expected {}, got {}",
                    f.kind.expected(),
                    show(&f.kind, &value)
                );
                errors.push(ConfigError::new(f.key, message));
            }
        }
        self.check_across_keys(&mut errors);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ConfigErrors(errors))
        }
    }

    /// The rules involving more than one key.
    pub(crate) fn check_across_keys(&self, errors: &mut Vec<ConfigError>) {
        let mc = &self.memcache;
        // memcached: "Cannot set item size limit higher than 1/2 of memory max."
        let half_memory = mc.memory_limit.saturating_mul(MIB) / 2;
        if mc.max_item_size > half_memory {
            errors.push(ConfigError::new(
                "memcache.max_item_size",
                format!(
                    "must be at most half of memcache.memory_limit ({half_memory} bytes), got {}",
                    mc.max_item_size
                ),
            ));
        }
        // Redis refuses to start when it would listen nowhere; with two
        // front ends, that is when both are off.
        if self.port == 0
            && self.unixsocket.is_empty()
            && mc.port == 0
            && mc.udp_port == 0
            && mc.unixsocket.is_empty()
        {
            errors.push(ConfigError::new(
                "",
                "configured to not listen anywhere: port, unixsocket, memcache.port, \
                 memcache.udp_port and memcache.unixsocket are all off",
            ));
        }
    }

    /// The configuration as TOML that [`Config::load`](crate::Config::load)
    /// reads back to an equal `Config` (for `--print-config` style output).
    pub fn to_toml(&self) -> String {
        let mut out = String::new();
        for section in std::iter::once("").chain(SECTIONS.iter().copied()) {
            if !section.is_empty() {
                out.push_str(&format!("\n[{section}]\n"));
            }
            for f in FIELDS {
                let (head, name) = match f.key.split_once('.') {
                    Some((head, name)) => (head, name),
                    None => ("", f.key),
                };
                if head != section {
                    continue;
                }
                let value = match (f.kind, (f.get)(self)) {
                    // Octal digits, which the loader reads back as octal.
                    (Kind::Octal { .. }, Value::Int(n)) => format!("{n:o}"),
                    (_, Value::Int(n)) => n.to_string(),
                    (_, Value::Str(s)) => toml::Value::String(s).to_string(),
                    (_, Value::List(items)) => {
                        toml::Value::Array(items.into_iter().map(toml::Value::String).collect())
                            .to_string()
                    }
                };
                out.push_str(&format!("{name} = {value}\n"));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_sections_known() {
        for (i, f) in FIELDS.iter().enumerate() {
            assert!(
                FIELDS[..i].iter().all(|g| g.key != f.key),
                "duplicate {}",
                f.key
            );
            if let Some((section, _)) = f.key.split_once('.') {
                assert!(SECTIONS.contains(&section), "{} has no section", f.key);
            }
        }
    }

    #[test]
    fn every_field_round_trips_through_its_row() {
        let mut config = Config::default();
        for f in FIELDS {
            let value = (f.get)(&config);
            assert!(
                (f.set)(&mut config, value.clone()),
                "{} refused its own value",
                f.key
            );
            assert_eq!((f.get)(&config), value, "{}", f.key);
        }
    }

    #[test]
    fn enums_know_their_names() {
        assert_eq!(LogLevel::from_name("warning"), Some(LogLevel::Warning));
        assert_eq!(LogLevel::Notice.to_string(), "notice");
        assert_eq!(ExecutionModel::NAMES, ["lock", "engine"]);
        assert_eq!(Keyspace::from_name("Shared"), None, "exact names only");
    }

    #[test]
    fn validate_reports_every_problem() {
        let mut config = Config {
            databases: 0,
            hz: 1000,
            maxclients: 0,
            bind: vec!["a b".into()],
            ..Config::default()
        };
        config.memcache.unixsocketperm = 0o1000;
        let errors = config.validate().expect_err("invalid").to_string();
        assert_eq!(
            errors,
            "bind: expected a list of at most 16 addresses (each non-empty, no spaces), got [\"a b\"]\n\
             maxclients: expected an integer 1..=4294967295, got 0\n\
             databases: expected an integer 1..=2147483647, got 0\n\
             hz: expected an integer 0..=2147483647 (used as 1..=500), got 1000\n\
             memcache.unixsocketperm: expected an octal permission 0..=777 (like 700), got 1000"
        );
    }

    #[test]
    fn item_size_is_at_most_half_the_memory() {
        let mut config = Config::default();
        config.memcache.memory_limit = 1;
        let errors = config
            .validate()
            .expect_err("1 MiB items in 1 MiB")
            .to_string();
        assert_eq!(
            errors,
            "memcache.max_item_size: must be at most half of memcache.memory_limit (524288 bytes), got 1048576"
        );
        config.memcache.max_item_size = 512 * 1024;
        assert_eq!(config.validate(), Ok(()));
    }

    #[test]
    fn some_listener_is_required() {
        let mut config = Config {
            port: 0,
            ..Config::default()
        };
        config.memcache.port = 0;
        assert!(config.validate().is_err());
        config.memcache.unixsocket = "/tmp/mc.sock".into();
        assert_eq!(config.validate(), Ok(()));
    }
}
