//! The command declarations, one file per group (generated once from redis-server 7.0.15's
//! `COMMAND INFO` / `COMMAND DOCS` facts, then maintained by hand). [`all`] lists them in the
//! order `COMMAND` reports them.

mod connection;
mod generic;
mod server;
mod string;

use super::spec::CommandSpec;

/// Every top-level command.
pub fn all() -> impl Iterator<Item = &'static CommandSpec> {
    string::COMMANDS
        .iter()
        .chain(generic::COMMANDS)
        .chain(server::COMMANDS)
        .chain(connection::COMMANDS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_are_unique_and_lower_case() {
        let mut seen = HashSet::new();
        for c in all() {
            assert_eq!(c.name, c.name.to_ascii_lowercase());
            assert!(seen.insert(c.name), "duplicate {}", c.name);
            let mut subs = HashSet::new();
            for s in c.subcommands {
                assert!(subs.insert(s.name), "duplicate {}|{}", c.name, s.name);
            }
        }
    }
}
