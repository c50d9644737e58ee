//! Loading errors: one [`ConfigError`] per problem, gathered into
//! [`ConfigErrors`] so that a bad file is fixed in one pass.
//!
//! Owns the error types and their wording; the checks themselves are in
//! `load.rs` (per value) and `schema.rs` (across keys). `CONFIG SET` has
//! its own error type in `redis_params.rs`, worded like Redis.

use std::fmt;
use std::path::PathBuf;

/// Where a configuration value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The embedded `default.toml`.
    Defaults,
    /// The configuration file at this path.
    File(PathBuf),
    /// This environment variable (for example `CACHEGATE_MEMCACHE__PORT`).
    Env(String),
    /// A command-line override.
    CommandLine,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Defaults => f.write_str("defaults"),
            Origin::File(path) => write!(f, "file {}", path.display()),
            Origin::Env(var) => write!(f, "env {var}"),
            Origin::CommandLine => f.write_str("command line"),
        }
    }
}

/// One problem with the configuration, tied to the key it concerns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// Where the offending value came from, when one source is to blame
    /// (`None` for problems spanning several keys).
    pub origin: Option<Origin>,
    /// Dotted key path, as in TOML (`memcache.port`, `bind[2]`); empty when
    /// the problem is not about one key (an unreadable file).
    pub path: String,
    /// What is wrong, e.g. `unknown key` or `expected an integer 0..=65535,
    /// got "abc"`.
    pub message: String,
}

impl ConfigError {
    /// An error about `path`, with no particular source.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> ConfigError {
        ConfigError {
            origin: None,
            path: path.into(),
            message: message.into(),
        }
    }

    /// The same error, blamed on `origin`.
    pub fn with_origin(mut self, origin: Origin) -> ConfigError {
        self.origin = Some(origin);
        self
    }
}

impl fmt::Display for ConfigError {
    /// `[file /etc/cachegate.toml] memcache.prot: unknown key`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(origin) = &self.origin {
            write!(f, "[{origin}] ")?;
        }
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

/// Every problem found while loading or validating, in a stable order
/// (source by source, keys sorted). Never empty when returned as an error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl ConfigErrors {
    /// The individual problems.
    pub fn errors(&self) -> &[ConfigError] {
        &self.0
    }
}

impl fmt::Display for ConfigErrors {
    /// One problem per line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

impl From<ConfigError> for ConfigErrors {
    fn from(error: ConfigError) -> ConfigErrors {
        ConfigErrors(vec![error])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_problem_per_line_with_origin_and_path() {
        let errors = ConfigErrors(vec![
            ConfigError::new("memcache.prot", "unknown key")
                .with_origin(Origin::File("/x/y.toml".into())),
            ConfigError::new("port", "expected an integer 0..=65535, got \"abc\"")
                .with_origin(Origin::Env("CACHEGATE_PORT".into())),
            ConfigError::new("", "cannot read /nope: No such file or directory"),
        ]);
        assert_eq!(
            errors.to_string(),
            "[file /x/y.toml] memcache.prot: unknown key\n\
             [env CACHEGATE_PORT] port: expected an integer 0..=65535, got \"abc\"\n\
             cannot read /nope: No such file or directory"
        );
    }
}
