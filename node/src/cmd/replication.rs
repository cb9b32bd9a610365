//! The replication commands a replica sends its master: SYNC, PSYNC and
//! REPLCONF (see [`crate::replication`] for the stream itself).

use corvid_proto::resp::{parse_i64, Args};

use super::is;
use crate::dispatch::{Ctx, Registry};
use crate::errors::{CmdError, CmdResult};

/// SYNC: a full snapshot, then the stream.
fn sync(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    crate::replication::attach(ctx.srv, ctx.client_id, ctx.out, false);
    Ok(())
}

/// PSYNC replicationid offset: always a full resynchronisation for now
/// (there is no backlog to continue from).
fn psync(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    crate::replication::attach(ctx.srv, ctx.client_id, ctx.out, true);
    Ok(())
}

/// REPLCONF <option> <value> ...: what a replica announces about itself
/// (listening-port, ip-address, capa) and its acknowledged offset (ACK,
/// which gets no reply).
fn replconf(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    if args.len() % 2 == 0 {
        return Err(CmdError::Syntax);
    }
    let mut j = 1;
    while j < args.len() {
        let (opt, value) = (args.get(j), args.get(j + 1));
        if is(opt, "listening-port") {
            let port = parse_i64(value).filter(|p| (0..=65535).contains(p)).ok_or(CmdError::NotInteger)?;
            ctx.client().repl_listening_port = port as u16;
        } else if is(opt, "ip-address") || is(opt, "capa") {
            // Accepted: the stream we send (an RDB with its length, then
            // commands) is what every replica understands, whatever it
            // announces it can also take.
        } else if is(opt, "ack") {
            if let Some(offset) = parse_i64(value).filter(|o| *o >= 0) {
                ctx.client().repl_ack_offset = offset as u64;
            }
            return Ok(());
        } else if is(opt, "getack") {
            // Only a replica answers GETACK; a master ignores it.
            return Ok(());
        } else {
            return Err(CmdError::err(format!("Unrecognized REPLCONF option: {}", String::from_utf8_lossy(opt))));
        }
        j += 2;
    }
    ctx.out.ok();
    Ok(())
}

pub fn register(r: &mut Registry) {
    r.add("sync", sync);
    r.add("psync", psync);
    r.add("replconf", replconf);
}
