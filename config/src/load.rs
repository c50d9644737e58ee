//! Loading: the embedded `default.toml`, then an optional TOML file, then
//! `CACHEGATE_*` environment variables, then command-line overrides; later
//! layers win, key by key.
//!
//! Owns layering, the walk that checks the merged tree against the schema,
//! and [`Config::default`]. Every problem is collected, each with its key's
//! path and the layer it came from, and returned together as
//! [`ConfigErrors`].
//!
//! The `config` crate does the layering: `File::from_str` for the embedded
//! defaults, `Environment` (prefix `CACHEGATE`, `__` between section and
//! key, injectable through `Environment::source`) for variables, and its
//! deep merge. Where it gets in the way we go around it:
//!
//! * The user file is read here and parsed with `FileFormat::Toml` into a
//!   custom source instead of `File::from(path)`, because `File` silently
//!   tries `<path>.toml` when `<path>` is missing, replaces invalid UTF-8,
//!   and reports I/O errors without the path.
//! * Command-line overrides are a custom source too, rather than
//!   `set_override`, which stops at the first malformed key and leaves no
//!   trace of where a value came from; ours tags each value so errors say
//!   `[command line]`.
//! * `try_deserialize` alone would stop at the first unknown key or bad
//!   value (as serde's `deny_unknown_fields` does), and it cannot read
//!   Redis memory units or octal permissions. So the merged tree is walked
//!   here against `schema::FIELDS`: each value is parsed by its kind and
//!   every problem recorded; only a clean, normalised tree is then handed
//!   to `try_deserialize`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

use config::{Environment, File, FileFormat, Format, Map, Source, ValueKind};

use crate::error::{ConfigError, ConfigErrors, Origin};
use crate::kind::{Kind, TextSource, Value};
use crate::schema::{self, Config};

/// The shipped defaults, compiled in: the one source of default values.
pub const DEFAULT_TOML: &str = include_str!("../default.toml");

/// Prefix of the environment variables read as configuration.
pub const ENV_PREFIX: &str = "CACHEGATE_";

/// Environment variable reserved for the path of the configuration file
/// (for the binary's flag parser); the loader does not treat it as a key.
pub const CONFIG_FILE_ENV: &str = "CACHEGATE_CONFIG";

/// Origin tag the `config` crate puts on environment values.
const ENV_TAG: &str = "the environment";
/// Origin tag we put on values from the user's file.
const FILE_TAG: &str = "cachegate:file";
/// Origin tag we put on command-line overrides.
const CLI_TAG: &str = "cachegate:command-line";

/// A ready-made map of values, as a `config` source.
#[derive(Clone, Debug)]
struct Layer(Map<String, config::Value>);

impl Source for Layer {
    fn clone_into_box(&self) -> Box<dyn Source + Send + Sync> {
        Box::new(self.clone())
    }

    fn collect(&self) -> Result<Map<String, config::Value>, config::ConfigError> {
        Ok(self.0.clone())
    }
}

impl Config {
    /// Loads the configuration: embedded defaults, then `file` if given,
    /// then the `CACHEGATE_*` entries of `env`, then `overrides`.
    ///
    /// `env` is injectable for tests; pass `std::env::vars()` or use
    /// [`Config::load_from_process`]. Variables name keys in upper case
    /// with `__` entering a section: `CACHEGATE_PORT=7000`,
    /// `CACHEGATE_MEMCACHE__MEMORY_LIMIT=128`; lists are space-separated
    /// (`CACHEGATE_BIND="127.0.0.1 ::1"`). [`CONFIG_FILE_ENV`] is skipped.
    ///
    /// `overrides` are `(dotted.key, value)` pairs from the command line,
    /// e.g. `("memcache.port", "11212")`, parsed like environment values.
    ///
    /// On failure, returns every problem found (unknown keys, bad values,
    /// an unreadable file, rules across keys), each with its path.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
        overrides: &[(impl AsRef<str>, impl AsRef<str>)],
    ) -> Result<Config, ConfigErrors> {
        load_layers(file, env.into_iter().collect(), overrides, Vec::new())
    }

    /// [`Config::load`] with this process's environment. A `CACHEGATE_*`
    /// variable whose name or value is not UTF-8 is reported as an error.
    pub fn load_from_process(
        file: Option<&Path>,
        overrides: &[(impl AsRef<str>, impl AsRef<str>)],
    ) -> Result<Config, ConfigErrors> {
        let mut env = Vec::new();
        let mut errors = Vec::new();
        for (name, value) in std::env::vars_os() {
            match (name.into_string(), value.into_string()) {
                (Ok(name), Ok(value)) => env.push((name, value)),
                (name, _) => {
                    let name = match name {
                        Ok(name) => name,
                        Err(raw) => raw.to_string_lossy().into_owned(),
                    };
                    if is_config_var(&name) {
                        errors.push(
                            ConfigError::new("", "name or value is not valid UTF-8")
                                .with_origin(Origin::Env(name)),
                        );
                    }
                }
            }
        }
        load_layers(file, env, overrides, errors)
    }
}

