//! The compact constructors the fact files are written in: `cmd(..)` for a command's first
//! line, then builder methods for its tips, key specs, docs and arguments, all `const fn` so
//! every fact is a constant built at compile time.
//!
//! Flag, ACL category and key-spec flag sets are written as the space-separated names
//! `COMMAND INFO` prints (`"write denyoom"`, `"read string fast"`, `"RW access update"`), so a
//! fact file reads like redis-server's reply; a name the tables in `spec` do not know stops
//! the build (a panic during constant evaluation).

pub(super) use crate::command::spec::{BeginSearch, CommandSpec, FindKeys, Group};

use crate::command::spec::{
    argflag, docflag, Arg, ArgKind, Docs, KeySpec, ACL_NAMES, DOC_FLAG_NAMES, FLAG_NAMES,
    KEY_FLAG_NAMES,
};

/// True if `s[start..end]` is `name` (slicing by range is not available in `const fn`).
const fn word_is(s: &[u8], start: usize, end: usize, name: &[u8]) -> bool {
    if end - start != name.len() {
        return false;
    }
    let mut j = 0;
    while j < name.len() {
        if s[start + j] != name[j] {
            return false;
        }
        j += 1;
    }
    true
}

/// The bits of the space-separated `names`, looked up in `table`.
const fn bits(names: &str, table: &[(u32, &str)]) -> u32 {
    let s = names.as_bytes();
    let mut out = 0;
    let mut i = 0;
    while i < s.len() {
        if s[i] == b' ' {
            i += 1;
            continue;
        }
        let start = i;
        while i < s.len() && s[i] != b' ' {
            i += 1;
        }
        let mut n = 0;
        loop {
            if n == table.len() {
                panic!("a flag or category name that spec.rs does not list");
            }
            if word_is(s, start, i, table[n].1.as_bytes()) {
                out |= table[n].0;
                break;
            }
            n += 1;
        }
    }
    out
}

/// A command: name (for a subcommand, without its container), arity, flags and ACL
/// categories by name, and the legacy (first key, last key, step).
pub(super) const fn cmd(
    name: &'static str,
    arity: i32,
    flags: &str,
    acl: &str,
    keys: (i32, i32, i32),
) -> CommandSpec {
    CommandSpec {
        name,
        arity,
        flags: bits(flags, FLAG_NAMES),
        acl: bits(acl, ACL_NAMES),
        first_key: keys.0,
        last_key: keys.1,
        key_step: keys.2,
        tips: &[],
        key_specs: &[],
        subcommands: &[],
        docs: Docs {
            summary: "",
            since: "",
            group: Group::Generic,
            complexity: None,
            doc_flags: 0,
            deprecated_since: None,
            replaced_by: None,
            history: &[],
            args: &[],
        },
    }
}

impl CommandSpec {
    /// Sets the tips.
    pub(super) const fn tips(self, tips: &'static [&'static str]) -> Self {
        Self { tips, ..self }
    }

    /// Sets the key specs.
    pub(super) const fn key_specs(self, key_specs: &'static [KeySpec]) -> Self {
        Self { key_specs, ..self }
    }

    /// Sets the subcommands of a container.
    pub(super) const fn subcommands(self, subcommands: &'static [CommandSpec]) -> Self {
        Self {
            subcommands,
            ..self
        }
    }

    /// Sets the version that added the command, its group and our summary.
    pub(super) const fn docs(
        self,
        since: &'static str,
        group: Group,
        summary: &'static str,
    ) -> Self {
        Self {
            docs: Docs {
                since,
                group,
                summary,
                ..self.docs
            },
            ..self
        }
    }

    /// Sets the time complexity.
    pub(super) const fn complexity(self, complexity: &'static str) -> Self {
        Self {
            docs: Docs {
                complexity: Some(complexity),
                ..self.docs
            },
            ..self
        }
    }

    /// Marks the command deprecated since `since`, naming what replaces it.
    pub(super) const fn deprecated(self, since: &'static str, replaced_by: &'static str) -> Self {
        Self {
            docs: Docs {
                doc_flags: self.docs.doc_flags | docflag::DEPRECATED,
                deprecated_since: Some(since),
                replaced_by: Some(replaced_by),
                ..self.docs
            },
            ..self
        }
    }

    /// Adds documentation flags by name (`"syscmd"`).
    pub(super) const fn doc_flags(self, names: &str) -> Self {
        Self {
            docs: Docs {
                doc_flags: self.docs.doc_flags | bits(names, DOC_FLAG_NAMES),
                ..self.docs
            },
            ..self
        }
    }

    /// Sets the history: `(version, what changed)` in our words, oldest first.
    pub(super) const fn history(self, history: &'static [(&'static str, &'static str)]) -> Self {
        Self {
            docs: Docs {
                history,
                ..self.docs
            },
            ..self
        }
    }

    /// Sets the documented arguments.
    pub(super) const fn args(self, args: &'static [Arg]) -> Self {
        Self {
            docs: Docs { args, ..self.docs },
            ..self
        }
    }
}

