//! The ACL command (Redis's acl.c): users, their rules, the log, dry runs.
//! The users and checks themselves are in [`crate::acl`].

use corvid_proto::resp::{parse_i64, Args};

use super::{is, reply_help};
use crate::acl::selector::{channel_allowed, Selector};
use crate::acl::{catalog, revoked_channels, UserId};
use crate::dispatch::{Ctx, Registry};
use crate::errors::{CmdError, CmdResult};

/// ACL SETUSER username [rule [rule ...]]
fn setuser(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let name = args.get(2);
    if !crate::acl::user::valid_name(name) {
        return Err(CmdError::err("Usernames can't contain spaces or null characters"));
    }
    let rules: Vec<&[u8]> = args.iter().skip(3).collect();
    // Error texts quote the rule: keep them on one line.
    let (id, old) = ctx.srv.acl.set_user(name, &rules).map_err(|e| CmdError::err(e.replace(['\r', '\n'], " ")))?;
    if let Some(old) = old {
        if let Some(upcoming) = revoked_channels(&old, ctx.srv.acl.user(id)) {
            kill_revoked_subscribers(ctx, id, &upcoming);
        }
    }
    crate::acl::sync_config(ctx.srv);
    ctx.out.ok();
    Ok(())
}

/// Close the subscribers of `user` holding a channel or pattern it may no
/// longer use (ACLKillPubsubClientsIfNeeded).
fn kill_revoked_subscribers(ctx: &mut Ctx<'_>, user: UserId, upcoming: &[Vec<u8>]) {
    let victims: Vec<_> = ctx
        .srv
        .clients
        .map
        .values()
        .filter(|c| c.user == user && c.subs.is_subscribed())
        .filter(|c| {
            c.subs.patterns.iter().any(|p| !channel_allowed(upcoming, p, true))
                || c.subs.channels.iter().chain(c.subs.shard.iter()).any(|ch| !channel_allowed(upcoming, ch, false))
        })
        .map(|c| c.id)
        .collect();
    for id in victims {
        if id == ctx.client_id {
            ctx.client().close_after_reply = true;
        } else {
            ctx.srv.clients.kill(id);
        }
    }
}

/// ACL DELUSER username [username ...]
fn deluser(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    if args.iter().skip(2).any(|n| n == b"default") {
        return Err(CmdError::err("The 'default' user cannot be removed"));
    }
    let mut deleted = 0;
    for name in args.iter().skip(2) {
        let Some(id) = ctx.srv.acl.delete(name) else { continue };
        deleted += 1;
        // Its clients go back to the unauthenticated default user and are
        // closed (ACLFreeUserAndKillClients); ours after this reply.
        let ids: Vec<_> = ctx.srv.clients.map.values().filter(|c| c.user == id).map(|c| c.id).collect();
        for cid in ids {
            if let Some(c) = ctx.srv.clients.map.get_mut(&cid) {
                c.user = crate::acl::DEFAULT_USER;
                c.authenticated = false;
            }
            if cid == ctx.client_id {
                ctx.client().close_after_reply = true;
            } else {
                ctx.srv.clients.kill(cid);
            }
        }
    }
    if deleted > 0 {
        crate::acl::sync_config(ctx.srv);
    }
    ctx.out.int(deleted);
    Ok(())
}

/// ACL GETUSER username
fn getuser(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let Some(id) = ctx.srv.acl.find(args.get(2)) else {
        ctx.out.null();
        return Ok(());
    };
    let u = ctx.srv.acl.user(id);
    let out = &mut *ctx.out;
    out.map(6);
    out.bulk(b"flags");
    let flags: Vec<&str> = u.flag_names().collect();
    out.set(flags.len());
    for f in flags {
        out.bulk(f.as_bytes());
    }
    out.bulk(b"passwords");
    out.array(u.passwords.len());
    for p in &u.passwords {
        out.bulk(p.as_bytes());
    }
    describe_selector(out, u.root());
    out.bulk(b"selectors");
    out.array(u.selectors.len() - 1);
    for s in &u.selectors[1..] {
        out.map(3);
        describe_selector(out, s);
    }
    Ok(())
}

