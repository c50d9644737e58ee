//! Value kinds: what each configuration key accepts, how text and TOML
//! values become a normalised [`Value`], and how a rejection is worded.
//!
//! Owns parsing and range checking per kind, and both wordings of a
//! rejection: the one-line message the loader reports with the key's path
//! (`expected an integer 0..=65535, got "abc"`) and the exact `errstr`
//! redis-server 7.0.15 puts after `CONFIG SET failed (…) - `. It does not
//! know which key has which kind (that is `schema.rs`) nor where a value
//! came from (`load.rs`).

use std::borrow::Cow;

use crate::units;

/// Most addresses `bind` may list; Redis's `CONFIG_BINDADDR_MAX`.
pub const MAX_BIND_ADDRESSES: usize = 16;

/// A validated setting, independent of the field's Rust type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// Integers, byte counts and octal permissions (as their numeric value).
    Int(i64),
    /// Strings and enum names (enum names in their canonical lower case).
    Str(String),
    /// Address lists.
    List(Vec<String>),
}

/// The accepted shape and range of one configuration key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A decimal integer in `min..=max`. Text follows Redis's strict integer
    /// grammar. `clamp`, when set, then silently narrows the value, the way
    /// Redis accepts any `hz` but runs at 1..=500.
    Int {
        /// Smallest accepted value.
        min: i64,
        /// Largest accepted value.
        max: i64,
        /// Range an accepted value is then clamped to, if any.
        clamp: Option<(i64, i64)>,
    },
    /// A byte count in `min..=max`, with Redis memory units in text.
    Memory {
        /// Smallest accepted size, bytes.
        min: i64,
        /// Largest accepted size, bytes.
        max: i64,
    },
    /// A permission in `min..=max`, written in octal as in redis.conf.
    Octal {
        /// Smallest accepted permission.
        min: i64,
        /// Largest accepted permission.
        max: i64,
    },
    /// One of these lower-case names, matched case-insensitively.
    Enum(&'static [&'static str]),
    /// Any string; `""` usually means "none".
    Str,
    /// One listen address: non-empty, no white space.
    Addr,
    /// Up to [`MAX_BIND_ADDRESSES`] listen addresses; in text, separated by
    /// spaces. An empty list means every interface, as in Redis.
    AddrList,
}

/// How a list arrives as text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextSource {
    /// Environment variable or command-line override: addresses separated
    /// by any white space.
    Loader,
    /// `CONFIG SET`: split on every single space like Redis, so `"a  b"`
    /// holds an empty address, and `""` is the empty list.
    ConfigSet,
}

/// Why a value was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reject {
    /// Not an integer at all.
    NotInteger,
    /// Not a memory size.
    NotMemory,
    /// Not an octal number.
    NotOctal,
    /// A number outside the kind's range (the number as parsed).
    OutOfRange,
    /// Not one of the enum's names.
    NotEnum,
    /// More than [`MAX_BIND_ADDRESSES`] addresses.
    TooManyAddresses,
    /// An empty address, or one with white space in it.
    BadAddress,
    /// A TOML value of the wrong type (a table, a boolean, a float…).
    WrongType,
}

impl Kind {
    /// Parses `text` (from the environment, the command line or `CONFIG
    /// SET`) into a normalised value, range-checked and clamped.
    pub fn parse_text(&self, text: &[u8], source: TextSource) -> Result<Value, Reject> {
        match *self {
            Kind::Int { .. } => {
                let n = units::parse_int(text).ok_or(Reject::NotInteger)?;
                self.check_int(n)
            }
            Kind::Memory { .. } => {
                let n = units::parse_memory(text).ok_or(Reject::NotMemory)?;
                // A size past i64 (saturated ones included) is beyond every
                // maximum.
                let n = i64::try_from(n).map_err(|_| Reject::OutOfRange)?;
                self.check_int(n)
            }
            Kind::Octal { .. } => {
                let n = units::parse_octal(text).ok_or(Reject::NotOctal)?;
                self.check_int(n)
            }
            Kind::Enum(names) => names
                .iter()
                .find(|name| name.as_bytes().eq_ignore_ascii_case(text))
                .map(|name| Value::Str((*name).to_owned()))
                .ok_or(Reject::NotEnum),
            Kind::Str => Ok(Value::Str(utf8(text)?)),
            // Bytes that are not UTF-8 cannot name an address we could bind.
            Kind::Addr => {
                check_address(utf8(text).map_err(|_| Reject::BadAddress)?).map(Value::Str)
            }
            Kind::AddrList => {
                let text = utf8(text).map_err(|_| Reject::BadAddress)?;
                let parts: Vec<String> = match source {
                    TextSource::Loader => {
                        text.split_ascii_whitespace().map(str::to_owned).collect()
                    }
                    TextSource::ConfigSet if text.is_empty() => Vec::new(),
                    TextSource::ConfigSet => text.split(' ').map(str::to_owned).collect(),
                };
                self.check_list(parts)
            }
        }
    }

