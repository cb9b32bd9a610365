//! EVAL, EVALSHA, their read-only variants and SCRIPT (Redis's eval.c);
//! the engine is in [`crate::script`].

use corvid_proto::resp::Args;

use super::{arg_i64, is, reply_help};
use crate::dispatch::{Ctx, Registry};
use crate::errors::{CmdError, CmdResult};
use crate::script::{self, Invocation};

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
    let nkeys = numkeys(args)?;
    let sha = if by_sha {
        String::from_utf8_lossy(args.get(1)).to_ascii_lowercase()
    } else {
        ctx.srv.scripting.create(args.get(1))?
    };
    let Some(s) = ctx.srv.scripting.scripts.get(&sha) else {
        return Err(no_script());
    };
    let (func, flags) = (s.func.clone(), s.flags);
    let argv: Vec<&[u8]> = args.iter().collect();
    let inv = Invocation {
        caller: ctx.client_id,
        funcname: format!("f_{sha}"),
        flags,
        read_only,
        eval_mode: true,
        keys: &argv[3..3 + nkeys],
        args: &argv[3 + nkeys..],
        command: Vec::new(),
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

/// SCRIPT HELP
fn script_help(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    reply_help(
        ctx.out,
        args.get(0),
        &[
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

pub fn register(r: &mut Registry) {
    r.add("eval", eval);
    r.add("eval_ro", eval_ro);
    r.add("evalsha", evalsha);
    r.add("evalsha_ro", evalsha_ro);
    r.add("script|load", script_load);
    r.add("script|exists", script_exists);
    r.add("script|flush", script_flush);
    r.add("script|kill", script_kill);
    r.add("script|help", script_help);
}
