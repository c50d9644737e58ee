//! The COMMAND family: describing the command table to clients (`COMMAND`, `COUNT`, `INFO`,
//! `DOCS`, `LIST`, `GETKEYS`, `GETKEYSANDFLAGS`, `HELP`), in redis-server 7.0's reply shapes.

use cachegate_config::glob::{Case, Pattern};
use cachegate_protocols::resp::request::Args;
use cachegate_protocols::resp::ReplyBuf;

use super::args::is;
use super::spec::{
    keyflag, Arg, BeginSearch, CommandSpec, FindKeys, StoreFn, ACL_NAMES, ARG_FLAG_NAMES,
    DOC_FLAG_NAMES, FLAG_NAMES, KEY_FLAG_NAMES,
};
use super::{CmdResult, CommandError, CommandId, CommandTable, Ctx};

fn flag_set<T: Copy + std::ops::BitAnd<Output = T> + PartialEq + Default>(
    out: &mut ReplyBuf,
    bits: T,
    names: &[(T, &str)],
    prefix: &str,
) {
    let on: Vec<&str> = names
        .iter()
        .filter(|(b, _)| bits & *b != T::default())
        .map(|(_, n)| *n)
        .collect();
    out.set(on.len());
    for n in on {
        if prefix.is_empty() {
            out.simple(n.as_bytes());
        } else {
            out.simple(format!("{prefix}{n}").as_bytes());
        }
    }
}

fn key_specs(out: &mut ReplyBuf, spec: &CommandSpec) {
    out.set(spec.key_specs.len());
    for ks in spec.key_specs {
        out.map(3 + usize::from(ks.notes.is_some()));
        if let Some(notes) = ks.notes {
            out.bulk(b"notes");
            out.bulk(notes.as_bytes());
        }
        out.bulk(b"flags");
        flag_set(out, ks.flags, KEY_FLAG_NAMES, "");
        out.bulk(b"begin_search");
        out.map(2);
        out.bulk(b"type");
        match ks.begin {
            BeginSearch::Index(i) => {
                out.bulk(b"index");
                out.bulk(b"spec");
                out.map(1);
                out.bulk(b"index");
                out.int(i64::from(i));
            }
            BeginSearch::Keyword { keyword, startfrom } => {
                out.bulk(b"keyword");
                out.bulk(b"spec");
                out.map(2);
                out.bulk(b"keyword");
                out.bulk(keyword.as_bytes());
                out.bulk(b"startfrom");
                out.int(i64::from(startfrom));
            }
            BeginSearch::Unknown => {
                out.bulk(b"unknown");
                out.bulk(b"spec");
                out.map(0);
            }
        }
        out.bulk(b"find_keys");
        out.map(2);
        out.bulk(b"type");
        match ks.find {
            FindKeys::Range {
                lastkey,
                keystep,
                limit,
            } => {
                out.bulk(b"range");
                out.bulk(b"spec");
                out.map(3);
                for (name, v) in [("lastkey", lastkey), ("keystep", keystep), ("limit", limit)] {
                    out.bulk(name.as_bytes());
                    out.int(i64::from(v));
                }
            }
            FindKeys::Keynum {
                keynumidx,
                firstkey,
                keystep,
            } => {
                out.bulk(b"keynum");
                out.bulk(b"spec");
                out.map(3);
                for (name, v) in [
                    ("keynumidx", keynumidx),
                    ("firstkey", firstkey),
                    ("keystep", keystep),
                ] {
                    out.bulk(name.as_bytes());
                    out.int(i64::from(v));
                }
            }
            FindKeys::Unknown => {
                out.bulk(b"unknown");
                out.bulk(b"spec");
                out.map(0);
            }
        }
    }
}

