//! `CONFIG GET` and `CONFIG SET` under Redis parameter names.
//!
//! Owns the table of Redis parameters cachegate has ([`REDIS_PARAMS`]),
//! their runtime mutability (Redis 7.0.15's flags), the rendering Redis
//! uses for each value, and Redis 7.0.15's CONFIG SET checks and error
//! texts. It does not apply changes to a running server: [`set`] returns
//! the names whose value changed and the server reacts to those.
//!
//! Facts checked against redis-server 7.0.15 (`redis-cli config get/set`):
//!
//! * Names match case-insensitively. `CONFIG GET` with a pattern free of
//!   `*`, `?` and `[` is an exact lookup and answers with the name as the
//!   client spelled it (`PORT`); a glob answers with the parameter's own
//!   name. A name is listed once per call even if several patterns match.
//! * Sizes print as plain byte counts, `unixsocketperm` in octal, enums in
//!   lower case, `bind` space-separated, `""` for an unset path.
//! * CONFIG SET checks every name first (the first unknown, immutable or
//!   duplicate name wins, in argument order), then parses the values in
//!   order and stops at the first bad one; nothing changes unless all are
//!   good. A value equal to the current one is not a change.
//! * `hz` accepts 0..=2147483647 and stores it clamped to 1..=500.

use std::borrow::Cow;
use std::fmt;

use crate::glob::{Case, Pattern};
use crate::kind::{Kind, TextSource, Value};
use crate::schema::{self, Config, Field};

/// One parameter known to `CONFIG GET/SET`.
#[derive(Debug)]
pub struct RedisParam {
    /// Redis's name, e.g. `tcp-backlog`.
    pub name: &'static str,
    /// Other names Redis accepts for it (like `slaveof` for `replicaof`).
    pub aliases: &'static [&'static str],
    /// Whether `CONFIG SET` may change it (Redis's `MODIFIABLE_CONFIG`).
    pub modifiable: bool,
    /// The dotted key in [`Config`] and `default.toml`.
    pub key: &'static str,
}

/// Builds a row; the key must be the Redis name with `_` for `-` (a test
/// checks).
macro_rules! param {
    ($name:literal, $key:literal, $mutability:ident) => {
        RedisParam {
            name: $name,
            aliases: &[],
            modifiable: matches!(Mutability::$mutability, Mutability::Modifiable),
            key: $key,
        }
    };
}

/// A row with other names Redis accepts (the old `*-ziplist-*` names).
macro_rules! aliased {
    ($name:literal, [$($alias:literal),+], $key:literal, $mutability:ident) => {
        RedisParam {
            name: $name,
            aliases: &[$($alias),+],
            modifiable: matches!(Mutability::$mutability, Mutability::Modifiable),
            key: $key,
        }
    };
}

/// Row flag, spelled out for readability in the table.
enum Mutability {
    Modifiable,
    Immutable,
}

/// The Redis parameters cachegate answers for, with Redis 7.0.15's flags.
pub static REDIS_PARAMS: &[RedisParam] = &[
    param!("bind", "bind", Modifiable),
    param!("port", "port", Modifiable),
    param!("unixsocket", "unixsocket", Immutable),
    param!("unixsocketperm", "unixsocketperm", Immutable),
    param!("tcp-backlog", "tcp_backlog", Immutable),
    param!("timeout", "timeout", Modifiable),
    param!("tcp-keepalive", "tcp_keepalive", Modifiable),
    param!("maxclients", "maxclients", Modifiable),
    param!("databases", "databases", Immutable),
    param!(
        "client-query-buffer-limit",
        "client_query_buffer_limit",
        Modifiable
    ),
    param!("proto-max-bulk-len", "proto_max_bulk_len", Modifiable),
    param!("hz", "hz", Modifiable),
    param!("loglevel", "loglevel", Modifiable),
    param!("logfile", "logfile", Immutable),
    param!("io-threads", "io_threads", Immutable),
    aliased!(
        "hash-max-listpack-entries",
        ["hash-max-ziplist-entries"],
        "hash_max_listpack_entries",
        Modifiable
    ),
    aliased!(
        "hash-max-listpack-value",
        ["hash-max-ziplist-value"],
        "hash_max_listpack_value",
        Modifiable
    ),
    param!(
        "set-max-intset-entries",
        "set_max_intset_entries",
        Modifiable
    ),
    aliased!(
        "zset-max-listpack-entries",
        ["zset-max-ziplist-entries"],
        "zset_max_listpack_entries",
        Modifiable
    ),
    aliased!(
        "zset-max-listpack-value",
        ["zset-max-ziplist-value"],
        "zset_max_listpack_value",
        Modifiable
    ),
    aliased!(
        "list-max-listpack-size",
        ["list-max-ziplist-size"],
        "list_max_listpack_size",
        Modifiable
    ),
    param!("list-compress-depth", "list_compress_depth", Modifiable),
    param!("stream-node-max-bytes", "stream_node_max_bytes", Modifiable),
    param!(
        "stream-node-max-entries",
        "stream_node_max_entries",
        Modifiable
    ),
    param!("enable-debug-command", "enable_debug_command", Immutable),
    param!("hll-sparse-max-bytes", "hll_sparse_max_bytes", Modifiable),
];

