//! AOF commands: BGREWRITEAOF and DEBUG LOADAOF, and what CONFIG SET
//! appendonly does (Redis's aof.c and debug.c parts).

use corvid_proto::resp::Args;

use crate::dispatch::{Ctx, Registry};
use crate::errors::{CmdError, CmdResult};
use crate::server::Server;

/// BGREWRITEAOF: start a background rewrite (see `aof`); while a BGSAVE
/// runs, or inside EXEC, it is scheduled for the cron instead, as Redis
/// schedules it while another child runs.
fn bgrewriteaof(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    if ctx.srv.rdb.aof_rewrite().is_some() {
        return Err(CmdError::err("Background append only file rewriting already in progress"));
    }
    if ctx.srv.in_exec || ctx.srv.rdb.job.is_some() {
        ctx.srv.aof.rewrite_scheduled = true;
        ctx.out.simple(b"Background append only file rewriting scheduled");
        return Ok(());
    }
    match crate::aof::start_rewrite(ctx.srv) {
        Ok(()) => {
            ctx.out.simple(b"Background append only file rewriting started");
            Ok(())
        }
        Err(_) => Err(CmdError::err("Can't execute an AOF background rewriting. Please check the server logs for more information.")),
    }
}

/// The cron's part: a scheduled rewrite, or one that
/// `auto-aof-rewrite-percentage` asks for once the files have grown that
/// much past the last rewrite's base (and past `auto-aof-rewrite-min-size`).
pub fn cron(srv: &mut Server) {
    if srv.aof.on {
        srv.aof.flush();
    }
    if srv.rdb.job.is_some() {
        return;
    }
    let now = crate::clock::now_secs();
    let start = if srv.aof.rewrite_scheduled {
        !srv.aof.rewrite_limited(now)
    } else {
        let perc = srv.config.get_i64("auto-aof-rewrite-percentage");
        let min = srv.config.get_i64("auto-aof-rewrite-min-size") as u64;
        let growth = (srv.aof.current_size * 100 / srv.aof.base_size.max(1)) as i64 - 100;
        let grown = srv.aof.on && perc > 0 && srv.aof.current_size > min && growth >= perc;
        if grown && !srv.aof.rewrite_limited(now) {
            tracing::info!("Starting automatic rewriting of AOF on {growth}% growth");
            true
        } else {
            false
        }
    };
    if start {
        if let Err(e) = crate::aof::start_rewrite(srv) {
            tracing::warn!("{e}");
        }
    }
}

/// DEBUG LOADAOF: write what is buffered, empty the dataset and load it
/// back from the AOF files. A load that fails ends the process, as in
/// Redis: the dataset is gone by then.
pub fn debug_loadaof(ctx: &mut Ctx<'_>) -> CmdResult {
    let srv = &mut *ctx.srv;
    if srv.aof.on {
        srv.aof.flush();
    }
    srv.db.flush_all();
    crate::tracking::invalidate_all(srv);
    let paths = crate::aof::Paths::of(&srv.config);
    let result = crate::aof::load::read_manifest(&paths).and_then(|m| {
        srv.aof.manifest = m;
        crate::aof::delete_history(srv, &paths);
        crate::aof::load::load_all(srv)
    });
    if let Err(e) = result {
        tracing::warn!("{e}");
        std::process::exit(1);
    }
    srv.db.dirty = 0;
    tracing::warn!("Append Only File loaded by DEBUG LOADAOF");
    ctx.out.ok();
    Ok(())
}

/// CONFIG SET appendonly: start (with a rewrite) or stop appending.
pub fn apply_appendonly(srv: &mut Server) -> Result<(), CmdError> {
    let want = srv.config.get_bool("appendonly");
    if want && !srv.aof.on {
        if srv.in_exec {
            // The rewrite runs from the cron once EXEC is over.
            srv.aof.on = true;
            srv.aof.initial_rewrite = true;
            srv.aof.rewrite_scheduled = true;
            tracing::warn!("AOF was enabled during a transaction. An AOF background was scheduled to start when possible.");
            return Ok(());
        }
        crate::aof::start(srv).map_err(|_| CmdError::err("Unable to turn on AOF. Check server logs."))?;
    } else if !want && srv.aof.on {
        if srv.rdb.aof_rewrite().is_some() {
            crate::snapshot::abort(srv);
        }
        srv.aof.stop();
        srv.update_expired_log();
    }
    Ok(())
}

pub fn register(r: &mut Registry) {
    r.add("bgrewriteaof", bgrewriteaof);
}
