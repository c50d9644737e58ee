//! cachegate's configuration: the schema, the shipped defaults and loading.
//!
//! # Goals
//!
//! * One source of defaults: `config/default.toml`, compiled in
//!   ([`DEFAULT_TOML`]); [`Config::default`] is that file parsed.
//! * Layers, later wins: defaults, an optional TOML file, `CACHEGATE_*`
//!   environment variables, command-line overrides ([`Config::load`]).
//! * Every unknown key and bad value reported at once, each with its path
//!   and source ([`ConfigErrors`]).
//! * Redis's names, units, ranges, renderings and error texts for
//!   `CONFIG GET/SET` ([`redis_params`]), with Redis's glob matcher
//!   ([`glob`], reusable by KEYS and SCAN).
//!
//! # Non-goals
//!
//! No sockets, threads, async runtime or other cachegate crates: applying a
//! changed setting to the running server is the server's job.
//!
//! # Layout
//!
//! | file | owns |
//! |---|---|
//! | `schema.rs` | [`Config`] and its sections, the per-key table, rules across keys |
//! | `load.rs` | layering and the walk that collects every error |
//! | `error.rs` | [`ConfigError`], [`ConfigErrors`], [`Origin`] |
//! | `kind.rs` | value kinds: parsing, range checks, both wordings of a rejection |
//! | `units.rs` | Redis number grammars: memory units, strict integers, octal |
//! | `redis_params.rs` | `CONFIG GET/SET` table and semantics |
//! | `glob.rs` | Redis glob matching |
//!
//! # Example
//!
//! ```
//! use cachegate_config::Config;
//!
//! let env = [("CACHEGATE_MEMCACHE__PORT".to_string(), "11212".to_string())];
//! let config = Config::load(None, env, &[("port", "7000")]).expect("valid");
//! assert_eq!(config.port, 7000);
//! assert_eq!(config.memcache.port, 11212);
//!
//! let errors = Config::load(None, [], &[("memcache.prot", "1"), ("port", "abc")]).unwrap_err();
//! assert_eq!(
//!     errors.to_string(),
//!     "[command line] memcache.prot: unknown key\n\
//!      [command line] port: expected an integer 0..=65535, got \"abc\""
//! );
//! ```

#![warn(missing_docs)]

pub mod glob;
pub mod redis_params;
pub mod units;

mod error;
mod kind;
mod load;
mod schema;

pub use error::{ConfigError, ConfigErrors, Origin};
pub use kind::MAX_BIND_ADDRESSES;
pub use load::{CONFIG_FILE_ENV, DEFAULT_TOML, ENV_PREFIX};
pub use redis_params::{ConfigSetError, RedisParam};
pub use schema::{
    Config, ExecutionModel, Keyspace, LogLevel, MemcacheConfig, MetricsConfig, ProtectedCommand,
};
