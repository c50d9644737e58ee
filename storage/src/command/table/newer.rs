//! Facts of the few commands newer than redis-server 7.0.15 that cachegate implements anyway,
//! written by hand from Redis 7.2's `COMMAND INFO` / `COMMAND DOCS` (the generator only knows
//! 7.0.15). Each is joined to its container when the table is built.

use super::dsl::*;

/// Subcommands added after 7.0.15, with the container each belongs to.
pub(super) static SUBCOMMANDS: &[(&str, CommandSpec)] = &[("client", CLIENT_SETINFO)];

/// `CLIENT SETINFO` (7.2): client libraries send it on connect.
#[rustfmt::skip]
const CLIENT_SETINFO: CommandSpec = cmd("setinfo", 4, "noscript loading stale", "slow connection", (0, 0, 0))
    .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"])
    .docs("7.2.0", Group::Connection, "Records the client library name or version on the connection.").complexity("O(1)")
    .args(&[oneof("attr", &[string("libname").token("LIB-NAME"), string("libver").token("LIB-VER")])]);
