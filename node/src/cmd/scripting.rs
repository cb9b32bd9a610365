//! EVAL, EVALSHA, their read-only variants and SCRIPT (Redis's eval.c);
//! FCALL, FCALL_RO and FUNCTION (functions.c). The engine is in
//! [`crate::script`].

use corvid_proto::command_table::{CmdFlags, CommandSpec};
use corvid_proto::resp::Args;

use super::{arg_i64, is, reply_help};
use crate::dispatch::{Ctx, Registry};
use crate::errors::{CmdError, CmdResult};
use crate::script::{self, ldb, Invocation};
use crate::server::Server;

/// EVAL, EVALSHA, FCALL and their read-only forms: their flags depend on
/// the script's.
pub fn runs_script(spec: &CommandSpec) -> bool {
    matches!(spec.name, "eval" | "evalsha" | "eval_ro" | "evalsha_ro" | "fcall" | "fcall_ro")
}

/// The flags a script command runs with: the declared script's, when it
/// declared any (evalGetCommandFlags, fcallGetCommandFlags).
pub fn command_flags(srv: &Server, spec: &CommandSpec, args: &Args<'_>) -> CmdFlags {
    if args.len() < 2 {
        return spec.flags;
    }
    let name = args.get(1);
    let flags = if spec.name.starts_with('f') {
        srv.scripting.libraries.find(name).map(|f| f.flags)
    } else if spec.name.starts_with("evalsha") {
        let mut lower = [0u8; 40];
        lower_sha(name, &mut lower).and_then(|sha| srv.scripting.scripts.get(sha)).map(|s| s.flags)
    } else {
        match srv.scripting.scripts.get(&script::sha1_hex(name)) {
            Some(s) => Some(s.flags),
            None => script::eval_shebang(name).ok().map(|(f, _)| f),
        }
    };
    match flags {
        Some(f) => f.command_flags(spec.flags),
        None => spec.flags,
    }
}

/// EVAL script numkeys [key ...] [arg ...]
fn eval(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    eval_generic(ctx, args, false, false)
}

/// EVAL_RO script numkeys [key ...] [arg ...]
fn eval_ro(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    eval_generic(ctx, args, false, true)
}

/// EVALSHA sha1 numkeys [key ...] [arg ...]
fn evalsha(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    eval_generic(ctx, args, true, false)
}

/// EVALSHA_RO sha1 numkeys [key ...] [arg ...]
fn evalsha_ro(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    eval_generic(ctx, args, true, true)
}

/// A SHA argument in lowercase, in `buf` (the cache's keys are); None
/// when it is not 40 characters of text.
fn lower_sha<'a>(sha: &[u8], buf: &'a mut [u8; 40]) -> Option<&'a str> {
    if sha.len() != 40 {
        return None;
    }
    buf.copy_from_slice(sha);
    buf.make_ascii_lowercase();
    std::str::from_utf8(buf).ok()
}

fn no_script() -> CmdError {
    CmdError::Coded("NOSCRIPT No matching script. Please use EVAL.".into())
}

/// The number of keys of EVAL or FCALL, checked against the arguments.
pub fn numkeys(args: &Args<'_>) -> Result<usize, CmdError> {
    let n = arg_i64(args.get(2))?;
    if n > args.len() as i64 - 3 {
        return Err(CmdError::err("Number of keys can't be greater than number of args"));
    }
    if n < 0 {
        return Err(CmdError::err("Number of keys can't be negative"));
    }
    Ok(n as usize)
}

fn eval_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, by_sha: bool, read_only: bool) -> CmdResult {
    // Fed here so that the script's commands follow the EVAL in MONITOR.
    if !ctx.srv.monitors.is_empty() {
        crate::cmd::server::feed_monitors(ctx.srv, ctx.client_id, args);
    }
    if by_sha && args.get(1).len() != 40 {
        return Err(no_script());
    }
    if ctx.srv.scripting.debuggers > 0 {
        let mode = ctx.client().lua_debug;
        if mode != ldb::Mode::Off {
            if by_sha {
                return Err(CmdError::err("Please use EVAL instead of EVALSHA for debugging"));
            }
            return eval_debugging(ctx, args, read_only, mode);
        }
    }
    eval_run(ctx, args, by_sha, read_only, None)
}