/// Reason Redis gives when the new `port` cannot be listened on; for the
/// server's [`ConfigSetError::ApplyFailed`].
pub const PORT_APPLY_ERROR: &str = "Unable to listen on this port. Check server logs.";

/// Reason Redis gives when the new `bind` addresses cannot be bound.
pub const BIND_APPLY_ERROR: &str = "Failed to bind to specified addresses.";

/// Reason Redis gives when the open-file limit cannot cover `maxclients`;
/// `try_with` is the number of clients it can serve.
pub fn maxclients_apply_error(try_with: u32) -> String {
    format!("The operating system is not able to handle the specified number of clients, try with {try_with}")
}

impl RedisParam {
    /// Every name of the parameter, its own first.
    pub fn names(&self) -> impl Iterator<Item = &'static str> {
        std::iter::once(self.name).chain(self.aliases.iter().copied())
    }

    /// The schema row behind the parameter (a test checks every key exists).
    fn field(&self) -> Option<&'static Field> {
        schema::field(self.key)
    }

    /// The value as `CONFIG GET` prints it.
    pub fn get(&self, config: &Config) -> String {
        let Some(field) = self.field() else {
            return String::new();
        };
        match (field.kind, (field.get)(config)) {
            (Kind::Octal { .. }, Value::Int(n)) => format!("{n:o}"),
            (_, Value::Int(n)) => n.to_string(),
            (_, Value::Str(s)) => s,
            (_, Value::List(items)) => items.join(" "),
        }
    }

    /// Parses `value` as CONFIG SET does and stores it in `config`. On
    /// error, returns Redis's reason text and leaves `config` unchanged.
    /// Does not look at [`RedisParam::modifiable`]; [`set`] does.
    pub fn set(&self, config: &mut Config, value: &[u8]) -> Result<(), Cow<'static, str>> {
        let field = self.field().ok_or("unknown parameter")?;
        let parsed = field
            .kind
            .parse_text(value, TextSource::ConfigSet)
            .map_err(|reject| field.kind.redis_reason(&reject))?;
        if (field.set)(config, parsed) {
            Ok(())
        } else {
            Err("argument couldn't be parsed".into())
        }
    }
}

/// The parameter called `name` (any case, any of its names).
pub fn lookup(name: &[u8]) -> Option<&'static RedisParam> {
    REDIS_PARAMS
        .iter()
        .find(|p| p.names().any(|n| n.as_bytes().eq_ignore_ascii_case(name)))
}

/// `CONFIG GET <pattern>`: `(name, value)` pairs in table order.
pub fn get_matching<'a>(config: &Config, pattern: &'a [u8]) -> Vec<(&'a [u8], String)> {
    get_many(config, &[pattern])
}