/// One `COMMAND INFO` entry.
fn info_entry(out: &mut ReplyBuf, table: &CommandTable, id: CommandId) {
    let entry = table.entry(id);
    let spec = entry.spec;
    out.array(10);
    out.bulk(entry.full_name.as_bytes());
    out.int(i64::from(spec.arity));
    flag_set(out, spec.flags, FLAG_NAMES, "");
    out.int(i64::from(spec.first_key));
    out.int(i64::from(spec.last_key));
    out.int(i64::from(spec.key_step));
    flag_set(out, spec.acl, ACL_NAMES, "@");
    out.set(spec.tips.len());
    for t in spec.tips {
        out.bulk(t.as_bytes());
    }
    key_specs(out, spec);
    let subs: Vec<CommandId> = table.subcommands(id).collect();
    if subs.is_empty() {
        // redis-server replies an empty *set* when there are no subcommands, an array of
        // entries otherwise (visible in RESP3: `~0` versus `*N`).
        out.set(0);
    } else {
        out.array(subs.len());
    }
    for sub in subs {
        info_entry(out, table, sub);
    }
}

fn doc_args(out: &mut ReplyBuf, args: &[Arg]) {
    out.array(args.len());
    for a in args {
        let nested = matches!(
            a.kind,
            super::spec::ArgKind::Oneof | super::spec::ArgKind::Block
        );
        let n = 2
            + usize::from(a.key_spec_index.is_some())
            + usize::from(a.token.is_some())
            + usize::from(a.since.is_some())
            + usize::from(a.deprecated_since.is_some())
            + usize::from(a.flags != 0)
            + usize::from(nested);
        out.map(n);
        out.bulk(b"name");
        out.bulk(a.name.as_bytes());
        out.bulk(b"type");
        out.bulk(a.kind.name().as_bytes());
        if let Some(i) = a.key_spec_index {
            out.bulk(b"key_spec_index");
            out.int(i64::from(i));
        }
        if let Some(t) = a.token {
            out.bulk(b"token");
            out.bulk(t.as_bytes());
        }
        if let Some(s) = a.since {
            out.bulk(b"since");
            out.bulk(s.as_bytes());
        }
        if let Some(s) = a.deprecated_since {
            out.bulk(b"deprecated_since");
            out.bulk(s.as_bytes());
        }
        if a.flags != 0 {
            out.bulk(b"flags");
            flag_set(out, a.flags, ARG_FLAG_NAMES, "");
        }
        if nested {
            out.bulk(b"arguments");
            doc_args(out, a.args);
        }
    }
}

/// One `COMMAND DOCS` entry (the value; the caller writes the name).
fn docs_entry(out: &mut ReplyBuf, table: &CommandTable, id: CommandId) {
    let spec = table.spec(id);
    let d = &spec.docs;
    let subs: Vec<CommandId> = table.subcommands(id).collect();
    let n = 3
        + usize::from(d.complexity.is_some())
        + usize::from(d.doc_flags != 0)
        + usize::from(d.deprecated_since.is_some())
        + usize::from(d.replaced_by.is_some())
        + usize::from(!d.history.is_empty())
        + usize::from(!d.args.is_empty())
        + usize::from(!subs.is_empty());
    out.map(n);
    out.bulk(b"summary");
    out.bulk(d.summary.as_bytes());
    out.bulk(b"since");
    out.bulk(d.since.as_bytes());
    out.bulk(b"group");
    out.bulk(d.group.name().as_bytes());
    if let Some(c) = d.complexity {
        out.bulk(b"complexity");
        out.bulk(c.as_bytes());
    }
    if d.doc_flags != 0 {
        out.bulk(b"doc_flags");
        flag_set(out, d.doc_flags, DOC_FLAG_NAMES, "");
    }
    if let Some(since) = d.deprecated_since {
        out.bulk(b"deprecated_since");
        out.bulk(since.as_bytes());
    }
    if let Some(r) = d.replaced_by {
        out.bulk(b"replaced_by");
        out.bulk(r.as_bytes());
    }
    if !d.history.is_empty() {
        // A set of `[version, change]` pairs, as redis-server sends it.
        out.bulk(b"history");
        out.set(d.history.len());
        for (version, change) in d.history {
            out.array(2);
            out.bulk(version.as_bytes());
            out.bulk(change.as_bytes());
        }
    }
    if !d.args.is_empty() {
        out.bulk(b"arguments");
        doc_args(out, d.args);
    }
    if !subs.is_empty() {
        out.bulk(b"subcommands");
        out.map(subs.len());
        for sub in subs {
            out.bulk(table.entry(sub).full_name.as_bytes());
            docs_entry(out, table, sub);
        }
    }
}