impl Default for Config {
    /// The embedded `default.toml`, parsed once per process.
    fn default() -> Config {
        static DEFAULT: OnceLock<Config> = OnceLock::new();
        DEFAULT
            .get_or_init(|| {
                // The file is compiled in, so this can only fail in a build
                // whose tests (`default_toml_loads` …) already fail.
                Config::load(None, Vec::new(), &[] as &[(&str, &str)])
                    .unwrap_or_else(|errors| panic!("embedded default.toml is invalid:\n{errors}"))
            })
            .clone()
    }
}

/// Whether an environment variable is a configuration key.
fn is_config_var(name: &str) -> bool {
    name.len() > ENV_PREFIX.len()
        && name.is_char_boundary(ENV_PREFIX.len())
        && name[..ENV_PREFIX.len()].eq_ignore_ascii_case(ENV_PREFIX)
        && !name.eq_ignore_ascii_case(CONFIG_FILE_ENV)
}

/// The whole pipeline; `errors` may already hold environment problems.
fn load_layers(
    file: Option<&Path>,
    env: Vec<(String, String)>,
    overrides: &[(impl AsRef<str>, impl AsRef<str>)],
    mut errors: Vec<ConfigError>,
) -> Result<Config, ConfigErrors> {
    let mut builder =
        config::Config::builder().add_source(File::from_str(DEFAULT_TOML, FileFormat::Toml));

    if let Some(path) = file {
        match read_file(path) {
            Ok(layer) => builder = builder.add_source(layer),
            Err(error) => errors.push(error),
        }
    }

    // The variable behind each key path, to name it in errors.
    let mut env_names = HashMap::new();
    let mut env_vars = Map::new();
    for (name, value) in env {
        if is_config_var(&name) {
            let path = name[ENV_PREFIX.len()..].to_lowercase().replace("__", ".");
            env_names.insert(path, name.clone());
            env_vars.insert(name, value);
        }
    }
    builder = builder.add_source(
        Environment::with_prefix(ENV_PREFIX.trim_end_matches('_'))
            .prefix_separator("_")
            .separator("__")
            .source(Some(env_vars)),
    );

    let cli_tag = CLI_TAG.to_owned();
    let cli = overrides
        .iter()
        .map(|(key, value)| {
            let value =
                config::Value::new(Some(&cli_tag), ValueKind::String(value.as_ref().to_owned()));
            (key.as_ref().to_owned(), value)
        })
        .collect();
    builder = builder.add_source(Layer(cli));

    let merged = builder.build().and_then(|merged| merged.collect());
    let merged = match merged {
        Ok(merged) => merged,
        Err(error) => {
            errors.push(ConfigError::new("", error.to_string()));
            return Err(ConfigErrors(errors));
        }
    };

    let origin_of = |path: &str, value: &config::Value| -> Origin {
        match tag_of(value) {
            Some(FILE_TAG) => Origin::File(file.map(Path::to_path_buf).unwrap_or_default()),
            Some(CLI_TAG) => Origin::CommandLine,
            Some(ENV_TAG) => Origin::Env(env_names.get(path).cloned().unwrap_or_else(|| {
                format!("{ENV_PREFIX}{}", path.replace('.', "__").to_uppercase())
            })),
            _ => Origin::Defaults,
        }
    };
    let normalised = walk(&merged, "", &origin_of, &mut errors);
    if !errors.is_empty() {
        return Err(ConfigErrors(errors));
    }

    let config: Config = match config::Value::new(None, normalised).try_deserialize() {
        Ok(config) => config,
        // Only reachable if default.toml lacks a key the struct has.
        Err(error) => return Err(ConfigError::new("", format!("internal error: {error}")).into()),
    };
    config.check_across_keys(&mut errors);
    if errors.is_empty() {
        Ok(config)
    } else {
        Err(ConfigErrors(errors))
    }
}