    /// Checks an integer that arrived as a number (a TOML integer). For
    /// octal kinds the decimal digits are read as octal, so `700` in a TOML
    /// file means `0700` exactly as in redis.conf.
    pub fn accept_int(&self, n: i64) -> Result<Value, Reject> {
        match *self {
            Kind::Int { .. } | Kind::Memory { .. } => self.check_int(n),
            Kind::Octal { .. } => self.parse_text(n.to_string().as_bytes(), TextSource::Loader),
            _ => Err(Reject::WrongType),
        }
    }

    /// Checks a list that arrived as a TOML array of strings.
    pub fn accept_list(&self, items: Vec<String>) -> Result<Value, Reject> {
        match self {
            Kind::AddrList => self.check_list(items),
            _ => Err(Reject::WrongType),
        }
    }

    /// Checks a string that arrived as a TOML string.
    pub fn accept_str(&self, s: &str) -> Result<Value, Reject> {
        self.parse_text(s.as_bytes(), TextSource::Loader)
    }

    /// Re-checks a value already held by a `Config` (for `validate`).
    pub fn check(&self, value: &Value) -> Result<(), Reject> {
        match value {
            Value::Int(n) => match self {
                // Octal fields hold the permission itself, not its digits.
                Kind::Octal { min, max } => in_range(*n, *min, *max).map(drop),
                // A value clamping would change was never loaded that way.
                _ => match self.check_int(*n)? {
                    Value::Int(m) if m == *n => Ok(()),
                    _ => Err(Reject::OutOfRange),
                },
            },
            Value::Str(s) => match self {
                Kind::Str => Ok(()),
                _ => self.accept_str(s).map(drop),
            },
            Value::List(items) => self.check_list(items.clone()).map(drop),
        }
    }

    /// Range-checks and clamps a number for the numeric kinds.
    fn check_int(&self, n: i64) -> Result<Value, Reject> {
        match *self {
            Kind::Int { min, max, clamp } => {
                let n = in_range(n, min, max)?;
                Ok(Value::Int(match clamp {
                    Some((lo, hi)) => n.clamp(lo, hi),
                    None => n,
                }))
            }
            Kind::Memory { min, max } | Kind::Octal { min, max } => {
                in_range(n, min, max).map(Value::Int)
            }
            _ => Err(Reject::WrongType),
        }
    }

    /// Checks every address of a list and the list's length.
    fn check_list(&self, items: Vec<String>) -> Result<Value, Reject> {
        if !matches!(self, Kind::AddrList) {
            return Err(Reject::WrongType);
        }
        if items.len() > MAX_BIND_ADDRESSES {
            return Err(Reject::TooManyAddresses);
        }
        let items = items
            .into_iter()
            .map(check_address)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Value::List(items))
    }

    /// What the kind accepts, for loader messages ("expected …").
    pub fn expected(&self) -> String {
        match *self {
            Kind::Int {
                min,
                max,
                clamp: None,
            } => format!("an integer {min}..={max}"),
            Kind::Int {
                min,
                max,
                clamp: Some((lo, hi)),
            } => format!("an integer {min}..={max} (used as {lo}..={hi})"),
            Kind::Memory { min, max } => {
                format!("a byte count {min}..={max} (a number, or with a unit: k kb m mb g gb)")
            }
            Kind::Octal { min, max } => format!("an octal permission {min:o}..={max:o} (like 700)"),
            Kind::Enum(names) => format!("one of {}", names.join(", ")),
            Kind::Str => "a string".to_owned(),
            Kind::Addr => "an address (non-empty, no spaces)".to_owned(),
            Kind::AddrList => {
                format!(
                    "a list of at most {MAX_BIND_ADDRESSES} addresses (each non-empty, no spaces)"
                )
            }
        }
    }

    /// The text redis-server 7.0.15 gives for this rejection after
    /// `CONFIG SET failed (possibly related to argument '…') - `.
    pub fn redis_reason(&self, reject: &Reject) -> Cow<'static, str> {
        match (reject, *self) {
            (Reject::NotInteger, _) => "argument couldn't be parsed into an integer".into(),
            (Reject::NotMemory, _) => "argument must be a memory value".into(),
            (Reject::NotOctal, _) => "argument couldn't be parsed as an octal number".into(),
            (Reject::OutOfRange, Kind::Octal { min, max }) => {
                format!("argument must be between {min:o} and {max:o} inclusive").into()
            }
            (Reject::OutOfRange, Kind::Int { min, max, .. } | Kind::Memory { min, max }) => {
                format!("argument must be between {min} and {max} inclusive").into()
            }
            (Reject::NotEnum, Kind::Enum(names)) => format!(
                "argument(s) must be one of the following: {}",
                names.join(", ")
            )
            .into(),
            (Reject::TooManyAddresses, _) => "Too many bind addresses specified.".into(),
            // Redis accepts the value and then fails to listen on it; its
            // reply is this text, so CONFIG SET ends the same way here.
            (Reject::BadAddress, _) => "Failed to bind to specified addresses.".into(),
            _ => "argument couldn't be parsed".into(),
        }
    }
}

/// Checks `n` against an inclusive range.
fn in_range(n: i64, min: i64, max: i64) -> Result<i64, Reject> {
    if (min..=max).contains(&n) {
        Ok(n)
    } else {
        Err(Reject::OutOfRange)
    }
}

