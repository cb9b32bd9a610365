//! SLOWLOG GET, LEN, RESET and HELP: reading the slow log that the
//! dispatcher fills (see [`crate::slowlog`]).

use corvid_proto::resp::Args;

use super::reply_help;
use crate::dispatch::{Ctx, Registry};
use crate::errors::{CmdError, CmdResult};

/// Entries SLOWLOG GET replies with when not given a count.
const DEFAULT_COUNT: usize = 10;

/// SLOWLOG GET [count]: the newest `count` entries (-1: all), each as id,
/// Unix time, microseconds, arguments, client address and client name.
fn get(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let count = match args.len() {
        2 => DEFAULT_COUNT,
        3 => match super::arg_i64_range(args.get(2), -1, i64::MAX, "count should be greater than or equal to -1")? {
            -1 => usize::MAX,
            n => usize::try_from(n).unwrap_or(usize::MAX),
        },
        _ => return Err(syntax_error(args)),
    };
    let log = &ctx.srv.slowlog;
    let out = &mut *ctx.out;
    out.array(count.min(log.len()));
    for e in log.newest().take(count) {
        out.array(6);
        out.int(e.id as i64);
        out.int(e.time);
        out.int(e.duration_us as i64);
        out.array(e.argv.len());
        for a in &e.argv {
            out.bulk(a);
        }
        out.bulk(e.peer.as_bytes());
        out.bulk(&e.name);
    }
    Ok(())
}

/// SLOWLOG LEN
fn len(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    ctx.out.int(ctx.srv.slowlog.len() as i64);
    Ok(())
}

/// SLOWLOG RESET
fn reset(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    ctx.srv.slowlog.reset();
    ctx.out.ok();
    Ok(())
}

fn help(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    reply_help(
        ctx.out,
        args.get(0),
        &[
            "GET [<count>]",
            "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
            "    Entries are made of:",
            "    id, timestamp, time in microseconds, arguments array, client IP and port,",
            "    client name",
            "LEN",
            "    Return the length of the slowlog.",
            "RESET",
            "    Reset the slowlog.",
        ],
    );
    Ok(())
}

/// A subcommand given arguments it does not take (addReplySubcommandSyntaxError).
fn syntax_error(args: &Args<'_>) -> CmdError {
    let sub = args.get(1);
    CmdError::err(format!(
        "unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        String::from_utf8_lossy(&sub[..sub.len().min(128)]),
        String::from_utf8_lossy(args.get(0)).to_uppercase()
    ))
}

pub fn register(r: &mut Registry) {
    r.add("slowlog|get", get);
    r.add("slowlog|len", len);
    r.add("slowlog|reset", reset);
    r.add("slowlog|help", help);
}