/// A selector's commands, keys and channels fields.
fn describe_selector(out: &mut corvid_proto::resp::Reply, s: &Selector) {
    out.bulk(b"commands");
    out.bulk(&s.describe_commands());
    out.bulk(b"keys");
    out.bulk(&s.describe_keys());
    out.bulk(b"channels");
    out.bulk(&s.describe_channels());
}

/// ACL LIST
fn list(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    let lines = ctx.srv.acl.descriptions();
    ctx.out.array(lines.len());
    for l in lines {
        ctx.out.bulk(&[b"user ".as_slice(), &l].concat());
    }
    Ok(())
}

/// ACL USERS
fn users(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    let names: Vec<Vec<u8>> = ctx.srv.acl.users().map(|(_, u)| u.name.clone()).collect();
    ctx.out.array(names.len());
    for n in names {
        ctx.out.bulk(&n);
    }
    Ok(())
}

/// ACL WHOAMI
fn whoami(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    let user = ctx.client().user;
    let name = ctx.srv.acl.user(user).name.clone();
    ctx.out.bulk(&name);
    Ok(())
}

fn syntax_error(args: &Args<'_>) -> CmdError {
    CmdError::err(format!(
        "unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        String::from_utf8_lossy(args.get(1)).chars().take(128).collect::<String>(),
        String::from_utf8_lossy(args.get(0)).to_uppercase()
    ))
}

/// ACL CAT [category]
fn cat(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    match args.len() {
        2 => {
            let names: Vec<&str> = corvid_proto::command_table::AclCategories::all_names().collect();
            ctx.out.array(names.len());
            for n in names {
                ctx.out.bulk(n.as_bytes());
            }
        }
        3 => {
            let Some(flag) = catalog::category(args.get(2)) else {
                let name: String = String::from_utf8_lossy(args.get(2)).chars().take(128).collect();
                return Err(CmdError::err(format!("Unknown category '{name}'")));
            };
            let c = catalog::catalog();
            let ids: Vec<_> = c.in_category(flag).collect();
            ctx.out.array(ids.len());
            for id in ids {
                ctx.out.bulk(c.specs[id].full_name.as_bytes());
            }
        }
        _ => return Err(syntax_error(args)),
    }
    Ok(())
}

/// Most bits ACL GENPASS hands out.
const GENPASS_MAX_BITS: i64 = 4096;

/// ACL GENPASS [bits]
fn genpass(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let bits = match args.len() {
        2 => 256,
        3 => parse_i64(args.get(2)).ok_or(CmdError::NotInteger)?,
        _ => return Err(syntax_error(args)),
    };
    if bits <= 0 || bits > GENPASS_MAX_BITS {
        return Err(CmdError::err(format!(
            "ACL GENPASS argument must be the number of bits for the output password, a positive number up to {GENPASS_MAX_BITS}"
        )));
    }
    let chars = ((bits + 3) / 4) as usize;
    let pass = crate::server::random_hex(chars);
    ctx.out.bulk(pass.as_bytes());
    Ok(())
}

/// ACL LOG [count | RESET]
fn log(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let mut count = 10;
    match args.len() {
        2 => {}
        3 if is(args.get(2), "reset") => {
            ctx.srv.acl.log.reset();
            ctx.out.ok();
            return Ok(());
        }
        3 => count = parse_i64(args.get(2)).ok_or(CmdError::NotInteger)?.max(0) as usize,
        _ => return Err(syntax_error(args)),
    }
    let now = crate::clock::now_ms();
    let entries: Vec<_> = ctx.srv.acl.log.entries.iter().take(count).cloned().collect();
    let out = &mut *ctx.out;
    out.array(entries.len());
    for e in entries {
        out.map(7);
        out.bulk(b"count");
        out.int(e.count as i64);
        out.bulk(b"reason");
        out.bulk(e.reason.as_str().as_bytes());
        out.bulk(b"context");
        out.bulk(e.context.as_str().as_bytes());
        out.bulk(b"object");
        out.bulk(&e.object);
        out.bulk(b"username");
        out.bulk(&e.username);
        out.bulk(b"age-seconds");
        out.double((now - e.ctime_ms) as f64 / 1000.0);
        out.bulk(b"client-info");
        out.bulk(e.client_info.as_bytes());
    }
    Ok(())
}

