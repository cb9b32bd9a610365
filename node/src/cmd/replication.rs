//! The replication commands a replica sends its master: SYNC, PSYNC and
//! REPLCONF (see [`crate::replication`] for the stream itself).

use corvid_proto::resp::{parse_i64, Args};

use super::is;
use crate::dispatch::{Ctx, Registry};
use crate::errors::{CmdError, CmdResult};

/// SYNC: a full snapshot, then the stream.
fn sync(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    if !may_sync(ctx)? {
        return Ok(());
    }
    crate::replication::attach(ctx.srv, ctx.client_id, false);
    Ok(())
}

/// PSYNC replicationid offset: the missed part of the stream from the
/// backlog when the history is ours, else a full resynchronisation.
fn psync(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    if ctx.client().is_replica {
        return Ok(());
    }
    // PSYNC <replid> <offset> FAILOVER: our master hands its role over to
    // us; it must be the history we follow.
    if args.len() > 3 && is(args.get(3), "failover") {
        tracing::warn!("Failover request received for replid {}.", String::from_utf8_lossy(args.get(1)));
        if ctx.srv.master.is_none() {
            return Err(CmdError::err("PSYNC FAILOVER can't be sent to a master."));
        }
        if args.get(1) != ctx.srv.replid.as_bytes() {
            return Err(CmdError::err("PSYNC FAILOVER replid must match my replid."));
        }
        crate::replica::unset_master(ctx.srv);
        tracing::info!("MASTER MODE enabled (failover request from '{}')", ctx.client_id);
    }
    if !may_sync(ctx)? {
        return Ok(());
    }
    let offset = parse_i64(args.get(2)).unwrap_or(-1);
    if crate::replication::try_partial(ctx.srv, ctx.client_id, ctx.out, args.get(1), offset) {
        ctx.srv.stats.sync_partial_ok += 1;
        return Ok(());
    }
    if args.get(1) != b"?" {
        ctx.srv.stats.sync_partial_err += 1;
    }
    crate::replication::attach(ctx.srv, ctx.client_id, true);
    Ok(())
}

