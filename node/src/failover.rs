//! FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT ms]: a master hands its
//! role to one of its replicas without losing a write (Redis's coordinated
//! failover). Writes pause; once the target (or any replica) has
//! acknowledged the whole stream, the master becomes a replica of it and
//! sends `PSYNC <replid> <offset> FAILOVER`, which makes the target promote
//! itself and continue the stream, so both keep their data and only the
//! roles swap. FORCE goes ahead at the timeout even if the target never
//! caught up; without it the timeout aborts.

use crate::dispatch::Ctx;
use crate::errors::{CmdError, CmdResult};
use crate::server::Server;
use corvid_proto::resp::{parse_i64, Args};

/// Where a failover stands (INFO's master_failover_state).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Writes are paused until a replica has the whole stream.
    WaitForSync,
    /// We follow the target and asked it to take over.
    InProgress,
}

pub struct Failover {
    pub stage: Stage,
    pub target: Option<(String, u16)>,
    pub end_ms: Option<i64>,
    pub force: bool,
}

/// INFO's name for the failover state.
pub fn state_name(srv: &Server) -> &'static str {
    match srv.failover.as_ref().map(|f| f.stage) {
        None => "no-failover",
        Some(Stage::WaitForSync) => "waiting-for-sync",
        Some(Stage::InProgress) => "failover-in-progress",
    }
}

/// FAILOVER's command handler.
pub fn command(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let srv = &mut *ctx.srv;
    if srv.config.get_bool("cluster-enabled") {
        return Err(CmdError::err("FAILOVER not allowed in cluster mode. Use CLUSTER FAILOVER command instead."));
    }
    if args.len() == 2 && crate::cmd::is(args.get(1), "abort") {
        if srv.failover.is_none() {
            return Err(CmdError::err("No failover in progress."));
        }
        abort(srv, "Failover manually aborted");
        ctx.out.ok();
        return Ok(());
    }
    let (mut timeout, mut force, mut target) = (0i64, false, None);
    let mut j = 1;
    while j < args.len() {
        let a = args.get(j);
        if crate::cmd::is(a, "timeout") && j + 1 < args.len() && timeout == 0 {
            timeout = parse_i64(args.get(j + 1)).ok_or(CmdError::NotInteger)?;
            if timeout <= 0 {
                return Err(CmdError::err("FAILOVER timeout must be greater than 0"));
            }
            j += 2;
        } else if crate::cmd::is(a, "to") && j + 2 < args.len() && target.is_none() {
            let port = parse_i64(args.get(j + 2)).ok_or(CmdError::NotInteger)?;
            target = Some((String::from_utf8_lossy(args.get(j + 1)).into_owned(), port));
            j += 3;
        } else if crate::cmd::is(a, "force") && !force {
            force = true;
            j += 1;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    if srv.failover.is_some() {
        return Err(CmdError::err("FAILOVER already in progress."));
    }
    if srv.master.is_some() {
        return Err(CmdError::err("FAILOVER is not valid when server is a replica."));
    }
    if srv.replicas.is_empty() {
        return Err(CmdError::err("FAILOVER requires connected replicas."));
    }
    if force && (timeout == 0 || target.is_none()) {
        return Err(CmdError::err("FAILOVER with force option requires both a timeout and target HOST and IP."));
    }
    let target = match target {
        Some((host, port)) => {
            if find_replica(srv, &host, port).is_none() {
                return Err(CmdError::err("FAILOVER target HOST and PORT is not a replica."));
            }
            tracing::info!("FAILOVER requested to {host}:{port}.");
            Some((host, port as u16))
        }
        None => {
            tracing::info!("FAILOVER requested to any replica.");
            None
        }
    };
    let now = crate::clock::now_ms();
    srv.failover = Some(Failover { stage: Stage::WaitForSync, target, end_ms: (timeout > 0).then_some(now + timeout), force });
    ctx.out.ok();
    Ok(())
}

/// The replica at `host:port` (its address and announced listening port).
fn find_replica(srv: &Server, host: &str, port: i64) -> Option<crate::client::ClientId> {
    srv.replicas.ids.iter().copied().find(|id| {
        srv.clients
            .map
            .get(id)
            .is_some_and(|c| c.replica_ip().eq_ignore_ascii_case(host) && c.repl_listening_port as i64 == port)
    })
}

/// The cron's part (updateFailoverStatus): time out, or hand over once a
/// replica has acknowledged the whole stream.
pub fn cron(srv: &mut Server, now_ms: i64) {
    let Some(f) = srv.failover.as_ref().filter(|f| f.stage == Stage::WaitForSync) else { return };
    if f.end_ms.is_some_and(|end| end <= now_ms) {
        if f.force {
            let (host, port) = f.target.clone().expect("FORCE has a target");
            tracing::info!("FAILOVER to {host}:{port} time out exceeded, failing over.");
            hand_over(srv, host, port);
        } else {
            abort(srv, "Replica never caught up before timeout");
        }
        return;
    }
    let offset = srv.replicas.offset;
    let caught_up = |c: &crate::client::Client| c.repl_ack_offset == offset;
    let chosen = match &f.target {
        Some((host, port)) => find_replica(srv, host, *port as i64)
            .and_then(|id| srv.clients.map.get(&id))
            .filter(|c| caught_up(c))
            .map(|_| (host.clone(), *port)),
        None => srv
            .replicas
            .ids
            .iter()
            .filter_map(|id| srv.clients.map.get(id))
            .find(|c| caught_up(c))
            .map(|c| (c.replica_ip(), c.repl_listening_port)),
    };
    if let Some((host, port)) = chosen {
        tracing::info!("Failover target {host}:{port} is synced, failing over.");
        hand_over(srv, host, port);
    }
}

/// Become a replica of the target, asking it to take over.
fn hand_over(srv: &mut Server, host: String, port: u16) {
    if let Some(f) = srv.failover.as_mut() {
        f.stage = Stage::InProgress;
        f.target = Some((host.clone(), port));
    }
    srv.master_generation += 1;
    srv.config.set_replica_of(Some((&host, port)));
    crate::blocking::disconnect_all(srv);
    let mut m = crate::replica::Master::new(host, port, srv.master_generation, true);
    m.failover = true;
    srv.master = Some(m);
    crate::oom::role_changed(srv);
}

/// The target answered our PSYNC FAILOVER: done if it took over, else back
/// to being the master.
pub fn psync_answered(srv: &mut Server, accepted: bool) {
    if srv.failover.as_ref().is_none_or(|f| f.stage != Stage::InProgress) {
        return;
    }
    if accepted {
        srv.failover = None;
    } else {
        abort(srv, "Failover target rejected psync request");
    }
}

/// Give up (abortFailover): a master again if we had started following
/// the target, and writes resume.
pub fn abort(srv: &mut Server, why: &str) {
    let Some(f) = srv.failover.take() else { return };
    match &f.target {
        Some((host, port)) => tracing::info!("FAILOVER to {host}:{port} aborted: {why}"),
        None => tracing::info!("FAILOVER to any replica aborted: {why}"),
    }
    if f.stage == Stage::InProgress {
        crate::replica::unset_master(srv);
    }
}