/// The origin tag of a value. The merge creates tables without one, so a
/// table takes the tag of a value inside it.
fn tag_of(value: &config::Value) -> Option<&str> {
    match (value.origin(), &value.kind) {
        (Some(tag), _) => Some(tag),
        (None, ValueKind::Table(inner)) => inner.values().find_map(tag_of),
        (None, ValueKind::Array(items)) => items.iter().find_map(tag_of),
        (None, _) => None,
    }
}

/// Reads and parses the user's file into a source whose values are tagged
/// with [`FILE_TAG`].
fn read_file(path: &Path) -> Result<Layer, ConfigError> {
    let origin = Origin::File(path.to_path_buf());
    let bytes = std::fs::read(path).map_err(|e| {
        ConfigError::new("", format!("cannot read the file: {e}")).with_origin(origin.clone())
    })?;
    let text = String::from_utf8(bytes)
        .map_err(|e| ConfigError::new("", format!("not UTF-8: {e}")).with_origin(origin.clone()))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let table = FileFormat::Toml
        .parse(Some(&FILE_TAG.to_owned()), text)
        .map_err(|e| ConfigError::new("", format!("invalid TOML: {e}")).with_origin(origin))?;
    Ok(Layer(table))
}

/// Checks one table of the merged tree (the root or a section) and returns
/// it normalised; problems go to `errors`.
fn walk(
    table: &Map<String, config::Value>,
    prefix: &str,
    origin_of: &dyn Fn(&str, &config::Value) -> Origin,
    errors: &mut Vec<ConfigError>,
) -> Map<String, config::Value> {
    let mut keys: Vec<&String> = table.keys().collect();
    keys.sort();
    let mut out = Map::new();
    for key in keys {
        let value = &table[key];
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        let fail = |message: String| {
            ConfigError::new(path.clone(), message).with_origin(origin_of(&path, value))
        };
        if schema::SECTIONS.contains(&path.as_str()) {
            match &value.kind {
                ValueKind::Table(inner) => {
                    let inner = walk(inner, &path, origin_of, errors);
                    out.insert(key.clone(), config::Value::new(None, inner));
                }
                _ => errors.push(fail(format!("expected a table, got {}", describe(value)))),
            }
        } else if let Some(field) = schema::field(&path) {
            match accept(&field.kind, value) {
                Ok(value) => {
                    out.insert(
                        key.clone(),
                        config::Value::new(None, to_config_value(value)),
                    );
                }
                Err(()) => errors.push(fail(format!(
                    "expected {}, got {}",
                    field.kind.expected(),
                    describe(value)
                ))),
            }
        } else {
            errors.push(fail("unknown key".to_owned()));
        }
    }
    out
}

/// Parses one merged value by its key's kind.
fn accept(kind: &Kind, value: &config::Value) -> Result<Value, ()> {
    let result = match &value.kind {
        ValueKind::String(s) => kind.parse_text(s.as_bytes(), TextSource::Loader),
        ValueKind::I64(n) => kind.accept_int(*n),
        ValueKind::U64(n) => kind.accept_int(i64::try_from(*n).map_err(drop)?),
        ValueKind::I128(n) => kind.accept_int(i64::try_from(*n).map_err(drop)?),
        ValueKind::U128(n) => kind.accept_int(i64::try_from(*n).map_err(drop)?),
        ValueKind::Array(items) => {
            let strings = items
                .iter()
                .map(|item| match &item.kind {
                    ValueKind::String(s) => Ok(s.clone()),
                    _ => Err(()),
                })
                .collect::<Result<Vec<_>, ()>>()?;
            kind.accept_list(strings)
        }
        ValueKind::Nil | ValueKind::Boolean(_) | ValueKind::Float(_) | ValueKind::Table(_) => {
            return Err(())
        }
    };
    result.map_err(drop)
}

/// A normalised value in the `config` crate's terms, for deserialising.
fn to_config_value(value: Value) -> ValueKind {
    match value {
        Value::Int(n) => ValueKind::I64(n),
        Value::Str(s) => ValueKind::String(s),
        Value::List(items) => ValueKind::Array(
            items
                .into_iter()
                .map(|s| config::Value::new(None, s))
                .collect(),
        ),
    }
}