/// Set the client's SCRIPT DEBUG mode, keeping the count of armed clients.
fn set_debug_mode(ctx: &mut Ctx<'_>, mode: ldb::Mode) {
    let old = std::mem::replace(&mut ctx.client().lua_debug, mode);
    let scripting = &mut ctx.srv.scripting;
    match (old == ldb::Mode::Off, mode == ldb::Mode::Off) {
        (true, false) => scripting.debuggers += 1,
        (false, true) => scripting.debuggers = scripting.debuggers.saturating_sub(1),
        _ => {}
    }
}

/// EVAL under the debugger (evalGenericCommandWithDebugging): a
/// synchronous session, after which the connection closes; a forked one
/// fails as Redis's does when it cannot fork (see [`ldb`]).
fn eval_debugging(ctx: &mut Ctx<'_>, args: &Args<'_>, read_only: bool, mode: ldb::Mode) -> CmdResult {
    set_debug_mode(ctx, ldb::Mode::Off);
    if mode == ldb::Mode::Fork {
        return Err(ldb::fork_refused());
    }
    tracing::warn!("Redis synchronous debugging eval session started");
    let fd = ctx.client().fd;
    let mut slot = Some(Box::new(ldb::Session::new(fd, args.get(1))));
    // The checks of the arguments and the compilation happen within the
    // session too: the client then gets an empty session and the error.
    let result = eval_run(ctx, args, false, read_only, Some(&mut slot));
    if let Some(session) = slot.as_mut() {
        session.end();
    }
    tracing::warn!("Redis synchronous debugging eval session ended");
    // The end of the connection tells the client the session is over.
    ctx.client().close_after_reply = true;
    result
}

/// EVAL or EVALSHA proper, under the debugger when `debug` holds a session.
fn eval_run(ctx: &mut Ctx<'_>, args: &Args<'_>, by_sha: bool, read_only: bool, debug: Option<&mut Option<Box<ldb::Session>>>) -> CmdResult {
    let nkeys = numkeys(args)?;
    let mut lower = [0u8; 40];
    let sha = if by_sha {
        lower_sha(args.get(1), &mut lower).ok_or_else(no_script)?
    } else {
        let sha = ctx.srv.scripting.create(args.get(1))?;
        lower.copy_from_slice(sha.as_bytes());
        std::str::from_utf8(&lower).expect("hex digits")
    };
    let Some(s) = ctx.srv.scripting.scripts.get(sha) else {
        return Err(no_script());
    };
    let func: mlua::Function = ctx.srv.scripting.vm.lua.registry_value(&s.func).map_err(|e| CmdError::err(e.to_string()))?;
    let (flags, funcname) = (s.flags, s.funcname.clone());
    let argv: Vec<&[u8]> = args.iter().collect();
    let inv = Invocation {
        caller: ctx.client_id,
        funcname,
        flags,
        read_only,
        eval_mode: true,
        keys: &argv[3..3 + nkeys],
        args: &argv[3 + nkeys..],
        command: Vec::new(),
        debug,
    };
    let vm = ctx.srv.scripting.vm.handle();
    script::run(ctx.srv, vm, &func, inv, ctx.out)
}

/// SCRIPT LOAD script
fn script_load(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let sha = ctx.srv.scripting.create(args.get(2))?;
    ctx.out.bulk(sha.as_bytes());
    Ok(())
}

/// SCRIPT EXISTS sha1 [sha1 ...]
fn script_exists(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    ctx.out.array(args.len() - 2);
    for a in args.iter().skip(2) {
        let sha = String::from_utf8_lossy(a).to_ascii_lowercase();
        ctx.out.int(ctx.srv.scripting.scripts.contains_key(&sha) as i64);
    }
    Ok(())
}

/// SCRIPT FLUSH [ASYNC|SYNC]
fn script_flush(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    if args.len() > 3 || (args.len() == 3 && !is(args.get(2), "sync") && !is(args.get(2), "async")) {
        return Err(CmdError::err("SCRIPT FLUSH only support SYNC|ASYNC option"));
    }
    ctx.srv.scripting.reset();
    ctx.out.ok();
    Ok(())
}

