//! The command facts: every command redis-server 7.0.15 has, one file per group, generated
//! by `scripts/gen-commands.py` from the server's own `COMMAND INFO` / `COMMAND DOCS`, with
//! summaries and history notes in our words from `summaries.txt`. `newer.rs` adds, by hand,
//! the few later commands cachegate implements.
//!
//! Facts are not commands: a command exists for clients only once a family module registers
//! a handler for it (see [`super::registry`]). The generated files are declared
//! `#[rustfmt::skip]` because the generator lays out one fact per line on purpose.

mod dsl;
mod newer;

#[rustfmt::skip]
mod bitmap;
#[rustfmt::skip]
mod cluster;
#[rustfmt::skip]
mod connection;
#[rustfmt::skip]
mod generic;
#[rustfmt::skip]
mod geo;
#[rustfmt::skip]
mod hash;
#[rustfmt::skip]
mod hyperloglog;
#[rustfmt::skip]
mod list;
#[rustfmt::skip]
mod pubsub;
#[rustfmt::skip]
mod scripting;
#[rustfmt::skip]
mod server;
#[rustfmt::skip]
mod set;
#[rustfmt::skip]
mod sorted_set;
#[rustfmt::skip]
mod stream;
#[rustfmt::skip]
mod string;
#[rustfmt::skip]
mod transactions;

use super::spec::CommandSpec;

/// Every top-level command, group by group; `COMMAND` lists the registered ones in this
/// order.
pub(crate) fn all() -> impl Iterator<Item = &'static CommandSpec> {
    [
        string::COMMANDS,
        generic::COMMANDS,
        server::COMMANDS,
        connection::COMMANDS,
        list::COMMANDS,
        hash::COMMANDS,
        set::COMMANDS,
        sorted_set::COMMANDS,
        bitmap::COMMANDS,
        hyperloglog::COMMANDS,
        geo::COMMANDS,
        stream::COMMANDS,
        pubsub::COMMANDS,
        transactions::COMMANDS,
        scripting::COMMANDS,
        cluster::COMMANDS,
    ]
    .into_iter()
    .flatten()
}

/// Subcommands newer than redis-server 7.0.15, with the name of their container.
pub(crate) fn newer_subcommands() -> impl Iterator<Item = (&'static str, &'static CommandSpec)> {
    newer::SUBCOMMANDS
        .iter()
        .map(|(parent, spec)| (*parent, spec))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn every() -> Vec<(String, &'static CommandSpec)> {
        let mut out = Vec::new();
        for c in all() {
            out.push((c.name.to_string(), c));
            for s in c.subcommands {
                out.push((format!("{}|{}", c.name, s.name), s));
            }
        }
        for (parent, s) in newer_subcommands() {
            out.push((format!("{parent}|{}", s.name), s));
        }
        out
    }

    #[test]
    fn names_are_unique_and_lower_case() {
        let mut seen = HashSet::new();
        for (full, c) in every() {
            assert_eq!(c.name, c.name.to_ascii_lowercase());
            assert!(seen.insert(full.clone()), "duplicate {full}");
        }
    }

    #[test]
    fn every_redis_7_0_command_has_facts() {
        // redis-server 7.0.15: `COMMAND COUNT` is 240, and 126 subcommands.
        assert_eq!(all().count(), 240);
        assert_eq!(all().map(|c| c.subcommands.len()).sum::<usize>(), 126);
    }

    #[test]
    fn every_fact_has_docs() {
        for (full, c) in every() {
            assert!(!c.docs.summary.is_empty(), "{full} has no summary");
            assert!(!c.docs.since.is_empty(), "{full} has no since");
        }
    }

    #[test]
    fn newer_subcommands_have_a_container() {
        for (parent, s) in newer_subcommands() {
            let container = all().find(|c| c.name == parent);
            let container = container.unwrap_or_else(|| panic!("no container {parent}"));
            assert!(
                container.subcommands.iter().all(|x| x.name != s.name),
                "{parent}|{} is in 7.0.15 already",
                s.name
            );
        }
    }
}