/// A key spec: flags by name, where the search begins, how keys are found.
pub(super) const fn ks(flags: &str, begin: BeginSearch, find: FindKeys) -> KeySpec {
    KeySpec {
        notes: None,
        flags: bits(flags, KEY_FLAG_NAMES),
        begin,
        find,
    }
}

impl KeySpec {
    /// Sets the notes.
    pub(super) const fn notes(self, notes: &'static str) -> Self {
        Self {
            notes: Some(notes),
            ..self
        }
    }
}

/// Keys begin at a fixed argument index.
pub(super) const fn index(i: i32) -> BeginSearch {
    BeginSearch::Index(i)
}

/// Keys begin after `keyword`, searched from `startfrom`.
pub(super) const fn keyword(keyword: &'static str, startfrom: i32) -> BeginSearch {
    BeginSearch::Keyword { keyword, startfrom }
}

/// Keys are a range: last key, step, limit.
pub(super) const fn range(lastkey: i32, keystep: i32, limit: i32) -> FindKeys {
    FindKeys::Range {
        lastkey,
        keystep,
        limit,
    }
}

/// Keys follow a count: index of the count, first key, step.
pub(super) const fn keynum(keynumidx: i32, firstkey: i32, keystep: i32) -> FindKeys {
    FindKeys::Keynum {
        keynumidx,
        firstkey,
        keystep,
    }
}

const fn arg(name: &'static str, kind: ArgKind) -> Arg {
    Arg {
        name,
        kind,
        key_spec_index: None,
        token: None,
        since: None,
        deprecated_since: None,
        flags: 0,
        args: &[],
    }
}

/// A `key` argument described by key spec `spec`.
pub(super) const fn key(name: &'static str, spec: u32) -> Arg {
    arg(name, ArgKind::Key).key_spec_index(spec)
}

/// A `string` argument.
pub(super) const fn string(name: &'static str) -> Arg {
    arg(name, ArgKind::String)
}

/// An `integer` argument.
pub(super) const fn integer(name: &'static str) -> Arg {
    arg(name, ArgKind::Integer)
}

/// A `double` argument.
pub(super) const fn double(name: &'static str) -> Arg {
    arg(name, ArgKind::Double)
}

/// A `pattern` argument.
pub(super) const fn pattern(name: &'static str) -> Arg {
    arg(name, ArgKind::Pattern)
}

/// A `unix-time` argument.
pub(super) const fn unix_time(name: &'static str) -> Arg {
    arg(name, ArgKind::UnixTime)
}

/// A `pure-token` argument: the token alone.
pub(super) const fn pure(name: &'static str, token: &'static str) -> Arg {
    arg(name, ArgKind::PureToken).token(token)
}

/// A `oneof` argument: exactly one of `args`.
pub(super) const fn oneof(name: &'static str, args: &'static [Arg]) -> Arg {
    Arg {
        args,
        ..arg(name, ArgKind::Oneof)
    }
}

/// A `block` argument: `args` in sequence.
pub(super) const fn block(name: &'static str, args: &'static [Arg]) -> Arg {
    Arg {
        args,
        ..arg(name, ArgKind::Block)
    }
}

impl Arg {
    /// Sets the key spec describing this argument.
    pub(super) const fn key_spec_index(self, spec: u32) -> Self {
        Self {
            key_spec_index: Some(spec),
            ..self
        }
    }

    /// Sets the token that introduces the argument.
    pub(super) const fn token(self, token: &'static str) -> Self {
        Self {
            token: Some(token),
            ..self
        }
    }

    /// Sets the version that added the argument.
    pub(super) const fn since(self, since: &'static str) -> Self {
        Self {
            since: Some(since),
            ..self
        }
    }

    /// Sets the version that deprecated the argument.
    pub(super) const fn deprecated_since(self, since: &'static str) -> Self {
        Self {
            deprecated_since: Some(since),
            ..self
        }
    }

    /// The argument may be left out.
    pub(super) const fn optional(self) -> Self {
        Self {
            flags: self.flags | argflag::OPTIONAL,
            ..self
        }
    }

    /// The argument may repeat.
    pub(super) const fn multiple(self) -> Self {
        Self {
            flags: self.flags | argflag::MULTIPLE,
            ..self
        }
    }

    /// The argument repeats with its token each time.
    pub(super) const fn multiple_token(self) -> Self {
        Self {
            flags: self.flags | argflag::MULTIPLE_TOKEN,
            ..self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::spec::{acl, flag, keyflag};

    #[test]
    fn names_become_bits() {
        let c = cmd("set", -3, "write denyoom", "write string slow", (1, 1, 1));
        assert_eq!(c.flags, flag::WRITE | flag::DENYOOM);
        assert_eq!(c.acl, acl::WRITE | acl::STRING | acl::SLOW);
        let k = ks("RW  access", index(1), range(0, 1, 0));
        assert_eq!(k.flags, keyflag::RW | keyflag::ACCESS);
        assert_eq!(cmd("x", 1, "", "", (0, 0, 0)).flags, 0);
    }

    #[test]
    #[should_panic]
    fn unknown_names_are_refused() {
        bits("write bogus", FLAG_NAMES);
    }
}