/// SCRIPT KILL
fn script_kill(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    kill(ctx, true)
}

/// SCRIPT KILL and FUNCTION KILL (scriptKill): stop the running script if
/// it has not written and is of the kind named.
pub fn kill(ctx: &mut Ctx<'_>, eval: bool) -> CmdResult {
    let Some(run) = ctx.srv.scripting.running.as_mut() else {
        return Err(CmdError::Coded("NOTBUSY No scripts in execution right now.".into()));
    };
    if run.from_master {
        return Err(CmdError::Coded("UNKILLABLE The busy script was sent by a master instance in the context of replication and cannot be killed.".into()));
    }
    if run.wrote {
        return Err(CmdError::Coded("UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.".into()));
    }
    if eval != run.eval_mode {
        return Err(CmdError::Coded(format!(
            "BUSY Redis is busy running a script. You can only call {} or SHUTDOWN NOSAVE.",
            if run.eval_mode { "SCRIPT KILL" } else { "FUNCTION KILL" }
        )));
    }
    run.killed = true;
    ctx.out.ok();
    Ok(())
}

/// SCRIPT DEBUG YES|SYNC|NO
fn script_debug(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    // The session writes to the socket directly: replies still queued
    // would reach the client after its logs (clientHasPendingReplies).
    if !ctx.out.is_empty() || ctx.client().out_queued > 0 {
        return Err(CmdError::err("SCRIPT DEBUG must be called outside a pipeline"));
    }
    let Some(mode) = ldb::Mode::parse(args.get(2)) else {
        return Err(CmdError::err("Use SCRIPT DEBUG YES/SYNC/NO"));
    };
    set_debug_mode(ctx, mode);
    ctx.out.ok();
    Ok(())
}

/// SCRIPT HELP
fn script_help(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    reply_help(
        ctx.out,
        args.get(0),
        &[
            "DEBUG (YES|SYNC|NO)",
            "    Set the debug mode for subsequent scripts executed.",
            "EXISTS <sha1> [<sha1> ...]",
            "    Return information about the existence of the scripts in the script cache.",
            "FLUSH [ASYNC|SYNC]",
            "    Flush the Lua scripts cache. Very dangerous on replicas.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the scripts cache.",
            "    * SYNC: Synchronously flush the scripts cache.",
            "KILL",
            "    Kill the currently executing Lua script.",
            "LOAD <script>",
            "    Load a script into the scripts cache without executing it.",
        ],
    );
    Ok(())
}

/// FCALL function numkeys [key ...] [arg ...]
fn fcall(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    fcall_generic(ctx, args, false)
}

/// FCALL_RO function numkeys [key ...] [arg ...]
fn fcall_ro(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    fcall_generic(ctx, args, true)
}

fn fcall_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, read_only: bool) -> CmdResult {
    if !ctx.srv.monitors.is_empty() {
        crate::cmd::server::feed_monitors(ctx.srv, ctx.client_id, args);
    }
    let Some(f) = ctx.srv.scripting.libraries.find(args.get(1)) else {
        return Err(CmdError::err("Function not found"));
    };
    let (func, flags, name) = (f.func.clone(), f.flags, f.name.clone());
    if corvid_proto::resp::parse_i64(args.get(2)).is_none() {
        return Err(CmdError::err("Bad number of keys provided"));
    }
    let nkeys = numkeys(args)?;
    let argv: Vec<&[u8]> = args.iter().collect();
    let inv = Invocation {
        caller: ctx.client_id,
        funcname: name.into(),
        flags,
        read_only,
        eval_mode: false,
        keys: &argv[3..3 + nkeys],
        args: &argv[3 + nkeys..],
        command: argv.iter().map(|a| a.to_vec()).collect(),
        debug: None,
    };
    let vm = ctx.srv.scripting.fvm.handle();
    script::run(ctx.srv, vm, &func, inv, ctx.out)
}

