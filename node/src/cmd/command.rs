//! COMMAND and its subcommands (Redis's server.c `command*Command`): the
//! node describes the commands it implements, read from the shared table
//! in `corvid_proto::command_table`, so clients never see a command (or a
//! subcommand) advertised that would answer "unknown command".

use corvid_proto::command_table::{self, write_docs_of, write_info_of, AclCategories, CommandSpec};
use corvid_proto::resp::{Args, Reply};

use super::{is, reply_help};
use crate::dispatch::{registry, CommandDef, Ctx, Registry};
use crate::errors::{CmdError, CmdResult};

/// The subcommands of `def` that the node implements.
fn implemented<'a>(def: &'a CommandDef) -> impl Fn(&CommandSpec) -> bool + 'a {
    move |sub| def.subs.contains_key(sub.name.as_bytes())
}

fn write_info(out: &mut Reply, def: &CommandDef) {
    write_info_of(out, def.spec, &implemented(def));
}

fn write_docs(out: &mut Reply, def: &CommandDef) {
    out.bulk(def.spec.full_name.as_bytes());
    write_docs_of(out, def.spec, &implemented(def));
}

/// A command by full name, "get" or "config|get" (lookupCommandBySds).
pub(super) fn by_full_name<'r>(reg: &'r Registry, name: &[u8]) -> Option<&'r CommandDef> {
    let mut parts = name.splitn(2, |&b| b == b'|');
    let top = reg.get(parts.next()?)?;
    match parts.next() {
        None => Some(top),
        Some(sub) if !sub.contains(&b'|') => {
            top.subs.get(&sub.to_ascii_lowercase()).map(|&id| &reg.defs[id])
        }
        Some(_) => None,
    }
}

/// COMMAND
fn command(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    let reg = registry();
    let defs: Vec<&CommandDef> = reg.top_level().collect();
    ctx.out.array(defs.len());
    for def in defs {
        write_info(ctx.out, def);
    }
    Ok(())
}

/// COMMAND COUNT
fn count(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    ctx.out.int(registry().top_level().count() as i64);
    Ok(())
}

/// COMMAND INFO [command-name ...]
fn info(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let reg = registry();
    if args.len() == 2 {
        return command(ctx, args);
    }
    ctx.out.array(args.len() - 2);
    for name in args.iter().skip(2) {
        match by_full_name(reg, name) {
            Some(def) => write_info(ctx.out, def),
            None => ctx.out.null(),
        }
    }
    Ok(())
}

/// COMMAND DOCS [command-name ...]
fn docs(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let reg = registry();
    let defs: Vec<&CommandDef> = if args.len() == 2 {
        reg.top_level().collect()
    } else {
        args.iter().skip(2).filter_map(|name| by_full_name(reg, name)).collect()
    };
    ctx.out.map(defs.len());
    for def in defs {
        write_docs(ctx.out, def);
    }
    Ok(())
}

/// How COMMAND LIST narrows the list.
enum ListFilter<'a> {
    All,
    /// FILTERBY MODULE: Corvid loads no modules, so nothing matches.
    Module,
    /// FILTERBY ACLCAT; None for an unknown category, which matches nothing.
    AclCat(Option<AclCategories>),
    Pattern(&'a [u8]),
}

impl ListFilter<'_> {
    fn accepts(&self, spec: &CommandSpec) -> bool {
        match self {
            ListFilter::All => true,
            ListFilter::Module => false,
            ListFilter::AclCat(cat) => cat.is_some_and(|c| spec.acl_categories.intersects(c)),
            ListFilter::Pattern(p) => crate::glob::glob_match(p, spec.full_name.as_bytes(), true),
        }
    }
}

/// COMMAND LIST [FILTERBY MODULE module-name|ACLCAT category|PATTERN pattern]
fn list(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let mut filter = ListFilter::All;
    let mut i = 2;
    while i < args.len() {
        let more = args.len() - 1 - i;
        if !(is(args.get(i), "filterby") && more == 2) {
            return Err(CmdError::Syntax);
        }
        let (kind, arg) = (args.get(i + 1), args.get(i + 2));
        filter = if is(kind, "module") {
            ListFilter::Module
        } else if is(kind, "aclcat") {
            ListFilter::AclCat(AclCategories::from_name(arg))
        } else if is(kind, "pattern") {
            ListFilter::Pattern(arg)
        } else {
            return Err(CmdError::Syntax);
        };
        i += 3;
    }
    let reg = registry();
    let mut names: Vec<&str> = Vec::new();
    for def in reg.top_level() {
        if filter.accepts(def.spec) {
            names.push(def.spec.full_name);
        }
        for &id in def.subs.values() {
            let sub = reg.defs[id].spec;
            if filter.accepts(sub) {
                names.push(sub.full_name);
            }
        }
    }
    ctx.out.array(names.len());
    for n in names {
        ctx.out.bulk(n.as_bytes());
    }
    Ok(())
}

/// COMMAND GETKEYS command [arg ...] and GETKEYSANDFLAGS (getKeysSubcommandImpl).
fn getkeys_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, with_flags: bool) -> CmdResult {
    let argv: Vec<&[u8]> = args.iter().skip(2).collect();
    let spec = registry()
        .find_parts(argv[0], argv.get(1).copied())
        .map_err(|_| CmdError::err("Invalid command specified"))?
        .spec;
    let found = command_table::keys(spec, &argv).map_err(|e| CmdError::err(e.to_string()))?;
    ctx.out.array(found.len());
    for k in found {
        if with_flags {
            ctx.out.array(2);
            ctx.out.bulk(argv[k.pos]);
            let names: Vec<&str> = k.flags.names().collect();
            ctx.out.set(names.len());
            for n in names {
                ctx.out.simple(n.as_bytes());
            }
        } else {
            ctx.out.bulk(argv[k.pos]);
        }
    }
    Ok(())
}

fn getkeys(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    getkeys_generic(ctx, args, false)
}

fn getkeysandflags(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    getkeys_generic(ctx, args, true)
}

/// COMMAND HELP
fn help(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    reply_help(
        ctx.out,
        args.get(0),
        &[
            "(no subcommand)",
            "    Return details about all Redis commands.",
            "COUNT",
            "    Return the total number of commands in this Redis server.",
            "LIST",
            "    Return a list of all commands in this Redis server.",
            "INFO [<command-name> ...]",
            "    Return details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "DOCS [<command-name> ...]",
            "    Return documentation details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "GETKEYS <full-command>",
            "    Return the keys from a full Redis command.",
            "GETKEYSANDFLAGS <full-command>",
            "    Return the keys and the access flags from a full Redis command.",
        ],
    );
    Ok(())
}

pub fn register(r: &mut Registry) {
    r.add("command", command);
    r.add("command|count", count);
    r.add("command|info", info);
    r.add("command|docs", docs);
    r.add("command|list", list);
    r.add("command|getkeys", getkeys);
    r.add("command|getkeysandflags", getkeysandflags);
    r.add("command|help", help);
}