/// `CONFIG GET <pattern> [<pattern> …]` (Redis 7 takes several): the union,
/// each name once, in the order first found.
pub fn get_many<'a>(config: &Config, patterns: &[&'a [u8]]) -> Vec<(&'a [u8], String)> {
    let mut found: Vec<(&'a [u8], String)> = Vec::new();
    let seen = |found: &Vec<(&[u8], String)>, name: &[u8]| {
        found.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
    };
    for &pattern in patterns {
        // Redis looks at the pattern as a C string here, so a NUL ends it.
        let head = pattern.split(|&b| b == 0).next().unwrap_or_default();
        if !head.iter().any(|b| matches!(b, b'*' | b'?' | b'[')) {
            if let Some(param) = lookup(pattern) {
                if !seen(&found, pattern) {
                    found.push((pattern, param.get(config)));
                }
            }
            continue;
        }
        let glob = Pattern::new(head, Case::Insensitive);
        for param in REDIS_PARAMS {
            for name in param.names() {
                if !seen(&found, name.as_bytes()) && glob.matches(name.as_bytes()) {
                    found.push((name.as_bytes(), param.get(config)));
                }
            }
        }
    }
    found
}

/// `CONFIG SET <name> <value> [<name> <value> …]`, all or nothing.
///
/// Returns the parameters whose value changed (own names, in argument
/// order); the server applies those. An odd argument count is the
/// caller's `ERR syntax error`. To mirror Redis when applying fails, keep
/// a clone of `config` from before the call, restore it, and reply
/// [`ConfigSetError::ApplyFailed`].
pub fn set(
    config: &mut Config,
    pairs: &[(&[u8], &[u8])],
) -> Result<Vec<&'static str>, ConfigSetError> {
    // Pass 1: names. The first problem, in argument order, is reported.
    let mut params: Vec<&'static RedisParam> = Vec::with_capacity(pairs.len());
    for &(name, _) in pairs {
        let Some(param) = lookup(name) else {
            return Err(ConfigSetError::UnknownOption {
                name: name.to_vec(),
            });
        };
        if !param.modifiable {
            return Err(ConfigSetError::Immutable {
                name: name.to_vec(),
            });
        }
        if params.iter().any(|p| std::ptr::eq(*p, param)) {
            return Err(ConfigSetError::Duplicate {
                name: name.to_vec(),
            });
        }
        params.push(param);
    }
    // Pass 2: values, on a copy so that a bad value changes nothing.
    let mut updated = config.clone();
    for (param, &(_, value)) in params.iter().zip(pairs) {
        param
            .set(&mut updated, value)
            .map_err(|reason| ConfigSetError::BadValue {
                name: param.name,
                reason,
            })?;
    }
    let changed = params
        .iter()
        .filter(|p| p.get(config) != p.get(&updated))
        .map(|p| p.name)
        .collect();
    *config = updated;
    Ok(changed)
}

/// Why `CONFIG SET` refused; [`ConfigSetError::message`] is the reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigSetError {
    /// No such parameter.
    UnknownOption {
        /// The name as the client sent it.
        name: Vec<u8>,
    },
    /// The parameter cannot change at runtime.
    Immutable {
        /// The name as the client sent it.
        name: Vec<u8>,
    },
    /// The parameter appears twice in one call.
    Duplicate {
        /// The second occurrence, as the client sent it.
        name: Vec<u8>,
    },
    /// The value was refused.
    BadValue {
        /// The parameter's own name.
        name: &'static str,
        /// Redis's reason, e.g. `argument must be a memory value`.
        reason: Cow<'static, str>,
    },
    /// The server could not apply an accepted value; built by the server
    /// (for example with [`PORT_APPLY_ERROR`]), worded like `BadValue`.
    ApplyFailed {
        /// The parameter's own name.
        name: &'static str,
        /// Redis's reason, e.g. [`BIND_APPLY_ERROR`].
        reason: Cow<'static, str>,
    },
}

impl ConfigSetError {
    /// The error reply without its leading `-`, exactly as redis-server
    /// 7.0.15 words it, e.g. `ERR Unknown option or number of arguments for
    /// CONFIG SET - 'foo'`. Like Redis, a name is cut at a NUL byte and CR
    /// or LF become spaces, so the text is always a valid RESP error line.
    pub fn message(&self) -> Vec<u8> {
        let (name, reason): (&[u8], Option<&str>) = match self {
            ConfigSetError::UnknownOption { name } => (name, None),
            ConfigSetError::Immutable { name } => (name, Some("can't set immutable config")),
            ConfigSetError::Duplicate { name } => (name, Some("duplicate parameter")),
            ConfigSetError::BadValue { name, reason }
            | ConfigSetError::ApplyFailed { name, reason } => (name.as_bytes(), Some(reason)),
        };
        let name = name.split(|&b| b == 0).next().unwrap_or_default();
        let mut out = Vec::with_capacity(80 + name.len());
        match reason {
            None => {
                out.extend_from_slice(
                    b"ERR Unknown option or number of arguments for CONFIG SET - '",
                );
                out.extend_from_slice(name);
                out.push(b'\'');
            }
            Some(reason) => {
                out.extend_from_slice(b"ERR CONFIG SET failed (possibly related to argument '");
                out.extend_from_slice(name);
                out.extend_from_slice(b"') - ");
                out.extend_from_slice(reason.as_bytes());
            }
        }
        for b in &mut out {
            if *b == b'\r' || *b == b'\n' {
                *b = b' ';
            }
        }
        out
    }
}