/// Accepts a non-empty address without white space (which could not
/// survive `CONFIG GET bind`'s space-separated rendering).
fn check_address(address: String) -> Result<String, Reject> {
    if address.is_empty() || address.chars().any(char::is_whitespace) {
        Err(Reject::BadAddress)
    } else {
        Ok(address)
    }
}

/// Strings in a `Config` are UTF-8; other bytes cannot be stored.
fn utf8(text: &[u8]) -> Result<String, Reject> {
    String::from_utf8(text.to_vec()).map_err(|_| Reject::WrongType)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PORT: Kind = Kind::Int {
        min: 0,
        max: 65535,
        clamp: None,
    };
    const HZ: Kind = Kind::Int {
        min: 0,
        max: i32::MAX as i64,
        clamp: Some((1, 500)),
    };
    const BULK: Kind = Kind::Memory {
        min: 1 << 20,
        max: i64::MAX,
    };
    const PERM: Kind = Kind::Octal { min: 0, max: 0o777 };

    #[test]
    fn integers_and_clamping() {
        assert_eq!(
            PORT.parse_text(b"7000", TextSource::Loader),
            Ok(Value::Int(7000))
        );
        assert_eq!(
            PORT.parse_text(b"70000", TextSource::Loader),
            Err(Reject::OutOfRange)
        );
        assert_eq!(
            PORT.parse_text(b"abc", TextSource::Loader),
            Err(Reject::NotInteger)
        );
        assert_eq!(
            HZ.parse_text(b"1000", TextSource::ConfigSet),
            Ok(Value::Int(500))
        );
        assert_eq!(
            HZ.parse_text(b"0", TextSource::ConfigSet),
            Ok(Value::Int(1))
        );
        assert_eq!(HZ.accept_int(-1), Err(Reject::OutOfRange));
    }

    #[test]
    fn memory_sizes() {
        assert_eq!(
            BULK.parse_text(b"2mb", TextSource::Loader),
            Ok(Value::Int(2 << 20))
        );
        assert_eq!(
            BULK.parse_text(b"1k", TextSource::Loader),
            Err(Reject::OutOfRange)
        );
        assert_eq!(
            BULK.parse_text(b"", TextSource::Loader),
            Err(Reject::OutOfRange)
        );
        assert_eq!(
            BULK.parse_text(b"-5", TextSource::Loader),
            Err(Reject::NotMemory)
        );
        assert_eq!(
            BULK.parse_text(b"99999999999999999999", TextSource::Loader),
            Err(Reject::OutOfRange)
        );
        assert_eq!(BULK.accept_int(1 << 30), Ok(Value::Int(1 << 30)));
    }

    #[test]
    fn octal_from_toml_integer_reads_digits_as_octal() {
        assert_eq!(PERM.accept_int(700), Ok(Value::Int(0o700)));
        assert_eq!(
            PERM.accept_int(0o700),
            Err(Reject::NotOctal),
            "448 has an 8 in it"
        );
        assert_eq!(PERM.accept_int(1000), Err(Reject::OutOfRange));
        assert_eq!(PERM.accept_str("0755"), Ok(Value::Int(0o755)));
        assert_eq!(PERM.check(&Value::Int(0o700)), Ok(()));
    }

    #[test]
    fn redis_wording() {
        assert_eq!(
            PORT.redis_reason(&Reject::OutOfRange),
            "argument must be between 0 and 65535 inclusive"
        );
        assert_eq!(
            PERM.redis_reason(&Reject::OutOfRange),
            "argument must be between 0 and 777 inclusive"
        );
        let level = Kind::Enum(&["debug", "verbose", "notice", "warning"]);
        assert_eq!(
            level.redis_reason(&Reject::NotEnum),
            "argument(s) must be one of the following: debug, verbose, notice, warning"
        );
    }

    #[test]
    fn enums_fold_case() {
        let level = Kind::Enum(&["debug", "notice"]);
        assert_eq!(level.accept_str("NOTICE"), Ok(Value::Str("notice".into())));
        assert_eq!(level.accept_str("loud"), Err(Reject::NotEnum));
        assert_eq!(level.accept_str(""), Err(Reject::NotEnum));
    }

    #[test]
    fn address_lists() {
        let list = Kind::AddrList;
        assert_eq!(
            list.parse_text(b"127.0.0.1  ::1", TextSource::Loader),
            Ok(Value::List(vec!["127.0.0.1".into(), "::1".into()]))
        );
        assert_eq!(
            list.parse_text(b"127.0.0.1  ::1", TextSource::ConfigSet),
            Err(Reject::BadAddress)
        );
        assert_eq!(
            list.parse_text(b"", TextSource::ConfigSet),
            Ok(Value::List(vec![]))
        );
        let many = vec!["a"; 17].join(" ");
        assert_eq!(
            list.parse_text(many.as_bytes(), TextSource::ConfigSet),
            Err(Reject::TooManyAddresses)
        );
        assert_eq!(list.accept_list(vec!["".into()]), Err(Reject::BadAddress));
    }
}