/// A value as the user wrote it, for "got …" in messages.
fn describe(value: &config::Value) -> String {
    match &value.kind {
        ValueKind::Nil => "nothing".to_owned(),
        ValueKind::Boolean(b) => b.to_string(),
        ValueKind::I64(n) => n.to_string(),
        ValueKind::I128(n) => n.to_string(),
        ValueKind::U64(n) => n.to_string(),
        ValueKind::U128(n) => n.to_string(),
        ValueKind::Float(x) => x.to_string(),
        ValueKind::String(s) => format!("{s:?}"),
        ValueKind::Table(_) => "a table".to_owned(),
        ValueKind::Array(items) => {
            let items: Vec<String> = items.iter().map(describe).collect();
            format!("[{}]", items.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{ExecutionModel, Keyspace, LogLevel, FIELDS};
    use std::path::PathBuf;

    const NO_OVERRIDES: &[(&str, &str)] = &[];

    fn env(vars: &[(&str, &str)]) -> Vec<(String, String)> {
        vars.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// A file under the temp directory, unique per test, removed on drop.
    struct TempFile(PathBuf);

    impl TempFile {
        fn new(name: &str, contents: &str) -> TempFile {
            let path = std::env::temp_dir().join(format!(
                "cachegate-config-{}-{name}.toml",
                std::process::id()
            ));
            std::fs::write(&path, contents).expect("write temp file");
            TempFile(path)
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    fn load_file(contents: &str, name: &str) -> (Result<Config, ConfigErrors>, TempFile) {
        let file = TempFile::new(name, contents);
        (Config::load(Some(&file.0), Vec::new(), NO_OVERRIDES), file)
    }

    #[test]
    fn default_toml_loads_and_is_default() {
        let loaded = Config::load(None, Vec::new(), NO_OVERRIDES).expect("default.toml is valid");
        assert_eq!(loaded, Config::default());
        assert_eq!(loaded.validate(), Ok(()));
    }

    /// Parses default.toml with the `toml` crate, independently of the
    /// loader, and compares every key with `Config::default()`.
    #[test]
    fn default_matches_an_independent_parse() {
        let table: toml::Table = DEFAULT_TOML.parse().expect("default.toml is TOML");
        let config = Config::default();
        let mut seen = 0;
        for f in FIELDS {
            let value = match f.key.split_once('.') {
                Some((section, name)) => table.get(section).and_then(|s| s.get(name)),
                None => table.get(f.key),
            };
            let value = value.unwrap_or_else(|| panic!("default.toml lacks {}", f.key));
            let parsed = match value {
                toml::Value::Integer(n) => f.kind.accept_int(*n),
                toml::Value::String(s) => f.kind.accept_str(s),
                toml::Value::Array(items) => f.kind.accept_list(
                    items
                        .iter()
                        .map(|i| i.as_str().expect("string").to_owned())
                        .collect(),
                ),
                other => panic!("{}: unexpected {other:?}", f.key),
            };
            assert_eq!(parsed.as_ref(), Ok(&(f.get)(&config)), "{}", f.key);
            seen += 1;
        }
        let keys_in_file = table
            .iter()
            .map(|(_, v)| v.as_table().map_or(1, toml::Table::len))
            .sum::<usize>();
        assert_eq!(keys_in_file, seen, "default.toml has keys the schema lacks");
    }

    /// The values the brief and the docs promise.
    #[test]
    fn shipped_defaults() {
        let c = Config::default();
        assert_eq!(c.bind, ["127.0.0.1"]);
        assert_eq!(
            (c.port, c.unixsocket.as_str(), c.unixsocketperm),
            (6379, "", 0)
        );
        assert_eq!((c.tcp_backlog, c.timeout, c.tcp_keepalive), (511, 0, 300));
        assert_eq!((c.maxclients, c.databases, c.hz), (10_000, 16, 10));
        assert_eq!(c.client_query_buffer_limit, 1 << 30);
        assert_eq!(c.proto_max_bulk_len, 512 << 20);
        assert_eq!((c.loglevel, c.logfile.as_str()), (LogLevel::Notice, ""));
        assert_eq!((c.io_threads, c.execution_model), (0, ExecutionModel::Lock));
        let m = &c.memcache;
        assert_eq!((m.port, m.udp_port, m.unixsocket.as_str()), (11211, 0, ""));
        assert_eq!(m.bind, ["127.0.0.1"]);
        assert_eq!(m.unixsocketperm, 0o700);
        assert_eq!(
            (m.memory_limit, m.max_item_size, m.max_connections),
            (64, 1 << 20, 1024)
        );
        assert_eq!(m.keyspace, Keyspace::Separate);
        assert_eq!(
            (c.metrics.bind.as_str(), c.metrics.port),
            ("127.0.0.1", 9630)
        );
    }

    #[test]
    fn every_key_in_default_toml_has_a_comment() {
        let mut previous = "";
        for line in DEFAULT_TOML.lines() {
            let line = line.trim();
            if !line.is_empty() && !line.starts_with('#') && !line.starts_with('[') {
                assert!(previous.starts_with('#'), "no comment above `{line}`");
            }
            if !line.is_empty() {
                previous = line;
            }
        }
    }

    #[test]
    fn unknown_keys_fail_with_paths() {
        let (result, file) = load_file(
            "prot = 1\n[memcache]\nprot = 2\n[bogus]\nx = 1\n",
            "unknown",
        );
        let shown = file.0.display();
        assert_eq!(
            result.expect_err("unknown keys").to_string(),
            format!(
                "[file {shown}] bogus: unknown key\n\
                 [file {shown}] memcache.prot: unknown key\n\
                 [file {shown}] prot: unknown key"
            )
        );
    }

    #[test]
    fn bad_values_are_reported_together() {
        let (result, _file) = load_file(
            r#"
            port = "abc"
            hz = -1
            loglevel = "loud"
            bind = [1]
            proto_max_bulk_len = "12q"
            tcp_keepalive = 1.5
            logfile = false
            [memcache]
            keyspace = "both"
            unixsocketperm = 0o700
            max_item_size = "2gb"
            "#,
            "bad-values",
        );
        let errors = result.expect_err("bad values");
        let lines: Vec<String> = errors
            .errors()
            .iter()
            .map(|e| format!("{}: {}", e.path, e.message))
            .collect();
        assert_eq!(
            lines,
            [
                "bind: expected a list of at most 16 addresses (each non-empty, no spaces), got [1]",
                "hz: expected an integer 0..=2147483647 (used as 1..=500), got -1",
                "logfile: expected a string, got false",
                "loglevel: expected one of debug, verbose, notice, warning, got \"loud\"",
                "memcache.keyspace: expected one of separate, shared, got \"both\"",
                "memcache.max_item_size: expected a byte count 1024..=1073741824 \
                 (a number, or with a unit: k kb m mb g gb), got \"2gb\"",
                "memcache.unixsocketperm: expected an octal permission 0..=777 (like 700), got 448",
                "port: expected an integer 0..=65535, got \"abc\"",
                "proto_max_bulk_len: expected a byte count 1048576..=9223372036854775807 \
                 (a number, or with a unit: k kb m mb g gb), got \"12q\"",
                "tcp_keepalive: expected an integer 0..=2147483647, got 1.5",
            ]
        );
    }

    #[test]
    fn environment_overrides() {
        let config = Config::load(
            None,
            env(&[
                ("CACHEGATE_PORT", "7000"),
                ("CACHEGATE_MEMCACHE__PORT", "11212"),
                ("CACHEGATE_BIND", "127.0.0.1  ::1"),
                ("cachegate_hz", "100"),
                ("CACHEGATE_MEMCACHE__MAX_ITEM_SIZE", "2mb"),
                ("CACHEGATE_CONFIG", "/etc/cachegate.toml"),
                ("PATH", "/usr/bin"),
                ("CACHEGATEWAY", "not ours"),
            ]),
            NO_OVERRIDES,
        )
        .expect("valid environment");
        assert_eq!(config.port, 7000);
        assert_eq!(config.memcache.port, 11212);
        assert_eq!(config.bind, ["127.0.0.1", "::1"]);
        assert_eq!(config.hz, 100);
        assert_eq!(config.memcache.max_item_size, 2 << 20);
    }

    #[test]
    fn environment_errors_name_the_variable() {
        let errors = Config::load(
            None,
            env(&[
                ("CACHEGATE_MEMCACHE_PORT", "1"),
                ("CACHEGATE_MAXCLIENTS", "0"),
            ]),
            NO_OVERRIDES,
        )
        .expect_err("bad environment");
        assert_eq!(
            errors.to_string(),
            "[env CACHEGATE_MAXCLIENTS] maxclients: expected an integer 1..=4294967295, got \"0\"\n\
             [env CACHEGATE_MEMCACHE_PORT] memcache_port: unknown key"
        );
    }

    #[test]
    fn command_line_beats_environment_beats_file() {
        let file = TempFile::new(
            "layers",
            "port = 1000\n[memcache]\nmemory_limit = 100\nport = 1\n",
        );
        let env = env(&[
            ("CACHEGATE_PORT", "2000"),
            ("CACHEGATE_MEMCACHE__MEMORY_LIMIT", "200"),
        ]);
        let cli = [("port", "3000"), ("memcache.memory_limit", "300")];

        let c = Config::load(Some(&file.0), env.clone(), &cli).expect("valid");
        assert_eq!(
            (c.port, c.memcache.memory_limit, c.memcache.port),
            (3000, 300, 1)
        );
        let c = Config::load(Some(&file.0), env, NO_OVERRIDES).expect("valid");
        assert_eq!((c.port, c.memcache.memory_limit), (2000, 200));
        let c = Config::load(Some(&file.0), Vec::new(), NO_OVERRIDES).expect("valid");
        assert_eq!((c.port, c.memcache.memory_limit), (1000, 100));
        assert_eq!(c.metrics.port, 9630, "untouched keys keep their defaults");
    }

    #[test]
    fn errors_from_every_layer_come_together() {
        let file = TempFile::new("all-layers", "port = 99999\n");
        let errors = Config::load(
            Some(&file.0),
            env(&[("CACHEGATE_TIMEOUT", "soon")]),
            &[("memcache", "5"), ("metrics.port", "-1")],
        )
        .expect_err("three bad layers");
        assert_eq!(
            errors.to_string(),
            format!(
                "[command line] memcache: expected a table, got \"5\"\n\
                 [command line] metrics.port: expected an integer 0..=65535, got \"-1\"\n\
                 [file {}] port: expected an integer 0..=65535, got 99999\n\
                 [env CACHEGATE_TIMEOUT] timeout: expected an integer 0..=2147483647, got \"soon\"",
                file.0.display()
            )
        );
    }

    #[test]
    fn memory_units_in_every_layer() {
        let file = TempFile::new(
            "units",
            "client_query_buffer_limit = \"2GB\"\nproto_max_bulk_len = 1048576\n[memcache]\nmax_item_size = \"512kb\"\n",
        );
        let c = Config::load(
            Some(&file.0),
            env(&[("CACHEGATE_PROTO_MAX_BULK_LEN", "3m")]),
            NO_OVERRIDES,
        )
        .expect("valid");
        assert_eq!(c.client_query_buffer_limit, 2 << 30);
        assert_eq!(c.proto_max_bulk_len, 3_000_000);
        assert_eq!(c.memcache.max_item_size, 512 * 1024);
    }

    #[test]
    fn octal_permissions_and_clamped_hz() {
        let file = TempFile::new(
            "octal",
            "unixsocketperm = 755\nhz = 1000\n[memcache]\nunixsocketperm = \"0770\"\n",
        );
        let c = Config::load(Some(&file.0), Vec::new(), &[("io_threads", "4")]).expect("valid");
        assert_eq!(c.unixsocketperm, 0o755);
        assert_eq!(c.memcache.unixsocketperm, 0o770);
        assert_eq!(c.hz, 500);
        assert_eq!(c.io_threads, 4);
    }

    #[test]
    fn unreadable_and_invalid_files() {
        let missing = Path::new("/nonexistent/cachegate.toml");
        let errors =
            Config::load(Some(missing), Vec::new(), NO_OVERRIDES).expect_err("missing file");
        assert!(
            errors
                .to_string()
                .starts_with("[file /nonexistent/cachegate.toml] cannot read the file: "),
            "{errors}"
        );
        let (result, _file) = load_file("port = = 1\n", "syntax");
        let errors = result.expect_err("bad TOML").to_string();
        assert!(errors.contains("invalid TOML"), "{errors}");
    }

    #[test]
    fn rules_across_keys_are_checked_after_loading() {
        let errors = Config::load(None, Vec::new(), &[("memcache.memory_limit", "1")])
            .expect_err("too small");
        assert_eq!(
            errors.to_string(),
            "memcache.max_item_size: must be at most half of memcache.memory_limit (524288 bytes), got 1048576"
        );
    }

    #[test]
    fn to_toml_round_trips() {
        let mut config = Config {
            port: 7000,
            bind: vec!["127.0.0.1".into(), "-::1".into()],
            unixsocket: "/tmp/with \"quotes\".sock".into(),
            unixsocketperm: 0o750,
            loglevel: LogLevel::Warning,
            ..Config::default()
        };
        config.memcache.keyspace = Keyspace::Shared;
        config.memcache.bind = Vec::new();
        let file = TempFile::new("round-trip", &config.to_toml());
        let loaded =
            Config::load(Some(&file.0), Vec::new(), NO_OVERRIDES).expect("to_toml output loads");
        assert_eq!(loaded, config);
    }
}