/// What stops a SYNC before it starts (syncCommand): a second SYNC on a
/// replica's link is ignored (false, no reply), and a replica serves its
/// own replicas only while it is in step with its master.
fn may_sync(ctx: &mut Ctx<'_>) -> Result<bool, CmdError> {
    if ctx.client().is_replica {
        return Ok(false);
    }
    if ctx.srv.failover.is_some() {
        return Err(CmdError::Coded("NOMASTERLINK Can't SYNC while failing over".into()));
    }
    if ctx.srv.master.as_ref().is_some_and(|m| !m.link_up()) {
        return Err(CmdError::Coded("NOMASTERLINK Can't SYNC while not connected with my master".into()));
    }
    Ok(true)
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
        } else if is(opt, "capa") {
            // EOF (a diskless payload) is not what we send: every replica
            // takes a payload with its length.
            if is(value, "psync2") {
                ctx.client().repl_capa_psync2 = true;
            }
        } else if is(opt, "ip-address") {
            ctx.client().repl_announced_ip = Some(String::from_utf8_lossy(value).into_owned());
        } else if is(opt, "ack") {
            if let Some(offset) = parse_i64(value).filter(|o| *o >= 0) {
                ctx.client().repl_ack_offset = offset as u64;
                ctx.client().repl_ack_time_ms = crate::clock::now_ms();
                // Clients in WAIT count acknowledgements again.
                for c in ctx.srv.clients.map.values().filter(|c| c.wait.is_some()) {
                    c.wake.notify_one();
                }
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

/// REPLICAOF host port | NO ONE (and its old name SLAVEOF).
fn replicaof(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let srv = &mut *ctx.srv;
    if srv.config.get_bool("cluster-enabled") {
        return Err(CmdError::err("REPLICAOF not allowed in cluster mode."));
    }
    if srv.failover.is_some() {
        return Err(CmdError::err("REPLICAOF not allowed while failing over."));
    }
    if is(args.get(1), "no") && is(args.get(2), "one") {
        if srv.master.is_some() {
            crate::replica::unset_master(srv);
            tracing::info!("MASTER MODE enabled (user request from '{}')", ctx.client_id);
        }
        ctx.out.ok();
        return Ok(());
    }
    let host = String::from_utf8_lossy(args.get(1)).into_owned();
    let port = parse_i64(args.get(2)).filter(|p| (0..=65535).contains(p)).ok_or_else(|| CmdError::err("Invalid master port"))? as u16;
    if srv.master.as_ref().is_some_and(|m| m.host.eq_ignore_ascii_case(&host) && m.port == port) {
        tracing::info!("REPLICAOF would result into synchronization with the master we are already connected with. No operation performed.");
        ctx.out.simple(b"OK Already connected to specified master");
        return Ok(());
    }
    if let Some(id) = srv.master.as_ref().and_then(|m| m.client) {
        srv.clients.kill(id);
    }
    crate::blocking::disconnect_all(srv);
    // Our own replicas stay: the new master may continue our history, and
    // they with it. They are disconnected if it does not (a full sync or a
    // new replication ID).
    // A master's own history, or the one a replica has in step with its
    // old master, may go on with the new master (replicationCacheMasterUsingMyself).
    let can_psync = srv.master.as_ref().is_none_or(|m| m.can_psync);
    // A stream continued from another node of the same chain goes on in the
    // database it had selected (the cached master keeps its db).
    let stream_db = srv.master.as_ref().map_or(0, |m| m.client.and_then(|id| srv.clients.map.get(&id)).map_or(m.stream_db, |c| c.db));
    srv.master_generation += 1;
    let mut m = crate::replica::Master::new(host.clone(), port, srv.master_generation, can_psync);
    m.stream_db = stream_db;
    srv.master = Some(m);
    srv.config.set_replica_of(Some((&host, port)));
    crate::oom::role_changed(srv);
    tracing::info!("REPLICAOF {host}:{port} enabled (user request from '{}')", ctx.client_id);
    ctx.out.ok();
    Ok(())
}

/// ROLE
fn role(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    let srv = &*ctx.srv;
    match &srv.master {
        Some(m) => {
            ctx.out.array(5);
            ctx.out.bulk(b"slave");
            ctx.out.bulk(m.host.as_bytes());
            ctx.out.int(m.port as i64);
            ctx.out.bulk(m.state.role_name().as_bytes());
            ctx.out.int(if m.link_up() { m.offset } else { -1 });
        }
        None => {
            ctx.out.array(3);
            ctx.out.bulk(b"master");
            ctx.out.int(srv.replicas.offset as i64);
            let replicas: Vec<_> = srv.replicas.ids.iter().filter_map(|id| srv.clients.map.get(id)).collect();
            ctx.out.array(replicas.len());
            for c in replicas {
                ctx.out.array(3);
                ctx.out.bulk(c.replica_ip().as_bytes());
                ctx.out.bulk(c.repl_listening_port.to_string().as_bytes());
                ctx.out.bulk(c.repl_ack_offset.to_string().as_bytes());
            }
        }
    }
    Ok(())
}

/// WAIT numreplicas timeout: until that many replicas acknowledged the
/// stream up to now, or the timeout (milliseconds, 0: none) passes; the
/// reply is how many did.
fn wait(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    if ctx.srv.master.is_some() {
        return Err(CmdError::err("WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated."));
    }
    let wanted = parse_i64(args.get(1)).ok_or(CmdError::NotInteger)?;
    let timeout = parse_i64(args.get(2)).ok_or_else(|| CmdError::err("timeout is not an integer or out of range"))?;
    if timeout < 0 {
        return Err(CmdError::err("timeout is negative"));
    }
    let now = crate::clock::now_ms();
    let first = ctx.client().wait.is_none();
    let offset = ctx.srv.replicas.offset;
    let (target, deadline) = *ctx.client().wait.get_or_insert((offset, (timeout > 0).then(|| now + timeout)));
    let srv = &mut *ctx.srv;
    let acked = srv.replicas.ids.iter().filter_map(|id| srv.clients.map.get(id)).filter(|c| c.repl_ack_offset >= target).count() as i64;
    let timed_out = deadline.is_some_and(|d| now >= d);
    if acked >= wanted || timed_out || srv.in_exec {
        ctx.client().wait = None;
        ctx.out.int(acked);
        return Ok(());
    }
    if first {
        crate::replication::request_acks(srv);
    }
    srv.wait_retry = Some(deadline);
    Ok(())
}

pub fn register(r: &mut Registry) {
    r.add("replicaof", replicaof);
    r.add("slaveof", replicaof);
    r.add("role", role);
    r.add("wait", wait);
    r.add("sync", sync);
    r.add("psync", psync);
    r.add("replconf", replconf);
    r.add("failover", crate::failover::command);
}