/// ACL DRYRUN username command [arg ...]
fn dryrun(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let Some(user) = ctx.srv.acl.find(args.get(2)) else {
        return Err(CmdError::err(format!("User '{}' not found", String::from_utf8_lossy(args.get(2)))));
    };
    let argv: Vec<&[u8]> = args.iter().skip(3).collect();
    // Any command Redis has, implemented here or not (lookupCommand).
    let base = corvid_proto::command_table::lookup(argv[0]).filter(|s| s.available(false));
    let spec = match base {
        Some(b) if b.is_container() && argv.len() >= 2 => corvid_proto::command_table::lookup_subcommand(b, argv[1]),
        other => other,
    };
    let Some(spec) = spec else {
        return Err(CmdError::err(format!("Command '{}' not found", String::from_utf8_lossy(argv[0]))));
    };
    let argc = argv.len() as i32;
    if (spec.arity > 0 && spec.arity != argc) || argc < -spec.arity {
        return Err(CmdError::err(format!("wrong number of arguments for '{}' command", spec.full_name)));
    }
    let id = catalog::catalog().id_of(spec).expect("every server command is in the ACL catalog");
    match ctx.srv.acl.check(user, id, spec, &argv) {
        Ok(()) => ctx.out.ok(),
        Err(d) => {
            use crate::acl::selector::Denied;
            let text = match d {
                Denied::Command => format!("This user has no permissions to run the '{}' command", spec.full_name),
                Denied::Key(p) => format!("This user has no permissions to access the '{}' key", String::from_utf8_lossy(argv[p])),
                Denied::Channel(p) => {
                    format!("This user has no permissions to access the '{}' channel", String::from_utf8_lossy(argv[p]))
                }
            };
            ctx.out.bulk(text.as_bytes());
        }
    }
    Ok(())
}

const NO_ACL_FILE: &str = "This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.";

/// ACL LOAD: the users of the ACL file replace every user, or nothing
/// changes.
fn load(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    if ctx.srv.config.get_raw("aclfile").is_empty() {
        return Err(CmdError::err(NO_ACL_FILE));
    }
    crate::acl::file::load(ctx.srv, ctx.client_id).map_err(CmdError::err)?;
    crate::acl::sync_config(ctx.srv);
    ctx.out.ok();
    Ok(())
}

/// ACL SAVE: write every user to the ACL file.
fn save(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    if ctx.srv.config.get_raw("aclfile").is_empty() {
        return Err(CmdError::err(NO_ACL_FILE));
    }
    if let Err(e) = crate::acl::file::save(ctx.srv) {
        tracing::warn!("Writing ACL file for ACL SAVE: {e}");
        return Err(CmdError::err("There was an error trying to save the ACLs. Please check the server logs for more information"));
    }
    ctx.out.ok();
    Ok(())
}

fn help(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    reply_help(
        ctx.out,
        args.get(0),
        &[
            "CAT [<category>]",
            "    List all commands that belong to <category>, or all command categories",
            "    when no category is specified.",
            "DELUSER <username> [<username> ...]",
            "    Delete a list of users.",
            "DRYRUN <username> <command> [<arg> ...]",
            "    Returns whether the user can execute the given command without executing the command.",
            "GETUSER <username>",
            "    Get the user's details.",
            "GENPASS [<bits>]",
            "    Generate a secure 256-bit user password. The optional `bits` argument can",
            "    be used to specify a different size.",
            "LIST",
            "    Show users details in config file format.",
            "LOAD",
            "    Reload users from the ACL file.",
            "LOG [<count> | RESET]",
            "    Show the ACL log entries.",
            "SAVE",
            "    Save the current config to the ACL file.",
            "SETUSER <username> <attribute> [<attribute> ...]",
            "    Create or modify a user with the specified attributes.",
            "USERS",
            "    List all the registered usernames.",
            "WHOAMI",
            "    Return the current connection username.",
        ],
    );
    Ok(())
}

pub fn register(r: &mut Registry) {
    r.add("acl|setuser", setuser);
    r.add("acl|deluser", deluser);
    r.add("acl|getuser", getuser);
    r.add("acl|list", list);
    r.add("acl|users", users);
    r.add("acl|whoami", whoami);
    r.add("acl|cat", cat);
    r.add("acl|genpass", genpass);
    r.add("acl|log", log);
    r.add("acl|dryrun", dryrun);
    r.add("acl|help", help);
    r.add("acl|load", load);
    r.add("acl|save", save);
}