/// FUNCTION LOAD [REPLACE] code
fn function_load(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let mut replace = false;
    let mut i = 2;
    while i < args.len() - 1 {
        if !is(args.get(i), "replace") {
            return Err(CmdError::err(format!("Unknown option given: {}", String::from_utf8_lossy(args.get(i)))));
        }
        replace = true;
        i += 1;
    }
    if i >= args.len() {
        return Err(CmdError::err("Function code is missing"));
    }
    let lib = script::functions::create(&ctx.srv.scripting.fvm, args.get(i)).map_err(CmdError::err)?;
    let name = lib.name.clone();
    ctx.srv.scripting.libraries.add(lib, replace).map_err(CmdError::err)?;
    ctx.srv.db.dirty += 1;
    ctx.out.bulk(name.as_bytes());
    Ok(())
}

/// FUNCTION DELETE library
fn function_delete(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let name = String::from_utf8_lossy(args.get(2));
    if !ctx.srv.scripting.libraries.delete(&name) {
        return Err(CmdError::err("Library not found"));
    }
    ctx.srv.db.dirty += 1;
    ctx.out.ok();
    Ok(())
}

/// FUNCTION FLUSH [ASYNC|SYNC]
fn function_flush(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    if args.len() > 3 {
        return Err(CmdError::err("unknown subcommand or wrong number of arguments for 'flush'. Try FUNCTION HELP."));
    }
    if args.len() == 3 && !is(args.get(2), "sync") && !is(args.get(2), "async") {
        return Err(CmdError::err("FUNCTION FLUSH only supports SYNC|ASYNC option"));
    }
    ctx.srv.scripting.flush_functions();
    ctx.srv.db.dirty += 1;
    ctx.out.ok();
    Ok(())
}

/// FUNCTION KILL
fn function_kill(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    kill(ctx, false)
}

/// FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE]
fn function_list(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let (mut with_code, mut pattern): (bool, Option<&[u8]>) = (false, None);
    let mut i = 2;
    while i < args.len() {
        let a = args.get(i);
        if !with_code && is(a, "withcode") {
            with_code = true;
        } else if pattern.is_none() && is(a, "libraryname") {
            if i >= args.len() - 1 {
                return Err(CmdError::err("library name argument was not given"));
            }
            i += 1;
            pattern = Some(args.get(i));
        } else {
            return Err(CmdError::err(format!("Unknown argument {}", String::from_utf8_lossy(a))));
        }
        i += 1;
    }
    let libs: Vec<_> = ctx
        .srv
        .scripting
        .libraries
        .libs
        .values()
        .filter(|l| pattern.is_none_or(|p| crate::glob::glob_match(p, l.name.as_bytes(), true)))
        .collect();
    let out = &mut *ctx.out;
    out.array(libs.len());
    for lib in libs {
        out.map(if with_code { 4 } else { 3 });
        out.bulk(b"library_name");
        out.bulk(lib.name.as_bytes());
        out.bulk(b"engine");
        out.bulk(b"LUA");
        out.bulk(b"functions");
        out.array(lib.functions.len());
        for f in lib.functions.values() {
            out.map(3);
            out.bulk(b"name");
            out.bulk(f.name.as_bytes());
            out.bulk(b"description");
            match &f.desc {
                Some(d) => out.bulk(d),
                None => out.null(),
            }
            out.bulk(b"flags");
            let names = f.flags.names();
            out.set(names.len());
            for n in names {
                out.simple(n.as_bytes());
            }
        }
        if with_code {
            out.bulk(b"library_code");
            out.bulk(&lib.code);
        }
    }
    Ok(())
}

/// FUNCTION STATS
fn function_stats(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    let scripting = &ctx.srv.scripting;
    if scripting.running.as_ref().is_some_and(|r| r.eval_mode) {
        return Err(CmdError::Coded("BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.".into()));
    }
    let out = &mut *ctx.out;
    out.map(2);
    out.bulk(b"running_script");
    match &scripting.running {
        None => out.null(),
        Some(run) => {
            out.map(3);
            out.bulk(b"name");
            out.bulk(run.funcname.as_bytes());
            out.bulk(b"command");
            out.array(run.command.len());
            for a in &run.command {
                out.bulk(a);
            }
            out.bulk(b"duration_ms");
            out.int(run.start.elapsed().as_millis() as i64);
        }
    }
    out.bulk(b"engines");
    out.map(1);
    out.bulk(b"LUA");
    out.map(2);
    out.bulk(b"libraries_count");
    out.int(scripting.libraries.libs.len() as i64);
    out.bulk(b"functions_count");
    out.int(scripting.libraries.function_count() as i64);
    Ok(())
}