impl fmt::Display for ConfigSetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.message()))
    }
}

impl std::error::Error for ConfigSetError {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::LogLevel;

    fn set_str(config: &mut Config, pairs: &[(&str, &str)]) -> Result<Vec<&'static str>, String> {
        let pairs: Vec<(&[u8], &[u8])> = pairs
            .iter()
            .map(|(n, v)| (n.as_bytes(), v.as_bytes()))
            .collect();
        set(config, &pairs).map_err(|e| e.to_string())
    }

    fn get_str(config: &Config, pattern: &str) -> Vec<(String, String)> {
        get_matching(config, pattern.as_bytes())
            .into_iter()
            .map(|(n, v)| (String::from_utf8_lossy(n).into_owned(), v))
            .collect()
    }

    fn pair(name: &str, value: &str) -> (String, String) {
        (name.to_owned(), value.to_owned())
    }

    #[test]
    fn table_is_sound() {
        let config = Config::default();
        for (i, p) in REDIS_PARAMS.iter().enumerate() {
            assert!(
                p.field().is_some(),
                "{} has no schema key {}",
                p.name,
                p.key
            );
            assert_eq!(
                p.key,
                p.name.replace('-', "_"),
                "key follows the Redis name"
            );
            assert!(
                REDIS_PARAMS[..i].iter().all(|q| q.name != p.name),
                "duplicate {}",
                p.name
            );
            let mut copy = config.clone();
            assert_eq!(
                p.set(&mut copy, p.get(&config).as_bytes()),
                Ok(()),
                "{}",
                p.name
            );
            assert_eq!(copy, config, "{} round-trips", p.name);
        }
    }

    /// What redis-server 7.0.15 prints for the same values.
    #[test]
    fn get_renders_like_redis() {
        let config = Config {
            unixsocketperm: 0o700,
            bind: vec!["127.0.0.1".into(), "-::1".into()],
            ..Config::default()
        };
        let all: Vec<(String, String)> = get_str(&config, "*");
        assert_eq!(
            all,
            [
                pair("bind", "127.0.0.1 -::1"),
                pair("port", "6379"),
                pair("unixsocket", ""),
                pair("unixsocketperm", "700"),
                pair("tcp-backlog", "511"),
                pair("timeout", "0"),
                pair("tcp-keepalive", "300"),
                pair("maxclients", "10000"),
                pair("databases", "16"),
                pair("client-query-buffer-limit", "1073741824"),
                pair("proto-max-bulk-len", "536870912"),
                pair("hz", "10"),
                pair("loglevel", "notice"),
                pair("logfile", ""),
                pair("io-threads", "0"),
                pair("hash-max-listpack-entries", "512"),
                pair("hash-max-ziplist-entries", "512"),
                pair("hash-max-listpack-value", "64"),
                pair("hash-max-ziplist-value", "64"),
                pair("set-max-intset-entries", "512"),
                pair("zset-max-listpack-entries", "128"),
                pair("zset-max-ziplist-entries", "128"),
                pair("zset-max-listpack-value", "64"),
                pair("zset-max-ziplist-value", "64"),
                pair("list-max-listpack-size", "-2"),
                pair("list-max-ziplist-size", "-2"),
                pair("list-compress-depth", "0"),
                pair("stream-node-max-bytes", "4096"),
                pair("stream-node-max-entries", "100"),
                pair("enable-debug-command", "no"),
                pair("hll-sparse-max-bytes", "3000"),
            ]
        );
    }

    #[test]
    fn get_matching_globs_and_names() {
        let config = Config::default();
        assert_eq!(
            get_str(&config, "PORT"),
            [pair("PORT", "6379")],
            "exact: client's spelling"
        );
        assert_eq!(
            get_str(&config, "P*RT"),
            [pair("port", "6379")],
            "glob: own name"
        );
        assert_eq!(get_str(&config, "[^]ort"), [pair("port", "6379")]);
        assert_eq!(get_str(&config, "max*"), [pair("maxclients", "10000")]);
        assert_eq!(
            get_str(&config, "*port*"),
            [pair("port", "6379")],
            "only parameters cachegate has"
        );
        assert_eq!(
            get_str(&config, "tcp-*"),
            [pair("tcp-backlog", "511"), pair("tcp-keepalive", "300")]
        );
        assert!(get_str(&config, "maxmemory").is_empty());
        assert!(
            get_str(&config, "p\\ort").is_empty(),
            "no glob character: exact lookup"
        );
        assert!(get_str(&config, "").is_empty());
        let names: usize = REDIS_PARAMS.iter().map(|p| p.names().count()).sum();
        assert_eq!(get_str(&config, "*").len(), names);
    }

    #[test]
    fn get_many_lists_each_name_once() {
        let config = Config::default();
        let found = get_many(&config, &[b"port", b"PORT", b"*ort", b"h?"]);
        let names: Vec<&[u8]> = found.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, [&b"port"[..], b"hz"]);
        let found = get_many(&config, &[b"PORT", b"port"]);
        assert_eq!(found, [(&b"PORT"[..], "6379".to_owned())]);
    }

    #[test]
    fn set_applies_and_reports_changes() {
        let mut config = Config::default();
        assert_eq!(
            set_str(&mut config, &[("port", "7000"), ("HZ", "1000")]),
            Ok(vec!["port", "hz"])
        );
        assert_eq!((config.port, config.hz), (7000, 500));
        assert_eq!(
            set_str(&mut config, &[("hz", "600"), ("timeout", "0")]),
            Ok(vec![]),
            "no change"
        );
        assert_eq!(
            set_str(&mut config, &[("loglevel", "WARNING")]),
            Ok(vec!["loglevel"])
        );
        assert_eq!(config.loglevel, LogLevel::Warning);
        assert_eq!(
            set_str(&mut config, &[("bind", "127.0.0.1 ::1")]),
            Ok(vec!["bind"])
        );
        assert_eq!(get_str(&config, "bind"), [pair("bind", "127.0.0.1 ::1")]);
        assert_eq!(set_str(&mut config, &[("bind", "")]), Ok(vec!["bind"]));
        assert!(config.bind.is_empty());
        assert_eq!(
            set_str(&mut config, &[("proto-max-bulk-len", "2MB")]),
            Ok(vec!["proto-max-bulk-len"])
        );
        assert_eq!(config.proto_max_bulk_len, 2 << 20);
        assert_eq!(
            set_str(
                &mut config,
                &[
                    ("client-query-buffer-limit", "1048576"),
                    ("maxclients", "4294967295")
                ]
            ),
            Ok(vec!["client-query-buffer-limit", "maxclients"])
        );
        assert_eq!(set(&mut config, &[]), Ok(vec![]));
    }

    #[test]
    fn set_is_all_or_nothing() {
        let mut config = Config::default();
        let before = config.clone();
        let result = set_str(
            &mut config,
            &[("timeout", "5"), ("hz", "20"), ("port", "abc")],
        );
        assert_eq!(
            result,
            Err("ERR CONFIG SET failed (possibly related to argument 'port') - argument couldn't be parsed into an integer".into())
        );
        assert_eq!(config, before);
        let result = set_str(&mut config, &[("timeout", "5"), ("databases", "4")]);
        assert!(result.is_err());
        assert_eq!(config, before);
    }

    /// Every text below was produced by redis-server 7.0.15 for the same
    /// CONFIG SET arguments.
    #[test]
    fn set_errors_match_redis() {
        let failed = |name: &str, reason: &str| {
            format!("ERR CONFIG SET failed (possibly related to argument '{name}') - {reason}")
        };
        let unknown = "ERR Unknown option or number of arguments for CONFIG SET - 'foo'".to_owned();
        let int = "argument couldn't be parsed into an integer";
        let memory = "argument must be a memory value";
        let bulk_range = "argument must be between 1048576 and 9223372036854775807 inclusive";
        let immutable = "can't set immutable config";
        let cases: &[(&[(&str, &str)], String)] = &[
            (&[("foo", "bar")], unknown.clone()),
            (&[("port", "7399"), ("foo", "bar")], unknown.clone()),
            (&[("foo", "bar"), ("databases", "4")], unknown.clone()),
            (&[("databases", "4")], failed("databases", immutable)),
            (&[("DATABASES", "4")], failed("DATABASES", immutable)),
            (
                &[("databases", "4"), ("foo", "bar")],
                failed("databases", immutable),
            ),
            (
                &[("port", "1"), ("PORT", "2")],
                failed("PORT", "duplicate parameter"),
            ),
            (&[("port", "abc")], failed("port", int)),
            (&[("PORT", "abc")], failed("port", int)),
            (&[("port", "abc"), ("hz", "xyz")], failed("port", int)),
            (
                &[("port", "70000")],
                failed("port", "argument must be between 0 and 65535 inclusive"),
            ),
            (
                &[("port", "-1")],
                failed("port", "argument must be between 0 and 65535 inclusive"),
            ),
            (
                &[("maxclients", "-1")],
                failed(
                    "maxclients",
                    "argument must be between 1 and 4294967295 inclusive",
                ),
            ),
            (
                &[("maxclients", "0")],
                failed(
                    "maxclients",
                    "argument must be between 1 and 4294967295 inclusive",
                ),
            ),
            (&[("maxclients", "abc")], failed("maxclients", int)),
            (
                &[("proto-max-bulk-len", "abc")],
                failed("proto-max-bulk-len", memory),
            ),
            (
                &[("proto-max-bulk-len", "1k")],
                failed("proto-max-bulk-len", bulk_range),
            ),
            (
                &[("proto-max-bulk-len", "99999999999999999999")],
                failed("proto-max-bulk-len", bulk_range),
            ),
            (
                &[("proto-max-bulk-len", "")],
                failed("proto-max-bulk-len", bulk_range),
            ),
            (
                &[("client-query-buffer-limit", "-5")],
                failed("client-query-buffer-limit", memory),
            ),
            (
                &[("loglevel", "nothing")],
                failed(
                    "loglevel",
                    "argument(s) must be one of the following: debug, verbose, notice, warning",
                ),
            ),
            (
                &[("loglevel", "")],
                failed(
                    "loglevel",
                    "argument(s) must be one of the following: debug, verbose, notice, warning",
                ),
            ),
            (
                &[("hz", "-1")],
                failed("hz", "argument must be between 0 and 2147483647 inclusive"),
            ),
            (&[("timeout", " 5")], failed("timeout", int)),
            (&[("timeout", "+5")], failed("timeout", int)),
            (&[("timeout", "05")], failed("timeout", int)),
            (
                &[("unixsocketperm", "777")],
                failed("unixsocketperm", immutable),
            ),
            (&[("io-threads", "2")], failed("io-threads", immutable)),
            (&[("logfile", "x")], failed("logfile", immutable)),
            (&[("unixsocket", "/tmp/x")], failed("unixsocket", immutable)),
            (&[("tcp-backlog", "5")], failed("tcp-backlog", immutable)),
            (
                &[("bind", &["a"; 17].join(" "))],
                failed("bind", "Too many bind addresses specified."),
            ),
        ];
        for (pairs, want) in cases {
            let mut config = Config::default();
            assert_eq!(set_str(&mut config, pairs).as_ref(), Err(want), "{pairs:?}");
            assert_eq!(config, Config::default(), "{pairs:?} changed nothing");
        }
    }

    #[test]
    fn error_text_is_a_safe_resp_line() {
        let mut config = Config::default();
        let err = set(&mut config, &[(b"fo\r\no", b"1")]).expect_err("unknown");
        assert_eq!(
            err.message(),
            b"ERR Unknown option or number of arguments for CONFIG SET - 'fo  o'".to_vec()
        );
        let err = set(&mut config, &[(b"bad\0name", b"1")]).expect_err("unknown");
        assert_eq!(
            err.to_string(),
            "ERR Unknown option or number of arguments for CONFIG SET - 'bad'"
        );
        let err = ConfigSetError::ApplyFailed {
            name: "port",
            reason: PORT_APPLY_ERROR.into(),
        };
        assert_eq!(
            err.to_string(),
            "ERR CONFIG SET failed (possibly related to argument 'port') - Unable to listen on this port. Check server logs."
        );
    }

    #[test]
    fn lookup_ignores_case() {
        assert_eq!(
            lookup(b"Tcp-KeepAlive").map(|p| p.name),
            Some("tcp-keepalive")
        );
        assert!(lookup(b"tcp_keepalive").is_none(), "Redis names use dashes");
        assert!(lookup(b"maxmemory").is_none());
    }
}