/// `COMMAND`
pub fn command(ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let table = &ctx.store.commands;
    out.array(table.top_level().len());
    for &id in table.top_level() {
        info_entry(out, table, id);
    }
    Ok(())
}

/// `COMMAND COUNT`
pub fn command_count(ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    out.int(ctx.store.commands.top_level().len() as i64);
    Ok(())
}

/// `COMMAND INFO [command-name ...]`
pub fn command_info(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    if args.len() == 2 {
        return command(ctx, args, out);
    }
    let table = &ctx.store.commands;
    out.array(args.len() - 2);
    for name in args.iter().skip(2) {
        match table.find_full(name) {
            Some(id) => info_entry(out, table, id),
            None => out.null(),
        }
    }
    Ok(())
}

/// `COMMAND DOCS [command-name ...]`
pub fn command_docs(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let table = &ctx.store.commands;
    let ids: Vec<CommandId> = if args.len() == 2 {
        table.top_level().to_vec()
    } else {
        args.iter()
            .skip(2)
            .filter_map(|n| table.find_full(n))
            .collect()
    };
    out.map(ids.len());
    for id in ids {
        out.bulk(table.entry(id).full_name.as_bytes());
        docs_entry(out, table, id);
    }
    Ok(())
}

/// `COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern]`
pub fn command_list(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    enum Filter {
        None,
        Module,
        AclCat(u32),
        Pattern(Pattern),
    }
    let mut filter = Filter::None;
    let mut i = 2;
    while i < args.len() {
        let more = args.len() - 1 - i;
        if is(args.get(i), "FILTERBY") && more == 2 {
            let (kind, arg) = (args.get(i + 1), args.get(i + 2));
            filter = if is(kind, "MODULE") {
                Filter::Module
            } else if is(kind, "ACLCAT") {
                let cat = ACL_NAMES
                    .iter()
                    .find(|(_, n)| super::args::cstr(arg).eq_ignore_ascii_case(n.as_bytes()))
                    .map_or(0, |(b, _)| *b);
                Filter::AclCat(cat)
            } else if is(kind, "PATTERN") {
                Filter::Pattern(Pattern::new(arg, Case::Insensitive))
            } else {
                return Err(CommandError::Syntax);
            };
            i += 3;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    let table = &ctx.store.commands;
    let names: Vec<&str> = table
        .iter()
        .filter(|(_, e)| match &filter {
            Filter::None => true,
            // No modules exist, so no command belongs to one.
            Filter::Module => false,
            Filter::AclCat(cat) => *cat != 0 && e.spec.acl & cat != 0,
            Filter::Pattern(p) => p.matches(e.full_name.as_bytes()),
        })
        .map(|(_, e)| e.full_name.as_str())
        .collect();
    out.array(names.len());
    for n in names {
        out.bulk(n.as_bytes());
    }
    Ok(())
}

/// The keys of a full command line, with their key-spec flags, by the command's key specs.
pub fn keys_of(table: &CommandTable, id: CommandId, argv: &[&[u8]]) -> Option<Vec<(usize, u32)>> {
    let spec = table.spec(id);
    let argc = argv.len() as i64;
    let mut keys = Vec::new();
    for ks in spec.key_specs {
        if ks.flags & keyflag::NOT_KEY != 0 {
            continue;
        }
        if ks.flags & keyflag::VARIABLE_FLAGS != 0 {
            // SET is the only such command: its key is read too when GET is given.
            let get = argv.iter().skip(3).any(|a| is(a, "GET"));
            let flags = if get {
                keyflag::RW | keyflag::ACCESS | keyflag::UPDATE
            } else {
                keyflag::OW | keyflag::UPDATE
            };
            keys.push((1, flags));
            continue;
        }
        let first = match ks.begin {
            BeginSearch::Index(i) => i64::from(i),
            BeginSearch::Keyword { keyword, startfrom } => {
                let found = if startfrom > 0 {
                    (i64::from(startfrom)..argc).find(|&i| is(argv[i as usize], keyword))
                } else {
                    (1..=argc + i64::from(startfrom))
                        .rev()
                        .find(|&i| is(argv[i as usize], keyword))
                };
                match found {
                    Some(i) => i + 1,
                    None => continue,
                }
            }
            BeginSearch::Unknown => return None,
        };
        let (first, last, step) = match ks.find {
            FindKeys::Range {
                lastkey,
                keystep,
                limit,
            } => {
                let last = if lastkey >= 0 {
                    first + i64::from(lastkey)
                } else if limit == 0 {
                    argc + i64::from(lastkey)
                } else {
                    first + (argc - first) / i64::from(limit) + i64::from(lastkey)
                };
                (first, last, i64::from(keystep))
            }
            FindKeys::Keynum {
                keynumidx,
                firstkey,
                keystep,
            } => {
                let at = first + i64::from(keynumidx);
                let n = argv
                    .get(at as usize)
                    .and_then(|a| cachegate_protocols::number::parse_i64(a))
                    .filter(|&n| n >= 0)?;
                let first = first + i64::from(firstkey);
                (first, first + n - 1, i64::from(keystep))
            }
            FindKeys::Unknown => return None,
        };
        if last >= argc || last < first || first >= argc {
            return None;
        }
        let mut i = first;
        while i <= last {
            keys.push((i as usize, ks.flags));
            i += step.max(1);
        }
        if ks.flags & keyflag::INCOMPLETE != 0 {
            return None;
        }
    }
    Some(keys)
}

fn getkeys(ctx: &mut Ctx<'_>, args: &Args<'_>, with_flags: bool, out: &mut ReplyBuf) -> CmdResult {
    let argv: Vec<&[u8]> = args.iter().skip(2).collect();
    let table = &ctx.store.commands;
    let id = table.find(argv[0]).and_then(|id| {
        if argv.len() >= 2 && !table.spec(id).subcommands.is_empty() {
            table.find_sub(id, argv[1])
        } else {
            Some(id)
        }
    });
    let Some(id) = id else {
        return Err(CommandError::Static("ERR Invalid command specified"));
    };
    let spec = table.spec(id);
    if !spec
        .key_specs
        .iter()
        .any(|k| k.flags & keyflag::NOT_KEY == 0)
    {
        return Err(CommandError::Static("ERR The command has no key arguments"));
    }
    if !spec.arity_ok(argv.len()) {
        return Err(CommandError::Static(
            "ERR Invalid number of arguments specified for command",
        ));
    }
    let Some(keys) = keys_of(table, id, &argv) else {
        if spec.has(super::spec::flag::NO_MANDATORY_KEYS) {
            out.array(0);
            return Ok(());
        }
        return Err(CommandError::Static(
            "ERR Invalid arguments specified for command",
        ));
    };
    out.array(keys.len());
    for (pos, flags) in keys {
        if with_flags {
            out.array(2);
            out.bulk(argv[pos]);
            flag_set(out, flags, KEY_FLAG_NAMES, "");
        } else {
            out.bulk(argv[pos]);
        }
    }
    Ok(())
}

/// `COMMAND GETKEYS command [arg ...]`
pub fn command_getkeys(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    getkeys(ctx, args, false, out)
}

/// `COMMAND GETKEYSANDFLAGS command [arg ...]`
pub fn command_getkeysandflags(
    ctx: &mut Ctx<'_>,
    args: &Args<'_>,
    out: &mut ReplyBuf,
) -> CmdResult {
    getkeys(ctx, args, true, out)
}

/// `COMMAND HELP`
pub fn command_help(_ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    super::conn::help(
        out,
        "COMMAND",
        &[
            "(no subcommand)",
            "    Return details about every command.",
            "COUNT",
            "    Return the number of commands.",
            "LIST",
            "    Return the names of all commands.",
            "INFO [<command-name> ...]",
            "    Return details about the given commands, or all of them.",
            "DOCS [<command-name> ...]",
            "    Return documentation of the given commands, or all of them.",
            "GETKEYS <full-command>",
            "    Return the keys of a full command line.",
            "GETKEYSANDFLAGS <full-command>",
            "    Return the keys of a full command line with their access flags.",
        ],
    );
    Ok(())
}

/// The COMMAND family, by name.
pub(crate) const HANDLERS: &[(&str, StoreFn)] = &[
    ("command", command),
    ("command|count", command_count),
    ("command|docs", command_docs),
    ("command|info", command_info),
    ("command|list", command_list),
    ("command|getkeys", command_getkeys),
    ("command|getkeysandflags", command_getkeysandflags),
    ("command|help", command_help),
];