/// FUNCTION DUMP
fn function_dump(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    let payload = crate::rdb::payload::dump_functions(ctx.srv.scripting.libraries.libs.values().map(|l| l.code.as_slice()));
    ctx.out.bulk(&payload);
    Ok(())
}

/// FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE]
fn function_restore(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    if args.len() > 4 {
        return Err(CmdError::err("unknown subcommand or wrong number of arguments for 'restore'. Try FUNCTION HELP."));
    }
    #[derive(PartialEq)]
    enum Policy {
        Append,
        Replace,
        Flush,
    }
    let policy = match args.len() {
        4 if is(args.get(3), "append") => Policy::Append,
        4 if is(args.get(3), "replace") => Policy::Replace,
        4 if is(args.get(3), "flush") => Policy::Flush,
        4 => return Err(CmdError::err("Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.")),
        _ => Policy::Append,
    };
    let codes = crate::rdb::payload::restore_functions(args.get(2)).map_err(CmdError::err)?;
    let mut restored = script::functions::Libraries::default();
    for code in codes {
        let lib = script::functions::create(&ctx.srv.scripting.fvm, &code).map_err(CmdError::err)?;
        restored.add(lib, false).map_err(CmdError::err)?;
    }
    let scripting = &mut ctx.srv.scripting;
    if policy == Policy::Flush {
        scripting.libraries = restored;
    } else {
        scripting.libraries.join(restored, policy == Policy::Replace).map_err(CmdError::err)?;
    }
    ctx.srv.db.dirty += 1;
    ctx.out.ok();
    Ok(())
}

/// FUNCTION HELP
fn function_help(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    reply_help(
        ctx.out,
        args.get(0),
        &[
            "LOAD [REPLACE] <FUNCTION CODE>",
            "    Create a new library with the given library name and code.",
            "DELETE <LIBRARY NAME>",
            "    Delete the given library.",
            "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
            "    Return general information on all the libraries:",
            "    * Library name",
            "    * The engine used to run the Library",
            "    * Library description",
            "    * Functions list",
            "    * Library code (if WITHCODE is given)",
            "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
            "STATS",
            "    Return information about the current function running:",
            "    * Function name",
            "    * Command used to run the function",
            "    * Duration in MS that the function is running",
            "    If no function is running, return nil",
            "    In addition, returns a list of available engines.",
            "KILL",
            "    Kill the current running function.",
            "FLUSH [ASYNC|SYNC]",
            "    Delete all the libraries.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the libraries.",
            "    * SYNC: Synchronously flush the libraries.",
            "DUMP",
            "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
            "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
            "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
            "    control how to handle existing libraries (default APPEND):",
            "    * FLUSH: delete all existing libraries.",
            "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
            "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
            "      libraries with the new libraries (notice that even on this option there is a chance of failure",
            "      in case of functions name collision with another library).",
        ],
    );
    Ok(())
}

pub fn register(r: &mut Registry) {
    r.add("fcall", fcall);
    r.add("fcall_ro", fcall_ro);
    r.add("function|load", function_load);
    r.add("function|delete", function_delete);
    r.add("function|flush", function_flush);
    r.add("function|kill", function_kill);
    r.add("function|list", function_list);
    r.add("function|stats", function_stats);
    r.add("function|dump", function_dump);
    r.add("function|restore", function_restore);
    r.add("function|help", function_help);
    r.add("eval", eval);
    r.add("eval_ro", eval_ro);
    r.add("evalsha", evalsha);
    r.add("evalsha_ro", evalsha_ro);
    r.add("script|load", script_load);
    r.add("script|exists", script_exists);
    r.add("script|flush", script_flush);
    r.add("script|kill", script_kill);
    r.add("script|debug", script_debug);
    r.add("script|help", script_help);
}
